#pragma once
// Private to the store: the one way an audit_log row is written (audit_log is append-only).
// Used inside the caller's transaction, on the caller's thread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "connection.hpp"

namespace cobrador::store {

// Who did what, and to which channel, debtor, account and conversation (NULL when not given).
struct AuditRow {
    std::string actor;  // bot, agent:<id>, import, system
    std::string kind;   // verified, promise_made, escalated, ...
    std::optional<std::string> channel = std::nullopt;
    std::optional<std::int64_t> debtor_id = std::nullopt;
    std::optional<std::int64_t> account_id = std::nullopt;
    std::optional<std::int64_t> conversation_id = std::nullopt;
};

// Writes `row` at `at` with `detail`, a JSON object's text (AuditDetail builds one).
inline void WriteAudit(Connection& db,
                       const AuditRow& row,
                       const std::string& at,
                       const std::string& detail = "{}") {
    db.Exec(
        "INSERT INTO audit_log (at, actor, kind, channel, debtor_id, account_id, "
        "conversation_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        at,
        row.actor,
        row.kind,
        row.channel,
        row.debtor_id,
        row.account_id,
        row.conversation_id,
        detail);
}

// A detail object from key, value pairs, keys in the order given: AuditDetail("role", role,
// "agent_id", id). Text values are strings, integers numbers, booleans booleans, an empty optional
// null.
namespace audit_detail {

template <class T>
nlohmann::ordered_json Value(const T& value) {
    if constexpr (std::is_same_v<T, std::optional<std::string>> ||
                  std::is_same_v<T, std::optional<std::int64_t>>) {
        return value ? Value(*value) : nlohmann::ordered_json(nullptr);
    } else if constexpr (std::is_same_v<T, bool>) {
        return value;
    } else if constexpr (std::is_integral_v<T>) {
        return static_cast<std::int64_t>(value);
    } else {
        return std::string(std::string_view(value));
    }
}

inline void Add(nlohmann::ordered_json& /*object*/) {}

template <class V, class... Rest>
void Add(nlohmann::ordered_json& object, const char* key, const V& value, const Rest&... rest) {
    object[key] = Value(value);
    Add(object, rest...);
}

}  // namespace audit_detail

template <class... A>
std::string AuditDetail(const A&... pairs) {
    nlohmann::ordered_json object = nlohmann::ordered_json::object();
    audit_detail::Add(object, pairs...);
    return object.dump();
}

}  // namespace cobrador::store
