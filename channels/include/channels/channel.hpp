#pragma once
// The channels a debtor can be reached on. The enum is the product's vocabulary
// (dialogs/vocabulary.hpp); these names keep the channels module's own spelling.

#include <optional>
#include <string_view>

#include "dialogs/vocabulary.hpp"

namespace cobrador::channels {

using dialogs::Channel;

// "whatsapp", "sms", "sandbox": the names persisted in the ledger. Never persist the integer.
inline std::string_view ToString(Channel channel) {
    return dialogs::ToString(channel);
}

// The inverse of ToString; nullopt for any other text.
inline std::optional<Channel> ChannelFromString(std::string_view name) {
    return dialogs::FromString<Channel>(name);
}

}  // namespace cobrador::channels
