#pragma once
// What the ledger stores of the conversation's traffic: webhook events as received, the
// outbox of messages to send, and delivery statuses. Value types only.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "dialogs/dialog.hpp"

namespace cobrador::store {

// One inbound message from a provider webhook, before any dialog work.
struct InboundRecord {
    std::string channel;            // whatsapp, sms, sandbox
    std::string provider_event_id;  // wamid... / SM...: unique; a repeat changes nothing
    std::string kind;               // text, interactive, image, ...
    std::string phone;              // E.164 (or the provider's raw id)
    std::string payload;            // JSON: text, reply_id, context_id, raw, ...
    // What the dialog reads, parsed once from the provider's body.
    std::string text;
    std::string reply_id;    // the chosen button or list row
    std::string context_id;  // the provider id of our message this one answers
};

// One delivery status from a provider webhook.
struct StatusRecord {
    std::string channel;
    std::string provider_message_id;
    std::string status;  // queued, sent, delivered, read, failed
    std::string error_code;
    std::string error_title;
    std::string reported_at;  // the provider's time, ISO 8601 UTC
};

struct WebhookOutcome {
    std::size_t messages_new = 0;
    std::size_t messages_duplicate = 0;
    std::size_t statuses_new = 0;
    std::size_t statuses_duplicate = 0;
};

// A file an inbound message carries, recorded with the message and fetched later.
struct MediaRecord {
    std::string kind;  // image, document, audio, video, sticker
    bool voice = false;
    std::string source;  // the WhatsApp media id, or the Twilio media URL
    std::string declared_type;
    std::string filename;
};

// An inbound event not yet handled by the dialog, oldest first.
struct PendingInbound {
    std::int64_t id = 0;
    std::string channel;
    std::string provider_event_id;
    std::string kind;
    std::string phone;
    std::string payload;
    std::string received_at;
    // The typed fields; nullopt for events stored by a version that kept them only in the
    // payload.
    std::optional<std::string> text;
    std::optional<std::string> reply_id;
    // The files it carries: filled by the caller from the payload before HandleInbound, which
    // records them with the message.
    std::vector<MediaRecord> media = {};
};

// A file due to be fetched from its provider.
struct MediaJob {
    std::int64_t id = 0;
    std::string channel;  // whatsapp, sms
    std::string kind;
    std::string source;
    std::string declared_type;
    int attempts = 0;
    std::int64_t conversation_id = 0;
};

// What fetching a file came to: 'stored' with its bytes, or why it never will be
// ('expired', 'too_large', 'refused'), with a detail for the collector and the operator.
struct FetchedMedia {
    std::string status;
    std::string content_type;  // sniffed from the bytes
    std::string sha256;        // hex, of the bytes stored
    std::string content;
    std::int64_t size_bytes = 0;
    std::string detail;
};

// What checking a receipt came to, as the transcript shows it.
struct ReceiptCheck {
    std::string status;      // pending, confirmed, unconfirmed
    std::string outcome;     // applied, suspense, duplicate; not_found, incomplete, not_ours, ...
    std::string detail;      // for the person who checks it
    std::string payment_id;  // the payment, once confirmed
};

// What a receipt said: its text, and the fields read from it (dialogs::ReadReceipt), or why
// it could not be read.
struct ReceiptReading {
    bool read = false;
    std::string engine;  // ocr, pdf_text
    std::string text;
    std::string error;
    std::string clave_rastreo;
    std::optional<std::int64_t> amount_cents;
    std::string operation_date;  // YYYY-MM-DD, or empty
    std::string sending_bank;
    std::string beneficiary_account;
    std::string reference;
    std::string payment_concept;
    std::string beneficiary_name;
    std::optional<ReceiptCheck> check = {};  // its confirmation with the CEP, when asked for
};

// A receipt waiting to be confirmed with Banxico's CEP (receipt_checks).
struct ReceiptCheckJob {
    std::int64_t id = 0;  // receipt_checks.id
    std::int64_t media_id = 0;
    std::int64_t conversation_id = 0;
    int attempts = 0;
    ReceiptReading reading;
};

// A stored receipt (an image or a document) that has not been read yet.
struct UnreadReceipt {
    std::int64_t media_id = 0;
    std::int64_t conversation_id = 0;
    std::string content_type;
    std::string content;
};

// A file as the transcript lists it (without its bytes).
struct MediaItem {
    std::int64_t id = 0;
    std::string kind;
    bool voice = false;
    std::string status;        // pending, stored, failed, expired, too_large, refused
    std::string content_type;  // sniffed; the declared one until it is stored
    std::string filename;
    std::int64_t size_bytes = 0;
    std::string detail;                          // why it is not stored
    std::optional<ReceiptReading> receipt = {};  // what a receipt said, once read
};

// A stored file, to serve to a collector.
struct MediaFile {
    std::int64_t id = 0;
    std::int64_t conversation_id = 0;
    std::string kind;
    std::string status;
    std::string content_type;
    std::string filename;
    std::string content;
};

// What the bot decided to send in answer to one inbound event.
struct Reply {
    std::string body;     // the text, as the debtor will read it (the transcript keeps it)
    std::string payload;  // JSON of the channel-neutral message (buttons, list, template)
};

// What the dialog decided for one inbound message: its new state, the ledger commands, and the
// replies already rendered for the channel. The store applies all of it in one transaction.
struct DialogTurn {
    std::string dialog_state;  // dialogs::ToJson(state)
    std::vector<dialogs::Command> commands;
    std::vector<Reply> replies;
    std::string intent;  // for the audit trail of commands; may be empty
};

// Called inside the transaction, with the conversation as stored: its debtor and accounts,
// open promises and plans, opt-outs and the dialog's state. Must not touch the ledger.
using DecideFn = std::function<DialogTurn(const dialogs::ConversationView&)>;

// A row of the outbox that is due.
struct OutboxItem {
    std::int64_t id = 0;
    std::int64_t message_id = 0;
    std::int64_t conversation_id = 0;
    std::string channel;
    std::string recipient;
    std::string payload;
    int attempts = 0;
    std::string created_at;
    std::string contact_timezone;  // a message we started: send only inside contact hours there
    std::int64_t lease = 0;        // the claim's token: what records of this send must show
};

struct OutboxStats {
    std::int64_t pending = 0;
    std::int64_t failed = 0;
    double oldest_pending_seconds = 0;  // age of the oldest pending row at `now`
    std::int64_t inbound_pending = 0;   // webhook messages stored, not yet handled
};

// One line of a conversation's transcript.
struct TranscriptLine {
    std::int64_t message_id = 0;
    std::string direction;  // in, out
    std::string author;     // debtor, bot, agent:<id>, system
    std::string body;
    std::string status;  // received, queued, sent, delivered, read, failed
    std::string error_code;
    std::string created_at;
    std::vector<MediaItem> media = {};  // the files an inbound message carried
};

}  // namespace cobrador::store
