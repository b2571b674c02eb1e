// Webhook events, the inbound queue, the outbox and delivery statuses.
//
// The path of a message (DESIGN.md): a webhook's events are committed here before the provider
// gets its 200 (RecordWebhook); the worker takes them oldest first (PendingInboundEvents), runs
// the dialog, and commits the transcript, the state and the replies' outbox rows together
// (HandleInbound); the dispatcher sends due rows and records what the provider said
// (DueOutbox, MarkOutbox*). A crash anywhere leaves a row that is picked up again.

#include <algorithm>
#include <string>

#include "dialogs/calendar.hpp"
#include "dialogs/lifecycle.hpp"
#include "dialogs/vocabulary.hpp"

#include "dialog_store.hpp"
#include "ledger_impl.hpp"
#include "outbound.hpp"

namespace cobrador::store {

namespace {

// How far along a message is (dialogs::Rank); a word it does not know ranks with "received".
int StatusRank(std::string_view status) {
    return dialogs::Rank(dialogs::FromStringOr(status, dialogs::MessageStatus::kReceived));
}

// The rank of messages.status in SQL (StatusRank), built from the one table of names.
const std::string& StatusRankSql() {
    static const std::string sql = [] {
        std::string out = "CASE status";
        for (const auto& [status, name] : dialogs::Names<dialogs::MessageStatus>::kAll) {
            out +=
                " WHEN '" + std::string(name) + "' THEN " + std::to_string(dialogs::Rank(status));
        }
        return out + " ELSE 0 END";
    }();
    return sql;
}

// The UPDATE that moves the message with a provider id to a reported status if that is forward,
// given the placeholders of its values: one conditional statement, so two statuses of one
// message at once cannot move it backwards.
std::string AdvanceStatusSql(std::string_view status,
                             std::string_view error_code,
                             std::string_view at,
                             std::string_view provider_message_id,
                             std::string_view rank) {
    return "UPDATE messages SET status = " + std::string(status) +
           ", error_code = coalesce(nullif(" + std::string(error_code) +
           ", ''), error_code), status_at = " + std::string(at) +
           " WHERE provider_message_id = " + std::string(provider_message_id) +
           " AND direction = 'out' AND " + StatusRankSql() + " < " + std::string(rank);
}

// Logs a reported status once (?1 channel, ?2 provider message id, ?3 status, ?4 error code,
// ?5 error title, ?6 reported at, ?7 received at).
constexpr const char* kLogStatusSql =
    "INSERT INTO delivery_statuses (channel, provider_message_id, status, error_code, "
    "error_title, reported_at, received_at) VALUES (?1, ?2, ?3, nullif(?4, ''), nullif(?5, ''), "
    "?6, ?7) ON CONFLICT (provider_message_id, status) DO NOTHING";

// A message that is not ours yet (the send call has not returned) is left alone: MarkOutboxSent
// replays the statuses that raced ahead.
void AdvanceMessageStatus(Connection& db,
                          const std::string& provider_message_id,
                          const std::string& status,
                          const std::string& error_code,
                          const std::string& at) {
    static const std::string sql = AdvanceStatusSql("?1", "?2", "?3", "?4", "?5");
    db.Exec(sql, status, error_code, at, provider_message_id, StatusRank(status));
}

// The lock that numbers one phone's inbound events in the order they commit (RecordWebhook).
std::string ArrivalLock(std::string_view phone) {
    return "phone:" + std::string(phone);
}

// The lock that orders a message's statuses with the record of its send (MarkOutboxSent).
std::string MessageLock(std::string_view provider_message_id) {
    return "message:" + std::string(provider_message_id);
}

// The INSERT of one inbound message, idempotent on the provider's id: `source` gives ?1-?9 as
// inbound_events' columns (a VALUES list, or a SELECT of them), after `prefix`.
std::string InboundInsertSql(std::string_view prefix, std::string_view source) {
    return std::string(prefix) +
           "INSERT INTO inbound_events (channel, provider_event_id, kind, phone, payload, "
           "received_at, text, reply_id, context_id) " +
           std::string(source) + " ON CONFLICT (provider_event_id) DO NOTHING";
}

// Runs an InboundInsertSql for `m`; `extra` binds what else it takes. 1 when it was new.
template <class... Extra>
int InsertInbound(Connection& db,
                  const std::string& sql,
                  const InboundRecord& m,
                  const std::string& at,
                  const Extra&... extra) {
    return db.Exec(sql,
                   m.channel,
                   m.provider_event_id,
                   m.kind,
                   m.phone,
                   m.payload,
                   at,
                   m.text,
                   m.reply_id,
                   m.context_id,
                   extra...);
}

// PostgreSQL, one message: the phone's lock and the insert in one statement (the lock is taken
// before the row gets its id, and held until the statement's own transaction commits).
void RecordOneMessage(Connection& db,
                      const InboundRecord& m,
                      const std::string& at,
                      WebhookOutcome& outcome) {
    static const std::string sql = InboundInsertSql(
        "WITH arrival AS (SELECT pg_advisory_xact_lock(hashtextextended(?10, 0))) ",
        "SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9 FROM arrival");
    const int inserted = InsertInbound(db, sql, m, at, ArrivalLock(m.phone));
    ++(inserted == 1 ? outcome.messages_new : outcome.messages_duplicate);
}

// PostgreSQL, one status: logged and applied in one statement when the message is known. When it
// is not (the send's answer is still being recorded), it is applied again under the message's
// lock, which MarkOutboxSent holds while it sets the provider id and replays early statuses: so
// either that replay sees this status or this sees the provider id. Applied also when the status
// was a duplicate, so a redelivery after a half-done attempt finishes it.
void RecordOneStatus(Connection& db,
                     const StatusRecord& s,
                     const std::string& at,
                     WebhookOutcome& outcome) {
    static const std::string sql =
        std::string("WITH logged AS (") + kLogStatusSql + " RETURNING 1), applied AS (" +
        AdvanceStatusSql("?3", "?4", "?7", "?2", "?8") +
        " RETURNING 1) SELECT (SELECT count(*) FROM logged), EXISTS (SELECT 1 FROM messages "
        "WHERE provider_message_id = ?2 AND direction = 'out')";
    auto row = db.Query(sql,
                        s.channel,
                        s.provider_message_id,
                        s.status,
                        s.error_code,
                        s.error_title,
                        s.reported_at.empty() ? at : s.reported_at,
                        at,
                        StatusRank(s.status));
    row->Step();
    ++(row->Int64(0) == 1 ? outcome.statuses_new : outcome.statuses_duplicate);
    if (row->Int(1) == 0) {
        Tx tx(db, TxKind::kLocked);
        db.Lock({MessageLock(s.provider_message_id)});
        AdvanceMessageStatus(db, s.provider_message_id, s.status, s.error_code, at);
        tx.commit();
    }
}

}  // namespace

Result<WebhookOutcome> Ledger::RecordWebhook(const std::vector<InboundRecord>& messages,
                                             const std::vector<StatusRecord>& statuses,
                                             std::string_view now) {
    return impl_->Guard([&]() -> Result<WebhookOutcome> {
        Connection& db = impl_->db;
        const std::string at(now);
        WebhookOutcome outcome;
        if (db.backend() == Backend::kPostgres && !db.InTransaction() &&
            messages.size() + statuses.size() == 1) {
            // Most webhooks carry one event: one statement, one round trip.
            if (messages.empty()) {
                RecordOneStatus(db, statuses.front(), at, outcome);
            } else {
                RecordOneMessage(db, messages.front(), at, outcome);
            }
            return outcome;
        }
        // Inserts that are idempotent by their keys, and status moves that are conditional:
        // READ COMMITTED, ordered by locks.
        Tx tx(db, TxKind::kLocked);
        // One debtor's events are numbered in the order they commit: two webhooks for one phone
        // at once take turns, and the worker never sees a later message while an earlier one is
        // still committing. A message's statuses take turns with the record of its send.
        std::vector<std::string> locks;
        for (const InboundRecord& m : messages) {
            locks.push_back(ArrivalLock(m.phone));
        }
        for (const StatusRecord& s : statuses) {
            locks.push_back(MessageLock(s.provider_message_id));
        }
        db.Lock(std::move(locks));
        // ON CONFLICT DO NOTHING is the idempotency: a redelivered id inserts no row.
        for (const InboundRecord& m : messages) {
            static const std::string sql =
                InboundInsertSql("", "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
            if (InsertInbound(db, sql, m, at) == 1) {
                ++outcome.messages_new;
            } else {
                ++outcome.messages_duplicate;
            }
        }
        Prepared insert_status = db.Prepare(kLogStatusSql);
        for (const StatusRecord& s : statuses) {
            if (insert_status.Exec(s.channel,
                                   s.provider_message_id,
                                   s.status,
                                   s.error_code,
                                   s.error_title,
                                   s.reported_at.empty() ? at : s.reported_at,
                                   at) == 1) {
                ++outcome.statuses_new;
                AdvanceMessageStatus(db, s.provider_message_id, s.status, s.error_code, at);
            } else {
                ++outcome.statuses_duplicate;
            }
        }
        tx.commit();
        return outcome;
    });
}

Result<std::vector<PendingInbound>> Ledger::PendingInboundEvents(std::size_t limit) {
    return impl_->Guard([&]() -> Result<std::vector<PendingInbound>> {
        auto pending = impl_->db.Query(
            "SELECT id, channel, provider_event_id, kind, coalesce(phone, ''), "
            "payload, received_at, text, reply_id FROM inbound_events "
            "WHERE processed_at IS NULL ORDER BY id LIMIT ?",
            static_cast<std::int64_t>(limit));
        std::vector<PendingInbound> out;
        const auto optional_text = [&](int column) -> std::optional<std::string> {
            if (pending->IsNull(column)) {
                return std::nullopt;
            }
            return pending->Text(column);
        };
        while (pending->Step()) {
            out.push_back({pending->Int64(0),
                           pending->Text(1),
                           pending->Text(2),
                           pending->Text(3),
                           pending->Text(4),
                           pending->Text(5),
                           pending->Text(6),
                           optional_text(7),
                           optional_text(8)});
        }
        return out;
    });
}

Result<std::int64_t> Ledger::HandleInbound(const PendingInbound& event,
                                           std::string_view text,
                                           const DecideFn& decide,
                                           std::string_view now) {
    return impl_->Guard([&]() -> Result<std::int64_t> {
        Connection& db = impl_->db;
        const std::string at(now);
        Tx tx(db);
        // One turn per debtor at a time, whichever connection (or replica) holds the event: the
        // second waits instead of failing serialization and retrying.
        db.Lock({TurnLock(event.phone)});

        const bool already =
            db.One<bool>("SELECT processed_at IS NOT NULL FROM inbound_events WHERE id = ?",
                         event.id)
                .value_or(false);
        if (already) {
            // Handled meanwhile (another connection): nothing to write; the conversation it
            // went to is the one holding its message.
            const auto handled_in =
                db.One<std::int64_t>(
                      "SELECT conversation_id FROM messages WHERE provider_message_id = ?",
                      event.provider_event_id)
                    .value_or(0);
            tx.commit();
            return handled_in;
        }

        // The open conversation for this phone on this channel, or a new one.
        ConversationRow conversation;
        conversation.phone = event.phone;
        conversation.channel = event.channel;
        auto open = db.Query(
            "SELECT id, debtor_id, state, dialog_state FROM conversations WHERE phone = ? AND "
            "channel = ? AND state <> 'closed' ORDER BY id DESC LIMIT 1",
            event.phone,
            event.channel);
        if (open->Step()) {
            conversation.id = open->Int64(0);
            if (!open->IsNull(1)) {
                conversation.debtor_id = open->Int64(1);
            }
            conversation.state =
                dialogs::FromStringOr(open->Text(2), dialogs::ConversationState::kBot);
            conversation.dialog_state = open->Text(3);
        } else {
            auto create = db.Query(
                "INSERT INTO conversations (debtor_id, phone, channel, state, last_activity_at, "
                "created_at) VALUES ((SELECT id FROM debtors WHERE phone = ?1 ORDER BY id "
                "LIMIT 1), ?1, ?2, 'bot', ?3, ?3) RETURNING id, debtor_id, dialog_state",
                event.phone,
                event.channel,
                at);
            create->Step();
            conversation.id = create->Int64(0);
            if (!create->IsNull(1)) {
                conversation.debtor_id = create->Int64(1);
            }
            conversation.state = dialogs::ConversationState::kBot;
            conversation.dialog_state = create->Text(2);
        }

        db.Exec(
            "INSERT INTO messages (conversation_id, direction, channel, provider_message_id, "
            "author, body, payload, status, created_at, status_at) VALUES (?, 'in', ?, ?, "
            "'debtor', ?, ?, 'received', ?, ?) ON CONFLICT (provider_message_id) DO NOTHING",
            conversation.id,
            event.channel,
            event.provider_event_id,
            text,
            event.payload,
            at,
            at);

        // A collector holding the conversation answers it and the bot stays silent, except
        // when the debtor leaves (opt-out, opt-in, wrong number): that is recorded and
        // confirmed whoever holds the conversation.
        const DialogTurn turn = decide(LoadConversationView(db, conversation));
        const bool leaving =
            std::any_of(turn.commands.begin(), turn.commands.end(), [](const auto& command) {
                return std::holds_alternative<dialogs::OptedOut>(command) ||
                       std::holds_alternative<dialogs::OptedIn>(command) ||
                       std::holds_alternative<dialogs::WrongNumber>(command);
            });
        const bool bot_answers = dialogs::Decide({conversation.state, std::nullopt},
                                                 dialogs::LifecycleEvent::kDebtorWrites,
                                                 dialogs::Actor{})
                                     .bot_answers;
        if (bot_answers || leaving) {
            ApplyTurn(db, conversation, turn, at);
            for (const Reply& reply : turn.replies) {
                QueueOutbound(db,
                              {conversation.id,
                               event.channel,
                               event.phone,
                               "bot",
                               reply.body,
                               reply.payload,
                               "",
                               ""},
                              at);
            }
        }

        // WhatsApp's 24-hour window opens when the debtor wrote (we stored it), not when the
        // dialog got to it.
        db.Exec(
            "UPDATE conversations SET last_inbound_at = CASE WHEN coalesce(last_inbound_at, '') > "
            "?1 "
            "THEN last_inbound_at ELSE ?1 END, "
            "last_activity_at = ?2 WHERE id = ?3",
            event.received_at.empty() ? at : event.received_at,
            at,
            conversation.id);
        db.Exec("UPDATE inbound_events SET processed_at = ? WHERE id = ?", at, event.id);
        tx.commit();
        return conversation.id;
    });
}

Result<std::string> Ledger::LocaleForPhone(std::string_view phone) {
    return impl_->Guard([&]() -> Result<std::string> {
        // locale is NOT NULL: no row is the only way to get nothing.
        return impl_->db
            .One<std::string>("SELECT locale FROM debtors WHERE phone = ? ORDER BY id LIMIT 1",
                              phone)
            .value_or("es-MX");
    });
}

Result<std::vector<OutboxItem>> Ledger::DueOutbox(std::string_view now,
                                                  std::size_t limit,
                                                  const std::vector<std::int64_t>& exclude) {
    return impl_->Guard([&]() -> Result<std::vector<OutboxItem>> {
        auto due = impl_->db.Query(
            "SELECT o.id, o.message_id, m.conversation_id, o.channel, o.recipient, "
            "o.payload, o.attempts, o.created_at, coalesce(o.contact_timezone, '') FROM outbox o "
            "JOIN messages m ON m.id = o.message_id "
            "WHERE o.status = 'pending' AND o.next_attempt_at <= ? "
            "ORDER BY o.id LIMIT ?",
            now,
            static_cast<std::int64_t>(limit + exclude.size()));
        std::vector<OutboxItem> out;
        while (due->Step() && out.size() < limit) {
            const std::int64_t id = due->Int64(0);
            if (std::find(exclude.begin(), exclude.end(), id) != exclude.end()) {
                continue;
            }
            out.push_back({id,
                           due->Int64(1),
                           due->Int64(2),
                           due->Text(3),
                           due->Text(4),
                           due->Text(5),
                           due->Int(6),
                           due->Text(7),
                           due->Text(8)});
        }
        return out;
    });
}

Result<void> Ledger::DeferOutbox(std::int64_t outbox_id, std::string_view until) {
    return impl_->Guard([&]() -> Result<void> {
        impl_->db.Exec(
            "UPDATE outbox SET next_attempt_at = ? WHERE id = ? AND status = "
            "'pending'",
            until,
            outbox_id);
        return {};
    });
}

Result<void> Ledger::MarkOutboxSent(std::int64_t outbox_id,
                                    std::string_view provider_message_id,
                                    std::string_view now) {
    return impl_->Guard([&]() -> Result<void> {
        Connection& db = impl_->db;
        const std::string at(now);
        const std::string provider_id(provider_message_id);
        // Conditional updates, and the message's lock so that a status recorded at the same
        // moment is either seen below or sees the provider id (RecordWebhook).
        Tx tx(db, TxKind::kLocked);
        db.Lock({MessageLock(provider_id)});
        if (db.Exec("UPDATE outbox SET status = 'sent', attempts = attempts + 1, "
                    "last_error = NULL WHERE id = ? AND status = 'pending'",
                    outbox_id) == 0) {
            return {};  // already recorded (a retry of this call after a crash)
        }
        db.Exec(
            "UPDATE messages SET provider_message_id = ?, status = 'sent', status_at = ? "
            "WHERE id = (SELECT message_id FROM outbox WHERE id = ?)",
            provider_id,
            at,
            outbox_id);
        // Statuses that raced ahead of the send call's answer.
        auto early = db.Query(
            "SELECT status, coalesce(error_code, '') FROM delivery_statuses "
            "WHERE provider_message_id = ? ORDER BY id",
            provider_id);
        while (early->Step()) {
            AdvanceMessageStatus(db, provider_id, early->Text(0), early->Text(1), at);
        }
        tx.commit();
        return {};
    });
}

Result<void> Ledger::MarkOutboxRetry(std::int64_t outbox_id,
                                     std::string_view next_attempt_at,
                                     std::string_view error,
                                     std::string_view now) {
    (void)now;
    return impl_->Guard([&]() -> Result<void> {
        impl_->db.Exec(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, "
            "last_error = ? WHERE id = ? AND status = 'pending'",
            next_attempt_at,
            error,
            outbox_id);
        return {};
    });
}

Result<void> Ledger::MarkOutboxFailed(std::int64_t outbox_id,
                                      std::string_view error_code,
                                      std::string_view error,
                                      std::string_view now) {
    return impl_->Guard([&]() -> Result<void> {
        Connection& db = impl_->db;
        Tx tx(db, TxKind::kLocked);  // two conditional updates
        // The code leads, so an operator reading the row sees what the provider said.
        if (db.Exec("UPDATE outbox SET status = 'failed', attempts = attempts + 1, "
                    "last_error = ? WHERE id = ? AND status = 'pending'",
                    error_code.empty() ? std::string(error)
                                       : std::string(error_code) + ": " + std::string(error),
                    outbox_id) == 0) {
            return {};
        }
        db.Exec(
            "UPDATE messages SET status = 'failed', error_code = ?, status_at = ? "
            "WHERE id = (SELECT message_id FROM outbox WHERE id = ?)",
            error_code,
            now,
            outbox_id);
        tx.commit();
        return {};
    });
}

Result<OutboxStats> Ledger::GetOutboxStats(std::string_view now) {
    return impl_->Guard([&]() -> Result<OutboxStats> {
        auto stats = impl_->db.Query(
            "SELECT count(*) FILTER (WHERE status = 'pending'), "
            "count(*) FILTER (WHERE status = 'failed'), "
            "min(created_at) FILTER (WHERE status = 'pending') FROM outbox");
        stats->Step();
        OutboxStats out;
        out.pending = stats->Int64(0);
        out.failed = stats->Int64(1);
        const auto oldest = dialogs::ParseIsoInstant(stats->OptionalText(2).value_or(""));
        const auto at = dialogs::ParseIsoInstant(now);
        if (oldest && at && *at > *oldest) {
            out.oldest_pending_seconds = static_cast<double>((*at - *oldest).count());
        }
        out.inbound_pending =
            impl_->db
                .One<std::int64_t>("SELECT count(*) FROM inbound_events WHERE processed_at IS NULL")
                .value();
        return out;
    });
}

Result<std::vector<TranscriptLine>> Ledger::Transcript(std::int64_t conversation_id) {
    return impl_->Guard([&]() -> Result<std::vector<TranscriptLine>> {
        auto lines = impl_->db.Query(
            "SELECT id, direction, author, body, status, coalesce(error_code, ''), "
            "created_at FROM messages WHERE conversation_id = ? ORDER BY id",
            conversation_id);
        std::vector<TranscriptLine> out;
        while (lines->Step()) {
            out.push_back({lines->Int64(0),
                           lines->Text(1),
                           lines->Text(2),
                           lines->Text(3),
                           lines->Text(4),
                           lines->Text(5),
                           lines->Text(6)});
        }
        return out;
    });
}

Result<std::optional<std::int64_t>> Ledger::FindConversation(std::string_view phone,
                                                             std::string_view channel) {
    return impl_->Guard([&]() -> Result<std::optional<std::int64_t>> {
        return impl_->db.One<std::int64_t>(
            "SELECT id FROM conversations WHERE phone = ? AND channel = ? ORDER BY id DESC LIMIT 1",
            phone,
            channel);
    });
}

}  // namespace cobrador::store
