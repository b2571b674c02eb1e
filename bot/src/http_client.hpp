#pragma once
// The HTTP(S) client the outbox dispatcher sends through: Beast over TCP or OpenSSL, with
// certificate and host-name verification against the system's trust store, a keep-alive pool
// (idle connections per origin), and a deadline on every request. http:// bases are for tests
// and local fakes.
//
// Thread-safety: one client per executor; Send may run concurrently for different requests
// (the pool is guarded by a mutex).

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include "channels/http_call.hpp"

namespace cobrador::bot {

struct ClientResponse {
    boost::system::error_code error;  // network failure, timeout, TLS failure: nothing received
    unsigned status = 0;
    std::string body;
    std::string retry_after;               // the Retry-After header, if any
    std::string content_type;              // the Content-Type header, if any
    std::string location;                  // the Location header of a redirect, if any
    std::vector<std::string> set_cookies;  // each Set-Cookie header's value
};

class HttpClient {
public:
    explicit HttpClient(boost::asio::any_io_executor executor);
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    boost::asio::awaitable<ClientResponse> Send(channels::HttpCall call,
                                                std::chrono::milliseconds timeout);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace cobrador::bot
