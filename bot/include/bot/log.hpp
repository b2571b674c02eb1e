#pragma once
// Structured logs: one JSON object per line on stderr. Callers never pass secrets or message
// bodies; phones go through dialogs::RedactPhone first. Thread-safe (one write per line).

#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace cobrador::bot {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

void SetLogLevel(LogLevel level);

// Every line after this names the process ("replica"), for logs gathered from several replicas.
// Call before other threads log.
void SetLogReplica(std::string replica);

using LogField = std::pair<std::string_view, std::string>;

void Log(LogLevel level, std::string_view message, std::initializer_list<LogField> fields = {});
void Log(LogLevel level, std::string_view message, std::span<const LogField> fields);

}  // namespace cobrador::bot
