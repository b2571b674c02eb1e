// Any bytes as a Twilio form body: decoding never crashes, and whatever decodes, signed the way
// Twilio signs it, passes the signature check and parses without throwing.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "channels/twilio.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace cobrador::channels;
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    constexpr std::string_view kUrl = "https://cobrador.example.com/webhooks/twilio?x=1";
    constexpr std::string_view kToken = "fuzz-auth-token";
    const auto form = ParseForm(body);
    if (!form) {
        return 0;
    }
    const std::string signature = TwilioSignature(kUrl, *form, kToken);
    const auto parsed = ParseTwilioWebhook(body, signature, kUrl, kToken);
    if (!parsed && parsed.error() == WebhookError::kBadSignature) {
        std::abort();
    }
    if (ParseTwilioWebhook(body, signature, kUrl, "another-token")) {
        std::abort();
    }
    (void)SmsSegments(body);
    return 0;
}
