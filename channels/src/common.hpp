#pragma once
// Small helpers the two adapters share. Private to the channels module.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "dialogs/phone.hpp"
#include "dialogs/vocabulary.hpp"

namespace cobrador::channels::detail {

// A phone number as E.164 ("+525512345678") from what a provider gives ("+52 1 55...",
// "5215512345678": a WhatsApp wa_id has no '+'), by the product's one phone rule.
inline std::optional<std::string> NormalizePhone(std::string_view raw) {
    return dialogs::NormalizePhone(raw, dialogs::PhoneSource::kProvider);
}

// Base64 of bytes (RFC 4648, with padding).
std::string Base64(std::string_view bytes);

// Parses a decimal integer; nullopt for anything else (sign, spaces, overflow).
std::optional<std::int64_t> ParseInt(std::string_view text);

// Seconds from a Retry-After header holding delta-seconds; nullopt for anything else (an
// HTTP date is ignored: the backoff still applies).
std::optional<std::int64_t> RetryAfterSeconds(std::string_view header);

using dialogs::CodePoints;

// application/x-www-form-urlencoded encoding of one value.
std::string FormEscape(std::string_view value);

}  // namespace cobrador::channels::detail
