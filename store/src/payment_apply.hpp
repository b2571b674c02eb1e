#pragma once
// Private to the store: one payment applied inside the caller's transaction, shared by the
// generic payments (ApplyPayments) and the providers' (RecordProviderEvent).

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

// Applies `p` (whose payment_id is not stored yet) to the account its reference names, or
// holds it in suspense; pays promises and instalments; `notice` may queue a thank-you.
PaymentOutcome ApplyOnePayment(Connection& db,
                               const PaymentRecord& p,
                               std::string_view source,
                               const std::string& at,
                               const PaymentNoticeFn& notice,
                               const ProviderPaymentKey* provider);

}  // namespace cobrador::store
