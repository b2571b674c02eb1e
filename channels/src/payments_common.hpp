#pragma once
// Private to payments: JSON read with decimals kept as their text, and the checks every
// provider's fields go through.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "channels/payment_providers.hpp"

namespace cobrador::channels::provider {

// Parses JSON keeping every number with a fraction or exponent as a string of its exact text
// ("1500.50"), so that money never passes through a double. Discarded on a syntax error or
// nesting deeper than 64.
nlohmann::json ParseExact(std::string_view text);

// A string member, or "" when absent, null or not a string.
std::string Text(const nlohmann::json& object, const char* key);

// An id: a string, or an integer written as decimal digits ("123456789"); "" otherwise.
std::string Id(const nlohmann::json& object, const char* key);

// Centavos from an integer member (Stripe: already centavos); nullopt when absent or not a
// non-negative integer below 10^15.
std::optional<std::int64_t> IntegerCents(const nlohmann::json& object, const char* key);

// Centavos from decimal pesos, a number or a numeric string with at most two decimals.
std::optional<std::int64_t> PesosCents(const nlohmann::json& object, const char* key);

// Our reference as a provider echoes it: kept when it is a plausible one (1 to 64 bytes, no
// control characters), "" otherwise (the payment then waits in suspense).
std::string Reference(std::string_view text);

// Upper-case ISO 4217, or "" when it is not a known currency.
std::string Currency(std::string_view text);

// Unix seconds as ISO 8601 UTC; "" outside 2000 to 2099.
std::string IsoFromUnix(std::int64_t seconds);

// Any ISO 8601 instant with a zone as ISO 8601 UTC; "" when it is not one.
std::string IsoUtc(std::string_view text);

// An id that may go into a URL's path as it is: 1 to 64 letters, digits, '-' and '_'.
bool UrlSafe(std::string_view id);

// A request for `path` under `api_base` (a trailing '/' of the base is dropped).
HttpCall Request(std::string method,
                 std::string_view api_base,
                 const std::string& path,
                 std::vector<std::pair<std::string, std::string>> headers,
                 std::string body);

// A GET of `path` under `api_base`.
HttpCall Get(std::string_view api_base,
             const std::string& path,
             std::vector<std::pair<std::string, std::string>> headers);

// A refused verdict.
Verdict Refuse(Refusal refusal, std::string why);

// The verified body read as a JSON object into `object`, and a verdict started for it (the
// provider and the body set); refused as malformed when it is not an object.
Verdict Start(const char* provider, std::string_view body, nlohmann::json& object);

// Splits "k=v,k=v" (spaces around items ignored) and calls `item(key, value)` for each.
template <class F>
void ForEachPair(std::string_view header, const F& item) {
    while (!header.empty()) {
        const auto comma = header.find(',');
        std::string_view part = header.substr(0, comma);
        header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
        while (!part.empty() && part.front() == ' ') {
            part.remove_prefix(1);
        }
        while (!part.empty() && part.back() == ' ') {
            part.remove_suffix(1);
        }
        const auto eq = part.find('=');
        if (eq != std::string_view::npos) {
            item(part.substr(0, eq), part.substr(eq + 1));
        }
    }
}

}  // namespace cobrador::channels::provider
