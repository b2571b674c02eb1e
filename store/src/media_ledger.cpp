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

}  // namespace cobrador::store
