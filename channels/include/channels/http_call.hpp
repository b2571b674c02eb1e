#pragma once
// A provider request, rendered but not sent, and what its answer meant.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cobrador::channels {

struct HttpCall {
    std::string method = "POST";
    std::string url;  // absolute: scheme, host, optional port, path
    std::vector<std::pair<std::string, std::string>> headers;  // incl. Authorization, Content-Type
    std::string body;
    // A longer answer fails with http::error::body_limit (a media file over the limit, a
    // misbehaving API) instead of being read into memory.
    std::size_t max_response_bytes = 4 * 1024 * 1024;
};

struct SendOutcome {
    enum class Kind {
        kSent,       // accepted; provider_message_id set
        kRetry,      // transient: try again later (honour retry_after when set)
        kPermanent,  // will not succeed by retrying: record error_code, stop
    };
    Kind kind = Kind::kRetry;
    std::string provider_message_id;
    std::string error_code;
    std::string error_message;  // the provider's words, for the transcript; no secrets
    std::optional<std::chrono::seconds> retry_after;
};

}  // namespace cobrador::channels
