#include "proactive.hpp"

#include "dialogs/calendar.hpp"
#include "dialogs/lifecycle.hpp"

#include "audit.hpp"
#include "outbound.hpp"

namespace cobrador::store {

namespace {

std::string Shift(const std::string& now, std::chrono::seconds by) {
    const auto at = dialogs::ParseIsoInstant(now);
    return at ? dialogs::FormatIsoInstant(*at - by) : now;
}

}  // namespace

std::string WindowStart(const std::string& now) {
    return Shift(now, std::chrono::hours(24));
}

std::string DaysBefore(const std::string& now, int days) {
    return Shift(now, std::chrono::hours(24) * days);
}

bool Reachable(Connection& db, const std::string& phone, const std::string& channel) {
    return db.One<int>(
               "SELECT count(*) FROM contact_preferences WHERE phone = ? AND "
               "active = 1 AND ((kind = 'opt_out' AND channel IN (?, 'all')) OR "
               "kind = 'wrong_number')",
               phone,
               channel) == 0;
}

namespace {

// The conversation `where` picks (its first row), as a target; nullopt when there is none or
// its channel may not be written to.
template <typename... Args>
std::optional<Target> ReadTarget(Connection& db, const std::string& where, const Args&... args) {
    auto latest = db.Query(
        "SELECT c.id, c.state, d.id, d.name, d.locale, d.timezone, c.phone, c.channel, "
        "c.last_inbound_at, c.verified_until FROM conversations c JOIN debtors d ON d.id = "
        "c.debtor_id WHERE " +
            where,
        args...);
    if (!latest->Step()) {
        return std::nullopt;
    }
    Target t;
    t.conversation_id = latest->Int64(0);
    t.state = dialogs::FromStringOr(latest->Text(1), dialogs::ConversationState::kBot);
    t.debtor_id = latest->Int64(2);
    t.debtor_name = latest->Text(3);
    t.locale = latest->Text(4);
    t.timezone = latest->Text(5);
    t.phone = latest->Text(6);
    t.channel = latest->Text(7);
    if (!latest->IsNull(8)) {
        t.last_inbound_at = latest->Text(8);
    }
    if (!latest->IsNull(9)) {
        t.verified_until = latest->Text(9);
    }
    if (!Reachable(db, t.phone, t.channel)) {
        return std::nullopt;
    }
    return t;
}

}  // namespace

std::optional<Target> LatestReachableConversation(Connection& db, std::int64_t debtor_id) {
    return ReadTarget(db, "c.debtor_id = ? ORDER BY c.id DESC LIMIT 1", debtor_id);
}

std::optional<Target> ReachableConversation(Connection& db, std::int64_t conversation_id) {
    return ReadTarget(db, "c.id = ?", conversation_id);
}

Addressee AddresseeOf(const Target& target, const std::string& now) {
    return {target.debtor_name,
            target.locale,
            target.timezone,
            target.channel,
            target.last_inbound_at && *target.last_inbound_at >= WindowStart(now)};
}

std::int64_t QueueProactive(Connection& db,
                            const Target& target,
                            const ProactiveMessage& message,
                            const std::string& now,
                            std::int64_t* conversation_used) {
    std::int64_t conversation = target.conversation_id;
    if (conversation == 0 || target.state == dialogs::ConversationState::kClosed) {
        if (const auto open = db.One<std::int64_t>(
                "SELECT id FROM conversations WHERE phone = ? AND channel = ? AND "
                "state <> 'closed' ORDER BY id DESC LIMIT 1",
                target.phone,
                target.channel)) {
            conversation = *open;
        } else {
            conversation = db.Insert(
                "INSERT INTO conversations (debtor_id, phone, channel, state, last_activity_at, "
                "created_at) VALUES (?1, ?2, ?3, 'bot', ?4, ?4) RETURNING id",
                target.debtor_id,
                target.phone,
                target.channel,
                now);
        }
    }
    if (conversation_used != nullptr) {
        *conversation_used = conversation;
    }
    return QueueOutbound(db,
                         {conversation,
                          target.channel,
                          target.phone,
                          "bot",
                          message.body,
                          message.payload,
                          message.send_at,
                          message.contact_timezone},
                         now);
}

bool EscalateDebtor(Connection& db,
                    std::int64_t debtor_id,
                    const std::string& reason,
                    const std::string& now) {
    const auto open = db.One<std::int64_t>(
        "SELECT id FROM conversations WHERE debtor_id = ? AND state <> 'closed' ORDER BY id "
        "DESC LIMIT 1",
        debtor_id);
    return open && EscalateConversation(db, *open, reason, now);
}

void CancelQueued(Connection& db,
                  const std::vector<std::int64_t>& message_ids,
                  const std::string& code,
                  const std::string& why,
                  const std::string& now) {
    for (const std::int64_t id : message_ids) {
        if (db.Exec("UPDATE outbox SET status = 'failed', last_error = ? WHERE message_id = ? AND "
                    "status = 'pending'",
                    "cancelled: " + why,
                    id) > 0) {
            db.Exec(
                "UPDATE messages SET status = 'failed', error_code = ?, status_at = ? WHERE "
                "id = ?",
                code,
                now,
                id);
        }
    }
}

void CancelPending(Connection& db,
                   const std::string& phone,
                   const std::string& channel,
                   const std::string& now) {
    std::vector<std::int64_t> pending;
    auto rows = db.Query(
        "SELECT message_id FROM outbox WHERE recipient = ?1 AND status = 'pending' AND (?2 = "
        "'all' OR channel = ?2)",
        phone,
        channel);
    while (rows->Step()) {
        pending.push_back(rows->Int64(0));
    }
    CancelQueued(db, pending, "opted_out", "no more contact with this phone on this channel", now);
}

}  // namespace cobrador::store
