#pragma once
// Runs blocking work (SQLite) on another executor and resumes the calling coroutine on its own
// executor. `co_await asio::post(pool, use_awaitable)` would not leave the I/O thread; this does.

#include <type_traits>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace cobrador::bot {

template <class Executor, class F>
boost::asio::awaitable<std::invoke_result_t<F&>> Offload(Executor blocking_executor, F work) {
    co_return co_await boost::asio::co_spawn(
        blocking_executor,
        [work = std::move(work)]() mutable -> boost::asio::awaitable<std::invoke_result_t<F&>> {
            co_return work();
        },
        boost::asio::use_awaitable);
}

}  // namespace cobrador::bot
