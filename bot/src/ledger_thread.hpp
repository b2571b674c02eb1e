#pragma once
// The ledger's own thread: the one place a store::Ledger lives in the server. Nothing else holds
// a Ledger&, so the ledger cannot be used from an I/O thread by mistake: every use is a function
// of `store::Ledger&` that runs here.
//
// - Run(f): f(ledger) on this thread; the calling coroutine resumes on its own executor.
// - Write(f): f(ledger) in the next group commit (group_commit.hpp); answers once durable.
// - Post(f): f(ledger) here, later; nobody waits (workers, timers).
//
// On PostgreSQL (one connection cannot commit faster than one WAL flush at a time, and there is
// no group commit there) Run and Write go to a pool of `lanes` more threads, each call on a
// connection of its own for its duration; Post stays on the one thread, so the inbound worker
// and the timers stay one at a time, in order.
//
// A failed call's detail (Ledger::LastError, which the next call rewrites) is logged here, on
// this thread, with the error; callers see the error code alone.

#include <mutex>
#include <type_traits>
#include <utility>
#include <vector>

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
    // `lanes`: more connections to the same database for Run and Write (PostgreSQL); empty
    // keeps everything on `ledger`'s thread.
    explicit LedgerThread(store::Ledger ledger, std::vector<store::Ledger> lanes = {})
        : ledger_(std::move(ledger)),
          commits_(pool_, ledger_),
          lanes_(std::move(lanes)),
          lane_pool_(lanes_.empty() ? 1 : lanes_.size()) {
        for (store::Ledger& lane : lanes_) {
            free_lanes_.push_back(&lane);
        }
    }

    ~LedgerThread() {
        pool_.join();
        lane_pool_.join();
    }

    LedgerThread(const LedgerThread&) = delete;
    LedgerThread& operator=(const LedgerThread&) = delete;

    // `work` captures by reference: the caller's frame outlives the call (offload.hpp).
    template <class F>
    boost::asio::awaitable<std::invoke_result_t<F&, store::Ledger&>> Run(F work) {
        // The pool's executors have one type; the lanes' pool is idle when there are none.
        co_return co_await Offload(
            lanes_.empty() ? pool_.get_executor() : lane_pool_.get_executor(), [this, &work] {
                if (lanes_.empty()) {
                    return Logged(ledger_, work(ledger_));
                }
                store::Ledger& lane = TakeLane();
                auto result = Logged(lane, work(lane));
                GiveLane(lane);
                return result;
            });
    }

    template <class F>
    boost::asio::awaitable<std::invoke_result_t<F&, store::Ledger&>> Write(F work) {
        // On lanes each write is its own transaction.
        return lanes_.empty() ? commits_.Write(std::move(work)) : Run(std::move(work));
    }

    template <class F>
    void Post(F work) {
        boost::asio::post(pool_, [this, w = std::move(work)]() mutable { w(ledger_); });
    }

    // Waits for queued work to finish; no more is taken after Stop().
    void Join() {
        pool_.join();
        lane_pool_.join();
    }

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

    // Never waits: lane_pool_ has as many threads as there are lanes, so one is always free
    // for the call that runs on one of its threads.
    store::Ledger& TakeLane() {
        std::lock_guard lock(lane_mutex_);
        store::Ledger* lane = free_lanes_.back();
        free_lanes_.pop_back();
        return *lane;
    }

    void GiveLane(store::Ledger& lane) {
        std::lock_guard lock(lane_mutex_);
        free_lanes_.push_back(&lane);
    }

    boost::asio::thread_pool pool_{1};
    store::Ledger ledger_;  // used only on pool_'s thread
    GroupCommit commits_;
    std::vector<store::Ledger> lanes_;
    boost::asio::thread_pool lane_pool_;
    std::mutex lane_mutex_;
    std::vector<store::Ledger*> free_lanes_;  // guarded by lane_mutex_
};

}  // namespace cobrador::bot
