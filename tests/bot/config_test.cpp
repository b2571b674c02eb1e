#include "bot/config.hpp"

#include <map>
#include <vector>

#include <catch2/catch.hpp>

#include "dialogs/calendar.hpp"

#include "support/catch_result.hpp"
#include "support/temp_dir.hpp"
#include <sys/wait.h>
#include <unistd.h>

namespace cobrador::bot {
namespace {

GetEnv Env(std::map<std::string, std::string> values) {
    return [values = std::move(values)](const char* name) -> const char* {
        const auto it = values.find(name);
        return it == values.end() ? nullptr : it->second.c_str();
    };
}

TEST_CASE("Config: contract defaults", "[bot][config]") {
    const auto config = LoadConfig(std::nullopt, Env({}));
    REQUIRE(config);
    CHECK(config->db_path == "./cobrador.db");
    CHECK(config->listen_host == "127.0.0.1");
    CHECK(config->listen_port == 8080);
    CHECK(config->public_url == "http://127.0.0.1:8080");
    CHECK(config->company_name == "Demo Financiera");
    CHECK(config->whatsapp_api_base == "https://graph.facebook.com/v21.0");
    CHECK(config->twilio_api_base == "https://api.twilio.com");
    CHECK_FALSE(config->today);
    CHECK_FALSE(config->WhatsAppEnabled());
    CHECK_FALSE(config->SmsEnabled());
}

TEST_CASE("Config: the environment wins over the file", "[bot][config]") {
    testing::TempDir dir;
    const std::string file = dir.Write("cobrador.toml",
                                       "# cobrador settings\n"
                                       "db = \"/var/lib/cobrador/ledger.db\"\n"
                                       "listen = \"0.0.0.0:9000\"\n"
                                       "company_name = \"Financiera \\\"Ejemplo\\\"\"  # quoted\n"
                                       "[whatsapp]\n"
                                       "app_secret = \"from-file\"\n"
                                       "verify_token = \"vt\"\n"
                                       "access_token = \"at\"\n"
                                       "phone_number_id = 1065\n"
                                       "[twilio]\n"
                                       "auth_token = \"tw\"\n");
    const auto config = LoadConfig(
        file,
        Env({{"COBRADOR_WHATSAPP_APP_SECRET", "from-env"}, {"COBRADOR_TODAY", "2026-03-12"}}));
    REQUIRE(config);
    CHECK(config->db_path == "/var/lib/cobrador/ledger.db");
    CHECK(config->listen_host == "0.0.0.0");
    CHECK(config->listen_port == 9000);
    CHECK(config->company_name == "Financiera \"Ejemplo\"");
    CHECK(config->whatsapp_app_secret == "from-env");
    CHECK(config->whatsapp_phone_number_id == "1065");
    CHECK(config->WhatsAppEnabled());
    CHECK_FALSE(config->SmsEnabled());  // no account sid, no sender
    CHECK(config->today == "2026-03-12");
    CHECK(config->Today(std::chrono::system_clock::now()) == "2026-03-12");
}

TEST_CASE("Config: secrets never appear in the description", "[bot][config]") {
    const auto config = LoadConfig(std::nullopt,
                                   Env({{"COBRADOR_WHATSAPP_APP_SECRET", "s3cr3t-app"},
                                        {"COBRADOR_TWILIO_AUTH_TOKEN", "s3cr3t-twilio"},
                                        {"COBRADOR_PAYMENTS_SECRET", "s3cr3t-pay"}}));
    REQUIRE(config);
    const std::string text = config->Describe();
    CHECK(text.find("s3cr3t") == std::string::npos);
    CHECK(text.find("COBRADOR_WHATSAPP_APP_SECRET=set") != std::string::npos);
    CHECK(text.find("COBRADOR_WHATSAPP_ACCESS_TOKEN=unset") != std::string::npos);
}

TEST_CASE("Config: bad values are clear errors", "[bot][config]") {
    CHECK(LoadConfig(std::nullopt, Env({{"COBRADOR_LISTEN", "8080"}}))
              .error()
              .find("COBRADOR_LISTEN") != std::string::npos);
    CHECK_FALSE(LoadConfig(std::nullopt, Env({{"COBRADOR_LISTEN", "127.0.0.1:99999"}})));
    CHECK_FALSE(LoadConfig(std::nullopt, Env({{"COBRADOR_LISTEN", "127.0.0.1:80x"}})));
    CHECK(LoadConfig(std::nullopt, Env({{"COBRADOR_TODAY", "12/03/2026"}}))
              .error()
              .find("YYYY-MM-DD") != std::string::npos);
    CHECK_FALSE(LoadConfig(std::nullopt, Env({{"COBRADOR_IO_THREADS", "0"}})));
    CHECK(LoadConfig(std::nullopt, Env({{"COBRADOR_SEND_TIMEOUT", "1.5"}}))
              .error()
              .find("COBRADOR_SEND_TIMEOUT") != std::string::npos);
    CHECK_FALSE(LoadConfig(std::nullopt, Env({{"COBRADOR_SEND_TIMEOUT", "0"}})));
    CHECK(LoadConfig(std::nullopt, Env({{"COBRADOR_SEND_TIMEOUT", "4"}}))->send_timeout ==
          std::chrono::seconds(4));
    CHECK(LoadConfig(std::nullopt, Env({}))->send_timeout == std::chrono::seconds(15));
    // The creditor's time zone: an IANA name, Mexico City unless set.
    CHECK(LoadConfig(std::nullopt, Env({}))->timezone == "America/Mexico_City");
    CHECK(LoadConfig(std::nullopt, Env({{"COBRADOR_TIMEZONE", "America/Tijuana"}}))->timezone ==
          "America/Tijuana");
    CHECK(LoadConfig(std::nullopt, Env({{"COBRADOR_TIMEZONE", "CDMX"}}))
              .error()
              .find("COBRADOR_TIMEZONE must be an IANA time zone") != std::string::npos);
    // The creditor's own days off: dates, separated by commas or spaces.
    CHECK(LoadConfig(std::nullopt, Env({}))->days_off_dates.empty());
    const auto off =
        LoadConfig(std::nullopt, Env({{"COBRADOR_DAYS_OFF", "2026-12-24, 2026-12-31"}}));
    REQUIRE(off);
    CHECK(off->days_off_dates == std::vector<dialogs::Date>{*dialogs::ParseIsoDate("2026-12-24"),
                                                            *dialogs::ParseIsoDate("2026-12-31")});
    for (const char* bad : {"24/12/2026", "2026-02-30", "2026-12-24,navidad", "2026-1-2"}) {
        INFO(bad);
        const auto refused = LoadConfig(std::nullopt, Env({{"COBRADOR_DAYS_OFF", bad}}));
        REQUIRE_FALSE(refused);
        CHECK(refused.error().find("COBRADOR_DAYS_OFF must be dates like 2026-12-24") !=
              std::string::npos);
    }
    CHECK(LoadConfig(std::string("/nonexistent/cobrador.toml"), Env({}))
              .error()
              .find("cannot read") != std::string::npos);
    testing::TempDir dir;
    const auto broken = LoadConfig(dir.Write("bad.toml", "db = \"unclosed\n"), Env({}));
    REQUIRE_FALSE(broken);
    CHECK(broken.error().find("bad.toml:1") != std::string::npos);
    CHECK_FALSE(LoadConfig(dir.Write("bad2.toml", "just words\n"), Env({})));
    // A key under the wrong section, or a typo, is an error rather than silently ignored.
    const auto misplaced =
        LoadConfig(dir.Write("bad3.toml", "[payments]\nsecret = \"s\"\nclabe = \"1\"\n"), Env({}));
    REQUIRE_FALSE(misplaced);
    CHECK(misplaced.error().find("unknown setting 'payments_clabe'") != std::string::npos);
    CHECK_FALSE(LoadConfig(dir.Write("bad4.toml", "compnay_name = \"X\"\n"), Env({})));
    CHECK(LoadConfig(std::nullopt, Env({{"COBRADOR_CLAIM_IDLE_MINUTES", "0"}}))
              .error()
              .find("COBRADOR_CLAIM_IDLE_MINUTES") != std::string::npos);
}

}  // namespace
}  // namespace cobrador::bot

