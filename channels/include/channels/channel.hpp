#pragma once
// The channels a debtor can be reached on, and their stable names in the ledger and the API.

#include <optional>
#include <string_view>

namespace cobrador::channels {

enum class Channel {
    kWhatsApp,  // Meta's WhatsApp Cloud API
    kSms,       // Twilio Programmable Messaging
    kSandbox,   // --demo: replies stay on this machine, visible in the console and `chat`
};

// "whatsapp", "sms", "sandbox": the names persisted in the ledger. Never persist the integer.
std::string_view ToString(Channel channel);

// The inverse of ToString; nullopt for any other text.
std::optional<Channel> ChannelFromString(std::string_view name);

}  // namespace cobrador::channels
