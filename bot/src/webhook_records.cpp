#include "webhook_records.hpp"

#include <algorithm>
#include <array>
#include <chrono>

#include <nlohmann/json.hpp>

#include "dialogs/calendar.hpp"

namespace cobrador::bot {

store::InboundRecord ToRecord(const channels::InboundMessage& message) {
    nlohmann::json media = nlohmann::json::array();
    for (const channels::MediaRef& m : message.media) {
        media.push_back({{"kind", m.kind},
                         {"source", m.id.empty() ? m.url : m.id},
                         {"mime_type", m.mime_type},
                         {"filename", m.filename},
                         {"voice", m.voice}});
    }
    const nlohmann::json fields = {{"text", message.text},
                                   {"reply_id", message.reply_id},
                                   {"context_id", message.context_id},
                                   {"profile_name", message.profile_name},
                                   {"to", message.to},
                                   {"timestamp", message.timestamp},
                                   {"media", std::move(media)}};
    // The channel's own JSON of the message goes in as it is: the adapters write `raw` with
    // nlohmann's dump, so it is JSON already and is not parsed again here (an empty one, the
    // sandbox's, is an empty string).
    std::string payload = fields.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    payload.pop_back();  // the closing brace
    payload += ",\"raw\":";
    payload += message.raw.empty() ? std::string("\"\"") : message.raw;
    payload += '}';
    return {std::string(channels::ToString(message.channel)),
            message.provider_message_id,
            message.kind,
            message.from,
            std::move(payload),
            message.text,
            message.reply_id,
            message.context_id};
}

store::StatusRecord ToRecord(const channels::StatusUpdate& status) {
    return {std::string(channels::ToString(status.channel)),
            status.provider_message_id,
            status.status,
            status.error_code,
            status.error_title,
            IsoFromUnix(status.timestamp)};
}

std::string IsoFromUnix(std::int64_t seconds) {
    if (seconds <= 0) {
        return {};
    }
    return dialogs::FormatIsoInstant(std::chrono::sys_seconds{std::chrono::seconds{seconds}});
}

namespace {

std::string Field(const std::string& payload, const char* key) {
    const auto j = nlohmann::json::parse(payload, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains(key) || !j[key].is_string()) {
        return {};
    }
    return j[key].get<std::string>();
}

}  // namespace

std::string PayloadText(const std::string& payload) {
    return Field(payload, "text");
}

std::string PayloadReplyId(const std::string& payload) {
    return Field(payload, "reply_id");
}

std::vector<store::MediaRecord> PayloadMedia(const std::string& payload) {
    static constexpr std::array kKinds = {"image", "document", "audio", "video", "sticker"};
    std::vector<store::MediaRecord> out;
    const auto j = nlohmann::json::parse(payload, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("media") || !j["media"].is_array()) {
        return out;
    }
    const auto text = [](const nlohmann::json& item, const char* key) {
        const auto it = item.find(key);
        return it != item.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    for (const auto& item : j["media"]) {
        if (!item.is_object()) {
            continue;
        }
        store::MediaRecord m;
        m.kind = text(item, "kind");
        m.source = text(item, "source");
        m.declared_type = text(item, "mime_type");
        m.filename = text(item, "filename");
        m.voice = item.contains("voice") && item["voice"].is_boolean() && item["voice"].get<bool>();
        if (!m.source.empty() && std::find(kKinds.begin(), kKinds.end(), m.kind) != kKinds.end()) {
            out.push_back(std::move(m));
        }
    }
    return out;
}

}  // namespace cobrador::bot
