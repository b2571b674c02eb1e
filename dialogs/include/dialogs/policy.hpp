#pragma once
// The creditor's negotiation policy: what the bot may offer and accept, by days past due.
// Read from a JSON file (dialogs/data/policy.json is the default, embedded at build time; see
// docs/dialog.md for the format). Value types; safe to share between threads once built.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cobrador::dialogs {

struct PolicyBucket {
    std::string name;           // "1-30"
    int min_days_past_due = 0;  // this bucket holds accounts from here up to the next one
    int max_discount_bp = 0;    // the largest settlement discount, in basis points of balance
    int settlement_days = 7;    // a settlement offer must be paid within this many days
    int max_installments = 0;   // 0 or 1: no instalment plans in this bucket
    std::int64_t min_installment_cents = 0;  // no instalment below this
    int min_down_payment_bp = 0;             // the first payment of a plan, at least this share
    bool bot_approves = true;                // false: every negotiation goes to a collector
};

struct Policy {
    std::vector<PolicyBucket> buckets;  // sorted by min_days_past_due, the first at 0
    int promise_horizon_days = 15;      // a promise may be dated up to today + this, or the
                                        // next quincena payday when that is later
};

// The bucket for an account `days_past_due` days late.
const PolicyBucket& BucketFor(const Policy& policy, int days_past_due);

// Parses a policy file; on failure `error` says what is wrong, for a person.
std::optional<Policy> ParsePolicy(std::string_view json, std::string& error);

// The embedded default (shared/domain §5.3's table).
const Policy& DefaultPolicy();

}  // namespace cobrador::dialogs
