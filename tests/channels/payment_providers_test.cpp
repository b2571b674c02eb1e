// The providers' notifications, against the published and computed vectors of
// ../shared/domain/payments-providers.md and the negative cases of the providers' own SDK
// tests: what is refused, and what each accepted event says about money.

#include "channels/payment_providers.hpp"

#include <catch2/catch.hpp>

#include "channels/signature.hpp"

#include "support/rsa_key.hpp"

namespace cobrador::channels {
namespace {

using Kind = store::ProviderReport::Kind;

constexpr const char* kStripeSecret = "whsec_test_secret";

std::string StripeHeader(const std::string& body,
                         std::int64_t t,
                         const char* secret = kStripeSecret) {
    return "t=" + std::to_string(t) +
           ",v1=" + HmacSha256Hex(secret, std::to_string(t) + "." + body);
}

std::string StripeEvent(const std::string& type, const std::string& object) {
    return R"({"id":"evt_1","object":"event","type":")" + type +
           R"(","created":1764000000,"data":{"object":)" + object + "}}";
}

TEST_CASE("Stripe: the signature vectors of the facts file", "[payments][stripe]") {
    // S1: the body is not an event we can read, so it is verified and then refused as such.
    const std::string s1 = R"({"id":"evt_test_webhook","object":"event"})";
    const std::string h1 =
        "t=1492774577,v1=88a022085c6bdb887b02cb26ff76dd681234d9675c0f22844059f55552a8883a";
    const Verdict v1 = ParseStripe(s1, h1, kStripeSecret, 1492774577);
    REQUIRE(v1.refusal);
    CHECK(*v1.refusal == Refusal::kMalformed);  // past the signature: the signature matched
    CHECK(*ParseStripe(s1, h1, "whsec_other", 1492774577).refusal == Refusal::kBadSignature);

    // S2: stripe-python's DUMMY_WEBHOOK_PAYLOAD, a terminal.reader event: acknowledged, no money.
    const std::string s2 =
        "{\n  \"id\": \"evt_test_webhook\",\n  \"object\": \"event\",\n  \"data\": { \"object\": "
        "{ \"id\": \"rdr_123\", \"object\": \"terminal.reader\" } }\n}";
    const std::string h2 =
        "t=12345,v1=07b1ede164afb7b5de91267ffa656f568c65d6e0783ce0ac55ee094643578eda";
    const Verdict v2 = ParseStripe(s2, h2, kStripeSecret, 12345);
    // It has no type: verified, then refused as unreadable (never as a bad signature).
    REQUIRE(v2.refusal);
    CHECK(*v2.refusal == Refusal::kMalformed);
}

