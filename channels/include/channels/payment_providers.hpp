#pragma once
// The payment providers' notifications (docs/payments.md; facts in
// ../shared/domain/payments-providers.md): each verified exactly as its provider specifies and
// read into the ledger's one shape, store::ProviderEvent, with amounts converted from the
// provider's unit (Stripe's centavos, the others' decimal pesos) without a float.
//
// Pure functions over bytes; safe from any thread. Secrets are compared in constant time and
// never appear in `why`.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "channels/http_call.hpp"
#include "store/payments.hpp"

namespace cobrador::channels {

enum class Refusal {
    kBadSignature,  // missing or wrong signature or credentials: 401
    kStale,         // signed too long ago (Stripe's 300 s): 401
    kMalformed,     // verified, but not a notification we can read: 400
};

// What a notification is: refused, or the event to store.
struct Verdict {
    std::optional<Refusal> refusal;
    std::string why;  // for the log and the error body; never a secret
    store::ProviderEvent event;

    bool ok() const { return !refusal; }
};

// A parameter of a request's query string, decoded ('+' a space, %XX escapes); nullopt when
// absent or when the query is not a valid form (a raw '#', a broken escape).
std::optional<std::string> QueryParameter(std::string_view query, std::string_view name);

// Stripe: `Stripe-Signature: t=…,v1=…[,v1=…]` is HMAC-SHA256 under the endpoint secret (the
// whole "whsec_…" string) of "t.body"; any v1 may match; t older than `tolerance` seconds
// before `now_unix` is stale. Money in: payment_intent.succeeded and .partially_funded
// (amount_received so far), checkout.session.completed when paid and
// .async_payment_succeeded (keyed by the session's payment intent, so the same payment
// reported by both counts once). Money back: charge.refunded (amount_refunded so far),
// charge.dispute.created. Our reference comes from metadata.cobrador_reference (or
// metadata.reference) or the session's client_reference_id.
Verdict ParseStripe(std::string_view body,
                    std::string_view signature_header,
                    std::string_view secret,
                    std::int64_t now_unix,
                    std::int64_t tolerance = 300);

// Mercado Pago: `x-signature: ts=…,v1=…` is HMAC-SHA256 under the application's secret of the
// manifest "id:<data.id of the query, lower case>;request-id:<x-request-id>;ts:<ts>;" (a part
// whose value is absent is left out). The notification carries only ids: a "payment" one is
// stored with fetch_payment set to the signed data.id (a body naming another id is refused).
Verdict ParseMercadoPago(std::string_view body,
                         std::string_view query,
                         std::string_view x_signature,
                         std::string_view x_request_id,
                         std::string_view secret);

// GET {base}/v1/payments/{id} with the access token.
HttpCall MercadoPagoFetch(std::string_view api_base,
                          std::string_view access_token,
                          std::string_view payment_id);

// The fetched payment: money in once approved (transaction_amount, at date_approved); money
// back when refunded (transaction_amount_refunded so far) or charged back. nullopt with `why`
// when the answer cannot be read.
std::optional<std::vector<store::ProviderReport>> ParseMercadoPagoPayment(std::string_view body,
                                                                          std::string& why);

// Openpay: HTTP Basic with the user and password set on the webhook, compared in constant
// time. charge.succeeded and spei.received are money in (transaction.amount, decimal pesos);
// charge.refunded (its refund's id and amount) and chargeback.accepted money back. Our
// reference is transaction.order_id up to its first '.'. The "verification" notification is
// accepted with no money; its code is in event.type's companion `verification_code`.
// `fetch` (the private key is configured): a charge's notification (succeeded, refunded,
// chargeback) is stored with fetch_payment set to the charge, to be read from the API before
// anything counts; spei.received is still taken on its word.
Verdict ParseOpenpay(std::string_view body,
                     std::string_view authorization,
                     std::string_view user,
                     std::string_view password,
                     bool fetch = false);

// GET {base}/v1/{merchant}/charges/{id}, the private key as the Basic user.
HttpCall OpenpayFetch(std::string_view api_base,
                      std::string_view merchant_id,
                      std::string_view private_key,
                      std::string_view charge_id);

// The charge read back for a notification of `type`: money in once it is completed (or was,
// before a refund or chargeback); its refund once it carries one; a chargeback once its status
// says so. A charge in progress is nullopt with `why` (tried again later); one that does not
// confirm the notification is an empty list (nothing counts).
std::optional<std::vector<store::ProviderReport>> ParseOpenpayCharge(std::string_view type,
                                                                     std::string_view body,
                                                                     std::string& why);

// Openpay's verification code, when the body is the "verification" notification.
std::optional<std::string> OpenpayVerificationCode(std::string_view body);

// STP: an "abono", a settled incoming SPEI transfer (camelCase as STP's SendAbono, or
// PascalCase). STP signs nothing. One report of money in, keyed by clave de rastreo, date and
// sending bank; `clabe` is the beneficiary account, which the caller must map to one of our
// accounts (or return the transfer); `reference` is what the debtor quoted
// (referenciaNumerica, zero-padded to seven digits, or the concept's last word), which counts
// only for a transfer into the creditor's own CLABE. `received_at` (ISO 8601 UTC) is the date when
// the abono carries no tsLiquidacion.
Verdict ParseStpAbono(std::string_view body, std::string_view received_at);

// Conekta: the `digest` header read as an RSA signature (PKCS#1 v1.5, SHA-256 of the raw body,
// base64) under the public key of POST /webhook_keys, checked when `public_key_pem` is given
// (Conekta documents it only in part: docs/payments.md). Money is never taken from the
// notification: order.paid, .refunded, .partially_refunded, .charged_back and charge.paid,
// .refunded, .chargeback_created name an order, stored with fetch_payment set to it.
Verdict ParseConekta(std::string_view body,
                     std::string_view digest,
                     std::string_view public_key_pem);

// Whether `public_key_pem` is a public key OpenSSL can read (checked at start).
bool ConektaKeyReadable(std::string_view public_key_pem);

// GET {base}/orders/{id} with the private API key.
HttpCall ConektaFetch(std::string_view api_base,
                      std::string_view api_key,
                      std::string_view order_id);

// The fetched order (amounts in centavos): money in once a charge was paid (amount, at the
// charge's paid_at); money back from amount_refunded so far, or all of it once charged back.
std::optional<std::vector<store::ProviderReport>> ParseConektaOrder(std::string_view body,
                                                                    std::string& why);

}  // namespace cobrador::channels
