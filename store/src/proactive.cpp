#include "proactive.hpp"

#include <SQLiteCpp/Statement.h>

#include "dialogs/calendar.hpp"
#include "dialogs/lifecycle.hpp"

#include "statement_cache.hpp"

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

bool Reachable(SQLite::Database& db, const std::string& phone, const std::string& channel) {
    Prepared blocked_lease(db,
                           "SELECT count(*) FROM contact_preferences WHERE phone = ? AND "
                           "active = 1 AND ((kind = 'opt_out' AND channel IN (?, 'all')) OR "
                           "kind = 'wrong_number')");
    SQLite::Statement& blocked = *blocked_lease;
    blocked.bind(1, phone);
    blocked.bind(2, channel);
    blocked.executeStep();
    return blocked.getColumn(0).getInt() == 0;
}

std::optional<Target> LatestReachableConversation(SQLite::Database& db, std::int64_t debtor_id) {
    Prepared latest_lease(
        db,
        "SELECT c.id, c.state, d.id, d.name, d.locale, d.timezone, c.phone, c.channel, "
        "c.last_inbound_at, c.verified_until FROM conversations c JOIN debtors d ON d.id = "
        "c.debtor_id WHERE "
        "c.debtor_id = ? ORDER BY c.id DESC LIMIT 1");
    SQLite::Statement& latest = *latest_lease;
    latest.bind(1, debtor_id);
    if (!latest.executeStep()) {
        return std::nullopt;
    }
    Target t;
    t.conversation_id = latest.getColumn(0).getInt64();
    t.state =
        dialogs::FromStringOr(latest.getColumn(1).getString(), dialogs::ConversationState::kBot);
    t.debtor_id = latest.getColumn(2).getInt64();
    t.debtor_name = latest.getColumn(3).getString();
    t.locale = latest.getColumn(4).getString();
    t.timezone = latest.getColumn(5).getString();
    t.phone = latest.getColumn(6).getString();
    t.channel = latest.getColumn(7).getString();
    if (!latest.getColumn(8).isNull()) {
        t.last_inbound_at = latest.getColumn(8).getString();
    }
    if (!latest.getColumn(9).isNull()) {
        t.verified_until = latest.getColumn(9).getString();
    }
    if (!Reachable(db, t.phone, t.channel)) {
        return std::nullopt;
    }
    return t;
}

std::int64_t QueueProactive(SQLite::Database& db,
                            const Target& target,
                            const ProactiveMessage& message,
                            const std::string& now) {
    std::int64_t conversation = target.conversation_id;
    if (conversation == 0 || target.state == dialogs::ConversationState::kClosed) {
        Prepared open_lease(db,
                            "SELECT id FROM conversations WHERE phone = ? AND channel = ? AND "
                            "state <> 'closed' ORDER BY id DESC LIMIT 1");
        SQLite::Statement& open = *open_lease;
        open.bind(1, target.phone);
        open.bind(2, target.channel);
        if (open.executeStep()) {
            conversation = open.getColumn(0).getInt64();
        } else {
            Prepared create_lease(
                db,
                "INSERT INTO conversations (debtor_id, phone, channel, state, last_activity_at, "
                "created_at) VALUES (?1, ?2, ?3, 'bot', ?4, ?4)");
            SQLite::Statement& create = *create_lease;
            create.bind(1, target.debtor_id);
            create.bind(2, target.phone);
            create.bind(3, target.channel);
            create.bind(4, now);
            create.exec();
            conversation = db.getLastInsertRowid();
        }
    }
    Prepared insert_lease(
        db,
        "INSERT INTO messages (conversation_id, direction, channel, author, body, payload, "
        "status, created_at, status_at) VALUES (?1, 'out', ?2, 'bot', ?3, ?4, 'queued', ?5, ?5)");
    SQLite::Statement& insert = *insert_lease;
    insert.bind(1, conversation);
    insert.bind(2, target.channel);
    insert.bind(3, message.body);
    insert.bind(4, message.payload);
    insert.bind(5, now);
    insert.exec();
    const std::int64_t message_id = db.getLastInsertRowid();
    Prepared outbox_lease(db,
                          "INSERT INTO outbox (message_id, channel, recipient, payload, status, "
                          "next_attempt_at, created_at, contact_timezone) VALUES (?, ?, ?, ?, "
                          "'pending', ?, ?, nullif(?, ''))");
    SQLite::Statement& outbox = *outbox_lease;
    outbox.bind(1, message_id);
    outbox.bind(2, target.channel);
    outbox.bind(3, target.phone);
    outbox.bind(4, message.payload);
    outbox.bind(5, message.send_at.empty() ? now : message.send_at);
    outbox.bind(6, now);
    outbox.bind(7, message.contact_timezone);
    outbox.exec();
    return message_id;
}

