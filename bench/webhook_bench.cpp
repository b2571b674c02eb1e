// Webhook ingest benchmark: starts the real `cobrador serve --demo` on a fresh SQLite file
// (synchronous=FULL) and sends correctly signed WhatsApp webhooks, one text message each, from
// many debtors over keep-alive connections. Replies go to the sandbox channel (no provider on
// the wire), so what is measured is: HTTP, signature, parse, the durable commit before the 200,
// the inbound worker (acknowledgement + outbox row) and the dispatcher's bookkeeping.
//
// Prints: acknowledged events/s, ack latency p50/p99/p99.9, time until every event is answered,
// and the server's peak RSS.
//
//   build/bench/bench_webhooks [EVENTS] [CONNECTIONS]

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "channels/signature.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Clock = std::chrono::steady_clock;

constexpr const char* kSecret = "bench-app-secret";

std::string ReadFile(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string Body(std::size_t n) {
    const std::string wa_id = "52155" + std::to_string(10000000 + n % 1000);
    return R"({"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"1"},"contacts":[{"profile":{"name":"Bench"},"wa_id":")" +
           wa_id + R"("}],"messages":[{"from":")" + wa_id + R"(","id":"wamid.BENCH)" +
           std::to_string(n) +
           R"(","timestamp":"1795000000","type":"text","text":{"body":"hola, quiero saber mi saldo"}}]}}]}]})";
}

double Percentile(std::vector<double>& sorted, double p) {
    if (sorted.empty()) {
        return 0;
    }
    const auto at = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1));
    return sorted[at];
}

// A number from the Prometheus text, summed over every series of `name` whose labels contain
// `filter`.
double Metric(const std::string& text, const std::string& name, const std::string& filter) {
    double total = 0;
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.rfind(name, 0) == 0 && line.find(filter) != std::string::npos) {
            total += std::stod(line.substr(line.rfind(' ') + 1));
        }
    }
    return total;
}

std::string Get(std::uint16_t port, const std::string& target) {
    net::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.connect({net::ip::make_address("127.0.0.1"), port});
    http::request<http::string_body> req{http::verb::get, target, 11};
    req.set(http::field::host, "127.0.0.1");
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    return res.body();
}

}  // namespace

int main(int argc, char** argv) {
    const std::size_t events = argc > 1 ? std::stoul(argv[1]) : 20000;
    const std::size_t connections = argc > 2 ? std::stoul(argv[2]) : 32;
    const auto dir =
        std::filesystem::temp_directory_path() / ("cobrador-bench-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    const std::string out_path = (dir / "out.txt").string();
    const std::string db = (dir / "bench.db").string();

    const pid_t server = fork();
    if (server == 0) {
        if (std::freopen(out_path.c_str(), "w", stdout) == nullptr ||
            std::freopen((dir / "err.txt").c_str(), "w", stderr) == nullptr) {
            _exit(127);
        }
        setenv("COBRADOR_LISTEN", "127.0.0.1:0", 1);
        setenv("COBRADOR_DB", db.c_str(), 1);
        setenv("COBRADOR_WHATSAPP_APP_SECRET", kSecret, 1);
        execl(COBRADOR_BINARY, COBRADOR_BINARY, "serve", "--demo", static_cast<char*>(nullptr));
        _exit(127);
    }
    std::uint16_t port = 0;
    for (int i = 0; i < 200 && port == 0; ++i) {
        std::smatch match;
        const std::string out = ReadFile(out_path);
        if (std::regex_search(
                out, match, std::regex(R"(listening on http://127\.0\.0\.1:(\d+))"))) {
            port = static_cast<std::uint16_t>(std::stoi(match[1]));
        } else {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }
    if (port == 0) {
        std::fprintf(stderr, "the server did not start\n");
        kill(server, SIGKILL);
        return 1;
    }

    // Bodies and signatures are made before the clock starts.
    std::vector<std::pair<std::string, std::string>> requests;
    requests.reserve(events);
    for (std::size_t n = 0; n < events; ++n) {
        std::string body = Body(n);
        std::string signature = "sha256=" + cobrador::channels::HmacSha256Hex(kSecret, body);
        requests.emplace_back(std::move(body), std::move(signature));
    }

    std::atomic<std::size_t> next{0};
    std::atomic<std::size_t> failures{0};
    std::vector<std::vector<double>> latencies(connections);
    const auto started = Clock::now();
    std::vector<std::thread> clients;
    for (std::size_t c = 0; c < connections; ++c) {
        clients.emplace_back([&, c] {
            net::io_context ioc;
            beast::tcp_stream stream(ioc);
            stream.connect({net::ip::make_address("127.0.0.1"), port});
            beast::flat_buffer buffer;
            for (std::size_t n = next++; n < events; n = next++) {
                http::request<http::string_body> req{http::verb::post, "/webhooks/whatsapp", 11};
                req.set(http::field::host, "127.0.0.1");
                req.set(http::field::content_type, "application/json");
                req.set("X-Hub-Signature-256", requests[n].second);
                req.body() = requests[n].first;
                req.prepare_payload();
                const auto sent = Clock::now();
                http::write(stream, req);
                http::response<http::string_body> res;
                http::read(stream, buffer, res);
                latencies[c].push_back(
                    std::chrono::duration<double, std::milli>(Clock::now() - sent).count());
                if (res.result_int() != 200) {
                    ++failures;
                }
            }
        });
    }
    for (auto& t : clients) {
        t.join();
    }
    const double ack_seconds = std::chrono::duration<double>(Clock::now() - started).count();

    // Wait until every event has had its reply recorded.
    double answered = 0;
    for (int i = 0; i < 6000; ++i) {
        const std::string metrics = Get(port, "/metrics");
        answered = Metric(metrics, "cobrador_outbound_total", "result=\"sandbox\"");
        if (answered >= static_cast<double>(events)) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const double all_seconds = std::chrono::duration<double>(Clock::now() - started).count();
    const std::string status = ReadFile("/proc/" + std::to_string(server) + "/status");
    std::smatch rss;
    std::regex_search(status, rss, std::regex(R"(VmHWM:\s+(\d+) kB)"));

    std::vector<double> all;
    for (auto& l : latencies) {
        all.insert(all.end(), l.begin(), l.end());
    }
    std::sort(all.begin(), all.end());
    std::printf("webhooks: %zu events over %zu keep-alive connections, synchronous=FULL\n",
                events,
                connections);
    std::printf("  acknowledged: %.0f events/s (%.2f s), %zu not 200\n",
                static_cast<double>(events) / ack_seconds,
                ack_seconds,
                failures.load());
    std::printf("  ack latency: p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms\n",
                Percentile(all, 0.50),
                Percentile(all, 0.99),
                Percentile(all, 0.999));
    std::printf(
        "  answered (reply in the outbox and handed to the sandbox): %.0f of %zu in %.2f s "
        "(%.0f events/s end to end)\n",
        answered,
        events,
        all_seconds,
        answered / all_seconds);
    std::printf("  server peak RSS: %s KiB\n", rss.size() > 1 ? rss[1].str().c_str() : "?");

    kill(server, SIGTERM);
    int wstatus = 0;
    waitpid(server, &wstatus, 0);
    std::filesystem::remove_all(dir);
    return failures == 0 ? 0 : 1;
}
