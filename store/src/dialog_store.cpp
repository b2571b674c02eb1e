// What the dialog sees of a conversation, and how its decisions land in the ledger. Every
// command writes its rows and one audit_log row, inside the caller's transaction, so that an
// outcome, the conversation's state and the reply that announces it commit together.

#include "dialog_store.hpp"

#include <type_traits>

#include "dialogs/lifecycle.hpp"

#include "audit.hpp"
#include "case_rows.hpp"
#include "proactive.hpp"
#include "shifts.hpp"

namespace cobrador::store {

namespace {

std::string IsoInstant(dialogs::Instant instant) {
    return dialogs::FormatIsoInstant(instant);
}

// The audit row of a command on the conversation, with its detail (AuditDetail).
struct Audit {
    Connection& db;
    const ConversationRow& conversation;
    const std::string& now;

    AuditRow Row(const char* kind = "", std::optional<std::int64_t> account_id = {}) const {
        return {
            "bot", kind, conversation.channel, conversation.debtor_id, account_id, conversation.id};
    }

    void Write(const char* kind,
               std::optional<std::int64_t> account_id,
               const std::string& detail = "{}") {
        WriteAudit(db, Row(kind, account_id), now, detail);
    }
};

// The newest instrument a provider created for the account (the dialog decides whether it is
// still good).
std::optional<dialogs::InstrumentView> NewestInstrument(Connection& db, std::int64_t account) {
    auto q = db.Query(
        "SELECT provider, kind, url, coalesce(store_reference, ''), amount_cents, currency, "
        "expires_at FROM payment_instruments WHERE account_id = ? AND status = 'ready' ORDER BY "
        "id DESC LIMIT 1",
        account);
    if (!q->Step()) {
        return std::nullopt;
    }
    const auto expires = dialogs::ParseIso8601(q->Text(6));
    if (!expires) {
        return std::nullopt;
    }
    return dialogs::InstrumentView{
        q->Text(0), q->Text(1), q->Text(2), q->Text(3), {q->Int64(4), q->Text(5)}, *expires};
}

// The folio a case got, where the dialog's replies hold its placeholder.
void FillFolio(DialogTurn& turn, const std::string& folio) {
    for (Reply& reply : turn.replies) {
        for (std::string* text : {&reply.body, &reply.payload}) {
            for (auto at = text->find(dialogs::kFolioArg); at != std::string::npos;
                 at = text->find(dialogs::kFolioArg, at)) {
                text->replace(at, dialogs::kFolioArg.size(), folio);
            }
        }
    }
}

// An audit detail with "beyond_policy": true when a supervisor went beyond the creditor's
// policy (absent otherwise, as in the bot's rows).
std::string MarkBeyondPolicy(const std::string& detail, bool beyond_policy) {
    if (!beyond_policy) {
        return detail;
    }
    auto object = nlohmann::ordered_json::parse(detail);
    object["beyond_policy"] = true;
    return object.dump();
}

}  // namespace

std::vector<dialogs::AccountView> LoadAccountViews(Connection& db, std::int64_t debtor_id) {
    std::vector<dialogs::AccountView> out;
    auto accounts = db.Query(
        "SELECT a.id, a.account_key, a.balance_cents, a.currency, a.due_date, "
        "a.min_payment_cents, "
        "(SELECT p.amount_cents FROM promises p WHERE p.account_id = a.id AND p.status = 'open' "
        " ORDER BY p.id DESC LIMIT 1), "
        "(SELECT p.due_date FROM promises p WHERE p.account_id = a.id AND p.status = 'open' "
        " ORDER BY p.id DESC LIMIT 1), "
        "(SELECT count(*) FROM payment_plans pp WHERE pp.account_id = a.id AND "
        " pp.status = 'active'), "
        "(SELECT i.amount_cents - i.paid_cents FROM plan_installments i JOIN payment_plans pp "
        " ON pp.id = i.plan_id WHERE pp.account_id = a.id AND pp.status = 'active' AND "
        " i.status <> 'paid' ORDER BY i.seq LIMIT 1) "
        "FROM accounts a WHERE a.debtor_id = ? ORDER BY a.due_date, a.id",
        debtor_id);
    while (accounts->Step()) {
        dialogs::AccountView a;
        a.id = accounts->Int64(0);
        a.key = accounts->Text(1);
        a.balance = {accounts->Int64(2), accounts->Text(3)};
        const auto due = dialogs::ParseIsoDate(accounts->Text(4));
        if (!due) {
            continue;
        }
        a.due_date = *due;
        if (!accounts->IsNull(5)) {
            a.min_payment_cents = accounts->Int64(5);
        }
        if (!accounts->IsNull(6)) {
            const auto date = dialogs::ParseIsoDate(accounts->Text(7));
            if (date) {
                a.open_promise =
                    dialogs::PromiseView{{accounts->Int64(6), a.balance.currency}, *date};
            }
        }
        a.active_plan = accounts->Int(8) > 0;
        if (!accounts->IsNull(9) && accounts->Int64(9) > 0) {
            a.next_installment = dialogs::Money{accounts->Int64(9), a.balance.currency};
        }
        a.instrument = NewestInstrument(db, a.id);
        out.push_back(std::move(a));
    }
    return out;
}

std::int64_t RecordPromise(Connection& db,
                           AuditRow audit,
                           std::int64_t account_id,
                           const dialogs::Money& amount,
                           const dialogs::Date& due,
                           const std::string& now,
                           bool beyond_policy) {
    const std::int64_t id = db.Insert(
        "INSERT INTO promises (account_id, conversation_id, amount_cents, currency, due_date, "
        "status, created_at) VALUES (?, ?, ?, ?, ?, 'open', ?) RETURNING id",
        account_id,
        audit.conversation_id,
        amount.cents,
        amount.currency,
        dialogs::FormatIsoDate(due),
        now);
    audit.kind = "promise_made";
    audit.account_id = account_id;
    const std::string amount_text = dialogs::FormatDecimalCents(amount.cents);
    const std::string date_text = dialogs::FormatIsoDate(due);
    WriteAudit(
        db,
        audit,
        now,
        MarkBeyondPolicy(AuditDetail("amount", amount_text, "date", date_text), beyond_policy));
    return id;
}

std::int64_t RecordPlan(Connection& db,
                        AuditRow audit,
                        const dialogs::PlanAgreed& c,
                        const std::string& approved_by,
                        const std::string& now,
                        bool beyond_policy) {
    const std::int64_t plan_id = db.Insert(
        "INSERT INTO payment_plans (account_id, conversation_id, kind, total_cents, "
        "discount_cents, currency, status, approved_by, created_at) VALUES (?, ?, ?, ?, ?, ?, "
        "'active', ?, ?) RETURNING id",
        c.account_id,
        audit.conversation_id,
        c.kind,
        c.total.cents,
        c.discount_cents,
        c.total.currency,
        approved_by,
        now);
    Prepared installment = db.Prepare(
        "INSERT INTO plan_installments (plan_id, seq, due_date, amount_cents, status) VALUES "
        "(?, ?, ?, ?, 'pending')");
    int seq = 0;
    for (const dialogs::Installment& i : c.schedule) {
        installment.Exec(plan_id, ++seq, dialogs::FormatIsoDate(i.due), i.cents);
    }
    audit.kind = "plan_created";
    audit.account_id = c.account_id;
    const std::string total = dialogs::FormatDecimalCents(c.total.cents);
    const std::string discount = dialogs::FormatDecimalCents(c.discount_cents);
    WriteAudit(db,
               audit,
               now,
               MarkBeyondPolicy(AuditDetail("plan_id",
                                            plan_id,
                                            "kind",
                                            c.kind,
                                            "total",
                                            total,
                                            "discount",
                                            discount,
                                            "installments",
                                            c.schedule.size()),
                                beyond_policy));
    return plan_id;
}

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
    if (!debtor->Step()) {
        return view;
    }
    const auto birth = dialogs::ParseIsoDate(debtor->Text(1));
    if (!birth) {
        return view;  // cannot be checked: treat as unknown rather than guess
    }
    dialogs::DebtorView d;
    d.id = *conversation.debtor_id;
    d.name = debtor->Text(0);
    d.birth_date = *birth;
    d.locale = debtor->Text(2);
    d.timezone = debtor->Text(3);

