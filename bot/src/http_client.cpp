#include "http_client.hpp"

#include <map>
#include <mutex>
#include <optional>
#include <variant>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>
#include <openssl/ssl.h>

namespace cobrador::bot {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace {

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

struct Connection {
    std::variant<std::unique_ptr<PlainStream>, std::unique_ptr<TlsStream>> stream;
    beast::flat_buffer buffer;

    beast::tcp_stream& Lowest() {
        if (auto* plain = std::get_if<std::unique_ptr<PlainStream>>(&stream)) {
            return **plain;
        }
        return beast::get_lowest_layer(*std::get<std::unique_ptr<TlsStream>>(stream));
    }
};

struct Target {
    bool tls = false;
    std::string host;
    std::string port;
    std::string path;  // path + query

    std::string Origin() const { return (tls ? "https://" : "http://") + host + ":" + port; }
};

std::optional<Target> ParseTarget(const std::string& url) {
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed) {
        return std::nullopt;
    }
    Target t;
    const auto scheme = parsed->scheme();
    if (scheme == "https") {
        t.tls = true;
    } else if (scheme != "http") {
        return std::nullopt;
    }
    t.host = std::string(parsed->host());
    if (t.host.empty()) {
        return std::nullopt;
    }
    t.port = parsed->has_port() ? std::string(parsed->port()) : (t.tls ? "443" : "80");
    t.path = std::string(parsed->encoded_path());
    if (t.path.empty()) {
        t.path = "/";
    }
    if (parsed->has_query()) {
        t.path += "?" + std::string(parsed->encoded_query());
    }
    return t;
}

}  // namespace

struct HttpClient::Impl {
    net::any_io_executor executor;
    ssl::context tls{ssl::context::tls_client};
    std::mutex pool_mutex;
    std::map<std::string, std::vector<std::unique_ptr<Connection>>> idle;  // guarded by it

    explicit Impl(net::any_io_executor ex) : executor(std::move(ex)) {
        tls.set_default_verify_paths();
        tls.set_verify_mode(ssl::verify_peer);
        tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                        ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    }

    std::unique_ptr<Connection> TakeIdle(const std::string& origin) {
        const std::lock_guard lock(pool_mutex);
        auto& list = idle[origin];
        if (list.empty()) {
            return nullptr;
        }
        auto connection = std::move(list.back());
        list.pop_back();
        return connection;
    }

    void ReturnIdle(const std::string& origin, std::unique_ptr<Connection> connection) {
        constexpr std::size_t kMaxIdlePerOrigin = 16;
        const std::lock_guard lock(pool_mutex);
        auto& list = idle[origin];
        if (list.size() < kMaxIdlePerOrigin) {
            list.push_back(std::move(connection));
        }
    }

    net::awaitable<std::pair<boost::system::error_code, std::unique_ptr<Connection>>> Connect(
        const Target& target, std::chrono::steady_clock::time_point deadline) {
        tcp::resolver resolver(executor);
        auto [resolve_error, endpoints] = co_await resolver.async_resolve(
            target.host, target.port, net::as_tuple(net::use_awaitable));
        if (resolve_error) {
            co_return std::make_pair(resolve_error, nullptr);
        }
        auto connection = std::make_unique<Connection>();
        if (!target.tls) {
            auto stream = std::make_unique<PlainStream>(executor);
            stream->expires_at(deadline);
            auto [error, endpoint] =
                co_await stream->async_connect(endpoints, net::as_tuple(net::use_awaitable));
            if (error) {
                co_return std::make_pair(error, nullptr);
            }
            connection->stream = std::move(stream);
            co_return std::make_pair(boost::system::error_code{}, std::move(connection));
        }
        auto stream = std::make_unique<TlsStream>(executor, tls);
        // SNI, and the certificate must name the host we asked for.
        // (SSL_set_tlsext_host_name is a macro with a C cast; this is what it expands to.)
        if (SSL_ctrl(stream->native_handle(),
                     SSL_CTRL_SET_TLSEXT_HOSTNAME,
                     TLSEXT_NAMETYPE_host_name,
                     const_cast<char*>(target.host.c_str())) == 0) {
            co_return std::make_pair(boost::system::error_code(static_cast<int>(::ERR_get_error()),
                                                               net::error::get_ssl_category()),
                                     nullptr);
        }
        stream->set_verify_callback(ssl::host_name_verification(target.host));
        beast::get_lowest_layer(*stream).expires_at(deadline);
        auto [connect_error, endpoint] = co_await beast::get_lowest_layer(*stream).async_connect(
            endpoints, net::as_tuple(net::use_awaitable));
        if (connect_error) {
            co_return std::make_pair(connect_error, nullptr);
        }
        auto [handshake_error] = co_await stream->async_handshake(
            ssl::stream_base::client, net::as_tuple(net::use_awaitable));
        if (handshake_error) {
            co_return std::make_pair(handshake_error, nullptr);
        }
        connection->stream = std::move(stream);
        co_return std::make_pair(boost::system::error_code{}, std::move(connection));
    }

