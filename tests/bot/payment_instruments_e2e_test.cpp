// Payment instruments end to end over loopback: the debtor asks how to pay, the bot answers at
// once with the CLABE and reference, the provider's page or store reference is created by a
// fake of its API (its real paths, authentication and body shapes) and sent as soon as it
// exists, and paying it settles the account. A provider that is down delays the link and never
// shows up as an error to the debtor. The real binary, a real ledger.

#include <chrono>

#include "channels/signature.hpp"

#include "e2e_support.hpp"

namespace cobrador::testing {
namespace {

using json = nlohmann::json;

constexpr const char* kStripeKey = "sk_test_e2e_instrument_key";
constexpr const char* kStripeSecret = "whsec_e2e_instruments";

std::int64_t UnixNow() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

ScriptedAnswer Json(unsigned status, const json& body) {
    ScriptedAnswer a;
    a.status = status;
    a.body = body.dump();
    a.headers = {{"Content-Type", "application/json"}};
    return a;
}

std::string Header(const RecordedRequest& req, const std::string& name) {
    const auto it = req.headers.find(name);
    return it == req.headers.end() ? std::string() : it->second;
}

// The text of the n-th message (0-based) the Graph API received.
std::string SentText(Desk& desk, std::size_t n) {
    const auto sent = desk.graph.WaitForRequests(n + 1, std::chrono::seconds(40));
    REQUIRE(sent.size() > n);
    return json::parse(sent[n].body)["text"]["body"].get<std::string>();
}

bool Has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

TEST_CASE(
    "Stripe: the debtor asks how to pay, the Checkout link follows once Stripe is up, "
    "paying it settles the account",
    "[bot][payments][instruments][integration]") {
    std::string reference;
    FakeProvider stripe([&](const RecordedRequest& req, std::size_t n) {
        if (n == 0) {
            return Json(503, {{"error", {{"message", "temporarily unavailable"}}}});
        }
        // base64("sk_test_e2e_instrument_key:")
        if (req.method != "POST" || req.target != "/v1/checkout/sessions" ||
            Header(req, "authorization") != "Basic c2tfdGVzdF9lMmVfaW5zdHJ1bWVudF9rZXk6") {
            return Json(401, {{"error", {{"type", "invalid_request_error"}}}});
        }
        return Json(200,
                    {{"id", "cs_test_a1"},
                     {"object", "checkout.session"},
                     {"url", "https://checkout.stripe.com/c/pay/cs_test_a1"},
                     {"client_reference_id", reference},
                     {"expires_at", UnixNow() + 23 * 3600},
                     {"status", "open"}});
    });
    Desk desk;
    reference = desk.Reference("A-1001");
    desk.setup.env["COBRADOR_PAYMENTS_PROVIDER"] = "stripe";
    desk.setup.env["COBRADOR_STRIPE_SECRET_KEY"] = kStripeKey;
    desk.setup.env["COBRADOR_STRIPE_WEBHOOK_SECRET"] = kStripeSecret;
    desk.setup.env["COBRADOR_STRIPE_API_BASE"] = stripe.BaseUrl();
    desk.Restart("2026-11-23");
    const std::size_t before = desk.Verify();

    // At once: the CLABE and the reference, and the word that the link follows. Stripe is down.
    desk.Say("como pago");
    const std::string answer = SentText(desk, before);
    CHECK(Has(answer, reference));
    CHECK(Has(answer, "en un momento te envío tu enlace"));
    CHECK_FALSE(Has(answer, "pagos.example.com"));

    // Tried again 5 s later with the same idempotency key; the link goes to María.
    const auto calls = stripe.WaitForRequests(2, std::chrono::seconds(30));
    REQUIRE(calls.size() >= 2);
    CHECK(Header(calls[0], "idempotency-key") == Header(calls[1], "idempotency-key"));
    CHECK_FALSE(Header(calls[1], "idempotency-key").empty());
    CHECK(Header(calls[1], "content-type") == "application/x-www-form-urlencoded");
    const std::string& form = calls[1].body;
    CHECK(Has(form, "mode=payment"));
    CHECK(Has(form, "line_items%5B0%5D%5Bprice_data%5D%5Bunit_amount%5D=1234567"));
    CHECK(Has(form, "line_items%5B0%5D%5Bprice_data%5D%5Bcurrency%5D=mxn"));
    CHECK(Has(form, "client_reference_id=" + reference));
    CHECK(Has(form, "payment_intent_data%5Bmetadata%5D%5Bcobrador_reference%5D=" + reference));
    CHECK(Has(form, "payment_method_types%5B1%5D=oxxo"));
    const std::string link = SentText(desk, before + 1);
    CHECK(Has(link, "https://checkout.stripe.com/c/pay/cs_test_a1"));
    CHECK(Has(link, "$12,345.67"));
    CHECK(Has(link, "A-1001"));
    CHECK(desk.setup.Query("SELECT status || ' ' || attempts || ' ' || provider_id FROM "
                           "payment_instruments") == "ready 2 cs_test_a1");

    // Asked again: the same page, at once, and Stripe is not asked for another.
    desk.Say("como pago");
    CHECK(Has(SentText(desk, before + 2), "https://checkout.stripe.com/c/pay/cs_test_a1"));
    CHECK(stripe.Requests().size() == 2);

    // María pays on the page: Stripe's signed event settles the account and she is thanked.
    const std::string event = json{{"id", "evt_paid_1"},
                                   {"object", "event"},
                                   {"type", "checkout.session.completed"},
                                   {"created", UnixNow()},
                                   {"data",
                                    {{"object",
                                      {{"id", "cs_test_a1"},
                                       {"object", "checkout.session"},
                                       {"payment_intent", "pi_test_a1"},
                                       {"payment_status", "paid"},
                                       {"amount_total", 1234567},
                                       {"currency", "mxn"},
                                       {"client_reference_id", reference},
                                       {"payment_method_types", {"card", "oxxo"}}}}}}}
                                  .dump();
    const std::string t = std::to_string(UnixNow());
    const auto paid = HttpRequest(
        desk.setup.port,
        "POST",
        "/webhooks/payments/stripe",
        event,
        {{"Content-Type", "application/json"},
         {"Stripe-Signature",
          "t=" + t + ",v1=" + channels::HmacSha256Hex(kStripeSecret, t + "." + event)}});
    REQUIRE(paid.status == 200);
    CHECK(desk.setup.Query("SELECT balance_cents FROM accounts WHERE account_key = 'A-1001'") ==
          "0");
    CHECK(Has(SentText(desk, before + 3), "$12,345.67"));

    // The page sends her back to a page of ours that points to the chat.
    const auto done = HttpRequest(desk.setup.port, "GET", "/payments/done", "");
    CHECK(done.status == 200);
    CHECK(Has(done.body, "Gracias"));
    // The secret key never reaches the log.
    CHECK_FALSE(Has(desk.server->Stderr(), kStripeKey));
    const auto metrics = HttpRequest(desk.setup.port, "GET", "/metrics").body;
    CHECK(Has(metrics, R"(cobrador_instruments_total{provider="stripe",result="retry"} 1)"));
    CHECK(Has(metrics, R"(cobrador_instruments_total{provider="stripe",result="created"} 1)"));
}

TEST_CASE("Mercado Pago: a preference with our reference, paid and fetched",
          "[bot][payments][instruments][integration]") {
    std::string reference;
    std::atomic<bool> approved{false};
    FakeProvider mp([&](const RecordedRequest& req, std::size_t) {
        if (Header(req, "authorization") != "Bearer APP_USR-e2e-token") {
            return Json(401, {{"message", "invalid token"}});
        }
        if (req.method == "POST" && req.target == "/checkout/preferences") {
            const json body = json::parse(req.body);
            if (body["external_reference"] != reference ||
                body["items"][0]["currency_id"] != "MXN") {
                return Json(400, {{"message", "bad preference"}});
            }
            return Json(201,
                        {{"id", "202809963-920c288b-4ebb-40be-966f-700250fa5370"},
                         {"init_point",
                          "https://www.mercadopago.com.mx/checkout/v1/"
                          "redirect?pref_id=202809963-920c288b"},
                         {"external_reference", reference},
                         {"expiration_date_to", "2026-12-31T23:59:59.000-06:00"}});
        }
        if (req.method == "GET" && req.target == "/v1/payments/1320000001" && approved) {
            return Json(200,
                        {{"id", 1320000001},
                         {"status", "approved"},
                         {"transaction_amount", json::number_float_t(12345.67)},
                         {"currency_id", "MXN"},
                         {"external_reference", reference},
                         {"payment_method_id", "oxxo"},
                         {"date_approved", "2026-11-23T10:05:00.000-06:00"}});
        }
        return Json(404, {{"message", "not found"}});
    });
    Desk desk;
    reference = desk.Reference("A-1001");
    desk.setup.env["COBRADOR_PAYMENTS_PROVIDER"] = "mercadopago";
    desk.setup.env["COBRADOR_MERCADOPAGO_ACCESS_TOKEN"] = "APP_USR-e2e-token";
    desk.setup.env["COBRADOR_MERCADOPAGO_WEBHOOK_SECRET"] = "mp-e2e-secret";
    desk.setup.env["COBRADOR_MERCADOPAGO_API_BASE"] = mp.BaseUrl();
    desk.Restart("2026-11-23");
    const std::size_t before = desk.Verify();
    desk.Say("como pago");
    CHECK(Has(SentText(desk, before), reference));
    const std::string link = SentText(desk, before + 1);
    CHECK(Has(link, "https://www.mercadopago.com.mx/checkout/v1/redirect?pref_id=202809963"));
    const auto created = mp.Requests();
    REQUIRE_FALSE(created.empty());
    // The amount goes out exactly, as decimal pesos.
    CHECK(Has(created[0].body, "\"unit_price\":12345.67"));
    CHECK_FALSE(Header(created[0], "x-idempotency-key").empty());

    // A promise gets a page of its own, for the promised amount.
    desk.Say("te pago mil el viernes");
    desk.Say("si");
    CHECK(Has(SentText(desk, before + 3), "En un momento te envío tu enlace para pagar $1,000.00"));
    CHECK(Has(SentText(desk, before + 4), "por $1,000.00"));
    REQUIRE(mp.Requests().size() == 2);
    CHECK(Has(mp.Requests()[1].body, "\"unit_price\":1000.00}"));

    // Paid: the signed notification, the payment fetched, the account settled.
    approved = true;
    const std::string ts = std::to_string(UnixNow());
    const std::string manifest = "id:1320000001;request-id:req-1;ts:" + ts + ";";
    const auto told = HttpRequest(
        desk.setup.port,
        "POST",
        "/webhooks/payments/mercadopago?data.id=1320000001&type=payment",
        R"({"action":"payment.created","type":"payment","data":{"id":"1320000001"},"id":"9001"})",
        {{"Content-Type", "application/json"},
         {"x-request-id", "req-1"},
         {"x-signature",
          "ts=" + ts + ",v1=" + channels::HmacSha256Hex("mp-e2e-secret", manifest)}});
    REQUIRE(told.status == 200);
    desk.setup.WaitFor("SELECT balance_cents FROM accounts WHERE account_key = 'A-1001'", "0");
}

TEST_CASE("Openpay and Conekta: a store reference and a payment link, as each API answers",
          "[bot][payments][instruments][integration]") {
    SECTION("Openpay's store charge: the reference to give at the till") {
        std::string reference;
        FakeProvider openpay([&](const RecordedRequest& req, std::size_t) {
            // base64("sk_e2e_openpay:")
            if (req.method != "POST" || req.target != "/v1/mzdtln0bmtms6o3kck8f/charges" ||
                Header(req, "authorization") != "Basic c2tfZTJlX29wZW5wYXk6") {
                return Json(401, {{"error_code", 1002}});
            }
            const json body = json::parse(req.body);
            if (body["method"] != "store" || body["amount"].dump() != "12345.67" ||
                body["order_id"].get<std::string>().rfind(reference + ".", 0) != 0) {
                return Json(400, {{"error_code", 1001}});
            }
            return Json(200,
                        {{"id", "trzjaozcik8msyqshka4"},
                         {"method", "store"},
                         {"status", "in_progress"},
                         {"due_date", "2026-11-26T23:59:59-06:00"},
                         {"payment_method",
                          {{"type", "store"},
                           {"reference", "000020TRNIRKIYOBO5QFEX55EF0100009"},
                           {"barcode_url",
                            "https://sandbox-api.openpay.mx/barcode/"
                            "000020TRNIRKIYOBO5QFEX55EF0100009?width=1&height=45&text=false"}}}});
        });
        Desk desk;
        reference = desk.Reference("A-1001");
        desk.setup.env["COBRADOR_PAYMENTS_PROVIDER"] = "openpay";
        desk.setup.env["COBRADOR_OPENPAY_MERCHANT_ID"] = "mzdtln0bmtms6o3kck8f";
        desk.setup.env["COBRADOR_OPENPAY_PRIVATE_KEY"] = "sk_e2e_openpay";
        desk.setup.env["COBRADOR_OPENPAY_API_BASE"] = openpay.BaseUrl();
        desk.Restart("2026-11-23");
        const std::size_t before = desk.Verify();
        desk.Say("como pago");
        SentText(desk, before);
        const std::string cash = SentText(desk, before + 1);
        CHECK(Has(cash, "000020TRNIRKIYOBO5QFEX55EF0100009"));
        CHECK(Has(cash, "26 de noviembre de 2026"));
        // Asked again: the reference is in the answer itself.
        desk.Say("como pago");
        const std::string again = SentText(desk, before + 2);
        CHECK(Has(again, "000020TRNIRKIYOBO5QFEX55EF0100009"));
        CHECK(Has(again, reference));
        CHECK(openpay.Requests().size() == 1);
    }
    SECTION("Conekta's payment link: the order template carries our reference") {
        std::string reference;
        FakeProvider conekta([&](const RecordedRequest& req, std::size_t) {
            if (req.method != "POST" || req.target != "/checkouts" ||
                Header(req, "authorization") != "Bearer key_e2e_conekta" ||
                Header(req, "accept").find("application/vnd.conekta") != 0) {
                return Json(401, {{"object", "error"}});
            }
            const json body = json::parse(req.body);
            const json& order = body["order_template"];
            if (body["type"] != "PaymentLink" || order["line_items"][0]["unit_price"] != 1234567 ||
                order["metadata"]["cobrador_reference"] != reference) {
                return Json(422, {{"object", "error"}});
            }
            return Json(200,
                        {{"id", "6f2a9b1c-1d4e-4b8a-9c3d-2e1f0a9b8c7d"},
                         {"object", "checkout"},
                         {"type", "PaymentLink"},
                         {"status", "Issued"},
                         {"url", "https://pay.conekta.com/link/b0bf16c4ddd24d4b8b3c1b9f"},
                         {"expires_at", UnixNow() + 3 * 86400}});
        });
        Desk desk;
        reference = desk.Reference("A-1001");
        desk.setup.env["COBRADOR_PAYMENTS_PROVIDER"] = "conekta";
        desk.setup.env["COBRADOR_CONEKTA_API_KEY"] = "key_e2e_conekta";
        desk.setup.env["COBRADOR_CONEKTA_API_BASE"] = conekta.BaseUrl();
        desk.Restart("2026-11-23");
        const std::size_t before = desk.Verify();
        desk.Say("como pago");
        SentText(desk, before);
        CHECK(Has(SentText(desk, before + 1),
                  "https://pay.conekta.com/link/b0bf16c4ddd24d4b8b3c1b9f"));
    }
}

TEST_CASE("Instruments: a provider without its API key stops the server at start",
          "[bot][payments][instruments][integration]") {
    Desk desk;
    desk.setup.env["COBRADOR_PAYMENTS_PROVIDER"] = "stripe";
    const auto run = RunCobrador({"serve"}, desk.setup.env);
    CHECK(run.exit_code != 0);
    INFO(run.err);
    CHECK(Has(run.err, "COBRADOR_STRIPE_SECRET_KEY"));
}

}  // namespace
}  // namespace cobrador::testing
