// Fetching debtors' files: the Graph API's two steps, Twilio's media URL, and what the bytes
// really are (channels/media.hpp).

#include "channels/media.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include <boost/url/parse.hpp>
#include <nlohmann/json.hpp>

#include "channels/signature.hpp"
#include "dialogs/json_text.hpp"

#include "common.hpp"
#include "payments_common.hpp"

namespace cobrador::channels {

namespace {

using json = nlohmann::json;

bool StartsWith(std::string_view bytes, std::string_view prefix) {
    return bytes.substr(0, prefix.size()) == prefix;
}

// The lower-cased scheme and host of an absolute http(s) url, "" when it is not one.
std::pair<std::string, std::string> SchemeAndHost(std::string_view url) {
    const auto parsed = boost::urls::parse_absolute_uri(url);
    if (!parsed || !parsed->has_authority()) {
        return {};
    }
    std::string scheme(parsed->scheme());
    std::string host(parsed->encoded_host());
    if (parsed->has_port()) {
        host += ":" + std::string(parsed->port());
    }
    for (std::string* s : {&scheme, &host}) {
        std::transform(s->begin(), s->end(), s->begin(), [](unsigned char c) {
            return static_cast<char>(std::tolower(c));
        });
    }
    if ((scheme != "https" && scheme != "http") || host.empty()) {
        return {};
    }
    return {scheme, host};
}

// http:// or https:// as written (a client that compares schemes as text sees the same).
bool PlainHttp(std::string_view url) {
    return url.rfind("https://", 0) == 0 || url.rfind("http://", 0) == 0;
}

bool NoControls(std::string_view text) {
    return std::none_of(text.begin(), text.end(), [](char c) {
        return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f;
    });
}

}  // namespace

std::string MediaKindOf(std::string_view content_type) {
    const std::string_view type = content_type.substr(0, content_type.find(';'));
    if (StartsWith(type, "image/")) {
        return "image";
    }
    if (StartsWith(type, "audio/")) {
        return "audio";
    }
    if (StartsWith(type, "video/")) {
        return "video";
    }
    return "document";
}

std::optional<HttpCall> WhatsAppMediaInfoCall(std::string_view api_base,
                                              std::string_view access_token,
                                              std::string_view media_id) {
    if (!provider::UrlSafe(media_id)) {
        return std::nullopt;
    }
    return provider::Get(api_base,
                         "/" + std::string(media_id),
                         {{"Authorization", "Bearer " + std::string(access_token)}});
}

std::optional<MediaInfo> ParseWhatsAppMediaInfo(std::string_view body, std::string& why) {
    const json answer = dialogs::ParseJsonText(body);
    if (answer.is_discarded() || !answer.is_object()) {
        why = "the media answer is not a JSON object";
        return std::nullopt;
    }
    MediaInfo info;
    info.url = provider::Text(answer, "url");
    if (!PlainHttp(info.url) || SchemeAndHost(info.url).first.empty() || !NoControls(info.url) ||
        info.url.size() > 4096) {
        why = "the media answer carries no http(s) url";
        return std::nullopt;
    }
    info.mime_type = provider::Text(answer, "mime_type");
    info.sha256 = provider::Text(answer, "sha256");
    // file_size comes as a string ("303833") and, in some SDKs' types, as a number.
    if (const auto it = answer.find("file_size"); it != answer.end()) {
        if (it->is_number_unsigned()) {
            info.size = static_cast<std::int64_t>(
                std::min<std::uint64_t>(it->get<std::uint64_t>(), INT64_MAX));
        } else if (it->is_string()) {
            info.size = detail::ParseInt(it->get<std::string>());
        }
        if (info.size && *info.size < 0) {
            info.size.reset();
        }
    }
    return info;
}

HttpCall WhatsAppMediaDownloadCall(std::string_view url, std::string_view access_token) {
    HttpCall call;
    call.method = "GET";
    call.url = std::string(url);
    call.headers = {{"Authorization", "Bearer " + std::string(access_token)}};
    return call;
}

std::optional<HttpCall> TwilioMediaCall(std::string_view api_base,
                                        std::string_view account_sid,
                                        std::string_view auth_token,
                                        std::string_view url,
                                        std::string& why) {
    const auto [scheme, host] = SchemeAndHost(url);
    const auto [base_scheme, base_host] = SchemeAndHost(api_base);
    if (!PlainHttp(url) || scheme.empty() || !NoControls(url) || url.size() > 4096) {
        why = "the media url is not an http(s) url";
        return std::nullopt;
    }
    if (host != base_host || scheme != base_scheme) {
        why = "the media url is not on Twilio's API host (" + base_host + ")";
        return std::nullopt;
    }
    HttpCall call;
    call.method = "GET";
    call.url = std::string(url);
    call.headers = {
        {"Authorization",
         "Basic " + detail::Base64(std::string(account_sid) + ":" + std::string(auth_token))}};
    return call;
}

std::string SniffContentType(std::string_view b) {
    if (StartsWith(b, "\xFF\xD8\xFF")) {
        return "image/jpeg";
    }
    if (StartsWith(b, "\x89PNG\r\n\x1A\n")) {
        return "image/png";
    }
    if (StartsWith(b, "GIF87a") || StartsWith(b, "GIF89a")) {
        return "image/gif";
    }
    if (b.size() >= 12 && StartsWith(b, "RIFF") && b.substr(8, 4) == "WEBP") {
        return "image/webp";
    }
    if (StartsWith(b, "%PDF-")) {
        return "application/pdf";
    }
    if (StartsWith(b, "OggS")) {
        return "audio/ogg";
    }
    if (StartsWith(b, "#!AMR")) {
        return "audio/amr";
    }
    if (StartsWith(b, "ID3") || (b.size() >= 2 && static_cast<unsigned char>(b[0]) == 0xFF &&
                                 (static_cast<unsigned char>(b[1]) & 0xF6) == 0xF2)) {
        return "audio/mpeg";  // an ID3 tag, or an MPEG audio frame sync (layer III or II)
    }
    if (b.size() >= 2 && static_cast<unsigned char>(b[0]) == 0xFF &&
        (static_cast<unsigned char>(b[1]) & 0xF6) == 0xF0) {
        return "audio/aac";  // ADTS
    }
    if (b.size() >= 12 && b.substr(4, 4) == "ftyp") {
        const std::string_view brand = b.substr(8, 3);
        return brand == "3gp" || brand == "3g2" ? "video/3gpp" : "video/mp4";
    }
    return "";
}

bool ContentFitsKind(std::string_view kind, std::string_view sniffed) {
    if (sniffed.empty()) {
        return false;
    }
    const std::string family = MediaKindOf(sniffed);
    if (kind == "image" || kind == "sticker") {
        return family == "image";
    }
    if (kind == "document") {
        return sniffed == "application/pdf" || family == "image";
    }
    if (kind == "audio") {
        // Voice notes are OGG/Opus; iPhones' audio comes in MP4/3GPP boxes.
        return family == "audio" || sniffed == "video/mp4" || sniffed == "video/3gpp";
    }
    if (kind == "video") {
        return family == "video";
    }
    return false;
}

bool Sha256Matches(std::string_view bytes, std::string_view declared) {
    if (declared.empty()) {
        return true;
    }
    const std::string hex = Sha256Hex(bytes);
    if (declared.size() == 64) {
        std::string lower(declared);
        std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) {
            return static_cast<char>(std::tolower(c));
        });
        return ConstantTimeEquals(lower, hex);
    }
    // Base64 of the 32 bytes.
    std::string raw;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        raw.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    }
    return ConstantTimeEquals(declared, detail::Base64(raw));
}

}  // namespace cobrador::channels
