#pragma once
// Runs blocking work (SQLite) on another executor and resumes the calling coroutine on its own
// executor. `co_await asio::post(pool, use_awaitable)` would not leave the I/O thread; this does.

#include <type_traits>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace cobrador::bot {

namespace detail {

// The work is a parameter, so it lives in the coroutine's frame. (A coroutine lambda's captures
// live in the closure object, which is gone once co_spawn has called it.)
template <class F>
boost::asio::awaitable<std::invoke_result_t<F&>> RunWork(F work) {
    co_return work();
}

}  // namespace detail

// GCC 12 destroys temporaries in a co_await full-expression twice (GCC bug 99576 and kin), so
// `work` must not own anything: capture by reference. The caller's frame keeps those alive until
// the work is done.
template <class Executor, class F>
boost::asio::awaitable<std::invoke_result_t<F&>> Offload(Executor blocking_executor, F work) {
    co_return co_await boost::asio::co_spawn(
        blocking_executor, detail::RunWork(std::move(work)), boost::asio::use_awaitable);
}

}  // namespace cobrador::bot
