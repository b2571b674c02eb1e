// Webhook events, the inbound queue, the outbox and delivery statuses.
//
// The path of a message (DESIGN.md): a webhook's events are committed here before the provider
// gets its 200 (RecordWebhook); the worker takes them oldest first (PendingInboundEvents), runs
// the dialog, and commits the transcript, the state and the replies' outbox rows together
// (HandleInbound); the dispatcher sends due rows and records what the provider said
// (DueOutbox, MarkOutbox*). A crash anywhere leaves a row that is picked up again.

#include <algorithm>
#include <map>
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
                                           std::string_view now,
                                           std::vector<Reply>* queued) {
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

        const auto message_id = db.Prepare(
                                      "INSERT INTO messages (conversation_id, direction, channel, "
                                      "provider_message_id, author, body, payload, status, "
                                      "created_at, status_at) VALUES (?, 'in', ?, ?, 'debtor', ?, "
                                      "?, 'received', ?, ?) ON CONFLICT (provider_message_id) DO "
                                      "NOTHING RETURNING id")
                                    .Returning(conversation.id,
                                               event.channel,
                                               event.provider_event_id,
                                               text,
                                               event.payload,
                                               at,
                                               at);
        // Its files, to be fetched by the media worker: kept whoever holds the conversation.
        if (message_id) {
            Prepared insert_media = db.Prepare(
                "INSERT INTO media (message_id, conversation_id, channel, kind, voice, source, "
                "declared_type, filename, status, next_attempt_at, created_at) VALUES (?, ?, ?, "
                "?, ?, ?, ?, ?, 'pending', ?, ?)");
            for (const MediaRecord& m : event.media) {
                insert_media.Exec(*message_id,
                                  conversation.id,
                                  event.channel,
                                  m.kind,
                                  m.voice,
                                  m.source,
                                  m.declared_type,
                                  m.filename,
                                  at,
                                  at);
            }
        }

        // A collector holding the conversation answers it and the bot stays silent, except
        // when the debtor leaves (opt-out, opt-in, wrong number): that is recorded and
        // confirmed whoever holds the conversation.
        DialogTurn turn = decide(LoadConversationView(db, conversation));
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
            if (queued != nullptr) {
                *queued = turn.replies;
            }
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

Result<std::vector<OutboxItem>> Ledger::ClaimOutbox(std::string_view owner,
                                                    std::string_view now,
                                                    std::string_view lease_until,
                                                    std::size_t limit) {
    return impl_->Guard([&]() -> Result<std::vector<OutboxItem>> {
        Connection& db = impl_->db;
        // Claims take turns across replicas (a short lock, no SSI tracking), and each statement
        // after the lock sees the leases the previous claimer committed. Instants are ISO 8601
        // UTC text of one width, so they compare as text.
        Tx tx(db, TxKind::kLocked);
        db.Lock({"outbox-claim"});
        // One statement takes the rows and returns what the sender needs of them (the
        // conversation through a subquery: RETURNING may not name a joined table on SQLite).
        std::vector<OutboxItem> out;
        auto claimed = db.Query(
            "UPDATE outbox SET lease_owner = ?1, lease_until = ?2, "
            "lease_token = lease_token + 1 WHERE id IN ("
            "SELECT o.id FROM outbox o WHERE o.status = 'pending' AND o.next_attempt_at <= ?3 "
            "AND NOT EXISTS (SELECT 1 FROM outbox held WHERE held.recipient = o.recipient "
            "AND held.channel = o.channel AND held.status = 'pending' "
            "AND held.lease_until > ?3) "
            "ORDER BY o.id LIMIT ?4) RETURNING id, message_id, "
            "(SELECT m.conversation_id FROM messages m WHERE m.id = message_id), channel, "
            "recipient, payload, attempts, created_at, coalesce(contact_timezone, ''), "
            "lease_token",
            owner,
            lease_until,
            now,
            static_cast<std::int64_t>(limit));
        while (claimed->Step()) {
            out.push_back({claimed->Int64(0),
                           claimed->Int64(1),
                           claimed->Int64(2),
                           claimed->Text(3),
                           claimed->Text(4),
                           claimed->Text(5),
                           claimed->Int(6),
                           claimed->Text(7),
                           claimed->Text(8),
                           claimed->Int64(9)});
        }
        claimed->Reset();  // finished: SQLite will not commit while a statement is stepping
        // RETURNING has no order of its own: oldest first, as the sender sends them.
        std::sort(out.begin(), out.end(), [](const OutboxItem& x, const OutboxItem& y) {
            return x.id < y.id;
        });
        tx.commit();
        return out;
    });
}

Result<void> Ledger::ReleaseOutbox(
    const std::vector<std::pair<std::int64_t, std::int64_t>>& leases) {
    if (leases.empty()) {
        return {};
    }
    return impl_->Guard([&]() -> Result<void> {
        Connection& db = impl_->db;
        Tx tx(db, TxKind::kLocked);  // conditional updates of rows this sender holds
        for (const auto& [id, token] : leases) {
            db.Exec(
                "UPDATE outbox SET lease_until = NULL WHERE id = ? AND lease_token = ?", id, token);
        }
        tx.commit();
        return {};
    });
}

namespace {

// Sets `assignments` (and frees the lease) on an outbox row that is still pending and still
// carries `lease`; `values` bind to the assignments' placeholders. False when it did not.
template <class... A>
bool UpdateHeldRow(Connection& db,
                   const std::string& assignments,
                   std::int64_t outbox_id,
                   std::int64_t lease,
                   const A&... values) {
    return db.Exec("UPDATE outbox SET " + assignments +
                       ", lease_until = NULL WHERE id = ? AND status = 'pending' AND "
                       "lease_token = ?",
                   values...,
                   outbox_id,
                   lease) == 1;
}

// After UpdateHeldRow changed nothing: the same record made before (a retry of the call) is
// fine; a row someone else claimed since is not ours to touch. Ends the transaction (nothing
// was written), so a group it belongs to goes on.
Result<void> NotHeld(Tx& tx, Connection& db, std::int64_t outbox_id, std::int64_t lease) {
    const auto token =
        db.One<std::int64_t>("SELECT lease_token FROM outbox WHERE id = ?", outbox_id);
    tx.commit();
    if (token && *token != lease) {
        return make_error_code(Errc::kLeaseLost);
    }
    return {};
}

}  // namespace

Result<void> Ledger::DeferOutbox(std::int64_t outbox_id,
                                 std::int64_t lease,
                                 std::string_view until) {
    return impl_->Guard([&]() -> Result<void> {
        Connection& db = impl_->db;
        Tx tx(db, TxKind::kLocked);
        if (!UpdateHeldRow(db, "next_attempt_at = ?", outbox_id, lease, until)) {
            return NotHeld(tx, db, outbox_id, lease);
        }
        tx.commit();
        return {};
    });
}

Result<void> Ledger::MarkOutboxSent(std::int64_t outbox_id,
                                    std::int64_t lease,
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
        if (!UpdateHeldRow(db,
                           "status = 'sent', attempts = attempts + 1, last_error = NULL",
                           outbox_id,
                           lease)) {
            return NotHeld(tx, db, outbox_id, lease);
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
                                     std::int64_t lease,
                                     std::string_view next_attempt_at,
                                     std::string_view error,
                                     std::string_view now) {
    (void)now;
    return impl_->Guard([&]() -> Result<void> {
        Connection& db = impl_->db;
        Tx tx(db, TxKind::kLocked);
        if (!UpdateHeldRow(db,
                           "attempts = attempts + 1, next_attempt_at = ?, last_error = ?",
                           outbox_id,
                           lease,
                           next_attempt_at,
                           error)) {
            return NotHeld(tx, db, outbox_id, lease);
        }
        tx.commit();
        return {};
    });
}

Result<void> Ledger::MarkOutboxFailed(std::int64_t outbox_id,
                                      std::int64_t lease,
                                      std::string_view error_code,
                                      std::string_view error,
                                      std::string_view now) {
    return impl_->Guard([&]() -> Result<void> {
        Connection& db = impl_->db;
        Tx tx(db, TxKind::kLocked);  // two conditional updates
        // The code leads, so an operator reading the row sees what the provider said.
        const std::string why = error_code.empty()
                                    ? std::string(error)
                                    : std::string(error_code) + ": " + std::string(error);
        if (!UpdateHeldRow(db,
                           "status = 'failed', attempts = attempts + 1, last_error = ?",
                           outbox_id,
                           lease,
                           why)) {
            return NotHeld(tx, db, outbox_id, lease);
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

Result<std::vector<std::string>> Ledger::LeaseHolders(std::string_view now) {
    return impl_->Guard([&]() -> Result<std::vector<std::string>> {
        auto holders = impl_->db.Query(
            "SELECT lease_owner FROM outbox WHERE status = 'pending' AND lease_until > ?1 "
            "UNION SELECT owner FROM jobs WHERE lease_until > ?1",
            now);
        std::vector<std::string> out;
        while (holders->Step()) {
            if (!holders->IsNull(0)) {
                out.push_back(holders->Text(0));
            }
        }
        return out;
    });
}

Result<std::int64_t> Ledger::ReleaseLeasesOf(std::string_view holder) {
    return impl_->Guard([&]() -> Result<std::int64_t> {
        Connection& db = impl_->db;
        Tx tx(db, TxKind::kLocked);
        const std::int64_t rows =
            db.Exec(
                "UPDATE outbox SET lease_until = NULL WHERE lease_owner = ? AND "
                "status = 'pending' AND lease_until IS NOT NULL",
                holder) +
            db.Exec("UPDATE jobs SET owner = NULL, lease_until = NULL WHERE owner = ?", holder);
        tx.commit();
        return rows;
    });
}

Result<bool> Ledger::TakeJob(std::string_view name,
                             std::string_view owner,
                             std::string_view now,
                             std::string_view lease_until,
                             std::string_view next_run_at) {
    return impl_->Guard([&]() -> Result<bool> {
        Connection& db = impl_->db;
        // A conditional update of one row: on PostgreSQL the second of two at once waits for
        // the first's row lock and then finds the job taken.
        Tx tx(db, TxKind::kLocked);
        db.Exec("INSERT INTO jobs (name, next_run_at) VALUES (?, '') ON CONFLICT (name) DO NOTHING",
                name);
        const bool taken = db.Exec(
                               "UPDATE jobs SET owner = ?1, lease_until = ?2, next_run_at = ?3, "
                               "last_started = ?4, last_owner = ?1, runs = runs + 1 "
                               "WHERE name = ?5 AND next_run_at <= ?4 "
                               "AND (lease_until IS NULL OR lease_until <= ?4)",
                               owner,
                               lease_until,
                               next_run_at,
                               now,
                               name) == 1;
        tx.commit();
        return taken;
    });
}

Result<void> Ledger::FinishJob(std::string_view name,
                               std::string_view owner,
                               std::string_view lease_until) {
    return impl_->Guard([&]() -> Result<void> {
        impl_->db.Exec(
            "UPDATE jobs SET owner = NULL, lease_until = NULL "
            "WHERE name = ? AND owner = ? AND lease_until = ?",
            name,
            owner,
            lease_until);
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
        std::map<std::int64_t, std::size_t> by_message;
        while (lines->Step()) {
            by_message[lines->Int64(0)] = out.size();
            out.push_back({lines->Int64(0),
                           lines->Text(1),
                           lines->Text(2),
                           lines->Text(3),
                           lines->Text(4),
                           lines->Text(5),
                           lines->Text(6)});
        }
        auto files = impl_->db.Query(
            "SELECT f.id, f.message_id, f.kind, f.voice, f.status, coalesce(f.content_type, "
            "f.declared_type), f.filename, coalesce(f.size_bytes, 0), CASE WHEN f.status = "
            "'stored' THEN '' ELSE coalesce(f.last_error, '') END, r.status, r.engine, r.text, "
            "coalesce(r.error, ''), coalesce(r.clave_rastreo, ''), r.amount_cents, "
            "coalesce(r.operation_date, ''), coalesce(r.sending_bank, ''), "
            "coalesce(r.beneficiary_account, ''), coalesce(r.reference, ''), coalesce(r.concept, "
            "''), coalesce(r.beneficiary_name, ''), k.status, coalesce(k.outcome, ''), "
            "coalesce(k.detail, k.last_error, ''), coalesce(k.payment_id, '') FROM media f LEFT "
            "JOIN receipts r ON r.media_id = f.id LEFT JOIN receipt_checks k ON k.receipt_id = "
            "r.id WHERE f.conversation_id = ? ORDER BY f.id",
            conversation_id);
        while (files->Step()) {
            const auto line = by_message.find(files->Int64(1));
            if (line == by_message.end()) {
                continue;
            }
            MediaItem item{files->Int64(0),
                           files->Text(2),
                           files->Int64(3) != 0,
                           files->Text(4),
                           files->Text(5),
                           files->Text(6),
                           files->Int64(7),
                           files->Text(8)};
            if (!files->IsNull(9)) {
                ReceiptReading r;
                r.read = files->Text(9) == "read";
                r.engine = files->Text(10);
                r.text = files->Text(11);
                r.error = files->Text(12);
                r.clave_rastreo = files->Text(13);
                if (!files->IsNull(14)) {
                    r.amount_cents = files->Int64(14);
                }
                r.operation_date = files->Text(15);
                r.sending_bank = files->Text(16);
                r.beneficiary_account = files->Text(17);
                r.reference = files->Text(18);
                r.payment_concept = files->Text(19);
                r.beneficiary_name = files->Text(20);
                if (!files->IsNull(21)) {
                    r.check = ReceiptCheck{
                        files->Text(21), files->Text(22), files->Text(23), files->Text(24)};
                }
                item.receipt = std::move(r);
            }
            out[line->second].media.push_back(std::move(item));
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

Result<std::vector<PhoneAccount>> Ledger::AccountsOfPhone(std::string_view phone) {
    return impl_->Guard([&]() -> Result<std::vector<PhoneAccount>> {
        std::vector<PhoneAccount> out;
        auto rows = impl_->db.Query(
            "SELECT a.id, a.account_key, d.name, d.birth_date, d.locale, a.balance_cents, "
            "a.currency, a.due_date FROM accounts a JOIN debtors d ON d.id = a.debtor_id WHERE "
            "d.phone = ? ORDER BY a.due_date, a.id",
            phone);
        while (rows->Step()) {
            out.push_back({rows->Int64(0),
                           rows->Text(1),
                           rows->Text(2),
                           rows->Text(3),
                           rows->Text(4),
                           rows->Int64(5),
                           rows->Text(6),
                           rows->Text(7)});
        }
        return out;
    });
}

}  // namespace cobrador::store
