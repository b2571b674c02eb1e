// Money in: payments applied to accounts by their reference (or held in suspense), promises
// kept or broken, plan instalments paid, and the messages that tell the debtor — each in the
// same transaction as what it reports.

#include <algorithm>

#include "dialogs/reference.hpp"

#include "ledger_impl.hpp"
#include "proactive.hpp"
#include "statement_cache.hpp"

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
    const auto expected = dialogs::LuhnCheckDigit(digits.substr(0, digits.size() - 1));
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

std::optional<AccountRow> LoadAccount(SQLite::Database& db, std::int64_t id) {
    Prepared row_lease(db,
                       "SELECT id, account_key, debtor_id, balance_cents, currency, due_date "
                       "FROM accounts WHERE id = ?");
    SQLite::Statement& row = *row_lease;
    row.bind(1, id);
    if (!row.executeStep()) {
        return std::nullopt;
    }
    return AccountRow{row.getColumn(0).getInt64(),
                      row.getColumn(1).getString(),
                      row.getColumn(2).getInt64(),
                      row.getColumn(3).getInt64(),
                      row.getColumn(4).getString(),
                      row.getColumn(5).getString()};
}

// Counts `amount` toward the account's open promises, earliest first; a promise paid in full
// (or any open one, once the balance is zero) is kept. Returns whether one was kept.
bool KeepPromises(SQLite::Database& db,
                  const AccountRow& account,
                  std::int64_t amount,
                  std::int64_t new_balance,
                  const std::string& now) {
    Prepared open_lease(db,
                        "SELECT id, amount_cents, paid_cents FROM promises WHERE account_id = "
                        "? AND status = 'open' ORDER BY due_date, id");
    SQLite::Statement& open = *open_lease;
    open.bind(1, account.id);

    struct Promise {
        std::int64_t id, amount, paid;
    };

    std::vector<Promise> promises;
    while (open.executeStep()) {
        promises.push_back({open.getColumn(0).getInt64(),
                            open.getColumn(1).getInt64(),
                            open.getColumn(2).getInt64()});
    }
    bool kept_any = false;
    std::int64_t left = amount;
    Prepared update_lease(db,
                          "UPDATE promises SET paid_cents = ?, status = CASE WHEN ? THEN "
                          "'kept' ELSE status END, resolved_at = CASE WHEN ? THEN ? ELSE "
                          "resolved_at END WHERE id = ?");
    SQLite::Statement& update = *update_lease;
    for (const Promise& p : promises) {
        const std::int64_t take = std::min(left, p.amount - p.paid);
        left -= std::max<std::int64_t>(take, 0);
        const std::int64_t paid = p.paid + std::max<std::int64_t>(take, 0);
        const bool kept = paid >= p.amount || new_balance == 0;
        update.reset();
        update.bind(1, paid);
        update.bind(2, kept ? 1 : 0);
        update.bind(3, kept ? 1 : 0);
        update.bind(4, now);
        update.bind(5, p.id);
        update.exec();
        if (kept) {
            kept_any = true;
            WriteAccountAudit(db,
                              "bot",
                              "promise_kept",
                              account.debtor_id,
                              account.id,
                              "{\"promise_id\":" + std::to_string(p.id) + "}",
                              now);
        }
    }
    return kept_any;
}

// Pays the active plan's instalments in order; the plan is completed when all are paid.
// Returns true when that completes a settlement: the discount is then forgiven.
bool PayInstallments(SQLite::Database& db,
                     const AccountRow& account,
                     std::int64_t amount,
                     const std::string& now) {
    Prepared plan_lease(db,
                        "SELECT id, kind FROM payment_plans WHERE account_id = ? AND status = "
                        "'active' ORDER BY id LIMIT 1");
    SQLite::Statement& plan = *plan_lease;
    plan.bind(1, account.id);
    if (!plan.executeStep()) {
        return false;
    }
    const std::int64_t plan_id = plan.getColumn(0).getInt64();
    const bool settlement = plan.getColumn(1).getString() == "settlement";
    Prepared due_lease(db,
                       "SELECT id, amount_cents, paid_cents FROM plan_installments WHERE "
                       "plan_id = ? AND status <> 'paid' ORDER BY seq");
    SQLite::Statement& due = *due_lease;
    due.bind(1, plan_id);
    std::vector<std::array<std::int64_t, 3>> installments;
    while (due.executeStep()) {
        installments.push_back({due.getColumn(0).getInt64(),
                                due.getColumn(1).getInt64(),
                                due.getColumn(2).getInt64()});
    }
    Prepared pay_lease(db,
                       "UPDATE plan_installments SET paid_cents = ?, status = CASE WHEN ? "
                       "THEN 'paid' ELSE status END WHERE id = ?");
    SQLite::Statement& pay = *pay_lease;
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
        pay.reset();
        pay.bind(1, paid + take);
        pay.bind(2, done ? 1 : 0);
        pay.bind(3, id);
        pay.exec();
    }
    if (unpaid == 0) {
        Prepared complete_lease(db, "UPDATE payment_plans SET status = 'completed' WHERE id = ?");
        SQLite::Statement& complete = *complete_lease;
        complete.bind(1, plan_id);
        complete.exec();
        WriteAccountAudit(db,
                          "bot",
                          "plan_completed",
                          account.debtor_id,
                          account.id,
                          "{\"plan_id\":" + std::to_string(plan_id) + "}",
                          now);
        return settlement;
    }
    return false;
}

}  // namespace

