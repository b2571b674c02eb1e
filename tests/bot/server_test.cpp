// The server as an operator runs it: `cobrador serve --demo` as a child process, HTTP over
// loopback, SIGTERM to stop.

#include <filesystem>
#include <regex>
#include <sstream>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "connection.hpp"
#include "support/http_client.hpp"
#include "support/probe.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include <signal.h>

namespace cobrador::testing {
namespace {

std::uint16_t PortFrom(const std::string& out) {
    std::smatch match;
    REQUIRE(std::regex_search(out, match, std::regex(R"(listening on http://127\.0\.0\.1:(\d+))")));
    return static_cast<std::uint16_t>(std::stoi(match[1]));
}

// --demo runs on an SQLite file only (cli_test checks it refuses a PostgreSQL ledger).
TEST_CASE("serve --demo: health, readiness, metrics, and a clean stop",
          "[bot][server][integration][sqlite]") {
    TempDir dir;
    Child server({"serve", "--demo"},
                 {{"COBRADOR_LISTEN", "127.0.0.1:0"},
                  {"COBRADOR_TODAY", "2026-11-22"},
                  {"COBRADOR_WHATSAPP_APP_SECRET", "very-secret-app-key"}},
                 dir.Path().string());
    const std::uint16_t port = PortFrom(server.WaitForOutput("/healthz"));

    const auto health = HttpRequest(port, "GET", "/healthz");
    CHECK(health.status == 200);
    CHECK(nlohmann::json::parse(health.body)["status"] == "ok");

    const auto ready = HttpRequest(port, "GET", "/readyz");
    CHECK(ready.status == 200);
    CHECK(nlohmann::json::parse(ready.body)["status"] == "ready");

    const auto missing = HttpRequest(port, "GET", "/nope");
    CHECK(missing.status == 404);
    CHECK(nlohmann::json::parse(missing.body).contains("error"));
    CHECK(HttpRequest(port, "POST", "/healthz", "x").status == 405);

    const auto metrics = HttpRequest(port, "GET", "/metrics");
    CHECK(metrics.status == 200);
    CHECK(metrics.headers.at("content-type").rfind("text/plain", 0) == 0);
    CHECK(metrics.body.find("cobrador_http_requests_total{route=\"/healthz\",status=\"200\"} 1") !=
          std::string::npos);
    CHECK(metrics.body.find("cobrador_http_requests_total{route=\"other\",status=\"404\"} 1") !=
          std::string::npos);

    // The demo portfolio is in a fresh SQLite file in the working folder.
    {
        Probe db(dir.File("cobrador-demo.db"));
        CHECK(db.Count("SELECT count(*) FROM accounts") == 8);
        CHECK(db.Count("SELECT count(DISTINCT debtor_id) FROM accounts") == 7);
    }

    server.Signal(SIGTERM);
    CHECK(server.Wait() == 0);
    const std::string log = server.Stderr();
    CHECK(log.find("\"msg\":\"stopped\"") != std::string::npos);
    CHECK(log.find("very-secret-app-key") == std::string::npos);
    CHECK(log.find("COBRADOR_WHATSAPP_APP_SECRET=set") != std::string::npos);
}

TEST_CASE("serve: a body over 1 MiB gets 413, a malformed request 400",
          "[bot][server][integration][sqlite]") {  // --demo (SQLite only)
    TempDir dir;
    Child server({"serve", "--demo"}, {{"COBRADOR_LISTEN", "127.0.0.1:0"}}, dir.Path().string());
    const std::uint16_t port = PortFrom(server.WaitForOutput("/healthz"));
    const auto big =
        HttpRequest(port, "POST", "/webhooks/whatsapp", std::string(1024 * 1024 + 1, 'x'));
    CHECK(big.status == 413);
    {
        // A client that sends all of a large body before it reads the answer still reads the
        // 413 (the server reads and drops the rest instead of resetting the connection).
        boost::asio::io_context ioc;
        boost::asio::ip::tcp::socket socket(ioc);
        socket.connect({boost::asio::ip::make_address("127.0.0.1"), port});
        const std::string body(32 * 1024 * 1024, 'x');
        const std::string head =
            "POST /webhooks/whatsapp HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/json\r\nContent-Length: " +
            std::to_string(body.size()) + "\r\n\r\n";
        boost::system::error_code error;
        boost::asio::write(socket, boost::asio::buffer(head), error);
        boost::asio::write(socket, boost::asio::buffer(body), error);
        CHECK_FALSE(error);
        std::string answer(12, '\0');
        boost::asio::read(socket, boost::asio::buffer(answer), error);
        CHECK_FALSE(error);
        CHECK(answer == "HTTP/1.1 413");
    }
    {
        // Not HTTP at all.
        boost::asio::io_context ioc;
        boost::asio::ip::tcp::socket socket(ioc);
        socket.connect({boost::asio::ip::make_address("127.0.0.1"), port});
        boost::asio::write(socket, boost::asio::buffer(std::string("HELLO THERE\r\n\r\n")));
        std::string answer(12, '\0');
        boost::asio::read(socket, boost::asio::buffer(answer));
        CHECK(answer == "HTTP/1.1 400");
    }
    // Still serving afterwards.
    CHECK(HttpRequest(port, "GET", "/healthz").status == 200);
    server.Signal(SIGTERM);
    CHECK(server.Wait() == 0);
}

TEST_CASE("serve: /readyz is 503 until the ledger is migrated", "[bot][server][integration]") {
    TempDir dir;
    const std::string db = dir.Ledger("plain.db");
    // A mistyped path is not a new ledger: serve refuses it and says how to create one.
    const auto missing = RunCobrador(
        {"serve"}, {{"COBRADOR_LISTEN", "127.0.0.1:0"}, {"COBRADOR_DB", dir.File("plian.db")}});
    CHECK(missing.exit_code != 0);
    CHECK(missing.err.find("the ledger does not exist; create it with: cobrador migrate --db") !=
          std::string::npos);
    CHECK_FALSE(std::filesystem::exists(dir.File("plian.db")));
    store::OpenConnection(db, true);  // an empty SQLite file, or an empty database
    Child server(
        {"serve"}, {{"COBRADOR_LISTEN", "127.0.0.1:0"}, {"COBRADOR_DB", db}}, dir.Path().string());
    const std::uint16_t port = PortFrom(server.WaitForOutput("/healthz"));
    CHECK(HttpRequest(port, "GET", "/healthz").status == 200);
    const auto not_ready = HttpRequest(port, "GET", "/readyz");
    CHECK(not_ready.status == 503);
    CHECK(nlohmann::json::parse(not_ready.body)["reason"].get<std::string>().find("migrate") !=
          std::string::npos);
    REQUIRE(RunCobrador({"migrate", "--db", db}).exit_code == 0);
    CHECK(HttpRequest(port, "GET", "/readyz").status == 200);
    server.Signal(SIGINT);
    CHECK(server.Wait() == 0);
}

TEST_CASE(
    "serve: its replica id is on every log line and in /metrics, and the database's gauges "
    "say they are the cluster's",
    "[bot][server][integration]") {
    TempDir dir;
    const std::string db = dir.Ledger("replica.db");
    REQUIRE(RunCobrador({"migrate", "--db", db}).exit_code == 0);
    Child server({"serve"},
                 {{"COBRADOR_LISTEN", "127.0.0.1:0"},
                  {"COBRADOR_DB", db},
                  {"COBRADOR_REPLICA_ID", "east-1"}},
                 dir.Path().string());
    const std::uint16_t port = PortFrom(server.WaitForOutput("/healthz"));
    const auto metrics = HttpRequest(port, "GET", "/metrics");
    REQUIRE(metrics.status == 200);
    CHECK(metrics.body.find("\ncobrador_replica_info{replica=\"east-1\"} 1\n") !=
          std::string::npos);
    for (const char* gauge : {"cobrador_outbox_pending",
                              "cobrador_outbox_failed",
                              "cobrador_inbound_pending",
                              "cobrador_outbox_oldest_pending_seconds"}) {
        INFO(gauge);
        CHECK(metrics.body.find("\n" + std::string(gauge) + "{scope=\"cluster\"} 0\n") !=
              std::string::npos);
    }
    server.Signal(SIGTERM);
    CHECK(server.Wait() == 0);
    std::istringstream log(server.Stderr());
    int lines = 0;
    for (std::string line; std::getline(log, line);) {
        if (line.empty() || line[0] != '{') {
            continue;  // the "listening on" banner
        }
        INFO(line);
        CHECK(nlohmann::json::parse(line).value("replica", "") == "east-1");
        ++lines;
    }
    CHECK(lines >= 3);  // starting, listening, stopped
}

TEST_CASE("serve: a bad setting stops it at once with exit 2", "[bot][server][integration]") {
    const auto run = RunCobrador({"serve"}, {{"COBRADOR_LISTEN", "nonsense"}});
    CHECK(run.exit_code == 2);
    CHECK(run.err.find("COBRADOR_LISTEN") != std::string::npos);
}

}  // namespace
}  // namespace cobrador::testing
