// Any bytes as a WhatsApp webhook, correctly signed so that the JSON parser is what gets
// exercised: parsing never crashes, never throws, and a signed body never fails the signature.
// The same bytes as the Graph API's answer about a media id, as a media id, and as a file's
// first bytes (channels/media.hpp).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "channels/media.hpp"
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
            for (const MediaRef& media : message.media) {
                if (media.id.empty() || media.kind != message.kind) {
                    std::abort();  // nothing to fetch is not a file
                }
            }
        }
    }
    // The Graph API's answer: a URL to fetch is always http(s).
    std::string why;
    if (const auto info = ParseWhatsAppMediaInfo(body, why)) {
        if (info->url.rfind("https://", 0) != 0 && info->url.rfind("http://", 0) != 0) {
            std::abort();
        }
        if (info->size && *info->size < 0) {
            std::abort();
        }
    } else if (why.empty()) {
        std::abort();
    }
    // As a media id: a path segment under the base, or nothing at all.
    if (const auto call = WhatsAppMediaInfoCall("https://graph.example/v21.0", "t", body)) {
        const std::string_view rest = std::string_view(call->url).substr(28);
        if (call->url.rfind("https://graph.example/v21.0/", 0) != 0 ||
            rest.find_first_of("/?#%. ") != std::string_view::npos) {
            std::abort();
        }
    }
    // As a file: what the bytes are is a kind they fit.
    const std::string sniffed = SniffContentType(body);
    if (!sniffed.empty() && !ContentFitsKind(MediaKindOf(sniffed), sniffed)) {
        std::abort();
    }
    // The same bytes under another key never verify.
    if (ParseWhatsAppWebhook(body, signature, "another-secret")) {
        std::abort();
    }
    return 0;
}