Result<PaymentsSummary> Ledger::ApplyPayments(const std::vector<PaymentRecord>& payments,
                                              std::string_view source,
                                              std::string_view now,
                                              const PaymentNoticeFn& notice) {
    return impl_->Guard([&]() -> Result<PaymentsSummary> {
        if (auto ready = impl_->RequireLatest(); !ready) {
            return ready.error();
        }
        SQLite::Database& db = impl_->db;
        const std::string at(now);
        Tx tx(db);
        PaymentsSummary summary;
        Prepared exists_lease(db, "SELECT 1 FROM payments WHERE payment_id = ?");
        SQLite::Statement& exists = *exists_lease;
        Prepared insert_lease(
            db,
            "INSERT INTO payments (payment_id, reference, account_id, amount_cents, currency, "
            "paid_at, method, status, source, received_at, applied_cents, overpaid_cents, "
            "suspense_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        SQLite::Statement& insert = *insert_lease;
        for (const PaymentRecord& p : payments) {
            PaymentOutcome out;
            out.payment_id = p.payment_id;
            exists.reset();
            exists.bind(1, p.payment_id);
            if (exists.executeStep()) {
                out.status = "duplicate";
                ++summary.duplicates;
                summary.outcomes.push_back(std::move(out));
                continue;
            }
            std::optional<AccountRow> account;
            if (const auto id = dialogs::AccountFromReference(p.reference)) {
                account = LoadAccount(db, *id);
            }
            if (!account) {
                out.reason = SuspenseReason(p.reference);
            } else if (account->currency != p.currency) {
                out.reason = "currency_mismatch";
            }
            out.status = out.reason.empty() ? "applied" : "suspense";
            if (account && out.reason.empty()) {
                out.account_id = account->key;
                out.applied_cents = std::min(p.amount_cents, account->balance_cents);
                out.overpaid_cents = p.amount_cents - out.applied_cents;
                out.new_balance_cents = account->balance_cents - out.applied_cents;
            }
            insert.reset();
            insert.bind(1, p.payment_id);
            insert.bind(2, p.reference);
            if (out.status == "applied") {
                insert.bind(3, account->id);
            }
            insert.bind(4, p.amount_cents);
            insert.bind(5, p.currency);
            insert.bind(6, p.paid_at);
            insert.bind(7, p.method);
            insert.bind(8, out.status);
            insert.bind(9, std::string(source));
            insert.bind(10, at);
            insert.bind(11, out.applied_cents);
            insert.bind(12, out.overpaid_cents);
            if (!out.reason.empty()) {
                insert.bind(13, out.reason);
            }
            insert.exec();
            const std::int64_t payment_row = db.getLastInsertRowid();
            if (out.status == "suspense") {
                ++summary.suspense;
                WriteAccountAudit(db,
                                  "system",
                                  "payment_suspense",
                                  std::nullopt,
                                  std::nullopt,
                                  "{\"payment_id\":" + std::to_string(payment_row) +
                                      ",\"reason\":\"" + out.reason + "\"}",
                                  at);
                summary.outcomes.push_back(std::move(out));
                continue;
            }
            ++summary.applied;
            Prepared balance_lease(db,
                                   "UPDATE accounts SET balance_cents = ?, updated_at = ? "
                                   "WHERE id = ?");
            SQLite::Statement& balance = *balance_lease;
            balance.bind(1, out.new_balance_cents);
            balance.bind(2, at);
            balance.bind(3, account->id);
            balance.exec();
            Prepared history_lease(
                db,
                "INSERT INTO balance_history (account_id, balance_cents, due_date, source, "
                "source_id, recorded_at) VALUES (?, ?, ?, 'payment', ?, ?)");
            SQLite::Statement& history = *history_lease;
            history.bind(1, account->id);
            history.bind(2, out.new_balance_cents);
            history.bind(3, account->due_date);
            history.bind(4, payment_row);
            history.bind(5, at);
            history.exec();
            WriteAccountAudit(db,
                              "system",
                              "payment_applied",
                              account->debtor_id,
                              account->id,
                              "{\"payment_id\":" + std::to_string(payment_row) +
                                  ",\"amount_cents\":" + std::to_string(p.amount_cents) +
                                  ",\"overpaid_cents\":" + std::to_string(out.overpaid_cents) + "}",
                              at);
            if (PayInstallments(db, *account, p.amount_cents, at) && out.new_balance_cents > 0) {
                // The settlement is paid: what it took off the balance is forgiven now.
                const std::int64_t forgiven = out.new_balance_cents;
                out.new_balance_cents = 0;
                Prepared settle_lease(db,
                                      "UPDATE accounts SET balance_cents = 0, updated_at = ? "
                                      "WHERE id = ?");
                SQLite::Statement& settle = *settle_lease;
                settle.bind(1, at);
                settle.bind(2, account->id);
                settle.exec();
                Prepared adjusted_lease(
                    db,
                    "INSERT INTO balance_history (account_id, balance_cents, due_date, source, "
                    "source_id, recorded_at) VALUES (?, 0, ?, 'adjustment', ?, ?)");
                SQLite::Statement& adjusted = *adjusted_lease;
                adjusted.bind(1, account->id);
                adjusted.bind(2, account->due_date);
                adjusted.bind(3, payment_row);
                adjusted.bind(4, at);
                adjusted.exec();
                WriteAccountAudit(db,
                                  "system",
                                  "settlement_forgiven",
                                  account->debtor_id,
                                  account->id,
                                  "{\"forgiven_cents\":" + std::to_string(forgiven) + "}",
                                  at);
            }
            out.promise_kept =
                KeepPromises(db, *account, p.amount_cents, out.new_balance_cents, at);

            if (notice) {
                if (const auto target = LatestReachableConversation(db, account->debtor_id)) {
                    PaymentNotice n;
                    n.debtor_name = target->debtor_name;
                    n.locale = target->locale;
                    n.timezone = target->timezone;
                    n.phone = target->phone;
                    n.channel = target->channel;
                    n.whatsapp_window_open =
                        target->last_inbound_at && *target->last_inbound_at >= WindowStart(at);
                    n.account_id = account->key;
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
            summary.outcomes.push_back(std::move(out));
        }
        tx.commit();
        return summary;
    });
}

Result<std::vector<BrokenPromise>> Ledger::BreakOverduePromises(std::string_view cutoff_date,
                                                                std::string_view now,
                                                                const FollowUpFn& follow_up) {
    return impl_->Guard([&]() -> Result<std::vector<BrokenPromise>> {
        SQLite::Database& db = impl_->db;
        const std::string at(now);
        Tx tx(db);
        Prepared overdue_lease(
            db,
            "SELECT p.id, p.account_id, a.account_key, a.debtor_id, p.amount_cents, "
            "p.paid_cents, p.currency, p.due_date FROM promises p JOIN accounts a ON a.id = "
            "p.account_id WHERE p.status = 'open' AND p.due_date < ? AND a.balance_cents > 0 ORDER "
            "BY "
            "p.id");
        SQLite::Statement& overdue = *overdue_lease;
        overdue.bind(1, std::string(cutoff_date));
        std::vector<BrokenPromise> broken;
        while (overdue.executeStep()) {
            BrokenPromise b;
            b.promise_id = overdue.getColumn(0).getInt64();
            b.account_row = overdue.getColumn(1).getInt64();
            b.account_id = overdue.getColumn(2).getString();
            b.debtor_id = overdue.getColumn(3).getInt64();
            b.amount_cents = overdue.getColumn(4).getInt64();
            b.paid_cents = overdue.getColumn(5).getInt64();
            b.currency = overdue.getColumn(6).getString();
            b.due_date = overdue.getColumn(7).getString();
            broken.push_back(std::move(b));
        }
        Prepared mark_lease(db,
                            "UPDATE promises SET status = 'broken', resolved_at = ? WHERE id = ?");
        SQLite::Statement& mark = *mark_lease;
        // Broken promises of the same debtor in the last 30 days, this one included.
        Prepared recent_lease(db,
                              "SELECT count(*) FROM promises p JOIN accounts a ON a.id = "
                              "p.account_id WHERE a.debtor_id = ? AND p.status = 'broken' AND "
                              "p.resolved_at >= ?");
        SQLite::Statement& recent = *recent_lease;
        for (BrokenPromise& b : broken) {
            mark.reset();
            mark.bind(1, at);
            mark.bind(2, b.promise_id);
            mark.exec();
            WriteAccountAudit(db,
                              "system",
                              "promise_broken",
                              b.debtor_id,
                              b.account_row,
                              "{\"promise_id\":" + std::to_string(b.promise_id) + "}",
                              at);
            recent.reset();
            recent.bind(1, b.debtor_id);
            recent.bind(2, DaysBefore(at, 30));
            recent.executeStep();
            b.broken_recently = recent.getColumn(0).getInt();
            const auto target = LatestReachableConversation(db, b.debtor_id);
            if (b.broken_recently >= 2) {
                // The second broken promise: a person takes it from here.
                b.escalated = EscalateDebtor(db, b.debtor_id, "promises_broken", at);
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
                    QueueProactive(db, *target, *message, at);
                    b.message_queued = true;
                }
            }
        }
        tx.commit();
        return broken;
    });
}

Result<std::vector<SuspensePayment>> Ledger::SuspensePayments(std::size_t limit) {
    return impl_->Guard([&]() -> Result<std::vector<SuspensePayment>> {
        Prepared rows_lease(impl_->db,
                            "SELECT payment_id, reference, amount_cents, currency, paid_at, "
                            "method, coalesce(suspense_reason, ''), source, received_at FROM "
                            "payments WHERE status = 'suspense' ORDER BY id DESC LIMIT ?");
        SQLite::Statement& rows = *rows_lease;
        rows.bind(1, static_cast<std::int64_t>(limit));
        std::vector<SuspensePayment> out;
        while (rows.executeStep()) {
            out.push_back({rows.getColumn(0).getString(),
                           rows.getColumn(1).getString(),
                           rows.getColumn(2).getInt64(),
                           rows.getColumn(3).getString(),
                           rows.getColumn(4).getString(),
                           rows.getColumn(5).getString(),
                           rows.getColumn(6).getString(),
                           rows.getColumn(7).getString(),
                           rows.getColumn(8).getString()});
        }
        return out;
    });
}

Result<std::optional<std::int64_t>> Ledger::FallBackToSms(
    std::int64_t message,
    std::string_view provider_message_id,
    const std::function<std::string(const std::string& text)>& sms_payload,
    std::string_view now) {
    return impl_->Guard([&]() -> Result<std::optional<std::int64_t>> {
        SQLite::Database& db = impl_->db;
        const std::string at(now);
        Tx tx(db);
        Prepared find_lease(
            db,
            "SELECT m.id, m.body, c.phone, c.debtor_id, (SELECT coalesce(o.contact_timezone, '') "
            "FROM outbox o WHERE o.message_id = m.id) FROM messages m JOIN conversations c ON "
            "c.id = m.conversation_id WHERE m.direction = 'out' AND m.channel = 'whatsapp' AND "
            "(m.id = ?1 OR (?1 = 0 AND m.provider_message_id = ?2))");
        SQLite::Statement& find = *find_lease;
        find.bind(1, message);
        find.bind(2, std::string(provider_message_id));
        if (!find.executeStep() || find.getColumn(3).isNull()) {
            return std::optional<std::int64_t>();
        }
        const std::int64_t id = find.getColumn(0).getInt64();
        const std::string body = find.getColumn(1).getString();
        Target target;
        target.phone = find.getColumn(2).getString();
        target.debtor_id = find.getColumn(3).getInt64();
        target.channel = "sms";
        Prepared done_lease(db,
                            "SELECT count(*) FROM audit_log WHERE kind = 'fallback_to_sms' AND "
                            "json_extract(detail, '$.message_id') = ?");
        SQLite::Statement& done = *done_lease;
        done.bind(1, id);
        done.executeStep();
        if (done.getColumn(0).getInt() > 0 || !Reachable(db, target.phone, "sms")) {
            return std::optional<std::int64_t>();
        }
        const std::int64_t sms = QueueProactive(
            db,
            target,
            // Under the same contact hours as the message it replaces.
            ProactiveMessage{body, sms_payload(body), "", find.getColumn(4).getString()},
            at);
        WriteAccountAudit(db,
                          "system",
                          "fallback_to_sms",
                          target.debtor_id,
                          std::nullopt,
                          "{\"message_id\":" + std::to_string(id) +
                              ",\"sms_message_id\":" + std::to_string(sms) + "}",
                          at);
        tx.commit();
        return std::optional<std::int64_t>(sms);
    });
}

}  // namespace cobrador::store
