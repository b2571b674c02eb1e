#pragma once
// A background worker's loop: on its own strand, one pass over the work that is due, then a
// pause (`every`) unless the pass says more is waiting or someone woke it meanwhile; until the
// server stops. A pass that throws is logged (`what` stopped) and ends the loop. Shared by the
// provider and media workers.

#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <string>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "bot/log.hpp"

#include "services.hpp"

namespace cobrador::bot {

// Runs `work` on `executor`, logging "<what> stopped" if it throws.
template <class Executor>
void SpawnLogged(const Executor& executor, boost::asio::awaitable<void> work, std::string what) {
    boost::asio::co_spawn(
        executor, std::move(work), [what = std::move(what)](const std::exception_ptr& failure) {
            if (failure) {
                try {
                    std::rethrow_exception(failure);
                } catch (const std::exception& e) {
                    Log(LogLevel::kError, what + " stopped", {{"error", e.what()}});
                }
            }
        });
}

// One queue of a pass: reads the rows due with `read` (a function of the ledger, run on its
// thread), logs `what` when that fails, and handles each row with `handle` (a coroutine) until
// the server stops; true when the batch was full (more may be waiting).
template <class Read, class Handle>
boost::asio::awaitable<bool> HandleDue(
    Services& s, std::size_t batch, const char* what, Read read, Handle handle) {
    auto due = co_await s.ledger.Run(read);
    if (!due) {
        Log(LogLevel::kError, what, {{"error", due.error().message()}});
        co_return false;
    }
    for (const auto& row : *due) {
        if (s.stopping) {
            break;
        }
        co_await handle(row);
    }
    co_return due->size() == batch;
}

class PollingLoop {
public:
    using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;
    // One pass over what is due; true when more is waiting (a full batch).
    using Pass = std::function<boost::asio::awaitable<bool>()>;

    PollingLoop(boost::asio::io_context& ioc,
                const std::atomic<bool>& stopping,
                std::chrono::seconds every,
                std::string what)
        : strand_(boost::asio::make_strand(ioc)),
          timer_(strand_),
          stopping_(stopping),
          every_(every),
          what_(std::move(what)) {}

    const Strand& strand() const { return strand_; }

    void Start(Pass pass) { SpawnLogged(strand_, Run(std::move(pass)), what_); }

    // Something was stored: look now (thread-safe).
    void Wake() {
        woken_ = true;
        boost::asio::post(strand_, [this] { timer_.cancel(); });
    }

    // Ends the pause; the loop sees the server stopping (thread-safe).
    void Stop() {
        boost::asio::post(strand_, [this] { timer_.cancel(); });
    }

private:
    boost::asio::awaitable<void> Run(Pass pass) {
        while (!stopping_) {
            woken_ = false;
            const bool more = co_await pass();
            if (stopping_) {
                break;
            }
            if (woken_ || more) {
                continue;
            }
            timer_.expires_after(every_);
            co_await timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
        }
    }

    Strand strand_;
    boost::asio::steady_timer timer_;
    const std::atomic<bool>& stopping_;
    std::chrono::seconds every_;
    std::string what_;
    std::atomic<bool> woken_{false};
};

}  // namespace cobrador::bot
