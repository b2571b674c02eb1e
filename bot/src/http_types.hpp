#pragma once
// The request and response types every route uses, and the few ways we build an answer.

#include <string>
#include <string_view>

#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

namespace cobrador::bot {

namespace http = boost::beast::http;

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

inline Response MakeResponse(http::status status, std::string body, std::string_view content_type) {
    Response res{status, 11};
    res.set(http::field::server, "cobrador");
    res.set(http::field::content_type, content_type);
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
}

inline Response Json(http::status status, const nlohmann::json& body) {
    return MakeResponse(status, body.dump() + "\n", "application/json");
}

inline Response Error(http::status status, std::string_view message) {
    return Json(status, {{"error", message}});
}

// The collector API's errors also carry a stable code (docs/api.md).
inline Response ApiError(http::status status, std::string_view code, std::string_view message) {
    return Json(status, {{"error", message}, {"code", code}});
}

}  // namespace cobrador::bot
