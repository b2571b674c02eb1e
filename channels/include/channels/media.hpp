#pragma once
// Fetching the files debtors send (receipts, voice notes), rendered as requests and read back
// as pure functions; the media worker (bot/src/media_worker.cpp) sends them off the webhook's
// path.
//
// WhatsApp (Cloud API): GET {api_base}/{media-id} with the access token answers
// {"url","mime_type","sha256","file_size","id"}; the url is good for about 5 minutes and is
// fetched with the same Bearer token. Media ids in webhooks expire after 7 days.
// Twilio: MediaUrlN is fetched with the account's Basic credentials (Twilio may answer with a
// redirect to short-lived storage, followed without the credentials).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "channels/http_call.hpp"

namespace cobrador::channels {

// image, document, audio or video, from a declared or sniffed content type.
std::string MediaKindOf(std::string_view content_type);

// What the Graph API said about a media id.
struct MediaInfo {
    std::string url;
    std::string mime_type;
    std::string sha256;                // hex (or base64) of the file, when given
    std::optional<std::int64_t> size;  // file_size, when given
};

// GET {api_base}/{media_id}; nullopt for an id that is not a plain Graph id (nothing is sent).
std::optional<HttpCall> WhatsAppMediaInfoCall(std::string_view api_base,
                                              std::string_view access_token,
                                              std::string_view media_id);
// nullopt, with `why`, for an answer without an http(s) url.
std::optional<MediaInfo> ParseWhatsAppMediaInfo(std::string_view body, std::string& why);
// GET the url the Graph API gave, with the token.
HttpCall WhatsAppMediaDownloadCall(std::string_view url, std::string_view access_token);

// GET a Twilio MediaUrl with Basic sid:token; nullopt (with `why`) when the url is not on the
// configured API's host: the account's credentials go nowhere else.
std::optional<HttpCall> TwilioMediaCall(std::string_view api_base,
                                        std::string_view account_sid,
                                        std::string_view auth_token,
                                        std::string_view url,
                                        std::string& why);

// The content type the bytes themselves show (magic numbers): image/jpeg, image/png,
// image/webp, image/gif, application/pdf, audio/ogg, audio/mpeg, audio/amr, audio/aac,
// video/mp4 (also audio in an MP4 box), video/3gpp; "" for anything else (HTML, text, unknown).
std::string SniffContentType(std::string_view bytes);

// Whether bytes sniffed as `sniffed` may stand for a file declared as `kind`: an image is an
// image, a document is a PDF or an image, audio is audio (or MP4/3GPP/OGG audio), video is video.
bool ContentFitsKind(std::string_view kind, std::string_view sniffed);

// Whether `bytes` hash to `declared` (SHA-256 as hex or base64); true when nothing is declared.
bool Sha256Matches(std::string_view bytes, std::string_view declared);

}  // namespace cobrador::channels
