// Webhook events, the inbound queue, the outbox and delivery statuses.
//
// The path of a message (DESIGN.md): a webhook's events are committed here before the provider
// gets its 200 (RecordWebhook); the worker takes them oldest first (PendingInboundEvents), runs
// the dialog, and commits the transcript, the state and the replies' outbox rows together
// (HandleInbound); the dispatcher sends due rows and records what the provider said
// (DueOutbox, MarkOutbox*). A crash anywhere leaves a row that is picked up again.

#include <algorithm>

#include "dialogs/lifecycle.hpp"

#include "dialog_store.hpp"
#include "ledger_impl.hpp"
#include "statement_cache.hpp"

namespace cobrador::store {

namespace {

// How far along a message is; a status only ever moves a message forward.
int StatusRank(std::string_view status) {
    if (status == "read") {
        return 4;
    }
    if (status == "delivered" || status == "failed") {
        return 3;
    }
    if (status == "sent") {
        return 2;
    }
    if (status == "queued") {
        return 1;
    }
    return 0;  // received (inbound) or unknown
}

// Moves the message with `provider_message_id` to `status` if that is forward.
void AdvanceMessageStatus(SQLite::Database& db,
                          const std::string& provider_message_id,
                          const std::string& status,
                          const std::string& error_code,
                          const std::string& at) {
    Prepared current_lease(
        db, "SELECT id, status FROM messages WHERE provider_message_id = ? AND direction = 'out'");
    SQLite::Statement& current = *current_lease;
    current.bind(1, provider_message_id);
    if (!current.executeStep()) {
        return;  // not ours yet (the send call has not returned), or not ours at all
    }
    const std::int64_t id = current.getColumn(0).getInt64();
    if (StatusRank(status) <= StatusRank(current.getColumn(1).getString())) {
        return;
    }
    Prepared update_lease(
        db,
        "UPDATE messages SET status = ?, error_code = coalesce(nullif(?, ''), error_code), "
        "status_at = ? WHERE id = ?");
    SQLite::Statement& update = *update_lease;
    update.bind(1, status);
    update.bind(2, error_code);
    update.bind(3, at);
    update.bind(4, id);
    update.exec();
}

}  // namespace

Result<WebhookOutcome> Ledger::RecordWebhook(const std::vector<InboundRecord>& messages,
                                             const std::vector<StatusRecord>& statuses,
                                             std::string_view now) {
    return impl_->Guard([&]() -> Result<WebhookOutcome> {
        SQLite::Database& db = impl_->db;
        const std::string at(now);
        WebhookOutcome outcome;
        Tx tx(db);
        // ON CONFLICT DO NOTHING is the idempotency: a redelivered id inserts no row.
        Prepared insert_event_lease(
            db,
            "INSERT INTO inbound_events (channel, provider_event_id, kind, phone, payload, "
            "received_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (provider_event_id) DO NOTHING");
        SQLite::Statement& insert_event = *insert_event_lease;
        for (const InboundRecord& m : messages) {
            insert_event.reset();
            insert_event.bind(1, m.channel);
            insert_event.bind(2, m.provider_event_id);
            insert_event.bind(3, m.kind);
            insert_event.bind(4, m.phone);
            insert_event.bind(5, m.payload);
            insert_event.bind(6, at);
            if (insert_event.exec() == 1) {
                ++outcome.messages_new;
            } else {
                ++outcome.messages_duplicate;
            }
        }
        Prepared insert_status_lease(
            db,
            "INSERT INTO delivery_statuses (channel, provider_message_id, status, error_code, "
            "error_title, reported_at, received_at) VALUES (?, ?, ?, nullif(?, ''), "
            "nullif(?, ''), ?, ?) ON CONFLICT (provider_message_id, status) DO NOTHING");
        SQLite::Statement& insert_status = *insert_status_lease;
        for (const StatusRecord& s : statuses) {
            insert_status.reset();
            insert_status.bind(1, s.channel);
            insert_status.bind(2, s.provider_message_id);
            insert_status.bind(3, s.status);
            insert_status.bind(4, s.error_code);
            insert_status.bind(5, s.error_title);
            insert_status.bind(6, s.reported_at.empty() ? at : s.reported_at);
            insert_status.bind(7, at);
            if (insert_status.exec() == 1) {
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
        Prepared pending_lease(impl_->db,
                               "SELECT id, channel, provider_event_id, kind, coalesce(phone, ''), "
                               "payload, received_at FROM inbound_events "
                               "WHERE processed_at IS NULL ORDER BY id LIMIT ?");
        SQLite::Statement& pending = *pending_lease;
        pending.bind(1, static_cast<std::int64_t>(limit));
        std::vector<PendingInbound> out;
        while (pending.executeStep()) {
            out.push_back({pending.getColumn(0).getInt64(),
                           pending.getColumn(1).getString(),
                           pending.getColumn(2).getString(),
                           pending.getColumn(3).getString(),
                           pending.getColumn(4).getString(),
                           pending.getColumn(5).getString(),
                           pending.getColumn(6).getString()});
        }
        return out;
    });
}

Result<std::int64_t> Ledger::HandleInbound(const PendingInbound& event,
                                           std::string_view text,
                                           const DecideFn& decide,
                                           std::string_view now) {
    return impl_->Guard([&]() -> Result<std::int64_t> {
        SQLite::Database& db = impl_->db;
        const std::string at(now);
        Tx tx(db);

        Prepared done_lease(db, "SELECT processed_at IS NOT NULL FROM inbound_events WHERE id = ?");
        SQLite::Statement& done = *done_lease;
        done.bind(1, event.id);
        const bool already = done.executeStep() && done.getColumn(0).getInt() != 0;

        // The open conversation for this phone on this channel, or a new one.
        ConversationRow conversation;
        conversation.phone = event.phone;
        conversation.channel = event.channel;
        Prepared open_lease(
            db,
            "SELECT id, debtor_id, state, dialog_state FROM conversations WHERE phone = ? AND "
            "channel = ? AND state <> 'closed' ORDER BY id DESC LIMIT 1");
        SQLite::Statement& open = *open_lease;
        open.bind(1, event.phone);
        open.bind(2, event.channel);
        if (open.executeStep()) {
            conversation.id = open.getColumn(0).getInt64();
            if (!open.getColumn(1).isNull()) {
                conversation.debtor_id = open.getColumn(1).getInt64();
            }
            conversation.state = dialogs::FromStringOr(open.getColumn(2).getString(),
                                                       dialogs::ConversationState::kBot);
            conversation.dialog_state = open.getColumn(3).getString();
        } else {
            Prepared create_lease(
                db,
                "INSERT INTO conversations (debtor_id, phone, channel, state, last_activity_at, "
                "created_at) VALUES ((SELECT id FROM debtors WHERE phone = ?1 ORDER BY id "
                "LIMIT 1), ?1, ?2, 'bot', ?3, ?3) RETURNING id, debtor_id, dialog_state");
            SQLite::Statement& create = *create_lease;
            create.bind(1, event.phone);
            create.bind(2, event.channel);
            create.bind(3, at);
            create.executeStep();
            conversation.id = create.getColumn(0).getInt64();
            if (!create.getColumn(1).isNull()) {
                conversation.debtor_id = create.getColumn(1).getInt64();
            }
            conversation.state = dialogs::ConversationState::kBot;
            conversation.dialog_state = create.getColumn(2).getString();
        }
        if (already) {
            return conversation.id;
        }

        Prepared message_lease(
            db,
            "INSERT INTO messages (conversation_id, direction, channel, provider_message_id, "
            "author, body, payload, status, created_at, status_at) VALUES (?, 'in', ?, ?, "
            "'debtor', ?, ?, 'received', ?, ?) ON CONFLICT (provider_message_id) DO NOTHING");
        SQLite::Statement& message = *message_lease;
        message.bind(1, conversation.id);
        message.bind(2, event.channel);
        message.bind(3, event.provider_event_id);
        message.bind(4, std::string(text));
        message.bind(5, event.payload);
        message.bind(6, at);
        message.bind(7, at);
        message.exec();

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
            Prepared reply_message_lease(
                db,
                "INSERT INTO messages (conversation_id, direction, channel, author, body, payload, "
                "status, created_at, status_at) VALUES (?, 'out', ?, 'bot', ?, ?, 'queued', ?, ?)");
            SQLite::Statement& reply_message = *reply_message_lease;
            Prepared outbox_lease(
                db,
                "INSERT INTO outbox (message_id, channel, recipient, payload, status, "
                "next_attempt_at, created_at) VALUES (?, ?, ?, ?, 'pending', ?, ?)");
            SQLite::Statement& outbox = *outbox_lease;
            for (const Reply& reply : turn.replies) {
                reply_message.reset();
                reply_message.bind(1, conversation.id);
                reply_message.bind(2, event.channel);
                reply_message.bind(3, reply.body);
                reply_message.bind(4, reply.payload);
                reply_message.bind(5, at);
                reply_message.bind(6, at);
                reply_message.exec();
                outbox.reset();
                outbox.bind(1, db.getLastInsertRowid());
                outbox.bind(2, event.channel);
                outbox.bind(3, event.phone);
                outbox.bind(4, reply.payload);
                outbox.bind(5, at);
                outbox.bind(6, at);
                outbox.exec();
            }
        }

        Prepared touch_lease(
            db,
            "UPDATE conversations SET last_inbound_at = max(coalesce(last_inbound_at, ''), ?1), "
            "last_activity_at = ?2 WHERE id = ?3");
        SQLite::Statement& touch = *touch_lease;
        // WhatsApp's 24-hour window opens when the debtor wrote (we stored it), not when the
        // dialog got to it.
        touch.bind(1, event.received_at.empty() ? at : event.received_at);
        touch.bind(2, at);
        touch.bind(3, conversation.id);
        touch.exec();
        Prepared mark_lease(db, "UPDATE inbound_events SET processed_at = ? WHERE id = ?");
        SQLite::Statement& mark = *mark_lease;
        mark.bind(1, at);
        mark.bind(2, event.id);
        mark.exec();
        tx.commit();
        return conversation.id;
    });
}

Result<std::string> Ledger::LocaleForPhone(std::string_view phone) {
    return impl_->Guard([&]() -> Result<std::string> {
        Prepared locale_lease(impl_->db,
                              "SELECT locale FROM debtors WHERE phone = ? ORDER BY id LIMIT 1");
        SQLite::Statement& locale = *locale_lease;
        locale.bind(1, std::string(phone));
        return locale.executeStep() ? locale.getColumn(0).getString() : std::string("es-MX");
    });
}

Result<std::vector<OutboxItem>> Ledger::DueOutbox(std::string_view now,
                                                  std::size_t limit,
                                                  const std::vector<std::int64_t>& exclude) {
    return impl_->Guard([&]() -> Result<std::vector<OutboxItem>> {
        Prepared due_lease(
            impl_->db,
            "SELECT o.id, o.message_id, m.conversation_id, o.channel, o.recipient, "
            "o.payload, o.attempts, o.created_at, coalesce(o.contact_timezone, '') FROM outbox o "
            "JOIN messages m ON m.id = o.message_id "
            "WHERE o.status = 'pending' AND o.next_attempt_at <= ? "
            "ORDER BY o.id LIMIT ?");
        SQLite::Statement& due = *due_lease;
        due.bind(1, std::string(now));
        due.bind(2, static_cast<std::int64_t>(limit + exclude.size()));
        std::vector<OutboxItem> out;
        while (due.executeStep() && out.size() < limit) {
            const std::int64_t id = due.getColumn(0).getInt64();
            if (std::find(exclude.begin(), exclude.end(), id) != exclude.end()) {
                continue;
            }
            out.push_back({id,
                           due.getColumn(1).getInt64(),
                           due.getColumn(2).getInt64(),
                           due.getColumn(3).getString(),
                           due.getColumn(4).getString(),
                           due.getColumn(5).getString(),
                           due.getColumn(6).getInt(),
                           due.getColumn(7).getString(),
                           due.getColumn(8).getString()});
        }
        return out;
    });
}

Result<void> Ledger::DeferOutbox(std::int64_t outbox_id, std::string_view until) {
    return impl_->Guard([&]() -> Result<void> {
        Prepared defer_lease(impl_->db,
                             "UPDATE outbox SET next_attempt_at = ? WHERE id = ? AND status = "
                             "'pending'");
        SQLite::Statement& defer = *defer_lease;
        defer.bind(1, std::string(until));
        defer.bind(2, outbox_id);
        defer.exec();
        return {};
    });
}

Result<void> Ledger::MarkOutboxSent(std::int64_t outbox_id,
                                    std::string_view provider_message_id,
                                    std::string_view now) {
    return impl_->Guard([&]() -> Result<void> {
        SQLite::Database& db = impl_->db;
        const std::string at(now);
        const std::string provider_id(provider_message_id);
        Tx tx(db);
        Prepared outbox_lease(db,
                              "UPDATE outbox SET status = 'sent', attempts = attempts + 1, "
                              "last_error = NULL WHERE id = ? AND status = 'pending'");
        SQLite::Statement& outbox = *outbox_lease;
        outbox.bind(1, outbox_id);
        if (outbox.exec() == 0) {
            return {};  // already recorded (a retry of this call after a crash)
        }
        Prepared message_lease(
            db,
            "UPDATE messages SET provider_message_id = ?, status = 'sent', status_at = ? "
            "WHERE id = (SELECT message_id FROM outbox WHERE id = ?)");
        SQLite::Statement& message = *message_lease;
        message.bind(1, provider_id);
        message.bind(2, at);
        message.bind(3, outbox_id);
        message.exec();
        // Statuses that raced ahead of the send call's answer.
        Prepared early_lease(db,
                             "SELECT status, coalesce(error_code, '') FROM delivery_statuses "
                             "WHERE provider_message_id = ? ORDER BY id");
        SQLite::Statement& early = *early_lease;
        early.bind(1, provider_id);
        while (early.executeStep()) {
            AdvanceMessageStatus(db,
                                 provider_id,
                                 early.getColumn(0).getString(),
                                 early.getColumn(1).getString(),
                                 at);
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
        Prepared retry_lease(impl_->db,
                             "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, "
                             "last_error = ? WHERE id = ? AND status = 'pending'");
        SQLite::Statement& retry = *retry_lease;
        retry.bind(1, std::string(next_attempt_at));
        retry.bind(2, std::string(error));
        retry.bind(3, outbox_id);
        retry.exec();
        return {};
    });
}

Result<void> Ledger::MarkOutboxFailed(std::int64_t outbox_id,
                                      std::string_view error_code,
                                      std::string_view error,
                                      std::string_view now) {
    return impl_->Guard([&]() -> Result<void> {
        SQLite::Database& db = impl_->db;
        Tx tx(db);
        Prepared outbox_lease(db,
                              "UPDATE outbox SET status = 'failed', attempts = attempts + 1, "
                              "last_error = ? WHERE id = ? AND status = 'pending'");
        SQLite::Statement& outbox = *outbox_lease;
        // The code leads, so an operator reading the row sees what the provider said.
        outbox.bind(1,
                    error_code.empty() ? std::string(error)
                                       : std::string(error_code) + ": " + std::string(error));
        outbox.bind(2, outbox_id);
        if (outbox.exec() == 0) {
            return {};
        }
        Prepared message_lease(
            db,
            "UPDATE messages SET status = 'failed', error_code = ?, status_at = ? "
            "WHERE id = (SELECT message_id FROM outbox WHERE id = ?)");
        SQLite::Statement& message = *message_lease;
        message.bind(1, std::string(error_code));
        message.bind(2, std::string(now));
        message.bind(3, outbox_id);
        message.exec();
        tx.commit();
        return {};
    });
}

Result<OutboxStats> Ledger::GetOutboxStats(std::string_view now) {
    return impl_->Guard([&]() -> Result<OutboxStats> {
        Prepared stats_lease(
            impl_->db,
            "SELECT count(*) FILTER (WHERE status = 'pending'), "
            "count(*) FILTER (WHERE status = 'failed'), "
            "coalesce((julianday(?) - julianday(min(created_at) FILTER (WHERE status = "
            "'pending'))) * 86400.0, 0) FROM outbox");
        SQLite::Statement& stats = *stats_lease;
        stats.bind(1, std::string(now));
        stats.executeStep();
        OutboxStats out;
        out.pending = stats.getColumn(0).getInt64();
        out.failed = stats.getColumn(1).getInt64();
        out.oldest_pending_seconds = std::max(0.0, stats.getColumn(2).getDouble());
        Prepared inbound_lease(impl_->db,
                               "SELECT count(*) FROM inbound_events WHERE processed_at IS NULL");
        SQLite::Statement& inbound = *inbound_lease;
        inbound.executeStep();
        out.inbound_pending = inbound.getColumn(0).getInt64();
        return out;
    });
}

Result<std::vector<TranscriptLine>> Ledger::Transcript(std::int64_t conversation_id) {
    return impl_->Guard([&]() -> Result<std::vector<TranscriptLine>> {
        Prepared lines_lease(
            impl_->db,
            "SELECT id, direction, author, body, status, coalesce(error_code, ''), "
            "created_at FROM messages WHERE conversation_id = ? ORDER BY id");
        SQLite::Statement& lines = *lines_lease;
        lines.bind(1, conversation_id);
        std::vector<TranscriptLine> out;
        while (lines.executeStep()) {
            out.push_back({lines.getColumn(0).getInt64(),
                           lines.getColumn(1).getString(),
                           lines.getColumn(2).getString(),
                           lines.getColumn(3).getString(),
                           lines.getColumn(4).getString(),
                           lines.getColumn(5).getString(),
                           lines.getColumn(6).getString()});
        }
        return out;
    });
}

Result<std::optional<std::int64_t>> Ledger::FindConversation(std::string_view phone,
                                                             std::string_view channel) {
    return impl_->Guard([&]() -> Result<std::optional<std::int64_t>> {
        Prepared find_lease(impl_->db,
                            "SELECT id FROM conversations WHERE phone = ? AND channel = ? "
                            "ORDER BY id DESC LIMIT 1");
        SQLite::Statement& find = *find_lease;
        find.bind(1, std::string(phone));
        find.bind(2, std::string(channel));
        if (find.executeStep()) {
            return std::optional<std::int64_t>(find.getColumn(0).getInt64());
        }
        return std::optional<std::int64_t>();
    });
}

}  // namespace cobrador::store
