#pragma once
// HTTPS served directly (COBRADOR_TLS_CERT, COBRADOR_TLS_KEY).

#include <string>

#include <boost/asio/ssl/context.hpp>
#include <boost/system/result.hpp>

#include "bot/config.hpp"

namespace cobrador::bot {

// The server's TLS: TLS 1.2 and 1.3 only, OpenSSL's default ciphers (Debian's policy), the
// certificate chain and key from PEM files. Errors name the file, never its content.
boost::system::result<boost::asio::ssl::context, std::string> TlsContext(const Config& config);

}  // namespace cobrador::bot
