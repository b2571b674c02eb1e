// Stripe's events (payments-providers.md §1): the signature of stripe-python's _webhook.py and
// stripe-node's Webhooks.ts, and the PaymentIntent, Checkout Session, Charge and Dispute
// fields that say money came in or went back.

#include <charconv>

#include "channels/signature.hpp"

#include "payments_common.hpp"

namespace cobrador::channels {

using namespace provider;  // NOLINT(google-build-using-namespace): this file's helpers

namespace {

using json = nlohmann::json;

// The reference cobrador attached when it created the payment.
std::string OurReference(const json& object) {
    const json metadata =
        object.is_object() && object.contains("metadata") ? object["metadata"] : json::object();
    for (const char* key : {"cobrador_reference", "reference"}) {
        if (auto r = Reference(Text(metadata, key)); !r.empty()) {
            return r;
        }
    }
    return Reference(Text(object, "client_reference_id"));
}

std::string Method(const json& object) {
    const auto it = object.find("payment_method_types");
    if (it != object.end() && it->is_array() && it->size() == 1 && (*it)[0].is_string()) {
        return (*it)[0].get<std::string>().substr(0, 40);
    }
    return "stripe";
}

// The payment a Charge or a Dispute belongs to: its PaymentIntent, or the charge itself.
std::string PaymentOf(const json& object, const char* fallback) {
    if (auto pi = Id(object, "payment_intent"); !pi.empty()) {
        return pi;
    }
    return Id(object, fallback);
}

}  // namespace

Verdict ParseStripe(std::string_view body,
                    std::string_view signature_header,
                    std::string_view secret,
                    std::int64_t now_unix,
                    std::int64_t tolerance) {
    std::string_view t;
    std::vector<std::string_view> signatures;
    ForEachPair(signature_header, [&](std::string_view key, std::string_view value) {
        if (key == "t") {
            t = value;
        } else if (key == "v1") {
            signatures.push_back(value);
        }
    });
    std::int64_t timestamp = 0;
    const auto [end, error] = std::from_chars(t.data(), t.data() + t.size(), timestamp);
    if (secret.empty() || t.empty() || error != std::errc() || end != t.data() + t.size() ||
        signatures.empty()) {
        return Refuse(Refusal::kBadSignature, "no t= and v1= in Stripe-Signature");
    }
    std::string signed_payload(t);
    signed_payload += '.';
    signed_payload += body;
    const std::string expected = HmacSha256Hex(secret, signed_payload);
    bool match = false;
    for (const std::string_view candidate : signatures) {
        match = ConstantTimeEquals(expected, candidate) || match;
    }
    if (!match) {
        return Refuse(Refusal::kBadSignature, "no v1 signature matches");
    }
    if (now_unix - timestamp > tolerance) {
        return Refuse(Refusal::kStale, "signed more than " + std::to_string(tolerance) + " s ago");
    }

    json event;
    Verdict v = Start("stripe", body, event);
    if (!v.ok()) {
        return v;
    }
    v.event.event_id = Id(event, "id");
    v.event.type = Text(event, "type");
    const auto data = event.find("data");
    if (v.event.event_id.empty() || v.event.type.empty() || data == event.end() ||
        !data->is_object() || !data->contains("object") || !(*data)["object"].is_object()) {
        return Refuse(Refusal::kMalformed, "an event needs id, type and data.object");
    }
    const json& object = (*data)["object"];
    const auto created = IntegerCents(event, "created");  // Unix seconds, read as an integer
    std::string at = created ? IsoFromUnix(*created) : std::string();
    if (at.empty()) {
        at = IsoFromUnix(timestamp);
    }
    if (at.empty()) {
        return Refuse(Refusal::kMalformed, "the event's time is not a date of this century");
    }
    const std::string& type = v.event.type;

    store::ProviderReport r;
    r.provider = "stripe";
    r.paid_at = at;
    r.currency = Currency(Text(object, "currency"));
    if (type == "payment_intent.succeeded" || type == "payment_intent.partially_funded") {
        r.payment = Id(object, "id");
        const auto received = IntegerCents(object, "amount_received");
        if (r.payment.empty() || !received || r.currency.empty()) {
            return Refuse(Refusal::kMalformed,
                          "a PaymentIntent needs id, amount_received, currency");
        }
        r.total_cents = *received;
        r.reference = OurReference(object);
        r.method = Method(object);
    } else if (type == "checkout.session.completed" ||
               type == "checkout.session.async_payment_succeeded") {
        if (Text(object, "payment_status") != "paid") {
            return v;  // an OXXO voucher or a transfer still to pay: its success comes later
        }
        r.payment = PaymentOf(object, "id");
        const auto total = IntegerCents(object, "amount_total");
        if (r.payment.empty() || !total || r.currency.empty()) {
            return Refuse(Refusal::kMalformed, "a Checkout Session needs amount_total, currency");
        }
        r.total_cents = *total;
        r.reference = OurReference(object);
        r.method = Method(object);
    } else if (type == "charge.refunded") {
        r.kind = store::ProviderReport::Kind::kReversed;
        r.reversal_kind = "refund";
        r.payment = PaymentOf(object, "id");
        const auto refunded = IntegerCents(object, "amount_refunded");
        if (r.payment.empty() || !refunded || r.currency.empty()) {
            return Refuse(Refusal::kMalformed, "a Charge needs id, amount_refunded, currency");
        }
        r.total_cents = *refunded;
    } else if (type == "charge.dispute.created") {
        r.kind = store::ProviderReport::Kind::kReversed;
        r.reversal_kind = "chargeback";
        r.payment = PaymentOf(object, "charge");
        r.reversal_id = Id(object, "id");
        const auto amount = IntegerCents(object, "amount");
        if (r.payment.empty() || r.reversal_id.empty() || !amount || r.currency.empty()) {
            return Refuse(Refusal::kMalformed, "a Dispute needs id, charge, amount, currency");
        }
        r.total_cents = *amount;
    } else {
        return v;  // acknowledged: nothing about money we act on
    }
    if (r.total_cents > 0) {
        v.event.reports.push_back(std::move(r));
    }
    return v;
}

}  // namespace cobrador::channels
