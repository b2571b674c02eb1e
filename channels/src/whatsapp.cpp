#include "channels/whatsapp.hpp"

#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "channels/signature.hpp"
#include "channels/twilio.hpp"
#include "dialogs/json_text.hpp"

#include "common.hpp"

namespace cobrador::channels {

namespace {

using nlohmann::json;

// channels.md §2.2. Characters are code points; ids are bytes.
constexpr std::size_t kMaxTextCharacters = 4096;
constexpr std::size_t kMaxButtons = 3;
constexpr std::size_t kMaxButtonTitle = 20;
constexpr std::size_t kMaxButtonIdBytes = 256;
constexpr std::size_t kMaxButtonBody = 1024;
constexpr std::size_t kMaxRows = 10;
constexpr std::size_t kMaxRowTitle = 24;
constexpr std::size_t kMaxRowDescription = 72;
constexpr std::size_t kMaxRowIdBytes = 200;
constexpr std::size_t kMaxListButton = 20;

// Strict UTF-8 (no overlong forms, surrogates or values past U+10FFFF): nlohmann's dump throws
// on anything else, and a bad byte in an outbound message is our error, not an exception.
bool IsValidUtf8(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        const auto lead = static_cast<unsigned char>(text[i]);
        std::size_t length = 1;
        char32_t value = lead;
        char32_t minimum = 0;
        if (lead >= 0x80) {
            if ((lead & 0xE0) == 0xC0) {
                length = 2;
                value = lead & 0x1F;
                minimum = 0x80;
            } else if ((lead & 0xF0) == 0xE0) {
                length = 3;
                value = lead & 0x0F;
                minimum = 0x800;
            } else if ((lead & 0xF8) == 0xF0) {
                length = 4;
                value = lead & 0x07;
                minimum = 0x10000;
            } else {
                return false;
            }
            if (text.size() - i < length) {
                return false;
            }
            for (std::size_t k = 1; k < length; ++k) {
                const auto next = static_cast<unsigned char>(text[i + k]);
                if ((next & 0xC0) != 0x80) {
                    return false;
                }
                value = (value << 6) | (next & 0x3F);
            }
            if (value < minimum || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) {
                return false;
            }
        }
        i += length;
    }
    return true;
}

// A wa_id as E.164; a business-scoped user id (no phone) stays as Meta gave it.
std::string PhoneOrRaw(const std::string& raw) {
    return detail::NormalizePhone(raw).value_or(raw);
}

// Meta's payloads nest about ten levels deep. nlohmann's dump, copy and compare recurse, so a
// signed but absurd body (a 3 MB run of '[') would otherwise overflow the stack.
constexpr int kMaxNesting = 64;

bool NestingWithin(std::string_view body, int limit) {
    int depth = 0;
    bool in_string = false;
    bool escaped = false;
    for (const char c : body) {
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (++depth > limit) {
                return false;
            }
        } else if (c == '}' || c == ']') {
            --depth;
        }
    }
    return true;
}

// Unknown shapes are skipped, never an error: these read a member only when it has the type
// we expect.
const json* Member(const json& object, const char* key) {
    if (!object.is_object()) {
        return nullptr;
    }
    const auto it = object.find(key);
    return it == object.end() ? nullptr : &*it;
}

std::string Text(const json& object, const char* key) {
    const json* value = Member(object, key);
    return value != nullptr && value->is_string() ? value->get<std::string>() : std::string();
}

// A code Meta sends as a number (131047) or, now and then, as a string.
std::string Code(const json& object, const char* key) {
    const json* value = Member(object, key);
    if (value == nullptr) {
        return {};
    }
    if (value->is_number_integer()) {
        return std::to_string(value->get<std::int64_t>());
    }
    return value->is_string() ? value->get<std::string>() : std::string();
}

const json& Object(const json& object, const char* key) {
    static const json kEmpty = json::object();
    const json* value = Member(object, key);
    return value != nullptr && value->is_object() ? *value : kEmpty;
}

const json& Array(const json& object, const char* key) {
    static const json kEmpty = json::array();
    const json* value = Member(object, key);
    return value != nullptr && value->is_array() ? *value : kEmpty;
}

