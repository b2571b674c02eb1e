// Money through the payment providers, end to end over loopback: Stripe's signed events,
// Mercado Pago's thin notification and the payment fetched from a fake of its API (its real
// paths, headers and JSON), Openpay's Basic credentials. The real binary, a real ledger.

#include <chrono>

#include "dialogs/reference.hpp"

#include "e2e_support.hpp"
#include "support/rsa_key.hpp"

namespace cobrador::testing {
namespace {

using json = nlohmann::json;

constexpr const char* kStripeSecret = "whsec_e2e_stripe_secret";
constexpr const char* kMpSecret = "mp-e2e-webhook-secret";
constexpr const char* kMpToken = "APP_USR-e2e-access-token";
constexpr const char* kDemoClabe = "646180110400000007";  // COBRADOR_CLABE's default

std::int64_t UnixNow() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

HttpResponse PostStripe(std::uint16_t port,
                        const std::string& body,
                        std::int64_t t = UnixNow(),
                        const std::string& secret = kStripeSecret) {
    const std::string signature = "t=" + std::to_string(t) + ",v1=" +
                                  channels::HmacSha256Hex(secret, std::to_string(t) + "." + body);
    return HttpRequest(port,
                       "POST",
                       "/webhooks/payments/stripe",
                       body,
                       {{"Content-Type", "application/json"}, {"Stripe-Signature", signature}});
}

std::string StripeEvent(const std::string& id, const std::string& type, const json& object) {
    return json{{"id", id},
                {"object", "event"},
                {"type", type},
                {"created", UnixNow()},
                {"livemode", false},
                {"data", {{"object", object}}}}
        .dump();
}

std::string Balance(Desk& desk, const std::string& account) {
    return desk.setup.Query("SELECT balance_cents FROM accounts WHERE account_key = '" + account +
                            "'");
}

TEST_CASE("Stripe: signed events applied once per payment, refunds restore, forgeries refused",
          "[bot][payments][providers][integration]") {
    Desk desk;
    desk.setup.env["COBRADOR_STRIPE_WEBHOOK_SECRET"] = kStripeSecret;
    desk.Restart("2026-11-23");
    const std::size_t before = desk.Verify();
    const std::string reference = desk.Reference("A-1001");
    const std::uint16_t port = desk.setup.port;

    const json session = {{"id", "cs_test_1"},
                          {"object", "checkout.session"},
                          {"payment_intent", "pi_test_1"},
                          {"payment_status", "paid"},
                          {"amount_total", 200000},
                          {"currency", "mxn"},
                          {"client_reference_id", reference},
                          {"payment_method_types", {"card"}}};
    const std::string completed = StripeEvent("evt_1", "checkout.session.completed", session);

    // Forged, stale, unsigned: 401 and nothing stored.
    CHECK(PostStripe(port, completed, UnixNow(), "whsec_wrong").status == 401);
    CHECK(PostStripe(port, completed, UnixNow() - 400).status == 401);
    CHECK(HttpRequest(port, "POST", "/webhooks/payments/stripe", completed).status == 401);
    // Verified but not an event: 400, nothing stored.
    CHECK(PostStripe(port, "{\"id\":\"evt_x\"}").status == 400);
    CHECK(desk.setup.Query("SELECT count(*) FROM provider_events") == "0");

    // Paid through Checkout: $2,000.00 off María's balance and a thank-you.
    const auto paid = PostStripe(port, completed);
    REQUIRE(paid.status == 200);
    CHECK(json::parse(paid.body)["payments"][0]["status"] == "applied");
    CHECK(Balance(desk, "A-1001") == "1034567");
    const auto sent = desk.graph.WaitForRequests(before + 1);
    const std::string thanks = json::parse(sent.back().body)["text"]["body"];
    CHECK(thanks.find("$2,000.00") != std::string::npos);

    // The same payment told again by its PaymentIntent, and the first event redelivered: 200,
    // counted once, no second thank-you.
    const json intent = {{"id", "pi_test_1"},
                         {"object", "payment_intent"},
                         {"amount", 200000},
                         {"amount_received", 200000},
                         {"currency", "mxn"},
                         {"metadata", {{"cobrador_reference", reference}}}};
    const auto told = PostStripe(port, StripeEvent("evt_2", "payment_intent.succeeded", intent));
    REQUIRE(told.status == 200);
    CHECK(json::parse(told.body)["payments"][0]["status"] == "duplicate");
    const auto redelivered = PostStripe(port, completed);
    CHECK(redelivered.status == 200);
    CHECK(json::parse(redelivered.body)["result"] == "duplicate");
    CHECK(Balance(desk, "A-1001") == "1034567");
    CHECK(desk.setup.Query("SELECT count(*) FROM payments") == "1");

    // An event we do not act on is acknowledged.
    const auto other =
        PostStripe(port, StripeEvent("evt_3", "customer.created", {{"id", "cus_1"}}));
    CHECK(other.status == 200);
    CHECK(json::parse(other.body)["result"] == "ignored");

    // A refund that arrives before its payment waits, then both count: nothing owed changes.
    const json early_refund = {{"id", "ch_test_2"},
                               {"object", "charge"},
                               {"payment_intent", "pi_test_2"},
                               {"amount", 50000},
                               {"amount_refunded", 50000},
                               {"currency", "mxn"}};
    const auto waiting = PostStripe(port, StripeEvent("evt_4", "charge.refunded", early_refund));
    CHECK(json::parse(waiting.body)["payments"][0]["status"] == "waiting");
    json intent2 = intent;
    intent2["id"] = "pi_test_2";
    intent2["amount"] = 50000;
    intent2["amount_received"] = 50000;
    REQUIRE(PostStripe(port, StripeEvent("evt_5", "payment_intent.succeeded", intent2)).status ==
            200);
    CHECK(Balance(desk, "A-1001") == "1034567");

    // The first payment refunded: the balance is back where it started.
    const json refund = {{"id", "ch_test_1"},
                         {"object", "charge"},
                         {"payment_intent", "pi_test_1"},
                         {"amount", 200000},
                         {"amount_refunded", 200000},
                         {"currency", "mxn"}};
    const auto refunded = PostStripe(port, StripeEvent("evt_6", "charge.refunded", refund));
    REQUIRE(refunded.status == 200);
    CHECK(json::parse(refunded.body)["payments"][0]["status"] == "reversed");
    CHECK(Balance(desk, "A-1001") == "1234567");
    CHECK(PostStripe(port, StripeEvent("evt_7", "charge.refunded", refund)).status == 200);
    CHECK(Balance(desk, "A-1001") == "1234567");
    // Two reversals in all: the early refund of pi_test_2 and this one.
    CHECK(desk.setup.Query("SELECT count(*) FROM audit_log WHERE kind = 'payment_reversed'") ==
          "2");
    std::this_thread::sleep_for(300ms);
    CHECK(desk.graph.Requests().size() == before + 1);  // one thank-you in all

    const auto metrics = HttpRequest(port, "GET", "/metrics").body;
    CHECK(metrics.find(
              R"(cobrador_webhook_rejected_total{channel="payments/stripe",reason="stale"} 1)") !=
          std::string::npos);
    CHECK(
        metrics.find(
            R"(cobrador_webhook_rejected_total{channel="payments/stripe",reason="signature"} 2)") !=
        std::string::npos);
    CHECK(
        metrics.find(R"(cobrador_provider_events_total{provider="stripe",result="duplicate"} 1)") !=
        std::string::npos);
    CHECK(desk.server->Stderr().find(kStripeSecret) == std::string::npos);

    // Providers without settings are off.
    CHECK(HttpRequest(port, "POST", "/webhooks/payments/mercadopago", "{}").status == 404);
    CHECK(HttpRequest(port, "POST", "/webhooks/payments/paypal", "{}").status == 404);
}

HttpResponse PostMercadoPago(std::uint16_t port,
                             const std::string& notification_id,
                             const std::string& payment_id,
                             const std::string& action,
                             const std::string& secret = kMpSecret) {
    const std::string body = json{
        {"id", std::stoll(notification_id)},
        {"live_mode", false},
        {"type", "payment"},
        {"date_created", "2026-11-23T10:04:58.396-04:00"},
        {"user_id", 44444},
        {"api_version", "v1"},
        {"action", action},
        {"data",
         {{"id", payment_id}}}}.dump();
    const std::string request_id = "req-" + notification_id;
    const std::string ts = std::to_string(UnixNow());
    const std::string manifest =
        "id:" + payment_id + ";request-id:" + request_id + ";ts:" + ts + ";";
    return HttpRequest(
        port,
        "POST",
        "/webhooks/payments/mercadopago?data.id=" + payment_id + "&type=payment",
        body,
        {{"Content-Type", "application/json"},
         {"x-request-id", request_id},
         {"x-signature", "ts=" + ts + ",v1=" + channels::HmacSha256Hex(secret, manifest)}});
}

TEST_CASE("Mercado Pago: the payment fetched with the token, off the webhook's path, retried",
          "[bot][payments][providers][integration]") {
    std::atomic<int> refunded{0};
    std::string reference;
    // Mercado Pago's API: down for the first request, then the payment as GET /v1/payments/{id}
    // returns it (decimal pesos).
    const auto answer = [](unsigned status, std::string body) {
        ScriptedAnswer a;
        a.status = status;
        a.body = std::move(body);
        a.headers = {{"Content-Type", "application/json"}};
        return a;
    };
    FakeProvider mp([&](const RecordedRequest& req, std::size_t n) {
        if (n == 0) {
            return answer(503, R"({"message":"unavailable"})");
        }
        if (req.target != "/v1/payments/1319000001" || req.headers.count("authorization") == 0 ||
            req.headers.at("authorization") != std::string("Bearer ") + kMpToken) {
            return answer(401, R"({"message":"invalid token"})");
        }
        json payment = {{"id", 1319000001},
                        {"status", refunded ? "refunded" : "approved"},
                        {"status_detail", "accredited"},
                        {"transaction_amount", json::number_float_t(1500.5)},
                        {"transaction_amount_refunded", refunded ? 1500.5 : 0},
                        {"currency_id", "MXN"},
                        {"external_reference", reference},
                        {"payment_method_id", "oxxo"},
                        {"payment_type_id", "ticket"},
                        {"date_approved", "2026-11-23T10:05:00.000-06:00"}};
        return answer(200, payment.dump());
    });
    Desk desk;
    reference = desk.Reference("A-2002");
    desk.setup.env["COBRADOR_MERCADOPAGO_WEBHOOK_SECRET"] = kMpSecret;
    desk.setup.env["COBRADOR_MERCADOPAGO_ACCESS_TOKEN"] = kMpToken;
    desk.setup.env["COBRADOR_MERCADOPAGO_API_BASE"] = mp.BaseUrl();
    desk.Restart("2026-11-23");
    const std::uint16_t port = desk.setup.port;

    CHECK(PostMercadoPago(port, "1", "1319000001", "payment.created", "wrong").status == 401);
    CHECK(desk.setup.Query("SELECT count(*) FROM provider_events") == "0");

    // Answered at once, before anything is fetched; the API is down, so it is fetched again.
    const auto stored = PostMercadoPago(port, "1", "1319000001", "payment.created");
    REQUIRE(stored.status == 200);
    CHECK(json::parse(stored.body)["result"] == "pending");
    CHECK(PostMercadoPago(port, "1", "1319000001", "payment.created").status == 200);
    const auto fetched = mp.WaitForRequests(2, std::chrono::seconds(30));
    CHECK(fetched[1].method == "GET");
    desk.setup.WaitFor("SELECT status FROM provider_events WHERE event_id = '1'", "done");
    CHECK(Balance(desk, "A-2002") == "0");  // $800.00 owed, $1,500.50 paid
    CHECK(desk.setup.Query("SELECT overpaid_cents FROM payments") == "70050");
    CHECK(desk.setup.Query("SELECT attempts FROM provider_events WHERE event_id = '1'") == "2");

    // Refunded later: a new notification, the payment fetched again, the balance restored.
    refunded = 1;
    REQUIRE(PostMercadoPago(port, "2", "1319000001", "payment.updated").status == 200);
    desk.setup.WaitFor("SELECT status FROM provider_events WHERE event_id = '2'", "done");
    CHECK(Balance(desk, "A-2002") == "80000");
    CHECK(desk.setup.Query("SELECT reversed_cents FROM payments") == "150050");
    CHECK(desk.server->Stderr().find(kMpToken) == std::string::npos);
    const auto metrics = HttpRequest(port, "GET", "/metrics").body;
    CHECK(metrics.find(
              R"(cobrador_provider_fetches_total{provider="mercadopago",result="retry"} 1)") !=
          std::string::npos);
}

TEST_CASE("Openpay: Basic credentials, the verification code, a store payment",
          "[bot][payments][providers][integration]") {
    Desk desk;
    desk.setup.env["COBRADOR_OPENPAY_WEBHOOK_USER"] = "cobrador";
    desk.setup.env["COBRADOR_OPENPAY_WEBHOOK_PASSWORD"] = "op-e2e-password";
    desk.Restart("2026-11-23");
    const std::uint16_t port = desk.setup.port;
    const std::string reference = desk.Reference("A-2002");
    // base64("cobrador:op-e2e-password")
    const std::map<std::string, std::string> auth = {
        {"Authorization", "Basic Y29icmFkb3I6b3AtZTJlLXBhc3N3b3Jk"},
        {"Content-Type", "application/json"}};

    const std::string verification =
        R"({"type":"verification","event_date":"2026-11-23T10:05:00-06:00","verification_code":"3vWQ1x6I","id":"wh1"})";
    CHECK(HttpRequest(port, "POST", "/webhooks/payments/openpay", verification).status == 401);
    CHECK(HttpRequest(port, "POST", "/webhooks/payments/openpay", verification, auth).status ==
          200);
    const std::string charge =
        R"({"type":"charge.succeeded","event_date":"2026-11-23T10:05:00-06:00","transaction":{)"
        R"("id":"trnirkiyobo5qfex55ef","amount":300.25,"currency":"MXN","method":"store",)"
        R"("status":"completed","order_id":")" +
        reference + R"(.1","operation_date":"2026-11-23T10:05:00-06:00"}})";
    const auto paid = HttpRequest(port, "POST", "/webhooks/payments/openpay", charge, auth);
    REQUIRE(paid.status == 200);
    CHECK(json::parse(paid.body)["payments"][0]["status"] == "applied");
    CHECK(Balance(desk, "A-2002") == "49975");
    CHECK(json::parse(HttpRequest(port, "POST", "/webhooks/payments/openpay", charge, auth)
                          .body)["result"] == "duplicate");
    CHECK(Balance(desk, "A-2002") == "49975");
    // The operator finds the code to type into Openpay's dashboard in the log.
    CHECK(desk.server->Stderr().find("3vWQ1x6I") != std::string::npos);
    CHECK(desk.server->Stderr().find("op-e2e-password") == std::string::npos);
}

