#pragma once
// The outbox keeps each message as channel-neutral JSON, so that a reply written today is sent
// the same way after a restart or an upgrade.

#include <optional>
#include <string>

#include "channels/message.hpp"

namespace cobrador::bot {

std::string OutboundToJson(const channels::OutboundMessage& message);

// nullopt when the JSON is not one this version wrote.
std::optional<channels::OutboundMessage> OutboundFromJson(const std::string& json);

}  // namespace cobrador::bot