// Timestamps are Unix seconds as a string; a number is accepted too. Anything else is 0.
std::int64_t Timestamp(const json& object) {
    const json* value = Member(object, "timestamp");
    if (value == nullptr) {
        return 0;
    }
    if (value->is_number_unsigned() || value->is_number_integer()) {
        return value->get<std::int64_t>();
    }
    if (!value->is_string()) {
        return 0;
    }
    const auto seconds = detail::ParseInt(value->get<std::string>());
    return seconds && *seconds > 0 ? *seconds : 0;
}

std::string Dump(const json& value) {
    return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

// The type-specific part of a message: what the debtor said or chose.
void ReadContent(const json& message, InboundMessage& out) {
    const std::string& kind = out.kind;
    const json& body = Object(message, kind.c_str());
    if (kind == "text") {
        out.text = Text(body, "body");
    } else if (kind == "interactive") {
        // button_reply and list_reply carry {id, title}; a flow's nfm_reply carries a body.
        const std::string reply_type = Text(body, "type");
        const json& reply = Object(body, reply_type.c_str());
        out.text = Text(reply, "title");
        if (out.text.empty()) {
            out.text = Text(reply, "body");
        }
        out.reply_id = Text(reply, "id");
    } else if (kind == "button") {
        out.text = Text(body, "text");
        out.reply_id = Text(body, "payload");
    } else if (kind == "image" || kind == "document" || kind == "audio" || kind == "video" ||
               kind == "sticker") {
        out.text = Text(body, "caption");
        MediaRef media;
        media.kind = kind;
        media.id = Text(body, "id");
        media.mime_type = Text(body, "mime_type");
        media.filename = Text(body, "filename");
        media.voice =
            body.contains("voice") && body["voice"].is_boolean() && body["voice"].get<bool>();
        if (!media.id.empty()) {
            out.media.push_back(std::move(media));
        }
    } else if (kind == "location") {
        out.text = Text(body, "name");
        const std::string address = Text(body, "address");
        if (!address.empty()) {
            out.text += (out.text.empty() ? "" : ", ") + address;
        }
    } else if (kind == "contacts") {
        const json& contacts = Array(message, "contacts");
        if (!contacts.empty()) {
            out.text = Text(Object(contacts.front(), "name"), "formatted_name");
        }
    } else if (kind == "reaction") {
        out.text = Text(body, "emoji");
        if (out.context_id.empty()) {
            out.context_id = Text(body, "message_id");
        }
    }
}

std::optional<InboundMessage> ReadMessage(const json& message,
                                          const std::map<std::string, std::string>& profiles,
                                          const std::string& to) {
    InboundMessage out;
    out.channel = Channel::kWhatsApp;
    out.provider_message_id = Text(message, "id");
    if (out.provider_message_id.empty()) {
        return std::nullopt;  // nothing to deduplicate on, nothing to answer
    }
    const std::string wa_id = Text(message, "from");
    out.from = PhoneOrRaw(wa_id);
    out.to = to;
    if (const auto it = profiles.find(wa_id); it != profiles.end()) {
        out.profile_name = it->second;
    }
    out.kind = Text(message, "type");
    if (out.kind.empty()) {
        out.kind = "unsupported";
    }
    out.context_id = Text(Object(message, "context"), "id");
    out.timestamp = Timestamp(message);
    ReadContent(message, out);
    out.raw = Dump(message);
    return out;
}

// Meta's status in our words; nullopt for one we do not track ("deleted", newer ones).
std::optional<std::string> NormalizeStatus(const std::string& status) {
    if (status == "sent" || status == "delivered" || status == "read" || status == "failed") {
        return status;
    }
    if (status == "played") {
        return "read";  // a voice message played has been read
    }
    return std::nullopt;
}

std::optional<StatusUpdate> ReadStatus(const json& status) {
    StatusUpdate out;
    out.channel = Channel::kWhatsApp;
    out.provider_message_id = Text(status, "id");
    auto normalized = NormalizeStatus(Text(status, "status"));
    if (out.provider_message_id.empty() || !normalized) {
        return std::nullopt;
    }
    out.status = std::move(*normalized);
    out.timestamp = Timestamp(status);
    out.recipient = PhoneOrRaw(Text(status, "recipient_id"));
    const json& errors = Array(status, "errors");
    if (!errors.empty()) {
        out.error_code = Code(errors.front(), "code");
        out.error_title = Text(errors.front(), "title");
        if (out.error_title.empty()) {
            out.error_title = Text(errors.front(), "message");
        }
    }
    return out;
}

void ReadChange(const json& change, WebhookBatch& batch) {
    const json* field = Member(change, "field");
    if (field != nullptr && (!field->is_string() || field->get<std::string>() != "messages")) {
        return;  // template, account and quality updates are not conversations
    }
    const json& value = Object(change, "value");
    const json& metadata = Object(value, "metadata");
    std::string to = Text(metadata, "phone_number_id");
    if (to.empty()) {
        to = Text(metadata, "display_phone_number");
    }
    std::map<std::string, std::string> profiles;
    for (const json& contact : Array(value, "contacts")) {
        const std::string wa_id = Text(contact, "wa_id");
        if (!wa_id.empty()) {
            profiles.emplace(wa_id, Text(Object(contact, "profile"), "name"));
        }
    }
    for (const json& message : Array(value, "messages")) {
        if (auto read = ReadMessage(message, profiles, to)) {
            batch.messages.push_back(std::move(*read));
        }
    }
    for (const json& status : Array(value, "statuses")) {
        if (auto read = ReadStatus(status)) {
            batch.statuses.push_back(std::move(*read));
        }
    }
}

// Checks a message against §2.2 and builds the type-specific part of the request into
// `content`; the reason when the message is over a limit.
std::optional<std::string> Content(const OutboundMessage& message, json& content) {
    const auto length = [](const std::string& text) {
        return detail::CodePoints(text);
    };
    const auto count = [](std::size_t n) {
        return std::to_string(n);
    };
    if (message.template_call) {
        const TemplateCall& call = *message.template_call;
        if (!message.buttons.empty() || !message.list.empty()) {
            return std::string("a template message cannot carry buttons or a list");
        }
        if (call.name.empty() || call.language.empty()) {
            return std::string("a template needs a name and a language");
        }
        json parameters = json::array();
        for (std::size_t i = 0; i < call.parameters.size(); ++i) {
            if (call.parameters[i].empty()) {
                return "template parameter {{" + count(i + 1) + "}} is empty";
            }
            parameters.push_back({{"type", "text"}, {"text", call.parameters[i]}});
        }
        json body = {{"name", call.name}, {"language", {{"code", call.language}}}};
        if (!parameters.empty()) {
            body["components"] = json::array({{{"type", "body"}, {"parameters", parameters}}});
        }
        content = json{{"type", "template"}, {"template", body}};
        return std::nullopt;
    }
    if (message.text.empty()) {
        return std::string("the text is empty");
    }
    if (length(message.text) > kMaxTextCharacters) {
        return "the text has " + count(length(message.text)) + " characters; WhatsApp allows " +
               count(kMaxTextCharacters);
    }
    if (!message.buttons.empty() && !message.list.empty()) {
        return std::string("a message has buttons or a list, not both");
    }
    if (!message.buttons.empty()) {
        if (message.buttons.size() > kMaxButtons) {
            return "a message has at most " + count(kMaxButtons) + " buttons, not " +
                   count(message.buttons.size());
        }
        if (length(message.text) > kMaxButtonBody) {
            return "the text over buttons has " + count(length(message.text)) +
                   " characters; WhatsApp allows " + count(kMaxButtonBody);
        }
        std::set<std::string> titles;
        std::set<std::string> ids;
        json buttons = json::array();
        for (const ReplyButton& button : message.buttons) {
            if (button.title.empty() || length(button.title) > kMaxButtonTitle) {
                return "button title \"" + button.title + "\" must have 1 to " +
                       count(kMaxButtonTitle) + " characters";
            }
            if (button.id.empty() || button.id.size() > kMaxButtonIdBytes) {
                return "button id \"" + button.id + "\" must have 1 to " +
                       count(kMaxButtonIdBytes) + " bytes";
            }
            if (!titles.insert(button.title).second || !ids.insert(button.id).second) {
                return "button \"" + button.title + "\" repeats a title or an id";
            }
            buttons.push_back(
                {{"type", "reply"}, {"reply", {{"id", button.id}, {"title", button.title}}}});
        }
        content = json{{"type", "interactive"},
                       {"interactive",
                        {{"type", "button"},
                         {"body", {{"text", message.text}}},
                         {"action", {{"buttons", buttons}}}}}};
        return std::nullopt;
    }
    if (!message.list.empty()) {
        if (message.list.size() > kMaxRows) {
            return "a list has at most " + count(kMaxRows) + " rows, not " +
                   count(message.list.size());
        }
        if (message.list_button.empty() || length(message.list_button) > kMaxListButton) {
            return "the list button label must have 1 to " + count(kMaxListButton) + " characters";
        }
        std::set<std::string> ids;
        json rows = json::array();
        for (const ListRow& row : message.list) {
            if (row.title.empty() || length(row.title) > kMaxRowTitle) {
                return "row title \"" + row.title + "\" must have 1 to " + count(kMaxRowTitle) +
                       " characters";
            }
            if (length(row.description) > kMaxRowDescription) {
                return "row description of \"" + row.title + "\" has over " +
                       count(kMaxRowDescription) + " characters";
            }
            if (row.id.empty() || row.id.size() > kMaxRowIdBytes) {
                return "row id \"" + row.id + "\" must have 1 to " + count(kMaxRowIdBytes) +
                       " bytes";
            }
            if (!ids.insert(row.id).second) {
                return "row id \"" + row.id + "\" is repeated";
            }
            json one = {{"id", row.id}, {"title", row.title}};
            if (!row.description.empty()) {
                one["description"] = row.description;
            }
            rows.push_back(std::move(one));
        }
        content = json{
            {"type", "interactive"},
            {"interactive",
             {{"type", "list"},
              {"body", {{"text", message.text}}},
              {"action",
               {{"button", message.list_button}, {"sections", json::array({{{"rows", rows}}})}}}}}};
        return std::nullopt;
    }
    content = json{{"type", "text"}, {"text", {{"body", message.text}, {"preview_url", false}}}};
    return std::nullopt;
}

// Every string we were handed, so that a bad byte is our error and not a thrown exception.
bool AllValidUtf8(const OutboundMessage& message) {
    std::vector<const std::string*> texts = {
        &message.to, &message.text, &message.list_button, &message.reply_to};
    for (const ReplyButton& button : message.buttons) {
        texts.push_back(&button.id);
        texts.push_back(&button.title);
    }
    for (const ListRow& row : message.list) {
        texts.push_back(&row.id);
        texts.push_back(&row.title);
        texts.push_back(&row.description);
    }
    if (message.template_call) {
        texts.push_back(&message.template_call->name);
        texts.push_back(&message.template_call->language);
        for (const std::string& parameter : message.template_call->parameters) {
            texts.push_back(&parameter);
        }
    }
    for (const std::string* text : texts) {
        if (!IsValidUtf8(*text)) {
            return false;
        }
    }
    return true;
}

// result<HttpCall, std::string> cannot tell an error string from a value: C++20 lets a string
// construct the aggregate HttpCall. So errors are made explicitly.
boost::system::result<HttpCall, std::string> Refuse(std::string why) {
    return {boost::system::in_place_error, std::move(why)};
}

bool IsRetryableCode(const std::string& code) {
    // Throughput (130429), unknown (131000), pair rate (131056), maintenance (131057), and the
    // app and WABA call-rate limits (4, 80007): channels.md §2.3.
    static const std::set<std::string> kRetryable = {
        "130429", "131000", "131056", "131057", "4", "80007"};
    return kRetryable.count(code) > 0;
}

}  // namespace

