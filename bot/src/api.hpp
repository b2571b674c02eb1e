#pragma once
// The collector API under /api/v1 (docs/api.md): bearer-token agents, the queue, a
// conversation, claim / send / release / close / notes. Every ledger call runs on the ledger's
// thread; the answers are JSON.

#include <chrono>
#include <optional>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>

#include "bot/config.hpp"
#include "store/ledger.hpp"

#include "events.hpp"
#include "http_types.hpp"
#include "services.hpp"

namespace cobrador::bot {

// The API uses the server's shared context: config, the ledger's thread, live events, and
// waking the dispatcher after a collector's message is queued.
using ApiContext = Services;

// The agent the request's `Authorization: Bearer` token belongs to, or the 401/503 to answer.
boost::asio::awaitable<std::variant<store::Agent, Response>> Authenticate(ApiContext& api,
                                                                          const Request& req);

// Answers a request whose path starts with /api/v1/ (other than the events stream, which the
// connection loop serves itself after Authenticate).
boost::asio::awaitable<Response> HandleApi(ApiContext& api,
                                           const Request& req,
                                           std::string_view path,
                                           std::string_view query);

// The label /metrics counts an API route under ("/api/v1/conversations/{id}/claim").
std::string ApiRouteLabel(std::string_view path);

}  // namespace cobrador::bot
