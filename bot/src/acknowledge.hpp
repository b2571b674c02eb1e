#pragma once
// The bot's answer while the collection dialog is not built: a neutral acknowledgement that
// names the creditor and says nothing about any debt (a phone may not be the debtor's). It
// goes through the outbox like every reply, which is what the channels path needs proven.

#include <string>

#include "channels/message.hpp"

namespace cobrador::bot {

channels::OutboundMessage Acknowledgement(const std::string& locale,
                                          const std::string& company_name,
                                          const std::string& reply_to);

}  // namespace cobrador::bot
