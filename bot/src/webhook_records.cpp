#include "webhook_records.hpp"

#include <chrono>
#include <cstdio>

#include <nlohmann/json.hpp>

namespace cobrador::bot {

store::InboundRecord ToRecord(const channels::InboundMessage& message) {
    nlohmann::json payload = {{"text", message.text},
                              {"reply_id", message.reply_id},
                              {"context_id", message.context_id},
                              {"profile_name", message.profile_name},
                              {"to", message.to},
                              {"timestamp", message.timestamp}};
    auto raw = nlohmann::json::parse(message.raw, nullptr, false);
    payload["raw"] = raw.is_discarded() ? nlohmann::json(message.raw) : raw;
    return {std::string(channels::ToString(message.channel)),
            message.provider_message_id,
            message.kind,
            message.from,
            payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
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
    const std::chrono::sys_seconds instant{std::chrono::seconds{seconds}};
    const auto day = std::chrono::floor<std::chrono::days>(instant);
    const std::chrono::year_month_day date{day};
    const std::chrono::hh_mm_ss time{instant - day};
    char text[32];
    std::snprintf(text,
                  sizeof text,
                  "%04d-%02u-%02uT%02d:%02d:%02dZ",
                  static_cast<int>(date.year()),
                  static_cast<unsigned>(date.month()),
                  static_cast<unsigned>(date.day()),
                  static_cast<int>(time.hours().count()),
                  static_cast<int>(time.minutes().count()),
                  static_cast<int>(time.seconds().count()));
    return text;
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

}  // namespace cobrador::bot
