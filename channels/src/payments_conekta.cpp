// Conekta (payments-providers.md §2). Its webhook carries a `digest` header documented only as
// "the sha256 of the message encrypted by the private key" of a key pair made with
// POST /webhook_keys; the exact construction could not be confirmed. cobrador reads it as the
// usual RSA signature of that kind (PKCS#1 v1.5 over SHA-256 of the raw body, base64) and
// checks it when the public key is configured. Because that reading is unconfirmed, no money
// is ever credited on the notification's word: it names an order, and the order is fetched
// from Conekta's API with the private key; only what the API says counts.

#include <memory>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "payments_common.hpp"

namespace cobrador::channels {

using namespace provider;  // NOLINT(google-build-using-namespace): this file's helpers

namespace {

using json = nlohmann::json;

std::optional<std::string> DecodeBase64(std::string_view text) {
    std::string out(3 * (text.size() / 4 + 1), '\0');
    std::unique_ptr<EVP_ENCODE_CTX, decltype(&EVP_ENCODE_CTX_free)> ctx(EVP_ENCODE_CTX_new(),
                                                                        EVP_ENCODE_CTX_free);
    if (!ctx || text.empty() || text.size() > 4096) {
        return std::nullopt;
    }
    EVP_DecodeInit(ctx.get());
    int written = 0;
    if (EVP_DecodeUpdate(ctx.get(),
                         reinterpret_cast<unsigned char*>(out.data()),
                         &written,
                         reinterpret_cast<const unsigned char*>(text.data()),
                         static_cast<int>(text.size())) < 0) {
        return std::nullopt;
    }
    int last = 0;
    if (EVP_DecodeFinal(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + written, &last) !=
        1) {
        return std::nullopt;
    }
    out.resize(static_cast<std::size_t>(written + last));
    return out;
}

bool VerifyRsaSha256(std::string_view public_key_pem,
                     std::string_view body,
                     std::string_view signature) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(
        BIO_new_mem_buf(public_key_pem.data(), static_cast<int>(public_key_pem.size())), BIO_free);
    if (!bio) {
        return false;
    }
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
        PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    if (!key || !ctx ||
        EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1) {
        return false;
    }
    return EVP_DigestVerify(ctx.get(),
                            reinterpret_cast<const unsigned char*>(signature.data()),
                            signature.size(),
                            reinterpret_cast<const unsigned char*>(body.data()),
                            body.size()) == 1;
}

}  // namespace

bool ConektaKeyReadable(std::string_view public_key_pem) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(
        BIO_new_mem_buf(public_key_pem.data(), static_cast<int>(public_key_pem.size())), BIO_free);
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
        bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr, EVP_PKEY_free);
    return key != nullptr;
}

Verdict ParseConekta(std::string_view body,
                     std::string_view digest,
                     std::string_view public_key_pem) {
    if (!public_key_pem.empty()) {
        std::string_view value = digest;
        for (const std::string_view prefix : {"sha256=", "SHA-256=", "sha-256="}) {
            if (value.substr(0, prefix.size()) == prefix) {
                value.remove_prefix(prefix.size());
            }
        }
        const auto signature = DecodeBase64(value);
        if (!signature || !VerifyRsaSha256(public_key_pem, body, *signature)) {
            return Refuse(Refusal::kBadSignature, "missing or wrong digest");
        }
    }
    json event;
    Verdict v = Start("conekta", body, event);
    if (!v.ok()) {
        return v;
    }
    v.event.event_id = Id(event, "id");
    v.event.type = Text(event, "type");
    if (v.event.event_id.empty() || v.event.type.empty() || v.event.type.size() > 60) {
        return Refuse(Refusal::kMalformed, "an event needs id and type");
    }
    const json object =
        event.contains("data") && event["data"].is_object() && event["data"].contains("object")
            ? event["data"]["object"]
            : json();
    const std::string& type = v.event.type;
    std::string order;
    if (type == "order.paid" || type == "order.refunded" || type == "order.partially_refunded" ||
        type == "order.charged_back") {
        order = Id(object, "id");
    } else if (type == "charge.paid" || type == "charge.refunded" ||
               type == "charge.chargeback_created") {
        order = Id(object, "order_id");
    } else {
        return v;  // acknowledged: nothing about money we act on
    }
    if (!UrlSafe(order)) {
        return Refuse(Refusal::kMalformed, "the event names no order");
    }
    v.event.fetch_payment = order;
    return v;
}

HttpCall ConektaFetch(std::string_view api_base,
                      std::string_view api_key,
                      std::string_view order_id) {
    return Get(api_base,
               "/orders/" + std::string(order_id),
               {{"Authorization", "Bearer " + std::string(api_key)},
                {"Accept", "application/vnd.conekta-v2.1.0+json"},
                {"Accept-Language", "es"}});
}

std::optional<std::vector<store::ProviderReport>> ParseConektaOrder(std::string_view body,
                                                                    std::string& why) {
    const json order = ParseExact(body);
    if (order.is_discarded() || !order.is_object()) {
        why = "the order is not a JSON object";
        return std::nullopt;
    }
    store::ProviderReport base;
    base.provider = "conekta";
    base.payment = Id(order, "id");
    base.currency = Currency(Text(order, "currency"));
    const std::string status = Text(order, "payment_status");
    const auto amount = IntegerCents(order, "amount");
    if (base.payment.empty() || status.empty() || base.currency.empty() || !amount) {
        why = "an order needs id, payment_status, currency and amount";
        return std::nullopt;
    }
    // The paid charge: when, and how.
    std::optional<std::int64_t> paid_at;
    std::string method;
    if (order.contains("charges") && order["charges"].is_object() &&
        order["charges"].contains("data") && order["charges"]["data"].is_array()) {
        for (const json& charge : order["charges"]["data"]) {
            if (const auto at = IntegerCents(charge, "paid_at"); at && *at > 0) {
                paid_at = at;
                const json pm =
                    charge.contains("payment_method") ? charge["payment_method"] : json();
                method = Text(pm, "type");
                if (method.empty()) {
                    method = Text(pm, "object");
                }
            }
        }
    }
    std::vector<store::ProviderReport> out;
    const bool was_paid = status == "paid" || status == "partially_refunded" ||
                          status == "refunded" || status == "charged_back";
    if (was_paid && paid_at && *amount > 0) {
        store::ProviderReport r = base;
        r.total_cents = *amount;
        r.paid_at = IsoFromUnix(*paid_at);
        if (r.paid_at.empty()) {
            why = "the charge's paid_at is not a date of this century";
            return std::nullopt;
        }
        const json metadata = order.contains("metadata") ? order["metadata"] : json::object();
        r.reference = Reference(Text(metadata, "cobrador_reference"));
        if (r.reference.empty()) {
            r.reference = Reference(Text(metadata, "reference"));
        }
        r.method = method.empty() ? std::string("conekta") : method.substr(0, 40);
        out.push_back(std::move(r));
        std::int64_t back = IntegerCents(order, "amount_refunded").value_or(0);
        std::string kind = "refund";
        if (status == "charged_back") {
            back = *amount;
            kind = "chargeback";
        }
        if (back > 0) {
            store::ProviderReport reversed = base;
            reversed.kind = store::ProviderReport::Kind::kReversed;
            reversed.reversal_kind = kind;
            reversed.total_cents = std::min(back, *amount);
            out.push_back(std::move(reversed));
        }
    }
    return out;
}

}  // namespace cobrador::channels
