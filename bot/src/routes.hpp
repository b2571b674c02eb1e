#pragma once
// The server's routes in one table: path (exact, or a prefix ending in '/'), the methods it
// takes, the label its requests are counted under in /metrics, and its handler. Handle()
// answers 405 with Allow for a known path and another method, 404 for an unknown path.

#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "api.hpp"
#include "http_types.hpp"
#include "services.hpp"
#include "webhooks.hpp"

namespace cobrador::bot {

class Routes {
public:
    // `extra_metrics` fills the gauges only the server knows (open connections) before /metrics
    // is written.
    Routes(Services& services, Webhooks& webhooks, std::function<void(Metrics&)> extra_metrics)
        : s_(services), webhooks_(webhooks), extra_metrics_(std::move(extra_metrics)) {}

    boost::asio::awaitable<Response> Handle(const Request& req);

    // The metric label of a request target: a route's own label, never text from the request.
    static std::string Label(std::string_view target);

    Services& services() { return s_; }

    Webhooks& webhooks() { return webhooks_; }

    ApiContext& api() { return s_; }

    boost::asio::awaitable<std::string> MetricsText();

private:
    Services& s_;
    Webhooks& webhooks_;
    std::function<void(Metrics&)> extra_metrics_;
};

// 405 with the Allow header.
Response NotAllowed(std::string_view allow);

// Registers the HELP and TYPE of every metric the server itself counts.
void DescribeServerMetrics(Metrics& metrics);

}  // namespace cobrador::bot
