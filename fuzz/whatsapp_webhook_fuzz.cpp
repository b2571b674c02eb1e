// Any bytes as a WhatsApp webhook, correctly signed so that the JSON parser is what gets
// exercised: parsing never crashes, never throws, and a signed body never fails the signature.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "channels/signature.hpp"
#include "channels/whatsapp.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace cobrador::channels;
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    constexpr std::string_view kSecret = "fuzz-app-secret";
    const std::string signature = "sha256=" + HmacSha256Hex(kSecret, body);
    const auto parsed = ParseWhatsAppWebhook(body, signature, kSecret);
    if (!parsed && parsed.error() == WebhookError::kBadSignature) {
        std::abort();
    }
    if (parsed) {
        for (const InboundMessage& message : parsed->messages) {
            if (message.channel != Channel::kWhatsApp) {
                std::abort();
            }
        }
    }
    // The same bytes under another key never verify.
    if (ParseWhatsAppWebhook(body, signature, "another-secret")) {
        std::abort();
    }
    return 0;
}
