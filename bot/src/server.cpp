#include "bot/server.hpp"

#include <atomic>
#include <csignal>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "bot/log.hpp"
#include "bot/offload.hpp"
#include "store/ledger.hpp"

namespace cobrador::bot {

namespace net = boost::asio;     // from <boost/asio.hpp>
namespace beast = boost::beast;  // from <boost/beast.hpp>
namespace http = beast::http;    // from <boost/beast/http.hpp>
using tcp = net::ip::tcp;

namespace {

constexpr std::size_t kBodyLimit = 1024 * 1024;  // CONTRACT.md: 413 over 1 MiB
constexpr std::uint32_t kHeaderLimit = 16 * 1024;
constexpr auto kReadTimeout = std::chrono::seconds(30);
constexpr auto kDrainTimeout = std::chrono::seconds(10);

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

Response MakeResponse(http::status status, std::string body, std::string_view content_type) {
    Response res{status, 11};
    res.set(http::field::server, "cobrador");
    res.set(http::field::content_type, content_type);
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
}

Response Json(http::status status, const nlohmann::json& body) {
    return MakeResponse(status, body.dump() + "\n", "application/json");
}

Response Error(http::status status, std::string_view message) {
    return Json(status, {{"error", message}});
}

// Every connection's state that Stop() needs; touched only on the connection's strand.
struct Connection {
    beast::tcp_stream* stream = nullptr;
    bool idle = true;  // waiting for the next request, nothing in flight
};

}  // namespace

struct Server::Impl {
    Config config;
    net::io_context ioc;
    net::thread_pool db_pool{1};  // owns every use of `ledger`
    std::optional<store::Ledger> ledger;
    // The acceptor, the signals and the drain deadline are only touched on this strand.
    net::strand<net::io_context::executor_type> control{net::make_strand(ioc)};
    tcp::acceptor acceptor{control};
    net::signal_set signals{control, SIGINT, SIGTERM};
    net::steady_timer drain_deadline{control};
    std::atomic<bool> stopping{false};

    std::mutex connections_mutex;
    std::set<std::shared_ptr<Connection>> connections;  // guarded by connections_mutex

    std::mutex metrics_mutex;
    std::map<std::pair<std::string, unsigned>, std::uint64_t> requests;  // guarded by it

    explicit Impl(Config c) : config(std::move(c)), ioc(config.io_threads) {}

    void Count(const std::string& route, unsigned status) {
        const std::lock_guard lock(metrics_mutex);
        ++requests[{route, status}];
    }

    std::string MetricsText() {
        std::string out =
            "# HELP cobrador_http_requests_total HTTP requests answered, by route and status.\n"
            "# TYPE cobrador_http_requests_total counter\n";
        {
            const std::lock_guard lock(metrics_mutex);
            for (const auto& [key, count] : requests) {
                out += "cobrador_http_requests_total{route=\"" + key.first + "\",status=\"" +
                       std::to_string(key.second) + "\"} " + std::to_string(count) + "\n";
            }
        }
        std::size_t open = 0;
        {
            const std::lock_guard lock(connections_mutex);
            open = connections.size();
        }
        out +=
            "# HELP cobrador_http_connections Open HTTP connections.\n"
            "# TYPE cobrador_http_connections gauge\n"
            "cobrador_http_connections " +
            std::to_string(open) + "\n";
        out +=
            "# HELP cobrador_channel_enabled Whether a channel has credentials (1) or is off.\n"
            "# TYPE cobrador_channel_enabled gauge\n"
            "cobrador_channel_enabled{channel=\"whatsapp\"} " +
            std::string(config.WhatsAppEnabled() ? "1" : "0") +
            "\n"
            "cobrador_channel_enabled{channel=\"sms\"} " +
            std::string(config.SmsEnabled() ? "1" : "0") + "\n";
        return out;
    }

    static std::string RouteLabel(std::string_view target) {
        const std::string_view path = target.substr(0, target.find('?'));
        for (const char* known : {"/healthz", "/readyz", "/metrics"}) {
            if (path == known) {
                return known;
            }
        }
        return "other";
    }

