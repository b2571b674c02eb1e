#include "inbound_worker.hpp"

#include <boost/asio/post.hpp>

#include "bot/log.hpp"
#include "dialogs/vocabulary.hpp"

#include "conversation.hpp"
#include "webhook_records.hpp"

namespace cobrador::bot {

namespace net = boost::asio;

namespace {
// Events per group. On PostgreSQL a group's commit and its CPU burst delay the webhook writes
// committing beside it: smaller groups keep their acknowledgement's tail short
// (docs/performance.md).
constexpr std::size_t kInboundBatch = 64;
constexpr std::size_t kInboundBatchPostgres = 16;
}  // namespace

InboundWorker::InboundWorker(Services& services, net::io_context& ioc)
    : s_(services), strand_(net::make_strand(ioc)), retry_(strand_) {}

void InboundWorker::Schedule() {
    if (!scheduled_.exchange(true)) {
        s_.ledger.Post([this](store::Ledger& ledger) { Drain(ledger); });
    }
}

void InboundWorker::Stop() {
    net::post(strand_, [this] { retry_.cancel(); });
}

void InboundWorker::Drain(store::Ledger& ledger) {
    scheduled_ = false;
    const std::size_t batch = ledger.GroupsCommits() ? kInboundBatch : kInboundBatchPostgres;
    auto pending = ledger.PendingInboundEvents(batch);
    if (!pending) {
        RetryLater(pending.error(), ledger.LastError());
        return;
    }

    struct Handled {
        std::int64_t conversation;
        std::string channel;
        std::string intent;
    };

    std::vector<Handled> handled;
    boost::system::error_code failed;
    std::string failed_detail;
    bool instrument = false;  // a turn asked for a payment instrument
    bool media = false;       // a message carried files to fetch

    // Handles `event`; false when it failed (it and what follows wait for the retry).
    const auto handle_one = [&](const store::PendingInbound& event) {
        // On WhatsApp the answer quotes the message it answers.
        const bool whatsapp =
            dialogs::FromString<dialogs::Channel>(event.channel) == dialogs::Channel::kWhatsApp;
        // The typed fields the webhook stored; an event from before they existed is read from
        // its payload.
        const TurnInput input{event.text ? *event.text : PayloadText(event.payload),
                              event.reply_id ? *event.reply_id : PayloadReplyId(event.payload),
                              whatsapp ? event.provider_event_id : "",
                              event.kind};
        const auto now = std::chrono::system_clock::now();
        // The dialog reads every message, also while a collector holds the conversation (then
        // only an opt-out, opt-in or wrong number is acted on).
        std::string intent = "none";
        store::PendingInbound with_media = event;
        with_media.media = PayloadMedia(event.payload);
        media = media || !with_media.media.empty();
        auto conversation = ledger.HandleInbound(
            with_media,
            input.text,
            [&](const dialogs::ConversationView& view) {
                store::DialogTurn turn = Decide(view, input, s_.dialog, s_.config, now);
                intent = turn.intent;
                for (const dialogs::Command& command : turn.commands) {
                    instrument =
                        instrument || std::holds_alternative<dialogs::InstrumentRequested>(command);
                }
                return turn;
            },
            s_.config.Now(now));
        if (!conversation) {
            failed = conversation.error();
            failed_detail = ledger.LastError();
            return false;
        }
        handled.push_back({*conversation, event.channel, intent});
        return true;
    };

    // Handles the batch from `first` on, stopping at the first that fails.
    const auto handle_from = [&](std::size_t first) {
        for (std::size_t i = first; i < pending->size(); ++i) {
            if (!handle_one((*pending)[i])) {
                return;
            }
        }
    };

    // The batch in one transaction, one commit for all. When a turn in it fails, SQLite keeps
    // the ones before it (each has its savepoint); PostgreSQL rolls the whole group back (a
    // serialization conflict with a collector or a payment, say). Either way what was not kept
    // is tried again at once, each event in a transaction of its own, and the first that still
    // fails stops there: it and the rest wait for the retry, so no debtor's messages are
    // answered out of order.
    auto committed = ledger.InOneTransaction([&] {
        handled.clear();  // a group run again starts again
        handle_from(0);
    });
    if (!committed || failed) {
        if (!committed) {
            handled.clear();  // the group did not become durable
        }
        failed = {};
        handle_from(handled.size());
    }
    for (const Handled& h : handled) {
        s_.events.Publish(h.conversation, "message");
        s_.metrics.Count("cobrador_inbound_processed_total", "channel=\"" + h.channel + "\"");
        s_.metrics.Count("cobrador_dialog_turns_total", "intent=\"" + h.intent + "\"");
    }
    if (!handled.empty()) {
        s_.wake_dispatcher();
    }
    if (instrument) {
        s_.wake_provider_worker();  // a turn that did not commit leaves nothing: a wasted look
    }
    if (media) {
        s_.wake_media_worker();
    }
    if (failed) {
        RetryLater(failed, failed_detail);
        return;
    }
    if (pending->size() == batch) {
        // More are waiting: queue behind whatever else waits for the ledger's thread (webhooks
        // to acknowledge above all) rather than holding it batch after batch.
        Schedule();
    }
}

void InboundWorker::RetryLater(const boost::system::error_code& error, const std::string& detail) {
    Log(LogLevel::kError,
        "inbound processing failed; retrying in 1 s",
        {{"error", error.message()}, {"detail", detail}});
    net::post(strand_, [this] {
        retry_.expires_after(std::chrono::seconds(1));
        retry_.async_wait([this](const boost::system::error_code& e) {
            if (!e && !s_.stopping) {
                Schedule();
            }
        });
    });
}

}  // namespace cobrador::bot
