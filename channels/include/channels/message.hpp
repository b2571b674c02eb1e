#pragma once
// Channel-neutral messages: what the providers' webhooks turn into, and what the bot asks a
// provider to send. Value types; safe to copy between threads.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "channels/channel.hpp"

namespace cobrador::channels {

// A file a message carries: fetched later by the media worker (channels/media.hpp), never on
// the webhook's path.
struct MediaRef {
    std::string kind;       // image, document, audio, video, sticker
    std::string id;         // WhatsApp: the media id to ask the Graph API for
    std::string url;        // Twilio: MediaUrlN, fetched with the account's credentials
    std::string mime_type;  // as the provider declared it (checked against the bytes later)
    std::string filename;   // documents, when given
    bool voice = false;     // a WhatsApp voice note (audio recorded in the chat)
};

// One message a debtor sent us.
struct InboundMessage {
    Channel channel = Channel::kWhatsApp;
    std::string provider_message_id;  // wamid... / SM...: the idempotency key
    std::string from;                 // normalized E.164 ("+525512345678"); raw id if not a phone
    std::string to;                   // our number or phone_number_id, as the provider gave it
    std::string profile_name;         // WhatsApp profile name, when given
    // text, interactive, button, image, document, audio, video, sticker, location, contacts,
    // reaction, unsupported, or the provider's own type name for anything newer.
    std::string kind;
    std::string text;             // text body, caption, or the title of the chosen button/row
    std::string reply_id;         // id of the chosen reply button / list row, or a template payload
    std::string context_id;       // the provider id of our message this one answers, if any
    std::int64_t timestamp = 0;   // Unix seconds, as the provider says (0 when not given)
    std::string raw;              // this message's own JSON (WhatsApp) or form fields as JSON (SMS)
    std::vector<MediaRef> media;  // the files it carries (WhatsApp: at most one; MMS: up to 10)
};

// A delivery status of a message we sent.
struct StatusUpdate {
    Channel channel = Channel::kWhatsApp;
    std::string provider_message_id;  // the id the provider gave our message when we sent it
    // Normalized: "sent", "delivered", "read" or "failed" (Twilio "undelivered" is "failed";
    // Twilio "queued"/"sending"/"accepted"/"scheduled" are "queued").
    std::string status;
    std::string error_code;   // provider error code as text ("131047", "30003"), empty if none
    std::string error_title;  // provider's short description; never contains secrets
    std::int64_t timestamp = 0;
    std::string recipient;  // normalized E.164 when it parses
};

struct WebhookBatch {
    std::vector<InboundMessage> messages;
    std::vector<StatusUpdate> statuses;
};

enum class WebhookError {
    kBadSignature,  // missing or wrong signature: answer 401, store nothing
    kMalformed,     // signature fine but the body does not parse: answer 400
};

struct ReplyButton {
    std::string id;     // <= 256 bytes; comes back as InboundMessage::reply_id
    std::string title;  // <= 20 characters on WhatsApp
};

struct ListRow {
    std::string id;           // <= 200 bytes
    std::string title;        // <= 24 characters
    std::string description;  // <= 72 characters, optional
};

struct TemplateCall {
    std::string name;                     // approved template name
    std::string language;                 // e.g. "es_MX"
    std::vector<std::string> parameters;  // body {{1}}, {{2}}, ... as text
};

// What the bot wants said. Exactly one of: plain text, text + buttons, text + list, template.
// Each channel renders what it can: SMS turns buttons and list rows into numbered options.
struct OutboundMessage {
    Channel channel = Channel::kWhatsApp;
    std::string to;    // E.164
    std::string text;  // the body (for a template: the text to show in our transcript)
    std::vector<ReplyButton> buttons;  // up to 3
    std::vector<ListRow> list;         // up to 10
    std::string list_button;           // the list's open-button label, <= 20 characters
    std::optional<TemplateCall> template_call;
    std::string reply_to;  // provider id of the message this answers (WhatsApp context), optional
};

}  // namespace cobrador::channels