    net::awaitable<Response> Handle(const Request& req) {
        const std::string_view target = req.target();
        const std::string_view path = target.substr(0, target.find('?'));
        const bool get = req.method() == http::verb::get || req.method() == http::verb::head;
        if (path == "/healthz" || path == "/readyz" || path == "/metrics") {
            if (!get) {
                Response res = Error(http::status::method_not_allowed, "use GET");
                res.set(http::field::allow, "GET, HEAD");
                co_return res;
            }
        }
        if (path == "/healthz") {
            co_return Json(http::status::ok, {{"status", "ok"}});
        }
        if (path == "/readyz") {
            auto ready = co_await Offload(db_pool.get_executor(), [this] {
                auto result = ledger->CheckReady();
                return std::make_pair(
                    result.has_error() ? result.error() : boost::system::error_code{},
                    ledger->LastError());
            });
            if (ready.first) {
                co_return Json(http::status::service_unavailable,
                               {{"status", "not ready"}, {"reason", ready.first.message()}});
            }
            co_return Json(
                http::status::ok,
                {{"status", "ready"}, {"schema_version", store::Ledger::LatestSchemaVersion()}});
        }
        if (path == "/metrics") {
            co_return MakeResponse(
                http::status::ok, MetricsText(), "text/plain; version=0.0.4; charset=utf-8");
        }
        co_return Error(http::status::not_found, "no such route");
    }

    net::awaitable<void> Serve(beast::tcp_stream stream) {
        auto connection = std::make_shared<Connection>();
        connection->stream = &stream;
        {
            const std::lock_guard lock(connections_mutex);
            connections.insert(connection);
        }
        beast::flat_buffer buffer;
        for (;;) {
            if (stopping) {
                break;
            }
            http::request_parser<http::string_body> parser;
            parser.header_limit(kHeaderLimit);
            parser.body_limit(kBodyLimit);
            connection->idle = true;
            stream.expires_after(kReadTimeout);
            auto [read_error, read_bytes] = co_await http::async_read(
                stream, buffer, parser, net::as_tuple(net::use_awaitable));
            connection->idle = false;
            std::optional<Response> response;
            bool keep_alive = false;
            if (read_error == http::error::body_limit) {
                response = Error(http::status::payload_too_large, "the body is over 1 MiB");
                Count("other", 413);
            } else if (read_error == http::error::end_of_stream || read_error == net::error::eof ||
                       read_error == net::error::operation_aborted ||
                       read_error == beast::error::timeout ||
                       read_error == net::error::connection_reset) {
                break;
            } else if (read_error) {
                response = Error(http::status::bad_request, "malformed HTTP request");
                Count("other", 400);
            } else {
                Request req = parser.release();
                response = co_await Handle(req);
                Count(RouteLabel(req.target()), response->result_int());
                keep_alive = req.keep_alive() && !stopping;
                if (req.method() == http::verb::head) {
                    response->body().clear();
                }
            }
            response->keep_alive(keep_alive);
            stream.expires_after(kReadTimeout);
            auto [write_error, written] =
                co_await http::async_write(stream, *response, net::as_tuple(net::use_awaitable));
            if (write_error || !keep_alive) {
                break;
            }
        }
        beast::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
        {
            const std::lock_guard lock(connections_mutex);
            connections.erase(connection);
        }
        if (stopping) {
            net::post(control, [this] { FinishDrainIfDone(); });
        }
    }

    // On `control`: once the last connection is gone, nothing holds the io_context any more.
    void FinishDrainIfDone() {
        const std::lock_guard lock(connections_mutex);
        if (connections.empty()) {
            drain_deadline.cancel();
        }
    }

    net::awaitable<void> Listen() {
        for (;;) {
            auto [error, socket] = co_await acceptor.async_accept(
                net::make_strand(ioc), net::as_tuple(net::use_awaitable));
            if (error) {
                if (stopping || !acceptor.is_open()) {
                    co_return;
                }
                Log(LogLevel::kWarn, "accept failed", {{"error", error.message()}});
                continue;
            }
            auto executor = socket.get_executor();
            net::co_spawn(executor, Serve(beast::tcp_stream(std::move(socket))), LogFailure);
        }
    }