TEST_CASE("Stripe: the SDKs' negative cases", "[payments][stripe]") {
    const std::string body = StripeEvent("customer.created", R"({"id":"cus_1"})");
    const std::int64_t t = 1764000000;
    const std::string good = StripeHeader(body, t);
    CHECK(ParseStripe(body, good, kStripeSecret, t).ok());
    // Signed, but a NUL byte and more after the event: not one JSON value, so not an event.
    std::string nul_then_more = body;
    nul_then_more += '\0';
    nul_then_more += "}";
    const Verdict trailing =
        ParseStripe(nul_then_more, StripeHeader(nul_then_more, t), kStripeSecret, t);
    REQUIRE(trailing.refusal);
    CHECK(*trailing.refusal == Refusal::kMalformed);
    // A bad v1 next to a good one still passes (secret rotation).
    CHECK(ParseStripe(body, good + ",v1=bad_signature", kStripeSecret, t).ok());
    CHECK(ParseStripe(body, "t=1764000000,v1=bad_signature," + good.substr(13), kStripeSecret, t)
              .ok());
    // No t; only a v0; an empty header; a wrong secret; a body changed by one byte.
    const std::string v1 = good.substr(good.find("v1="));
    CHECK(*ParseStripe(body, v1, kStripeSecret, t).refusal == Refusal::kBadSignature);
    CHECK(*ParseStripe(body, "t=1764000000,v0=" + v1.substr(3), kStripeSecret, t).refusal ==
          Refusal::kBadSignature);
    CHECK(*ParseStripe(body, "", kStripeSecret, t).refusal == Refusal::kBadSignature);
    CHECK(*ParseStripe(body, good, "whsec_other", t).refusal == Refusal::kBadSignature);
    CHECK(*ParseStripe(body + " ", good, kStripeSecret, t).refusal == Refusal::kBadSignature);
    CHECK(*ParseStripe(body, good, "", t).refusal == Refusal::kBadSignature);
    // Older than 300 s is stale; exactly 300 s and a clock behind are not.
    CHECK(*ParseStripe(body, good, kStripeSecret, t + 301).refusal == Refusal::kStale);
    CHECK(ParseStripe(body, good, kStripeSecret, t + 300).ok());
    CHECK(ParseStripe(body, good, kStripeSecret, t - 60).ok());
    // A created time from another century (the fuzzer's find): the signature's time instead.
    const std::string future =
        R"({"id":"evt_1","type":"payment_intent.succeeded","created":11252426823,"data":{)"
        R"("object":{"id":"pi_1","amount_received":150050,"currency":"mxn"}}})";
    const Verdict later = ParseStripe(future, StripeHeader(future, t), kStripeSecret, t);
    REQUIRE(later.ok());
    CHECK(later.event.reports.at(0).paid_at == "2025-11-24T16:00:00Z");
    // Unknown events are acknowledged with nothing to apply.
    const Verdict unknown = ParseStripe(body, good, kStripeSecret, t);
    CHECK(unknown.event.event_id == "evt_1");
    CHECK(unknown.event.type == "customer.created");
    CHECK(unknown.event.reports.empty());
}

Verdict Signed(const std::string& body) {
    return ParseStripe(body, StripeHeader(body, 1764000000), kStripeSecret, 1764000000);
}

TEST_CASE("Stripe: money in and money back, in centavos", "[payments][stripe]") {
    const Verdict paid = Signed(StripeEvent(
        "payment_intent.succeeded",
        R"({"id":"pi_1","object":"payment_intent","amount":150050,"amount_received":150050,)"
        R"("currency":"mxn","payment_method_types":["oxxo"],"metadata":{"cobrador_reference":"0000018"}})"));
    REQUIRE(paid.ok());
    REQUIRE(paid.event.reports.size() == 1);
    const store::ProviderReport& r = paid.event.reports[0];
    CHECK(r.kind == Kind::kReceived);
    CHECK(r.provider == "stripe");
    CHECK(r.payment == "pi_1");
    CHECK(r.total_cents == 150050);
    CHECK(r.currency == "MXN");
    CHECK(r.reference == "0000018");
    CHECK(r.method == "oxxo");
    CHECK(r.paid_at == "2025-11-24T16:00:00Z");

    // A bank transfer funded in part: what arrived so far.
    const Verdict part = Signed(StripeEvent(
        "payment_intent.partially_funded",
        R"({"id":"pi_2","amount":100000,"amount_received":40000,"currency":"mxn","metadata":{}})"));
    REQUIRE(part.event.reports.size() == 1);
    CHECK(part.event.reports[0].total_cents == 40000);
    CHECK(part.event.reports[0].reference.empty());  // nothing attached: suspense later

    // Checkout: keyed by its PaymentIntent, so both events name one payment; an OXXO session
    // still unpaid at completion says nothing yet.
    const Verdict session = Signed(StripeEvent(
        "checkout.session.completed",
        R"({"id":"cs_1","payment_intent":"pi_3","payment_status":"paid","amount_total":5000,)"
        R"("currency":"mxn","client_reference_id":"0000026"})"));
    REQUIRE(session.event.reports.size() == 1);
    CHECK(session.event.reports[0].payment == "pi_3");
    CHECK(session.event.reports[0].reference == "0000026");
    const Verdict voucher = Signed(StripeEvent(
        "checkout.session.completed",
        R"({"id":"cs_2","payment_intent":"pi_4","payment_status":"unpaid","amount_total":5000,"currency":"mxn"})"));
    CHECK(voucher.ok());
    CHECK(voucher.event.reports.empty());

    const Verdict refund = Signed(StripeEvent(
        "charge.refunded",
        R"({"id":"ch_1","payment_intent":"pi_1","amount":150050,"amount_refunded":50000,"currency":"mxn"})"));
    REQUIRE(refund.event.reports.size() == 1);
    CHECK(refund.event.reports[0].kind == Kind::kReversed);
    CHECK(refund.event.reports[0].payment == "pi_1");
    CHECK(refund.event.reports[0].total_cents == 50000);
    CHECK(refund.event.reports[0].reversal_id.empty());  // cumulative

    const Verdict dispute = Signed(StripeEvent(
        "charge.dispute.created",
        R"({"id":"dp_1","charge":"ch_1","payment_intent":"pi_1","amount":150050,"currency":"mxn"})"));
    REQUIRE(dispute.event.reports.size() == 1);
    CHECK(dispute.event.reports[0].reversal_kind == "chargeback");
    CHECK(dispute.event.reports[0].reversal_id == "dp_1");

    // Amounts that are not whole centavos, a float, a negative, a missing currency: refused.
    for (const char* bad : {R"("amount_received":1500.5,"currency":"mxn")",
                            R"("amount_received":-1,"currency":"mxn")",
                            R"("amount_received":"150050","currency":"mxn")",
                            R"("amount_received":150050,"currency":"zzz")",
                            R"("amount_received":150050)"}) {
        INFO(bad);
        const Verdict v = Signed(
            StripeEvent("payment_intent.succeeded", std::string(R"({"id":"pi_9",)") + bad + "}"));
        REQUIRE(v.refusal);
        CHECK(*v.refusal == Refusal::kMalformed);
    }
}

