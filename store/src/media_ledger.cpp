// The files debtors send (docs/media.md): the queue of files to fetch, what each fetch came
// to, and a stored file's bytes for collectors. Recording a file with its message is part of
// HandleInbound (messaging.cpp).

#include "due_rows.hpp"
#include "ledger_impl.hpp"

namespace cobrador::store {

Result<std::vector<MediaJob>> Ledger::DueMedia(std::string_view now,
                                               std::string_view hold_until,
                                               std::size_t limit) {
    return impl_->Guard([&]() -> Result<std::vector<MediaJob>> {
        Connection& db = impl_->db;
        Tx tx(db, TxKind::kLocked);  // the conditional update decides who holds each
        std::vector<MediaJob> out;
        for (const std::int64_t id : TakeDue(db, "media", now, hold_until, limit)) {
            auto q = db.Query(
                "SELECT channel, kind, source, declared_type, attempts, conversation_id FROM "
                "media WHERE id = ?",
                id);
            if (q->Step()) {
                out.push_back(
                    {id, q->Text(0), q->Text(1), q->Text(2), q->Text(3), q->Int(4), q->Int64(5)});
            }
        }
        tx.commit();
        return out;
    });
}

Result<bool> Ledger::CompleteMedia(std::int64_t id,
                                   const FetchedMedia& fetched,
                                   std::string_view now) {
    return impl_->Guard([&]() -> Result<bool> {
        Connection& db = impl_->db;
        Tx tx(db, TxKind::kLocked);  // one conditional update
        const bool stored = fetched.status == "stored";
        const int changed =
            db.Prepare(
                  "UPDATE media SET status = ?, content_type = ?, sha256 = ?, "
                  "content = ?, size_bytes = ?, last_error = ?, fetched_at = ?, "
                  "attempts = attempts + 1 WHERE id = ? AND status = 'pending'")
                .Exec(fetched.status,
                      fetched.content_type.empty()
                          ? std::nullopt
                          : std::optional<std::string>(fetched.content_type),
                      stored ? std::optional<std::string>(fetched.sha256) : std::nullopt,
                      stored ? std::optional<BlobRef>(BlobRef{fetched.content}) : std::nullopt,
                      fetched.size_bytes > 0 ? std::optional<std::int64_t>(fetched.size_bytes)
                                             : std::nullopt,
                      fetched.detail.empty() ? std::nullopt
                                             : std::optional<std::string>(fetched.detail),
                      now,
                      id);
        tx.commit();
        return changed == 1;
    });
}

Result<void> Ledger::RetryMedia(std::int64_t id,
                                std::string_view error,
                                std::string_view next_attempt_at,
                                bool give_up) {
    return impl_->Guard([&]() -> Result<void> {
        Connection& db = impl_->db;
        Tx tx(db, TxKind::kLocked);
        RetryDue(db, "media", id, error, next_attempt_at, give_up);
        tx.commit();
        return {};
    });
}

Result<std::optional<MediaFile>> Ledger::Media(std::int64_t id) {
    return impl_->Guard([&]() -> Result<std::optional<MediaFile>> {
        Connection& db = impl_->db;
        std::optional<MediaFile> out;
        auto q = db.Query(
            "SELECT id, conversation_id, kind, status, coalesce(content_type, declared_type), "
            "filename, content FROM media WHERE id = ?",
            id);
        if (q->Step()) {
            out = MediaFile{q->Int64(0),
                            q->Int64(1),
                            q->Text(2),
                            q->Text(3),
                            q->Text(4),
                            q->Text(5),
                            q->IsNull(6) ? std::string() : q->Blob(6)};
        }
        return out;
    });
}

Result<std::vector<UnreadReceipt>> Ledger::UnreadReceipts(std::size_t limit) {
    return impl_->Guard([&]() -> Result<std::vector<UnreadReceipt>> {
        // Two replicas may read the same file at once; the second reading is not kept.
        auto q = impl_->db.Query(
            "SELECT m.id, m.conversation_id, m.content_type, m.content FROM media m WHERE "
            "m.status = 'stored' AND m.kind IN ('image', 'document') AND NOT EXISTS (SELECT 1 "
            "FROM receipts r WHERE r.media_id = m.id) ORDER BY m.id LIMIT ?",
            static_cast<std::int64_t>(limit));
        std::vector<UnreadReceipt> out;
        while (q->Step()) {
            out.push_back({q->Int64(0), q->Int64(1), q->Text(2), q->Blob(3)});
        }
        return out;
    });
}

Result<bool> Ledger::RecordReceipt(std::int64_t media_id,
                                   const ReceiptReading& r,
                                   std::string_view now,
                                   bool check) {
    return impl_->Guard([&]() -> Result<bool> {
        Connection& db = impl_->db;
        Tx tx(db, TxKind::kLocked);  // one insert, decided by its key
        const auto text = [](const std::string& value) {
            return value.empty() ? std::nullopt : std::optional<std::string>(value);
        };
        const int added = db.Prepare(
                                "INSERT INTO receipts (media_id, conversation_id, status, engine, "
                                "text, error, clave_rastreo, amount_cents, operation_date, "
                                "sending_bank, beneficiary_account, reference, concept, "
                                "beneficiary_name, read_at) SELECT id, conversation_id, ?, ?, ?, "
                                "?, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM media WHERE id = ? ON CONFLICT "
                                "(media_id) DO NOTHING")
                              .Exec(r.read ? "read" : "unreadable",
                                    r.engine,
                                    r.text,
                                    text(r.error),
                                    text(r.clave_rastreo),
                                    r.amount_cents,
                                    text(r.operation_date),
                                    text(r.sending_bank),
                                    text(r.beneficiary_account),
                                    text(r.reference),
                                    text(r.payment_concept),
                                    text(r.beneficiary_name),
                                    now,
                                    media_id);
        if (added == 1 && check) {
            db.Exec(
                "INSERT INTO receipt_checks (receipt_id, conversation_id, status, "
                "next_attempt_at, created_at) SELECT id, conversation_id, 'pending', ?1, ?1 FROM "
                "receipts WHERE media_id = ?2",
                now,
                media_id);
        }
        tx.commit();
        return added == 1;
    });
}

}  // namespace cobrador::store