bool EscalateDebtor(SQLite::Database& db,
                    std::int64_t debtor_id,
                    const std::string& reason,
                    const std::string& now) {
    Prepared open_lease(db,
                        "SELECT id, state, channel FROM conversations WHERE debtor_id = ? AND "
                        "state <> 'closed' ORDER BY id DESC LIMIT 1");
    SQLite::Statement& open = *open_lease;
    open.bind(1, debtor_id);
    if (!open.executeStep()) {
        return false;
    }
    const std::int64_t id = open.getColumn(0).getInt64();
    const auto state =
        dialogs::FromStringOr(open.getColumn(1).getString(), dialogs::ConversationState::kBot);
    const std::string channel = open.getColumn(2).getString();
    if (!dialogs::Decide({state, std::nullopt}, dialogs::LifecycleEvent::kEscalate, {}).changes) {
        return true;  // a person has it already: nothing changes, nothing to count
    }
    Prepared escalate_lease(db,
                            "UPDATE conversations SET state = 'escalated', "
                            "escalation_reason = ?, escalated_at = ? WHERE id = ?");
    SQLite::Statement& escalate = *escalate_lease;
    escalate.bind(1, reason);
    escalate.bind(2, now);
    escalate.bind(3, id);
    escalate.exec();
    Prepared audit_lease(db,
                         "INSERT INTO audit_log (at, actor, kind, channel, debtor_id, "
                         "conversation_id, detail) VALUES (?, 'system', 'escalated', ?, ?, ?, "
                         "json_object('reason', ?))");
    SQLite::Statement& audit = *audit_lease;
    audit.bind(1, now);
    audit.bind(2, channel);
    audit.bind(3, debtor_id);
    audit.bind(4, id);
    audit.bind(5, reason);
    audit.exec();
    return true;
}

void CancelPending(SQLite::Database& db,
                   const std::string& phone,
                   const std::string& channel,
                   const std::string& now) {
    Prepared messages_lease(
        db,
        "UPDATE messages SET status = 'failed', error_code = 'opted_out', status_at = ?1 WHERE "
        "id IN (SELECT message_id FROM outbox WHERE recipient = ?2 AND status = 'pending' AND "
        "(?3 = 'all' OR channel = ?3))");
    SQLite::Statement& messages = *messages_lease;
    messages.bind(1, now);
    messages.bind(2, phone);
    messages.bind(3, channel);
    messages.exec();
    Prepared outbox_lease(db,
                          "UPDATE outbox SET status = 'failed', last_error = 'cancelled: no "
                          "more contact with this phone on this channel' WHERE recipient = ?1 "
                          "AND status = 'pending' AND (?2 = 'all' OR channel = ?2)");
    SQLite::Statement& outbox = *outbox_lease;
    outbox.bind(1, phone);
    outbox.bind(2, channel);
    outbox.exec();
}

void WriteAccountAudit(SQLite::Database& db,
                       const std::string& actor,
                       const std::string& kind,
                       std::optional<std::int64_t> debtor_id,
                       std::optional<std::int64_t> account_id,
                       const std::string& detail_json,
                       const std::string& now) {
    Prepared audit_lease(db,
                         "INSERT INTO audit_log (at, actor, kind, debtor_id, account_id, "
                         "detail) VALUES (?, ?, ?, ?, ?, json(?))");
    SQLite::Statement& audit = *audit_lease;
    audit.bind(1, now);
    audit.bind(2, actor);
    audit.bind(3, kind);
    if (debtor_id) {
        audit.bind(4, *debtor_id);
    }
    if (account_id) {
        audit.bind(5, *account_id);
    }
    audit.bind(6, detail_json);
    audit.exec();
}

}  // namespace cobrador::store
