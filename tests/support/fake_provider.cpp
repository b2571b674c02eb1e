#include "support/fake_provider.hpp"

#include <algorithm>
#include <stdexcept>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace cobrador::testing {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

struct FakeProvider::State {
    net::io_context ioc;
    tcp::acceptor acceptor{ioc};
    mutable std::mutex mutex;
    mutable std::condition_variable changed;
    Script script;
    std::vector<RecordedRequest> requests;
    std::vector<std::shared_ptr<tcp::socket>> sockets;
    std::vector<std::thread> connections;
    bool stopping = false;
};

namespace {

std::string Lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) {
        return static_cast<char>(std::tolower(c));
    });
    return text;
}

void ServeConnection(const std::shared_ptr<FakeProvider::State>& state,
                     const std::shared_ptr<tcp::socket>& socket);

}  // namespace

FakeProvider::FakeProvider(Script script) : state_(std::make_shared<State>()) {
    state_->script = std::move(script);
    const tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), 0);
    state_->acceptor.open(endpoint.protocol());
    state_->acceptor.set_option(tcp::acceptor::reuse_address(true));
    state_->acceptor.bind(endpoint);
    state_->acceptor.listen();
    port_ = state_->acceptor.local_endpoint().port();
    acceptor_thread_ = std::thread([state = state_] {
        for (;;) {
            auto socket = std::make_shared<tcp::socket>(state->ioc);
            beast::error_code ec;
            state->acceptor.accept(*socket, ec);
            const std::lock_guard lock(state->mutex);
            if (state->stopping) {
                return;
            }
            if (ec) {
                continue;
            }
            state->sockets.push_back(socket);
            state->connections.emplace_back([state, socket] { ServeConnection(state, socket); });
        }
    });
}

FakeProvider::~FakeProvider() {
    {
        const std::lock_guard lock(state_->mutex);
        state_->stopping = true;
        beast::error_code ignored;
        for (const auto& socket : state_->sockets) {
            socket->shutdown(tcp::socket::shutdown_both, ignored);
        }
        state_->changed.notify_all();
    }
    {
        // Wake the thread blocked in accept(): it sees `stopping` and returns.
        net::io_context ioc;
        tcp::socket poke(ioc);
        beast::error_code ignored;
        poke.connect({net::ip::make_address("127.0.0.1"), port_}, ignored);
    }
    if (acceptor_thread_.joinable()) {
        acceptor_thread_.join();
    }
    std::vector<std::thread> connections;
    {
        const std::lock_guard lock(state_->mutex);
        connections.swap(state_->connections);
    }
    for (auto& thread : connections) {
        thread.join();
    }
}

void FakeProvider::SetScript(Script script) {
    const std::lock_guard lock(state_->mutex);
    state_->script = std::move(script);
}

std::vector<RecordedRequest> FakeProvider::Requests() const {
    const std::lock_guard lock(state_->mutex);
    return state_->requests;
}

std::vector<RecordedRequest> FakeProvider::WaitForRequests(
    std::size_t count, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(state_->mutex);
    if (!state_->changed.wait_for(
            lock, timeout, [&] { return state_->requests.size() >= count; })) {
        throw std::runtime_error("the fake provider got " +
                                 std::to_string(state_->requests.size()) + " requests, not " +
                                 std::to_string(count));
    }
    return state_->requests;
}

ScriptedAnswer GraphAccepted(const std::string& wamid) {
    return {
        200,
        R"({"messaging_product":"whatsapp","contacts":[{"input":"5215512345678","wa_id":"5215512345678"}],"messages":[{"id":")" +
            wamid + R"("}]})",
        {{"Content-Type", "application/json"}}};
}

ScriptedAnswer TwilioAccepted(const std::string& sid) {
    return {201,
            R"({"sid":")" + sid + R"(","status":"queued","error_code":null})",
            {{"Content-Type", "application/json"}}};
}

namespace {

void ServeConnection(const std::shared_ptr<FakeProvider::State>& state,
                     const std::shared_ptr<tcp::socket>& socket) {
    beast::flat_buffer buffer;
    for (;;) {
        http::request<http::string_body> req;
        beast::error_code ec;
        http::read(*socket, buffer, req, ec);
        if (ec) {
            return;
        }
        RecordedRequest recorded;
        recorded.method = std::string(req.method_string());
        recorded.target = std::string(req.target());
        recorded.body = req.body();
        for (const auto& field : req) {
            recorded.headers[Lower(std::string(field.name_string()))] = std::string(field.value());
        }
        ScriptedAnswer answer;
        {
            std::unique_lock lock(state->mutex);
            const std::size_t n = state->requests.size();
            state->requests.push_back(recorded);
            state->changed.notify_all();
            auto script = state->script;
            lock.unlock();
            answer = script(recorded, n);
        }
        if (answer.delay.count() > 0) {
            std::unique_lock lock(state->mutex);
            state->changed.wait_for(lock, answer.delay, [&] { return state->stopping; });
            if (state->stopping) {
                return;
            }
        }
        if (answer.reset) {
            socket->set_option(net::socket_base::linger(true, 0), ec);
            socket->close(ec);
            return;
        }
        http::response<http::string_body> res{static_cast<http::status>(answer.status), 11};
        for (const auto& [name, value] : answer.headers) {
            res.set(name, value);
        }
        res.body() = answer.body;
        res.keep_alive(req.keep_alive());
        res.prepare_payload();
        http::write(*socket, res, ec);
        if (ec || !req.keep_alive()) {
            socket->shutdown(tcp::socket::shutdown_both, ec);
            return;
        }
    }
}

}  // namespace

}  // namespace cobrador::testing