TEST_CASE("Openpay: with the private key, a charge counts only once the API confirms it",
          "[bot][payments][providers][integration]") {
    std::string reference;
    FakeProvider openpay([&](const RecordedRequest& req, std::size_t) {
        ScriptedAnswer a;
        a.headers = {{"Content-Type", "application/json"}};
        // base64("sk_e2e_openpay:")
        if (req.headers.count("authorization") == 0 ||
            req.headers.at("authorization") != "Basic c2tfZTJlX29wZW5wYXk6") {
            a.status = 401;
            a.body = R"({"error_code":1002})";
            return a;
        }
        const bool real = req.target == "/v1/mzdtln0bmtms6o3kck8f/charges/trreal1";
        // Asked for trswap1, a confused API answers with another completed charge.
        const bool swapped = req.target == "/v1/mzdtln0bmtms6o3kck8f/charges/trswap1";
        a.body = json{{"id",
                       real      ? "trreal1"
                       : swapped ? "trother9"
                                 : "trforged1"},
                      {"amount", json::number_float_t(300.25)},
                      {"currency", "MXN"},
                      {"method", "store"},
                      {"status", real || swapped ? "completed" : "failed"},
                      {"order_id", reference + ".1"},
                      {"operation_date", "2026-11-23T10:05:00-06:00"}}
                     .dump();
        return a;
    });
    Desk desk;
    reference = desk.Reference("A-2002");
    desk.setup.env["COBRADOR_OPENPAY_WEBHOOK_USER"] = "cobrador";
    desk.setup.env["COBRADOR_OPENPAY_WEBHOOK_PASSWORD"] = "op-e2e-password";
    desk.setup.env["COBRADOR_OPENPAY_MERCHANT_ID"] = "mzdtln0bmtms6o3kck8f";
    desk.setup.env["COBRADOR_OPENPAY_PRIVATE_KEY"] = "sk_e2e_openpay";
    desk.setup.env["COBRADOR_OPENPAY_API_BASE"] = openpay.BaseUrl();
    desk.Restart("2026-11-23");
    const std::map<std::string, std::string> auth = {
        {"Authorization", "Basic Y29icmFkb3I6b3AtZTJlLXBhc3N3b3Jk"},
        {"Content-Type", "application/json"}};
    const auto notify = [&](const std::string& id) {
        // What the notification claims is not what counts: it says $800.00.
        const std::string body =
            R"({"type":"charge.succeeded","event_date":"2026-11-23T10:05:00-06:00",)"
            R"("transaction":{"id":")" +
            id +
            R"(","amount":800.00,"currency":"MXN","method":"store","status":"completed",)"
            R"("order_id":")" +
            reference + R"(.1","operation_date":"2026-11-23T10:05:00-06:00"}})";
        const auto answer =
            HttpRequest(desk.setup.port, "POST", "/webhooks/payments/openpay", body, auth);
        REQUIRE(answer.status == 200);
        CHECK(json::parse(answer.body)["result"] == "pending");
    };
    // Someone with the webhook's password but no payment: Openpay says the charge failed.
    notify("trforged1");
    desk.setup.WaitFor(
        "SELECT status FROM provider_events WHERE event_id = 'charge.succeeded:trforged1'", "done");
    CHECK(Balance(desk, "A-2002") == "80000");
    // A real one: the amount Openpay reports ($300.25), not the notification's.
    notify("trreal1");
    desk.setup.WaitFor(
        "SELECT status FROM provider_events WHERE event_id = 'charge.succeeded:trreal1'", "done");
    CHECK(Balance(desk, "A-2002") == "49975");
    // An answer about another charge than the one asked for moves no money; it is tried again.
    notify("trswap1");
    desk.setup.WaitFor(
        "SELECT last_error FROM provider_events "
        "WHERE event_id = 'charge.succeeded:trswap1'",
        "the provider answered about another payment");
    CHECK(Balance(desk, "A-2002") == "49975");
    CHECK(desk.setup.Query("SELECT status FROM provider_events "
                           "WHERE event_id = 'charge.succeeded:trswap1'") == "pending");
    CHECK(desk.server->Stderr().find("sk_e2e_openpay") == std::string::npos);
}