std::optional<std::string> WhatsAppHandshake(std::string_view query,
                                             std::string_view verify_token) {
    if (verify_token.empty()) {
        return std::nullopt;
    }
    const auto params = ParseForm(query);
    if (!params) {
        return std::nullopt;
    }
    // The first of each name counts; names are matched with their dots, not PHP's underscores.
    const auto first = [&](std::string_view name) -> const std::string* {
        for (const auto& [key, value] : *params) {
            if (key == name) {
                return &value;
            }
        }
        return nullptr;
    };
    const std::string* mode = first("hub.mode");
    const std::string* token = first("hub.verify_token");
    const std::string* challenge = first("hub.challenge");
    if (mode == nullptr || *mode != "subscribe" || token == nullptr || challenge == nullptr ||
        !ConstantTimeEquals(*token, verify_token)) {
        return std::nullopt;
    }
    return *challenge;
}

boost::system::result<WebhookBatch, WebhookError> ParseWhatsAppWebhook(
    std::string_view body, std::string_view signature_header, std::string_view app_secret) {
    // Over the bytes as received: Meta's \u escapes and \/ do not survive a re-serialisation.
    if (!VerifySha256Header(app_secret, body, signature_header)) {
        return WebhookError::kBadSignature;
    }
    if (!NestingWithin(body, kMaxNesting)) {
        return WebhookError::kMalformed;
    }
    try {
        const json root = dialogs::ParseJsonText(body);
        if (root.is_discarded() || !root.is_object() || Member(root, "object") == nullptr ||
            !Member(root, "object")->is_string() || Member(root, "entry") == nullptr ||
            !Member(root, "entry")->is_array()) {
            return WebhookError::kMalformed;
        }
        // Batches are real (up to 1000 updates): every entry, change, message and status.
        WebhookBatch batch;
        for (const json& entry : Array(root, "entry")) {
            for (const json& change : Array(entry, "changes")) {
                ReadChange(change, batch);
            }
        }
        return batch;
    } catch (const json::exception&) {
        return WebhookError::kMalformed;
    }
}