namespace cobrador::bot {
namespace {

TEST_CASE("Config: the replica id, given or from the host and the process", "[bot][config]") {
    const auto named = LoadConfig(std::nullopt, Env({{"COBRADOR_REPLICA_ID", "api-2.east:1"}}));
    REQUIRE(named);
    CHECK(named->replica_id == "api-2.east:1");
    CHECK(named->Describe().find("replica=api-2.east:1 ") != std::string::npos);

    const auto unnamed = LoadConfig(std::nullopt, Env({}));
    REQUIRE(unnamed);
    const std::string pid = ":" + std::to_string(getpid());
    REQUIRE(unnamed->replica_id.size() > pid.size());
    CHECK(unnamed->replica_id.substr(unnamed->replica_id.size() - pid.size()) == pid);

    // It lands in log fields and metric labels: nothing that would need escaping.
    for (const std::string& bad :
         std::vector<std::string>{"two words", "réplica", "a\"b", std::string(65, 'a')}) {
        INFO(bad);
        const auto refused = LoadConfig(std::nullopt, Env({{"COBRADOR_REPLICA_ID", bad}}));
        REQUIRE_FALSE(refused);
        CHECK(refused.error().find("COBRADOR_REPLICA_ID") != std::string::npos);
    }
}

TEST_CASE(
    "Config: a lease holder is known gone only when it is this replica or a dead process here",
    "[bot][config]") {
    const auto unnamed = LoadConfig(std::nullopt, Env({}));
    REQUIRE(unnamed);
    const std::string self = unnamed->replica_id;
    const std::string host = self.substr(0, self.rfind(':') + 1);  // "vm:"

    // A child that has exited and been reaped: its pid names no process.
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        _exit(0);
    }
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);

