#pragma once
// The ledger's own thread: the one place a store::Ledger lives in the server. Nothing else holds
// a Ledger&, so the ledger cannot be used from an I/O thread by mistake: every use is a function
// of `store::Ledger&` that runs here.
//
// - Run(f): f(ledger) on this thread; the calling coroutine resumes on its own executor.
// - Write(f): f(ledger) in the next group commit (group_commit.hpp); answers once durable.
// - Post(f): f(ledger) here, later; nobody waits (workers, timers).
//
// A failed call's detail (Ledger::LastError, which the next call rewrites) is logged here, on
// this thread, with the error; callers see the error code alone.

#include <type_traits>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include "bot/log.hpp"
#include "bot/offload.hpp"
#include "store/ledger.hpp"

#include "group_commit.hpp"

namespace cobrador::bot {

class LedgerThread {
public:
    explicit LedgerThread(store::Ledger ledger)
        : ledger_(std::move(ledger)), commits_(pool_, ledger_) {}

    ~LedgerThread() { pool_.join(); }

    LedgerThread(const LedgerThread&) = delete;
    LedgerThread& operator=(const LedgerThread&) = delete;

    // `work` captures by reference: the caller's frame outlives the call (offload.hpp).
    template <class F>
    boost::asio::awaitable<std::invoke_result_t<F&, store::Ledger&>> Run(F work) {
        store::Ledger& ledger = ledger_;
        co_return co_await Offload(pool_.get_executor(),
                                   [&ledger, &work] { return Logged(ledger, work(ledger)); });
    }

    template <class F>
    boost::asio::awaitable<std::invoke_result_t<F&, store::Ledger&>> Write(F work) {
        return commits_.Write(std::move(work));
    }

    template <class F>
    void Post(F work) {
        boost::asio::post(pool_, [this, w = std::move(work)]() mutable { w(ledger_); });
    }

    // Waits for queued work to finish; no more is taken after Stop().
    void Join() { pool_.join(); }

private:
    template <class R>
    static R Logged(store::Ledger& ledger, R result) {
        if constexpr (requires { result.has_error(); }) {
            if (result.has_error()) {
                Log(LogLevel::kWarn,
                    "ledger call failed",
                    {{"error", result.error().message()}, {"detail", ledger.LastError()}});
            }
        }
        return result;
    }

    boost::asio::thread_pool pool_{1};
    store::Ledger ledger_;  // used only on pool_'s thread
    GroupCommit commits_;
};

}  // namespace cobrador::bot
