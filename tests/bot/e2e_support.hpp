#pragma once
// What the end-to-end tests of the server share: a migrated ledger in a temporary folder, the
// settings that point both channels at fake providers, the real `cobrador serve` started on
// a free port, and signed provider webhooks.

#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "channels/signature.hpp"
#include "channels/twilio.hpp"
#include "dialogs/reference.hpp"

#include "support/fake_provider.hpp"
#include "support/http_client.hpp"
#include "support/probe.hpp"
#include "support/process.hpp"
#include "support/receipt_pdf.hpp"
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
    REQUIRE(
        std::regex_search(out, match, std::regex(R"(listening on https?://127\.0\.0\.1:(\d+))")));
    return static_cast<std::uint16_t>(std::stoi(match[1]));
}

// A migrated, empty ledger and the settings that point both channels at the fakes.
struct Setup {
    TempDir dir;
    std::string db = dir.Ledger();
    std::map<std::string, std::string> env;

    Setup(const FakeProvider* graph, const FakeProvider* twilio) {
        REQUIRE(RunCobrador({"migrate", "--db", db}).exit_code == 0);
        env = {{"COBRADOR_LISTEN", "127.0.0.1:0"},
               {"COBRADOR_DB", db},
               {"COBRADOR_PUBLIC_URL", kPublicUrl},
               {"COBRADOR_COMPANY_NAME", "Financiera Prueba"},
               {"COBRADOR_WHATSAPP_APP_SECRET", kAppSecret},
               {"COBRADOR_WHATSAPP_VERIFY_TOKEN", "verify-me"},
               {"COBRADOR_TWILIO_AUTH_TOKEN", kTwilioToken},
               // Tests run reminder passes themselves, at the instants they choose.
               {"COBRADOR_REMINDER_MINUTES", "0"},
               // Never Banxico's real portal: tests that confirm receipts start a fake CEP.
               {"COBRADOR_CEP_BASE", ""}};
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

    // One value from the ledger, read while the server runs (SQLite's WAL lets readers in);
    // "<null>" for NULL or no row.
    std::string Query(const std::string& sql) const { return Probe(db).Text(sql); }

    // Every row's first column, joined with commas.
    std::string Joined(const std::string& sql) const { return Probe(db).Joined(sql); }

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

// A WhatsApp webhook body carrying one message of `type` from `wa_id`, `content` being the
// type's own object ({"body": ...} for text, {"id", "mime_type", ...} for an image).
inline std::string WhatsAppMessage(const std::string& wamid,
                                   const std::string& wa_id,
                                   const std::string& type,
                                   const nlohmann::json& content) {
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
                   {"type", type},
                   {type, content}}}}}}}}}}}}};
    return body.dump();
}