constexpr const char* kMpSecret = "mp_test_secret";
constexpr const char* kRequestId = "bb56a2f1-6aae-46ac-982e-9dcd3581d08e";

TEST_CASE("Mercado Pago: the manifest vectors of the facts file", "[payments][mercadopago]") {
    const std::string body =
        R"({"id":12345,"live_mode":true,"type":"payment","date_created":"2015-03-25T10:04:58.396-04:00",)"
        R"("user_id":44444,"api_version":"v1","action":"payment.created","data":{"id":"999999999"}})";
    // M1.
    const std::string m1 =
        "ts=1704908010,v1=e9bd9f0581de4c59fd23fa6ad9c414605c4e856f53cfa68274ee5ad1c4d863df";
    const Verdict v =
        ParseMercadoPago(body, "data.id=999999999&type=payment", m1, kRequestId, kMpSecret);
    INFO(v.why);
    REQUIRE(v.ok());
    CHECK(v.event.provider == "mercadopago");
    CHECK(v.event.event_id == "12345");
    CHECK(v.event.fetch_payment == "999999999");
    CHECK(v.event.reports.empty());
    CHECK(v.event.type == "payment:payment.created");
    // The same signature over another id, another request id, or with another secret fails.
    CHECK(*ParseMercadoPago(body, "data.id=999999998&type=payment", m1, kRequestId, kMpSecret)
               .refusal == Refusal::kBadSignature);
    CHECK(*ParseMercadoPago(body, "data.id=999999999", m1, "other", kMpSecret).refusal ==
          Refusal::kBadSignature);
    CHECK(*ParseMercadoPago(body, "data.id=999999999", m1, kRequestId, "x").refusal ==
          Refusal::kBadSignature);
    CHECK(*ParseMercadoPago(body, "data.id=999999999", "", kRequestId, kMpSecret).refusal ==
          Refusal::kBadSignature);
    // M3: no data.id in the query: the part is left out of the manifest; a "payment" without
    // the signed id is refused, since only that id may be fetched.
    const std::string m3 =
        "ts=1704908010,v1=e1171bc710f9a138f2bf1e9c01e52bdb1208a2ed1006114beac8707714210cc8";
    const Verdict no_id = ParseMercadoPago(body, "", m3, kRequestId, kMpSecret);
    REQUIRE(no_id.refusal);
    CHECK(*no_id.refusal == Refusal::kMalformed);
    // M2: an Orders id in upper case in the query is signed in lower case.
    const std::string m2 =
        "ts=1742505638683,v1=55a252238fdebb9aaa53bf72b1408e9d7748fab627881c46f7022728034425ec";
    const std::string order =
        R"({"id":"n1","type":"order","action":"order.processed","data":{"id":"ORD01JQ4S4KY8HWQ6NA5PXB65B3D3"}})";
    const Verdict o = ParseMercadoPago(
        order, "data.id=ORD01JQ4S4KY8HWQ6NA5PXB65B3D3&type=order", m2, kRequestId, kMpSecret);
    REQUIRE(o.ok());
    CHECK(o.event.fetch_payment.empty());  // not a payment: acknowledged only
    // The body names another payment than the signed query: refused.
    const std::string other =
        R"({"id":12346,"type":"payment","action":"payment.updated","data":{"id":"111"}})";
    CHECK(*ParseMercadoPago(other, "data.id=999999999", m1, kRequestId, kMpSecret).refusal ==
          Refusal::kMalformed);
}

