#include "events.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

namespace cobrador::bot {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr auto kHeartbeat = std::chrono::seconds(15);
// A reader this far behind is told to re-read everything instead of being sent it all.
constexpr std::size_t kMaxQueued = 1000;

}  // namespace

std::shared_ptr<EventHub::Subscriber> EventHub::Subscribe(std::function<void()> wake,
                                                          std::function<void()> abort) {
    auto subscriber = std::make_shared<Subscriber>();
    subscriber->wake = std::move(wake);
    subscriber->abort = std::move(abort);
    const std::lock_guard lock(mutex_);
    subscriber->closed = closed_;
    subscribers_.insert(subscriber);
    return subscriber;
}

void EventHub::Unsubscribe(const std::shared_ptr<Subscriber>& subscriber) {
    const std::lock_guard lock(mutex_);
    subscribers_.erase(subscriber);
}

void EventHub::SetForward(
    std::function<void(std::optional<std::int64_t>, std::string_view)> forward) {
    forward_ = std::move(forward);
}

void EventHub::Publish(std::optional<std::int64_t> conversation, std::string_view change) {
    if (forward_) {
        forward_(conversation, change);
    }
    Deliver(conversation, change);
}

void EventHub::Deliver(std::optional<std::int64_t> conversation, std::string_view change) {
    nlohmann::json data = {{"id", nullptr}, {"change", change}};
    if (conversation) {
        data["id"] = *conversation;
    }
    const std::string frame = "event: conversation\ndata: " + data.dump() + "\n\n";
    const std::lock_guard lock(mutex_);
    for (const auto& subscriber : subscribers_) {
        {
            const std::lock_guard sub_lock(subscriber->mutex);
            if (subscriber->queue.size() >= kMaxQueued) {
                subscriber->queue.clear();
                subscriber->queue.push_back(
                    "event: conversation\ndata: {\"id\":null,\"change\":\"resync\"}\n\n");
            }
            subscriber->queue.push_back(frame);
        }
        subscriber->wake();
    }
}

void EventHub::Close() {
    const std::lock_guard lock(mutex_);
    closed_ = true;
    for (const auto& subscriber : subscribers_) {
        {
            const std::lock_guard sub_lock(subscriber->mutex);
            subscriber->closed = true;
        }
        subscriber->wake();
        subscriber->abort();
    }
}

std::size_t EventHub::Subscribers() const {
    const std::lock_guard lock(mutex_);
    return subscribers_.size();
}

template <class Stream>
net::awaitable<void> StreamEvents(Stream& stream, EventHub& hub, StillAllowed allowed) {
    auto executor = co_await net::this_coro::executor;
    auto timer = std::make_shared<net::steady_timer>(executor);
    // Wake-ups and aborts are posted to this stream's executor (a strand), where the wait and
    // the writes run, so they never race them; `alive` turns false there before the stream goes.
    auto alive = std::make_shared<bool>(true);
    auto subscriber =
        hub.Subscribe([timer, executor] { net::post(executor, [timer] { timer->cancel(); }); },
                      [alive, executor, &stream] {
                          net::post(executor, [alive, &stream] {
                              if (*alive) {
                                  beast::get_lowest_layer(stream).cancel();
                              }
                          });
                      });

    http::response<http::empty_body> head{http::status::ok, 11};
    head.set(http::field::server, "cobrador");
    head.set(http::field::content_type, "text/event-stream; charset=utf-8");
    head.set(http::field::cache_control, "no-cache, no-store");
    head.set("X-Accel-Buffering", "no");  // nginx: pass each event on at once
    head.keep_alive(false);               // the stream ends with the connection
    http::response_serializer<http::empty_body> serializer{head};
    beast::get_lowest_layer(stream).expires_never();
    auto [head_error, head_bytes] =
        co_await http::async_write_header(stream, serializer, net::as_tuple(net::use_awaitable));
    std::string out = head_error ? std::string() : std::string(": connected\n\n");
    auto checked = std::chrono::steady_clock::now();
    for (bool open = !head_error; open;) {
        // A disabled reader hears nothing more: asked when the team changed, and every heartbeat.
        const bool team_changed = out.find("\"change\":\"agents\"") != std::string::npos;
        if (allowed && (team_changed || std::chrono::steady_clock::now() - checked >= kHeartbeat)) {
            checked = std::chrono::steady_clock::now();
            if (!co_await allowed()) {
                break;
            }
        }
        if (!out.empty()) {
            beast::get_lowest_layer(stream).expires_after(
                kHeartbeat * 2);  // a reader that stopped reading is let go
            auto [error, written] = co_await net::async_write(
                stream, net::buffer(out), net::as_tuple(net::use_awaitable));
            if (error) {
                break;
            }
            out.clear();
        }
        {
            const std::lock_guard lock(subscriber->mutex);
            open = !subscriber->closed;
            while (!subscriber->queue.empty()) {
                out += subscriber->queue.front();
                subscriber->queue.pop_front();
            }
        }
        if (!out.empty() || !open) {
            continue;
        }
        timer->expires_after(kHeartbeat);
        auto [wait_error] = co_await timer->async_wait(net::as_tuple(net::use_awaitable));
        if (!wait_error) {
            out = ": ping\n\n";  // no news for a while: keeps proxies from closing the stream
        }
    }
    *alive = false;
    hub.Unsubscribe(subscriber);
}

template net::awaitable<void> StreamEvents(beast::tcp_stream&, EventHub&, StillAllowed);
template net::awaitable<void> StreamEvents(beast::ssl_stream<beast::tcp_stream>&,
                                           EventHub&,
                                           StillAllowed);

}  // namespace cobrador::bot