TEST_CASE("Conekta: the digest checked, the order fetched with the key, refunds followed",
          "[bot][payments][providers][integration]") {
    const RsaKey webhook_key;
    std::atomic<int> refunded{0};
    std::string reference;
    FakeProvider conekta([&](const RecordedRequest& req, std::size_t) {
        ScriptedAnswer a;
        a.headers = {{"Content-Type", "application/json"}};
        if (req.target != "/orders/ord_2tUigJ8DgBhbp6w5D" ||
            req.headers.count("authorization") == 0 ||
            req.headers.at("authorization") != "Bearer key_e2e_conekta") {
            a.status = 401;
            a.body = R"({"object":"error","type":"authentication_error"})";
            return a;
        }
        a.body = json{{"id", "ord_2tUigJ8DgBhbp6w5D"},
                      {"object", "order"},
                      {"amount", 30000},
                      {"amount_refunded", refunded ? 30000 : 0},
                      {"currency", "MXN"},
                      {"payment_status", refunded ? "refunded" : "paid"},
                      {"metadata", {{"cobrador_reference", reference}}},
                      {"charges",
                       {{"data",
                         {{{"id", "chr_1"},
                           {"paid_at", 1764000000},
                           {"payment_method", {{"object", "cash_payment"}, {"type", "oxxo"}}}}}}}}}
                     .dump();
        return a;
    });
    Desk desk;
    reference = desk.Reference("A-2002");
    const std::string pem_file = desk.setup.dir.File("conekta-webhook-key.pem");
    std::ofstream(pem_file) << webhook_key.PublicPem();
    desk.setup.env["COBRADOR_CONEKTA_API_KEY"] = "key_e2e_conekta";
    desk.setup.env["COBRADOR_CONEKTA_WEBHOOK_KEY"] = pem_file;
    desk.setup.env["COBRADOR_CONEKTA_API_BASE"] = conekta.BaseUrl();
    desk.Restart("2026-11-23");
    const std::uint16_t port = desk.setup.port;
    const auto post = [&](const std::string& id, const std::string& type, const RsaKey& key) {
        const std::string body =
            json{{"id", id},
                 {"object", "event"},
                 {"type", type},
                 {"created_at", 1764000000},
                 {"livemode", false},
                 {"data", {{"object", {{"id", "ord_2tUigJ8DgBhbp6w5D"}, {"object", "order"}}}}}}
                .dump();
        return HttpRequest(port,
                           "POST",
                           "/webhooks/payments/conekta",
                           body,
                           {{"Content-Type", "application/json"}, {"digest", key.Sign(body)}});
    };
    const RsaKey stranger;
    CHECK(post("evt_1", "order.paid", stranger).status == 401);
    CHECK(desk.setup.Query("SELECT count(*) FROM provider_events") == "0");
    const auto stored = post("evt_1", "order.paid", webhook_key);
    REQUIRE(stored.status == 200);
    CHECK(json::parse(stored.body)["result"] == "pending");
    desk.setup.WaitFor("SELECT status FROM provider_events WHERE event_id = 'evt_1'", "done");
    CHECK(Balance(desk, "A-2002") == "50000");
    CHECK(desk.setup.Query("SELECT method FROM payments") == "oxxo");
    refunded = 1;
    REQUIRE(post("evt_2", "order.refunded", webhook_key).status == 200);
    desk.setup.WaitFor("SELECT status FROM provider_events WHERE event_id = 'evt_2'", "done");
    CHECK(Balance(desk, "A-2002") == "80000");
    CHECK(desk.server->Stderr().find("key_e2e_conekta") == std::string::npos);
}