TEST_CASE("Mercado Pago: the fetched payment, in decimal pesos", "[payments][mercadopago]") {
    std::string why;
    const auto approved = ParseMercadoPagoPayment(
        R"({"id":999999999,"status":"approved","transaction_amount":1500.10,)"
        R"("transaction_amount_refunded":0,"currency_id":"MXN","external_reference":"0000018",)"
        R"("date_approved":"2026-11-23T10:05:00.000-06:00","payment_method_id":"oxxo"})",
        why);
    REQUIRE(approved);
    REQUIRE(approved->size() == 1);
    CHECK((*approved)[0].total_cents == 150010);  // 1500.10 read as text, never a double
    CHECK((*approved)[0].payment == "999999999");
    CHECK((*approved)[0].reference == "0000018");
    CHECK((*approved)[0].paid_at == "2026-11-23T16:05:00Z");
    CHECK((*approved)[0].method == "oxxo");

    const auto pending = ParseMercadoPagoPayment(
        R"({"id":5,"status":"pending","transaction_amount":100,"currency_id":"MXN","date_approved":null})",
        why);
    REQUIRE(pending);
    CHECK(pending->empty());

    const auto refunded = ParseMercadoPagoPayment(
        R"({"id":6,"status":"refunded","transaction_amount":0.3,"transaction_amount_refunded":0.1,)"
        R"("currency_id":"MXN","date_approved":"2026-11-23T10:05:00Z"})",
        why);
    REQUIRE(refunded);
    REQUIRE(refunded->size() == 2);
    CHECK((*refunded)[0].total_cents == 30);
    CHECK((*refunded)[1].kind == Kind::kReversed);
    CHECK((*refunded)[1].total_cents == 10);

    const auto charged_back = ParseMercadoPagoPayment(
        R"({"id":7,"status":"charged_back","transaction_amount":250,"currency_id":"MXN","date_approved":"2026-11-23T10:05:00Z"})",
        why);
    REQUIRE(charged_back);
    REQUIRE(charged_back->size() == 2);
    CHECK((*charged_back)[1].reversal_kind == "chargeback");
    CHECK((*charged_back)[1].total_cents == 25000);

    for (const char* bad :
         {"not json",
          R"({"id":1,"status":"approved","transaction_amount":1.005,"currency_id":"MXN"})",
          R"({"id":1,"status":"approved","transaction_amount":1e3,"currency_id":"MXN"})",
          R"({"status":"approved","transaction_amount":1,"currency_id":"MXN"})",
          R"({"id":1,"status":"approved","transaction_amount":1,"currency_id":"XYZ"})"}) {
        INFO(bad);
        CHECK_FALSE(ParseMercadoPagoPayment(bad, why));
    }
}

