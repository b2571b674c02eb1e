#include "dialogs/agreement.hpp"

#include <algorithm>

#include "dialogs/calendar.hpp"
#include "dialogs/entities.hpp"
#include "dialogs/money.hpp"

#include "negotiation.hpp"

namespace cobrador::dialogs {

namespace {

constexpr int kFarthestPromiseDays = 366;  // nobody records a promise beyond a year
constexpr int kMostInstallments = 120;     // as the policy file's own limit

AgreementVerdict Refused(AgreementProblem problem, std::string why) {
    AgreementVerdict v;
    v.problem = problem;
    v.why = std::move(why);
    return v;
}

std::string Pesos(std::int64_t cents) {
    return "$" + FormatDecimalCents(cents);
}

// The policy's limit an ask crosses: refused for a collector, noted for a supervisor.
struct Limit {
    std::string kind;
    std::string value;
    std::string why;
};

AgreementVerdict Crossed(const Limit& limit, bool supervisor, AgreementVerdict allowed) {
    if (supervisor) {
        allowed.beyond_policy = true;
        return allowed;
    }
    AgreementVerdict v =
        Refused(AgreementProblem::kOutsidePolicy, limit.why + "; a supervisor may record it");
    v.limit_kind = limit.kind;
    v.limit = limit.value;
    return v;
}

AgreementVerdict JudgePromise(const AgreementAsk& ask,
                              const AccountView& account,
                              const Policy& policy,
                              const Date& today,
                              bool supervisor) {
    if (account.open_promise) {
        return Refused(AgreementProblem::kPromiseOpen,
                       "the account already has an open promise (" +
                           Pesos(account.open_promise->amount.cents) + " on " +
                           FormatIsoDate(account.open_promise->date) + ")");
    }
    if (ask.amount_cents <= 0 || !ask.date) {
        return Refused(AgreementProblem::kAboveBalance, "a promise needs an amount and a date");
    }
    if (ask.amount_cents > account.balance.cents) {
        return Refused(
            AgreementProblem::kAboveBalance,
            "the promise is for more than the balance (" + Pesos(account.balance.cents) + ")");
    }
    if (*ask.date < today) {
        return Refused(AgreementProblem::kPastDate, "the promise's date is in the past");
    }
    if (*ask.date > AddDays(today, kFarthestPromiseDays)) {
        return Refused(AgreementProblem::kTooFar, "a promise is dated within a year");
    }
    const Date horizon = PromiseHorizon(policy, today);
    if (*ask.date > horizon) {
        return Crossed({"latest_date",
                        FormatIsoDate(horizon),
                        "the policy allows promises up to " + FormatIsoDate(horizon)},
                       supervisor,
                       {});
    }
    const std::int64_t minimum =
        std::min(account.min_payment_cents.value_or(0), account.balance.cents);
    if (ask.amount_cents < minimum) {
        return Crossed({"min_amount",
                        FormatDecimalCents(minimum),
                        "the policy's smallest promise for this account is " + Pesos(minimum)},
                       supervisor,
                       {});
    }
    return {};
}

// Why the bucket does not allow an instalment plan of `installments`.
Limit InstallmentLimit(const PolicyBucket& bucket, int installments) {
    if (bucket.max_installments < 2) {
        return {"no_plans",
                "",
                "the policy gives no instalment plans to accounts " + bucket.name + " days late"};
    }
    if (installments > bucket.max_installments) {
        return {"max_installments",
                std::to_string(bucket.max_installments),
                "the policy allows at most " + std::to_string(bucket.max_installments) +
                    " instalments for this account"};
    }
    return {"min_installment",
            FormatDecimalCents(bucket.min_installment_cents),
            "the policy's smallest instalment is " + Pesos(bucket.min_installment_cents) +
                ": choose fewer"};
}

AgreementVerdict JudgePlan(const AgreementAsk& ask,
                           const AccountView& account,
                           const Policy& policy,
                           const Date& today,
                           bool supervisor) {
    if (account.active_plan) {
        return Refused(AgreementProblem::kPlanActive, "the account already has an active plan");
    }
    const PolicyBucket& bucket = BucketFor(policy, DaysPastDue(account.due_date, today));
    const std::int64_t balance = account.balance.cents;
    std::optional<PendingPlan> plan;
    std::optional<PendingPlan> beyond;
    Limit outside;
    if (ask.kind == AgreementKind::kSettlement) {
        if (ask.amount_cents <= 0 || ask.amount_cents >= balance) {
            return Refused(AgreementProblem::kAboveBalance,
                           "a settlement is an amount below the balance (" + Pesos(balance) + ")");
        }
        plan = negotiation::Settlement(account, bucket, ask.amount_cents);
        beyond = PendingPlan{"settlement", ask.amount_cents, balance - ask.amount_cents, 0, 0, 0};
        const std::int64_t floor = balance - PercentOf(balance, bucket.max_discount_bp).value_or(0);
        outside =
            bucket.max_discount_bp <= 0
                ? Limit{"no_discount",
                        "",
                        "the policy gives no discount to accounts " + bucket.name + " days late"}
                : Limit{"min_settlement",
                        FormatDecimalCents(floor),
                        "the policy's smallest settlement for this account is " + Pesos(floor)};
    } else {
        if (ask.installments < 2 || ask.installments > kMostInstallments) {
            return Refused(AgreementProblem::kBadCount, "a plan has from 2 to 120 instalments");
        }
        plan = negotiation::InstallmentPlan(account, bucket, ask.installments);
        // Beyond the policy, the same shape: its down payment, then equal parts of the rest.
        beyond = negotiation::InstallmentShape(account, bucket, ask.installments, 1);
        if (!beyond) {
            return Refused(AgreementProblem::kBadCount,
                           "the balance cannot be split into that many instalments");
        }
        outside = InstallmentLimit(bucket, ask.installments);
    }
    AgreementVerdict v;
    v.plan = plan ? *plan : *beyond;
    if (!plan) {
        v = Crossed(outside, supervisor, std::move(v));
        if (!v.ok()) {
            return v;
        }
    }
    v.schedule = Schedule(v.plan, today, bucket.settlement_days);
    return v;
}

}  // namespace

std::optional<AgreementKind> ParseAgreementKind(std::string_view text) {
    for (const AgreementKind kind :
         {AgreementKind::kPromise, AgreementKind::kSettlement, AgreementKind::kInstallments}) {
        if (text == ToString(kind)) {
            return kind;
        }
    }
    return std::nullopt;
}

std::string_view ToString(AgreementKind kind) {
    switch (kind) {
        case AgreementKind::kPromise:
            return "promise";
        case AgreementKind::kSettlement:
            return "settlement";
        case AgreementKind::kInstallments:
            return "installments";
    }
    return "promise";
}

std::string_view Code(AgreementProblem problem) {
    switch (problem) {
        case AgreementProblem::kNone:
            return "";
        case AgreementProblem::kNoBalance:
            return "no_balance";
        case AgreementProblem::kPromiseOpen:
            return "promise_open";
        case AgreementProblem::kPlanActive:
            return "plan_active";
        case AgreementProblem::kPastDate:
            return "past_date";
        case AgreementProblem::kTooFar:
            return "too_far";
        case AgreementProblem::kAboveBalance:
            return "above_balance";
        case AgreementProblem::kBadCount:
            return "bad_count";
        case AgreementProblem::kOutsidePolicy:
            return "outside_policy";
    }
    return "";
}

Date PromiseHorizon(const Policy& policy, const Date& today) {
    return std::max(AddDays(today, policy.promise_horizon_days), NextQuincena(today));
}

AgreementVerdict JudgeAgreement(const AgreementAsk& ask,
                                const AccountView& account,
                                const Policy& policy,
                                const Date& today,
                                bool supervisor) {
    if (account.balance.cents <= 0) {
        return Refused(AgreementProblem::kNoBalance, "the account owes nothing");
    }
    if (ask.kind == AgreementKind::kPromise) {
        return JudgePromise(ask, account, policy, today, supervisor);
    }
    return JudgePlan(ask, account, policy, today, supervisor);
}

}  // namespace cobrador::dialogs
