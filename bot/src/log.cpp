#include "bot/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "dialogs/phone.hpp"

namespace cobrador::bot {

namespace {

std::atomic<LogLevel> g_level{LogLevel::kInfo};
std::string g_replica;  // set once, before other threads start

const char* Name(LogLevel level) {
    switch (level) {
        case LogLevel::kDebug:
            return "debug";
        case LogLevel::kInfo:
            return "info";
        case LogLevel::kWarn:
            return "warn";
        case LogLevel::kError:
            return "error";
    }
    return "info";
}

std::string Timestamp() {
    const auto now = std::chrono::system_clock::now();
    const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
    const auto millis =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() %
        1000;
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[32];
    const std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
    std::snprintf(text + n, sizeof text - n, ".%03dZ", static_cast<int>(millis));
    return text;
}

}  // namespace

void SetLogLevel(LogLevel level) {
    g_level = level;
}

void SetLogReplica(std::string replica) {
    g_replica = std::move(replica);
}

void Log(LogLevel level, std::string_view message, std::initializer_list<LogField> fields) {
    Log(level, message, std::span<const LogField>(fields.begin(), fields.size()));
}

void Log(LogLevel level, std::string_view message, std::span<const LogField> fields) {
    if (level < g_level.load()) {
        return;
    }
    nlohmann::json line = {{"ts", Timestamp()}, {"level", Name(level)}, {"msg", message}};
    if (!g_replica.empty()) {
        line["replica"] = g_replica;
    }
    for (const auto& [key, value] : fields) {
        // Providers' own words may carry a debtor's number ("The 'To' number +52155… is not
        // valid"): never into the logs.
        const bool theirs = key == "error" || key == "detail" || key == "why";
        line[std::string(key)] = theirs ? dialogs::RedactPhonesIn(value) : value;
    }
    // Invalid UTF-8 is replaced rather than thrown on: a log line must never take us down.
    const std::string text =
        line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    std::fwrite(text.data(), 1, text.size(), stderr);
    std::fflush(stderr);
}

}  // namespace cobrador::bot
