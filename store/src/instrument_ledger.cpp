// Payment instruments (docs/payments.md "Creating instruments"): the queue of pages and store
// references debtors asked for, and the hand-over of each one the provider created; and the
// retry of either queue of provider work.

#include "dialogs/reference.hpp"

#include "audit.hpp"
#include "due_rows.hpp"
#include "ledger_impl.hpp"
#include "proactive.hpp"

namespace cobrador::store {

Result<std::vector<InstrumentJob>> Ledger::DueInstruments(std::string_view now,
                                                          std::string_view hold_until,
                                                          std::size_t limit) {
    return impl_->Guard([&]() -> Result<std::vector<InstrumentJob>> {
        Connection& db = impl_->db;
        Tx tx(db, TxKind::kLocked);  // the conditional update decides who holds each
        std::vector<InstrumentJob> out;
        for (const std::int64_t id : TakeDue(db, "payment_instruments", now, hold_until, limit)) {
            auto q = db.Query(
                "SELECT i.provider, a.id, a.account_key, NULL, i.amount_cents, i.currency, "
                "d.name, coalesce(d.email, ''), coalesce(d.phone, ''), i.attempts FROM "
                "payment_instruments i JOIN accounts a ON a.id = i.account_id JOIN debtors d ON "
                "d.id = a.debtor_id WHERE i.id = ?",
                id);
            if (q->Step()) {
                out.push_back({id,
                               q->Text(0),
                               q->Int64(1),
                               q->Text(2),
                               dialogs::PaymentReference(q->Int64(1)).value_or(""),
                               q->Int64(4),
                               q->Text(5),
                               q->Text(6),
                               q->Text(7),
                               q->Text(8),
                               q->Int(9)});
            }
        }
        tx.commit();
        return out;
    });
}

Result<InstrumentOutcome> Ledger::CompleteInstrument(std::int64_t id,
                                                     const CreatedInstrument& created,
                                                     std::string_view now,
                                                     const InstrumentNoticeFn& notice) {
    return impl_->Guard([&]() -> Result<InstrumentOutcome> {
        Connection& db = impl_->db;
        const std::string at(now);
        Tx tx(db);
        InstrumentOutcome outcome;
        auto row = db.Query(
            "SELECT i.status, i.account_id, a.account_key, a.debtor_id, i.amount_cents, "
            "i.currency, i.conversation_id, i.provider FROM payment_instruments i JOIN accounts "
            "a ON a.id = i.account_id WHERE i.id = ?",
            id);
        if (!row->Step() || row->Text(0) != "pending") {
            return outcome;
        }
        const std::int64_t account = row->Int64(1);
        const std::string account_key = row->Text(2);
        const std::int64_t debtor = row->Int64(3);
        const std::int64_t amount = row->Int64(4);
        const std::string currency = row->Text(5);
        const bool asked_in_chat = !row->IsNull(6);
        const std::string provider = row->Text(7);
        db.Exec(
            "UPDATE payment_instruments SET status = 'ready', kind = ?, url = ?, store_reference "
            "= nullif(?, ''), provider_id = ?, expires_at = ?, ready_at = ?, attempts = attempts "
            "+ 1, last_error = NULL WHERE id = ?",
            created.kind,
            created.url,
            created.reference,
            created.provider_id,
            created.expires_at,
            at,
            id);
        WriteAudit(db,
                   {.actor = "system",
                    .kind = "instrument_created",
                    .debtor_id = debtor,
                    .account_id = account},
                   at,
                   AuditDetail("instrument_id",
                               id,
                               "provider",
                               provider,
                               "kind",
                               created.kind,
                               "provider_id",
                               created.provider_id,
                               "expires_at",
                               created.expires_at));
        outcome.stored = true;
        // Handed over only to a debtor who asked in a chat we may write to, whose identity
        // check still holds: a payment page names the debt.
        if (notice && asked_in_chat) {
            if (const auto target = LatestReachableConversation(db, debtor);
                target && target->state != dialogs::ConversationState::kClaimed &&
                target->verified_until && *target->verified_until > at) {
                InstrumentNotice n;
                n.to = AddresseeOf(*target, at);
                n.account_id = account_key;
                n.amount_cents = amount;
                n.currency = currency;
                n.instrument = created;
                if (const auto message = notice(n)) {
                    QueueProactive(db, *target, *message, at);
                    outcome.message_queued = true;
                }
            }
        }
        tx.commit();
        return outcome;
    });
}

Result<void> Ledger::RetryProviderWork(ProviderWork work,
                                       std::int64_t id,
                                       std::string_view error,
                                       std::string_view next_attempt_at,
                                       bool failed) {
    return impl_->Guard([&]() -> Result<void> {
        Connection& db = impl_->db;
        Tx tx(db, TxKind::kLocked);
        RetryDue(db,
                 work == ProviderWork::kFetch ? "provider_events" : "payment_instruments",
                 id,
                 error,
                 next_attempt_at,
                 failed);
        tx.commit();
        return {};
    });
}

}  // namespace cobrador::store
