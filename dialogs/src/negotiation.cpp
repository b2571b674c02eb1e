#include "negotiation.hpp"

#include "dialogs/calendar.hpp"
#include "dialogs/entities.hpp"
#include "dialogs/money.hpp"

namespace cobrador::dialogs {

namespace negotiation {

std::optional<PendingPlan> InstallmentShape(const AccountView& account,
                                            const PolicyBucket& bucket,
                                            int installments,
                                            std::int64_t smallest) {
    const std::int64_t balance = account.balance.cents;
    const std::int64_t down = PercentOf(balance, bucket.min_down_payment_bp).value_or(0);
    const std::int64_t rest = balance - down;
    if (installments < 2 || rest <= 0) {
        return std::nullopt;
    }
    const auto parts = SplitEvenly(rest, installments);
    if (parts.empty() || parts.back() < smallest) {
        return std::nullopt;
    }
    return PendingPlan{"installments", balance, 0, down, installments, parts.front()};
}

std::optional<PendingPlan> InstallmentPlan(const AccountView& account,
                                           const PolicyBucket& bucket,
                                           int installments) {
    if (installments > bucket.max_installments) {
        return std::nullopt;
    }
    return InstallmentShape(account, bucket, installments, bucket.min_installment_cents);
}

std::optional<PendingPlan> BestInstallmentPlan(const AccountView& account,
                                               const PolicyBucket& bucket) {
    for (int n = bucket.max_installments; n >= 2; --n) {
        if (auto plan = InstallmentPlan(account, bucket, n)) {
            return plan;
        }
    }
    return std::nullopt;
}

std::optional<PendingPlan> Settlement(const AccountView& account,
                                      const PolicyBucket& bucket,
                                      std::int64_t pay_cents) {
    const std::int64_t balance = account.balance.cents;
    const std::int64_t floor = balance - PercentOf(balance, bucket.max_discount_bp).value_or(0);
    if (bucket.max_discount_bp <= 0 || pay_cents < floor || pay_cents >= balance) {
        return std::nullopt;
    }
    return PendingPlan{"settlement", pay_cents, balance - pay_cents, 0, 0, 0};
}

std::optional<PendingPlan> BestSettlement(const AccountView& account, const PolicyBucket& bucket) {
    const std::int64_t balance = account.balance.cents;
    return Settlement(
        account, bucket, balance - PercentOf(balance, bucket.max_discount_bp).value_or(0));
}

std::optional<PendingPlan> PlanPaying(const AccountView& account,
                                      const PolicyBucket& bucket,
                                      std::int64_t installment_cents) {
    const std::int64_t down =
        PercentOf(account.balance.cents, bucket.min_down_payment_bp).value_or(0);
    const std::int64_t rest = account.balance.cents - down;
    const auto n = static_cast<int>((rest + installment_cents - 1) / installment_cents);
    return InstallmentPlan(account, bucket, n);
}

}  // namespace negotiation

std::vector<Installment> Schedule(const PendingPlan& plan, const Date& today, int settlement_days) {
    std::vector<Installment> out;
    if (plan.kind == "settlement") {
        out.push_back({AddDays(today, settlement_days), plan.total_cents});
        return out;
    }
    Date due = NextQuincena(today);
    if (plan.down_cents > 0) {
        out.push_back({due, plan.down_cents});
        due = NextQuincena(due);
    }
    const auto parts = SplitEvenly(plan.total_cents - plan.down_cents, plan.installments);
    for (const std::int64_t cents : parts) {
        out.push_back({due, cents});
        due = NextQuincena(due);
    }
    return out;
}

}  // namespace cobrador::dialogs
