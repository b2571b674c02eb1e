#include "acknowledge.hpp"

namespace cobrador::bot {

channels::OutboundMessage Acknowledgement(const std::string& locale,
                                          const std::string& company_name,
                                          const std::string& reply_to) {
    channels::OutboundMessage message;
    message.text = locale == "en-US" ? "Hi, this is " + company_name +
                                           ". We got your message and will answer you shortly."
                                     : "Hola, te escribe " + company_name +
                                           ". Recibimos tu mensaje y en breve te respondemos.";
    message.reply_to = reply_to;
    return message;
}

}  // namespace cobrador::bot
