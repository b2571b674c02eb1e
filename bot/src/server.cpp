// The HTTP server: the listener, each connection's session (Beast, plain or TLS, one request at
// a time with limits and timeouts), the live-event stream, and a graceful stop. What a request
// does is the routes' business (routes.hpp); the parts are wired together in Start().

#include "bot/server.hpp"

#include <array>
#include <atomic>
#include <csignal>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <type_traits>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "bot/log.hpp"
#include "store/ledger.hpp"

#include "api.hpp"
#include "cluster_events.hpp"
#include "conversation.hpp"
#include "dispatcher.hpp"
#include "events.hpp"
#include "housekeeping.hpp"
#include "http_types.hpp"
#include "inbound_worker.hpp"
#include "ledger_thread.hpp"
#include "media_worker.hpp"
#include "metrics.hpp"
#include "proactive.hpp"
#include "routes.hpp"
#include "services.hpp"
#include "tls.hpp"
#include "webhooks.hpp"

namespace cobrador::bot {

namespace net = boost::asio;     // from <boost/asio.hpp>
namespace beast = boost::beast;  // from <boost/beast.hpp>
namespace http = beast::http;    // from <boost/beast/http.hpp>
using tcp = net::ip::tcp;

namespace {

constexpr std::size_t kBodyLimit = 1024 * 1024;  // CONTRACT.md: 413 over 1 MiB
// After a 413 or a 400, what the client still sends is read and dropped before closing (so that
// it reads the answer instead of a reset), for at most this long and this much.
constexpr auto kUnreadTimeout = std::chrono::seconds(5);
constexpr std::size_t kUnreadLimit = 64 * 1024 * 1024;
constexpr std::uint32_t kHeaderLimit = 16 * 1024;
constexpr auto kReadTimeout = std::chrono::seconds(30);
constexpr auto kDrainTimeout = std::chrono::seconds(10);
constexpr auto kTlsTimeout = std::chrono::seconds(10);  // the handshake, the close_notify

using TlsStream = beast::ssl_stream<beast::tcp_stream>;
template <class Stream>
constexpr bool kIsTls = std::is_same_v<Stream, TlsStream>;

// Every connection's state that Stop() needs; touched only on the connection's strand.
struct Connection {
    beast::tcp_stream* stream = nullptr;  // the TCP layer, under TLS too
    bool idle = true;                     // waiting for the next request, nothing in flight
};

}  // namespace

struct Server::Impl {
    Config config;
    net::io_context ioc;
    std::optional<dialogs::Settings> dialog;            // set by Start()
    std::optional<dialogs::ReminderStrategy> strategy;  // set by Start()
    std::vector<OwnReply> replies;                      // set by Start()
    // The acceptor, the signals and the drain deadline are only touched on this strand.
    net::strand<net::io_context::executor_type> control{net::make_strand(ioc)};
    tcp::acceptor acceptor{control};
    std::optional<net::ssl::context> tls;  // set by Start() when a certificate is configured
    net::signal_set signals{control, SIGINT, SIGTERM};
    net::steady_timer drain_deadline{control};
    std::atomic<bool> stopping{false};

    std::mutex connections_mutex;
    std::set<std::shared_ptr<Connection>> connections;  // guarded by connections_mutex

    Metrics metrics;
    EventHub events;
    // The parts, wired by Start(); the ledger's thread outlives them all but the dispatcher.
    std::unique_ptr<LedgerThread> ledger;
    std::optional<Services> services;
    std::optional<InboundWorker> inbound;
    std::optional<ProviderWorker> provider_worker;
    std::optional<MediaWorker> media_worker;
    std::optional<Webhooks> webhooks;
    std::optional<Routes> routes;
    std::optional<Housekeeping> housekeeping;
    std::unique_ptr<Dispatcher> dispatcher;
    std::unique_ptr<ClusterEvents> cluster_events;  // several replicas: PostgreSQL only

    explicit Impl(Config c) : config(std::move(c)), ioc(config.io_threads) {
        DescribeServerMetrics(metrics);
    }

    void WakeDispatcher() {
        if (dispatcher) {
            dispatcher->Wake();
        }
    }

    // GET /api/v1/events: authenticated like the rest of the API, then the connection becomes
    // the event stream until the client leaves or the server stops.
    template <class Stream>
    net::awaitable<std::optional<Response>> EventStream(Stream& stream, const Request& req) {
        if (req.method() != http::verb::get) {
            co_return NotAllowed("GET");
        }
        auto auth = co_await Authenticate(*services, req);
        if (auto* refused = std::get_if<Response>(&auth)) {
            co_return std::move(*refused);
        }
        metrics.Count("cobrador_http_requests_total", "route=\"/api/v1/events\",status=\"200\"");
        // Asked again while the stream is open: a token disabled or run out ends it.
        co_await StreamEvents(stream, events, [this, &req]() -> net::awaitable<bool> {
            auto again = co_await Authenticate(*services, req);
            co_return std::holds_alternative<store::Agent>(again);
        });
        co_return std::nullopt;
    }