    CHECK(ReplicaGone(self, self));  // restarted under its own id
    CHECK(ReplicaGone("api-1", "api-1"));
    CHECK(ReplicaGone(host + std::to_string(child), self));  // a dead process of this host
    CHECK_FALSE(ReplicaGone(host + std::to_string(getppid()), self));  // alive
    CHECK_FALSE(ReplicaGone("other-host:" + std::to_string(child), self));
    CHECK_FALSE(ReplicaGone("api-2", "api-1"));
    CHECK_FALSE(ReplicaGone(host + "12x", self));
    CHECK_FALSE(ReplicaGone(host, self));
}

TEST_CASE("Config: the example file in deploy/ loads", "[bot][config]") {
    const auto config =
        LoadConfig(std::string(COBRADOR_SOURCE_DIR) + "/deploy/cobrador.example.toml",
                   [](const char*) -> const char* { return nullptr; });
    REQUIRE(config);
    CHECK(config->db_path == "/var/lib/cobrador/cobrador.db");
    CHECK(config->public_url == "https://cobranza.example.com");
    CHECK(config->io_threads == 2);
    CHECK(config->clabe == "646180110400000007");
    CHECK(config->claim_idle == std::chrono::minutes(30));
    CHECK_FALSE(config->WhatsAppEnabled());
}

}  // namespace
}  // namespace cobrador::bot

namespace cobrador::bot {
namespace {

TEST_CASE("Config: the dialog's settings, checked", "[bot][config]") {
    const auto defaults = LoadConfig(std::nullopt, Env({}));
    REQUIRE(defaults);
    CHECK(defaults->idle_timeout == std::chrono::minutes(30));
    CHECK(defaults->verification_ttl == std::chrono::hours(24));
    const auto set = LoadConfig(std::nullopt,
                                Env({{"COBRADOR_CLABE", "002010077777777771"},
                                     {"COBRADOR_IDLE_MINUTES", "10"},
                                     {"COBRADOR_VERIFICATION_HOURS", "2"},
                                     {"COBRADOR_PAYMENT_URL", "https://pay.example/{reference}"}}));
    REQUIRE(set);
    CHECK(set->clabe == "002010077777777771");
    CHECK(set->idle_timeout == std::chrono::minutes(10));
    CHECK(set->verification_ttl == std::chrono::hours(2));
    for (const auto& [name, value] :
         std::vector<std::pair<std::string, std::string>>{{"COBRADOR_CLABE", "002010077777777772"},
                                                          {"COBRADOR_CLABE", "12345"},
                                                          {"COBRADOR_IDLE_MINUTES", "0"},
                                                          {"COBRADOR_VERIFICATION_HOURS", "x"},
                                                          {"COBRADOR_PAYMENT_URL", "https://x"}}) {
        const auto bad = LoadConfig(std::nullopt, Env({{name, value}}));
        INFO(name << "=" << value);
        REQUIRE_FALSE(bad);
        CHECK(bad.error().find(name) != std::string::npos);
    }
}

}  // namespace
}  // namespace cobrador::bot
