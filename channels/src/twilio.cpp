// Twilio Programmable Messaging: form-encoded webhooks and their X-Twilio-Signature
// (channels.md §3), the Messages.json request (§4) and Twilio's answers.

#include "channels/twilio.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <boost/url/params_encoded_view.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/parse_query.hpp>
#include <boost/url/url.hpp>
#include <nlohmann/json.hpp>

#include "channels/media.hpp"
#include "channels/signature.hpp"
#include "dialogs/json_text.hpp"

#include "common.hpp"

namespace cobrador::channels {

namespace {

using json = nlohmann::json;
using Params = std::vector<std::pair<std::string, std::string>>;

constexpr std::int64_t kMaxMmsMedia = 10;  // Twilio's own limit per message

bool ValidUtf8(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        std::size_t extra = 0;
        std::uint32_t cp = 0;
        if (c < 0x80) {
            ++i;
            continue;
        }
        if ((c & 0xE0) == 0xC0) {
            extra = 1;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            extra = 2;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            extra = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + extra >= text.size()) {
            return false;  // cut short
        }
        for (std::size_t k = 1; k <= extra; ++k) {
            const auto cc = static_cast<unsigned char>(text[i + k]);
            if ((cc & 0xC0) != 0x80) {
                return false;
            }
            cp = (cp << 6) | (cc & 0x3F);
        }
        // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8.
        if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) ||
            (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return false;
        }
        i += extra + 1;
    }
    return true;
}

std::string Field(const Params& params, std::string_view name) {
    for (const auto& [key, value] : params) {
        if (key == name) {
            return value;
        }
    }
    return {};
}

// Twilio's status names in ours (message.hpp).
std::string NormalizedStatus(const std::string& status) {
    if (status == "undelivered" || status == "failed" || status == "canceled") {
        return "failed";
    }
    if (status == "queued" || status == "sending" || status == "accepted" ||
        status == "scheduled") {
        return "queued";
    }
    if (status == "partially_delivered") {
        return "delivered";
    }
    return status;  // sent, delivered, read, received, ...
}

// The URL as given, and with the default port added or removed: Twilio's own libraries accept
// either, "since signature generation on the back end is inconsistent" (channels.md §3.2).
std::vector<std::string> UrlVariants(std::string_view url) {
    std::vector<std::string> out = {std::string(url)};
    auto parsed = boost::urls::parse_uri_reference(url);
    if (!parsed || !parsed->has_authority()) {
        return out;
    }
    boost::urls::url u(*parsed);
    const std::string scheme(u.scheme());
    const std::string default_port = scheme == "https" ? "443" : scheme == "http" ? "80" : "";
    if (default_port.empty()) {
        return out;
    }
    if (u.has_port()) {
        if (u.port() == default_port) {
            u.remove_port();
            out.push_back(std::string(u.buffer()));
        }
    } else {
        u.set_port(default_port);
        out.push_back(std::string(u.buffer()));
    }
    return out;
}

// GSM 03.38 default alphabet (as UTF-8 strings) and its extension table.
const std::set<std::string>& GsmBasic() {
    static const std::set<std::string> kBasic = [] {
        std::set<std::string> set;
        const char* ascii =
            "@$\n\r "
            "_!\"#%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        for (const char* p = ascii; *p != '\0'; ++p) {
            set.insert(std::string(1, *p));
        }
        for (const char* s : {"£", "¥", "è", "é", "ù", "ì", "ò", "Ç", "Ø", "ø", "Å", "å", "Δ",
                              "Φ", "Γ", "Λ", "Ω", "Π", "Ψ", "Σ", "Θ", "Ξ", "Æ", "æ", "ß", "É",
                              "¤", "¡", "Ä", "Ö", "Ñ", "Ü", "§", "¿", "ä", "ö", "ñ", "ü", "à"}) {
            set.insert(s);
        }
        return set;
    }();
    return kBasic;
}

const std::set<std::string>& GsmExtension() {
    static const std::set<std::string> kExtension = {
        "^", "{", "}", "\\", "[", "~", "]", "|", "€", "\f"};
    return kExtension;
}

}  // namespace

