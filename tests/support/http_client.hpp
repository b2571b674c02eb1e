#pragma once
// A plain blocking HTTP/1.1 client over loopback, for tests that talk to the real server.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cobrador::testing {

struct HttpResponse {
    unsigned status = 0;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
};

// One request on a new connection. Throws on connection errors (a test failure).
HttpResponse HttpRequest(std::uint16_t port,
                         const std::string& method,
                         const std::string& target,
                         const std::string& body = {},
                         const std::map<std::string, std::string>& headers = {});

// An application/x-www-form-urlencoded body, as Twilio sends it.
std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields);

// Base64 (RFC 4648, with padding), as HTTP Basic credentials and providers' hashes use it.
std::string Base64(std::string_view bytes);

}  // namespace cobrador::testing
