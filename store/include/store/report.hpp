#pragma once
// Collection KPIs (CONTRACT.md "Report"), computed from the ledger. Value types only.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cobrador::store {

struct ReportQuery {
    std::string from;      // first day counted, YYYY-MM-DD; empty = since the beginning
    std::string to;        // last day counted, YYYY-MM-DD; empty = up to `as_of`
    std::string as_of;     // the day days-past-due are measured on (required)
    std::string currency;  // money figures count accounts in this currency; empty = most common
};

struct Kpis {
    std::int64_t accounts = 0;
    std::int64_t balance_outstanding_cents = 0;
    std::int64_t collected_cents = 0;
    std::int64_t promises_made = 0;
    std::int64_t promises_kept = 0;
    std::int64_t promises_broken = 0;
    std::int64_t promises_kept_late = 0;  // broken, then paid in full
    std::int64_t plans_created = 0;
    std::int64_t plans_broken = 0;  // an instalment missed beyond grace
    std::int64_t references_issued = 0;
    std::int64_t escalations = 0;  // escalation events (a conversation may have several)
    std::int64_t escalated_conversations = 0;  // conversations escalated at least once
    std::int64_t opt_outs = 0;
    std::int64_t conversations = 0;
    std::int64_t verified_conversations = 0;

    // collected / (collected + outstanding): the share of what was owed during the period that
    // came in. 0 when nothing was owed.
    double RecoveryRate() const;
    // kept / (kept + broken) among promises that came due in the period.
    double PromiseKeptRate() const;
};

// One day's movement, for charts of recovery over time and the promise funnel.
struct DailyFigures {
    std::string date;  // YYYY-MM-DD (UTC)
    std::int64_t collected_cents = 0;
    std::int64_t promises_made = 0;
    std::int64_t promises_kept = 0;
    std::int64_t promises_broken = 0;
};

// Money figures of one currency of the portfolio: every currency is listed, whichever the report
// is in, so that no account drops out of sight.
struct CurrencyTotals {
    std::string currency;
    std::int64_t accounts = 0;
    std::int64_t balance_outstanding_cents = 0;
    std::int64_t collected_cents = 0;  // applied in the period, net of reversals
};

// What one agent did in the period (the supervisor's view of each collector). Promises and
// plans count as the agent's when the agent recorded them (from the console, the API, or when
// closing); recovered is what those promises brought in: the amounts of the ones kept within
// the period, in the report's currency.
struct AgentFigures {
    std::int64_t agent_id = 0;
    std::string name;
    std::string role;  // collector, supervisor
    bool disabled = false;
    std::int64_t claimed = 0;     // conversations they took themselves
    std::int64_t handed_out = 0;  // conversations handed to them in turn, while on shift
    std::int64_t closed = 0;      // conversations ended with a disposition
    std::int64_t messages_sent = 0;
    std::int64_t promises_made = 0;
    std::int64_t promises_kept = 0;    // of theirs, kept within the period
    std::int64_t promises_broken = 0;  // of theirs, broken within the period
    std::int64_t plans_created = 0;
    std::int64_t recovered_cents = 0;
};

struct Report {
    ReportQuery query;  // with every default filled in
    std::string currency;
    std::vector<CurrencyTotals> currencies;  // every currency of accounts or payments, A to Z
    Kpis total;
    std::vector<DailyFigures> daily;     // days of the period with any movement, in order
    std::int64_t suspense_payments = 0;  // paid in the period, matched to no account
    std::int64_t suspense_cents = 0;     // their sum, in `currency`
    std::vector<std::pair<std::string, Kpis>> by_channel;  // whatsapp, sms, sandbox
    std::vector<std::pair<std::string, Kpis>> by_bucket;   // current, 1-30, 31-60, 61-90, 90+
    std::vector<AgentFigures> by_agent;  // every agent, by name (disabled ones too)
};

// "current" (not past due), "1-30", "31-60", "61-90", "90+".
std::string_view DpdBucket(int days_past_due);

// The buckets in their natural order.
const std::vector<std::string>& DpdBuckets();

}  // namespace cobrador::store