std::optional<Params> ParseForm(std::string_view body) {
    Params out;
    if (body.empty()) {
        return out;
    }
    // Boost.URL 1.81's parse_query builds its result from s.data() alone, which measures the
    // string with strlen: it must be given NUL-terminated text, so parse a copy. (A raw NUL
    // byte is not valid in a form and fails the grammar before that point.)
    const std::string terminated(body);
    auto query = boost::urls::parse_query(terminated);
    if (!query) {
        return std::nullopt;  // a malformed %-escape or a byte a form may not carry raw
    }
    try {
        boost::urls::encoding_opts opt;
        opt.space_as_plus = true;
        for (const auto& param : *query) {
            if (param.key.empty() && !param.has_value) {
                continue;  // "a=1&&b=2"
            }
            std::string key = param.key.decode(opt);
            std::string value = param.has_value ? param.value.decode(opt) : std::string();
            if (!ValidUtf8(key) || !ValidUtf8(value)) {
                return std::nullopt;
            }
            out.emplace_back(std::move(key), std::move(value));
        }
    } catch (const std::exception&) {
        return std::nullopt;
    }
    return out;
}

std::string TwilioSignature(std::string_view url,
                            const Params& params,
                            std::string_view auth_token) {
    // Names sorted; each name's distinct values sorted; name+value appended with no separator.
    std::map<std::string, std::set<std::string>> sorted;
    for (const auto& [name, value] : params) {
        sorted[name].insert(value);
    }
    std::string data(url);
    for (const auto& [name, values] : sorted) {
        for (const auto& value : values) {
            data += name;
            data += value;
        }
    }
    return HmacSha1Base64(auth_token, data);
}

boost::system::result<WebhookBatch, WebhookError> ParseTwilioWebhook(
    std::string_view body,
    std::string_view signature_header,
    std::string_view url,
    std::string_view auth_token) {
    if (auth_token.empty() || signature_header.empty()) {
        return WebhookError::kBadSignature;
    }
    const auto params = ParseForm(body);
    // Without readable fields there is nothing to check the signature over: unauthenticated.
    if (!params) {
        return WebhookError::kBadSignature;
    }
    bool verified = false;
    for (const std::string& variant : UrlVariants(url)) {
        // Every variant is checked, so the time taken does not depend on which one matched.
        verified =
            ConstantTimeEquals(TwilioSignature(variant, *params, auth_token), signature_header) ||
            verified;
    }
    if (!verified) {
        return WebhookError::kBadSignature;
    }
    const std::string sid = Field(*params, "MessageSid").empty() ? Field(*params, "SmsSid")
                                                                 : Field(*params, "MessageSid");
    if (sid.empty()) {
        return WebhookError::kMalformed;
    }
    WebhookBatch batch;
    const std::string message_status = Field(*params, "MessageStatus");
    const std::string sms_status = Field(*params, "SmsStatus");
    const bool inbound = message_status.empty() ? (sms_status.empty() || sms_status == "received")
                                                : message_status == "received";
    if (!inbound) {
        StatusUpdate status;
        status.channel = Channel::kSms;
        status.provider_message_id = sid;
        status.status = NormalizedStatus(message_status.empty() ? sms_status : message_status);
        status.error_code = Field(*params, "ErrorCode");
        status.error_title = Field(*params, "ErrorMessage");
        auto to = detail::NormalizePhone(Field(*params, "To"));
        status.recipient = to ? *to : Field(*params, "To");
        batch.statuses.push_back(std::move(status));
        return batch;
    }
    const std::string from = Field(*params, "From");
    if (from.empty()) {
        return WebhookError::kMalformed;
    }
    InboundMessage message;
    message.channel = Channel::kSms;
    message.provider_message_id = sid;
    auto phone = detail::NormalizePhone(from);
    message.from = phone ? *phone : from;
    message.to = Field(*params, "To");
    message.text = Field(*params, "Body");
    // MMS: NumMedia files at MediaUrlN with MediaContentTypeN (Twilio allows at most 10).
    const auto count = detail::ParseInt(Field(*params, "NumMedia"));
    for (std::int64_t i = 0; count && i < std::min<std::int64_t>(*count, kMaxMmsMedia); ++i) {
        MediaRef media;
        media.url = Field(*params, "MediaUrl" + std::to_string(i));
        media.mime_type = Field(*params, "MediaContentType" + std::to_string(i));
        media.kind = MediaKindOf(media.mime_type);
        if (!media.url.empty()) {
            message.media.push_back(std::move(media));
        }
    }
    message.kind = message.media.empty() ? "text" : message.media.front().kind;
    json raw = json::object();
    for (const auto& [name, value] : *params) {
        raw[name] = value;
    }
    message.raw = raw.dump();
    batch.messages.push_back(std::move(message));
    return batch;
}

