#pragma once
// Live updates for the console: what changed in which conversation, pushed to every open
// `GET /api/v1/events` stream as server-sent events. An event names the change, not the data
// (the console fetches the conversation), so a slow reader loses nothing it cannot re-read.

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace cobrador::bot {

class EventHub {
public:
    // One open stream. `wake` is called (from any thread) when there is something to read.
    struct Subscriber {
        std::mutex mutex;
        std::deque<std::string> queue;  // SSE frames, ready to write
        bool closed = false;
        std::function<void()> wake;
        std::function<void()> abort;  // ends a write in progress (the server is stopping)
    };

    std::shared_ptr<Subscriber> Subscribe(std::function<void()> wake, std::function<void()> abort);
    void Unsubscribe(const std::shared_ptr<Subscriber>& subscriber);

    // `conversation` is empty when the change is not tied to one we know of (a status callback).
    // Goes to this process's streams and, when set, to the other replicas (SetForward).
    void Publish(std::optional<std::int64_t> conversation, std::string_view change);

    // A change another replica made: to this process's streams only.
    void Deliver(std::optional<std::int64_t> conversation, std::string_view change);

    // Where Publish also sends each change (the cluster channel). Set before serving starts.
    void SetForward(std::function<void(std::optional<std::int64_t>, std::string_view)> forward);

    // The server is stopping: every stream ends.
    void Close();

    std::size_t Subscribers() const;

private:
    mutable std::mutex mutex_;
    std::set<std::shared_ptr<Subscriber>> subscribers_;
    bool closed_ = false;
    std::function<void(std::optional<std::int64_t>, std::string_view)> forward_;
};

// Writes the SSE response on `stream` until the client goes away or the hub closes: the
// events as they come and a comment every 15 seconds. Runs on the stream's executor. For
// plain HTTP and for HTTPS served directly.
// `allowed` says whether the reader may still listen (their token still works); it is asked
// when the team changes (an "agents" event: someone disabled) and at least every heartbeat, and
// the stream ends when it says no.
using StillAllowed = std::function<boost::asio::awaitable<bool>()>;

template <class Stream>
boost::asio::awaitable<void> StreamEvents(Stream& stream, EventHub& hub, StillAllowed allowed);

extern template boost::asio::awaitable<void> StreamEvents(boost::beast::tcp_stream&,
                                                          EventHub&,
                                                          StillAllowed);
extern template boost::asio::awaitable<void> StreamEvents(
    boost::beast::ssl_stream<boost::beast::tcp_stream>&, EventHub&, StillAllowed);

}  // namespace cobrador::bot