TEST_CASE("STP: an abono into a debtor's CLABE is kept once, any other CLABE is sent back",
          "[bot][payments][providers][integration]") {
    Desk desk;
    desk.setup.env["COBRADOR_STP_EMPRESA"] = "DEMOFIN";
    desk.setup.env["COBRADOR_STP_CLABE_PREFIX"] = "6461801570";
    desk.setup.env["COBRADOR_STP_WEBHOOK_TOKEN"] = "stp-e2e-token-0123456789abcdef";
    desk.Restart("2026-11-23");
    const std::uint16_t port = desk.setup.port;
    const auto account =
        std::stoll(desk.setup.Query("SELECT id FROM accounts WHERE account_key = 'A-2002'"));
    const std::string clabe = *dialogs::AccountClabe("6461801570", account);
    const auto abono = [&](int id,
                           const std::string& tracking,
                           const std::string& to,
                           const std::string& token = "stp-e2e-token-0123456789abcdef") {
        return HttpRequest(port,
                           "POST",
                           "/webhooks/payments/stp?token=" + token,
                           json{{"id", id},
                                {"fechaOperacion", 20261123},
                                {"institucionOrdenante", 40012},
                                {"institucionBeneficiaria", 90646},
                                {"claveRastreo", tracking},
                                {"monto", json::number_float_t(300.25)},
                                {"nombreOrdenante", "PEDRO RUIZ"},
                                {"cuentaOrdenante", "012180015000000001"},
                                {"cuentaBeneficiario", to},
                                {"conceptoPago", "PAGO"},
                                {"empresa", "DEMOFIN"}}
                               .dump(),
                           {{"Content-Type", "application/json"}});
    };
    // Without the URL's token (anyone who guessed a CLABE): refused, nothing stored.
    CHECK(abono(1, "MBAN01002611230001", clabe, "guess").status == 401);
    CHECK(abono(1, "MBAN01002611230001", clabe, "").status == 401);
    CHECK(desk.setup.Query("SELECT count(*) FROM provider_events") == "0");
    const auto kept = abono(1, "MBAN01002611230001", clabe);
    REQUIRE(kept.status == 200);
    CHECK(json::parse(kept.body) == json{{"mensaje", "confirmar"}});
    CHECK(Balance(desk, "A-2002") == "49975");
    // STP tells it again, under another id: the same transfer, kept once.
    CHECK(json::parse(abono(2, "MBAN01002611230001", clabe).body)["mensaje"] == "confirmar");
    CHECK(Balance(desk, "A-2002") == "49975");
    CHECK(desk.setup.Query("SELECT count(*) FROM payments") == "1");
    // A CLABE of our range that names no account, one with a wrong check digit, and one of
    // another range: sent back, nothing stored.
    std::string typo = clabe;
    typo[12] = typo[12] == '9' ? '8' : '9';
    for (const std::string& to :
         {*dialogs::AccountClabe("6461801570", 99999), typo, std::string("012180015000000001")}) {
        INFO(to);
        const auto returned = abono(3, "MBAN01002611230002", to);
        REQUIRE(returned.status == 200);
        CHECK(json::parse(returned.body) == json{{"mensaje", "devolver"}, {"id", 1}});
    }
    CHECK(desk.setup.Query("SELECT count(*) FROM payments") == "1");
    CHECK(desk.setup.Query("SELECT count(*) FROM provider_events") == "2");
    // Into the creditor's own CLABE (the one the bot hands with a reference): kept, matched by
    // the quoted reference.
    const auto own = HttpRequest(port,
                                 "POST",
                                 "/webhooks/payments/stp?token=stp-e2e-token-0123456789abcdef",
                                 json{{"id", 4},
                                      {"fechaOperacion", 20261123},
                                      {"institucionOrdenante", 40012},
                                      {"claveRastreo", "MBAN01002611230003"},
                                      {"monto", 100},
                                      {"cuentaBeneficiario", kDemoClabe},
                                      {"referenciaNumerica", std::stoll(desk.Reference("A-2002"))}}
                                     .dump(),
                                 {{"Content-Type", "application/json"}});
    CHECK(json::parse(own.body)["mensaje"] == "confirmar");
    CHECK(Balance(desk, "A-2002") == "39975");
    CHECK(HttpRequest(port,
                      "POST",
                      "/webhooks/payments/stp?token=stp-e2e-token-0123456789abcdef",
                      "{\"id\":1}")
              .status == 400);
}

}  // namespace
}  // namespace cobrador::testing