std::string SmsText(const OutboundMessage& message) {
    std::string text = message.text;
    // Menus become numbered options: a reply "2" picks the second (the NLU reads menu_choice).
    int n = 0;
    for (const ReplyButton& b : message.buttons) {
        text += "\n" + std::to_string(++n) + ". " + b.title;
    }
    for (const ListRow& r : message.list) {
        text += "\n" + std::to_string(++n) + ". " + r.title;
    }
    return text;
}

boost::system::result<HttpCall, std::string> RenderTwilio(const OutboundMessage& message,
                                                          const TwilioCredentials& creds) {
    if (message.text.empty()) {
        return {boost::system::in_place_error, "the text is empty"};
    }
    const std::string text = SmsText(message);
    if (detail::CodePoints(text) > 1600) {
        return {boost::system::in_place_error, "an SMS has at most 1600 characters"};
    }
    std::string base = creds.api_base;
    while (!base.empty() && base.back() == '/') {
        base.pop_back();
    }
    HttpCall call;
    call.url = base + "/2010-04-01/Accounts/" + creds.account_sid + "/Messages.json";
    call.headers = {
        {"Authorization", "Basic " + detail::Base64(creds.account_sid + ":" + creds.auth_token)},
        {"Content-Type", "application/x-www-form-urlencoded"}};
    call.body = "To=" + detail::FormEscape(message.to) + "&From=" + detail::FormEscape(creds.from) +
                "&Body=" + detail::FormEscape(text);
    if (!creds.status_callback_url.empty()) {
        call.body += "&StatusCallback=" + detail::FormEscape(creds.status_callback_url);
    }
    return call;
}

SendOutcome InterpretTwilioResponse(unsigned status,
                                    std::string_view body,
                                    std::string_view retry_after_header) {
    SendOutcome out;
    if (auto seconds = detail::RetryAfterSeconds(retry_after_header)) {
        out.retry_after = std::chrono::seconds(*seconds);
    }
    const json answer = dialogs::ParseJsonText(body);
    const auto text = [&](const char* key) -> std::string {
        if (!answer.is_object() || !answer.contains(key) || answer[key].is_null()) {
            return {};
        }
        return answer[key].is_string() ? answer[key].get<std::string>() : answer[key].dump();
    };
    if (status >= 200 && status < 300) {
        if (!text("sid").empty()) {
            out.kind = SendOutcome::Kind::kSent;
            out.provider_message_id = text("sid");
            return out;
        }
        out.kind = SendOutcome::Kind::kRetry;
        out.error_message = "a 2xx answer without a message sid";
        return out;
    }
    out.error_code = text("code");
    out.error_message = text("message");
    if (out.error_message.empty()) {
        out.error_message = "HTTP " + std::to_string(status);
    }
    if (status == 429 || status >= 500 || out.error_code == "20429") {
        out.kind = SendOutcome::Kind::kRetry;
    } else {
        out.kind = SendOutcome::Kind::kPermanent;
        if (out.error_code.empty()) {
            out.error_code = "http_" + std::to_string(status);
        }
    }
    return out;
}

int SmsSegments(std::string_view text) {
    std::size_t septets = 0;
    std::size_t code_units = 0;  // UTF-16
    bool gsm = true;
    std::size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        const std::size_t length = c < 0x80             ? 1
                                   : (c & 0xE0) == 0xC0 ? 2
                                   : (c & 0xF0) == 0xE0 ? 3
                                                        : 4;
        const std::string ch(text.substr(i, length));
        i += length;
        code_units += length == 4 ? 2 : 1;
        if (GsmBasic().count(ch) > 0) {
            septets += 1;
        } else if (GsmExtension().count(ch) > 0) {
            septets += 2;
        } else {
            gsm = false;
        }
    }
    if (text.empty()) {
        return 1;
    }
    if (gsm) {
        return septets <= 160 ? 1 : static_cast<int>((septets + 152) / 153);
    }
    return code_units <= 70 ? 1 : static_cast<int>((code_units + 66) / 67);
}

}  // namespace cobrador::channels
