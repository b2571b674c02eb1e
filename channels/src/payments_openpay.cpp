// Openpay (payments-providers.md §3): HTTP Basic with the webhook's user and password, and the
// transaction of charge.succeeded, spei.received, charge.refunded and chargeback.accepted.

#include "channels/signature.hpp"

#include "common.hpp"
#include "payments_common.hpp"

namespace cobrador::channels {

using namespace provider;  // NOLINT(google-build-using-namespace): this file's helpers

namespace {

using json = nlohmann::json;

}  // namespace

std::optional<std::string> OpenpayVerificationCode(std::string_view body) {
    const json notification = ParseExact(body);
    if (notification.is_discarded() || Text(notification, "type") != "verification") {
        return std::nullopt;
    }
    const std::string code = Text(notification, "verification_code");
    if (code.empty() || code.size() > 64 || !Id(notification, "verification_code").size()) {
        return std::nullopt;
    }
    return code;
}

Verdict ParseOpenpay(std::string_view body,
                     std::string_view authorization,
                     std::string_view user,
                     std::string_view password) {
    if (user.empty() || password.empty()) {
        return Refuse(Refusal::kBadSignature, "no webhook credentials configured");
    }
    const std::string expected =
        "Basic " + detail::Base64(std::string(user) + ":" + std::string(password));
    if (!ConstantTimeEquals(expected, authorization)) {
        return Refuse(Refusal::kBadSignature, "missing or wrong Basic credentials");
    }
    json notification;
    Verdict v = Start("openpay", body, notification);
    if (!v.ok()) {
        return v;
    }
    v.event.type = Text(notification, "type");
    if (v.event.type.empty() || v.event.type.size() > 60) {
        return Refuse(Refusal::kMalformed, "a notification needs a type");
    }
    if (v.event.type == "verification") {
        const auto code = OpenpayVerificationCode(body);
        if (!code) {
            return Refuse(Refusal::kMalformed, "a verification needs its verification_code");
        }
        v.event.event_id = "verification:" + *code;
        return v;
    }
    const json transaction =
        notification.contains("transaction") ? notification["transaction"] : json();
    const std::string id = Id(transaction, "id");
    if (id.empty()) {
        return Refuse(Refusal::kMalformed, "a notification needs transaction.id");
    }
    // The same transaction is reported once per event type (Openpay may send either twice).
    v.event.event_id = v.event.type + ":" + id;
    const std::string& type = v.event.type;

    store::ProviderReport r;
    r.provider = "openpay";
    r.payment = id;
    r.currency = Currency(Text(transaction, "currency"));
    const auto amount = PesosCents(transaction, "amount");
    if (type == "charge.succeeded" || type == "spei.received") {
        if (!amount || r.currency.empty()) {
            return Refuse(Refusal::kMalformed, "a transaction needs amount and currency");
        }
        r.total_cents = *amount;
        std::string order = Text(transaction, "order_id");
        r.reference = Reference(order.substr(0, order.find('.')));
        r.paid_at = IsoUtc(Text(transaction, "operation_date"));
        if (r.paid_at.empty()) {
            r.paid_at = IsoUtc(Text(notification, "event_date"));
        }
        if (r.paid_at.empty()) {
            return Refuse(Refusal::kMalformed, "a transaction needs operation_date");
        }
        r.method = type == "spei.received" ? "spei" : Text(transaction, "method").substr(0, 40);
    } else if (type == "charge.refunded") {
        r.kind = store::ProviderReport::Kind::kReversed;
        r.reversal_kind = "refund";
        const json refund = transaction.contains("refund") ? transaction["refund"] : json();
        r.reversal_id = "refund:" + Id(refund, "id");
        const auto refunded = PesosCents(refund, "amount");
        if (r.reversal_id == "refund:" || !refunded) {
            return Refuse(Refusal::kMalformed, "a refund needs transaction.refund.id and amount");
        }
        r.total_cents = *refunded;
        // Each partial refund of one charge is a notification of its own.
        v.event.event_id += ":" + r.reversal_id;
    } else if (type == "chargeback.accepted") {
        r.kind = store::ProviderReport::Kind::kReversed;
        r.reversal_kind = "chargeback";
        r.reversal_id = "chargeback:" + id;
        if (!amount) {
            return Refuse(Refusal::kMalformed, "a chargeback needs transaction.amount");
        }
        r.total_cents = *amount;
    } else {
        return v;
    }
    if (r.total_cents > 0) {
        v.event.reports.push_back(std::move(r));
    }
    return v;
}

}  // namespace cobrador::channels