    template <class Stream>
    net::awaitable<void> Serve(Stream stream) {
        auto& tcp_layer = beast::get_lowest_layer(stream);
        if constexpr (kIsTls<Stream>) {
            tcp_layer.expires_after(kTlsTimeout);
            auto [handshake_error] = co_await stream.async_handshake(
                net::ssl::stream_base::server, net::as_tuple(net::use_awaitable));
            if (handshake_error) {
                // Plain HTTP to the HTTPS port, an old client, a scanner: nothing to answer.
                metrics.Count("cobrador_tls_handshake_failures_total", "");
                co_return;
            }
        }
        auto connection = std::make_shared<Connection>();
        connection->stream = &tcp_layer;
        {
            const std::lock_guard lock(connections_mutex);
            connections.insert(connection);
        }
        beast::flat_buffer buffer;
        bool unread = false;  // the request was refused before all of it was read
        for (;;) {
            if (stopping) {
                break;
            }
            http::request_parser<http::string_body> parser;
            parser.header_limit(kHeaderLimit);
            parser.body_limit(kBodyLimit);
            connection->idle = true;
            tcp_layer.expires_after(kReadTimeout);
            auto [read_error, read_bytes] = co_await http::async_read(
                stream, buffer, parser, net::as_tuple(net::use_awaitable));
            connection->idle = false;
            std::optional<Response> response;
            bool keep_alive = false;
            unread = false;
            if (read_error == http::error::body_limit) {
                unread = true;  // the client may still be sending the body
                response = Error(http::status::payload_too_large, "the body is over 1 MiB");
                metrics.Count("cobrador_http_requests_total", "route=\"other\",status=\"413\"");
            } else if (read_error == http::error::end_of_stream || read_error == net::error::eof ||
                       read_error == net::error::operation_aborted ||
                       read_error == beast::error::timeout ||
                       read_error == net::error::connection_reset) {
                break;
            } else if (read_error) {
                unread = true;
                response = Error(http::status::bad_request, "malformed HTTP request");
                metrics.Count("cobrador_http_requests_total", "route=\"other\",status=\"400\"");
            } else {
                Request req = parser.release();
                if (req.target().substr(0, req.target().find('?')) == "/api/v1/events") {
                    auto answer = co_await EventStream(stream, req);
                    if (!answer) {
                        break;  // the stream ran and ended with the connection
                    }
                    response = std::move(*answer);
                } else {
                    response = co_await routes->Handle(req);
                }
                metrics.Count("cobrador_http_requests_total",
                              "route=\"" + Routes::Label(req.target()) + "\",status=\"" +
                                  std::to_string(response->result_int()) + "\"");
                keep_alive = req.keep_alive() && !stopping;
                if (req.method() == http::verb::head) {
                    response->body().clear();
                }
            }
            response->keep_alive(keep_alive);
            tcp_layer.expires_after(kReadTimeout);
            auto [write_error, written] =
                co_await http::async_write(stream, *response, net::as_tuple(net::use_awaitable));
            if (write_error || !keep_alive) {
                break;
            }
        }
        {
            const std::lock_guard lock(connections_mutex);
            connections.erase(connection);
        }
        // Closing with the client's bytes unread would reset the connection, and the client
        // could lose our answer before reading it: read and drop what it still sends, for a
        // while and up to a limit, until it is done (it closes once it has read the answer,
        // which says Connection: close).
        const auto drop_unread = [&]() -> net::awaitable<void> {
            tcp_layer.expires_after(kUnreadTimeout);
            std::array<char, 16384> sink{};
            std::size_t drained = 0;
            while (drained < kUnreadLimit) {
                auto [error, n] = co_await stream.async_read_some(
                    net::buffer(sink), net::as_tuple(net::use_awaitable));
                if (error) {
                    break;
                }
                drained += n;
            }
        };
        if constexpr (kIsTls<Stream>) {
            // Over TLS the body comes as records to read through the session; close_notify
            // goes after them, since the shutdown would take them for an error.
            if (unread && !stopping) {
                co_await drop_unread();
            }
            tcp_layer.expires_after(kTlsTimeout);
            co_await stream.async_shutdown(net::as_tuple(net::use_awaitable));
        } else {
            beast::error_code ignored;
            stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
            if (unread && !stopping) {
                co_await drop_unread();
            }
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
            if (tls) {
                net::co_spawn(executor, Serve(TlsStream(std::move(socket), *tls)), LogFailure);
            } else {
                net::co_spawn(executor, Serve(beast::tcp_stream(std::move(socket))), LogFailure);
            }
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
        if (inbound) {
            inbound->Stop();
        }
        if (housekeeping) {
            housekeeping->Stop();
        }
        if (provider_worker) {
            provider_worker->Stop();
        }
        if (media_worker) {
            media_worker->Stop();
        }
        events.Close();
        if (dispatcher) {
            dispatcher->Stop();
        }
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
    impl_->dispatcher.reset();
    impl_->ledger.reset();  // joins the ledger's thread
}

boost::system::result<std::uint16_t, std::string> Server::Start() {
    auto dialog = DialogSettings(impl_->config);
    if (!dialog) {
        return {boost::system::in_place_error, dialog.error()};
    }
    impl_->dialog.emplace(std::move(*dialog));
    auto strategy = LoadReminderStrategy(impl_->config);
    if (!strategy) {
        return {boost::system::in_place_error, strategy.error()};
    }
    impl_->strategy.emplace(std::move(*strategy));
    auto replies = LoadOwnReplies(impl_->config);
    if (!replies) {
        return {boost::system::in_place_error, replies.error()};
    }
    impl_->replies = std::move(*replies);
    std::string reason;
    // The ledger must exist (`serve --demo` creates its own before this): a mistyped path
    // is not a new, empty ledger.
    auto ledger =
        store::Ledger::Open(impl_->config.db_path, store::Ledger::OpenMode::kReadWrite, &reason);
    if (!ledger) {
        const std::string shown = store::Ledger::Describe(impl_->config.db_path);
        return {boost::system::in_place_error,
                "cannot open the ledger " + shown + ": " + ledger.error().message() +
                    (ledger.error() == store::Errc::kMissing
                         ? "; create it with: cobrador migrate --db " + shown
                         : (reason.empty() ? "" : " (" + reason + ")"))};
    }
    if (auto ready = ledger->CheckReady(); !ready) {
        Log(LogLevel::kWarn,
            "the ledger is not ready; /readyz answers 503 until it is",
            {{"reason", ready.error().message()}});
    }
    if (impl_->config.Tls()) {
        auto context = TlsContext(impl_->config);
        if (!context) {
            return {boost::system::in_place_error, context.error()};
        }
        impl_->tls.emplace(std::move(*context));
    }
    Impl& impl = *impl_;
    std::vector<store::Ledger> lanes;
    if (!ledger->GroupsCommits()) {
        // PostgreSQL: webhook writes and API reads each get a connection of their own.
        for (int i = 0; i < impl.config.db_connections; ++i) {
            auto lane = store::Ledger::Open(
                impl.config.db_path, store::Ledger::OpenMode::kReadWrite, &reason);
            if (!lane) {
                return {boost::system::in_place_error,
                        "cannot open connection " + std::to_string(i + 2) + " to the ledger " +
                            store::Ledger::Describe(impl.config.db_path) + ": " +
                            lane.error().message() + (reason.empty() ? "" : " (" + reason + ")")};
            }
            lanes.push_back(std::move(*lane));
        }
    }
    impl.ledger = std::make_unique<LedgerThread>(std::move(*ledger), std::move(lanes));
    impl.services.emplace(Services{impl.config,
                                   *impl.ledger,
                                   impl.metrics,
                                   impl.events,
                                   *impl.dialog,
                                   *impl.strategy,
                                   impl.replies,
                                   [&impl] { impl.WakeDispatcher(); },
                                   [&impl] {
                                       if (impl.provider_worker) {
                                           impl.provider_worker->Wake();
                                       }
                                   },
                                   [&impl] {
                                       if (impl.media_worker) {
                                           impl.media_worker->Wake();
                                       }
                                   },
                                   impl.stopping});
    impl.inbound.emplace(*impl.services, impl.ioc);
    impl.provider_worker.emplace(*impl.services, impl.ioc);
    impl.media_worker.emplace(*impl.services, impl.ioc);
    impl.webhooks.emplace(*impl.services, *impl.inbound, *impl.provider_worker);
    impl.routes.emplace(*impl.services, *impl.webhooks, [&impl](Metrics& m) {
        const std::lock_guard lock(impl.connections_mutex);
        m.Set("cobrador_http_connections", "", static_cast<double>(impl.connections.size()));
    });
    impl.housekeeping.emplace(*impl.services, impl.ioc);

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
    if (store::Ledger::IsPostgres(impl.config.db_path)) {
        impl.cluster_events =
            std::make_unique<ClusterEvents>(impl.config, impl.events, impl.metrics);
        impl.cluster_events->Start();
    }
    impl.dispatcher = std::make_unique<Dispatcher>(
        impl.ioc,
        *impl.ledger,
        impl.config,
        impl.metrics,
        impl.config.demo,
        impl.strategy->hours,
        [&impl](std::int64_t conversation) { impl.events.Publish(conversation, "status"); });
    impl.dispatcher->Start();
    impl.inbound->Schedule();  // events acknowledged before a crash or a stop
    impl.housekeeping->Start();
    impl.provider_worker->Start();
    impl.media_worker->Start();
    std::vector<std::thread> threads;
    for (int i = 1; i < impl.config.io_threads; ++i) {
        threads.emplace_back([&impl] { impl.ioc.run(); });
    }
    impl.ioc.run();
    for (auto& t : threads) {
        t.join();
    }
    if (impl.cluster_events) {
        impl.cluster_events->Stop();
    }
    impl.ledger->Join();
    Log(LogLevel::kInfo, "stopped");
}

void Server::Stop() {
    net::post(impl_->control, [impl = impl_.get()] { impl->BeginShutdown(); });
}

}  // namespace cobrador::bot