boost::system::result<HttpCall, std::string> RenderWhatsApp(const OutboundMessage& message,
                                                            const WhatsAppCredentials& creds) {
    if (creds.api_base.empty() || creds.access_token.empty() || creds.phone_number_id.empty()) {
        return Refuse("WhatsApp needs api_base, access_token and phone_number_id");
    }
    if (message.to.empty()) {
        return Refuse("no recipient");
    }
    if (!AllValidUtf8(message)) {
        return Refuse("the message is not valid UTF-8");
    }
    json content;
    if (auto problem = Content(message, content)) {
        return Refuse(std::move(*problem));
    }
    // With '+': without it Meta prepends our own number's country code (channels.md §2.1).
    std::string to = message.to;
    if (to.front() != '+' && to.find_first_not_of("0123456789") == std::string::npos) {
        to.insert(0, "+");
    }
    json request = {
        {"messaging_product", "whatsapp"}, {"recipient_type", "individual"}, {"to", to}};
    request.update(content);
    if (!message.reply_to.empty()) {
        request["context"] = {{"message_id", message.reply_to}};
    }

    std::string base = creds.api_base;
    while (!base.empty() && base.back() == '/') {
        base.pop_back();
    }
    HttpCall call;
    call.method = "POST";
    call.url = base + "/" + creds.phone_number_id + "/messages";
    call.headers = {{"Authorization", "Bearer " + creds.access_token},
                    {"Content-Type", "application/json"}};
    call.body = Dump(request);
    return call;
}