    static void LogFailure(const std::exception_ptr& failure) {
        if (!failure) {
            return;
        }
        try {
            std::rethrow_exception(failure);
        } catch (const std::exception& e) {
            Log(LogLevel::kError, "connection failed", {{"error", e.what()}});
        }
    }

    // Runs on `control`.
    void BeginShutdown() {
        if (stopping.exchange(true)) {
            return;
        }
        Log(LogLevel::kInfo, "shutting down: no new connections, finishing requests in flight");
        beast::error_code ignored;
        acceptor.close(ignored);
        signals.cancel();
        std::vector<std::shared_ptr<Connection>> open;
        {
            const std::lock_guard lock(connections_mutex);
            open.assign(connections.begin(), connections.end());
        }
        for (const auto& connection : open) {
            // Each connection's fields belong to its strand: close only the idle ones there.
            net::post(connection->stream->get_executor(), [connection] {
                if (connection->idle) {
                    connection->stream->cancel();
                }
            });
        }
        if (open.empty()) {
            return;
        }
        drain_deadline.expires_after(kDrainTimeout);
        drain_deadline.async_wait([this](const boost::system::error_code& error) {
            if (!error) {
                Log(LogLevel::kWarn, "requests still in flight after the drain timeout");
                ioc.stop();
            }
        });
        FinishDrainIfDone();
    }
};

Server::Server(Config config) : impl_(std::make_unique<Impl>(std::move(config))) {}

Server::~Server() {
    impl_->db_pool.join();
}

boost::system::result<std::uint16_t, std::string> Server::Start() {
    auto ledger = store::Ledger::Open(impl_->config.db_path);
    if (!ledger) {
        return {
            boost::system::in_place_error,
            "cannot open the ledger " + impl_->config.db_path + ": " + ledger.error().message()};
    }
    if (auto ready = ledger->CheckReady(); !ready) {
        Log(LogLevel::kWarn,
            "the ledger is not ready; /readyz answers 503 until it is",
            {{"reason", ready.error().message()}});
    }
    impl_->ledger.emplace(std::move(*ledger));

    beast::error_code error;
    tcp::resolver resolver(impl_->ioc);
    const auto endpoints = resolver.resolve(impl_->config.listen_host,
                                            std::to_string(impl_->config.listen_port),
                                            tcp::resolver::passive,
                                            error);
    if (error || endpoints.empty()) {
        return {boost::system::in_place_error,
                "cannot resolve " + impl_->config.listen_host + ": " + error.message()};
    }
    const tcp::endpoint endpoint = endpoints.begin()->endpoint();
    auto& acceptor = impl_->acceptor;
    if (acceptor.open(endpoint.protocol(), error) ||
        acceptor.set_option(net::socket_base::reuse_address(true), error) ||
        acceptor.bind(endpoint, error) ||
        acceptor.listen(net::socket_base::max_listen_connections, error)) {
        return {boost::system::in_place_error,
                "cannot listen on " + impl_->config.listen_host + ":" +
                    std::to_string(impl_->config.listen_port) + ": " + error.message()};
    }
    const std::uint16_t port = acceptor.local_endpoint().port();
    Log(LogLevel::kInfo,
        "listening",
        {{"address", endpoint.address().to_string()}, {"port", std::to_string(port)}});
    return port;
}

void Server::Run() {
    Impl& impl = *impl_;
    impl.signals.async_wait([&impl](const boost::system::error_code& error, int signal) {
        if (!error) {
            Log(LogLevel::kInfo, "signal received", {{"signal", std::to_string(signal)}});
            impl.BeginShutdown();
        }
    });
    net::co_spawn(impl.control, impl.Listen(), Impl::LogFailure);
    std::vector<std::thread> threads;
    for (int i = 1; i < impl.config.io_threads; ++i) {
        threads.emplace_back([&impl] { impl.ioc.run(); });
    }
    impl.ioc.run();
    for (auto& t : threads) {
        t.join();
    }
    impl.db_pool.join();
    Log(LogLevel::kInfo, "stopped");
}

void Server::Stop() {
    net::post(impl_->control, [impl = impl_.get()] { impl->BeginShutdown(); });
}

}  // namespace cobrador::bot
