// `cobrador backup` against a running server, and a restore from its copy, as an operator does.

#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include <SQLiteCpp/Database.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include <signal.h>

namespace cobrador::testing {
namespace {

using namespace std::chrono_literals;

std::uint16_t ListeningPort(const std::string& out) {
    std::smatch match;
    REQUIRE(std::regex_search(out, match, std::regex(R"(listening on http://127\.0\.0\.1:(\d+))")));
    return static_cast<std::uint16_t>(std::stoi(match[1]));
}

std::size_t TranscriptSize(std::uint16_t port) {
    const auto answer = HttpRequest(port, "GET", "/sandbox/messages?phone=%2B525512345678");
    return nlohmann::json::parse(answer.body)["messages"].size();
}

// SQLite only: a PostgreSQL ledger is backed up with PostgreSQL's own tools (pg_dump,
// pg_basebackup), and `backup` says so (cli_test).
TEST_CASE("backup while serving, then restore from the copy",
          "[bot][backup][integration][sqlite]") {
    TempDir dir;
    const std::string db = dir.File("live.db");
    const std::string copy = dir.File("copy.db");
    std::size_t messages_at_backup = 0;
    {
        Child server({"serve", "--demo"},
                     {{"COBRADOR_LISTEN", "127.0.0.1:0"}, {"COBRADOR_DB", db}},
                     dir.Path().string());
        const std::uint16_t port = ListeningPort(server.WaitForOutput("/healthz"));
        for (int i = 0; i < 5; ++i) {
            REQUIRE(HttpRequest(
                        port,
                        "POST",
                        "/sandbox/messages",
                        R"({"from": "+525512345678", "text": "hola )" + std::to_string(i) + R"("})")
                        .status == 200);
        }
        for (int i = 0; i < 100 && TranscriptSize(port) < 10; ++i) {
            std::this_thread::sleep_for(50ms);
        }
        messages_at_backup = TranscriptSize(port);
        REQUIRE(messages_at_backup == 10);

        // The server keeps taking messages while the copy is made.
        std::atomic<bool> done{false};
        std::thread writer([&] {
            for (int i = 0; !done && i < 200; ++i) {
                HttpRequest(port,
                            "POST",
                            "/sandbox/messages",
                            R"({"from": "+525511111111", "text": "otra"})");
            }
        });
        const auto run = RunCobrador({"backup", "--db", db, "--to", copy});
        done = true;
        writer.join();
        INFO(run.err);
        REQUIRE(run.exit_code == 0);
        CHECK(run.out.find("backed up to") != std::string::npos);
        CHECK_FALSE(std::filesystem::exists(copy + ".partial"));
        CHECK(HttpRequest(port, "GET", "/readyz").status == 200);
        // Birth dates are the identity check: the ledger, its journal and the copy are the
        // owner's alone, whatever umask the operator's shell had (the test's is usually 022).
        for (const std::string& file : {db, db + "-wal", copy}) {
            INFO(file);
            const auto perms = std::filesystem::status(file).permissions();
            CHECK((perms & (std::filesystem::perms::group_all |
                            std::filesystem::perms::others_all)) == std::filesystem::perms::none);
        }
        server.Signal(SIGTERM);
        CHECK(server.Wait() == 0);
    }
    {
        SQLite::Database check(copy, SQLite::OPEN_READONLY);
        CHECK(check.execAndGet("PRAGMA integrity_check").getString() == "ok");
        CHECK(check.execAndGet("SELECT count(*) FROM accounts").getInt() == 8);
        CHECK(check
                  .execAndGet("SELECT count(*) FROM messages WHERE conversation_id = "
                              "(SELECT id FROM conversations WHERE phone = '+525512345678')")
                  .getInt() == static_cast<int>(messages_at_backup));
    }

    // A second backup to the same file is refused, and the first copy is untouched.
    const auto size_before = std::filesystem::file_size(copy);
    const auto again = RunCobrador({"backup", "--db", db, "--to", copy});
    CHECK(again.exit_code == 1);
    CHECK(again.err.find("already exists") != std::string::npos);
    CHECK(std::filesystem::file_size(copy) == size_before);
    CHECK(RunCobrador({"backup", "--db", db}).exit_code == 2);

    // Restore: the copy in place of a ledger, and the server answers from it.
    const std::string restored = dir.File("restored.db");
    std::filesystem::copy_file(copy, restored);
    std::filesystem::create_directory(dir.Path() / "second");
    Child server({"serve"},
                 {{"COBRADOR_LISTEN", "127.0.0.1:0"}, {"COBRADOR_DB", restored}},
                 (dir.Path() / "second").string());
    const std::uint16_t port = ListeningPort(server.WaitForOutput("/healthz"));
    CHECK(HttpRequest(port, "GET", "/readyz").status == 200);
    const auto report = RunCobrador({"report", "--db", restored, "--format", "json"});
    REQUIRE(report.exit_code == 0);
    CHECK(nlohmann::json::parse(report.out)["accounts"] == 8);
    server.Signal(SIGTERM);
    CHECK(server.Wait() == 0);
}

}  // namespace
}  // namespace cobrador::testing