TEST_CASE("Mercado Pago: the fetch is a GET with the access token", "[payments][mercadopago]") {
    const auto call = MercadoPagoFetch("http://127.0.0.1:9/", "APP_USR-token", "999999999");
    CHECK(call.method == "GET");
    CHECK(call.url == "http://127.0.0.1:9/v1/payments/999999999");
    CHECK(call.headers[0].second == "Bearer APP_USR-token");
}

TEST_CASE("Openpay: Basic credentials and the transaction", "[payments][openpay]") {
    // The documentation's example credentials, juanito / passjuanito.
    const std::string auth = "Basic anVhbml0bzpwYXNzanVhbml0bw==";
    const std::string body =
        R"({"type":"charge.succeeded","event_date":"2026-11-23T10:05:00-06:00","transaction":{)"
        R"("id":"trnirkiyobo5qfex55ef","amount":1500.50,"currency":"MXN","method":"store",)"
        R"("status":"completed","order_id":"0000018.1","operation_date":"2026-11-23T10:05:00-06:00"}})";
    const Verdict v = ParseOpenpay(body, auth, "juanito", "passjuanito");
    REQUIRE(v.ok());
    CHECK(v.event.event_id == "charge.succeeded:trnirkiyobo5qfex55ef");
    REQUIRE(v.event.reports.size() == 1);
    CHECK(v.event.reports[0].total_cents == 150050);
    CHECK(v.event.reports[0].reference == "0000018");
    CHECK(v.event.reports[0].method == "store");
    CHECK(v.event.reports[0].paid_at == "2026-11-23T16:05:00Z");

    CHECK(*ParseOpenpay(body, "Basic anVhbml0bzp3cm9uZw==", "juanito", "passjuanito").refusal ==
          Refusal::kBadSignature);
    CHECK(*ParseOpenpay(body, "", "juanito", "passjuanito").refusal == Refusal::kBadSignature);
    CHECK(*ParseOpenpay(body, auth, "", "").refusal == Refusal::kBadSignature);

    const Verdict refund = ParseOpenpay(
        R"({"type":"charge.refunded","transaction":{"id":"tr1","amount":1500.50,"currency":"MXN",)"
        R"("refund":{"id":"trref1","amount":500.00,"operation_type":"out"}}})",
        auth,
        "juanito",
        "passjuanito");
    REQUIRE(refund.event.reports.size() == 1);
    CHECK(refund.event.reports[0].kind == Kind::kReversed);
    CHECK(refund.event.reports[0].reversal_id == "refund:trref1");
    CHECK(refund.event.reports[0].total_cents == 50000);

    const std::string verification =
        R"({"type":"verification","event_date":"2026-11-23T10:05:00-06:00","verification_code":"3vWQ1x6I","id":"wabc"})";
    const Verdict check = ParseOpenpay(verification, auth, "juanito", "passjuanito");
    REQUIRE(check.ok());
    CHECK(check.event.reports.empty());
    CHECK(OpenpayVerificationCode(verification) == "3vWQ1x6I");
    CHECK_FALSE(OpenpayVerificationCode(body));
}