    // One exchange on `connection`; true when the connection may be reused.
    template <class Stream>
    static net::awaitable<std::pair<ClientResponse, bool>> Exchange(
        Stream& stream,
        beast::flat_buffer& buffer,
        const http::request<http::string_body>& req,
        std::size_t body_limit) {
        ClientResponse out;
        auto [write_error, written] =
            co_await http::async_write(stream, req, net::as_tuple(net::use_awaitable));
        if (write_error) {
            out.error = write_error;
            co_return std::make_pair(out, false);
        }
        http::response_parser<http::string_body> parser;
        parser.body_limit(body_limit);
        auto [read_error, read] =
            co_await http::async_read(stream, buffer, parser, net::as_tuple(net::use_awaitable));
        if (read_error) {
            out.error = read_error;
            co_return std::make_pair(out, false);
        }
        auto res = parser.release();
        out.status = res.result_int();
        out.body = std::move(res.body());
        if (auto it = res.find(http::field::retry_after); it != res.end()) {
            out.retry_after = std::string(it->value());
        }
        if (auto it = res.find(http::field::content_type); it != res.end()) {
            out.content_type = std::string(it->value());
        }
        if (auto it = res.find(http::field::location); it != res.end()) {
            out.location = std::string(it->value());
        }
        for (auto [it, end] = res.equal_range(http::field::set_cookie); it != end; ++it) {
            out.set_cookies.emplace_back(it->value());
        }
        co_return std::make_pair(out, res.keep_alive());
    }
};

HttpClient::HttpClient(net::any_io_executor executor)
    : impl_(std::make_unique<Impl>(std::move(executor))) {}

HttpClient::~HttpClient() = default;

net::awaitable<ClientResponse> HttpClient::Send(channels::HttpCall call,
                                                std::chrono::milliseconds timeout) {
    const auto target = ParseTarget(call.url);
    if (!target) {
        ClientResponse bad;
        bad.error = make_error_code(boost::system::errc::invalid_argument);
        co_return bad;
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    http::request<http::string_body> req{http::string_to_verb(call.method), target->path, 11};
    req.set(http::field::host, target->host);
    req.set(http::field::user_agent, "cobrador");
    for (const auto& [name, value] : call.headers) {
        req.set(name, value);
    }
    req.body() = std::move(call.body);
    const std::size_t body_limit = call.max_response_bytes;
    req.keep_alive(true);
    req.prepare_payload();

    const std::string origin = target->Origin();
    // A pooled connection may have been closed by the server while idle; that shows as an
    // error before any response byte, and then one fresh connection is tried.
    for (int attempt = 0; attempt < 2; ++attempt) {
        std::unique_ptr<Connection> connection = attempt == 0 ? impl_->TakeIdle(origin) : nullptr;
        const bool reused = connection != nullptr;
        if (!connection) {
            auto [error, fresh] = co_await impl_->Connect(*target, deadline);
            if (error) {
                ClientResponse failed;
                failed.error = error;
                co_return failed;
            }
            connection = std::move(fresh);
        }
        connection->Lowest().expires_at(deadline);
        std::pair<ClientResponse, bool> result;
        if (auto* plain = std::get_if<std::unique_ptr<PlainStream>>(&connection->stream)) {
            result = co_await Impl::Exchange(**plain, connection->buffer, req, body_limit);
        } else {
            result =
                co_await Impl::Exchange(*std::get<std::unique_ptr<TlsStream>>(connection->stream),
                                        connection->buffer,
                                        req,
                                        body_limit);
        }
        auto& [response, reusable] = result;
        const bool stale =
            reused && response.status == 0 &&
            (response.error == http::error::end_of_stream ||
             response.error == net::error::connection_reset ||
             response.error == net::error::broken_pipe || response.error == net::error::eof);
        if (stale) {
            continue;
        }
        if (!response.error && reusable) {
            connection->Lowest().expires_never();
            impl_->ReturnIdle(origin, std::move(connection));
        }
        co_return response;
    }
    ClientResponse failed;
    failed.error = net::error::connection_reset;
    co_return failed;
}

}  // namespace cobrador::bot
