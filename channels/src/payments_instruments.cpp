// Creating payment instruments (payments-providers.md §1.6 Stripe Checkout, §2.5 Conekta's
// payment link, §3.5 Openpay's store charge, §4.5 Mercado Pago's preference).

#include <algorithm>

#include "channels/payment_instruments.hpp"
#include "dialogs/money.hpp"

#include "common.hpp"
#include "payments_common.hpp"

namespace cobrador::channels {

using namespace provider;  // NOLINT(google-build-using-namespace): this file's helpers

namespace {

using json = nlohmann::json;

constexpr std::int64_t kDay = 24 * 60 * 60;

std::string IdempotencyKey(const InstrumentOrder& order) {
    return "cobrador-instrument-" + std::to_string(order.instrument_id);
}

// What the debtor sees as the item: "Cuenta ABC-123 · Demo Financiera".
std::string Title(const InstrumentOrder& order) {
    std::string title = "Cuenta " + order.account_key;
    if (!order.company.empty()) {
        title += " · " + order.company;
    }
    return title.substr(0, 120);
}

// A JSON string literal.
std::string Quote(const std::string& text) {
    return json(text).dump(-1, ' ', false, json::error_handler_t::replace);
}

// Decimal pesos written from centavos, as a JSON number ("1500.50"): exact, no float.
std::string Pesos(std::int64_t cents) {
    return dialogs::FormatDecimalCents(cents);
}

// Stripe: a Checkout Session in payment mode for card and OXXO (form-encoded, Basic auth with
// the secret key as the user, an Idempotency-Key as the SDKs send).
HttpCall StripeCheckout(const InstrumentApi& api, const InstrumentOrder& order) {
    std::string body;
    auto add = [&](std::string_view name, const std::string& value) {
        if (!body.empty()) {
            body += '&';
        }
        body += detail::FormEscape(std::string(name));
        body += '=';
        body += detail::FormEscape(value);
    };
    add("mode", "payment");
    add("line_items[0][quantity]", "1");
    add("line_items[0][price_data][currency]", "mxn");
    add("line_items[0][price_data][unit_amount]", std::to_string(order.amount_cents));
    add("line_items[0][price_data][product_data][name]", Title(order));
    add("payment_method_types[0]", "card");
    add("payment_method_types[1]", "oxxo");
    add("payment_method_options[oxxo][expires_after_days]", "3");
    add("client_reference_id", order.reference);
    add("metadata[cobrador_reference]", order.reference);
    add("metadata[cobrador_account]", order.account_key);
    add("payment_intent_data[metadata][cobrador_reference]", order.reference);
    add("payment_intent_data[metadata][cobrador_account]", order.account_key);
    add("expires_at", std::to_string(InstrumentExpiry("stripe", order.now_unix)));
    add("success_url", api.return_url);
    if (!order.email.empty()) {
        add("customer_email", order.email);
    }
    return Request("POST",
                   api.base,
                   "/v1/checkout/sessions",
                   {{"Authorization", "Basic " + detail::Base64(api.key + ":")},
                    {"Content-Type", "application/x-www-form-urlencoded"},
                    {"Idempotency-Key", IdempotencyKey(order)}},
                   std::move(body));
}

// Mercado Pago: a Checkout Pro preference with our reference as external_reference.
HttpCall MercadoPagoPreference(const InstrumentApi& api, const InstrumentOrder& order) {
    const std::int64_t until = InstrumentExpiry("mercadopago", order.now_unix);
    std::string body =
        "{\"items\":[{\"id\":" + Quote(order.account_key) + ",\"title\":" + Quote(Title(order)) +
        ",\"quantity\":1,\"currency_id\":" + Quote(order.currency) +
        ",\"unit_price\":" + Pesos(order.amount_cents) + "}]" +
        ",\"external_reference\":" + Quote(order.reference) +
        ",\"metadata\":{\"cobrador_reference\":" + Quote(order.reference) +
        ",\"cobrador_account\":" + Quote(order.account_key) + "}" +
        ",\"expires\":true,\"expiration_date_from\":" + Quote(IsoFromUnix(order.now_unix)) +
        ",\"expiration_date_to\":" + Quote(IsoFromUnix(until));
    if (!api.return_url.empty()) {
        body += ",\"back_urls\":{\"success\":" + Quote(api.return_url) + "}";
    }
    if (!order.email.empty()) {
        body += ",\"payer\":{\"email\":" + Quote(order.email) + "}";
    }
    body += "}";
    return Request("POST",
                   api.base,
                   "/checkout/preferences",
                   {{"Authorization", "Bearer " + api.key},
                    {"Content-Type", "application/json"},
                    {"X-Idempotency-Key", IdempotencyKey(order)}},
                   std::move(body));
}

// Conekta: a single-use payment link (checkout) for cash, card and bank transfer, its order
// template carrying our reference in its metadata.
HttpCall ConektaLink(const InstrumentApi& api, const InstrumentOrder& order) {
    json customer = json::object();
    if (!order.debtor_name.empty() && !order.email.empty() && !order.phone.empty()) {
        customer = {{"name", order.debtor_name}, {"email", order.email}, {"phone", order.phone}};
    }
    json link = {
        {"name", Title(order)},
        {"type", "PaymentLink"},
        {"recurrent", false},
        {"payments_limit_count", 1},
        {"expires_at", InstrumentExpiry("conekta", order.now_unix)},
        {"allowed_payment_methods", {"cash", "card", "bank_transfer"}},
        {"order_template",
         {{"currency", order.currency},
          {"line_items",
           {{{"name", Title(order)}, {"unit_price", order.amount_cents}, {"quantity", 1}}}},
          {"metadata",
           {{"cobrador_reference", order.reference}, {"cobrador_account", order.account_key}}}}},
    };
    if (!customer.empty()) {
        link["order_template"]["customer_info"] = customer;
    }
    if (!api.return_url.empty()) {
        link["success_url"] = api.return_url;
    }
    return Request("POST",
                   api.base,
                   "/checkouts",
                   {{"Authorization", "Bearer " + api.key},
                    {"Accept", "application/vnd.conekta-v2.1.0+json"},
                    {"Accept-Language", "es"},
                    {"Content-Type", "application/json"}},
                   link.dump(-1, ' ', false, json::error_handler_t::replace));
}

// Openpay: a store (Paynet) charge at the merchant level. Its order_id is our reference, a
// '.', and our instrument id: unique per charge, and read back to the reference by the
// notification's parser.
HttpCall OpenpayStore(const InstrumentApi& api, const InstrumentOrder& order) {
    std::string body =
        "{\"method\":\"store\",\"amount\":" + Pesos(order.amount_cents) +
        ",\"currency\":" + Quote(order.currency) + ",\"description\":" + Quote(Title(order)) +
        ",\"order_id\":" + Quote(order.reference + "." + std::to_string(order.instrument_id)) +
        ",\"due_date\":" + Quote(IsoFromUnix(InstrumentExpiry("openpay", order.now_unix))) +
        ",\"customer\":{\"name\":" + Quote(order.debtor_name);
    if (!order.email.empty()) {
        body += ",\"email\":" + Quote(order.email);
    }
    if (!order.phone.empty()) {
        body += ",\"phone_number\":" + Quote(order.phone);
    }
    body += "}}";
    return Request("POST",
                   api.base,
                   "/v1/" + api.merchant_id + "/charges",
                   {{"Authorization", "Basic " + detail::Base64(api.key + ":")},
                    {"Content-Type", "application/json"}},
                   std::move(body));
}

// A link we may hand to a debtor: https, no spaces or control characters, not absurdly long.
bool SafeUrl(const std::string& url) {
    if (url.rfind("https://", 0) != 0 || url.size() <= 8 || url.size() > 2000) {
        return false;
    }
    return std::all_of(
        url.begin(), url.end(), [](unsigned char c) { return c > 0x20 && c < 0x7f; });
}

// A store reference: digits and capital letters, as the tills read them.
bool StoreReference(const std::string& text) {
    return !text.empty() && text.size() <= 64 &&
           std::all_of(text.begin(), text.end(), [](unsigned char c) {
               return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
           });
}

// An expiry given as Unix seconds after now, as ISO 8601; "" when it is not one.
std::string UnixExpiry(const json& object, const char* key, std::int64_t now_unix) {
    const auto it = object.find(key);
    if (it == object.end() || !it->is_number_integer() || it->get<std::int64_t>() <= now_unix) {
        return {};
    }
    return IsoFromUnix(it->get<std::int64_t>());
}

}  // namespace

bool CreatesInstruments(std::string_view provider) {
    return provider == "stripe" || provider == "mercadopago" || provider == "conekta" ||
           provider == "openpay";
}

std::int64_t InstrumentExpiry(std::string_view provider, std::int64_t now_unix) {
    return now_unix + (provider == "stripe" ? 23 * 60 * 60 : 3 * kDay);
}

std::optional<HttpCall> CreateInstrumentCall(const InstrumentApi& api,
                                             const InstrumentOrder& order) {
    if (api.provider == "stripe") {
        return StripeCheckout(api, order);
    }
    if (api.provider == "mercadopago") {
        return MercadoPagoPreference(api, order);
    }
    if (api.provider == "conekta") {
        return ConektaLink(api, order);
    }
    if (api.provider == "openpay") {
        return OpenpayStore(api, order);
    }
    return std::nullopt;
}

std::optional<CreatedInstrument> ParseCreatedInstrument(std::string_view provider,
                                                        std::string_view body,
                                                        std::int64_t now_unix,
                                                        std::string& why) {
    const json answer = ParseExact(body);
    if (answer.is_discarded() || !answer.is_object()) {
        why = "the answer is not a JSON object";
        return std::nullopt;
    }
    CreatedInstrument created;
    created.kind = "page";
    created.provider_id = Id(answer, "id");
    if (provider == "stripe") {
        created.url = Text(answer, "url");
        created.expires_at = UnixExpiry(answer, "expires_at", now_unix);
    } else if (provider == "mercadopago") {
        created.url = Text(answer, "init_point");
        created.expires_at = IsoUtc(Text(answer, "expiration_date_to"));
    } else if (provider == "conekta") {
        created.url = Text(answer, "url");
        created.expires_at = UnixExpiry(answer, "expires_at", now_unix);
    } else if (provider == "openpay") {
        created.kind = "cash";
        const auto method = answer.find("payment_method");
        const json none = json::object();
        const json& pm = method != answer.end() && method->is_object() ? *method : none;
        created.reference = Text(pm, "reference");
        created.url = Text(pm, "barcode_url");
        created.expires_at = IsoUtc(Text(answer, "due_date"));
        if (!StoreReference(created.reference)) {
            why = "the charge carries no store reference";
            return std::nullopt;
        }
        if (!SafeUrl(created.url)) {
            why = "the charge carries no https URL for its barcode";
            return std::nullopt;
        }
    } else {
        why = "this provider creates nothing";
        return std::nullopt;
    }
    if (created.expires_at.empty()) {
        created.expires_at = IsoFromUnix(InstrumentExpiry(provider, now_unix));  // as asked for
    }
    if (created.provider_id.empty()) {
        why = "the answer carries no id";
        return std::nullopt;
    }
    if (created.kind == "page" && !SafeUrl(created.url)) {
        why = "the answer carries no https URL for the page";
        return std::nullopt;
    }
    return created;
}

}  // namespace cobrador::channels