TEST_CASE("Openpay: with the private key, the charge is read back before anything counts",
          "[payments][openpay]") {
    const std::string auth = "Basic anVhbml0bzpwYXNzanVhbml0bw==";
    const std::string body =
        R"({"type":"charge.succeeded","event_date":"2026-11-23T10:05:00-06:00","transaction":{)"
        R"("id":"trnirkiyobo5qfex55ef","amount":1500.50,"currency":"MXN","method":"store",)"
        R"("status":"completed","order_id":"0000018.1","operation_date":"2026-11-23T10:05:00-06:00"}})";
    const Verdict v = ParseOpenpay(body, auth, "juanito", "passjuanito", true);
    REQUIRE(v.ok());
    CHECK(v.event.reports.empty());
    CHECK(v.event.fetch_payment == "trnirkiyobo5qfex55ef");
    CHECK(v.event.event_id == "charge.succeeded:trnirkiyobo5qfex55ef");
    // A notification that could not be read is still refused at the door.
    CHECK(*ParseOpenpay(R"({"type":"charge.refunded","transaction":{"id":"tr1"}})",
                        auth,
                        "juanito",
                        "passjuanito",
                        true)
               .refusal == Refusal::kMalformed);

    const HttpCall call = OpenpayFetch("https://sandbox-api.openpay.mx/",
                                       "mzdtln0bmtms6o3kck8f",
                                       "sk_e2e",
                                       "trnirkiyobo5qfex55ef");
    CHECK(call.method == "GET");
    CHECK(call.url ==
          "https://sandbox-api.openpay.mx/v1/mzdtln0bmtms6o3kck8f/charges/trnirkiyobo5qfex55ef");

    const std::string completed =
        R"({"id":"trnirkiyobo5qfex55ef","amount":1500.50,"currency":"MXN","method":"store",)"
        R"("status":"completed","order_id":"0000018.1","operation_date":"2026-11-23T10:05:00-06:00"})";
    std::string why;
    const auto paid = ParseOpenpayCharge("charge.succeeded", completed, why);
    REQUIRE(paid);
    REQUIRE(paid->size() == 1);
    CHECK((*paid)[0].total_cents == 150050);
    CHECK((*paid)[0].reference == "0000018");
    CHECK((*paid)[0].paid_at == "2026-11-23T16:05:00Z");

    // Not paid yet: tried again later. Failed or cancelled: the notification was not true.
    std::string status_why;
    CHECK_FALSE(ParseOpenpayCharge(
        "charge.succeeded",
        R"({"id":"tr1","amount":1500.50,"currency":"MXN","status":"in_progress"})",
        status_why));
    CHECK(status_why.find("in_progress") != std::string::npos);
    for (const char* status : {"failed", "cancelled"}) {
        const std::string charge =
            std::string(R"({"id":"tr1","amount":1500.50,"currency":"MXN",)") + R"("status":")" +
            status + R"("})";
        const auto none = ParseOpenpayCharge("charge.succeeded", charge, why);
        REQUIRE(none);
        CHECK(none->empty());
    }
    // A refund counts only once the charge carries it; a chargeback once its status says so.
    CHECK(ParseOpenpayCharge("charge.refunded", completed, why)->empty());
    const auto refunded =
        ParseOpenpayCharge("charge.refunded",
                           R"({"id":"tr1","amount":1500.50,"currency":"MXN","status":"refunded",)"
                           R"("refund":{"id":"trref1","amount":500.00}})",
                           why);
    REQUIRE(refunded->size() == 1);
    CHECK((*refunded)[0].kind == Kind::kReversed);
    CHECK((*refunded)[0].total_cents == 50000);
    CHECK(ParseOpenpayCharge("chargeback.accepted", completed, why)->empty());
    const auto charged_back = ParseOpenpayCharge(
        "chargeback.accepted",
        R"({"id":"tr1","amount":1500.50,"currency":"MXN","status":"chargeback_accepted"})",
        why);
    REQUIRE(charged_back->size() == 1);
    CHECK((*charged_back)[0].reversal_kind == "chargeback");
    std::string bad;
    CHECK_FALSE(ParseOpenpayCharge("charge.succeeded", "[]", bad));
    CHECK_FALSE(bad.empty());
    // A charge without its id cannot be recorded against anything (found by fuzz_provider_events).
    for (const char* type : {"charge.succeeded", "charge.refunded", "chargeback.accepted"}) {
        std::string no_id;
        CHECK_FALSE(ParseOpenpayCharge(
            type,
            R"({"td":"tre","amount":1500.50,"currency":"MXN","status":"chargeback_refunded",)"
            R"("operation_date":"2026-11-23T10:05:00-06:00","refund":{"id":"r1","amount":1}})",
            no_id));
        CHECK(no_id == "the charge has no id");
    }
}

