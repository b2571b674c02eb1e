#pragma once
// Disputes, complaints and privacy requests (docs/cases.md): what the API, the console and the
// monthly report read of them, and what a collector writes. Value types only; the operations
// are on Ledger (store/src/case_ledger.cpp).

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/payments.hpp"

namespace cobrador::store {

// The categories of each kind, as the regulator's report counts them.
inline constexpr std::array<std::string_view, 6> kComplaintCategories = {
    "not_mine", "identity_theft", "wrong_amount", "already_paid", "treatment", "other"};
inline constexpr std::array<std::string_view, 4> kPrivacyRights = {
    "access", "rectification", "cancellation", "opposition"};
// How a closed case came out for the debtor.
inline constexpr std::array<std::string_view, 3> kCaseOutcomes = {
    "favorable", "partial", "unfavorable"};

// Whether `category` belongs to `kind` ("complaint" or "privacy").
bool IsCaseCategory(std::string_view kind, std::string_view category);
bool IsCaseOutcome(std::string_view outcome);

struct CaseRecord {
    std::int64_t id = 0;
    std::string folio;
    std::string kind;
    std::string category;
    std::int64_t debtor_id = 0;
    std::string debtor_name;
    std::string phone;
    std::optional<std::string> account_id;  // the creditor's key; none: every account
    std::optional<std::int64_t> conversation_id;
    std::optional<std::int64_t> opened_by_agent;  // none: the debtor, in the chat
    std::string description;
    std::string opened_at;
    std::string due_date;
    std::string status;  // open, closed
    std::optional<std::string> outcome;
    std::optional<std::string> resolution;
    std::optional<std::string> closed_at;
    std::optional<std::int64_t> closed_by;
    std::optional<std::string> opened_by_name;  // the agents' names, for the console
    std::optional<std::string> closed_by_name;
};

struct CaseFilter {
    std::optional<std::string> status = "open";  // nullopt: any
    std::optional<std::string> kind;             // nullopt: both
    std::optional<std::int64_t> debtor_id;
    std::size_t limit = 200;
};

// A case a collector registers (the debtor called, wrote a letter, or said it to them).
struct NewCase {
    std::optional<std::int64_t> conversation_id;  // the debtor and channel come from it
    std::optional<std::string> debtor_key;        // or the creditor's debtor_id
    std::string kind = "complaint";
    std::string category = "other";
    std::optional<std::string> account_key;  // none: every account of the debtor
    std::string description;
    std::int64_t agent_id = 0;
    std::string due_date;  // YYYY-MM-DD, computed by the caller from the business days
};

// Closing a case: the written resolution, sent to the debtor and kept.
struct CaseClosing {
    std::int64_t case_id = 0;
    std::int64_t agent_id = 0;
    std::string outcome;
    std::string resolution;
};

// Renders the resolution for the debtor (the catalog's case_resolved in their locale); nullopt
// sends nothing (the channel cannot take it now).
using CaseResolutionFn =
    std::function<std::optional<ProactiveMessage>(const Addressee&, const CaseRecord&)>;

// What a collector's action on cases came to: the case, or why it was refused ("not_found",
// "closed" (already), "no_debtor", "no_account").
struct CaseAction {
    std::optional<CaseRecord> record;
    std::string refused;
    bool message_queued = false;  // closing: false when nobody could be written to
};

// The month's cases for the regulator (cobrador report complaints): counted by kind and
// category as opened in the month, and by outcome as closed in it; a month with none is a
// report of zeros.
struct CaseCounts {
    std::int64_t opened = 0;
    std::int64_t closed = 0;
    std::map<std::string, std::int64_t> by_outcome;  // closed in the month
    std::int64_t open_at_month_end = 0;              // opened in the month, still open then
    std::int64_t answered_late = 0;                  // closed in the month after their due date
};

struct ComplaintsReport {
    std::string month;  // YYYY-MM
    // kind -> category -> counts; every known category listed, zeros included.
    std::map<std::string, std::map<std::string, CaseCounts>> counts;
    std::vector<CaseRecord> cases;  // opened or closed in the month
};

}  // namespace cobrador::store
