#pragma once
// WhatsApp Cloud API (Meta): the webhook (handshake, signature, payloads) and the send request.
// Pure functions over bytes; no I/O; safe from any thread. See shared/domain/channels.md §1-2.

#include <optional>
#include <string>
#include <string_view>

#include <boost/system/result.hpp>

#include "channels/http_call.hpp"
#include "channels/message.hpp"

namespace cobrador::channels {

struct WhatsAppCredentials {
    std::string api_base;         // "https://graph.facebook.com/v21.0" (http:// allowed for tests)
    std::string access_token;     // Bearer token
    std::string phone_number_id;  // sender id
};

// The GET handshake. `query` is the raw query string ("hub.mode=subscribe&hub.challenge=...").
// Returns the challenge to echo (200) when hub.mode is "subscribe" and hub.verify_token equals
// `verify_token` (constant-time); nullopt otherwise (403). An empty verify_token never matches.
std::optional<std::string> WhatsAppHandshake(std::string_view query, std::string_view verify_token);

// Verifies X-Hub-Signature-256 over the raw body with `app_secret`, then parses every entry,
// change, message and status. Unknown fields and unknown message types are kept (kind = the
// type name), never an error. Messages from a wa_id that is not a phone keep the raw id in
// `from`. kBadSignature before any parsing; kMalformed for a body that is not the envelope
// ({"object": ..., "entry": [...]}).
boost::system::result<WebhookBatch, WebhookError> ParseWhatsAppWebhook(
    std::string_view body, std::string_view signature_header, std::string_view app_secret);

// Renders `message` as the Graph API request POST {api_base}/{phone_number_id}/messages with
// the Bearer token. Enforces the limits of channels.md §2.2 (text <= 4096; <= 3 buttons with
// titles <= 20 and unique; list <= 10 rows, title <= 24, description <= 72, button <= 20;
// body with buttons <= 1024): a message over a limit is an error here, not at Meta.
boost::system::result<HttpCall, std::string> RenderWhatsApp(const OutboundMessage& message,
                                                            const WhatsAppCredentials& creds);

// Reads Meta's answer to a send: 200 with messages[0].id is kSent; 429, 5xx, and error codes
// 130429, 131000, 131056, 131057, 4, 80007 are kRetry; everything else is kPermanent with the
// error code (131047, 131026, ...).
SendOutcome InterpretWhatsAppResponse(unsigned status,
                                      std::string_view body,
                                      std::string_view retry_after_header = {});

}  // namespace cobrador::channels
