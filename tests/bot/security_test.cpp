// What an attacker who reaches the port but holds no secret and no agent token can try, against
// the real `cobrador serve` over loopback: disabled and made-up agent tokens, forged or
// near-miss signatures on every webhook, Twilio URLs that are not the public one, SQL
// metacharacters in API parameters and bodies, paths out of the console, request smuggling,
// webhooks whose secret is unset, and secrets or tokens leaking into the logs.
// docs/security.md cites these tests by name.

#include <cctype>
#include <csignal>
#include <sstream>
#include <string>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "dialogs/reference.hpp"

#include "e2e_support.hpp"

namespace cobrador::testing {
namespace {

using json = nlohmann::json;
namespace net = boost::asio;

// Writes `bytes` exactly as given on a new connection (nothing normalises the request line or
// the framing) and returns everything the server sends until it closes the connection, or
// what came within 10 s.
std::string RawExchange(std::uint16_t port, const std::string& bytes) {
    net::io_context ioc;
    net::ip::tcp::socket socket(ioc);
    socket.connect({net::ip::make_address("127.0.0.1"), port});
    net::write(socket, net::buffer(bytes));
    std::string answer;
    net::async_read(
        socket, net::dynamic_buffer(answer), [](const boost::system::error_code&, std::size_t) {});
    ioc.run_for(10s);
    return answer;
}

// The status code of the first response in `answer` (0 when there is none).
unsigned StatusOf(const std::string& answer) {
    if (answer.rfind("HTTP/1.1 ", 0) != 0 || answer.size() < 12) {
        return 0;
    }
    return static_cast<unsigned>(std::stoi(answer.substr(9, 3)));
}

// How many responses `answer` holds.
std::size_t Responses(const std::string& answer) {
    std::size_t n = answer.rfind("HTTP/1.1 ", 0) == 0 ? 1 : 0;
    for (auto at = answer.find("\r\nHTTP/1.1 "); at != std::string::npos;
         at = answer.find("\r\nHTTP/1.1 ", at + 1)) {
        ++n;
    }
    return n;
}

std::string RawGet(const std::string& target) {
    return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
}

std::string Upper(std::string text) {
    for (char& c : text) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return text;
}

// An inbound SMS from an unknown phone, with its own MessageSid.
std::vector<std::pair<std::string, std::string>> Sms(const std::string& sid) {
    return {{"MessageSid", sid},
            {"SmsMessageSid", sid},
            {"AccountSid", kTwilioSid},
            {"From", "+525511112222"},
            {"To", "+15005550006"},
            {"Body", "hola"},
            {"NumMedia", "0"}};
}

// A Twilio webhook posted to `target`, its signature computed over `signed_url`.
HttpResponse PostTwilioSignedOver(std::uint16_t port,
                                  const std::string& target,
                                  const std::string& signed_url,
                                  const std::vector<std::pair<std::string, std::string>>& fields,
                                  std::map<std::string, std::string> headers = {}) {
    headers["Content-Type"] = "application/x-www-form-urlencoded";
    headers["X-Twilio-Signature"] = channels::TwilioSignature(signed_url, fields, kTwilioToken);
    return HttpRequest(port, "POST", target, FormEncode(fields), headers);
}

TEST_CASE("a disabled agent's token gets 401 like a made-up one and no token",
          "[bot][security][integration]") {
    Desk desk;
    const Api& api = desk.api;
    const std::int64_t id = desk.Escalate();
    REQUIRE(api.Get("/api/v1/me", desk.collector)["name"] == "Ana Ruiz");

    {
        // What an operator does to stop a collector's token, while the server runs.
        Probe(desk.setup.db)
            .Exec("UPDATE agents SET disabled_at = '2026-11-23T09:00:00Z' WHERE name = 'Ana Ruiz'");
    }
    const std::string made_up = "cbr_" + std::string(64, 'f');
    for (const std::string& token : {desk.collector, made_up, std::string()}) {
        INFO("token '" << token << "'");
        for (const char* target : {"/api/v1/me", "/api/v1/conversations"}) {
            const auto res = api.Call("GET", target, token);
            INFO(target);
            CHECK(res.status == 401);
            CHECK(res.headers.count("www-authenticate") == 1);
            CHECK(Code(res) == "unauthorized");
        }
        const auto claim = api.Post(desk.Path(id, "claim"), token);
        CHECK(claim.status == 401);
        CHECK(claim.headers.count("www-authenticate") == 1);
    }
    // Nothing was taken over, and the other agents still work.
    CHECK(desk.setup.Query("SELECT state FROM conversations WHERE id = " + std::to_string(id)) ==
          "escalated");
    CHECK(api.Get("/api/v1/me", desk.other_collector)["name"] == "Beto Díaz");
    const json agents = api.Get("/api/v1/agents", desk.supervisor);
    REQUIRE(agents["agents"].size() == 3);
    CHECK(agents["agents"][0]["name"] == "Ana Ruiz");
    CHECK(agents["agents"][0]["disabled"] == true);
    CHECK(api.Post(desk.Path(id, "claim"), desk.other_collector).status == 200);
}

TEST_CASE("one run with every secret set: no secret or agent token or token hash reaches the logs",
          "[bot][security][integration]") {
    Desk desk;
    const std::string verify_token = "verify-token-for-the-security-tests";
    desk.setup.env["COBRADOR_WHATSAPP_VERIFY_TOKEN"] = verify_token;
    desk.setup.env["COBRADOR_PAYMENTS_SECRET"] = kPaymentsSecret;
    desk.Restart("2026-11-23");
    const Api& api = desk.api;
    const std::uint16_t port = desk.setup.port;
    std::vector<std::string> answers;  // every body the server sent back
    const auto keep = [&](const HttpResponse& res) {
        answers.push_back(res.body);
        return res.status;
    };

    // The handshake, right and wrong.
    const auto handshake = HttpRequest(port,
                                       "GET",
                                       "/webhooks/whatsapp?hub.mode=subscribe&hub.challenge=4242&"
                                       "hub.verify_token=" +
                                           verify_token);
    CHECK(handshake.status == 200);
    CHECK(handshake.body == "4242");
    CHECK(keep(HttpRequest(
              port,
              "GET",
              "/webhooks/whatsapp?hub.mode=subscribe&hub.challenge=1&hub.verify_token=guess")) ==
          403);

    // WhatsApp: María is served and asks for a person; a forged delivery is refused.
    const std::int64_t id = desk.Escalate();
    CHECK(keep(PostWhatsApp(port, WhatsAppText("wamid.FORGED", kWaId, "hola"), "guess")) == 401);

    // Twilio: Pedro writes by SMS and is answered through the REST API (Basic auth).
    const std::vector<std::pair<std::string, std::string>> pedro = {
        {"MessageSid", "SMsecurity0000000000000000000001"},
        {"AccountSid", kTwilioSid},
        {"From", "+525587654321"},
        {"To", "+15005550006"},
        {"Body", "hola"}};
    CHECK(keep(PostTwilio(port, "/webhooks/twilio", pedro)) == 200);
    CHECK(keep(PostTwilio(port, "/webhooks/twilio", pedro, "guess")) == 401);
    const auto twilio_sends = desk.twilio.WaitForRequests(1);
    const std::string basic = twilio_sends[0].headers.at("authorization").substr(6);

    // Payments: applied once signed, refused otherwise.
    const std::string reference = *dialogs::PaymentReference(
        std::stoll(desk.setup.Query("SELECT id FROM accounts WHERE account_key = 'A-1001'")));
    const std::string payment = PaymentBody("pay_sec_1", reference, "100.00");
    const auto applied = PostPayment(port, payment);
    keep(applied);
    CHECK(applied.status == 200);
    CHECK(json::parse(applied.body)["status"] == "applied");
    CHECK(keep(PostPayment(port, payment, "guess")) == 401);

    // The collector API.
    CHECK(keep(api.Call("GET", "/api/v1/me", desk.collector)) == 200);
    CHECK(keep(api.Call("GET", "/api/v1/conversations?state=escalated", desk.collector)) == 200);
    CHECK(keep(api.Call("GET", desk.Path(id), desk.collector)) == 200);
    CHECK(keep(api.Post(desk.Path(id, "claim"), desk.collector)) == 200);
    CHECK(keep(api.Post(desk.Path(id, "messages"), desk.collector, {{"text", "Le ayudo."}})) ==
          202);
    CHECK(keep(api.Post(desk.Path(id, "notes"), desk.collector, {{"text", "Llamar mañana."}})) ==
          201);
    CHECK(keep(api.Post(desk.Path(id, "release"), desk.collector)) == 200);
    CHECK(keep(api.Call("GET", "/api/v1/agents", desk.supervisor)) == 200);
    CHECK(keep(api.Call("GET", "/api/v1/reports", desk.supervisor)) == 200);
    CHECK(keep(api.Call("GET", "/api/v1/payments/suspense", desk.supervisor)) == 200);
    CHECK(keep(api.Call("GET", "/api/v1/me", "cbr_" + std::string(64, '1'))) == 401);
    CHECK(keep(HttpRequest(port, "GET", "/metrics")) == 200);
    CHECK(keep(HttpRequest(port, "GET", "/readyz")) == 200);
    desk.graph.WaitForRequests(4);  // three bot replies and the collector's message at least

    desk.server->Signal(SIGTERM);
    REQUIRE(desk.server->Wait() == 0);
    const std::string err = desk.server->Stderr();
    const std::string out = desk.server->Stdout();
    REQUIRE(err.find("\"msg\":\"stopped\"") != std::string::npos);  // the log was written

    std::vector<std::pair<std::string, std::string>> secrets = {
        {"WhatsApp app secret", kAppSecret},
        {"WhatsApp verify token", verify_token},
        {"WhatsApp access token", kAccessToken},
        {"Twilio auth token", kTwilioToken},
        {"Twilio Basic credentials", basic},
        {"payments secret", kPaymentsSecret}};
    for (const std::string& token : {desk.collector, desk.other_collector, desk.supervisor}) {
        secrets.emplace_back("agent token", token.substr(4));
        secrets.emplace_back("agent token, first 16 hex digits", token.substr(4, 16));
        const std::string hash = channels::Sha256Hex(token);
        secrets.emplace_back("token SHA-256", hash);
        secrets.emplace_back("token SHA-256, first 16 hex digits", hash.substr(0, 16));
    }
    for (const auto& [what, secret] : secrets) {
        INFO(what << ": " << secret);
        REQUIRE(secret.size() >= 16);
        CHECK(err.find(secret) == std::string::npos);
        CHECK(out.find(secret) == std::string::npos);
        for (const std::string& body : answers) {
            CHECK(body.find(secret) == std::string::npos);
        }
    }
}

TEST_CASE("SQL metacharacters in API parameters get 400 and in text are stored verbatim",
          "[bot][security][integration]") {
    Desk desk;
    const Api& api = desk.api;
    const std::string tables =
        OnPostgres()
            ? "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
            : "SELECT count(*) FROM sqlite_master WHERE type = 'table'";
    const std::string tables_before = desk.setup.Query(tables);
    REQUIRE(std::stoi(tables_before) > 5);

    // The debtor's words go into the transcript as they were written.
    desk.Say("' OR 1=1--");
    const std::int64_t id =
        std::stoll(desk.setup.Query("SELECT id FROM conversations WHERE phone = '+525512345678'"));

    for (const char* target : {"/api/v1/conversations?phone=%27%20OR%201%3D1--",
                               "/api/v1/conversations?phone='OR'1'='1",
                               "/api/v1/conversations?phone=%2B5255%27%29%3B%20DROP%20TABLE%20x--",
                               "/api/v1/conversations?state=%27%20OR%20%271%27%3D%271",
                               "/api/v1/conversations?state=all%27--",
                               "/api/v1/conversations?limit=1%3BDROP%20TABLE%20conversations",
                               "/api/v1/conversations?limit=1%20OR%201%3D1",
                               "/api/v1/reports?from=2026-01-01%27--",
                               "/api/v1/reports?currency=MXN%27%20OR%201%3D1--",
                               "/api/v1/reports?format=json%3BDROP%20TABLE%20payments"}) {
        const auto res = api.Call("GET", target, desk.supervisor);
        INFO(target << " -> " << res.status << " " << res.body);
        CHECK(res.status == 400);
        CHECK(Code(res) == "bad_request");
        CHECK(res.body.find("SQL") == std::string::npos);
        CHECK(res.body.find("syntax") == std::string::npos);
    }
    // An id that is not a number is no conversation.
    const auto not_id = api.Call("GET", "/api/v1/conversations/1%20OR%201%3D1", desk.supervisor);
    CHECK(not_id.status == 404);
    CHECK(Code(not_id) == "not_found");

    // A note and an agent's name with SQL in them are kept as written.
    const std::string note = "'); DROP TABLE conversations;--";
    const auto added = api.Post(desk.Path(id, "notes"), desk.collector, {{"text", note}});
    CHECK(added.status == 201);
    const std::string bobby = "Robert'); DROP TABLE agents;--";
    const std::string bobby_token = AddAgent(desk.setup.db, bobby, "collector");
    CHECK(api.Get("/api/v1/me", bobby_token)["name"] == bobby);

    const json detail = api.Get(desk.Path(id), bobby_token);
    REQUIRE(detail["notes"].size() == 1);
    CHECK(detail["notes"][0]["text"] == note);
    bool seen = false;
    for (const json& m : detail["messages"]) {
        seen = seen || (m["direction"] == "in" && m["text"] == "' OR 1=1--");
    }
    CHECK(seen);
    CHECK(api.Get("/api/v1/conversations?state=all", bobby_token)["conversations"].size() == 1);

    CHECK(desk.setup.Query(tables) == tables_before);
    CHECK(desk.setup.Query("SELECT count(*) FROM conversations") == "1");
    CHECK(desk.setup.Query("SELECT count(*) FROM agents") == "4");
    CHECK(desk.setup.Query("SELECT count(*) FROM accounts") == "2");
}

TEST_CASE("console paths with dot-dot and backslashes and odd case find no file",
          "[bot][security][integration]") {
    Desk desk;
    const std::uint16_t port = desk.setup.port;
    for (const char* sneaky : {"/console/../../etc/passwd",
                               "/console/..%2f..%2fetc%2fpasswd",
                               "/console/%2e%2e/%2e%2e/etc/passwd",
                               "/console/..\\..\\etc\\passwd",
                               "/console/%5c..%5c..%5cetc%5cpasswd",
                               "/console/%2e%2e%5ccobrador.db",
                               "/console/..%5cledger.db",
                               "/console/CONSOLE.JS",
                               "/console/console.js/",
                               "/console/./console.js"}) {
        const std::string answer = RawExchange(port, RawGet(sneaky));
        INFO(sneaky << " -> " << answer.substr(0, answer.find("\r\n")));
        const unsigned status = StatusOf(answer);
        CHECK((status == 404 || status == 400));
        CHECK(answer.find("root:") == std::string::npos);
        CHECK(answer.find("SQLite format 3") == std::string::npos);
    }
    // A query string is not part of the file name.
    const std::string index = RawExchange(port, RawGet("/console/index.html?x=../../"));
    CHECK(StatusOf(index) == 200);
    CHECK(index.find("console.js") != std::string::npos);
}

TEST_CASE("Twilio: a signature over any URL but the public one is refused",
          "[bot][security][integration]") {
    FakeProvider twilio([](const RecordedRequest&, std::size_t) {
        return TwilioAccepted("SM22222222222222222222222222222222");
    });
    Setup setup(nullptr, &twilio);
    auto server = setup.Start();
    const std::uint16_t port = setup.port;
    const std::string path = "/webhooks/twilio";
    int n = 0;
    const auto next = [&] {
        return Sms("SMsec" + std::to_string(++n));
    };

    const std::string local = "http://127.0.0.1:" + std::to_string(port);
    for (const std::string& url : {"https://cobrador.example.com:8443" + path,
                                   "https://cobrador.example.com:80" + path,
                                   "http://cobrador.example.com" + path,
                                   "http://cobrador.example.com:443" + path,
                                   std::string(kPublicUrl) + path + "?x=1",
                                   std::string(kPublicUrl) + path + "/status",
                                   "https://cobrador.example.org" + path,
                                   local + path}) {
        INFO("signed over " << url);
        CHECK(PostTwilioSignedOver(port, path, url, next()).status == 401);
    }
    // Posted with a query string that the signature does not cover.
    CHECK(
        PostTwilioSignedOver(port, path + "?x=1", std::string(kPublicUrl) + path, next()).status ==
        401);
    // The forwarding headers a proxy would add, with a signature over the URL they describe:
    // the server does not read them.
    CHECK(PostTwilioSignedOver(port,
                               path,
                               "http://attacker.example" + path,
                               next(),
                               {{"X-Forwarded-Host", "attacker.example"},
                                {"X-Forwarded-Proto", "http"},
                                {"Host", "attacker.example"}})
              .status == 401);
    CHECK(PostTwilioSignedOver(port,
                               path,
                               "https://cobrador.example.com:8443" + path,
                               next(),
                               {{"X-Forwarded-Port", "8443"}})
              .status == 401);
    CHECK(setup.Query("SELECT count(*) FROM inbound_events") == "0");

    // The public URL with its default port written out is the same URL.
    CHECK(PostTwilioSignedOver(port, path, "https://cobrador.example.com:443" + path, next())
              .status == 200);
    // And a query string the signature covers is fine.
    CHECK(PostTwilioSignedOver(port, path + "?x=1", std::string(kPublicUrl) + path + "?x=1", next())
              .status == 200);
    CHECK(setup.Query("SELECT count(*) FROM inbound_events") == "2");
    const auto metrics = HttpRequest(port, "GET", "/metrics").body;
    CHECK(metrics.find(R"(cobrador_webhook_rejected_total{channel="sms",reason="signature"} 11)") !=
          std::string::npos);
}

TEST_CASE("WhatsApp and payments: near-miss signatures get 401 and store nothing",
          "[bot][security][integration]") {
    FakeProvider graph([](const RecordedRequest&, std::size_t) { return GraphAccepted("x"); });
    Setup setup(&graph, nullptr);
    setup.env["COBRADOR_PAYMENTS_SECRET"] = kPaymentsSecret;
    auto server = setup.Start();
    const std::uint16_t port = setup.port;

    const std::string body = WhatsAppText("wamid.NEAR", kWaId, "hola");
    const std::string hex = channels::HmacSha256Hex(kAppSecret, body);
    REQUIRE(hex.size() == 64);
    REQUIRE(Upper(hex) != hex);
    for (const std::string& header : {"sha256=" + Upper(hex),
                                      "SHA256=" + hex,
                                      "Sha256=" + hex,
                                      "sha256=" + hex.substr(0, 63),
                                      "sha256=" + hex + "0",
                                      "sha256= " + hex,
                                      "sha256=" + hex + ",sha256=" + hex}) {
        INFO(header);
        CHECK(HttpRequest(port,
                          "POST",
                          "/webhooks/whatsapp",
                          body,
                          {{"Content-Type", "application/json"}, {"X-Hub-Signature-256", header}})
                  .status == 401);
    }
    CHECK(setup.Query("SELECT count(*) FROM inbound_events") == "0");
    CHECK(setup.Query("SELECT count(*) FROM messages") == "0");

    // Payments: the amount changed after signing, a sha1= prefix, upper-case hex.
    const std::string payment = PaymentBody("pay_near", "0000018", "100.00");
    const std::string payment_hex = channels::HmacSha256Hex(kPaymentsSecret, payment);
    std::string tampered = payment;
    tampered.replace(tampered.find("100.00"), 6, "999.00");
    const std::vector<std::pair<std::string, std::string>> forged = {
        {tampered, "sha256=" + payment_hex},
        {payment, "sha1=" + payment_hex},
        {payment, "sha1=" + channels::HmacSha256Hex(kPaymentsSecret, payment).substr(0, 40)},
        {payment, "sha256=" + Upper(payment_hex)},
        {payment, "SHA256=" + payment_hex}};
    for (const auto& [sent, header] : forged) {
        INFO(header << " over " << sent);
        CHECK(HttpRequest(port,
                          "POST",
                          "/webhooks/payments",
                          sent,
                          {{"Content-Type", "application/json"}, {"X-Signature", header}})
                  .status == 401);
    }
    CHECK(setup.Query("SELECT count(*) FROM payments") == "0");
    // The genuine one goes through (held in suspense: no such reference here).
    const auto genuine = PostPayment(port, payment);
    CHECK(genuine.status == 200);
    CHECK(setup.Query("SELECT count(*) FROM payments") == "1");
}

TEST_CASE("request smuggling: Content-Length with Transfer-Encoding or twice gets 400",
          "[bot][security][integration]") {
    FakeProvider graph([](const RecordedRequest&, std::size_t) { return GraphAccepted("x"); });
    Setup setup(&graph, nullptr);
    auto server = setup.Start();
    const std::uint16_t port = setup.port;

    // A signed webhook, and a second signed request hidden behind it.
    const std::string body = WhatsAppText("wamid.FRONT", kWaId, "hola");
    const std::string hidden_body = WhatsAppText("wamid.HIDDEN", kWaId, "hola");
    const std::string hidden =
        "POST /webhooks/whatsapp HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\nX-Hub-Signature-256: sha256=" +
        channels::HmacSha256Hex(kAppSecret, hidden_body) +
        "\r\nContent-Length: " + std::to_string(hidden_body.size()) +
        "\r\nConnection: close\r\n\r\n" + hidden_body;
    const std::string start =
        "POST /webhooks/whatsapp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "X-Hub-Signature-256: sha256=" +
        channels::HmacSha256Hex(kAppSecret, body) + "\r\n";
    std::ostringstream chunk_size;
    chunk_size << std::hex << body.size();
    const std::string chunked = chunk_size.str() + "\r\n" + body + "\r\n0\r\n\r\n";
    const std::string length = "Content-Length: " + std::to_string(body.size()) + "\r\n";
    const std::string te = "Transfer-Encoding: chunked\r\n";

    const std::vector<std::pair<std::string, std::string>> attempts = {
        {"Content-Length, then Transfer-Encoding", start + length + te + "\r\n" + chunked + hidden},
        {"Transfer-Encoding, then Content-Length", start + te + length + "\r\n" + chunked + hidden},
        {"two different Content-Length",
         start + length + "Content-Length: " + std::to_string(body.size() + hidden.size()) +
             "\r\n\r\n" + body + hidden},
        {"one Content-Length with two values",
         start + "Content-Length: " + std::to_string(body.size()) + ", " +
             std::to_string(body.size() + hidden.size()) + "\r\n\r\n" + body + hidden},
        {"Transfer-Encoding twice", start + te + te + "\r\n" + chunked + hidden}};
    for (const auto& [what, bytes] : attempts) {
        const std::string answer = RawExchange(port, bytes);
        INFO(what << " -> " << answer);
        CHECK(StatusOf(answer) == 400);
        CHECK(Responses(answer) == 1);  // then the connection is closed
    }
    CHECK(setup.Query("SELECT count(*) FROM inbound_events") == "0");
    // Still serving, and the same bytes framed once are stored.
    CHECK(PostWhatsApp(port, body).status == 200);
    CHECK(setup.Query("SELECT count(*) FROM inbound_events") == "1");
}

TEST_CASE("WhatsApp webhook without its app secret is 404 and stores nothing",
          "[bot][security][integration]") {
    Setup setup(nullptr, nullptr);
    setup.env.erase("COBRADOR_WHATSAPP_APP_SECRET");
    auto server = setup.Start();
    const auto res = PostWhatsApp(setup.port, WhatsAppText("wamid.OFF", kWaId, "hola"));
    CHECK(res.status == 404);
    CHECK(PostWhatsApp(setup.port, WhatsAppText("wamid.OFF2", kWaId, "hola"), "").status == 404);
    CHECK(setup.Query("SELECT count(*) FROM inbound_events") == "0");
    CHECK(setup.Query("SELECT count(*) FROM messages") == "0");
}

TEST_CASE("Twilio webhooks without the auth token are 404 and store nothing",
          "[bot][security][integration]") {
    Setup setup(nullptr, nullptr);
    setup.env.erase("COBRADOR_TWILIO_AUTH_TOKEN");
    auto server = setup.Start();
    CHECK(PostTwilio(setup.port, "/webhooks/twilio", Sms("SMoff1")).status == 404);
    CHECK(PostTwilio(setup.port, "/webhooks/twilio", Sms("SMoff2"), "").status == 404);
    CHECK(PostTwilio(setup.port,
                     "/webhooks/twilio/status",
                     {{"MessageSid", "SMoff3"}, {"MessageStatus", "delivered"}})
              .status == 404);
    CHECK(setup.Query("SELECT count(*) FROM inbound_events") == "0");
    CHECK(setup.Query("SELECT count(*) FROM delivery_statuses") == "0");
}

}  // namespace
}  // namespace cobrador::testing
