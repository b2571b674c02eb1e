// Creating payment instruments: each provider's request as its API documents it
// (payments-providers.md §1.6, §2.5, §3.5, §4.5), amounts exact in its unit, our reference
// where its notifications echo it back; and what is refused in an answer.

#include "channels/payment_instruments.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace cobrador::channels {
namespace {

using json = nlohmann::json;

constexpr std::int64_t kNow = 1764000000;  // 2025-11-24T16:00:00Z

InstrumentOrder Order() {
    InstrumentOrder o;
    o.instrument_id = 42;
    o.reference = "00421769";
    o.account_key = "A-1001";
    o.amount_cents = 1234505;  // $12,345.05: a float would be tempted to write 12345.049999
    o.company = "Demo Financiera";
    o.debtor_name = "María López";
    o.email = "maria@example.mx";
    o.phone = "+525512345678";
    o.now_unix = kNow;
    return o;
}

InstrumentApi Api(const std::string& provider) {
    return {provider,
            "https://api.example.test/",
            "secret_key_1",
            "mzdtln0bmtms6o3kck8f",
            "https://cobrador.example.mx/payments/done"};
}

std::string Header(const HttpCall& call, const std::string& name) {
    for (const auto& [k, v] : call.headers) {
        if (k == name) {
            return v;
        }
    }
    return {};
}

bool Has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

TEST_CASE("Instruments: Stripe's Checkout Session, form-encoded with the key as Basic user",
          "[channels][payments][instruments]") {
    const auto call = CreateInstrumentCall(Api("stripe"), Order());
    REQUIRE(call);
    CHECK(call->method == "POST");
    CHECK(call->url == "https://api.example.test/v1/checkout/sessions");
    CHECK(Header(*call, "Authorization") == "Basic c2VjcmV0X2tleV8xOg==");  // "secret_key_1:"
    CHECK(Header(*call, "Idempotency-Key") == "cobrador-instrument-42");
    CHECK(Header(*call, "Content-Type") == "application/x-www-form-urlencoded");
    const std::string& b = call->body;
    CHECK(Has(b, "mode=payment"));
    CHECK(Has(b, "line_items%5B0%5D%5Bprice_data%5D%5Bunit_amount%5D=1234505&"));
    CHECK(Has(b, "line_items%5B0%5D%5Bprice_data%5D%5Bcurrency%5D=mxn"));
    CHECK(Has(b, "payment_method_types%5B0%5D=card&payment_method_types%5B1%5D=oxxo"));
    CHECK(Has(b, "client_reference_id=00421769"));
    CHECK(Has(b, "metadata%5Bcobrador_reference%5D=00421769"));
    CHECK(Has(b, "payment_intent_data%5Bmetadata%5D%5Bcobrador_reference%5D=00421769"));
    CHECK(Has(b, "expires_at=" + std::to_string(kNow + 23 * 3600)));
    CHECK(Has(b, "customer_email=maria%40example.mx"));
    CHECK(Has(b, "success_url=https%3A%2F%2Fcobrador.example.mx%2Fpayments%2Fdone"));
    // The item's name in UTF-8, escaped.
    CHECK(Has(b, "Cuenta+A-1001+%C2%B7+Demo+Financiera"));
}

TEST_CASE("Instruments: Mercado Pago's preference, decimal pesos written exactly",
          "[channels][payments][instruments]") {
    const auto call = CreateInstrumentCall(Api("mercadopago"), Order());
    REQUIRE(call);
    CHECK(call->url == "https://api.example.test/checkout/preferences");
    CHECK(Header(*call, "Authorization") == "Bearer secret_key_1");
    CHECK(Header(*call, "X-Idempotency-Key") == "cobrador-instrument-42");
    CHECK(Has(call->body, "\"unit_price\":12345.05}"));
    const json body = json::parse(call->body);
    CHECK(body["external_reference"] == "00421769");
    CHECK(body["items"][0]["currency_id"] == "MXN");
    CHECK(body["items"][0]["quantity"] == 1);
    CHECK(body["expires"] == true);
    CHECK(body["expiration_date_from"] == "2025-11-24T16:00:00Z");
    CHECK(body["expiration_date_to"] == "2025-11-27T16:00:00Z");
    CHECK(body["payer"]["email"] == "maria@example.mx");
}

TEST_CASE("Instruments: Conekta's payment link, centavos, our reference in the order's metadata",
          "[channels][payments][instruments]") {
    const auto call = CreateInstrumentCall(Api("conekta"), Order());
    REQUIRE(call);
    CHECK(call->url == "https://api.example.test/checkouts");
    CHECK(Header(*call, "Authorization") == "Bearer secret_key_1");
    CHECK(Has(Header(*call, "Accept"), "application/vnd.conekta-v2"));
    const json body = json::parse(call->body);
    CHECK(body["type"] == "PaymentLink");
    CHECK(body["recurrent"] == false);
    CHECK(body["expires_at"] == kNow + 3 * 86400);
    CHECK(body["order_template"]["currency"] == "MXN");
    CHECK(body["order_template"]["line_items"][0]["unit_price"] == 1234505);
    CHECK(body["order_template"]["metadata"]["cobrador_reference"] == "00421769");
    CHECK(body["order_template"]["customer_info"]["phone"] == "+525512345678");
    // Without an e-mail the customer is left for the page to ask.
    InstrumentOrder no_email = Order();
    no_email.email.clear();
    const json bare = json::parse(CreateInstrumentCall(Api("conekta"), no_email)->body);
    CHECK_FALSE(bare["order_template"].contains("customer_info"));
}

TEST_CASE("Instruments: Openpay's store charge, its order id read back to our reference",
          "[channels][payments][instruments]") {
    const auto call = CreateInstrumentCall(Api("openpay"), Order());
    REQUIRE(call);
    CHECK(call->url == "https://api.example.test/v1/mzdtln0bmtms6o3kck8f/charges");
    CHECK(Header(*call, "Authorization") == "Basic c2VjcmV0X2tleV8xOg==");
    CHECK(Has(call->body, "\"amount\":12345.05,"));
    const json body = json::parse(call->body);
    CHECK(body["method"] == "store");
    CHECK(body["order_id"] == "00421769.42");
    CHECK(body["due_date"] == "2025-11-27T16:00:00Z");
    CHECK(body["customer"]["name"] == "María López");
}

TEST_CASE("Instruments: STP and unknown providers create nothing here",
          "[channels][payments][instruments]") {
    CHECK_FALSE(CreateInstrumentCall(Api("stp"), Order()));
    CHECK_FALSE(CreateInstrumentCall(Api("paypal"), Order()));
    CHECK_FALSE(CreatesInstruments("stp"));
    CHECK(CreatesInstruments("stripe"));
}

TEST_CASE("Instruments: answers read, and what a debtor must never be handed is refused",
          "[channels][payments][instruments]") {
    std::string why;
    const auto stripe = ParseCreatedInstrument(
        "stripe",
        R"({"id":"cs_test_a1","object":"checkout.session","url":"https://checkout.stripe.com/c/pay/cs_test_a1","expires_at":1764082800})",
        kNow,
        why);
    REQUIRE(stripe);
    CHECK(stripe->kind == "page");
    CHECK(stripe->provider_id == "cs_test_a1");
    CHECK(stripe->expires_at == "2025-11-25T15:00:00Z");

    const auto mp = ParseCreatedInstrument(
        "mercadopago",
        R"({"id":"202809963-920c288b","init_point":"https://www.mercadopago.com.mx/checkout/v1/redirect?pref_id=202809963-920c288b","expiration_date_to":"2025-11-27T10:00:00.000-06:00"})",
        kNow,
        why);
    REQUIRE(mp);
    CHECK(mp->expires_at == "2025-11-27T16:00:00Z");

    const auto openpay = ParseCreatedInstrument(
        "openpay",
        R"({"id":"trzjaozcik8msyqshka4","status":"in_progress","due_date":"2025-11-27T23:59:59-06:00","payment_method":{"type":"store","reference":"000020TRNIRKIYOBO5QFEX55EF0100009","barcode_url":"https://sandbox-api.openpay.mx/barcode/000020TRNIRKIYOBO5QFEX55EF0100009?width=1&height=45&text=false"}})",
        kNow,
        why);
    REQUIRE(openpay);
    CHECK(openpay->kind == "cash");
    CHECK(openpay->reference == "000020TRNIRKIYOBO5QFEX55EF0100009");
    CHECK(openpay->expires_at == "2025-11-28T05:59:59Z");

    // No id, a page that is not https, a script, a store reference with odd characters, not
    // JSON at all: refused with a reason.
    for (const auto& [provider, body] : std::vector<std::pair<std::string, std::string>>{
             {"stripe", R"({"url":"https://checkout.stripe.com/c/pay/x"})"},
             {"stripe", R"({"id":"cs_1","url":"http://checkout.stripe.com/c/pay/x"})"},
             {"stripe", R"j({"id":"cs_1","url":"javascript:alert(1)"})j"},
             {"stripe", R"({"id":"cs_1","url":"https://a b"})"},
             {"conekta", R"({"id":"x","url":null})"},
             {"mercadopago", R"({"id":"x","sandbox_init_point":"https://sandbox.mp/x"})"},
             {"openpay",
              R"({"id":"tr1","payment_method":{"reference":"12 34","barcode_url":"https://x/y"}})"},
             {"openpay", R"({"id":"tr1","payment_method":{"reference":"1234"}})"},
             {"stripe", "not json"},
             {"stripe", "[1,2]"},
             {"stp", R"({"id":"x"})"}}) {
        why.clear();
        INFO(provider << " " << body);
        CHECK_FALSE(ParseCreatedInstrument(provider, body, kNow, why));
        CHECK_FALSE(why.empty());
    }
    // An expiry in the past or absent: the one asked for.
    const auto stale = ParseCreatedInstrument(
        "conekta",
        R"({"id":"x","url":"https://pay.conekta.com/link/x","expires_at":5})",
        kNow,
        why);
    REQUIRE(stale);
    CHECK(stale->expires_at == "2025-11-27T16:00:00Z");
}

}  // namespace
}  // namespace cobrador::channels
