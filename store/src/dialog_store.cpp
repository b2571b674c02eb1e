// What the dialog sees of a conversation, and how its decisions land in the ledger. Every
// command writes its rows and one audit_log row, inside the caller's transaction, so that an
// outcome, the conversation's state and the reply that announces it commit together.

#include "dialog_store.hpp"

#include <type_traits>

#include "dialogs/lifecycle.hpp"

#include "audit.hpp"
#include "proactive.hpp"

namespace cobrador::store {

namespace {

std::string IsoInstant(dialogs::Instant instant) {
    return dialogs::FormatIsoInstant(instant);
}

// The audit row of a command on the conversation. `detail_sql` is an SQL expression built with
// json_object() from `detail_args`.
struct Audit {
    Connection& db;
    const ConversationRow& conversation;
    const std::string& now;

    template <class... A>
    void Write(const char* kind,
               std::optional<std::int64_t> account_id,
               const std::string& detail_sql = "'{}'",
               const A&... detail_args) {
        WriteAudit(db,
                   {"bot",
                    kind,
                    conversation.channel,
                    conversation.debtor_id,
                    account_id,
                    conversation.id},
                   now,
                   detail_sql,
                   detail_args...);
    }
};

}  // namespace

dialogs::ConversationView LoadConversationView(Connection& db,
                                               const ConversationRow& conversation) {
    dialogs::ConversationView view;
    view.channel = conversation.channel;
    view.state = dialogs::DialogStateFromJson(conversation.dialog_state);

    view.wrong_number = db.One<int>(
                              "SELECT count(*) FROM contact_preferences WHERE phone = ? "
                              "AND kind = 'wrong_number' AND active = 1",
                              conversation.phone)
                            .value_or(0) > 0;

    if (!conversation.debtor_id) {
        return view;
    }
    auto debtor = db.Query("SELECT name, birth_date, locale, timezone FROM debtors WHERE id = ?",
                           *conversation.debtor_id);
    if (!debtor->executeStep()) {
        return view;
    }
    const auto birth = dialogs::ParseIsoDate(debtor->getColumn(1).getString());
    if (!birth) {
        return view;  // cannot be checked: treat as unknown rather than guess
    }
    dialogs::DebtorView d;
    d.id = *conversation.debtor_id;
    d.name = debtor->getColumn(0).getString();
    d.birth_date = *birth;
    d.locale = debtor->getColumn(2).getString();
    d.timezone = debtor->getColumn(3).getString();

    auto accounts = db.Query(
        "SELECT a.id, a.account_key, a.balance_cents, a.currency, a.due_date, "
        "a.min_payment_cents, "
        "(SELECT p.amount_cents FROM promises p WHERE p.account_id = a.id AND p.status = 'open' "
        " ORDER BY p.id DESC LIMIT 1), "
        "(SELECT p.due_date FROM promises p WHERE p.account_id = a.id AND p.status = 'open' "
        " ORDER BY p.id DESC LIMIT 1), "
        "(SELECT count(*) FROM payment_plans pp WHERE pp.account_id = a.id AND "
        " pp.status = 'active') "
        "FROM accounts a WHERE a.debtor_id = ? ORDER BY a.due_date, a.id",
        *conversation.debtor_id);
    while (accounts->executeStep()) {
        dialogs::AccountView a;
        a.id = accounts->getColumn(0).getInt64();
        a.key = accounts->getColumn(1).getString();
        a.balance = {accounts->getColumn(2).getInt64(), accounts->getColumn(3).getString()};
        const auto due = dialogs::ParseIsoDate(accounts->getColumn(4).getString());
        if (!due) {
            continue;
        }
        a.due_date = *due;
        if (!accounts->getColumn(5).isNull()) {
            a.min_payment_cents = accounts->getColumn(5).getInt64();
        }
        if (!accounts->getColumn(6).isNull()) {
            const auto date = dialogs::ParseIsoDate(accounts->getColumn(7).getString());
            if (date) {
                a.open_promise = dialogs::PromiseView{
                    {accounts->getColumn(6).getInt64(), a.balance.currency}, *date};
            }
        }
        a.active_plan = accounts->getColumn(8).getInt() > 0;
        d.accounts.push_back(std::move(a));
    }
    view.debtor = std::move(d);
    return view;
}

void ApplyTurn(Connection& db,
               const ConversationRow& conversation,
               const DialogTurn& turn,
               const std::string& now) {
    Audit audit{db, conversation, now};
    // `set_sql`'s ? take `args`, in order.
    auto update_conversation = [&](const char* set_sql, const auto&... args) {
        db.Exec(std::string("UPDATE conversations SET ") + set_sql + " WHERE id = ?",
                args...,
                conversation.id);
    };
    for (const dialogs::Command& command : turn.commands) {
        std::visit(
            [&](const auto& c) {
                using T = std::decay_t<decltype(c)>;
                if constexpr (std::is_same_v<T, dialogs::Verified>) {
                    update_conversation(
                        "verified_at = coalesce(verified_at, ?), verified_until = ?, "
                        "failed_verifications = 0, locked_until = NULL",
                        now,
                        IsoInstant(c.until));
                    audit.Write("verified", std::nullopt);
                } else if constexpr (std::is_same_v<T, dialogs::VerificationFailed>) {
                    update_conversation("failed_verifications = ?", std::to_string(c.failures));
                    audit.Write("verification_failed",
                                std::nullopt,
                                "json_object('failures', CAST(? AS INTEGER))",
                                std::to_string(c.failures));
                } else if constexpr (std::is_same_v<T, dialogs::Locked>) {
                    update_conversation("locked_until = ?", IsoInstant(c.until));
                    audit.Write(
                        "locked", std::nullopt, "json_object('until', ?)", IsoInstant(c.until));
                } else if constexpr (std::is_same_v<T, dialogs::Escalated>) {
                    // The lifecycle table decides: to the queue from the bot; a person already
                    // on it (or a closed conversation) keeps its state.
                    const auto current = dialogs::FromStringOr(
                        db.One<std::string>("SELECT state FROM conversations WHERE id = ?",
                                            conversation.id)
                            .value_or("bot"),
                        dialogs::ConversationState::kBot);
                    const auto decided = dialogs::Decide(
                        {current, std::nullopt}, dialogs::LifecycleEvent::kEscalate, {});
                    update_conversation("state = ?, escalation_reason = ?, escalated_at = ?",
                                        std::string(dialogs::ToString(decided.to)),
                                        c.reason,
                                        now);
                    audit.Write("escalated", std::nullopt, "json_object('reason', ?)", c.reason);
                } else if constexpr (std::is_same_v<T, dialogs::PromiseMade>) {
                    db.Exec(
                        "INSERT INTO promises (account_id, conversation_id, amount_cents, "
                        "currency, due_date, status, created_at) VALUES (?, ?, ?, ?, ?, 'open', "
                        "?)",
                        c.account_id,
                        conversation.id,
                        c.amount.cents,
                        c.amount.currency,
                        dialogs::FormatIsoDate(c.date),
                        now);
                    audit.Write("promise_made",
                                c.account_id,
                                "json_object('amount', ?, 'date', ?)",
                                dialogs::FormatDecimalCents(c.amount.cents),
                                dialogs::FormatIsoDate(c.date));
                } else if constexpr (std::is_same_v<T, dialogs::PlanAgreed>) {
                    db.Exec(
                        "INSERT INTO payment_plans (account_id, conversation_id, kind, "
                        "total_cents, discount_cents, currency, status, approved_by, "
                        "created_at) VALUES (?, ?, ?, ?, ?, ?, 'active', 'bot', ?)",
                        c.account_id,
                        conversation.id,
                        c.kind,
                        c.total.cents,
                        c.discount_cents,
                        c.total.currency,
                        now);
                    const std::int64_t plan_id = db.LastInsertRowid();
                    Prepared installment = db.Prepare(
                        "INSERT INTO plan_installments (plan_id, seq, due_date, amount_cents, "
                        "status) VALUES (?, ?, ?, ?, 'pending')");
                    int seq = 0;
                    for (const dialogs::Installment& i : c.schedule) {
                        installment.Exec(plan_id, ++seq, dialogs::FormatIsoDate(i.due), i.cents);
                    }
                    audit.Write("plan_created",
                                c.account_id,
                                "json_object('plan_id', CAST(? AS INTEGER), 'kind', ?, "
                                "'total', ?, 'discount', ?, 'installments', CAST(? AS INTEGER))",
                                std::to_string(plan_id),
                                c.kind,
                                dialogs::FormatDecimalCents(c.total.cents),
                                dialogs::FormatDecimalCents(c.discount_cents),
                                std::to_string(c.schedule.size()));
                } else if constexpr (std::is_same_v<T, dialogs::ReferenceIssued>) {
                    db.Exec(
                        "INSERT INTO payment_references (account_id, reference, created_at) "
                        "VALUES (?, ?, ?) ON CONFLICT (account_id) DO NOTHING",
                        c.account_id,
                        c.reference,
                        now);
                    audit.Write("reference_issued",
                                c.account_id,
                                "json_object('reference', ?)",
                                c.reference);
                } else if constexpr (std::is_same_v<T, dialogs::OptedOut> ||
                                     std::is_same_v<T, dialogs::OptedIn>) {
                    const bool out = std::is_same_v<T, dialogs::OptedOut>;
                    db.Exec(
                        "INSERT INTO contact_preferences (phone, channel, kind, active, "
                        "recorded_at, source) VALUES (?, ?, 'opt_out', ?, ?, 'debtor') "
                        "ON CONFLICT (phone, channel, kind) DO UPDATE SET active = "
                        "excluded.active, recorded_at = excluded.recorded_at, source = "
                        "excluded.source",
                        conversation.phone,
                        conversation.channel,
                        out ? 1 : 0,
                        now);
                    if (out) {
                        // Replies and reminders already queued for this channel stay unsent
                        // (the confirmation is queued after this, and goes).
                        CancelPending(db, conversation.phone, conversation.channel, now);
                    }
                    audit.Write(out ? "opted_out" : "opted_in", std::nullopt);
                } else if constexpr (std::is_same_v<T, dialogs::WrongNumber>) {
                    db.Exec(
                        "INSERT INTO contact_preferences (phone, channel, kind, active, "
                        "recorded_at, source) VALUES (?, 'all', 'wrong_number', 1, ?, 'debtor') "
                        "ON CONFLICT (phone, channel, kind) DO UPDATE SET active = 1, "
                        "recorded_at = excluded.recorded_at",
                        conversation.phone,
                        now);
                    CancelPending(db, conversation.phone, "all", now);
                    update_conversation(
                        "state = 'closed', disposition = 'wrong_number', closed_at = ?", now);
                    audit.Write("wrong_number", std::nullopt);
                }
            },
            command);
    }
    const dialogs::DialogState state = dialogs::DialogStateFromJson(turn.dialog_state);
    update_conversation("dialog_state = ?, misunderstood_count = ?",
                        turn.dialog_state,
                        std::to_string(state.misunderstood));
}

}  // namespace cobrador::store