TEST_CASE("Conekta: the digest under the webhook key, and only the order's own word",
          "[payments][conekta]") {
    const testing::RsaKey keys;
    const std::string pem = keys.PublicPem();
    CHECK(ConektaKeyReadable(pem));
    CHECK_FALSE(
        ConektaKeyReadable("-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----"));
    const std::string body =
        R"({"id":"evt_1","object":"event","type":"order.paid","created_at":1764000000,)"
        R"("data":{"object":{"id":"ord_2tUigJ8DgBhbp6w5D","object":"order","amount":150050,)"
        R"("currency":"MXN","payment_status":"paid"}}})";
    const Verdict v = ParseConekta(body, keys.Sign(body), pem);
    REQUIRE(v.ok());
    CHECK(v.event.event_id == "evt_1");
    CHECK(v.event.fetch_payment == "ord_2tUigJ8DgBhbp6w5D");
    CHECK(v.event.reports.empty());  // nothing counts before the order is fetched
    // Another key, a changed body, no digest, junk: refused.
    const testing::RsaKey other;
    CHECK(*ParseConekta(body, other.Sign(body), pem).refusal == Refusal::kBadSignature);
    CHECK(*ParseConekta(body + " ", keys.Sign(body), pem).refusal == Refusal::kBadSignature);
    CHECK(*ParseConekta(body, "", pem).refusal == Refusal::kBadSignature);
    CHECK(*ParseConekta(body, "%%%", pem).refusal == Refusal::kBadSignature);
    // Without a configured key the digest is not checked (the fetch is what counts).
    CHECK(ParseConekta(body, "", "").ok());
    // charge.paid names its order; a ping names nothing.
    const std::string charge =
        R"({"id":"evt_2","type":"charge.paid","data":{"object":{"id":"chr_1","order_id":"ord_9"}}})";
    CHECK(ParseConekta(charge, keys.Sign(charge), pem).event.fetch_payment == "ord_9");
    const std::string ping = R"({"id":"evt_3","type":"webhook_ping","data":{}})";
    CHECK(ParseConekta(ping, keys.Sign(ping), pem).event.fetch_payment.empty());
    const std::string sneaky =
        R"({"id":"evt_4","type":"order.paid","data":{"object":{"id":"../customers"}}})";
    CHECK(*ParseConekta(sneaky, keys.Sign(sneaky), pem).refusal == Refusal::kMalformed);

    CHECK(ConektaFetch("http://127.0.0.1:9", "key_abc", "ord_9").url ==
          "http://127.0.0.1:9/orders/ord_9");

    std::string why;
    const auto paid = ParseConektaOrder(
        R"({"id":"ord_9","amount":150050,"amount_refunded":0,"currency":"MXN","payment_status":"paid",)"
        R"("metadata":{"cobrador_reference":"0000018"},"charges":{"data":[{"id":"chr_1",)"
        R"("paid_at":1764000000,"payment_method":{"object":"cash_payment","type":"oxxo"}}]}})",
        why);
    REQUIRE(paid);
    REQUIRE(paid->size() == 1);
    CHECK((*paid)[0].total_cents == 150050);
    CHECK((*paid)[0].reference == "0000018");
    CHECK((*paid)[0].method == "oxxo");
    CHECK((*paid)[0].paid_at == "2025-11-24T16:00:00Z");
    const auto pending = ParseConektaOrder(
        R"({"id":"ord_9","amount":150050,"currency":"MXN","payment_status":"pending_payment","charges":{"data":[{"id":"c"}]}})",
        why);
    REQUIRE(pending);
    CHECK(pending->empty());
    const auto refunded = ParseConektaOrder(
        R"({"id":"ord_9","amount":150050,"amount_refunded":50000,"currency":"MXN","payment_status":"partially_refunded",)"
        R"("charges":{"data":[{"paid_at":1764000000}]}})",
        why);
    REQUIRE(refunded);
    REQUIRE(refunded->size() == 2);
    CHECK((*refunded)[1].kind == Kind::kReversed);
    CHECK((*refunded)[1].total_cents == 50000);
    CHECK_FALSE(ParseConektaOrder(
        R"({"id":"ord_9","amount":1500.5,"currency":"MXN","payment_status":"paid"})", why));
}

