#pragma once
// Webhook signatures: HMAC over the exact bytes received, compared in constant time.
// Pure functions over bytes; safe from any thread. Keys are never logged or returned.

#include <string>
#include <string_view>

namespace cobrador::channels {

// Lower-case hex HMAC-SHA256 of `message` under `key` (Meta's X-Hub-Signature-256 and our
// payments webhook use "sha256=" + this).
std::string HmacSha256Hex(std::string_view key, std::string_view message);

// Base64 HMAC-SHA1 of `message` under `key` (Twilio's X-Twilio-Signature).
std::string HmacSha1Base64(std::string_view key, std::string_view message);

// Lower-case hex SHA-256 of `data` (agent tokens are stored only as this hash).
std::string Sha256Hex(std::string_view data);

// A new agent token: "cbr_" and 64 hex digits from the kernel's random bytes (256 bits; nothing
// needs quoting); empty when they cannot be read.
std::string NewToken();

// Compares two byte strings in time that depends only on their lengths, never on where they
// first differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// True when `header` is exactly "sha256=" + HmacSha256Hex(key, body). An empty key never
// verifies anything.
bool VerifySha256Header(std::string_view key, std::string_view body, std::string_view header);

}  // namespace cobrador::channels
