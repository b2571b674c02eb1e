#pragma once
// Private to the store: opening a case row (the chat's dialog and the collector API share it),
// and the SQL condition "an open complaint covers this account", which the reminder pass and
// the broken-promise sweep use. Inside the caller's transaction.

#include <cstdint>
#include <optional>
#include <string>

#include "connection.hpp"

namespace cobrador::store {

struct CaseRow {
    std::string kind;
    std::string category;
    std::int64_t debtor_id = 0;
    std::optional<std::int64_t> account_id;
    std::optional<std::int64_t> conversation_id;
    std::optional<std::int64_t> opened_by_agent;
    std::string description;
    std::string due_date;
};

struct OpenedCase {
    std::int64_t id = 0;
    std::string folio;
};

// Inserts the case and gives it its folio: "Q-2026-000123" (a complaint) or "P-2026-000124" (a
// privacy request), the year it was opened and its id. A complaint also cancels the reminders
// already queued for the debtor that have not gone out.
OpenedCase OpenCaseRow(Connection& db, const CaseRow& row, const std::string& now);

// "An open complaint covers account `account` of debtor `debtor`" (SQL expressions, e.g. "a.id"
// and "a.debtor_id"), for a WHERE clause.
std::string UnderOpenComplaint(const std::string& account, const std::string& debtor);

}  // namespace cobrador::store
