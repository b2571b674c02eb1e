// Mercado Pago (payments-providers.md §4): the x-signature manifest over the query's data.id,
// the thin notification, and the payment fetched with the access token.

#include <algorithm>

#include "channels/signature.hpp"
#include "channels/twilio.hpp"

#include "payments_common.hpp"

namespace cobrador::channels {

using namespace provider;  // NOLINT(google-build-using-namespace): this file's helpers

namespace {

using json = nlohmann::json;

std::string Lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) {
        return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    });
    return text;
}

}  // namespace

std::optional<std::string> QueryParameter(std::string_view query, std::string_view name) {
    if (const auto params = ParseForm(query)) {
        for (const auto& [key, value] : *params) {
            if (key == name) {
                return value;
            }
        }
    }
    return std::nullopt;
}

Verdict ParseMercadoPago(std::string_view body,
                         std::string_view query,
                         std::string_view x_signature,
                         std::string_view x_request_id,
                         std::string_view secret) {
    std::string_view ts;
    std::string_view v1;
    ForEachPair(x_signature, [&](std::string_view key, std::string_view value) {
        if (key == "ts") {
            ts = value;
        } else if (key == "v1") {
            v1 = value;
        }
    });
    if (secret.empty() || ts.empty() || v1.empty()) {
        return Refuse(Refusal::kBadSignature, "no ts= and v1= in x-signature");
    }
    const auto data_id = QueryParameter(query, "data.id");
    std::string manifest;
    if (data_id && !data_id->empty()) {
        manifest += "id:" + Lower(*data_id) + ";";
    }
    if (!x_request_id.empty()) {
        manifest += "request-id:" + std::string(x_request_id) + ";";
    }
    manifest += "ts:" + std::string(ts) + ";";
    if (!ConstantTimeEquals(HmacSha256Hex(secret, manifest), v1)) {
        return Refuse(Refusal::kBadSignature, "x-signature does not match");
    }

    json notification;
    Verdict v = Start("mercadopago", body, notification);
    if (!v.ok()) {
        return v;
    }
    v.event.event_id = Id(notification, "id");
    v.event.type = Text(notification, "type");
    if (v.event.type.empty()) {
        v.event.type =
            QueryParameter(query, "type").value_or(QueryParameter(query, "topic").value_or(""));
    }
    const std::string action = Text(notification, "action");
    const std::string body_id =
        notification.contains("data") ? Id(notification["data"], "id") : std::string();
    if (v.event.event_id.empty() || v.event.type.empty()) {
        return Refuse(Refusal::kMalformed, "a notification needs id and type");
    }
    if (v.event.type != "payment") {
        return v;  // acknowledged: merchant orders, claims … are not money we act on
    }
    // Only the query's data.id is signed: the body must name the same payment.
    if (!data_id || data_id->empty() || body_id != *data_id || !UrlSafe(*data_id)) {
        return Refuse(Refusal::kMalformed, "data.id of the query and of the body differ");
    }
    v.event.fetch_payment = *data_id;
    if (!action.empty()) {
        v.event.type += ":" + action.substr(0, 60);
    }
    return v;
}

HttpCall MercadoPagoFetch(std::string_view api_base,
                          std::string_view access_token,
                          std::string_view payment_id) {
    return Get(
        api_base,
        "/v1/payments/" + std::string(payment_id),
        {{"Authorization", "Bearer " + std::string(access_token)}, {"Accept", "application/json"}});
}

std::optional<std::vector<store::ProviderReport>> ParseMercadoPagoPayment(std::string_view body,
                                                                          std::string& why) {
    const json payment = ParseExact(body);
    if (payment.is_discarded() || !payment.is_object()) {
        why = "the payment is not a JSON object";
        return std::nullopt;
    }
    store::ProviderReport base;
    base.provider = "mercadopago";
    base.payment = Id(payment, "id");
    base.currency = Currency(Text(payment, "currency_id"));
    const std::string status = Text(payment, "status");
    const auto amount = PesosCents(payment, "transaction_amount");
    if (base.payment.empty() || status.empty() || base.currency.empty() || !amount) {
        why = "a payment needs id, status, currency_id and transaction_amount";
        return std::nullopt;
    }
    std::vector<store::ProviderReport> out;
    const std::string approved = IsoUtc(Text(payment, "date_approved"));
    // Once approved, the money came in, whatever happened to it since.
    if (!approved.empty() && *amount > 0) {
        store::ProviderReport r = base;
        r.total_cents = *amount;
        r.paid_at = approved;
        r.reference = Reference(Text(payment, "external_reference"));
        r.method = Text(payment, "payment_method_id").substr(0, 40);
        if (r.method.empty()) {
            r.method = "mercadopago";
        }
        out.push_back(std::move(r));
    }
    const std::int64_t refunded = PesosCents(payment, "transaction_amount_refunded").value_or(0);
    std::int64_t back = refunded;
    std::string kind = "refund";
    if (status == "charged_back") {
        back = *amount;
        kind = "chargeback";
    } else if (status == "refunded" && back == 0) {
        back = *amount;
    }
    if (back > 0 && *amount > 0 && !approved.empty()) {
        store::ProviderReport r = base;
        r.kind = store::ProviderReport::Kind::kReversed;
        r.reversal_kind = kind;
        r.total_cents = std::min(back, *amount);
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace cobrador::channels
