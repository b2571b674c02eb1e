// Faults around the server: a provider that is down for a while in every way a provider fails
// (500, 429 with Retry-After, hanging, resetting connections) while debtors keep writing, and a
// disk that stops taking writes. Nothing acknowledged is lost, retries back off, and everything
// drains once the fault is gone.

#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>

#include "e2e_support.hpp"
#include <sys/resource.h>

namespace cobrador::testing {
namespace {

TEST_CASE(
    "a provider down for a while, in every way at once: nothing lost, backoff kept, the "
    "outbox drains when it recovers",
    "[bot][faults][integration]") {
    std::atomic<bool> down{true};
    std::atomic<int> handed_out{0};
    std::mutex mutex;
    std::map<std::string, std::vector<std::chrono::steady_clock::time_point>> attempts;  // by to
    FakeProvider graph([&](const RecordedRequest& request, std::size_t n) -> ScriptedAnswer {
        const auto body = nlohmann::json::parse(request.body, nullptr, false);
        const std::string to = body.is_object() ? body.value("to", "") : "";
        {
            const std::lock_guard lock(mutex);
            attempts[to].push_back(std::chrono::steady_clock::now());
        }
        if (!down) {
            return GraphAccepted("wamid.OUT" + std::to_string(++handed_out));
        }
        ScriptedAnswer answer;
        switch (n % 4) {
            case 0:
                answer.status = 500;
                answer.body = R"({"error":{"message":"Internal","code":1}})";
                break;
            case 1:
                answer.status = 429;
                answer.body = R"({"error":{"message":"(#130429) Rate limit hit","code":130429}})";
                answer.headers = {{"Retry-After", "3"}};
                break;
            case 2:
                answer = GraphAccepted("wamid.TOO-LATE");
                answer.delay = 4s;  // longer than the send timeout below: a hanging provider
                break;
            default:
                answer.reset = true;
        }
        return answer;
    });
    Setup setup(&graph, nullptr);
    setup.env["COBRADOR_SEND_TIMEOUT"] = "2";
    auto server = setup.Start();

    // Twenty debtors write while the provider is down: every webhook is still acknowledged.
    constexpr int kDebtors = 20;
    for (int d = 0; d < kDebtors; ++d) {
        const std::string wa_id = "52155300" + std::to_string(10000 + d);
        REQUIRE(PostWhatsApp(setup.port,
                             WhatsAppText("wamid.OUTAGE" + std::to_string(d), wa_id, "hola"))
                    .status == 200);
    }
    setup.WaitFor("SELECT count(*) FROM outbox", std::to_string(kDebtors));
    const auto outage_started = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(12s);
    // While down: each reply was tried a few times with growing gaps, never in a tight loop.
    std::size_t during_outage = 0;
    {
        const std::lock_guard lock(mutex);
        for (const auto& [to, times] : attempts) {
            during_outage += times.size();
            INFO(to << " was tried " << times.size() << " times in 12 s");
            // Backoff doubles from a second (a reset connection is tried once more at once, on
            // a fresh one): a handful of tries, never a tight loop. The waits are drawn from the
            // upper half of 1, 2, 4, 8, 16 s, so at their shortest (0, 1, 2, 4, then 8 s) five
            // tries fit in 12 s; with every try a reset tried again at once, at most 10. (8
            // failed once under TSan.)
            CHECK(times.size() <= 10);
            if (times.size() >= 2) {
                CHECK(times.back() - times.front() >= 2s);
            }
        }
    }
    CHECK(during_outage >= kDebtors);
    CHECK(setup.Query("SELECT count(*) FROM outbox WHERE status = 'sent'") == "0");
    CHECK(setup.Query("SELECT count(*) FROM outbox WHERE status = 'failed'") == "0");
    const auto metrics = HttpRequest(setup.port, "GET", "/metrics").body;
    CHECK(metrics.find("cobrador_outbox_pending{scope=\"cluster\"} " + std::to_string(kDebtors)) !=
          std::string::npos);

    // The provider recovers: every reply goes out, once each, within the longest backoff.
    down = false;
    setup.WaitFor(
        "SELECT count(*) FROM outbox WHERE status = 'sent'", std::to_string(kDebtors), 90s);
    CHECK(setup.Query("SELECT count(DISTINCT provider_message_id) FROM messages WHERE "
                      "direction = 'out' AND provider_message_id LIKE 'wamid.OUT%'") ==
          std::to_string(kDebtors));
    CHECK(handed_out.load() == kDebtors);
    // The debtors still count as answered: one reply each, in their own conversation.
    CHECK(setup.Query("SELECT count(*) FROM conversations c WHERE (SELECT count(*) FROM messages "
                      "m WHERE m.conversation_id = c.id AND m.direction = 'out') <> 1") == "0");
    INFO("drained " << std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::steady_clock::now() - outage_started)
                           .count()
                    << " s after the outage began");
    server->Signal(SIGTERM);
    CHECK(server->Wait() == 0);
}

// Sets the most a process may write into any file (RLIMIT_FSIZE) from outside, as a full disk
// would stop it; RLIM_INFINITY gives the room back.
void LimitFileSize(pid_t pid, rlim_t bytes) {
    // The soft limit only: lowering and raising it again needs no privilege.
    const struct rlimit limit { bytes, RLIM_INFINITY };

    const int done = prlimit(pid, RLIMIT_FSIZE, &limit, nullptr);
    INFO("prlimit: " << std::strerror(errno));
    REQUIRE(done == 0);
}

TEST_CASE(
    "a disk that takes no more writes: 503 to providers, nothing corrupted, and it "
    "carries on when there is room again",
    "[bot][faults][integration][sqlite]") {  // the ledger's own file; PostgreSQL: below
    std::atomic<int> sent{0};
    FakeProvider graph([&](const RecordedRequest&, std::size_t) {
        return GraphAccepted("wamid.OUT" + std::to_string(++sent));
    });
    Setup setup(&graph, nullptr);
    auto server = setup.Start();
    REQUIRE(PostWhatsApp(setup.port, WhatsAppText("wamid.DISK1", kWaId, "hola")).status == 200);
    setup.WaitFor("SELECT count(*) FROM outbox WHERE status = 'sent'", "1");

    // The disk fills: no file of the server's may grow past a few bytes.
    LimitFileSize(server->Pid(), 4096);
    for (int i = 2; i < 6; ++i) {
        const auto refused =
            PostWhatsApp(setup.port, WhatsAppText("wamid.DISK" + std::to_string(i), kWaId, "x"));
        CHECK(refused.status == 503);
    }
    // Still alive, still honest about itself.
    CHECK(HttpRequest(setup.port, "GET", "/healthz").status == 200);
    const auto metrics = HttpRequest(setup.port, "GET", "/metrics").body;
    CHECK(metrics.find("cobrador_http_requests_total{route=\"/webhooks/whatsapp\",status=\"503\"} "
                       "4") != std::string::npos);
    CHECK(server->Stderr().find("webhook not stored") != std::string::npos);

    // Room again: the provider's redeliveries are taken, handled and answered.
    LimitFileSize(server->Pid(), RLIM_INFINITY);
    for (int i = 2; i < 6; ++i) {
        CHECK(PostWhatsApp(setup.port, WhatsAppText("wamid.DISK" + std::to_string(i), kWaId, "x"))
                  .status == 200);
    }
    setup.WaitFor("SELECT count(*) FROM inbound_events WHERE processed_at IS NOT NULL", "5");
    setup.WaitFor("SELECT count(*) FROM outbox WHERE status = 'sent'", "5");
    server->Signal(SIGTERM);
    CHECK(server->Wait() == 0);
    CHECK(setup.Query("PRAGMA integrity_check") == "ok");
    CHECK(setup.Query("SELECT count(*) FROM messages WHERE direction = 'in'") == "5");
}

TEST_CASE("PostgreSQL out of reach: 503 to providers, not ready, and it carries on when it is back",
          "[bot][faults][integration][postgres]") {
    std::atomic<int> sent{0};
    FakeProvider graph([&](const RecordedRequest&, std::size_t) {
        return GraphAccepted("wamid.OUT" + std::to_string(++sent));
    });
    Setup setup(&graph, nullptr);
    auto server = setup.Start();
    REQUIRE(PostWhatsApp(setup.port, WhatsAppText("wamid.PG1", kWaId, "hola")).status == 200);
    setup.WaitFor("SELECT count(*) FROM outbox WHERE status = 'sent'", "1");

    // The database goes away: no new connection is let in, and the server's are cut.
    const std::string name = setup.db.substr(setup.db.rfind("dbname=") + 7);
    Probe admin(setup.db.substr(0, setup.db.rfind("dbname=")) + "dbname=postgres");
    admin.Exec("ALTER DATABASE " + name + " ALLOW_CONNECTIONS false");
    admin.Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + name +
               "'");
    for (int i = 2; i < 5; ++i) {
        const auto refused =
            PostWhatsApp(setup.port, WhatsAppText("wamid.PG" + std::to_string(i), kWaId, "x"));
        CHECK(refused.status == 503);
    }
    CHECK(HttpRequest(setup.port, "GET", "/healthz").status == 200);
    CHECK(HttpRequest(setup.port, "GET", "/readyz").status == 503);
    CHECK(server->Stderr().find("webhook not stored") != std::string::npos);

    // Back: the server connects again by itself; the redeliveries are taken and answered.
    admin.Exec("ALTER DATABASE " + name + " ALLOW_CONNECTIONS true");
    for (int i = 2; i < 5; ++i) {
        CHECK(PostWhatsApp(setup.port, WhatsAppText("wamid.PG" + std::to_string(i), kWaId, "x"))
                  .status == 200);
    }
    CHECK(HttpRequest(setup.port, "GET", "/readyz").status == 200);
    setup.WaitFor("SELECT count(*) FROM inbound_events WHERE processed_at IS NOT NULL", "4");
    setup.WaitFor("SELECT count(*) FROM outbox WHERE status = 'sent'", "4");
    server->Signal(SIGTERM);
    CHECK(server->Wait() == 0);
    CHECK(setup.Query("SELECT count(*) FROM messages WHERE direction = 'in'") == "4");
}

}  // namespace
}  // namespace cobrador::testing
