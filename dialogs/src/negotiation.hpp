#pragma once
// The arithmetic of negotiation: the settlements and instalment plans a policy bucket allows
// for an account, as PendingPlans. No messages and no dialog state: dialog.cpp's negotiation
// actions decide what to offer and say. Schedule() (dialogs/dialog.hpp) lives here too.

#include <cstdint>
#include <optional>

#include "dialogs/dialog.hpp"
#include "dialogs/policy.hpp"

namespace cobrador::dialogs::negotiation {

// `installments` (at least 2) payments after the bucket's down payment, none below `smallest`
// cents, whatever the bucket's own limits (a supervisor's plan beyond the policy).
std::optional<PendingPlan> InstallmentShape(const AccountView& account,
                                            const PolicyBucket& bucket,
                                            int installments,
                                            std::int64_t smallest);

// `installments` payments after the bucket's down payment; nullopt when the bucket does not
// allow that many, or an instalment would fall below its minimum.
std::optional<PendingPlan> InstallmentPlan(const AccountView& account,
                                           const PolicyBucket& bucket,
                                           int installments);

// The longest plan the bucket allows whose instalments stay above its minimum.
std::optional<PendingPlan> BestInstallmentPlan(const AccountView& account,
                                               const PolicyBucket& bucket);

// One payment of `pay_cents` that settles the account; nullopt when the bucket gives no
// discount, the discount is larger than it allows, or there is no discount at all.
std::optional<PendingPlan> Settlement(const AccountView& account,
                                      const PolicyBucket& bucket,
                                      std::int64_t pay_cents);

// The settlement at the bucket's largest discount.
std::optional<PendingPlan> BestSettlement(const AccountView& account, const PolicyBucket& bucket);

// The plan with instalments of at most `installment_cents` ("300 cada quincena"): as many as
// it takes to pay what the down payment leaves. `installment_cents` must be positive.
std::optional<PendingPlan> PlanPaying(const AccountView& account,
                                      const PolicyBucket& bucket,
                                      std::int64_t installment_cents);

}  // namespace cobrador::dialogs::negotiation