    d.accounts = LoadAccountViews(db, *conversation.debtor_id);
    view.debtor = std::move(d);
    auto cases = db.Query(
        "SELECT kind, category, coalesce(folio, ''), due_date FROM cases WHERE debtor_id = ? AND "
        "status = 'open' ORDER BY id",
        *conversation.debtor_id);
    while (cases->Step()) {
        if (const auto due = dialogs::ParseIsoDate(cases->Text(3))) {
            view.open_cases.push_back({cases->Text(0), cases->Text(1), cases->Text(2), *due});
        }
    }
    return view;
}

void ApplyTurn(Connection& db,
               const ConversationRow& conversation,
               DialogTurn& turn,
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
                    audit.Write(
                        "verification_failed", std::nullopt, AuditDetail("failures", c.failures));
                } else if constexpr (std::is_same_v<T, dialogs::Locked>) {
                    update_conversation("locked_until = ?", IsoInstant(c.until));
                    audit.Write("locked", std::nullopt, AuditDetail("until", IsoInstant(c.until)));
                } else if constexpr (std::is_same_v<T, dialogs::Escalated>) {
                    // To the queue (and the next person on shift), as the lifecycle table says.
                    EscalateConversation(db, conversation.id, c.reason, now, "bot");
                } else if constexpr (std::is_same_v<T, dialogs::PromiseMade>) {
                    RecordPromise(db, audit.Row(), c.account_id, c.amount, c.date, now);
                } else if constexpr (std::is_same_v<T, dialogs::PlanAgreed>) {
                    RecordPlan(db, audit.Row(), c, "bot", now);
                } else if constexpr (std::is_same_v<T, dialogs::ReferenceIssued>) {
                    db.Exec(
                        "INSERT INTO payment_references (account_id, reference, created_at) "
                        "VALUES (?, ?, ?) ON CONFLICT (account_id) DO UPDATE SET reference = "
                        "excluded.reference",
                        c.account_id,
                        c.reference,
                        now);
                    audit.Write(
                        "reference_issued", c.account_id, AuditDetail("reference", c.reference));
                } else if constexpr (std::is_same_v<T, dialogs::InstrumentRequested>) {
                    // One pending request per account and provider: asking again while the
                    // provider is slow updates it (the balance may have changed).
                    const auto pending = db.One<std::int64_t>(
                        "SELECT id FROM payment_instruments WHERE account_id = ? AND provider = ? "
                        "AND status = 'pending' ORDER BY id DESC LIMIT 1",
                        c.account_id,
                        c.provider);
                    std::int64_t id = 0;
                    if (pending) {
                        id = *pending;
                        db.Exec(
                            "UPDATE payment_instruments SET amount_cents = ?, currency = ?, "
                            "conversation_id = ? WHERE id = ?",
                            c.amount.cents,
                            c.amount.currency,
                            conversation.id,
                            id);
                    } else {
                        id = db.Insert(
                            "INSERT INTO payment_instruments (account_id, provider, amount_cents, "
                            "currency, status, conversation_id, next_attempt_at, requested_at) "
                            "VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?6, ?6) RETURNING id",
                            c.account_id,
                            c.provider,
                            c.amount.cents,
                            c.amount.currency,
                            conversation.id,
                            now);
                    }
                    audit.Write("instrument_requested",
                                c.account_id,
                                AuditDetail("instrument_id",
                                            id,
                                            "provider",
                                            c.provider,
                                            "amount",
                                            dialogs::FormatDecimalCents(c.amount.cents)));
                } else if constexpr (std::is_same_v<T, dialogs::CaseOpened>) {
                    if (!conversation.debtor_id) {
                        // The dialog opens cases only for a verified debtor; never quote a
                        // placeholder anyway.
                        FillFolio(turn, "-");
                        return;
                    }
                    const OpenedCase opened =
                        OpenCaseRow(db,
                                    {c.kind,
                                     c.category,
                                     *conversation.debtor_id,
                                     c.account_id == 0 ? std::nullopt
                                                       : std::optional<std::int64_t>(c.account_id),
                                     conversation.id,
                                     std::nullopt,
                                     c.description,
                                     dialogs::FormatIsoDate(c.due)},
                                    now);
                    FillFolio(turn, opened.folio);  // the replies name it
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