SendOutcome InterpretWhatsAppResponse(unsigned status,
                                      std::string_view body,
                                      std::string_view retry_after_header) {
    SendOutcome outcome;
    json answer;
    if (NestingWithin(body, kMaxNesting)) {
        answer = dialogs::ParseJsonText(body);
    }
    const bool object = !answer.is_discarded() && answer.is_object();
    if (status >= 200 && status < 300) {
        const json& messages = object ? Array(answer, "messages") : Array(json::object(), "");
        const std::string id = messages.empty() ? std::string() : Text(messages.front(), "id");
        if (!id.empty()) {
            outcome.kind = SendOutcome::Kind::kSent;
            outcome.provider_message_id = id;
            return outcome;
        }
        // Accepted, perhaps, but without an id we cannot follow it: a duplicate beats a loss.
        outcome.kind = SendOutcome::Kind::kRetry;
        outcome.error_message = "HTTP " + std::to_string(status) + " without a message id";
        return outcome;
    }
    const json& error = object ? Object(answer, "error") : Object(json::object(), "");
    outcome.error_code = Code(error, "code");
    outcome.error_message = Text(error, "message");
    const std::string details = Text(Object(error, "error_data"), "details");
    if (!details.empty()) {
        outcome.error_message += (outcome.error_message.empty() ? "" : ": ") + details;
    }
    if (outcome.error_message.empty()) {
        outcome.error_message = "HTTP " + std::to_string(status);
    }
    if (status == 429 || status >= 500 || IsRetryableCode(outcome.error_code)) {
        outcome.kind = SendOutcome::Kind::kRetry;
        if (const auto seconds = detail::RetryAfterSeconds(retry_after_header)) {
            outcome.retry_after = std::chrono::seconds(*seconds);
        }
        return outcome;
    }
    outcome.kind = SendOutcome::Kind::kPermanent;
    if (outcome.error_code.empty()) {
        outcome.error_code = "http_" + std::to_string(status);
    }
    return outcome;
}

}  // namespace cobrador::channels
