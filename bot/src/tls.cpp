#include "tls.hpp"

#include <boost/asio/ssl.hpp>

#include "bot/log.hpp"

#include <sys/stat.h>

namespace cobrador::bot {

namespace net = boost::asio;

boost::system::result<net::ssl::context, std::string> TlsContext(const Config& config) {
    net::ssl::context context(net::ssl::context::tls_server);
    context.set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                        net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                        net::ssl::context::no_tlsv1_1 | net::ssl::context::single_dh_use);
    boost::system::error_code error;
    if (context.use_certificate_chain_file(config.tls_cert, error)) {
        return {boost::system::in_place_error,
                "cannot use the certificate " + config.tls_cert + ": " + error.message()};
    }
    if (context.use_private_key_file(config.tls_key, net::ssl::context::pem, error)) {
        if (error.category() == net::error::get_ssl_category() &&
            ERR_GET_REASON(static_cast<unsigned long>(error.value())) ==
                X509_R_KEY_VALUES_MISMATCH) {
            return {boost::system::in_place_error,
                    "the private key " + config.tls_key + " does not match the certificate " +
                        config.tls_cert};
        }
        return {boost::system::in_place_error,
                "cannot use the private key " + config.tls_key + ": " + error.message()};
    }
    if (SSL_CTX_check_private_key(context.native_handle()) != 1) {
        return {boost::system::in_place_error,
                "the private key " + config.tls_key + " does not match the certificate " +
                    config.tls_cert};
    }

    struct stat key_file {};

    if (::stat(config.tls_key.c_str(), &key_file) == 0 && (key_file.st_mode & S_IROTH) != 0) {
        Log(LogLevel::kWarn,
            "the TLS private key is readable by every user on this machine; chmod o-r it",
            {{"file", config.tls_key}});
    }
    return context;
}

}  // namespace cobrador::bot
