// Openpay (payments-providers.md §3): HTTP Basic with the webhook's user and password, and the
// transaction of charge.succeeded, spei.received, charge.refunded and chargeback.accepted; with
// the private key, the charge read back from the API before it counts.

#include "channels/signature.hpp"

#include "common.hpp"
#include "payments_common.hpp"

namespace cobrador::channels {

using namespace provider;  // NOLINT(google-build-using-namespace): this file's helpers

namespace {

using json = nlohmann::json;

// What a transaction (a notification's, or a charge read from the API) says about money for
// the event `type`: nullopt when it says nothing we act on, or with `why` when it cannot be
// read. `notification` supplies event_date when the transaction has no operation_date.
std::optional<store::ProviderReport> TransactionReport(std::string_view type,
                                                       const json& transaction,
                                                       const json& notification,
                                                       std::string& why) {
    store::ProviderReport r;
    r.provider = "openpay";
    r.payment = Id(transaction, "id");
    r.currency = Currency(Text(transaction, "currency"));
    const auto amount = PesosCents(transaction, "amount");
    if (type == "charge.succeeded" || type == "spei.received") {
        if (!amount || r.currency.empty()) {
            why = "a transaction needs amount and currency";
            return std::nullopt;
        }
        r.total_cents = *amount;
        std::string order = Text(transaction, "order_id");
        r.reference = Reference(order.substr(0, order.find('.')));
        r.paid_at = IsoUtc(Text(transaction, "operation_date"));
        if (r.paid_at.empty()) {
            r.paid_at = IsoUtc(Text(notification, "event_date"));
        }
        if (r.paid_at.empty()) {
            why = "a transaction needs operation_date";
            return std::nullopt;
        }
        r.method = type == "spei.received" ? "spei" : Text(transaction, "method").substr(0, 40);
    } else if (type == "charge.refunded") {
        r.kind = store::ProviderReport::Kind::kReversed;
        r.reversal_kind = "refund";
        const json refund = transaction.contains("refund") ? transaction["refund"] : json();
        r.reversal_id = "refund:" + Id(refund, "id");
        const auto refunded = PesosCents(refund, "amount");
        if (r.reversal_id == "refund:" || !refunded) {
            why = "a refund needs transaction.refund.id and amount";
            return std::nullopt;
        }
        r.total_cents = *refunded;
    } else if (type == "chargeback.accepted") {
        r.kind = store::ProviderReport::Kind::kReversed;
        r.reversal_kind = "chargeback";
        r.reversal_id = "chargeback:" + r.payment;
        if (!amount) {
            why = "a chargeback needs transaction.amount";
            return std::nullopt;
        }
        r.total_cents = *amount;
    } else {
        return std::nullopt;
    }
    if (r.total_cents <= 0) {
        return std::nullopt;
    }
    return r;
}

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
                     std::string_view password,
                     bool fetch) {
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
    if (type == "charge.refunded") {
        // Each partial refund of one charge is a notification of its own.
        const json refund = transaction.contains("refund") ? transaction["refund"] : json();
        v.event.event_id += ":refund:" + Id(refund, "id");
    }
    if (fetch && UrlSafe(id) &&
        (type == "charge.succeeded" || type == "charge.refunded" ||
         type == "chargeback.accepted")) {
        // Basic credentials are all that vouches for the notification: the charge is read
        // from Openpay with the private key before anything is credited or reversed.
        std::string why;
        if (!TransactionReport(type, transaction, notification, why) && !why.empty()) {
            return Refuse(Refusal::kMalformed, why);
        }
        v.event.fetch_payment = id;
        return v;
    }
    std::string why;
    auto report = TransactionReport(type, transaction, notification, why);
    if (!why.empty()) {
        return Refuse(Refusal::kMalformed, why);
    }
    if (report) {
        v.event.reports.push_back(std::move(*report));
    }
    return v;
}

HttpCall OpenpayFetch(std::string_view api_base,
                      std::string_view merchant_id,
                      std::string_view private_key,
                      std::string_view charge_id) {
    return Get(api_base,
               "/v1/" + std::string(merchant_id) + "/charges/" + std::string(charge_id),
               {{"Authorization", "Basic " + detail::Base64(std::string(private_key) + ":")},
                {"Accept", "application/json"}});
}

std::optional<std::vector<store::ProviderReport>> ParseOpenpayCharge(std::string_view type,
                                                                     std::string_view body,
                                                                     std::string& why) {
    const json charge = ParseExact(body);
    if (charge.is_discarded() || !charge.is_object()) {
        why = "the charge is not a JSON object";
        return std::nullopt;
    }
    if (Id(charge, "id").empty()) {
        why = "the charge has no id";
        return std::nullopt;
    }
    const std::string status = Text(charge, "status");
    std::vector<store::ProviderReport> reports;
    const bool settled =
        status == "completed" || status == "refunded" || status.rfind("chargeback", 0) == 0;
    if (status == "in_progress" || status == "charge_pending") {
        why = "the charge is " + status + " at Openpay: not paid yet";
        return std::nullopt;
    }
    bool applies = false;
    if (type == "charge.succeeded") {
        applies = settled;
    } else if (type == "charge.refunded") {
        applies = charge.contains("refund") && charge["refund"].is_object();
    } else if (type == "chargeback.accepted") {
        applies = status.rfind("chargeback", 0) == 0;
    }
    if (!applies) {
        return reports;  // Openpay does not confirm it: nothing is credited or reversed
    }
    auto report = TransactionReport(type, charge, json::object(), why);
    if (!why.empty()) {
        return std::nullopt;
    }
    if (report) {
        reports.push_back(std::move(*report));
    }
    return reports;
}

}  // namespace cobrador::channels
