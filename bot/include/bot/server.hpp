#pragma once
// The HTTP server: Boost.Beast on an Asio io_context run by `io_threads` threads, a strand per
// connection, a 1 MiB body limit and read timeouts. The ledger lives on its own thread; no I/O
// thread ever waits on the disk. Stop() (or SIGINT/SIGTERM) stops accepting, lets requests in
// flight finish, and returns from Run().
//
// Routes: /healthz, /readyz, /metrics, the provider webhooks, the collector API under /api/v1
// (docs/api.md) with its live event stream, the console under /console/, and with --demo the
// sandbox phone (/sandbox/messages).

#include <cstdint>
#include <memory>
#include <string>

#include <boost/system/result.hpp>

#include "bot/config.hpp"

namespace cobrador::bot {

class Server {
public:
    explicit Server(Config config);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Opens the ledger and binds the listening socket; returns the bound port (useful with
    // port 0). The error is a message for a person.
    boost::system::result<std::uint16_t, std::string> Start();

    // Serves until Stop() or a SIGINT/SIGTERM, then drains and returns. Call after Start().
    void Run();

    // Asks the server to stop; safe from any thread and from a signal-free context.
    void Stop();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace cobrador::bot
