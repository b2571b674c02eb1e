// Escalations and hand-outs (shifts.hpp), and people going on and off shift (Ledger::SetShift).

#include "shifts.hpp"

#include "dialogs/lifecycle.hpp"

#include "audit.hpp"
#include "ledger_impl.hpp"

namespace cobrador::store {

Agent ReadAgent(Statement& row) {
    return Agent{row.Int64(0),
                 row.Text(1),
                 dialogs::FromStringOr(row.Text(2), dialogs::Role::kCollector),
                 row.Text(3),
                 row.Int(4) != 0,
                 row.OptionalText(5),
                 row.OptionalText(6)};
}

namespace {

// Who may be handed a conversation at `now`: on shift, enabled, access not run out.
constexpr const char* kOnShift =
    "on_shift_since IS NOT NULL AND disabled_at IS NULL AND (expires_on IS NULL OR expires_on "
    ">= substr(?1, 1, 10))";

struct Open {
    dialogs::ConversationState state = dialogs::ConversationState::kBot;
    std::string channel;
    std::optional<std::int64_t> debtor;
    std::optional<std::string> reason;
};

std::optional<Open> LoadOpen(Connection& db, std::int64_t conversation_id) {
    auto row = db.Query(
        "SELECT state, channel, debtor_id, escalation_reason FROM conversations WHERE id = ? AND "
        "state <> 'closed'",
        conversation_id);
    if (!row->Step()) {
        return std::nullopt;
    }
    return Open{dialogs::FromStringOr(row->Text(0), dialogs::ConversationState::kBot),
                row->Text(1),
                row->IsNull(2) ? std::nullopt : std::optional(row->Int64(2)),
                row->OptionalText(3)};
}

AuditRow SystemAudit(const Open& c,
                     std::int64_t conversation_id,
                     const char* kind,
                     const std::string& actor = "system") {
    return {.actor = actor,
            .kind = kind,
            .channel = c.channel,
            .debtor_id = c.debtor,
            .conversation_id = conversation_id};
}

}  // namespace

std::optional<std::int64_t> HandOut(Connection& db,
                                    std::int64_t conversation_id,
                                    const std::string& now,
                                    std::optional<std::int64_t> not_to) {
    const auto c = LoadOpen(db, conversation_id);
    if (!c ||
        !dialogs::Decide({c->state, std::nullopt}, dialogs::LifecycleEvent::kHandOut, {}).changes) {
        return std::nullopt;
    }
    const auto next = db.One<std::int64_t>(std::string("SELECT id FROM agents WHERE ") + kOnShift +
                                               " AND id <> ?2 ORDER BY hand_out_turn, id LIMIT 1",
                                           now,
                                           not_to.value_or(0));
    if (!next) {
        return std::nullopt;
    }
    db.Exec(
        "UPDATE agents SET hand_out_turn = (SELECT max(hand_out_turn) + 1 FROM agents) WHERE id "
        "= ?",
        *next);
    db.Exec(
        "UPDATE conversations SET state = 'claimed', assigned_agent_id = ?1, claimed_at = ?2, "
        "agent_activity_at = ?2, last_activity_at = ?2 WHERE id = ?3",
        *next,
        now,
        conversation_id);
    WriteAudit(db,
               SystemAudit(*c, conversation_id, "handed_out"),
               now,
               AuditDetail("agent_id", *next, "from_agent_id", not_to));
    return next;
}

bool EscalateConversation(Connection& db,
                          std::int64_t conversation_id,
                          const std::string& reason,
                          const std::string& now,
                          const std::string& actor) {
    const auto c = LoadOpen(db, conversation_id);
    if (!c) {
        return false;
    }
    const bool to_queue =
        dialogs::Decide({c->state, std::nullopt}, dialogs::LifecycleEvent::kEscalate, {}).changes;
    // Still waiting: the newer reason is the one the queue shows; it keeps its place.
    const bool new_reason =
        c->state == dialogs::ConversationState::kEscalated && c->reason != reason;
    if (!to_queue && !new_reason) {
        return true;  // a person has it already, or nothing new: nothing changes
    }
    db.Exec(
        "UPDATE conversations SET state = 'escalated', escalation_reason = ?1, escalated_at = "
        "CASE WHEN state = 'escalated' THEN escalated_at ELSE ?2 END WHERE id = ?3",
        reason,
        now,
        conversation_id);
    WriteAudit(db,
               SystemAudit(*c, conversation_id, "escalated", actor),
               now,
               AuditDetail("reason", reason));
    if (!to_queue) {
        return true;
    }
    HandOut(db, conversation_id, now);
    return true;
}

Result<std::optional<Agent>> Ledger::SetShift(std::int64_t agent_id,
                                              bool on,
                                              std::int64_t by,
                                              std::string_view now) {
    return impl_->Guard([&]() -> Result<std::optional<Agent>> {
        Connection& db = impl_->db;
        const std::string at(now);
        Tx tx(db);
        std::optional<Agent> found;
        {
            // Anyone may be taken off shift (one whose access ran out too); only someone who
            // may sign in can go on it.
            auto row =
                db.Query(std::string("SELECT ") + kAgentColumns +
                             " FROM agents WHERE id = ?2 AND (?3 = 0 OR (disabled_at IS NULL AND "
                             "(expires_on IS NULL OR expires_on >= substr(?1, 1, 10))))",
                         at,
                         agent_id,
                         on ? 1 : 0);
            if (row->Step()) {
                found = ReadAgent(*row);
            }
        }
        if (!found) {
            return found;
        }
        Agent& agent = *found;
        if (agent.on_shift_since.has_value() != on) {
            agent.on_shift_since = on ? std::optional(at) : std::nullopt;
            db.Exec("UPDATE agents SET on_shift_since = ? WHERE id = ?",
                    agent.on_shift_since,
                    agent_id);
            WriteAudit(db,
                       {.actor = "agent:" + std::to_string(by),
                        .kind = on ? "shift_started" : "shift_ended"},
                       at,
                       AuditDetail("agent_id", agent_id));
        }
        tx.commit();
        return found;
    });
}

}  // namespace cobrador::store
