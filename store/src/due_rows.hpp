#pragma once
// Private to the store: the work queues kept in a table with status 'pending' and
// next_attempt_at (provider_events, payment_instruments). A worker takes the rows due by
// pushing their next_attempt_at to the end of its hold, on the condition that nobody moved it
// first, so two workers (or replicas) never take the same row at once; a worker that dies
// lets its rows come due again when the hold runs out. Used inside the caller's transaction.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "connection.hpp"

namespace cobrador::store {

// The ids of the rows of `table` due at `now`, oldest first, now held until `hold_until`.
inline std::vector<std::int64_t> TakeDue(Connection& db,
                                         const std::string& table,
                                         std::string_view now,
                                         std::string_view hold_until,
                                         std::size_t limit) {
    std::vector<std::pair<std::int64_t, std::string>> due;
    auto q = db.Query("SELECT id, next_attempt_at FROM " + table +
                          " WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY "
                          "next_attempt_at, id LIMIT ?",
                      now,
                      static_cast<std::int64_t>(limit));
    while (q->Step()) {
        due.emplace_back(q->Int64(0), q->Text(1));
    }
    std::vector<std::int64_t> taken;
    Prepared hold = db.Prepare("UPDATE " + table +
                               " SET next_attempt_at = ? WHERE id = ? AND status = 'pending' "
                               "AND next_attempt_at = ?");
    for (const auto& [id, was] : due) {
        if (hold.Exec(hold_until, id, was) == 1) {
            taken.push_back(id);
        }
    }
    return taken;
}

// A pending row whose work failed: due again at `next_attempt_at`, or given up (`failed`), with
// the error kept for the operator.
inline void RetryDue(Connection& db,
                     const std::string& table,
                     std::int64_t id,
                     std::string_view error,
                     std::string_view next_attempt_at,
                     bool failed) {
    db.Exec("UPDATE " + table +
                " SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, status = CASE "
                "WHEN ? = 1 THEN 'failed' ELSE status END WHERE id = ? AND status = 'pending'",
            error,
            next_attempt_at,
            failed ? 1 : 0,
            id);
}

}  // namespace cobrador::store
