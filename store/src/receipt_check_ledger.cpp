// Receipts confirmed with Banxico's CEP (docs/media.md "Confirming a receipt"): the queue of
// readings to look up, and what each lookup came to, settled in one transaction with the
// payment it applies, the escalation and the message to the debtor.

#include "dialogs/reference.hpp"

#include "audit.hpp"
#include "due_rows.hpp"
#include "ledger_impl.hpp"
#include "payment_apply.hpp"
#include "proactive.hpp"
#include "shifts.hpp"

namespace cobrador::store {

namespace {

// A person will look at the receipt: the conversation goes to the collectors' queue
// ("receipt_review"), and the debtor is told (`kind`: "to_person", "confirmed_to_person") when
// `reply` writes something, unless a collector holds the conversation already. A conversation
// closed meanwhile is not reopened: the message starts a new one, which is the one escalated.
// "duplicate" only tells. Returns whether a message was queued; `escalated` says whether the
// queue has it.
bool ToPerson(Connection& db,
              std::int64_t conversation,
              const std::string& kind,
              const std::string& at,
              const ReceiptReplyFn& reply,
              bool& escalated) {
    const bool for_a_person = kind != "duplicate";
    // Held by a collector before: they tell the debtor themselves. Escalating may hand it to
    // someone on shift just now, and then the debtor is told, as with the queue.
    const auto before = ReachableConversation(db, conversation);
    const bool held = before && before->state == dialogs::ConversationState::kClaimed;
    escalated = for_a_person && EscalateConversation(db, conversation, "receipt_review", at);
    const auto target = ReachableConversation(db, conversation);
    if (!reply || !target || held) {
        return false;
    }
    const auto message = reply(AddresseeOf(*target, at), kind);
    if (!message) {
        return false;
    }
    std::int64_t used = conversation;
    QueueProactive(db, *target, *message, at, &used);
    if (for_a_person && !escalated) {
        // The conversation was closed: the debtor's answer lands in the one the message used.
        escalated = EscalateConversation(db, used, "receipt_review", at);
    }
    return true;
}

}  // namespace

Result<bool> Ledger::ReceiptToPerson(std::int64_t conversation_id,
                                     std::string_view now,
                                     const ReceiptReplyFn& reply) {
    return impl_->Guard([&]() -> Result<bool> {
        Connection& db = impl_->db;
        Tx tx(db);
        bool escalated = false;
        const bool told =
            ToPerson(db, conversation_id, "to_person", std::string(now), reply, escalated);
        tx.commit();
        return told;
    });
}

Result<std::vector<ReceiptCheckJob>> Ledger::DueReceiptChecks(std::string_view now,
                                                              std::string_view hold_until,
                                                              std::size_t limit) {
    return impl_->Guard([&]() -> Result<std::vector<ReceiptCheckJob>> {
        Connection& db = impl_->db;
        Tx tx(db, TxKind::kLocked);  // the conditional update decides who holds each
        std::vector<ReceiptCheckJob> out;
        for (const std::int64_t id : TakeDue(db, "receipt_checks", now, hold_until, limit)) {
            auto q = db.Query(
                "SELECT r.media_id, c.conversation_id, c.attempts, r.status, "
                "coalesce(r.clave_rastreo, ''), r.amount_cents, coalesce(r.operation_date, ''), "
                "coalesce(r.sending_bank, ''), coalesce(r.beneficiary_account, ''), "
                "coalesce(r.reference, ''), coalesce(r.concept, ''), "
                "coalesce(r.beneficiary_name, ''), coalesce(r.error, '') FROM receipt_checks c "
                "JOIN receipts r ON r.id = c.receipt_id WHERE c.id = ?",
                id);
            if (!q->Step()) {
                continue;
            }
            ReceiptCheckJob job;
            job.id = id;
            job.media_id = q->Int64(0);
            job.conversation_id = q->Int64(1);
            job.attempts = q->Int(2);
            ReceiptReading& r = job.reading;
            r.read = q->Text(3) == "read";
            r.clave_rastreo = q->Text(4);
            if (!q->IsNull(5)) {
                r.amount_cents = q->Int64(5);
            }
            r.operation_date = q->Text(6);
            r.sending_bank = q->Text(7);
            r.beneficiary_account = q->Text(8);
            r.reference = q->Text(9);
            r.payment_concept = q->Text(10);
            r.beneficiary_name = q->Text(11);
            r.error = q->Text(12);
            out.push_back(std::move(job));
        }
        tx.commit();
        return out;
    });
}

Result<void> Ledger::RetryReceiptCheck(std::int64_t id,
                                       std::string_view error,
                                       std::string_view next_attempt_at) {
    return impl_->Guard([&]() -> Result<void> {
        Connection& db = impl_->db;
        Tx tx(db, TxKind::kLocked);
        RetryDue(db, "receipt_checks", id, error, next_attempt_at, false);
        tx.commit();
        return {};
    });
}

Result<ReceiptCheckOutcome> Ledger::SettleReceiptCheck(std::int64_t id,
                                                       const ReceiptVerdict& verdict,
                                                       std::string_view now,
                                                       const PaymentNoticeFn& notice,
                                                       const ReceiptReplyFn& reply) {
    return impl_->Guard([&]() -> Result<ReceiptCheckOutcome> {
        Connection& db = impl_->db;
        const std::string at(now);
        Tx tx(db);
        ReceiptCheckOutcome out;
        auto row = db.Query(
            "SELECT c.status, c.conversation_id, cv.debtor_id FROM receipt_checks c JOIN "
            "conversations cv ON cv.id = c.conversation_id WHERE c.id = ?",
            id);
        if (!row->Step() || row->Text(0) != "pending") {
            return out;
        }
        const std::int64_t conversation = row->Int64(1);
        const std::optional<std::int64_t> debtor =
            row->IsNull(2) ? std::nullopt : std::optional(row->Int64(2));
        out.settled = true;
        std::string reply_kind;  // what the debtor is told, besides a thank-you
        std::string payment_id;
        std::string detail = verdict.detail;
        if (verdict.confirmed) {
            out.status = "confirmed";
            PaymentRecord p = verdict.payment;
            // A reference only read from the image pays only the sender's own account.
            if (verdict.reference_read) {
                const auto account = MatchReference(db, p.reference, at).account;
                const auto owner =
                    account ? db.One<std::int64_t>("SELECT debtor_id FROM accounts WHERE id = ?",
                                                   *account)
                            : std::nullopt;
                if (!owner || !debtor || *owner != *debtor) {
                    detail = "the reference read (" + p.reference +
                             ") is not in Banxico's record and names no account of the sender";
                    p.reference.clear();
                }
            }
            // Read the key before writing it (see Received in provider_ledger.cpp).
            auto earlier = db.One<std::string>(
                "SELECT payment_id FROM payments WHERE spei_key = ? OR payment_id = ?",
                p.spei_key,
                p.payment_id);
            if (!earlier) {
                earlier = SameTransfer(db, p);  // a statement row without the clave
            }
            if (earlier) {
                out.outcome = "duplicate";
                out.payment.status = "duplicate";
                out.payment.payment_id = *earlier;
                payment_id = *earlier;
                reply_kind = "duplicate";
            } else {
                out.payment = ApplyOnePayment(db, p, "webhook", at, notice, nullptr);
                out.outcome = out.payment.status;
                payment_id = p.payment_id;
                out.message_queued = out.payment.message_queued;
                if (out.outcome == "suspense") {
                    // The money is ours, but whose debt it pays is a person's decision.
                    reply_kind = "confirmed_to_person";
                    if (detail == verdict.detail) {
                        detail = "confirmed with Banxico's CEP; no account named (" +
                                 out.payment.reason + ")";
                    }
                }
            }
        } else {
            out.status = "unconfirmed";
            out.outcome = verdict.outcome;
            reply_kind = "to_person";
        }
        if (!reply_kind.empty()) {
            out.message_queued = ToPerson(db, conversation, reply_kind, at, reply, out.escalated) ||
                                 out.message_queued;
        }
        db.Exec(
            "UPDATE receipt_checks SET status = ?, outcome = ?, detail = nullif(?, ''), "
            "spei_key = nullif(?, ''), payment_id = nullif(?, ''), settled_at = ?, attempts = "
            "attempts + 1 WHERE id = ?",
            out.status,
            out.outcome,
            detail,
            verdict.confirmed ? verdict.payment.spei_key : std::string(),
            payment_id,
            at,
            id);
        WriteAudit(
            db,
            {.actor = "system",
             .kind = verdict.confirmed ? "receipt_confirmed" : "receipt_unconfirmed",
             .debtor_id = debtor,
             .conversation_id = conversation},
            at,
            AuditDetail("receipt_check", id, "outcome", out.outcome, "payment_id", payment_id));
        tx.commit();
        return out;
    });
}

}  // namespace cobrador::store
