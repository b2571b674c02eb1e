#pragma once
// Group commit: ledger writes from many coroutines (webhooks, the dispatcher's send records)
// queue here; the ledger's thread takes everything queued and runs it in one transaction, so
// one fsync makes a whole group durable. Each write keeps its own all-or-nothing (a
// savepoint); every waiting coroutine resumes only after the COMMIT, with its own answer, or
// with the COMMIT's error when the group did not become durable. While one group commits, the
// next one gathers: the busier the server, the larger the groups. SQLite only: on PostgreSQL
// LedgerThread runs each write as its own transaction on a connection of its pool.

#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "store/ledger.hpp"

namespace cobrador::bot {

class GroupCommit {
public:
    // `pool` is the ledger's own single thread; `ledger` is only used there.
    GroupCommit(boost::asio::thread_pool& pool, store::Ledger& ledger)
        : pool_(pool), ledger_(ledger) {}

    GroupCommit(const GroupCommit&) = delete;
    GroupCommit& operator=(const GroupCommit&) = delete;

    // Runs `work(ledger)` (calls on the ledger returning a store::Result) in the next group and
    // answers once it is durable. `work` runs on the ledger's thread while the caller waits:
    // capture by reference (bot/include/bot/offload.hpp says why).
    template <class F>
    boost::asio::awaitable<std::invoke_result_t<F&, store::Ledger&>> Write(F work) {
        using R = std::invoke_result_t<F&, store::Ledger&>;
        return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void(R)>(
            [this](auto handler, F w) {
                using H = decltype(handler);
                Enqueue(std::make_unique<Entry<F, H>>(std::move(w), std::move(handler)));
            },
            boost::asio::use_awaitable,
            std::move(work));
    }

private:
    struct EntryBase {
        virtual ~EntryBase() = default;
        virtual void Run(store::Ledger& ledger) = 0;
        // Hands the answer to the waiting coroutine, on its own executor.
        virtual void Finish(const boost::system::error_code& group_failed) = 0;
    };

    template <class F, class H>
    struct Entry final : EntryBase {
        using R = std::invoke_result_t<F&, store::Ledger&>;

        Entry(F w, H h) : work(std::move(w)), handler(std::move(h)) {}

        void Run(store::Ledger& ledger) override { answer.emplace(work(ledger)); }

        void Finish(const boost::system::error_code& group_failed) override {
            R result = group_failed || !answer
                           ? R(group_failed ? group_failed : make_error_code(store::Errc::kIo))
                           : std::move(*answer);
            auto executor = boost::asio::get_associated_executor(handler);
            boost::asio::post(executor, [h = std::move(handler), r = std::move(result)]() mutable {
                std::move(h)(std::move(r));
            });
        }

        F work;
        H handler;
        std::optional<R> answer;
    };

    void Enqueue(std::unique_ptr<EntryBase> entry) {
        bool schedule = false;
        {
            std::lock_guard lock(mutex_);
            queue_.push_back(std::move(entry));
            schedule = !scheduled_;
            scheduled_ = true;
        }
        if (schedule) {
            boost::asio::post(pool_, [this] { Flush(); });
        }
    }

    // On the ledger's thread.
    void Flush() {
        std::vector<std::unique_ptr<EntryBase>> group;
        {
            std::lock_guard lock(mutex_);
            group.swap(queue_);
            scheduled_ = false;
        }
        if (group.empty()) {
            return;
        }
        auto committed = ledger_.InOneTransaction([&] {
            for (auto& entry : group) {
                if (!ledger_.InTransaction()) {
                    return;  // SQLite dropped the transaction: the rest fails with the group
                }
                entry->Run(ledger_);
            }
        });
        const boost::system::error_code failed =
            committed ? boost::system::error_code{} : committed.error();
        for (auto& entry : group) {
            entry->Finish(failed);
        }
    }

    boost::asio::thread_pool& pool_;
    store::Ledger& ledger_;
    std::mutex mutex_;
    std::vector<std::unique_ptr<EntryBase>> queue_;  // guarded by mutex_
    bool scheduled_ = false;                         // guarded by mutex_
};

}  // namespace cobrador::bot
