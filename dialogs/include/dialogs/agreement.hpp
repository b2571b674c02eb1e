#pragma once
// What a collector may record for one account from the console or the API: a promise to pay,
// a settlement or an instalment plan. Judged by the creditor's policy, the same one the bot
// negotiates with (dialogs/policy.hpp): a collector stays inside it; a supervisor may go beyond
// it, and the record says so. Some things nobody may record (a date in the past, more than the
// balance, a second open promise). Pure; safe from any thread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dialogs/dialog.hpp"
#include "dialogs/policy.hpp"

namespace cobrador::dialogs {

enum class AgreementKind { kPromise, kSettlement, kInstallments };

// "promise", "settlement", "installments"; nullopt for anything else.
std::optional<AgreementKind> ParseAgreementKind(std::string_view text);
std::string_view ToString(AgreementKind kind);

struct AgreementAsk {
    AgreementKind kind = AgreementKind::kPromise;
    std::int64_t amount_cents = 0;  // promise: how much; settlement: what settles the account
    std::optional<Date> date;       // promise: when (settlements and plans follow the policy)
    int installments = 0;           // installments: how many after the policy's down payment
};

// Why an ask is not recorded. The codes are the API's (docs/api.md).
enum class AgreementProblem {
    kNone,
    kNoBalance,      // the account owes nothing
    kPromiseOpen,    // it already has an open promise
    kPlanActive,     // it already has an active plan
    kPastDate,       // a promise dated before today
    kTooFar,         // a promise dated more than a year ahead: nobody
    kAboveBalance,   // a promise for more than the balance, a settlement of it all or more
    kBadCount,       // instalments outside 2..120
    kOutsidePolicy,  // a collector asked for more than the policy allows
};

std::string_view Code(AgreementProblem problem);

struct AgreementVerdict {
    AgreementProblem problem = AgreementProblem::kNone;
    std::string why;  // for a person, in English (the API's error), with the limit
    // With kOutsidePolicy, the limit it crossed, for a console to word: latest_date (YYYY-MM-DD),
    // min_amount, min_settlement, min_installment (decimal amounts), max_installments (a count),
    // no_discount or no_plans (no value).
    std::string limit_kind;
    std::string limit;
    bool beyond_policy = false;         // recorded only because a supervisor asked
    PendingPlan plan;                   // settlement, installments
    std::vector<Installment> schedule;  // settlement, installments: when and how much

    bool ok() const { return problem == AgreementProblem::kNone; }
};

// Judges `ask` for `account` on `today`, by `policy`; `supervisor` may go beyond the policy.
AgreementVerdict JudgeAgreement(const AgreementAsk& ask,
                                const AccountView& account,
                                const Policy& policy,
                                const Date& today,
                                bool supervisor);

// The latest date the policy lets a promise made on `today` fall on: today plus the policy's
// horizon, or the next quincena payday when that is later. The bot's limit too.
Date PromiseHorizon(const Policy& policy, const Date& today);

}  // namespace cobrador::dialogs
