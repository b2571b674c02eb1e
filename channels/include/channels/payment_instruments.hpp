#pragma once
// What cobrador asks a payment provider to create so that a debtor can pay one account: a
// hosted payment page (Stripe Checkout Session, Mercado Pago preference, Conekta payment link)
// or a store reference (Openpay's Paynet charge). Each carries our payment reference where
// that provider echoes it back in its notifications (docs/payments.md), so the payment lands
// on the account. Facts: ../shared/domain/payments-providers.md §1.6, §2.5, §3.5, §4.5.
//
// Pure functions: the request rendered but not sent, and the answer read. Safe from any
// thread. Amounts go out exactly (centavos for Stripe and Conekta, decimal pesos written from
// the centavos for the others), never through a float.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "channels/http_call.hpp"
#include "store/payments.hpp"

namespace cobrador::channels {

// The provider's API, from the configuration.
struct InstrumentApi {
    std::string provider;     // stripe, mercadopago, conekta, openpay
    std::string base;         // the API base (http for tests)
    std::string key;          // secret key, access token or private key
    std::string merchant_id;  // Openpay's
    std::string return_url;   // where a hosted page sends the debtor after paying
};

// One account's instrument to create.
struct InstrumentOrder {
    std::int64_t instrument_id = 0;  // ours: the idempotency key (one request, one instrument)
    std::string reference;           // our payment reference for the account
    std::string account_key;         // the creditor's account id, shown on the page
    std::int64_t amount_cents = 0;
    std::string currency = "MXN";
    std::string company;  // the creditor, named on the page
    std::string debtor_name;
    std::string email;          // may be empty
    std::string phone;          // E.164, may be empty
    std::int64_t now_unix = 0;  // when the request is made
};

// What the provider created: the ledger's shape.
using CreatedInstrument = store::CreatedInstrument;

// Whether `provider` can create instruments here.
bool CreatesInstruments(std::string_view provider);

// How long an instrument asked for at `now_unix` stays valid: Stripe's Checkout allows at most
// 24 hours (23 are asked for); the others are asked for three days.
std::int64_t InstrumentExpiry(std::string_view provider, std::int64_t now_unix);

// The request creating `order` through `api` (nullopt: the provider creates nothing here).
std::optional<HttpCall> CreateInstrumentCall(const InstrumentApi& api,
                                             const InstrumentOrder& order);

// The provider's answer to CreateInstrumentCall (HTTP 200 or 201): nullopt with `why` when it
// does not carry what the debtor needs (a page's https URL, a store reference).
std::optional<CreatedInstrument> ParseCreatedInstrument(std::string_view provider,
                                                        std::string_view body,
                                                        std::int64_t now_unix,
                                                        std::string& why);

}  // namespace cobrador::channels
