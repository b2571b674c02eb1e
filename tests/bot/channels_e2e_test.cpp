#include <fstream>
// The channels path end to end: the real `cobrador serve` binary, real ledgers (SQLite files, or
// PostgreSQL for the pg.* tests), signed webhooks over loopback, and fake Graph API / Twilio
// servers that record what they are sent and answer as each test scripts them (errors, Retry-After,
// hangs, resets).

#include <atomic>
#include <regex>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "channels/signature.hpp"
#include "channels/twilio.hpp"

#include "e2e_support.hpp"
#include "support/fake_provider.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include <signal.h>

namespace cobrador::testing {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

json BodyOf(const RecordedRequest& request) {
    return json::parse(request.body);
}

TEST_CASE(
    "WhatsApp: a signed message is stored, answered through the outbox, and its statuses "
    "only move forward",
    "[bot][channels][integration]") {
    std::atomic<int> sent{0};
    FakeProvider graph([&](const RecordedRequest&, std::size_t) {
        return GraphAccepted("wamid.OUT" + std::to_string(++sent));
    });
    Setup setup(&graph, nullptr);
    auto server = setup.Start();

    // The GET handshake.
    const auto handshake = HttpRequest(
        setup.port,
        "GET",
        "/webhooks/"
        "whatsapp?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=verify-me");
    CHECK(handshake.status == 200);
    CHECK(handshake.body == "1158201444");
    CHECK(HttpRequest(setup.port,
                      "GET",
                      "/webhooks/whatsapp?hub.mode=subscribe&hub.challenge=1&hub.verify_token=no")
              .status == 403);

    const auto answer =
        PostWhatsApp(setup.port, WhatsAppText("wamid.IN1", "5215512345678", "hola, quiero pagar"));
    REQUIRE(answer.status == 200);
    // 200 came after the commit: the event is in the ledger now.
    CHECK(setup.Query(
              "SELECT count(*) FROM inbound_events WHERE provider_event_id = 'wamid.IN1'") == "1");

    const auto requests = graph.WaitForRequests(1);
    const RecordedRequest& send = requests[0];
    CHECK(send.method == "POST");
    CHECK(send.target == std::string("/v21.0/") + kPhoneNumberId + "/messages");
    CHECK(send.headers.at("authorization") == std::string("Bearer ") + kAccessToken);
    const json message = BodyOf(send);
    CHECK(message["messaging_product"] == "whatsapp");
    CHECK(message["to"] == "+525512345678");  // +52 1 55... and +52 55... are one person
    CHECK(message["type"] == "text");
    CHECK(message["context"]["message_id"] == "wamid.IN1");
    const std::string text = message["text"]["body"];
    CHECK(text.find("Financiera Prueba") != std::string::npos);

    // The ledger: the debtor's message and our reply in one conversation, the reply sent with
    // the provider's id.
    setup.WaitFor("SELECT status FROM messages WHERE provider_message_id = 'wamid.OUT1'", "sent");
    CHECK(setup.Query("SELECT body FROM messages WHERE provider_message_id = 'wamid.IN1'") ==
          "hola, quiero pagar");
    CHECK(setup.Query("SELECT phone FROM conversations") == "+525512345678");
    CHECK(setup.Query("SELECT status FROM outbox") == "sent");

    // Statuses out of order: read before delivered; a late delivered never overwrites read.
    CHECK(PostWhatsApp(setup.port, WhatsAppStatus("wamid.OUT1", "sent", "1795000001")).status ==
          200);
    CHECK(PostWhatsApp(setup.port, WhatsAppStatus("wamid.OUT1", "read", "1795000009")).status ==
          200);
    CHECK(
        PostWhatsApp(setup.port, WhatsAppStatus("wamid.OUT1", "delivered", "1795000005")).status ==
        200);
    CHECK(setup.Query("SELECT status FROM messages WHERE provider_message_id = 'wamid.OUT1'") ==
          "read");
    CHECK(setup.Query(
              "SELECT count(*) FROM delivery_statuses WHERE provider_message_id = 'wamid.OUT1'") ==
          "3");

    // Metrics count what happened.
    const auto metrics = HttpRequest(setup.port, "GET", "/metrics").body;
    CHECK(metrics.find(
              R"(cobrador_inbound_total{channel="whatsapp",kind="message",result="new"} 1)") !=
          std::string::npos);
    CHECK(metrics.find(R"(cobrador_outbound_total{channel="whatsapp",result="sent"} 1)") !=
          std::string::npos);
    CHECK(metrics.find("cobrador_outbox_pending{scope=\"cluster\"} 0") != std::string::npos);
    CHECK(metrics.find("cobrador_send_seconds_count{channel=\"whatsapp\"} 1") != std::string::npos);

    server->Signal(SIGTERM);
    CHECK(server->Wait() == 0);
    // Info logs carry neither secrets nor what the debtor wrote.
    const std::string log = server->Stderr();
    CHECK(log.find(kAccessToken) == std::string::npos);
    CHECK(log.find(kAppSecret) == std::string::npos);
    CHECK(log.find("quiero pagar") == std::string::npos);
    CHECK(log.find("5512345678") == std::string::npos);  // phones are redacted
}

TEST_CASE("WhatsApp: a redelivered webhook is answered 200 and changes nothing",
          "[bot][channels][integration]") {
    std::atomic<int> sent{0};
    FakeProvider graph([&](const RecordedRequest&, std::size_t) {
        return GraphAccepted("wamid.OUT" + std::to_string(++sent));
    });
    Setup setup(&graph, nullptr);
    auto server = setup.Start();
    const std::string body = WhatsAppText("wamid.DUP", "5215512345678", "hola");
    // Meta redelivers when our answer is slow: the same bytes, several times, even at once.
    std::vector<std::thread> senders;
    std::atomic<int> ok{0};
    for (int i = 0; i < 4; ++i) {
        senders.emplace_back([&] {
            if (PostWhatsApp(setup.port, body).status == 200) {
                ++ok;
            }
        });
    }
    for (auto& t : senders) {
        t.join();
    }
    CHECK(ok == 4);
    CHECK(PostWhatsApp(setup.port, body).status == 200);
    graph.WaitForRequests(1);
    setup.WaitFor("SELECT count(*) FROM outbox WHERE status = 'sent'", "1");
    std::this_thread::sleep_for(1500ms);  // time enough for a wrong second reply to go out
    CHECK(graph.Requests().size() == 1);
    CHECK(setup.Query("SELECT count(*) FROM inbound_events") == "1");
    CHECK(setup.Query("SELECT count(*) FROM messages WHERE direction = 'in'") == "1");
    CHECK(setup.Query("SELECT count(*) FROM messages WHERE direction = 'out'") == "1");
    const auto metrics = HttpRequest(setup.port, "GET", "/metrics").body;
    CHECK(
        metrics.find(
            R"(cobrador_inbound_total{channel="whatsapp",kind="message",result="duplicate"} 4)") !=
        std::string::npos);
}

TEST_CASE(
    "WhatsApp: bad signatures get 401 and a body that does not parse 400, and nothing is "
    "stored",
    "[bot][channels][integration]") {
    FakeProvider graph([](const RecordedRequest&, std::size_t) { return GraphAccepted("x"); });
    Setup setup(&graph, nullptr);
    auto server = setup.Start();
    const std::string body = WhatsAppText("wamid.BAD", "5215512345678", "hola");

    CHECK(HttpRequest(setup.port, "POST", "/webhooks/whatsapp", body).status == 401);  // none
    CHECK(PostWhatsApp(setup.port, body, "another-secret").status == 401);
    std::string tampered = body;
    tampered.replace(tampered.find("hola"), 4, "HOLA");
    CHECK(HttpRequest(
              setup.port,
              "POST",
              "/webhooks/whatsapp",
              tampered,
              {{"X-Hub-Signature-256", "sha256=" + channels::HmacSha256Hex(kAppSecret, body)}})
              .status == 401);
    CHECK(
        HttpRequest(setup.port,
                    "POST",
                    "/webhooks/whatsapp",
                    body,
                    {{"X-Hub-Signature-256", "sha1=" + channels::HmacSha256Hex(kAppSecret, body)}})
            .status == 401);

    const auto broken = PostWhatsApp(setup.port, R"({"object": "whatsapp_business_account", )");
    CHECK(broken.status == 400);
    CHECK(json::parse(broken.body).contains("error"));
    CHECK(PostWhatsApp(setup.port, R"([1, 2, 3])").status == 400);

    CHECK(setup.Query("SELECT count(*) FROM inbound_events") == "0");
    CHECK(setup.Query("SELECT count(*) FROM messages") == "0");
    std::this_thread::sleep_for(500ms);
    CHECK(graph.Requests().empty());
    const auto metrics = HttpRequest(setup.port, "GET", "/metrics").body;
    CHECK(metrics.find(
              R"(cobrador_webhook_rejected_total{channel="whatsapp",reason="signature"} 4)") !=
          std::string::npos);
    CHECK(metrics.find(
              R"(cobrador_webhook_rejected_total{channel="whatsapp",reason="malformed"} 2)") !=
          std::string::npos);
    server->Signal(SIGTERM);
    CHECK(server->Wait() == 0);
    CHECK(server->Stderr().find(kAppSecret) == std::string::npos);
}

TEST_CASE(
    "WhatsApp: a batch of entries from several debtors: each conversation answered in the "
    "order its messages arrived",
    "[bot][channels][integration]") {
    std::atomic<int> sent{0};
    FakeProvider graph([&](const RecordedRequest&, std::size_t) {
        return GraphAccepted("wamid.OUT" + std::to_string(++sent));
    });
    Setup setup(&graph, nullptr);
    auto server = setup.Start();

    // One delivery with two entries: Ana writes twice, Beto once, and a status rides along.
    json batch = json::parse(WhatsAppText("wamid.A1", "5215511111111", "uno"));
    const json second = json::parse(WhatsAppText("wamid.B1", "5215522222222", "hola"));
    batch["entry"].push_back(second["entry"][0]);
    batch["entry"][0]["changes"][0]["value"]["messages"].push_back(
        {{"from", "5215511111111"},
         {"id", "wamid.A2"},
         {"timestamp", "1795000001"},
         {"type", "interactive"},
         {"interactive",
          {{"type", "button_reply"}, {"button_reply", {{"id", "pay"}, {"title", "Pagar"}}}}}});
    batch["entry"][0]["changes"][0]["value"]["statuses"] = {
        {{"id", "wamid.UNKNOWN"}, {"status", "delivered"}, {"timestamp", "1795000002"}}};
    batch["entry"][0]["changes"][0]["value"]["a_field_meta_adds_tomorrow"] = {{"x", 1}};
    REQUIRE(PostWhatsApp(setup.port, batch.dump()).status == 200);
    // Then Ana a third time, in a webhook of its own.
    REQUIRE(PostWhatsApp(setup.port, WhatsAppText("wamid.A3", "5215511111111", "tres")).status ==
            200);

    const auto requests = graph.WaitForRequests(4);
    std::vector<std::string> ana;
    std::vector<std::string> beto;
    for (const auto& request : requests) {
        const json message = BodyOf(request);
        (message["to"] == "+525511111111" ? ana : beto)
            .push_back(message["context"]["message_id"].get<std::string>());
    }
    CHECK(ana == std::vector<std::string>{"wamid.A1", "wamid.A2", "wamid.A3"});
    CHECK(beto == std::vector<std::string>{"wamid.B1"});
    CHECK(setup.Query("SELECT count(*) FROM conversations") == "2");
    CHECK(setup.Query("SELECT body FROM messages WHERE provider_message_id = 'wamid.A2'") ==
          "Pagar");
    CHECK(setup.Query("SELECT count(*) FROM delivery_statuses") == "1");
}

TEST_CASE(
    "WhatsApp: 500, 429 with Retry-After and a reset are retried with backoff until the "
    "send goes through",
    "[bot][channels][integration]") {
    FakeProvider graph([](const RecordedRequest&, std::size_t n) -> ScriptedAnswer {
        switch (n) {
            case 0:
                return {500,
                        R"({"error":{"message":"Internal","code":1,"type":"OAuthException"}})",
                        {}};
            case 1:
                return {429,
                        R"({"error":{"message":"(#130429) Rate limit hit","code":130429}})",
                        {{"Retry-After", "2"}}};
            case 2:
            case 3: {
                // A reset on a reused connection is retried at once on a fresh one (it may
                // have been a stale keep-alive); a second reset is a failed attempt.
                ScriptedAnswer reset;
                reset.reset = true;
                return reset;
            }
            default:
                return GraphAccepted("wamid.FINALLY");
        }
    });
    Setup setup(&graph, nullptr);
    auto server = setup.Start();
    REQUIRE(PostWhatsApp(setup.port, WhatsAppText("wamid.R1", "5215512345678", "hola")).status ==
            200);
    const auto started = std::chrono::steady_clock::now();
    graph.WaitForRequests(2, 20s);
    const auto after_429 = std::chrono::steady_clock::now();
    graph.WaitForRequests(3, 30s);
    // Retry-After: 2 was honoured between the 429 and the next attempt.
    CHECK(std::chrono::steady_clock::now() - after_429 >= 1900ms);
    graph.WaitForRequests(5, 40s);
    setup.WaitFor("SELECT status FROM outbox", "sent", 10s);
    CHECK(setup.Query("SELECT attempts FROM outbox") == "4");
    CHECK(setup.Query("SELECT status FROM messages WHERE direction = 'out'") == "sent");
    CHECK(setup.Query("SELECT provider_message_id FROM messages WHERE direction = 'out'") ==
          "wamid.FINALLY");
    CHECK(std::chrono::steady_clock::now() - started >= 2s);
    // Every attempt carried the same message.
    const auto requests = graph.Requests();
    CHECK(requests.size() == 5);
    CHECK(requests[0].body == requests[4].body);
    const auto metrics = HttpRequest(setup.port, "GET", "/metrics").body;
    CHECK(metrics.find(R"(cobrador_outbound_total{channel="whatsapp",result="retry"} 3)") !=
          std::string::npos);
}

TEST_CASE("WhatsApp: a hanging provider times out and the send is retried",
          "[bot][channels][integration]") {
    FakeProvider graph([](const RecordedRequest&, std::size_t n) {
        ScriptedAnswer answer = GraphAccepted("wamid.AFTER-HANG");
        if (n == 0) {
            answer.delay = 30s;
        }
        return answer;
    });
    Setup setup(&graph, nullptr);
    setup.env["COBRADOR_SEND_TIMEOUT"] = "1";
    auto server = setup.Start();
    REQUIRE(PostWhatsApp(setup.port, WhatsAppText("wamid.H1", "5215512345678", "hola")).status ==
            200);
    graph.WaitForRequests(2, 20s);
    setup.WaitFor("SELECT status FROM outbox", "sent", 10s);
    CHECK(setup.Query("SELECT provider_message_id FROM messages WHERE direction = 'out'") ==
          "wamid.AFTER-HANG");
}

TEST_CASE("WhatsApp: permanent errors stop at once and keep the provider's code",
          "[bot][channels][integration]") {
    const auto code = GENERATE(as<std::string>{}, "131047", "131026");
    FakeProvider graph([&](const RecordedRequest&, std::size_t) -> ScriptedAnswer {
        return {400,
                R"({"error":{"message":"Re-engagement message","type":"OAuthException","code":)" +
                    code + R"(,"fbtrace_id":"Az8or"}})",
                {}};
    });
    Setup setup(&graph, nullptr);
    auto server = setup.Start();
    REQUIRE(PostWhatsApp(setup.port, WhatsAppText("wamid.P1", "5215512345678", "hola")).status ==
            200);
    setup.WaitFor("SELECT status FROM outbox", "failed");
    std::this_thread::sleep_for(1500ms);
    CHECK(graph.Requests().size() == 1);
    CHECK(setup.Query("SELECT status FROM messages WHERE direction = 'out'") == "failed");
    CHECK(setup.Query("SELECT error_code FROM messages WHERE direction = 'out'") == code);
    CHECK(setup.Query("SELECT last_error FROM outbox").find(code) != std::string::npos);
}

TEST_CASE("WhatsApp: a failed status from Meta marks our message failed with its code",
          "[bot][channels][integration]") {
    FakeProvider graph(
        [](const RecordedRequest&, std::size_t) { return GraphAccepted("wamid.WILLFAIL"); });
    Setup setup(&graph, nullptr);
    auto server = setup.Start();
    REQUIRE(PostWhatsApp(setup.port, WhatsAppText("wamid.F1", "5215512345678", "hola")).status ==
            200);
    setup.WaitFor("SELECT status FROM messages WHERE direction = 'out'", "sent");
    REQUIRE(
        PostWhatsApp(setup.port, WhatsAppStatus("wamid.WILLFAIL", "failed", "1795000003", "131026"))
            .status == 200);
    CHECK(setup.Query("SELECT status FROM messages WHERE direction = 'out'") == "failed");
    CHECK(setup.Query("SELECT error_code FROM messages WHERE direction = 'out'") == "131026");
}

TEST_CASE(
    "Twilio: a signed SMS is stored, answered with empty TwiML, the reply sent through the "
    "REST API, and status callbacks recorded",
    "[bot][channels][integration]") {
    FakeProvider twilio([](const RecordedRequest&, std::size_t) {
        return TwilioAccepted("SM11111111111111111111111111111111");
    });
    Setup setup(nullptr, &twilio);
    auto server = setup.Start();

    const std::vector<std::pair<std::string, std::string>> inbound = {
        {"ToCountry", "US"},
        {"SmsMessageSid", "SMa1b2c3d4e5f60718293a4b5c6d7e8f90"},
        {"NumMedia", "0"},
        {"From", "+525512345678"},
        {"To", "+15005550006"},
        {"Body", "¿Cuánto debo? Quiero pagar"},
        {"MessageSid", "SMa1b2c3d4e5f60718293a4b5c6d7e8f90"},
        {"AccountSid", kTwilioSid},
        {"NumSegments", "1"},
        {"ApiVersion", "2010-04-01"}};
    const auto answer = PostTwilio(setup.port, "/webhooks/twilio", inbound);
    CHECK(answer.status == 200);
    CHECK(answer.headers.at("content-type").find("xml") != std::string::npos);
    CHECK(answer.body.find("<Response/>") != std::string::npos);

    const auto requests = twilio.WaitForRequests(1);
    const RecordedRequest& send = requests[0];
    CHECK(send.target == std::string("/2010-04-01/Accounts/") + kTwilioSid + "/Messages.json");
    CHECK(send.headers.at("authorization").rfind("Basic ", 0) == 0);
    CHECK(send.headers.at("content-type").find("application/x-www-form-urlencoded") == 0);
    const auto form = channels::ParseForm(send.body);
    REQUIRE(form);
    std::map<std::string, std::string> fields(form->begin(), form->end());
    CHECK(fields["To"] == "+525512345678");
    CHECK(fields["From"] == "+15005550006");
    CHECK(fields["StatusCallback"] == std::string(kPublicUrl) + "/webhooks/twilio/status");
    CHECK(fields["Body"].find("Financiera Prueba") != std::string::npos);
    setup.WaitFor("SELECT provider_message_id FROM messages WHERE direction = 'out'",
                  "SM11111111111111111111111111111111");
    CHECK(setup.Query("SELECT body FROM messages WHERE direction = 'in'") ==
          "¿Cuánto debo? Quiero pagar");

    // A signature over another URL (the port, say) or another token fails.
    CHECK(PostTwilio(setup.port, "/webhooks/twilio", inbound, "wrong-token").status == 401);
    CHECK(HttpRequest(setup.port,
                      "POST",
                      "/webhooks/twilio",
                      FormEncode(inbound),
                      {{"Content-Type", "application/x-www-form-urlencoded"}})
              .status == 401);
    // Twilio redelivers: still one message.
    CHECK(PostTwilio(setup.port, "/webhooks/twilio", inbound).status == 200);
    CHECK(setup.Query("SELECT count(*) FROM messages WHERE direction = 'in'") == "1");

    // Status callbacks: delivered, then a late "sent" that must not win.
    const auto status = [&](const std::string& value) {
        return PostTwilio(setup.port,
                          "/webhooks/twilio/status",
                          {{"MessageSid", "SM11111111111111111111111111111111"},
                           {"MessageStatus", value},
                           {"AccountSid", kTwilioSid},
                           {"From", "+15005550006"},
                           {"To", "+525512345678"}});
    };
    CHECK(status("delivered").status == 200);
    CHECK(status("sent").status == 200);
    CHECK(setup.Query("SELECT status FROM messages WHERE direction = 'out'") == "delivered");
    std::this_thread::sleep_for(500ms);
    CHECK(twilio.Requests().size() == 1);
    server->Signal(SIGTERM);
    CHECK(server->Wait() == 0);
    CHECK(server->Stderr().find(kTwilioToken) == std::string::npos);
}

TEST_CASE("Twilio: 21610 (the number replied STOP) is permanent and recorded",
          "[bot][channels][integration]") {
    FakeProvider twilio([](const RecordedRequest&, std::size_t) -> ScriptedAnswer {
        return {
            400,
            R"({"code": 21610, "message": "Attempt to send to unsubscribed recipient +525512345678", "status": 400})",
            {}};
    });
    Setup setup(nullptr, &twilio);
    auto server = setup.Start();
    REQUIRE(PostTwilio(setup.port,
                       "/webhooks/twilio",
                       {{"MessageSid", "SM0000000000000000000000000000stop"},
                        {"From", "+525512345678"},
                        {"To", "+15005550006"},
                        {"Body", "hola"}})
                .status == 200);
    setup.WaitFor("SELECT status FROM outbox", "failed");
    CHECK(setup.Query("SELECT error_code FROM messages WHERE direction = 'out'") == "21610");
    CHECK(twilio.Requests().size() == 1);
    // Twilio's words name the number; the log keeps them without it.
    server->Signal(SIGTERM);
    CHECK(server->Wait() == 0);
    const std::string log = server->Stderr();
    CHECK(log.find("unsubscribed recipient +52********78") != std::string::npos);
    CHECK(log.find("5512345678") == std::string::npos);
}

TEST_CASE(
    "kill -9 after the reply is committed but before the provider answers: the reply is "
    "sent after the restart, and recorded once",
    "[bot][channels][integration]") {
    std::atomic<bool> hang{true};
    FakeProvider graph([&](const RecordedRequest&, std::size_t) {
        ScriptedAnswer answer = GraphAccepted("wamid.AFTER-CRASH");
        if (hang) {
            answer.delay = 60s;
        }
        return answer;
    });
    Setup setup(&graph, nullptr);
    {
        auto server = setup.Start("first");
        REQUIRE(
            PostWhatsApp(setup.port, WhatsAppText("wamid.K1", "5215512345678", "hola")).status ==
            200);
        graph.WaitForRequests(1);  // the reply is on the wire; the provider has not answered
        server->Signal(SIGKILL);
        server->Wait();
    }
    CHECK(setup.Query("SELECT status FROM outbox") == "pending");
    hang = false;
    auto server = setup.Start("second");
    graph.WaitForRequests(2);
    setup.WaitFor("SELECT status FROM outbox", "sent");
    CHECK(setup.Query("SELECT count(*) FROM messages WHERE direction = 'out'") == "1");
    CHECK(setup.Query("SELECT provider_message_id FROM messages WHERE direction = 'out'") ==
          "wamid.AFTER-CRASH");
    CHECK(setup.Query("SELECT count(*) FROM inbound_events WHERE processed_at IS NOT NULL") == "1");
    // The same message both times.
    const auto requests = graph.Requests();
    CHECK(requests[0].body == requests[1].body);
    // The redelivery Meta makes after the crash is still a duplicate.
    CHECK(PostWhatsApp(setup.port, WhatsAppText("wamid.K1", "5215512345678", "hola")).status ==
          200);
    std::this_thread::sleep_for(1s);
    CHECK(graph.Requests().size() == 2);
}

TEST_CASE("a ledger that cannot take the write answers 503, so the provider retries",
          "[bot][channels][integration]") {
    FakeProvider graph([](const RecordedRequest&, std::size_t) { return GraphAccepted("w"); });
    Setup setup(&graph, nullptr);
    auto server = setup.Start();
    const std::string body = WhatsAppText("wamid.LOCKED", "5215512345678", "hola");
    {
        // Another process holds a lock longer than the ledger waits for one (SQLite's busy
        // timeout, PostgreSQL's lock_timeout).
        Probe other(setup.db);
        other.Exec(OnPostgres() ? "BEGIN; LOCK TABLE inbound_events IN ACCESS EXCLUSIVE MODE"
                                : "BEGIN EXCLUSIVE");
        const auto refused = PostWhatsApp(setup.port, body);
        CHECK(refused.status == 503);
        other.Exec("ROLLBACK");
    }
    CHECK(setup.Query("SELECT count(*) FROM inbound_events") == "0");
    // Meta delivers it again; now it is taken.
    CHECK(PostWhatsApp(setup.port, body).status == 200);
    setup.WaitFor("SELECT status FROM outbox", "sent");
    CHECK(graph.Requests().size() == 1);
}

TEST_CASE("HTTPS to a provider whose certificate the system does not trust: nothing is sent",
          "[bot][channels][integration]") {
    // A TLS server on loopback with a self-signed certificate, standing in for an impostor.
    TempDir certs;
    const std::string key = certs.File("key.pem");
    const std::string cert = certs.File("cert.pem");
    REQUIRE(std::system(("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
                         "-addext subjectAltName=IP:127.0.0.1 -keyout " +
                         key + " -out " + cert + " 2>/dev/null")
                            .c_str()) == 0);
    namespace net = boost::asio;
    net::io_context ioc;
    net::ssl::context tls(net::ssl::context::tls_server);
    tls.use_certificate_chain_file(cert);
    tls.use_private_key_file(key, net::ssl::context::pem);
    net::ip::tcp::acceptor acceptor(ioc, {net::ip::make_address("127.0.0.1"), 0});
    const auto tls_port = acceptor.local_endpoint().port();
    std::atomic<int> handshakes_ok{0};
    std::atomic<int> handshakes_failed{0};
    std::atomic<bool> stop{false};
    std::thread impostor([&] {
        while (!stop) {
            net::ip::tcp::socket socket(ioc);
            boost::system::error_code ec;
            acceptor.accept(socket, ec);
            if (ec || stop) {
                continue;
            }
            net::ssl::stream<net::ip::tcp::socket> stream(std::move(socket), tls);
            stream.handshake(net::ssl::stream_base::server, ec);
            (ec ? handshakes_failed : handshakes_ok)++;
        }
    });

    Setup setup(nullptr, nullptr);
    setup.env["COBRADOR_WHATSAPP_ACCESS_TOKEN"] = kAccessToken;
    setup.env["COBRADOR_WHATSAPP_PHONE_NUMBER_ID"] = kPhoneNumberId;
    setup.env["COBRADOR_WHATSAPP_API_BASE"] = "https://127.0.0.1:" + std::to_string(tls_port);
    auto server = setup.Start();
    REQUIRE(PostWhatsApp(setup.port, WhatsAppText("wamid.TLS", "5215512345678", "hola")).status ==
            200);
    setup.WaitFor("SELECT attempts > 0 FROM outbox", "1");
    const std::string error = setup.Query("SELECT last_error FROM outbox");
    CHECK(error.find("certificate") != std::string::npos);
    CHECK(setup.Query("SELECT status FROM outbox") == "pending");  // retried later, not sent
    CHECK(handshakes_ok == 0);
    CHECK(handshakes_failed >= 1);

    server->Signal(SIGTERM);
    CHECK(server->Wait() == 0);
    stop = true;
    {
        net::io_context poke_ioc;
        net::ip::tcp::socket poke(poke_ioc);
        boost::system::error_code ignored;
        poke.connect({net::ip::make_address("127.0.0.1"), tls_port}, ignored);
    }
    impostor.join();
}

TEST_CASE("serve --demo without credentials: the sandbox keeps replies on this machine",
          "[bot][channels][integration][sqlite]") {
    TempDir dir;
    Child server({"serve", "--demo"}, {{"COBRADOR_LISTEN", "127.0.0.1:0"}}, dir.Path().string());
    const std::uint16_t port = PortFrom(server.WaitForOutput("/healthz"));
    const auto posted = HttpRequest(port,
                                    "POST",
                                    "/sandbox/messages",
                                    R"({"from": "+52 1 55 1234 5678", "text": "hola"})",
                                    {{"Content-Type", "application/json"}});
    REQUIRE(posted.status == 200);
    CHECK(HttpRequest(port, "POST", "/sandbox/messages", R"({"from": 5})").status == 400);
    CHECK(
        HttpRequest(port, "POST", "/sandbox/messages", R"({"from": "abc", "text": "x"})").status ==
        400);

    json transcript;
    for (int i = 0; i < 100; ++i) {
        transcript =
            json::parse(HttpRequest(port, "GET", "/sandbox/messages?phone=%2B525512345678").body);
        if (transcript["messages"].size() == 2 &&
            transcript["messages"][1]["status"] == "delivered") {
            break;
        }
        std::this_thread::sleep_for(50ms);
    }
    REQUIRE(transcript["messages"].size() == 2);
    CHECK(transcript["messages"][0]["direction"] == "in");
    CHECK(transcript["messages"][0]["text"] == "hola");
    CHECK(transcript["messages"][1]["direction"] == "out");
    CHECK(transcript["messages"][1]["status"] == "delivered");
    CHECK(transcript["messages"][1]["text"].get<std::string>().find("Demo Financiera") !=
          std::string::npos);
    server.Signal(SIGTERM);
    CHECK(server.Wait() == 0);
}

TEST_CASE("serve without --demo has no sandbox", "[bot][channels][integration]") {
    Setup setup(nullptr, nullptr);
    auto server = setup.Start();
    CHECK(HttpRequest(
              setup.port, "POST", "/sandbox/messages", R"({"from":"+525512345678","text":"x"})")
              .status == 404);
}

}  // namespace
}  // namespace cobrador::testing