// A WhatsApp webhook body carrying one text message from `wa_id`.
inline std::string WhatsAppText(const std::string& wamid,
                                const std::string& wa_id,
                                const std::string& text) {
    return WhatsAppMessage(wamid, wa_id, "text", {{"body", text}});
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

constexpr const char* kPaymentsSecret = "payments-secret-for-tests";

// A payment notification as the processor signs it (POST /webhooks/payments).
inline HttpResponse PostPayment(std::uint16_t port,
                                const std::string& body,
                                const std::string& secret = kPaymentsSecret) {
    return HttpRequest(port,
                       "POST",
                       "/webhooks/payments",
                       body,
                       {{"Content-Type", "application/json"},
                        {"X-Signature", "sha256=" + channels::HmacSha256Hex(secret, body)}});
}

inline std::string PaymentBody(const std::string& id,
                               const std::string& reference,
                               const std::string& amount) {
    return nlohmann::json{{"payment_id", id},
                          {"reference", reference},
                          {"amount", amount},
                          {"currency", "MXN"},
                          {"paid_at", "2026-11-23T10:05:00-06:00"},
                          {"method", "spei"}}
        .dump();
}

constexpr const char* kWaId = "5215512345678";  // María's WhatsApp id

// The last line `cobrador agent add` prints is the token.
inline std::string AddAgent(const std::string& db,
                            const std::string& name,
                            const std::string& role) {
    const auto run = RunCobrador({"agent", "add", "--db", db, "--name", name, "--role", role});
    REQUIRE(run.exit_code == 0);
    std::string out = run.out;
    while (!out.empty() && out.back() == '\n') {
        out.pop_back();
    }
    return out.substr(out.rfind('\n') + 1);
}

struct Api {
    std::uint16_t port;

    HttpResponse Call(const std::string& method,
                      const std::string& target,
                      const std::string& token,
                      const std::string& body = {}) const {
        std::map<std::string, std::string> headers;
        if (!token.empty()) {
            headers["Authorization"] = "Bearer " + token;
        }
        if (!body.empty()) {
            headers["Content-Type"] = "application/json";
        }
        return HttpRequest(port, method, target, body, headers);
    }

    nlohmann::json Get(const std::string& target, const std::string& token) const {
        const auto res = Call("GET", target, token);
        INFO(target << " -> " << res.status << " " << res.body);
        REQUIRE(res.status == 200);
        return nlohmann::json::parse(res.body);
    }

    HttpResponse Post(const std::string& target,
                      const std::string& token,
                      const nlohmann::json& body = nlohmann::json::object()) const {
        return Call("POST", target, token, body.dump());
    }
};

inline std::string Code(const HttpResponse& res) {
    const auto body = nlohmann::json::parse(res.body, nullptr, false);
    return body.is_object() && body.contains("code") ? body["code"].get<std::string>() : "";
}

// Reads a server-sent event stream over a plain socket until `want` appears, the server ends
// it (`*ended`, when given, says so) or time runs out; `meanwhile` runs once the stream is open.
inline std::string ReadEvents(std::uint16_t port,
                              const std::string& token,
                              const std::function<void()>& meanwhile,
                              const std::string& want,
                              bool* ended = nullptr) {
    namespace net = boost::asio;
    net::io_context ioc;
    net::ip::tcp::socket socket(ioc);
    socket.connect({net::ip::make_address("127.0.0.1"), port});
    const std::string request =
        "GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: "
        "Bearer " +
        token + "\r\n\r\n";
    net::write(socket, net::buffer(request));
    std::string got;
    std::array<char, 4096> chunk{};
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    bool started = false;
    socket.non_blocking(true);
    while (std::chrono::steady_clock::now() < deadline && got.find(want) == std::string::npos) {
        boost::system::error_code error;
        const std::size_t n = socket.read_some(net::buffer(chunk), error);
        if (error == net::error::would_block) {
            if (!started && got.find(": connected") != std::string::npos) {
                started = true;
                meanwhile();
            }
            std::this_thread::sleep_for(20ms);
            continue;
        }
        if (error) {
            if (ended != nullptr) {
                *ended = error == net::error::eof || error == net::error::connection_reset;
            }
            break;
        }
        got.append(chunk.data(), n);
    }
    return got;
}

// A receipt as a bank app's screenshot: `lines` of text drawn on white by ImageMagick (Debian's
// imagemagick), written to `path` as PNG.
inline void RenderReceipt(const std::string& path,
                          const std::vector<std::string>& lines,
                          int point_size = 22) {
    std::string command = "convert -size 900x" + std::to_string(80 + 50 * lines.size()) +
                          " xc:white -font DejaVu-Sans -fill black -pointsize " +
                          std::to_string(point_size);
    int y = 60;
    for (const std::string& line : lines) {
        std::string quoted;
        for (const char c : line) {
            quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
        }
        command += " -annotate +40+" + std::to_string(y) + " '" + quoted + "'";
        y += 50;
    }
    command += " '" + path + "'";
    REQUIRE(std::system(command.c_str()) == 0);
}

inline std::string ReadFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// María (WhatsApp, born 1985-03-15, A-1001 $12,345.67) and Pedro (SMS, born 1979-07-02,
// A-2002 $800.00) in the ledger.
inline void ImportMariaAndPedro(const Setup& setup) {
    const std::string csv = setup.dir.File("portfolio.csv");
    std::ofstream(csv) << "account_id,debtor_name,phone,birth_date,balance,currency,due_date\n"
                          "A-1001,María López,+52 55 1234 5678,1985-03-15,12345.67,MXN,2026-10-01\n"
                          "A-2002,Pedro Ruiz,+52 55 8765 4321,1979-07-02,800.00,MXN,2026-11-01\n";
    REQUIRE(RunCobrador({"import", "portfolio", "--db", setup.db, csv}).exit_code == 0);
}

// The collector desk: a ledger with two debtors (one on WhatsApp, one on SMS), three agents and the
// server running against fake providers.
struct Desk {
    std::atomic<int> sent{0};
    FakeProvider graph{[this](const RecordedRequest&, std::size_t) {
        return GraphAccepted("wamid.OUT" + std::to_string(++sent));
    }};
    FakeProvider twilio{[this](const RecordedRequest&, std::size_t) {
        return TwilioAccepted("SM" + std::to_string(++sent));
    }};
    Setup setup{&graph, &twilio};
    std::string collector;
    std::string other_collector;
    std::string supervisor;
    std::unique_ptr<Child> server;
    Api api{0};
    int wamid = 0;
    int starts = 0;

    explicit Desk(const std::string& today = "2026-11-23") {
        ImportMariaAndPedro(setup);
        collector = AddAgent(setup.db, "Ana Ruiz", "collector");
        other_collector = AddAgent(setup.db, "Beto Díaz", "collector");
        supervisor = AddAgent(setup.db, "Sofía Vera", "supervisor");
        Restart(today);
    }

    void Restart(const std::string& today) {
        if (server) {
            server->Signal(SIGTERM);
            REQUIRE(server->Wait() == 0);
        }
        setup.env["COBRADOR_TODAY"] = today;
        // A fresh log folder each time: the new child's output must not be read from the old.
        server = setup.Start("server-" + std::to_string(++starts) + "-" + today);
        api.port = setup.port;
    }

    // The debtor writes on WhatsApp; waits until the dialog has handled it.
    void Say(const std::string& text) {
        const std::string id = "wamid.IN" + std::to_string(++wamid);
        REQUIRE(PostWhatsApp(setup.port, WhatsAppText(id, kWaId, text)).status == 200);
        setup.WaitFor(
            "SELECT count(*) FROM inbound_events WHERE processed_at IS NOT NULL AND "
            "provider_event_id = '" +
                id + "'",
            "1");
    }

    // María says hello and proves who she is; returns how many messages the Graph API has
    // received by then (her two answers).
    std::size_t Verify() {
        Say("hola");
        Say("15/03/1985");
        return graph.WaitForRequests(2).size();
    }

    // The payment reference of an account, by its key.
    std::string Reference(const std::string& account_key) const {
        return *dialogs::PaymentReference(std::stoll(
            setup.Query("SELECT id FROM accounts WHERE account_key = '" + account_key + "'")));
    }

    // María verifies and asks for a person: one escalated conversation; returns its id.
    std::int64_t Escalate() {
        Say("hola");
        Say("15/03/1985");
        Say("quiero hablar con una persona");
        setup.WaitFor("SELECT state FROM conversations WHERE phone = '+525512345678'", "escalated");
        return std::stoll(
            setup.Query("SELECT id FROM conversations WHERE phone = '+525512345678'"));
    }

    std::string Path(std::int64_t id, const std::string& action = {}) const {
        return "/api/v1/conversations/" + std::to_string(id) +
               (action.empty() ? std::string() : "/" + action);
    }
};

}  // namespace cobrador::testing
