#pragma once
// Twilio Programmable Messaging (SMS): inbound webhooks and status callbacks (form-encoded,
// X-Twilio-Signature) and the send request. Pure functions; safe from any thread.
// See shared/domain/channels.md §3-4.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/system/result.hpp>

#include "channels/http_call.hpp"
#include "channels/message.hpp"

namespace cobrador::channels {

struct TwilioCredentials {
    std::string api_base;             // "https://api.twilio.com" (http:// allowed for tests)
    std::string account_sid;          // AC...
    std::string auth_token;           // also the webhook signing key
    std::string from;                 // our E.164 sender
    std::string status_callback_url;  // COBRADOR_PUBLIC_URL + "/webhooks/twilio/status"
};

// Decodes an application/x-www-form-urlencoded body ('+' is a space, %XX escapes) into
// name/value pairs in order. nullopt for a malformed escape or invalid UTF-8.
std::optional<std::vector<std::pair<std::string, std::string>>> ParseForm(std::string_view body);

// base64(HMAC-SHA1(auth_token, url + every name+value sorted by name, then value)).
std::string TwilioSignature(std::string_view url,
                            const std::vector<std::pair<std::string, std::string>>& params,
                            std::string_view auth_token);

// Verifies X-Twilio-Signature against `url` (COBRADOR_PUBLIC_URL + path + query, exactly as
// Twilio requested it; the variants with and without the default port are also accepted, as
// Twilio's own libraries do) and parses an inbound message (MessageSid + From + Body, kind
// "text"; with NumMedia > 0 the files in `media` and the kind of the first: image, document,
// audio, video) or a status callback (MessageStatus). An empty
// auth_token never verifies.
boost::system::result<WebhookBatch, WebhookError> ParseTwilioWebhook(
    std::string_view body,
    std::string_view signature_header,
    std::string_view url,
    std::string_view auth_token);

// The SMS body a message becomes: its text, then buttons and list rows as numbered options
// ("1. Ver saldo") on their own lines, so that a reply "2" picks the second.
std::string SmsText(const OutboundMessage& message);

// Renders POST {api_base}/2010-04-01/Accounts/{sid}/Messages.json, form-encoded, Basic auth,
// with To, From, Body and StatusCallback. Buttons and list rows become numbered options
// ("1. Ver saldo") on their own lines after the text. Body over 1600 characters is an error.
boost::system::result<HttpCall, std::string> RenderTwilio(const OutboundMessage& message,
                                                          const TwilioCredentials& creds);

// 201 with "sid" is kSent; 429, 5xx and error 20429 are kRetry (Retry-After in seconds, when
// given, becomes retry_after); anything else kPermanent with
// the code (21610 opted out, 21211 invalid To, ...).
SendOutcome InterpretTwilioResponse(unsigned status,
                                    std::string_view body,
                                    std::string_view retry_after_header = {});

// The number of SMS segments `text` costs: GSM-7 160/153 per segment, UCS-2 70/67 (one
// character outside GSM-7, like á, makes it all UCS-2; GSM extension characters cost 2).
int SmsSegments(std::string_view text);

}  // namespace cobrador::channels
