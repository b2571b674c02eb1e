#include "acknowledge.hpp"

#include "templates/catalog.hpp"

namespace cobrador::bot {

channels::OutboundMessage Acknowledgement(const std::string& locale,
                                          const std::string& company_name,
                                          const std::string& reply_to) {
    channels::OutboundMessage message;
    message.text =
        templates::Render(locale, "ack", {{"company", company_name}}).value_or(company_name);
    message.reply_to = reply_to;
    return message;
}

}  // namespace cobrador::bot
