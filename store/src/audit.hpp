#pragma once
// Private to the store: the one way an audit_log row is written (audit_log is append-only).
// Used inside the caller's transaction, on the caller's thread.

#include <cstdint>
#include <optional>
#include <string>

#include "connection.hpp"

namespace cobrador::store {

// Who did what, and to which channel, debtor, account and conversation (NULL when not given).
struct AuditRow {
    std::string actor;  // bot, agent:<id>, import, system
    std::string kind;   // verified, promise_made, escalated, ...
    std::optional<std::string> channel = std::nullopt;
    std::optional<std::int64_t> debtor_id = std::nullopt;
    std::optional<std::int64_t> account_id = std::nullopt;
    std::optional<std::int64_t> conversation_id = std::nullopt;
};

// Writes `row` at `at`. `detail_sql` is the SQL expression of the detail column: json(?) of a
// JSON text, or json_object(...) of values; its ? take `detail_args` in order.
template <class... A>
void WriteAudit(Connection& db,
                const AuditRow& row,
                const std::string& at,
                const std::string& detail_sql,
                const A&... detail_args) {
    db.Exec(
        "INSERT INTO audit_log (at, actor, kind, channel, debtor_id, account_id, "
        "conversation_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?, " +
            detail_sql + ")",
        at,
        row.actor,
        row.kind,
        row.channel,
        row.debtor_id,
        row.account_id,
        row.conversation_id,
        detail_args...);
}

}  // namespace cobrador::store
