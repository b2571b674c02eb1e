#pragma once
// Private to the store: escalating a conversation, and handing waiting conversations out in
// turn among the people on shift. Used inside the callers' transactions.
//
// The turn: each agent has a hand_out_turn; the person on shift with the lowest (then the
// lowest id) is next, and takes one more than the highest anyone has: whoever was handed one
// least recently is next (someone never handed one, first), then joins the end of the line. Two
// hand-outs at once on PostgreSQL conflict on the agents' rows (SERIALIZABLE) and one is run again,
// so nobody is skipped or given two in a row by a race.

#include <cstdint>
#include <optional>
#include <string>

#include "store/collector.hpp"

#include "connection.hpp"

namespace cobrador::store {

// An agent as every reader of the agents table sees them: ReadAgent reads a row that begins
// with kAgentColumns (of table `agents`, not aliased).
inline constexpr const char* kAgentColumns =
    "id, name, role, created_at, disabled_at IS NOT NULL, expires_on, on_shift_since";
Agent ReadAgent(Statement& row);

// Gives waiting (escalated) conversation `conversation_id` to the next person on shift, other
// than `not_to` (the person it just came back from), as a claim by them: the lifecycle's hand
// out. Returns who, or nothing (nobody on shift, or it is not waiting).
std::optional<std::int64_t> HandOut(Connection& db,
                                    std::int64_t conversation_id,
                                    const std::string& now,
                                    std::optional<std::int64_t> not_to = std::nullopt);

// Moves an open conversation to the collectors' queue with `reason` and hands it out; false
// when it is closed or there is none. One still waiting takes the new reason (the earlier one
// stays in the audit log, and its place in the queue is kept); one a person has stays as it is.
// `actor`: who escalates, in the audit log (the bot, or the system for timers and payments).
bool EscalateConversation(Connection& db,
                          std::int64_t conversation_id,
                          const std::string& reason,
                          const std::string& now,
                          const std::string& actor = "system");

}  // namespace cobrador::store