TEST_CASE("STP: an abono in either spelling, one transfer however often it is told",
          "[payments][stp]") {
    // The fields of STP's SendAbono, as receivers in the corpus show them.
    const std::string camel =
        R"({"id":3191365,"fechaOperacion":20261123,"institucionOrdenante":40012,)"
        R"("institucionBeneficiaria":90646,"claveRastreo":"MBAN01002611230001","monto":1500.50,)"
        R"("nombreOrdenante":"MARIA LOPEZ","tipoCuentaOrdenante":40,"cuentaOrdenante":"012180015000000001",)"
        R"("rfcCurpOrdenante":"ND","nombreBeneficiario":"DEMO FINANCIERA","tipoCuentaBeneficiario":40,)"
        R"("cuentaBeneficiario":"646180157000000426","conceptoPago":"PAGO REF 0000426",)"
        R"("referenciaNumerica":426,"empresa":"DEMOFIN","tsLiquidacion":"1763913900000"})";
    const Verdict v = ParseStpAbono(camel, "2026-11-23T16:00:00Z");
    REQUIRE(v.ok());
    CHECK(v.event.event_id == "3191365");
    REQUIRE(v.event.reports.size() == 1);
    const store::ProviderReport& r = v.event.reports[0];
    CHECK(r.payment == "MBAN01002611230001:20261123:40012");
    CHECK(r.total_cents == 150050);
    CHECK(r.currency == "MXN");
    CHECK(r.clabe == "646180157000000426");
    // What the debtor quoted, zero-padded; it counts only for the creditor's own CLABE (the
    // server maps a per-debtor CLABE to its account).
    CHECK(r.reference == "0000426");
    CHECK(r.paid_at == "2025-11-23T16:05:00Z");
    // The PascalCase of cuenca-mx/speid: the same transfer, the same key.
    const std::string pascal =
        R"({"Clave":3191365,"FechaOperacion":20261123,"InstitucionOrdenante":40012,)"
        R"("InstitucionBeneficiaria":90646,"ClaveRastreo":"MBAN01002611230001","Monto":1500.5,)"
        R"("CuentaBeneficiario":"646180157000000426","Empresa":"DEMOFIN"})";
    const Verdict p = ParseStpAbono(pascal, "2026-11-23T16:00:00Z");
    REQUIRE(p.ok());
    CHECK(p.event.reports.at(0).payment == r.payment);
    CHECK(p.event.reports.at(0).paid_at == "2026-11-23T16:00:00Z");  // no tsLiquidacion
    CHECK(p.event.reports.at(0).reference.empty());
    // A settlement time from another century is not believed: the time received instead.
    std::string odd = camel;
    odd.replace(odd.find("1763913900000"), 13, "99999999999999");
    CHECK(ParseStpAbono(odd, "2026-11-23T16:00:00Z").event.reports.at(0).paid_at ==
          "2026-11-23T16:00:00Z");
    for (
        const char* bad :
        {"[]",
         R"({"id":1,"fechaOperacion":20261123,"institucionOrdenante":40012,"claveRastreo":"X","monto":0,"cuentaBeneficiario":"1"})",
         R"({"id":1,"fechaOperacion":20261123,"institucionOrdenante":40012,"claveRastreo":"X","monto":1.001,"cuentaBeneficiario":"1"})",
         R"({"id":1,"fechaOperacion":2026,"institucionOrdenante":40012,"claveRastreo":"X","monto":1,"cuentaBeneficiario":"1"})",
         R"({"fechaOperacion":20261123,"institucionOrdenante":40012,"claveRastreo":"X","monto":1,"cuentaBeneficiario":"1"})"}) {
        INFO(bad);
        const Verdict refused = ParseStpAbono(bad, "2026-11-23T16:00:00Z");
        REQUIRE(refused.refusal);
        CHECK(*refused.refusal == Refusal::kMalformed);
    }
}

}  // namespace
}  // namespace cobrador::channels
