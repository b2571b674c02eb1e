// Money in: payments applied to accounts by their reference (or held in suspense), promises
// kept or broken, plan instalments paid, and the messages that tell the debtor — each in the
// same transaction as what it reports.

#include <algorithm>
#include <chrono>

#include "dialogs/calendar.hpp"
#include "dialogs/contact.hpp"
#include "dialogs/reference.hpp"
#include "store/csv.hpp"

#include "audit.hpp"
#include "case_rows.hpp"
#include "ledger_impl.hpp"
#include "payment_apply.hpp"
#include "proactive.hpp"
#include "shifts.hpp"

namespace cobrador::store {

namespace {

// Why a reference matches no account: a mistyped one (the check digit is wrong) or one that
// is simply not ours.
std::string SuspenseReason(std::string_view reference) {
    std::string digits;
    for (const char c : reference) {
        if (c >= '0' && c <= '9') {
            digits += c;
        } else if (c != ' ' && c != '-') {
            return "unknown_reference";
        }
    }
    if (digits.size() < 2) {
        return "unknown_reference";
    }
    const auto expected = dialogs::DammCheckDigit(digits.substr(0, digits.size() - 1));
    return expected && *expected != digits.back() - '0' ? "bad_check_digit" : "unknown_reference";
}

struct AccountRow {
    std::int64_t id = 0;
    std::string key;
    std::int64_t debtor_id = 0;
    std::int64_t balance_cents = 0;
    std::string currency;
    std::string due_date;
};

std::optional<AccountRow> LoadAccount(Connection& db, std::int64_t id) {
    auto row = db.Query(
        "SELECT id, account_key, debtor_id, balance_cents, currency, due_date FROM accounts "
        "WHERE id = ?",
        id);
    if (!row->Step()) {
        return std::nullopt;
    }
    return AccountRow{
        row->Int64(0), row->Text(1), row->Int64(2), row->Int64(3), row->Text(4), row->Text(5)};
}

// The account a person typed the key of: exactly, else the one account whose key differs only
// in case.
std::optional<AccountRow> FindAccountByKey(Connection& db, const std::string& key) {
    if (key.empty()) {
        return std::nullopt;
    }
    auto id = db.One<std::int64_t>("SELECT id FROM accounts WHERE account_key = ?", key);
    if (!id) {
        auto rows =
            db.Query("SELECT id FROM accounts WHERE lower(account_key) = lower(?) LIMIT 2", key);
        if (rows->Step()) {
            const std::int64_t only = rows->Int64(0);
            if (!rows->Step()) {
                id = only;
            }
        }
    }
    return id ? LoadAccount(db, *id) : std::nullopt;
}

// Counts `amount` toward the account's open promises, earliest first, then toward those already
// broken: a promise paid in full (or any, once the balance is zero) is kept — kept late when it
// had been broken (it stays broken: it was). Returns whether an open one was kept.
bool KeepPromises(Connection& db,
                  const AccountRow& account,
                  std::int64_t amount,
                  std::int64_t new_balance,
                  const std::string& now) {
    struct Promise {
        std::int64_t id, amount, paid;
    };

    bool kept_any = false;
    std::int64_t left = amount;
    for (const bool late : {false, true}) {
        auto rows = db.Query(late ? "SELECT id, amount_cents, paid_cents FROM promises WHERE "
                                    "account_id = ? AND status = 'broken' AND kept_late_at IS "
                                    "NULL ORDER BY due_date, id"
                                  : "SELECT id, amount_cents, paid_cents FROM promises WHERE "
                                    "account_id = ? AND status = 'open' ORDER BY due_date, id",
                             account.id);
        std::vector<Promise> promises;
        while (rows->Step()) {
            promises.push_back({rows->Int64(0), rows->Int64(1), rows->Int64(2)});
        }
        Prepared update = db.Prepare(
            late ? "UPDATE promises SET paid_cents = ?1, kept_late_at = CASE WHEN ?2 = 1 THEN ?3 "
                   "ELSE kept_late_at END WHERE id = ?4"
                 : "UPDATE promises SET paid_cents = ?1, status = CASE WHEN ?2 = 1 THEN 'kept' "
                   "ELSE status END, resolved_at = CASE WHEN ?2 = 1 THEN ?3 ELSE resolved_at END "
                   "WHERE id = ?4");
        for (const Promise& p : promises) {
            const std::int64_t take = std::max<std::int64_t>(std::min(left, p.amount - p.paid), 0);
            left -= take;
            const std::int64_t paid = p.paid + take;
            const bool kept = paid >= p.amount || new_balance == 0;
            if (take == 0 && !kept) {
                continue;
            }
            update.Exec(paid, kept ? 1 : 0, now, p.id);
            if (kept) {
                kept_any = kept_any || !late;
                WriteAudit(db,
                           {.actor = "bot",
                            .kind = late ? "promise_kept_late" : "promise_kept",
                            .debtor_id = account.debtor_id,
                            .account_id = account.id},
                           now,
                           "{\"promise_id\":" + std::to_string(p.id) + "}");
            }
        }
    }
    return kept_any;
}

// Pays the active plan's instalments in order; the plan is completed when all are paid.
// Returns true when that completes a settlement: the discount is then forgiven.
bool PayInstallments(Connection& db,
                     const AccountRow& account,
                     std::int64_t amount,
                     const std::string& now) {
    auto plan = db.Query(
        "SELECT id, kind FROM payment_plans WHERE account_id = ? AND status = 'active' ORDER BY "
        "id LIMIT 1",
        account.id);
    if (!plan->Step()) {
        return false;
    }
    const std::int64_t plan_id = plan->Int64(0);
    const bool settlement = plan->Text(1) == "settlement";
    auto due = db.Query(
        "SELECT id, amount_cents, paid_cents FROM plan_installments WHERE plan_id = ? AND status "
        "<> 'paid' ORDER BY seq",
        plan_id);
    std::vector<std::array<std::int64_t, 3>> installments;
    while (due->Step()) {
        installments.push_back({due->Int64(0), due->Int64(1), due->Int64(2)});
    }
    Prepared pay = db.Prepare(
        "UPDATE plan_installments SET paid_cents = ?, status = CASE WHEN ? = 1 THEN 'paid' "
        "ELSE status END WHERE id = ?");
    std::int64_t left = amount;
    std::size_t unpaid = installments.size();
    for (const auto& [id, owed, paid] : installments) {
        if (left <= 0) {
            break;
        }
        const std::int64_t take = std::min(left, owed - paid);
        left -= take;
        const bool done = paid + take >= owed;
        unpaid -= done ? 1 : 0;
        pay.Exec(paid + take, done ? 1 : 0, id);
    }
    if (unpaid == 0) {
        db.Exec("UPDATE payment_plans SET status = 'completed' WHERE id = ?", plan_id);
        WriteAudit(db,
                   {.actor = "bot",
                    .kind = "plan_completed",
                    .debtor_id = account.debtor_id,
                    .account_id = account.id},
                   now,
                   "{\"plan_id\":" + std::to_string(plan_id) + "}");
        return settlement;
    }
    return false;
}

// The figures of `amount` paid to `account`: what reduces the balance, what is beyond it.
void Figure(PaymentOutcome& out, const AccountRow& account, std::int64_t amount) {
    out.account_id = account.key;
    out.applied_cents = std::min(amount, account.balance_cents);
    out.overpaid_cents = amount - out.applied_cents;
    out.new_balance_cents = account.balance_cents - out.applied_cents;
}

// Credits payments row `payment_row` (`p`, figured into `out`) to `account`: the balance and
// its history, the active plan's instalments (a paid settlement forgives the rest), promises,
// and `notice`'s thank-you to the debtor's latest reachable conversation.
void Credit(Connection& db,
            const AccountRow& account,
            std::int64_t payment_row,
            const PaymentRecord& p,
            const std::string& at,
            const PaymentNoticeFn& notice,
            PaymentOutcome& out) {
    db.Exec("UPDATE accounts SET balance_cents = ?, updated_at = ? WHERE id = ?",
            out.new_balance_cents,
            at,
            account.id);
    db.Exec(
        "INSERT INTO balance_history (account_id, balance_cents, due_date, source, source_id, "
        "recorded_at) VALUES (?, ?, ?, 'payment', ?, ?)",
        account.id,
        out.new_balance_cents,
        account.due_date,
        payment_row,
        at);
    WriteAudit(db,
               {.actor = "system",
                .kind = "payment_applied",
                .debtor_id = account.debtor_id,
                .account_id = account.id},
               at,
               "{\"payment_id\":" + std::to_string(payment_row) +
                   ",\"amount_cents\":" + std::to_string(p.amount_cents) +
                   ",\"overpaid_cents\":" + std::to_string(out.overpaid_cents) + "}");
    if (PayInstallments(db, account, p.amount_cents, at) && out.new_balance_cents > 0) {
        // The settlement is paid: what it took off the balance is forgiven now.
        const std::int64_t forgiven = out.new_balance_cents;
        out.new_balance_cents = 0;
        db.Exec(
            "UPDATE accounts SET balance_cents = 0, updated_at = ? WHERE id = ?", at, account.id);
        db.Exec(
            "INSERT INTO balance_history (account_id, balance_cents, due_date, source, "
            "source_id, recorded_at) VALUES (?, 0, ?, 'adjustment', ?, ?)",
            account.id,
            account.due_date,
            payment_row,
            at);
        WriteAudit(db,
                   {.actor = "system",
                    .kind = "settlement_forgiven",
                    .debtor_id = account.debtor_id,
                    .account_id = account.id},
                   at,
                   "{\"forgiven_cents\":" + std::to_string(forgiven) +
                       ",\"payment_id\":" + std::to_string(payment_row) + "}");
    }
    out.promise_kept = KeepPromises(db, account, p.amount_cents, out.new_balance_cents, at);

    if (notice) {
        if (const auto target = LatestReachableConversation(db, account.debtor_id)) {
            PaymentNotice n;
            const Addressee to = AddresseeOf(*target, at);
            n.debtor_name = to.debtor_name;
            n.locale = to.locale;
            n.timezone = to.timezone;
            n.phone = target->phone;
            n.channel = to.channel;
            n.whatsapp_window_open = to.whatsapp_window_open;
            n.account_id = account.key;
            n.amount_cents = p.amount_cents;
            n.balance_cents = out.new_balance_cents;
            n.currency = p.currency;
            n.promise_kept = out.promise_kept;
            n.verified = target->verified_until && *target->verified_until > at;
            if (const auto message = notice(n)) {
                QueueProactive(db, *target, *message, at);
                out.message_queued = true;
            }
        }
    }
}

}  // namespace

ReferenceMatch MatchReference(Connection& db, std::string_view reference, std::string_view at) {
    if (const auto id = dialogs::AccountFromReference(reference)) {
        return {id, {}, false};
    }
    if (const auto id = dialogs::AccountFromLegacyReference(reference)) {
        auto transition =
            db.Query("SELECT last_legacy_account, ends_on FROM reference_transition LIMIT 1");
        if (transition->Step() && *id <= transition->Int64(0)) {
            if (transition->IsNull(1) || at.substr(0, 10) <= transition->Text(1)) {
                return {id, {}, true};
            }
            return {std::nullopt, "old_reference", false};
        }
        // An account that never had a Luhn reference: the digit is just wrong.
        return {std::nullopt, "bad_check_digit", false};
    }
    return {std::nullopt, SuspenseReason(reference), false};
}

PaymentOutcome ApplyOnePayment(Connection& db,
                               const PaymentRecord& p,
                               std::string_view source,
                               const std::string& at,
                               const PaymentNoticeFn& notice,
                               const ProviderPaymentKey* provider) {
    PaymentOutcome out;
    out.payment_id = p.payment_id;
    std::optional<AccountRow> account;
    // An old reference counts for money paid by the transition's last day, even when it is
    // told (a statement imported, a receipt confirmed) later.
    const std::string& when =
        p.paid_at.size() >= 10 && p.paid_at.compare(0, 10, at, 0, 10) < 0 ? p.paid_at : at;
    const ReferenceMatch match = MatchReference(db, p.reference, when);
    if (match.account) {
        account = LoadAccount(db, *match.account);
    }
    if (!account) {
        out.reason = match.reason.empty() ? "unknown_reference" : match.reason;
    } else if (account->currency != p.currency) {
        out.reason = "currency_mismatch";
    }
    out.status = out.reason.empty() ? "applied" : "suspense";
    if (account && out.reason.empty()) {
        Figure(out, *account, p.amount_cents);
    }
    const std::int64_t payment_row =
        db.Prepare(
              "INSERT INTO payments (payment_id, reference, account_id, amount_cents, currency, "
              "paid_at, method, status, source, received_at, applied_cents, overpaid_cents, "
              "suspense_reason, provider, provider_payment, spei_key) VALUES (?, ?, ?, ?, ?, ?, ?, "
              "?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id")
            .Returning(p.payment_id,
                       p.reference,
                       out.status == "applied" ? std::optional(account->id) : std::nullopt,
                       p.amount_cents,
                       p.currency,
                       p.paid_at,
                       p.method,
                       out.status,
                       source,
                       at,
                       out.applied_cents,
                       out.overpaid_cents,
                       out.reason.empty() ? std::nullopt : std::optional(out.reason),
                       provider ? std::optional(provider->provider) : std::nullopt,
                       provider ? std::optional(provider->payment) : std::nullopt,
                       p.spei_key.empty() ? std::nullopt : std::optional(p.spei_key))
            .value();
    if (out.status == "suspense") {
        WriteAudit(db,
                   {.actor = "system", .kind = "payment_suspense"},
                   at,
                   "{\"payment_id\":" + std::to_string(payment_row) + ",\"reason\":\"" +
                       out.reason + "\"}");
        return out;
    }
    Credit(db, *account, payment_row, p, at, notice, out);
    return out;
}

std::optional<std::string> SameTransfer(Connection& db, const PaymentRecord& p) {
    const auto at = dialogs::ParseIsoInstant(p.paid_at);
    if (p.reference.empty() || !at) {
        return std::nullopt;
    }
    const std::string from = dialogs::FormatIsoInstant(*at - std::chrono::hours(48));
    const std::string to = dialogs::FormatIsoInstant(*at + std::chrono::hours(48));
    if (p.spei_key.empty()) {
        const auto receipt = db.One<std::string>(
            "SELECT payment_id FROM payments WHERE payment_id LIKE 'cep:%' AND reference = ? AND "
            "amount_cents = ? AND currency = ? AND paid_at BETWEEN ? AND ? AND NOT EXISTS "
            "(SELECT 1 FROM receipt_checks k WHERE k.payment_id = payments.payment_id AND "
            "k.statement_payment_id IS NOT NULL) ORDER BY id LIMIT 1",
            p.reference,
            p.amount_cents,
            p.currency,
            from,
            to);
        if (receipt) {
            db.Exec(
                "UPDATE receipt_checks SET statement_payment_id = ? WHERE id = (SELECT min(id) "
                "FROM receipt_checks WHERE payment_id = ?)",
                p.payment_id,
                *receipt);
        }
        return receipt;
    }
    const auto unkeyed = db.One<std::string>(
        "SELECT payment_id FROM payments WHERE spei_key IS NULL AND provider IS NULL AND "
        "reference = ? AND amount_cents = ? AND currency = ? AND paid_at BETWEEN ? AND ? ORDER BY "
        "id LIMIT 1",
        p.reference,
        p.amount_cents,
        p.currency,
        from,
        to);
    if (unkeyed) {
        db.Exec("UPDATE payments SET spei_key = ? WHERE payment_id = ?", p.spei_key, *unkeyed);
    }
    return unkeyed;
}

Result<PaymentsSummary> Ledger::ApplyPayments(const std::vector<PaymentRecord>& payments,
                                              std::string_view source,
                                              std::string_view now,
                                              const PaymentNoticeFn& notice) {
    return impl_->Guard([&]() -> Result<PaymentsSummary> {
        if (auto ready = impl_->RequireLatest(); !ready) {
            return ready.error();
        }
        Connection& db = impl_->db;
        const std::string at(now);
        Tx tx(db);
        PaymentsSummary summary;
        Prepared exists = db.Prepare("SELECT 1 FROM payments WHERE payment_id = ?");
        for (const PaymentRecord& p : payments) {
            // Seen before: by its id, its transfer's key, or as a confirmed receipt's twin.
            if (exists.Bind(p.payment_id)->Step() ||
                (!p.spei_key.empty() &&
                 db.One<int>("SELECT 1 FROM payments WHERE spei_key = ?", p.spei_key)) ||
                db.One<int>("SELECT 1 FROM receipt_checks WHERE statement_payment_id = ?",
                            p.payment_id) ||
                (p.spei_key.empty() && SameTransfer(db, p))) {
                PaymentOutcome out;
                out.payment_id = p.payment_id;
                out.status = "duplicate";
                ++summary.duplicates;
                summary.outcomes.push_back(std::move(out));
                continue;
            }
            PaymentOutcome out = ApplyOnePayment(db, p, source, at, notice, nullptr);
            ++(out.status == "applied" ? summary.applied : summary.suspense);
            summary.outcomes.push_back(std::move(out));
        }
        tx.commit();
        return summary;
    });
}

Result<std::vector<BrokenPromise>> Ledger::BreakOverduePromises(int grace_days,
                                                                std::string_view now,
                                                                const FollowUpFn& follow_up) {
    return impl_->Guard([&]() -> Result<std::vector<BrokenPromise>> {
        Connection& db = impl_->db;
        const std::string at(now);
        Tx tx(db);
        // Every zone's date is within a day of UTC's: the query takes those that may be past
        // grace, and each is judged in its debtor's own calendar.
        const auto instant = dialogs::ParseIsoInstant(at);
        if (!instant) {
            throw DbError(Errc::kInternal,
                          "BreakOverduePromises: now is not an ISO 8601 UTC instant");
        }
        const std::string widest =
            dialogs::FormatIsoDate(dialogs::AddDays(dialogs::UtcDate(*instant), 1 - grace_days));
        auto overdue = db.Query(
            "SELECT p.id, p.account_id, a.account_key, a.debtor_id, p.amount_cents, "
            "p.paid_cents, p.currency, p.due_date, d.timezone FROM promises p JOIN accounts a ON "
            "a.id = p.account_id JOIN debtors d ON d.id = a.debtor_id WHERE p.status = 'open' AND "
            "p.due_date < ? AND a.balance_cents > 0 AND "
            // Collection stops on an account under an open complaint: its promise is judged
            // once the case is closed.
            "NOT " +
                UnderOpenComplaint("a.id", "a.debtor_id") + " ORDER BY p.id",
            widest);
        // Both queries' columns 1..8: the account's row and key, the debtor, the amount and what
        // was paid of it, its currency, its date, and the debtor's zone. Nothing while that date
        // is within grace where the debtor lives.
        const auto past_grace = [&](Statement& row) -> std::optional<BrokenPromise> {
            const std::string cutoff = dialogs::FormatIsoDate(
                dialogs::AddDays(dialogs::ToLocal(*instant, row.Text(8)).date, -grace_days));
            if (row.Text(7) >= cutoff) {
                return std::nullopt;
            }
            BrokenPromise b;
            b.account_row = row.Int64(1);
            b.account_id = row.Text(2);
            b.debtor_id = row.Int64(3);
            b.amount_cents = row.Int64(4);
            b.paid_cents = row.Int64(5);
            b.currency = row.Text(6);
            b.due_date = row.Text(7);
            return b;
        };
        std::vector<BrokenPromise> broken;
        while (overdue->Step()) {
            if (auto b = past_grace(*overdue)) {
                b->promise_id = overdue->Int64(0);
                broken.push_back(std::move(*b));
            }
        }
        // Instalment plans with an instalment unpaid past grace, judged the same way.
        auto missed = db.Query(
            "SELECT pp.id, pp.account_id, a.account_key, a.debtor_id, i.amount_cents, "
            "i.paid_cents, pp.currency, i.due_date, d.timezone, i.id FROM plan_installments i "
            "JOIN payment_plans pp ON pp.id = i.plan_id JOIN accounts a ON a.id = pp.account_id "
            "JOIN debtors d ON d.id = a.debtor_id WHERE pp.status = 'active' AND i.status = "
            "'pending' AND i.due_date < ? AND a.balance_cents > 0 AND NOT " +
                UnderOpenComplaint("a.id", "a.debtor_id") + " ORDER BY pp.id, i.seq",
            widest);
        std::vector<BrokenPromise> broken_plans;
        while (missed->Step()) {
            const std::int64_t plan = missed->Int64(0);
            if (!broken_plans.empty() && broken_plans.back().plan_id == plan) {
                continue;  // this plan's earlier instalment broke it already
            }
            if (auto b = past_grace(*missed)) {
                b->plan_id = plan;
                b->installment_id = missed->Int64(9);
                broken_plans.push_back(std::move(*b));
            }
        }
        for (BrokenPromise& b : broken_plans) {
            db.Exec("UPDATE payment_plans SET status = 'broken' WHERE id = ?", b.plan_id);
            db.Exec("UPDATE plan_installments SET status = 'late' WHERE id = ?", b.installment_id);
            WriteAudit(db,
                       {.actor = "system",
                        .kind = "plan_broken",
                        .debtor_id = b.debtor_id,
                        .account_id = b.account_row},
                       at,
                       "{\"plan_id\":" + std::to_string(b.plan_id) + "}");
            b.broken_recently =
                db.One<int>(
                      "SELECT count(*) FROM payment_plans pp JOIN accounts a ON a.id = "
                      "pp.account_id WHERE a.debtor_id = ? AND pp.status = 'broken'",
                      b.debtor_id)
                    .value_or(1);
        }
        Prepared mark =
            db.Prepare("UPDATE promises SET status = 'broken', resolved_at = ? WHERE id = ?");
        // Broken promises of the same debtor in the last 30 days, this one included.
        Prepared recent = db.Prepare(
            "SELECT count(*) FROM promises p JOIN accounts a ON a.id = p.account_id WHERE "
            "a.debtor_id = ? AND p.status = 'broken' AND p.resolved_at >= ?");
        for (BrokenPromise& b : broken) {
            mark.Exec(at, b.promise_id);
            WriteAudit(db,
                       {.actor = "system",
                        .kind = "promise_broken",
                        .debtor_id = b.debtor_id,
                        .account_id = b.account_row},
                       at,
                       "{\"promise_id\":" + std::to_string(b.promise_id) + "}");
            recent.Bind(b.debtor_id, DaysBefore(at, 30))->Step();
            b.broken_recently = recent->Int(0);
        }
        broken.insert(broken.end(), broken_plans.begin(), broken_plans.end());
        for (BrokenPromise& b : broken) {
            const auto target = LatestReachableConversation(db, b.debtor_id);
            if (b.broken_recently >= 2) {
                // The second broken promise (in 30 days) or plan: a person takes it from here.
                b.escalated = EscalateDebtor(
                    db, b.debtor_id, b.plan_id != 0 ? "plans_broken" : "promises_broken", at);
                continue;
            }
            if (target && target->state != dialogs::ConversationState::kClaimed && follow_up) {
                FollowUp f{target->debtor_name,
                           target->locale,
                           target->timezone,
                           target->channel,
                           target->last_inbound_at && *target->last_inbound_at >= WindowStart(at),
                           b.account_id,
                           b.amount_cents - b.paid_cents,
                           b.currency,
                           b.due_date};
                if (const auto message = follow_up(f)) {
                    const std::int64_t message_id = QueueProactive(db, *target, *message, at);
                    b.message_queued = true;
                    // Recorded as what it is about, like a reminder, so that a complaint opened
                    // while it waits for contact hours cancels it (OpenCase). It is not one of
                    // the strategy's reminders: the caps do not count it (ReminderCandidates).
                    db.Exec(
                        "INSERT INTO reminders (debtor_id, rule, subject, local_date, channel, "
                        "message_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (rule, "
                        "subject) DO NOTHING",
                        b.debtor_id,
                        b.plan_id != 0 ? "plan_broken" : "promise_broken",
                        b.plan_id != 0 ? "installment:" + std::to_string(b.installment_id)
                                       : "promise:" + std::to_string(b.promise_id),
                        dialogs::FormatIsoDate(dialogs::ToLocal(*instant, target->timezone).date),
                        target->channel,
                        message_id,
                        at);
                }
            }
        }
        tx.commit();
        return broken;
    });
}

Result<ReferenceTransition> Ledger::LegacyReferences(std::optional<std::string> ends_on) {
    return impl_->Guard([&]() -> Result<ReferenceTransition> {
        if (auto ready = impl_->RequireLatest(); !ready) {
            return ready.error();
        }
        Connection& db = impl_->db;
        Tx tx(db);
        if (ends_on) {
            db.Exec("UPDATE reference_transition SET ends_on = ?",
                    ends_on->empty() ? std::nullopt : ends_on);
        }
        ReferenceTransition out;
        {
            auto row = db.Query("SELECT last_legacy_account, ends_on FROM reference_transition");
            if (row->Step()) {
                out.last_legacy_account = row->Int64(0);
                out.ends_on = row->OptionalText(1);
            }
        }
        tx.commit();
        return out;
    });
}

Result<std::vector<SuspensePayment>> Ledger::SuspensePayments(std::size_t limit) {
    return impl_->Guard([&]() -> Result<std::vector<SuspensePayment>> {
        auto rows = impl_->db.Query(
            "SELECT payment_id, reference, amount_cents - reversed_cents, currency, paid_at, "
            "method, coalesce(suspense_reason, ''), source, received_at, reversed_cents > 0 FROM "
            "payments WHERE status = 'suspense' AND reversed_cents < amount_cents ORDER BY id "
            "DESC LIMIT ?",
            limit);
        std::vector<SuspensePayment> out;
        while (rows->Step()) {
            out.push_back({rows->Text(0),
                           rows->Text(1),
                           rows->Int64(2),
                           rows->Text(3),
                           rows->Text(4),
                           rows->Text(5),
                           rows->Text(6),
                           rows->Text(7),
                           rows->Text(8),
                           rows->Int(9) != 0});
        }
        return out;
    });
}

Result<SuspenseMatch> Ledger::MatchSuspensePayment(std::string_view payment_id,
                                                   std::string_view account_key,
                                                   std::int64_t agent_id,
                                                   bool confirmed,
                                                   std::string_view now,
                                                   const PaymentNoticeFn& notice) {
    return impl_->Guard([&]() -> Result<SuspenseMatch> {
        if (auto ready = impl_->RequireLatest(); !ready) {
            return ready.error();
        }
        Connection& db = impl_->db;
        const std::string at(now);
        // SERIALIZABLE on PostgreSQL: two people matching one payment at once, one of them is
        // retried and finds it applied.
        Tx tx(db);
        SuspenseMatch match;
        auto row = db.Query(
            "SELECT id, status, reversed_cents, reference, amount_cents, currency, paid_at, "
            "method, coalesce(suspense_reason, '') FROM payments WHERE payment_id = ?",
            payment_id);
        if (!row->Step()) {
            return match;  // kNoPayment
        }
        const std::int64_t payment_row = row->Int64(0);
        if (row->Text(1) != "suspense") {
            match.result = MatchResult::kNotInSuspense;
            return match;
        }
        if (row->Int64(2) != 0) {
            match.result = MatchResult::kRefunded;
            return match;
        }
        PaymentRecord p;
        p.payment_id = std::string(payment_id);
        p.reference = row->Text(3);
        p.amount_cents = row->Int64(4);
        p.currency = row->Text(5);
        p.paid_at = row->Text(6);
        p.method = row->Text(7);
        const std::string held_because = row->Text(8);
        const auto account = FindAccountByKey(db, Trimmed(account_key));
        if (!account) {
            match.result = MatchResult::kNoAccount;
            return match;
        }
        if (account->currency != p.currency) {
            match.result = MatchResult::kCurrencyMismatch;
            return match;
        }
        if (const auto at_paid = dialogs::ParseIsoInstant(p.paid_at);
            at_paid && !confirmed && !p.reference.empty()) {
            const auto twin = db.One<std::string>(
                "SELECT payment_id FROM payments WHERE id <> ? AND reference = ? AND "
                "amount_cents = ? AND currency = ? AND paid_at BETWEEN ? AND ? AND "
                "reversed_cents < amount_cents ORDER BY id LIMIT 1",
                payment_row,
                p.reference,
                p.amount_cents,
                p.currency,
                dialogs::FormatIsoInstant(*at_paid - std::chrono::hours(48)),
                dialogs::FormatIsoInstant(*at_paid + std::chrono::hours(48)));
            if (twin) {
                match.result = MatchResult::kPossibleTwin;
                match.twin = *twin;
                return match;
            }
        }
        PaymentOutcome& out = match.payment;
        out.payment_id = p.payment_id;
        out.status = "applied";
        Figure(out, *account, p.amount_cents);
        db.Exec(
            "UPDATE payments SET status = 'applied', account_id = ?, applied_cents = ?, "
            "overpaid_cents = ?, suspense_reason = NULL WHERE id = ?",
            account->id,
            out.applied_cents,
            out.overpaid_cents,
            payment_row);
        WriteAudit(db,
                   {.actor = "agent:" + std::to_string(agent_id),
                    .kind = "payment_matched",
                    .debtor_id = account->debtor_id,
                    .account_id = account->id},
                   at,
                   AuditDetail("payment_id",
                               payment_row,
                               "payment",
                               p.payment_id,
                               "reference",
                               p.reference,
                               "held_because",
                               held_because,
                               "agent_id",
                               agent_id,
                               "confirmed_twin",
                               confirmed));
        Credit(db, *account, payment_row, p, at, notice, out);
        tx.commit();
        match.result = MatchResult::kMatched;
        return match;
    });
}

Result<std::optional<std::int64_t>> Ledger::FallBackToSms(
    std::int64_t message,
    std::string_view provider_message_id,
    const std::function<std::string(const std::string& text)>& sms_payload,
    std::string_view now) {
    return impl_->Guard([&]() -> Result<std::optional<std::int64_t>> {
        Connection& db = impl_->db;
        const std::string at(now);
        Tx tx(db);
        auto find = db.Query(
            "SELECT m.id, m.body, c.phone, c.debtor_id, (SELECT coalesce(o.contact_timezone, '') "
            "FROM outbox o WHERE o.message_id = m.id) FROM messages m JOIN conversations c ON "
            "c.id = m.conversation_id WHERE m.direction = 'out' AND m.channel = 'whatsapp' AND "
            "(m.id = ?1 OR (?1 = 0 AND m.provider_message_id = ?2))",
            message,
            provider_message_id);
        if (!find->Step() || find->IsNull(3)) {
            return std::optional<std::int64_t>();
        }
        const std::int64_t id = find->Int64(0);
        const std::string body = find->Text(1);
        Target target;
        target.phone = find->Text(2);
        target.debtor_id = find->Int64(3);
        target.channel = "sms";
        // The one JSON read in the store's SQL, in each backend's words.
        const std::string message_of_detail = db.backend() == Backend::kPostgres
                                                  ? "CAST(detail AS jsonb) ->> 'message_id'"
                                                  : "json_extract(detail, '$.message_id')";
        const int done = db.One<int>(
                               "SELECT count(*) FROM audit_log WHERE kind = "
                               "'fallback_to_sms' AND " +
                                   message_of_detail + " = CAST(? AS TEXT)",
                               std::to_string(id))
                             .value();
        if (done > 0 || !Reachable(db, target.phone, "sms")) {
            return std::optional<std::int64_t>();
        }
        const std::int64_t sms =
            QueueProactive(db,
                           target,
                           // Under the same contact hours as the message it replaces.
                           ProactiveMessage{body, sms_payload(body), "", find->Text(4)},
                           at);
        WriteAudit(db,
                   {.actor = "system", .kind = "fallback_to_sms", .debtor_id = target.debtor_id},
                   at,
                   "{\"message_id\":" + std::to_string(id) +
                       ",\"sms_message_id\":" + std::to_string(sms) + "}");
        tx.commit();
        return std::optional<std::int64_t>(sms);
    });
}

}  // namespace cobrador::store
