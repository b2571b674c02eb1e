#pragma once
// What the end-to-end tests of the server share: a migrated ledger in a temporary folder, the
// settings that point both channels at fake providers, the real `cobrador serve` started on
// a free port, and signed provider webhooks.

#include <chrono>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <SQLiteCpp/Database.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "channels/signature.hpp"
#include "channels/twilio.hpp"

#include "support/fake_provider.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace cobrador::testing {

using namespace std::chrono_literals;

constexpr const char* kAppSecret = "meta-app-secret-for-tests";
constexpr const char* kAccessToken = "EAAG-access-token-for-tests";
constexpr const char* kPhoneNumberId = "106540352242922";
constexpr const char* kTwilioSid = "AC0123456789abcdef0123456789abcdef";
constexpr const char* kTwilioToken = "twilio-auth-token-for-tests";
constexpr const char* kPublicUrl = "https://cobrador.example.com";

inline std::uint16_t PortFrom(const std::string& out) {
    std::smatch match;
    REQUIRE(std::regex_search(out, match, std::regex(R"(listening on http://127\.0\.0\.1:(\d+))")));
    return static_cast<std::uint16_t>(std::stoi(match[1]));
}

// A migrated, empty ledger and the settings that point both channels at the fakes.
struct Setup {
    TempDir dir;
    std::string db = dir.File("ledger.db");
    std::map<std::string, std::string> env;

    Setup(const FakeProvider* graph, const FakeProvider* twilio) {
        REQUIRE(RunCobrador({"migrate", "--db", db}).exit_code == 0);
        env = {{"COBRADOR_LISTEN", "127.0.0.1:0"},
               {"COBRADOR_DB", db},
               {"COBRADOR_PUBLIC_URL", kPublicUrl},
               {"COBRADOR_COMPANY_NAME", "Financiera Prueba"},
               {"COBRADOR_WHATSAPP_APP_SECRET", kAppSecret},
               {"COBRADOR_WHATSAPP_VERIFY_TOKEN", "verify-me"},
               {"COBRADOR_TWILIO_AUTH_TOKEN", kTwilioToken}};
        if (graph != nullptr) {
            env["COBRADOR_WHATSAPP_ACCESS_TOKEN"] = kAccessToken;
            env["COBRADOR_WHATSAPP_PHONE_NUMBER_ID"] = kPhoneNumberId;
            env["COBRADOR_WHATSAPP_API_BASE"] = graph->BaseUrl() + "/v21.0";
        }
        if (twilio != nullptr) {
            env["COBRADOR_TWILIO_ACCOUNT_SID"] = kTwilioSid;
            env["COBRADOR_TWILIO_FROM"] = "+15005550006";
            env["COBRADOR_TWILIO_API_BASE"] = twilio->BaseUrl();
        }
    }

    std::unique_ptr<Child> Start(const std::string& log_name = "server") {
        const auto logs = dir.Path() / log_name;
        std::filesystem::create_directories(logs);
        auto child = std::make_unique<Child>(std::vector<std::string>{"serve"}, env, logs.string());
        port = PortFrom(child->WaitForOutput("/healthz"));
        return child;
    }

    // One value from the ledger, read while the server runs (WAL lets readers in).
    std::string Query(const std::string& sql) const {
        SQLite::Database ledger(db, SQLite::OPEN_READONLY);
        SQLite::Statement statement(ledger, sql);
        if (!statement.executeStep()) {
            return "<no row>";
        }
        return statement.getColumn(0).isNull() ? "<null>" : statement.getColumn(0).getString();
    }

    // Polls the ledger until `sql` answers `expected`.
    void WaitFor(const std::string& sql,
                 const std::string& expected,
                 std::chrono::milliseconds timeout = 20s) const {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        std::string last;
        while (std::chrono::steady_clock::now() < deadline) {
            last = Query(sql);
            if (last == expected) {
                return;
            }
            std::this_thread::sleep_for(50ms);
        }
        FAIL(sql << " gave " << last << ", waited for " << expected);
    }

    std::uint16_t port = 0;
};

// A WhatsApp webhook body carrying one text message from `wa_id`.
inline std::string WhatsAppText(const std::string& wamid,
                                const std::string& wa_id,
                                const std::string& text) {
    const nlohmann::json body = {
        {"object", "whatsapp_business_account"},
        {"entry",
         {{{"id", "102290129340398"},
           {"changes",
            {{{"field", "messages"},
              {"value",
               {{"messaging_product", "whatsapp"},
                {"metadata",
                 {{"display_phone_number", "15550783881"}, {"phone_number_id", kPhoneNumberId}}},
                {"contacts", {{{"profile", {{"name", "Debtor"}}}, {"wa_id", wa_id}}}},
                {"messages",
                 {{{"from", wa_id},
                   {"id", wamid},
                   {"timestamp", "1795000000"},
                   {"type", "text"},
                   {"text", {{"body", text}}}}}}}}}}}}}}};
    return body.dump();
}

inline std::string WhatsAppStatus(const std::string& wamid,
                                  const std::string& status,
                                  const std::string& timestamp,
                                  const std::string& error_code = {}) {
    nlohmann::json one = {{"id", wamid},
                          {"status", status},
                          {"timestamp", timestamp},
                          {"recipient_id", "5215512345678"}};
    if (!error_code.empty()) {
        one["errors"] = {{{"code", std::stoi(error_code)}, {"title", "Message undeliverable"}}};
    }
    const nlohmann::json body = {{"object", "whatsapp_business_account"},
                                 {"entry",
                                  {{{"id", "102290129340398"},
                                    {"changes",
                                     {{{"field", "messages"},
                                       {"value",
                                        {{"messaging_product", "whatsapp"},
                                         {"metadata", {{"phone_number_id", kPhoneNumberId}}},
                                         {"statuses", {one}}}}}}}}}}};
    return body.dump();
}

inline HttpResponse PostWhatsApp(std::uint16_t port,
                                 const std::string& body,
                                 const std::string& secret = kAppSecret) {
    return HttpRequest(
        port,
        "POST",
        "/webhooks/whatsapp",
        body,
        {{"Content-Type", "application/json"},
         {"X-Hub-Signature-256", "sha256=" + channels::HmacSha256Hex(secret, body)}});
}

inline HttpResponse PostTwilio(std::uint16_t port,
                               const std::string& path,
                               const std::vector<std::pair<std::string, std::string>>& fields,
                               const std::string& token = kTwilioToken) {
    return HttpRequest(
        port,
        "POST",
        path,
        FormEncode(fields),
        {{"Content-Type", "application/x-www-form-urlencoded"},
         {"X-Twilio-Signature",
          channels::TwilioSignature(std::string(kPublicUrl) + path, fields, token)}});
}

}  // namespace cobrador::testing
