// Money through payment providers (docs/payments.md): each verified notification stored once,
// what it reports applied once per provider payment, and money taken back undone as far as it
// had gone: the balance, the promises and instalments it paid, a settlement it completed.

#include <algorithm>

#include "audit.hpp"
#include "due_rows.hpp"
#include "ledger_impl.hpp"
#include "payment_apply.hpp"

namespace cobrador::store {

namespace {

// Orders everything that decides on one provider payment (two replicas, two events).
std::string PaymentLock(const ProviderReport& r) {
    return "payment:" + r.provider + ":" + r.payment;
}

// What `restored` cents had paid on the account is unpaid again, latest first: promises (a
// kept one is open again; a date gone by is then broken by the next reminder pass), only those
// open or kept since the payment arrived (`since`: one kept before could not have been paid by
// it), and the instalments of the account's plans (a completed plan is active again).
void Unpay(Connection& db,
           std::int64_t account,
           std::int64_t debtor,
           std::int64_t restored,
           const std::string& since,
           const std::string& at) {
    const auto audit = [&](const char* kind, const char* key, std::int64_t id) {
        WriteAudit(db,
                   {.actor = "system", .kind = kind, .debtor_id = debtor, .account_id = account},
                   at,
                   std::string("{\"") + key + "\":" + std::to_string(id) + "}");
    };

    struct Row {
        std::int64_t id, amount, paid;
        std::string status;
    };

    std::vector<Row> promises;
    auto open = db.Query(
        "SELECT id, amount_cents, paid_cents, status FROM promises WHERE account_id = ? AND "
        "(paid_cents > 0 OR status = 'kept') AND (status = 'open' OR (status = 'kept' AND "
        "resolved_at >= ?)) ORDER BY due_date DESC, id DESC",
        account,
        since);
    while (open->Step()) {
        promises.push_back({open->Int64(0), open->Int64(1), open->Int64(2), open->Text(3)});
    }
    std::int64_t left = restored;
    for (const Row& p : promises) {
        const std::int64_t take = std::min(left, p.paid);
        left -= take;
        // Kept, and no longer paid in full: open again (a promise kept only because the balance
        // reached zero was never paid in full, and the balance is up again).
        const bool reopen = p.status == "kept" && p.paid - take < p.amount;
        if (take == 0 && !reopen) {
            continue;
        }
        db.Exec(
            "UPDATE promises SET paid_cents = ?, status = CASE WHEN ? = 1 THEN 'open' ELSE "
            "status END, resolved_at = CASE WHEN ? = 1 THEN NULL ELSE resolved_at END WHERE id = "
            "?",
            p.paid - take,
            reopen ? 1 : 0,
            reopen ? 1 : 0,
            p.id);
        if (reopen) {
            audit("promise_reopened", "promise_id", p.id);
        }
    }

    struct Installment {
        std::int64_t id, amount, paid, plan;
        std::string plan_status;
    };

    std::vector<Installment> installments;
    auto paid = db.Query(
        "SELECT i.id, i.amount_cents, i.paid_cents, i.plan_id, p.status FROM plan_installments i "
        "JOIN payment_plans p ON p.id = i.plan_id WHERE p.account_id = ? AND p.status IN "
        "('active', 'completed') AND i.paid_cents > 0 ORDER BY p.id DESC, i.seq DESC",
        account);
    while (paid->Step()) {
        installments.push_back(
            {paid->Int64(0), paid->Int64(1), paid->Int64(2), paid->Int64(3), paid->Text(4)});
    }
    left = restored;
    std::vector<std::int64_t> reopened;
    for (const Installment& i : installments) {
        if (left <= 0) {
            break;
        }
        const std::int64_t take = std::min(left, i.paid);
        left -= take;
        db.Exec(
            "UPDATE plan_installments SET paid_cents = ?, status = CASE WHEN status = 'paid' AND "
            "? < amount_cents THEN 'pending' ELSE status END WHERE id = ?",
            i.paid - take,
            i.paid - take,
            i.id);
        if (i.plan_status == "completed" &&
            std::find(reopened.begin(), reopened.end(), i.plan) == reopened.end()) {
            reopened.push_back(i.plan);
            db.Exec("UPDATE payment_plans SET status = 'active' WHERE id = ?", i.plan);
            audit("plan_reopened", "plan_id", i.plan);
        }
    }
}

// What reversals of this provider payment have reported taken back so far.
std::int64_t ReversedSoFar(Connection& db, const ProviderReport& r) {
    return db
        .One<std::int64_t>(
            "SELECT coalesce(sum(amount_cents), 0) FROM payment_reversals WHERE provider = ? AND "
            "provider_payment = ?",
            r.provider,
            r.payment)
        .value_or(0);
}

struct Reversed {
    std::optional<std::int64_t> account;
    std::int64_t restored = 0;
};

// Takes `amount` back from the provider payment's rows, latest first, what each overpaid
// before what it applied; never more than a row received. Puts the applied part back on the
// balance and unpays what it paid.
Reversed ReverseRows(Connection& db,
                     const ProviderReport& r,
                     std::string_view reversal_id,
                     std::string_view kind,
                     std::int64_t amount,
                     const std::string& at) {
    struct Row {
        std::int64_t id;
        std::optional<std::int64_t> account;
        std::int64_t amount, overpaid, reversed;
        std::string received_at;
    };

    std::vector<Row> rows;
    auto q = db.Query(
        "SELECT id, account_id, amount_cents, overpaid_cents, reversed_cents, received_at FROM "
        "payments WHERE provider = ? AND provider_payment = ? ORDER BY id DESC",
        r.provider,
        r.payment);
    while (q->Step()) {
        rows.push_back({q->Int64(0),
                        q->IsNull(1) ? std::nullopt : std::optional(q->Int64(1)),
                        q->Int64(2),
                        q->Int64(3),
                        q->Int64(4),
                        q->Text(5)});
    }
    Reversed out;
    std::int64_t left = amount;
    std::int64_t forgiveness = 0;  // a settlement this payment completed, undone
    std::int64_t last_row = 0;
    for (const Row& row : rows) {
        const std::int64_t take = std::min(left, row.amount - row.reversed);
        if (take <= 0) {
            continue;
        }
        left -= take;
        const std::int64_t before = row.reversed;
        const std::int64_t after = row.reversed + take;
        db.Exec("UPDATE payments SET reversed_cents = ? WHERE id = ?", after, row.id);
        if (!row.account) {
            continue;  // in suspense: it never touched a balance
        }
        out.account = row.account;
        last_row = row.id;
        out.restored += std::max<std::int64_t>(0, after - row.overpaid) -
                        std::max<std::int64_t>(0, before - row.overpaid);
        if (before <= row.overpaid && after > row.overpaid) {
            // The first time its applied part goes: a settlement it completed is owed again.
            const bool forgave =
                db.One<int>(
                      "SELECT count(*) FROM balance_history WHERE source = 'adjustment' AND "
                      "source_id = ? AND balance_cents = 0",
                      row.id)
                    .value_or(0) > 0;
            if (forgave) {
                forgiveness += db.One<std::int64_t>(
                                     "SELECT balance_cents FROM balance_history WHERE source = "
                                     "'payment' AND source_id = ?",
                                     row.id)
                                   .value_or(0);
            }
        }
    }
    if (!out.account || out.restored + forgiveness == 0) {
        return out;
    }
    auto account = db.Query("SELECT debtor_id, due_date, balance_cents FROM accounts WHERE id = ?",
                            *out.account);
    account->Step();
    const std::int64_t debtor = account->Int64(0);
    const std::string due_date = account->Text(1);
    const std::int64_t balance = account->Int64(2) + out.restored + forgiveness;
    db.Exec("UPDATE accounts SET balance_cents = ?, updated_at = ? WHERE id = ?",
            balance,
            at,
            *out.account);
    db.Exec(
        "INSERT INTO balance_history (account_id, balance_cents, due_date, source, source_id, "
        "recorded_at) VALUES (?, ?, ?, 'adjustment', ?, ?)",
        *out.account,
        balance,
        due_date,
        last_row,
        at);
    nlohmann::json detail = {{"provider", r.provider},
                             {"provider_payment", r.payment},
                             {"reversal_id", reversal_id},
                             {"kind", kind},
                             {"amount_cents", amount},
                             {"restored_cents", out.restored},
                             {"forgiveness_undone_cents", forgiveness}};
    WriteAudit(db,
               {.actor = "system",
                .kind = "payment_reversed",
                .debtor_id = debtor,
                .account_id = *out.account},
               at,
               detail.dump());
    // What the payment paid is unpaid; the forgiveness was never paid into anything.
    // Since the first part of the payment arrived (rows are newest first).
    Unpay(db, *out.account, debtor, out.restored, rows.back().received_at, at);
    out.restored += forgiveness;
    return out;
}

PaymentOutcome Received(Connection& db,
                        const ProviderReport& r,
                        const std::string& at,
                        const PaymentNoticeFn& notice) {
    const ProviderPaymentKey key{r.provider, r.payment};
    std::int64_t so_far = 0;    // received
    std::int64_t reversed = 0;  // of it, taken back
    {
        auto sums = db.Query(
            "SELECT coalesce(sum(amount_cents), 0), coalesce(sum(reversed_cents), 0) FROM "
            "payments WHERE provider = ? AND provider_payment = ?",
            r.provider,
            r.payment);
        sums->Step();
        so_far = sums->Int64(0);
        reversed = sums->Int64(1);
    }
    const std::string base = r.provider + ":" + r.payment;
    PaymentOutcome out;
    if (r.total_cents <= so_far) {
        out.payment_id = base;
        out.status = "duplicate";
        return out;
    }
    // The first part is the provider's payment itself; a later one is named by the total.
    PaymentRecord p;
    p.payment_id = so_far == 0 ? base : base + "#" + std::to_string(r.total_cents);
    p.reference = r.reference;
    p.amount_cents = r.total_cents - so_far;
    p.currency = r.currency;
    p.paid_at = r.paid_at;
    p.method = r.method;
    // A SPEI transfer credited already, reported by someone else (a receipt confirmed with
    // Banxico's CEP, a statement): counted once.
    if (so_far == 0 && !r.spei_key.empty()) {
        if (db.One<int>("SELECT 1 FROM payments WHERE spei_key = ?", r.spei_key)) {
            out.payment_id = base;
            out.status = "duplicate";
            return out;
        }
        p.spei_key = r.spei_key;
    }
    // Read the key before writing it: on PostgreSQL, when a concurrent transaction stored the
    // same part first, SSI then reports a conflict (and the whole event is tried again, seeing
    // it) instead of a duplicate-key error. The advisory lock alone does not do it: a
    // SERIALIZABLE snapshot is taken before the lock is granted.
    if (db.One<int>("SELECT 1 FROM payments WHERE payment_id = ?", p.payment_id)) {
        out.payment_id = p.payment_id;
        out.status = "duplicate";
        return out;
    }

    // What was reported taken back but could not be yet: a refund told before its payment, or
    // before all of it arrived (a bank transfer funded in parts, told out of order).
    const std::int64_t outstanding = ReversedSoFar(db, r) - reversed;
    // Money already taken back is not thanked for.
    out = ApplyOnePayment(db, p, "webhook", at, outstanding > 0 ? nullptr : notice, &key);
    if (outstanding <= 0) {
        return out;
    }
    auto latest = db.Query(
        "SELECT id, reversal_id, kind FROM payment_reversals WHERE provider = ? AND "
        "provider_payment = ? ORDER BY id DESC LIMIT 1",
        r.provider,
        r.payment);
    latest->Step();
    const std::int64_t reversal = latest->Int64(0);
    const Reversed done = ReverseRows(db, r, latest->Text(1), latest->Text(2), outstanding, at);
    db.Exec(
        "UPDATE payment_reversals SET status = 'applied', account_id = coalesce(account_id, ?), "
        "applied_at = coalesce(applied_at, ?) WHERE provider = ? AND provider_payment = ? AND "
        "status = 'waiting'",
        done.account,
        at,
        r.provider,
        r.payment);
    db.Exec("UPDATE payment_reversals SET restored_cents = restored_cents + ? WHERE id = ?",
            done.restored,
            reversal);
    out.restored_cents += done.restored;
    out.new_balance_cents += done.restored;
    return out;
}

PaymentOutcome Reverse(Connection& db, const ProviderReport& r, const std::string& at) {
    PaymentOutcome out;
    std::int64_t amount = r.total_cents;
    std::string id;
    if (!r.reversal_id.empty()) {
        id = r.provider + ":" + r.reversal_id;
    } else {
        amount = r.total_cents - ReversedSoFar(db, r);
        id = r.provider + ":" + r.payment + ":reversed:" + std::to_string(r.total_cents);
    }
    out.payment_id = id;
    const bool seen =
        db.One<int>("SELECT 1 FROM payment_reversals WHERE reversal_id = ?", id).has_value();
    if (amount <= 0 || seen) {
        out.status = "duplicate";
        return out;
    }
    const std::string kind = r.reversal_kind == "chargeback" ? "chargeback" : "refund";
    const bool received = db.One<int>(
                                "SELECT 1 FROM payments WHERE provider = ? AND provider_payment "
                                "= ? LIMIT 1",
                                r.provider,
                                r.payment)
                              .has_value();
    Reversed done;
    if (received) {
        done = ReverseRows(db, r, id, kind, amount, at);
    }
    db.Exec(
        "INSERT INTO payment_reversals (reversal_id, provider, provider_payment, kind, "
        "amount_cents, status, account_id, restored_cents, received_at, applied_at) VALUES (?, ?, "
        "?, ?, ?, ?, ?, ?, ?, ?)",
        id,
        r.provider,
        r.payment,
        kind,
        amount,
        received ? "applied" : "waiting",
        done.account,
        done.restored,
        at,
        received ? std::optional(at) : std::nullopt);
    out.status = received ? "reversed" : "waiting";
    out.restored_cents = done.restored;
    if (done.account) {
        out.account_id =
            db.One<std::string>("SELECT account_key FROM accounts WHERE id = ?", *done.account)
                .value_or("");
        out.new_balance_cents =
            db.One<std::int64_t>("SELECT balance_cents FROM accounts WHERE id = ?", *done.account)
                .value_or(0);
    }
    return out;
}

std::vector<PaymentOutcome> ApplyReports(Connection& db,
                                         const std::vector<ProviderReport>& reports,
                                         const std::string& at,
                                         const PaymentNoticeFn& notice) {
    std::vector<std::string> keys;
    for (const ProviderReport& r : reports) {
        keys.push_back(PaymentLock(r));
    }
    db.Lock(keys);
    std::vector<PaymentOutcome> out;
    for (const ProviderReport& r : reports) {
        // A payment told together with its refund (a fetched payment already refunded) is not
        // thanked for.
        const bool taken_back =
            std::any_of(reports.begin(), reports.end(), [&](const ProviderReport& other) {
                return other.kind == ProviderReport::Kind::kReversed &&
                       other.provider == r.provider && other.payment == r.payment;
            });
        out.push_back(r.kind == ProviderReport::Kind::kReceived
                          ? Received(db, r, at, taken_back ? PaymentNoticeFn() : notice)
                          : Reverse(db, r, at));
    }
    return out;
}

}  // namespace

Result<ProviderEventOutcome> Ledger::RecordProviderEvent(const ProviderEvent& event,
                                                         std::string_view now,
                                                         const PaymentNoticeFn& notice) {
    return impl_->Guard([&]() -> Result<ProviderEventOutcome> {
        if (auto ready = impl_->RequireLatest(); !ready) {
            return ready.error();
        }
        Connection& db = impl_->db;
        const std::string at(now);
        Tx tx(db);
        ProviderEventOutcome outcome;
        outcome.pending = !event.fetch_payment.empty();
        const auto stored =
            db.Prepare(
                  "INSERT INTO provider_events (provider, event_id, type, body, fetch_payment, "
                  "status, next_attempt_at, received_at, processed_at) VALUES (?, ?, ?, ?, ?, ?, "
                  "?, ?, ?) ON CONFLICT (provider, event_id) DO NOTHING RETURNING id")
                .Returning(event.provider,
                           event.event_id,
                           event.type,
                           event.body,
                           outcome.pending ? std::optional(event.fetch_payment) : std::nullopt,
                           outcome.pending ? "pending" : "done",
                           at,
                           at,
                           outcome.pending ? std::nullopt : std::optional(at));
        if (!stored) {
            outcome.duplicate = true;
            outcome.pending = false;
            return outcome;
        }
        if (!outcome.pending) {
            outcome.outcomes = ApplyReports(db, event.reports, at, notice);
        }
        tx.commit();
        return outcome;
    });
}

Result<bool> Ledger::AccountExists(std::int64_t id) {
    return impl_->Guard([&]() -> Result<bool> {
        return impl_->db.One<int>("SELECT 1 FROM accounts WHERE id = ?", id).has_value();
    });
}

Result<std::vector<PendingProviderEvent>> Ledger::DueProviderEvents(std::string_view now,
                                                                    std::string_view hold_until,
                                                                    std::size_t limit) {
    return impl_->Guard([&]() -> Result<std::vector<PendingProviderEvent>> {
        Connection& db = impl_->db;
        Tx tx(db, TxKind::kLocked);  // the conditional update decides who holds each
        std::vector<PendingProviderEvent> out;
        for (const std::int64_t id : TakeDue(db, "provider_events", now, hold_until, limit)) {
            auto q = db.Query(
                "SELECT provider, event_id, type, fetch_payment, attempts FROM provider_events "
                "WHERE id = ?",
                id);
            if (q->Step()) {
                out.push_back({id, q->Text(0), q->Text(1), q->Text(2), q->Text(3), q->Int(4)});
            }
        }
        tx.commit();
        return out;
    });
}

Result<ProviderEventOutcome> Ledger::CompleteProviderEvent(
    std::int64_t id,
    const std::vector<ProviderReport>& reports,
    std::string_view now,
    const PaymentNoticeFn& notice) {
    return impl_->Guard([&]() -> Result<ProviderEventOutcome> {
        Connection& db = impl_->db;
        const std::string at(now);
        Tx tx(db);
        ProviderEventOutcome outcome;
        const auto status =
            db.One<std::string>("SELECT status FROM provider_events WHERE id = ?", id);
        if (status != "pending") {
            outcome.duplicate = true;
            return outcome;
        }
        outcome.outcomes = ApplyReports(db, reports, at, notice);
        db.Exec(
            "UPDATE provider_events SET status = 'done', attempts = attempts + 1, processed_at = "
            "?, last_error = NULL WHERE id = ?",
            at,
            id);
        tx.commit();
        return outcome;
    });
}

}  // namespace cobrador::store
