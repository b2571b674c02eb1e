#pragma once
// Messages from debtors, received and handled, for the store tests: a text, or files sent to a
// dialog that answers nothing. Each returns its conversation.

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "store/ledger.hpp"

namespace cobrador::testing {

// "hola" from `phone` on the sandbox channel, recorded and handled by `decide`; returns its
// conversation.
inline std::int64_t ReceiveText(store::Ledger& ledger,
                                const std::string& id,
                                const std::string& phone,
                                const store::DecideFn& decide,
                                const std::string& now) {
    REQUIRE(ledger.RecordWebhook(
        {{"sandbox", id, "text", phone, "{\"text\":\"hola\"}", "hola", "", ""}}, {}, now));
    const auto pending = ledger.PendingInboundEvents(10);
    REQUIRE(pending);
    REQUIRE(pending->size() == 1);
    const auto handled = ledger.HandleInbound(pending->front(), "hola", decide, now);
    REQUIRE(handled);
    return *handled;
}

inline std::int64_t ReceiveFiles(store::Ledger& ledger,
                                 const std::string& wamid,
                                 const std::string& phone,
                                 std::vector<store::MediaRecord> files,
                                 const std::string& now) {
    REQUIRE(ledger.RecordWebhook(
        {{"whatsapp", wamid, "image", phone, "{\"text\":\"\"}", "", "", ""}}, {}, now));
    auto pending = ledger.PendingInboundEvents(10);
    REQUIRE(pending);
    REQUIRE(pending->size() == 1);
    store::PendingInbound event = pending->front();
    event.media = std::move(files);
    const auto handled = ledger.HandleInbound(
        event,
        "",
        [](const dialogs::ConversationView&) {
            store::DialogTurn turn;
            turn.dialog_state = "{}";
            return turn;
        },
        now);
    REQUIRE(handled);
    return *handled;
}

// A receipt image from `phone`, fetched, stored and read as `reading`, waiting to be confirmed
// with the CEP; returns its check's id.
inline std::int64_t ReceiptToCheck(store::Ledger& ledger,
                                   const std::string& wamid,
                                   const std::string& phone,
                                   const store::ReceiptReading& reading,
                                   const std::string& now) {
    ReceiveFiles(ledger, wamid, phone, {{"image", false, "media-" + wamid, "image/jpeg", ""}}, now);
    const auto due = ledger.DueMedia(now, now, 10);
    REQUIRE(due);
    REQUIRE(due->size() == 1);
    store::FetchedMedia stored;
    stored.status = "stored";
    stored.content_type = "image/png";
    stored.sha256 = "ab";
    stored.content = "png";
    stored.size_bytes = 3;
    REQUIRE(ledger.CompleteMedia(due->front().id, stored, now));
    REQUIRE(ledger.RecordReceipt(due->front().id, reading, now, true));
    const auto checks = ledger.DueReceiptChecks(now, "2999-01-01T00:00:00Z", 10);
    REQUIRE(checks);
    REQUIRE(checks->size() == 1);
    CHECK(checks->front().reading.clave_rastreo == reading.clave_rastreo);
    CHECK(checks->front().reading.amount_cents == reading.amount_cents);
    return checks->front().id;
}

}  // namespace cobrador::testing
