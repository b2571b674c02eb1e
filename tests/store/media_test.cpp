// The files debtors send, against a real ledger (SQLite, or PostgreSQL for the pg.* tests):
// recorded with their message in the turn, taken by one worker at a time, kept byte for byte,
// retried or given up, and listed in the transcript.

#include <sstream>

#include <catch2/catch.hpp>

#include "store/ledger.hpp"

#include "inbound.hpp"
#include "support/catch_result.hpp"
#include "support/probe.hpp"
#include "support/temp_dir.hpp"

namespace cobrador::store {
namespace {

using testing::Probe;
using testing::TempDir;

constexpr const char* kNow = "2026-11-23T16:00:00Z";
constexpr const char* kLater = "2026-11-23T16:00:30Z";

struct Books {
    TempDir dir;
    std::string path = dir.Ledger();
    Ledger ledger = Open();

    Ledger Open() {
        auto opened = Ledger::Open(path);
        REQUIRE(opened);
        REQUIRE(opened->Migrate());
        return std::move(*opened);
    }

    // A message with `files` from a phone; returns its conversation.
    std::int64_t Receive(const std::string& id, std::vector<MediaRecord> files) {
        return testing::ReceiveFiles(ledger, id, "+525511111111", std::move(files), kNow);
    }
};

// Every byte value, NUL and 0xFF among them, twice.
std::string AllBytes() {
    std::string out;
    for (int round = 0; round < 2; ++round) {
        for (int b = 0; b < 256; ++b) {
            out.push_back(static_cast<char>(b));
        }
    }
    return out;
}

TEST_CASE("Media: recorded with its message, fetched once, kept byte for byte", "[store][media]") {
    Books books;
    const std::int64_t conversation =
        books.Receive("wamid.1",
                      {{"image", false, "1481", "image/jpeg", ""},
                       {"audio", true, "1482", "audio/ogg; codecs=opus", ""}});
    Probe probe(books.path);
    CHECK(probe.Count("SELECT count(*) FROM media WHERE status = 'pending'") == 2);
    CHECK(probe.Count("SELECT count(*) FROM media WHERE conversation_id = " +
                      std::to_string(conversation)) == 2);

    const auto due = books.ledger.DueMedia(kNow, kLater, 10);
    REQUIRE(due);
    REQUIRE(due->size() == 2);
    CHECK((*due)[0].source == "1481");
    CHECK((*due)[0].channel == "whatsapp");
    CHECK((*due)[0].kind == "image");
    CHECK((*due)[1].declared_type == "audio/ogg; codecs=opus");
    CHECK((*due)[0].conversation_id == conversation);
    // Held: another worker finds nothing until the hold runs out.
    const auto again = books.ledger.DueMedia(kNow, kLater, 10);
    REQUIRE(again);
    CHECK(again->empty());

    FetchedMedia stored;
    stored.status = "stored";
    stored.content_type = "image/jpeg";
    stored.sha256 = "ab";
    stored.content = AllBytes();
    stored.size_bytes = static_cast<std::int64_t>(stored.content.size());
    const auto done = books.ledger.CompleteMedia((*due)[0].id, stored, kLater);
    REQUIRE(done);
    CHECK(*done);
    // Settled once: a second worker's answer changes nothing.
    FetchedMedia late = stored;
    late.content = "other";
    const auto twice = books.ledger.CompleteMedia((*due)[0].id, late, kLater);
    REQUIRE(twice);
    CHECK_FALSE(*twice);

    const auto file = books.ledger.Media((*due)[0].id);
    REQUIRE(file);
    REQUIRE(file->has_value());
    CHECK((*file)->content == AllBytes());
    CHECK((*file)->content_type == "image/jpeg");
    CHECK((*file)->status == "stored");
    CHECK((*file)->conversation_id == conversation);
    const auto none = books.ledger.Media(999);
    REQUIRE(none);
    CHECK_FALSE(none->has_value());

    // The voice note: a failure is retried later, then given up, never lost.
    REQUIRE(books.ledger.RetryMedia((*due)[1].id, "HTTP 503", "2026-11-23T16:05:00Z", false));
    const auto early = books.ledger.DueMedia("2026-11-23T16:04:59Z", "2026-11-23T16:06:00Z", 10);
    REQUIRE(early);
    CHECK(early->empty());
    const auto retried = books.ledger.DueMedia("2026-11-23T16:05:00Z", "2026-11-23T16:06:00Z", 10);
    REQUIRE(retried);
    REQUIRE(retried->size() == 1);
    CHECK(retried->front().attempts == 1);
    REQUIRE(books.ledger.RetryMedia(retried->front().id, "HTTP 503", "2026-11-23T17:00:00Z", true));
    CHECK(probe.Text("SELECT status FROM media WHERE id = " + std::to_string((*due)[1].id)) ==
          "failed");
    CHECK(probe.Text("SELECT last_error FROM media WHERE id = " + std::to_string((*due)[1].id)) ==
          "HTTP 503");

    // The transcript lists both with the message, without their bytes.
    const auto lines = books.ledger.Transcript(conversation);
    REQUIRE(lines);
    REQUIRE(lines->size() == 1);
    const auto& media = lines->front().media;
    REQUIRE(media.size() == 2);
    CHECK(media[0].status == "stored");
    CHECK(media[0].content_type == "image/jpeg");
    CHECK(media[0].size_bytes == 512);
    CHECK(media[0].detail.empty());
    CHECK(media[1].status == "failed");
    CHECK(media[1].voice);
    CHECK(media[1].content_type == "audio/ogg; codecs=opus");  // as declared, never fetched
    CHECK(media[1].detail == "HTTP 503");
}

TEST_CASE("Media: what will never be fetched says why, and keeps no bytes", "[store][media]") {
    Books books;
    books.Receive("wamid.2", {{"image", false, "9", "image/jpeg", ""}});
    const auto due = books.ledger.DueMedia(kNow, kLater, 10);
    REQUIRE(due);
    REQUIRE(due->size() == 1);
    FetchedMedia refused;
    refused.status = "refused";
    refused.detail = "the bytes are not a known image, PDF, audio or video format";
    refused.size_bytes = 52;
    REQUIRE(books.ledger.CompleteMedia(due->front().id, refused, kLater));
    Probe probe(books.path);
    CHECK(probe.Count("SELECT count(*) FROM media WHERE content IS NULL AND status = 'refused'") ==
          1);
    const auto file = books.ledger.Media(due->front().id);
    REQUIRE(file);
    REQUIRE(file->has_value());
    CHECK((*file)->content.empty());
    CHECK((*file)->status == "refused");
}

TEST_CASE("Media: a stored receipt is read once and its reading shown with it", "[store][media]") {
    Books books;
    const std::int64_t conversation = books.Receive("wamid.3",
                                                    {{"image", false, "7", "image/jpeg", ""},
                                                     {"audio", true, "8", "audio/ogg", ""},
                                                     {"sticker", false, "9", "image/webp", ""}});
    const auto due = books.ledger.DueMedia(kNow, kLater, 10);
    REQUIRE(due);
    REQUIRE(due->size() == 3);
    for (const MediaJob& job : *due) {
        FetchedMedia stored;
        stored.status = "stored";
        stored.content_type = job.kind == "audio" ? "audio/ogg" : "image/png";
        stored.content = AllBytes();
        stored.size_bytes = 512;
        REQUIRE(books.ledger.CompleteMedia(job.id, stored, kLater));
    }
    // Only the image is a receipt to read: not the voice note, not the sticker.
    const auto unread = books.ledger.UnreadReceipts(10);
    REQUIRE(unread);
    REQUIRE(unread->size() == 1);
    CHECK(unread->front().media_id == (*due)[0].id);
    CHECK(unread->front().content == AllBytes());
    CHECK(unread->front().content_type == "image/png");
    CHECK(unread->front().conversation_id == conversation);

    ReceiptReading reading;
    reading.read = true;
    reading.engine = "ocr";
    reading.text = "Importe: $1,500.00";
    reading.clave_rastreo = "MBANO1002611230012345678";
    reading.amount_cents = 150000;
    reading.operation_date = "2026-11-23";
    const auto kept = books.ledger.RecordReceipt((*due)[0].id, reading, kLater);
    REQUIRE(kept);
    CHECK(*kept);
    const auto again = books.ledger.RecordReceipt((*due)[0].id, reading, kLater);
    REQUIRE(again);
    CHECK_FALSE(*again);  // a second reader's reading is not kept
    const auto none = books.ledger.UnreadReceipts(10);
    REQUIRE(none);
    CHECK(none->empty());

    const auto lines = books.ledger.Transcript(conversation);
    REQUIRE(lines);
    const auto& media = lines->front().media;
    REQUIRE(media.size() == 3);
    REQUIRE(media[0].receipt);
    CHECK(media[0].receipt->read);
    CHECK(media[0].receipt->amount_cents == 150000);
    CHECK(media[0].receipt->clave_rastreo == "MBANO1002611230012345678");
    CHECK(media[0].receipt->operation_date == "2026-11-23");
    CHECK(media[0].receipt->reference.empty());
    CHECK_FALSE(media[1].receipt);
}

}  // namespace
}  // namespace cobrador::store