namespace cobrador::testing {
namespace {

// A WhatsApp webhook carrying the debtor's choice of one of our list rows or buttons.
std::string WhatsAppChoice(const std::string& wamid,
                           const std::string& wa_id,
                           const std::string& kind,  // list_reply or button_reply
                           const std::string& id,
                           const std::string& title) {
    json body = json::parse(WhatsAppText(wamid, wa_id, ""));
    json& message = body["entry"][0]["changes"][0]["value"]["messages"][0];
    message.erase("text");
    message["type"] = "interactive";
    message["interactive"] = {{"type", kind}, {kind, {{"id", id}, {"title", title}}}};
    return body.dump();
}

TEST_CASE(
    "WhatsApp: the dialog over the real webhook: verification, menu list, buttons, a "
    "promise in the ledger",
    "[bot][channels][integration]") {
    std::atomic<int> sent{0};
    FakeProvider graph([&](const RecordedRequest&, std::size_t) {
        return GraphAccepted("wamid.OUT" + std::to_string(++sent));
    });
    Setup setup(&graph, nullptr);
    const std::string csv = setup.dir.File("portfolio.csv");
    std::ofstream(csv)
        << "account_id,debtor_name,phone,birth_date,balance,currency,due_date\n"
           "A-1001,María López,+52 55 1234 5678,1985-03-15,12345.67,MXN,2026-10-01\n";
    REQUIRE(RunCobrador({"import", "portfolio", "--db", setup.db, csv}).exit_code == 0);
    setup.env["COBRADOR_TODAY"] = "2026-11-23";
    auto server = setup.Start();
    const std::string wa_id = "5215512345678";

    // (A question in the first message is answered after the check instead of the menu: the
    // dialog's tests hold that; here the menu is what is looked at.)
    REQUIRE(
        PostWhatsApp(setup.port, WhatsAppText("wamid.IN1", wa_id, "hola, buenas tardes")).status ==
        200);
    auto requests = graph.WaitForRequests(1);
    const json greeting = BodyOf(requests[0]);
    const std::string greeting_text = greeting["text"]["body"];
    CHECK(greeting_text.find("Financiera Prueba") != std::string::npos);
    CHECK(greeting_text.find("fecha de nacimiento") != std::string::npos);
    CHECK(greeting_text.find('$') == std::string::npos);

    REQUIRE(
        PostWhatsApp(setup.port, WhatsAppText("wamid.IN2", wa_id, "15 de marzo de 1985")).status ==
        200);
    requests = graph.WaitForRequests(2);
    const json menu = BodyOf(requests[1]);
    CHECK(menu["type"] == "interactive");
    CHECK(menu["interactive"]["type"] == "list");  // five options: a list, not buttons
    CHECK(menu["interactive"]["body"]["text"].get<std::string>().find("Gracias, María") == 0);
    CHECK(menu["interactive"]["action"]["sections"][0]["rows"].size() == 5);

    REQUIRE(PostWhatsApp(setup.port,
                         WhatsAppChoice("wamid.IN3", wa_id, "list_reply", "balance", "Ver saldo"))
                .status == 200);
    requests = graph.WaitForRequests(3);
    CHECK(BodyOf(requests[2])["text"]["body"].get<std::string>().find("$12,345.67") !=
          std::string::npos);

    REQUIRE(PostWhatsApp(setup.port, WhatsAppText("wamid.IN4", wa_id, "te pago 2 mil el viernes"))
                .status == 200);
    requests = graph.WaitForRequests(4);
    const json confirm = BodyOf(requests[3]);
    CHECK(confirm["interactive"]["type"] == "button");
    CHECK(confirm["interactive"]["action"]["buttons"].size() == 2);
    CHECK(confirm["interactive"]["body"]["text"].get<std::string>().find(
              "Pagarías $2,000.00 el viernes, 27 de noviembre de 2026") != std::string::npos);

    REQUIRE(
        PostWhatsApp(setup.port, WhatsAppChoice("wamid.IN5", wa_id, "button_reply", "yes", "Sí"))
            .status == 200);
    graph.WaitForRequests(5);
    setup.WaitFor("SELECT amount_cents || ' ' || due_date || ' ' || status FROM promises",
                  "200000 2026-11-27 open");
    CHECK(setup.Query("SELECT count(*) FROM audit_log WHERE kind IN ('verified', "
                      "'promise_made')") == "2");
    CHECK(setup.Query("SELECT count(*) FROM conversations WHERE verified_at IS NOT NULL") == "1");
    const auto metrics = HttpRequest(setup.port, "GET", "/metrics").body;
    CHECK(metrics.find(R"(cobrador_dialog_turns_total{intent="promise_to_pay"} 1)") !=
          std::string::npos);
    server->Signal(SIGTERM);
    CHECK(server->Wait() == 0);
    CHECK(server->Stderr().find("2 mil") == std::string::npos);  // no message text in logs
}

}  // namespace
}  // namespace cobrador::testing
