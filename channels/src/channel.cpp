#include "channels/channel.hpp"

namespace cobrador::channels {

std::string_view ToString(Channel channel) {
    switch (channel) {
        case Channel::kWhatsApp:
            return "whatsapp";
        case Channel::kSms:
            return "sms";
        case Channel::kSandbox:
            return "sandbox";
    }
    return "sandbox";
}

std::optional<Channel> ChannelFromString(std::string_view name) {
    for (const Channel c : {Channel::kWhatsApp, Channel::kSms, Channel::kSandbox}) {
        if (ToString(c) == name) {
            return c;
        }
    }
    return std::nullopt;
}

}  // namespace cobrador::channels
