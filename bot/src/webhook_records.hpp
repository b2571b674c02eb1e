#pragma once
// Turns what a provider's webhook said into what the ledger stores. Pure.

#include <cstdint>
#include <string>
#include <vector>

#include "channels/message.hpp"
#include "store/messaging.hpp"

namespace cobrador::bot {

store::InboundRecord ToRecord(const channels::InboundMessage& message);
store::StatusRecord ToRecord(const channels::StatusUpdate& status);

// Unix seconds as ISO 8601 UTC ("2026-11-22T10:00:00Z"); empty for 0.
std::string IsoFromUnix(std::int64_t seconds);

// The text an inbound payload carries ("" when none).
std::string PayloadText(const std::string& payload);

// The id of the WhatsApp button or list row an inbound payload chose ("" when none).
std::string PayloadReplyId(const std::string& payload);

// The files a stored message carries (ToRecord's "media"), as the ledger records them; none for
// a payload without them.
std::vector<store::MediaRecord> PayloadMedia(const std::string& payload);

}  // namespace cobrador::bot
