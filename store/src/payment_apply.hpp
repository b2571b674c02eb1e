#pragma once
// Private to the store: one payment applied inside the caller's transaction, shared by the
// generic payments (ApplyPayments) and the providers' (RecordProviderEvent).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "store/payments.hpp"

#include "connection.hpp"

namespace cobrador::store {

// The provider payment a payments row came from.
struct ProviderPaymentKey {
    std::string provider;
    std::string payment;
};

// The account a payment reference names: by its Damm check digit, else by the Luhn digit the
// references had before December 2026, for an account that had one, while the transition
// (table reference_transition, `cobrador references`) lasts on the UTC day of `at` (an ISO
// instant: when the money was paid). Without an account, `reason` says why: unknown_reference,
// bad_check_digit, or old_reference (a Luhn reference after the transition ended).
struct ReferenceMatch {
    std::optional<std::int64_t> account;
    std::string reason;
    bool legacy = false;
};

ReferenceMatch MatchReference(Connection& db, std::string_view reference, std::string_view at);

// Applies `p` (whose payment_id is not stored yet) to the account its reference names, or
// holds it in suspense; pays promises and instalments; `notice` may queue a thank-you.
PaymentOutcome ApplyOnePayment(Connection& db,
                               const PaymentRecord& p,
                               std::string_view source,
                               const std::string& at,
                               const PaymentNoticeFn& notice,
                               const ProviderPaymentKey* provider);

// A SPEI transfer reported once with its key (a receipt confirmed with the CEP: payment_id
// "cep:…") and once without (a statement row or the generic webhook without clave_rastreo) is
// the same transfer when the reference, amount and currency match and the two are within two
// days of each other; each pairs with one other report at most. For an unkeyed `p`: the
// confirmed receipt's payment_id it repeats (and the pair is recorded); for a keyed one: the
// unkeyed payment it repeats (which takes its key). nullopt when there is none.
std::optional<std::string> SameTransfer(Connection& db, const PaymentRecord& p);

}  // namespace cobrador::store
