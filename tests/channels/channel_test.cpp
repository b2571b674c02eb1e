#include "channels/channel.hpp"

#include <catch2/catch.hpp>

namespace cobrador::channels {
namespace {

TEST_CASE("Channel names round-trip and nothing else parses", "[channels]") {
    for (const Channel c : {Channel::kWhatsApp, Channel::kSms, Channel::kSandbox}) {
        CHECK(ChannelFromString(ToString(c)) == c);
    }
    CHECK(ToString(Channel::kWhatsApp) == "whatsapp");
    CHECK(ToString(Channel::kSms) == "sms");
    CHECK_FALSE(ChannelFromString("WhatsApp"));
    CHECK_FALSE(ChannelFromString(""));
    CHECK_FALSE(ChannelFromString("email"));
}

}  // namespace
}  // namespace cobrador::channels
