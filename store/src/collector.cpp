// The collector's side of the ledger: agents by token, the queue, a conversation in full, and
// the actions (claim, send, release, close, notes), each in one transaction with its audit row.
// A refusal (held by another agent, outside WhatsApp's window...) is an ActionOutcome, not an
// error: nothing is written and the caller tells the person why.

#include "dialogs/contact_policy.hpp"
#include "dialogs/dialog.hpp"
#include "dialogs/lifecycle.hpp"

#include "ledger_impl.hpp"
#include "proactive.hpp"
#include "statement_cache.hpp"

namespace cobrador::store {

namespace {

std::optional<std::string> OptionalText(const SQLite::Column& column) {
    if (column.isNull()) {
        return std::nullopt;
    }
    return column.getString();
}

// The columns of a ConversationSummary, in the order ReadSummary reads them; `c` is the
// conversation, `d` its debtor and `a` its holder.
constexpr const char* kSummarySelect =
    "SELECT c.id, c.state, c.channel, c.phone, d.name, c.verified_at IS NOT NULL, "
    "c.escalation_reason, c.escalated_at, a.id, a.name, "
    "(SELECT m.body FROM messages m WHERE m.conversation_id = c.id AND m.direction = 'in' "
    "ORDER BY m.id DESC LIMIT 1), "
    "c.last_inbound_at, c.last_activity_at, c.created_at, c.disposition, c.closed_at "
    "FROM conversations c LEFT JOIN debtors d ON d.id = c.debtor_id "
    "LEFT JOIN agents a ON a.id = c.assigned_agent_id ";

ConversationSummary ReadSummary(SQLite::Statement& row) {
    ConversationSummary s;
    s.id = row.getColumn(0).getInt64();
    s.state = dialogs::FromStringOr(row.getColumn(1).getString(), dialogs::ConversationState::kBot);
    s.channel = dialogs::FromStringOr(row.getColumn(2).getString(), dialogs::Channel::kSms);
    s.phone = row.getColumn(3).getString();
    s.debtor_name = OptionalText(row.getColumn(4));
    s.verified = row.getColumn(5).getInt() != 0;
    s.escalation_reason = OptionalText(row.getColumn(6));
    s.escalated_at = OptionalText(row.getColumn(7));
    if (!row.getColumn(8).isNull()) {
        s.holder = AgentRef{row.getColumn(8).getInt64(), row.getColumn(9).getString()};
    }
    s.last_message = OptionalText(row.getColumn(10));
    s.last_inbound_at = OptionalText(row.getColumn(11));
    s.last_activity_at = row.getColumn(12).getString();
    s.created_at = row.getColumn(13).getString();
    s.disposition = OptionalText(row.getColumn(14));
    s.closed_at = OptionalText(row.getColumn(15));
    return s;
}

std::optional<ConversationSummary> LoadSummary(SQLite::Database& db, std::int64_t id) {
    Prepared row_lease(db, std::string(kSummarySelect) + "WHERE c.id = ?");
    SQLite::Statement& row = *row_lease;
    row.bind(1, id);
    if (!row.executeStep()) {
        return std::nullopt;
    }
    return ReadSummary(row);
}

Reachability LoadReachability(SQLite::Database& db, const ConversationSummary& c) {
    Prepared prefs_lease(db,
                         "SELECT kind FROM contact_preferences WHERE phone = ? AND active = 1 "
                         "AND (channel = ? OR channel = 'all')");
    SQLite::Statement& prefs = *prefs_lease;
    prefs.bind(1, c.phone);
    prefs.bind(2, std::string(dialogs::ToString(c.channel)));
    Reachability reach;
    while (prefs.executeStep()) {
        const std::string kind = prefs.getColumn(0).getString();
        reach.opted_out = reach.opted_out || kind == "opt_out";
        reach.wrong_number = reach.wrong_number || kind == "wrong_number";
    }
    return reach;
}

void WriteAudit(SQLite::Database& db,
                const ConversationSummary& c,
                const std::string& actor,
                const char* kind,
                const std::string& detail_json,
                const std::string& now) {
    Prepared insert_lease(db,
                          "INSERT INTO audit_log (at, actor, kind, channel, debtor_id, "
                          "conversation_id, detail) VALUES (?, ?, ?, ?, (SELECT debtor_id "
                          "FROM conversations WHERE id = ?), ?, json(?))");
    SQLite::Statement& insert = *insert_lease;
    insert.bind(1, now);
    insert.bind(2, actor);
    insert.bind(3, kind);
    insert.bind(4, std::string(dialogs::ToString(c.channel)));
    insert.bind(5, c.id);
    insert.bind(6, c.id);
    insert.bind(7, detail_json);
    insert.exec();
}

std::string Actor(const Agent& agent) {
    return "agent:" + std::to_string(agent.id);
}

dialogs::LifecycleDecision Decide(const ConversationSummary& c,
                                  dialogs::LifecycleEvent event,
                                  const Agent& by,
                                  std::optional<std::int64_t> assignee = std::nullopt) {
    dialogs::LifecycleFacts facts{c.state, std::nullopt};
    if (c.holder && c.state == dialogs::ConversationState::kClaimed) {
        facts.holder = c.holder->id;
    }
    return dialogs::Decide(facts, event, by.actor(), assignee);
}

// The lifecycle table's refusal, with who holds the conversation when that is the reason.
ActionOutcome Refuse(const dialogs::LifecycleDecision& d, const ConversationSummary& c) {
    ActionOutcome out;
    out.refusal = d.refusal;
    if (d.refusal == Refusal::kHeldByOther) {
        out.holder = c.holder;
    }
    return out;
}

std::string StateName(const ConversationSummary& c) {
    return std::string(dialogs::ToString(c.state));
}

ActionOutcome Refuse(Refusal refusal) {
    ActionOutcome out;
    out.refusal = refusal;
    return out;
}

// Runs `act` on the conversation inside an IMMEDIATE transaction and returns the outcome with
// the conversation as it is afterwards; `act` returns a refusal to write nothing.
template <class F>
ActionOutcome Act(SQLite::Database& db, std::int64_t id, F&& act) {
    Tx tx(db);
    auto before = LoadSummary(db, id);
    if (!before) {
        return Refuse(Refusal::kNotFound);
    }
    ActionOutcome out = act(*before);
    if (!out.ok()) {
        return out;  // the transaction rolls back: nothing written
    }
    out.conversation = LoadSummary(db, id);
    tx.commit();
    return out;
}

}  // namespace

dialogs::Recipient AgentReplyRecipient(const ConversationSummary& c, const Reachability& reach) {
    dialogs::Recipient r;
    r.channel = c.channel;
    r.state = c.state;
    r.wrong_number = reach.wrong_number;
    r.opted_out = reach.opted_out;
    if (c.last_inbound_at) {
        r.last_inbound = dialogs::ParseIsoInstant(*c.last_inbound_at);
    }
    return r;
}

bool IsDisposition(std::string_view code) {
    for (const char* known : kDispositions) {
        if (code == known) {
            return true;
        }
    }
    return false;
}

Result<std::optional<Agent>> Ledger::AgentByToken(std::string_view token_sha256) {
    return impl_->Guard([&]() -> Result<std::optional<Agent>> {
        Prepared row_lease(impl_->db,
                           "SELECT id, name, role, created_at FROM agents WHERE token_sha256 "
                           "= ? AND disabled_at IS NULL");
        SQLite::Statement& row = *row_lease;
        row.bind(1, std::string(token_sha256));
        if (!row.executeStep()) {
            return std::optional<Agent>();
        }
        return std::optional<Agent>(
            Agent{row.getColumn(0).getInt64(),
                  row.getColumn(1).getString(),
                  dialogs::FromStringOr(row.getColumn(2).getString(), dialogs::Role::kCollector),
                  row.getColumn(3).getString(),
                  false});
    });
}

Result<std::vector<Agent>> Ledger::ListAgents() {
    return impl_->Guard([&]() -> Result<std::vector<Agent>> {
        Prepared rows_lease(
            impl_->db,
            "SELECT id, name, role, created_at, disabled_at IS NOT NULL FROM agents ORDER BY id");
        SQLite::Statement& rows = *rows_lease;
        std::vector<Agent> agents;
        while (rows.executeStep()) {
            agents.push_back(Agent{
                rows.getColumn(0).getInt64(),
                rows.getColumn(1).getString(),
                dialogs::FromStringOr(rows.getColumn(2).getString(), dialogs::Role::kCollector),
                rows.getColumn(3).getString(),
                rows.getColumn(4).getInt() != 0});
        }
        return agents;
    });
}

Result<std::int64_t> Ledger::DisableAgentsNamed(std::string_view name, std::string_view now) {
    return impl_->Guard([&]() -> Result<std::int64_t> {
        Prepared disable_lease(
            impl_->db, "UPDATE agents SET disabled_at = ? WHERE name = ? AND disabled_at IS NULL");
        SQLite::Statement& disable = *disable_lease;
        disable.bind(1, std::string(now));
        disable.bind(2, std::string(name));
        return static_cast<std::int64_t>(disable.exec());
    });
}

Result<std::vector<ConversationSummary>> Ledger::ListConversations(
    const ConversationFilter& filter) {
    return impl_->Guard([&]() -> Result<std::vector<ConversationSummary>> {
        Prepared rows_lease(impl_->db,
                            std::string(kSummarySelect) +
                                "WHERE (?1 = 'all' OR c.state = ?1) AND (?2 = '' OR c.phone "
                                "= ?2) AND (?3 IS NULL OR c.assigned_agent_id = ?3) "
                                "ORDER BY coalesce(c.escalated_at, c.created_at), c.id "
                                "LIMIT ?4");
        SQLite::Statement& rows = *rows_lease;
        rows.bind(1, filter.state ? std::string(dialogs::ToString(*filter.state)) : "all");
        rows.bind(2, filter.phone);
        if (filter.holder) {
            rows.bind(3, *filter.holder);
        }
        rows.bind(4, static_cast<std::int64_t>(filter.limit));
        std::vector<ConversationSummary> out;
        while (rows.executeStep()) {
            out.push_back(ReadSummary(rows));
        }
        return out;
    });
}

Result<std::optional<ConversationDetail>> Ledger::GetConversation(std::int64_t id) {
    return impl_->Guard([&]() -> Result<std::optional<ConversationDetail>> {
        SQLite::Database& db = impl_->db;
        // One read transaction: every part of the answer is from the same moment.
        Tx tx(db, Tx::Behavior::kDeferred);
        auto summary = LoadSummary(db, id);
        if (!summary) {
            return std::optional<ConversationDetail>();
        }
        ConversationDetail detail;
        detail.summary = std::move(*summary);
        detail.reach = LoadReachability(db, detail.summary);

        Prepared debtor_lease(db,
                              "SELECT d.id, d.name, d.phone, d.locale, d.timezone FROM debtors "
                              "d JOIN conversations c ON c.debtor_id = d.id WHERE c.id = ?");
        SQLite::Statement& debtor = *debtor_lease;
        debtor.bind(1, id);
        if (debtor.executeStep()) {
            detail.debtor = DebtorSummary{debtor.getColumn(0).getInt64(),
                                          debtor.getColumn(1).getString(),
                                          debtor.getColumn(2).getString(),
                                          debtor.getColumn(3).getString(),
                                          debtor.getColumn(4).getString()};
            Prepared accounts_lease(
                db,
                "SELECT a.account_key, a.balance_cents, a.currency, a.due_date, "
                "a.min_payment_cents, a.segment, a.product, r.reference FROM accounts a "
                "LEFT JOIN payment_references r ON r.account_id = a.id WHERE a.debtor_id = ? "
                "ORDER BY a.due_date, a.id");
            SQLite::Statement& accounts = *accounts_lease;
            accounts.bind(1, detail.debtor->id);
            while (accounts.executeStep()) {
                AccountDetail a;
                a.account_id = accounts.getColumn(0).getString();
                a.balance_cents = accounts.getColumn(1).getInt64();
                a.currency = accounts.getColumn(2).getString();
                a.due_date = accounts.getColumn(3).getString();
                if (!accounts.getColumn(4).isNull()) {
                    a.min_payment_cents = accounts.getColumn(4).getInt64();
                }
                a.segment = accounts.getColumn(5).getString();
                a.product = accounts.getColumn(6).getString();
                a.reference = OptionalText(accounts.getColumn(7));
                detail.accounts.push_back(std::move(a));
            }
            Prepared promises_lease(
                db,
                "SELECT p.id, a.account_key, p.amount_cents, p.currency, p.due_date, p.status, "
                "p.created_at FROM promises p JOIN accounts a ON a.id = p.account_id WHERE "
                "a.debtor_id = ? ORDER BY p.id");
            SQLite::Statement& promises = *promises_lease;
            promises.bind(1, detail.debtor->id);
            while (promises.executeStep()) {
                detail.promises.push_back(PromiseDetail{promises.getColumn(0).getInt64(),
                                                        promises.getColumn(1).getString(),
                                                        promises.getColumn(2).getInt64(),
                                                        promises.getColumn(3).getString(),
                                                        promises.getColumn(4).getString(),
                                                        promises.getColumn(5).getString(),
                                                        promises.getColumn(6).getString()});
            }
            Prepared plans_lease(
                db,
                "SELECT p.id, a.account_key, p.kind, p.total_cents, p.discount_cents, "
                "p.currency, p.status, p.created_at FROM payment_plans p JOIN accounts a ON a.id "
                "= p.account_id WHERE a.debtor_id = ? ORDER BY p.id");
            SQLite::Statement& plans = *plans_lease;
            plans.bind(1, detail.debtor->id);
            Prepared installments_lease(db,
                                        "SELECT seq, due_date, amount_cents, status FROM "
                                        "plan_installments WHERE plan_id = ? ORDER BY seq");
            SQLite::Statement& installments = *installments_lease;
            while (plans.executeStep()) {
                PlanDetail p;
                p.id = plans.getColumn(0).getInt64();
                p.account_id = plans.getColumn(1).getString();
                p.kind = plans.getColumn(2).getString();
                p.total_cents = plans.getColumn(3).getInt64();
                p.discount_cents = plans.getColumn(4).getInt64();
                p.currency = plans.getColumn(5).getString();
                p.status = plans.getColumn(6).getString();
                p.created_at = plans.getColumn(7).getString();
                installments.reset();
                installments.bind(1, p.id);
                while (installments.executeStep()) {
                    p.installments.push_back(
                        InstallmentDetail{installments.getColumn(0).getInt(),
                                          installments.getColumn(1).getString(),
                                          installments.getColumn(2).getInt64(),
                                          installments.getColumn(3).getString()});
                }
                detail.plans.push_back(std::move(p));
            }
        }

        auto transcript = Transcript(id);
        if (!transcript) {
            return transcript.error();
        }
        detail.messages = std::move(*transcript);

        Prepared notes_lease(db,
                             "SELECT n.id, a.id, a.name, n.body, n.created_at FROM notes n "
                             "JOIN agents a ON a.id = n.agent_id WHERE n.conversation_id = ? "
                             "ORDER BY n.id");
        SQLite::Statement& notes = *notes_lease;
        notes.bind(1, id);
        while (notes.executeStep()) {
            detail.notes.push_back(
                NoteDetail{notes.getColumn(0).getInt64(),
                           AgentRef{notes.getColumn(1).getInt64(), notes.getColumn(2).getString()},
                           notes.getColumn(3).getString(),
                           notes.getColumn(4).getString()});
        }
        Prepared events_lease(db,
                              "SELECT at, actor, kind, detail FROM audit_log WHERE "
                              "conversation_id = ? ORDER BY id");
        SQLite::Statement& events = *events_lease;
        events.bind(1, id);
        while (events.executeStep()) {
            detail.events.push_back(AuditEntry{events.getColumn(0).getString(),
                                               events.getColumn(1).getString(),
                                               events.getColumn(2).getString(),
                                               events.getColumn(3).getString()});
        }
        tx.commit();
        return std::optional<ConversationDetail>(std::move(detail));
    });
}

Result<ActionOutcome> Ledger::ClaimConversation(std::int64_t id,
                                                const Agent& by,
                                                std::optional<std::int64_t> assignee,
                                                std::string_view now) {
    return impl_->Guard([&]() -> Result<ActionOutcome> {
        SQLite::Database& db = impl_->db;
        const std::string at(now);
        return Act(db, id, [&](const ConversationSummary& c) -> ActionOutcome {
            const std::int64_t to = assignee.value_or(by.id);
            const auto event = dialogs::ClaimOrAssign(by.actor(), assignee);
            const auto decision = Decide(c, event, by, to);
            if (!decision.ok()) {
                return Refuse(decision, c);
            }
            if (!decision.changes) {
                // Already there: a claim by the holder still counts as activity.
                Prepared touch_lease(db,
                                     "UPDATE conversations SET agent_activity_at = ? WHERE id = ?");
                SQLite::Statement& touch = *touch_lease;
                touch.bind(1, at);
                touch.bind(2, id);
                touch.exec();
                return {};
            }
            Prepared target_lease(db,
                                  "SELECT name FROM agents WHERE id = ? AND disabled_at IS NULL");
            SQLite::Statement& target = *target_lease;
            target.bind(1, to);
            if (!target.executeStep()) {
                return Refuse(Refusal::kNotFound);
            }
            Prepared claim_lease(db,
                                 "UPDATE conversations SET state = 'claimed', "
                                 "assigned_agent_id = ?1, claimed_at = ?2, agent_activity_at "
                                 "= ?2, last_activity_at = ?2 WHERE id = ?3");
            SQLite::Statement& claim = *claim_lease;
            claim.bind(1, to);
            claim.bind(2, at);
            claim.bind(3, id);
            claim.exec();
            const std::string from = c.holder && c.state == dialogs::ConversationState::kClaimed
                                         ? std::to_string(c.holder->id)
                                         : "null";
            WriteAudit(db,
                       c,
                       Actor(by),
                       event == dialogs::LifecycleEvent::kAssign ? "reassigned" : "claimed",
                       "{\"agent_id\":" + std::to_string(to) + ",\"from_agent_id\":" + from +
                           ",\"previous_state\":\"" + StateName(c) + "\"}",
                       at);
            return {};
        });
    });
}

Result<ActionOutcome> Ledger::ReleaseConversation(std::int64_t id,
                                                  const Agent& by,
                                                  std::string_view now) {
    return impl_->Guard([&]() -> Result<ActionOutcome> {
        SQLite::Database& db = impl_->db;
        const std::string at(now);
        return Act(db, id, [&](const ConversationSummary& c) -> ActionOutcome {
            const auto decision = Decide(c, dialogs::LifecycleEvent::kRelease, by);
            if (!decision.ok()) {
                return Refuse(decision, c);
            }
            Prepared state_lease(db, "SELECT dialog_state FROM conversations WHERE id = ?");
            SQLite::Statement& state = *state_lease;
            state.bind(1, id);
            state.executeStep();
            const std::string handed_back = dialogs::ToJson(
                dialogs::HandBack(dialogs::DialogStateFromJson(state.getColumn(0).getString())));
            Prepared release_lease(
                db,
                "UPDATE conversations SET state = 'bot', assigned_agent_id = NULL, claimed_at = "
                "NULL, agent_activity_at = NULL, misunderstood_count = 0, dialog_state = ?1, "
                "last_activity_at = ?2 WHERE id = ?3");
            SQLite::Statement& release = *release_lease;
            release.bind(1, handed_back);
            release.bind(2, at);
            release.bind(3, id);
            release.exec();
            WriteAudit(
                db, c, Actor(by), "released", "{\"previous_state\":\"" + StateName(c) + "\"}", at);
            return {};
        });
    });
}

Result<ActionOutcome> Ledger::CloseConversation(std::int64_t id,
                                                const Agent& by,
                                                std::string_view disposition,
                                                std::string_view note,
                                                std::string_view now) {
    return impl_->Guard([&]() -> Result<ActionOutcome> {
        SQLite::Database& db = impl_->db;
        const std::string at(now);
        return Act(db, id, [&](const ConversationSummary& c) -> ActionOutcome {
            const auto decision = Decide(c, dialogs::LifecycleEvent::kClose, by);
            if (!decision.ok()) {
                return Refuse(decision, c);
            }
            Prepared close_lease(db,
                                 "UPDATE conversations SET state = 'closed', disposition = ?1, "
                                 "closed_at = ?2, last_activity_at = ?2, agent_activity_at = "
                                 "?2 WHERE id = ?3");
            SQLite::Statement& close = *close_lease;
            close.bind(1, std::string(disposition));
            close.bind(2, at);
            close.bind(3, id);
            close.exec();
            if (disposition == "wrong_number") {
                // As when the debtor says so: no further contact with this phone.
                Prepared wrong_lease(
                    db,
                    "INSERT INTO contact_preferences (phone, channel, kind, active, recorded_at, "
                    "source) VALUES (?, 'all', 'wrong_number', 1, ?, 'agent') ON CONFLICT "
                    "(phone, channel, kind) DO UPDATE SET active = 1, recorded_at = "
                    "excluded.recorded_at, source = excluded.source");
                SQLite::Statement& wrong = *wrong_lease;
                wrong.bind(1, c.phone);
                wrong.bind(2, at);
                wrong.exec();
                CancelPending(db, c.phone, "all", at);
            }
            ActionOutcome out;
            if (!note.empty()) {
                Prepared insert_lease(db,
                                      "INSERT INTO notes (conversation_id, agent_id, body, "
                                      "created_at) VALUES (?, ?, ?, ?)");
                SQLite::Statement& insert = *insert_lease;
                insert.bind(1, id);
                insert.bind(2, by.id);
                insert.bind(3, std::string(note));
                insert.bind(4, at);
                insert.exec();
                out.created_id = db.getLastInsertRowid();
            }
            Prepared detail_lease(db, "SELECT json_object('disposition', ?, 'previous_state', ?)");
            SQLite::Statement& detail = *detail_lease;
            detail.bind(1, std::string(disposition));
            detail.bind(2, StateName(c));
            detail.executeStep();
            WriteAudit(db, c, Actor(by), "closed", detail.getColumn(0).getString(), at);
            return out;
        });
    });
}

Result<ActionOutcome> Ledger::SendAgentMessage(std::int64_t id,
                                               const Agent& by,
                                               const AgentMessage& message,
                                               std::string_view now) {
    return impl_->Guard([&]() -> Result<ActionOutcome> {
        SQLite::Database& db = impl_->db;
        const std::string at(now);
        const auto now_instant = dialogs::ParseIsoInstant(at).value_or(std::chrono::sys_seconds{});
        return Act(db, id, [&](const ConversationSummary& c) -> ActionOutcome {
            const auto decision = Decide(c, dialogs::LifecycleEvent::kReply, by);
            if (!decision.ok()) {
                return Refuse(decision, c);
            }
            if (c.channel == dialogs::Channel::kSms && message.too_long_for_sms) {
                return Refuse(Refusal::kTooLongForSms);
            }
            switch (dialogs::MayWrite(dialogs::WritePurpose::kAgentReply,
                                      AgentReplyRecipient(c, LoadReachability(db, c)),
                                      now_instant,
                                      nullptr)
                        .block) {
                case dialogs::WriteBlock::kNone:
                    break;
                case dialogs::WriteBlock::kWrongNumber:
                    return Refuse(Refusal::kWrongNumber);
                case dialogs::WriteBlock::kOptedOut:
                    return Refuse(Refusal::kOptedOut);
                case dialogs::WriteBlock::kOutsideWindow: {
                    ActionOutcome out = Refuse(Refusal::kOutsideWindow);
                    out.last_inbound_at = c.last_inbound_at;
                    return out;
                }
                case dialogs::WriteBlock::kClosed:
                case dialogs::WriteBlock::kHeldByPerson:
                case dialogs::WriteBlock::kOutsideHours:
                    return Refuse(Refusal::kClosed);  // not asked of a collector's reply
            }
            Prepared insert_lease(
                db,
                "INSERT INTO messages (conversation_id, direction, channel, author, body, payload, "
                "status, created_at, status_at) VALUES (?1, 'out', ?2, ?3, ?4, ?5, 'queued', ?6, "
                "?6)");
            SQLite::Statement& insert = *insert_lease;
            insert.bind(1, id);
            insert.bind(2, std::string(dialogs::ToString(c.channel)));
            insert.bind(3, Actor(by));
            insert.bind(4, message.text);
            insert.bind(5, message.payload);
            insert.bind(6, at);
            insert.exec();
            ActionOutcome out;
            out.created_id = db.getLastInsertRowid();
            Prepared outbox_lease(db,
                                  "INSERT INTO outbox (message_id, channel, recipient, payload, "
                                  "status, next_attempt_at, created_at) VALUES (?1, ?2, ?3, ?4, "
                                  "'pending', ?5, ?5)");
            SQLite::Statement& outbox = *outbox_lease;
            outbox.bind(1, out.created_id);
            outbox.bind(2, std::string(dialogs::ToString(c.channel)));
            outbox.bind(3, c.phone);
            outbox.bind(4, message.payload);
            outbox.bind(5, at);
            outbox.exec();
            Prepared touch_lease(db,
                                 "UPDATE conversations SET agent_activity_at = ?1, "
                                 "last_activity_at = ?1 WHERE id = ?2");
            SQLite::Statement& touch = *touch_lease;
            touch.bind(1, at);
            touch.bind(2, id);
            touch.exec();
            WriteAudit(db,
                       c,
                       Actor(by),
                       "agent_message",
                       "{\"message_id\":" + std::to_string(out.created_id) + "}",
                       at);
            return out;
        });
    });
}

Result<ActionOutcome> Ledger::AddNote(std::int64_t id,
                                      const Agent& by,
                                      std::string_view text,
                                      std::string_view now) {
    return impl_->Guard([&]() -> Result<ActionOutcome> {
        SQLite::Database& db = impl_->db;
        const std::string at(now);
        return Act(db, id, [&](const ConversationSummary& c) -> ActionOutcome {
            Prepared insert_lease(
                db,
                "INSERT INTO notes (conversation_id, agent_id, body, created_at) VALUES (?, ?, ?, "
                "?)");
            SQLite::Statement& insert = *insert_lease;
            insert.bind(1, id);
            insert.bind(2, by.id);
            insert.bind(3, std::string(text));
            insert.bind(4, at);
            insert.exec();
            ActionOutcome out;
            out.created_id = db.getLastInsertRowid();
            if (Decide(c, dialogs::LifecycleEvent::kReply, by).ok()) {  // the holder
                Prepared touch_lease(db,
                                     "UPDATE conversations SET agent_activity_at = ? WHERE id = ?");
                SQLite::Statement& touch = *touch_lease;
                touch.bind(1, at);
                touch.bind(2, id);
                touch.exec();
            }
            WriteAudit(db,
                       c,
                       Actor(by),
                       "note_added",
                       "{\"note_id\":" + std::to_string(out.created_id) + "}",
                       at);
            return out;
        });
    });
}

Result<std::vector<std::int64_t>> Ledger::ExpireIdleClaims(std::string_view idle_since,
                                                           std::string_view now) {
    return impl_->Guard([&]() -> Result<std::vector<std::int64_t>> {
        SQLite::Database& db = impl_->db;
        const std::string at(now);
        Tx tx(db);
        Prepared idle_lease(db,
                            "SELECT id FROM conversations WHERE state = 'claimed' AND "
                            "coalesce(agent_activity_at, claimed_at, last_activity_at) < ?");
        SQLite::Statement& idle = *idle_lease;
        idle.bind(1, std::string(idle_since));
        std::vector<std::int64_t> expired;
        while (idle.executeStep()) {
            expired.push_back(idle.getColumn(0).getInt64());
        }
        Prepared back_lease(db,
                            "UPDATE conversations SET state = 'escalated', assigned_agent_id "
                            "= NULL, claimed_at = NULL, agent_activity_at = NULL, "
                            "escalated_at = coalesce(escalated_at, ?1), escalation_reason = "
                            "coalesce(escalation_reason, 'claim_expired') WHERE id = ?2");
        SQLite::Statement& back = *back_lease;
        for (const std::int64_t id : expired) {
            const auto c = LoadSummary(db, id);
            back.reset();
            back.bind(1, at);
            back.bind(2, id);
            back.exec();
            WriteAudit(
                db,
                *c,
                "system",
                "claim_expired",
                "{\"agent_id\":" + (c->holder ? std::to_string(c->holder->id) : "null") + "}",
                at);
        }
        tx.commit();
        return expired;
    });
}

}  // namespace cobrador::store
