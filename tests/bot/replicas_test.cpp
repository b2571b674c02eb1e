// Several `cobrador serve` replicas on one PostgreSQL database, end to end: real binaries, a
// real PostgreSQL, fake providers on loopback. What one replica does, the others see; what two
// do at once happens once.

#include <algorithm>
#include <barrier>
#include <csignal>
#include <set>
#include <sstream>
#include <thread>

#include "e2e_support.hpp"

namespace cobrador::testing {
namespace {

using json = nlohmann::json;

constexpr const char* kPedroWaId = "5215587654321";

// A second replica beside the desk's: same database and settings, its own port and id.
struct SecondReplica {
    std::unique_ptr<Child> server;
    std::uint16_t port = 0;

    explicit SecondReplica(Desk& desk) {
        const std::uint16_t first = desk.setup.port;
        server = desk.setup.Start("replica-b");
        port = desk.setup.port;
        desk.setup.port = first;  // the desk goes on talking to the first
    }
};

TEST_CASE("Replicas: a claim made through one replica reaches a console stream held on another",
          "[bot][replicas][integration][postgres]") {
    Desk desk;
    const std::int64_t id = desk.Escalate();
    SecondReplica b(desk);
    REQUIRE(b.port != desk.setup.port);

    // The supervisor watches on B; Ana claims on A.
    const std::string stream = ReadEvents(
        b.port,
        desk.supervisor,
        [&] { REQUIRE(desk.api.Post(desk.Path(id, "claim"), desk.collector).status == 200); },
        "\"change\":\"claimed\",\"id\":" + std::to_string(id));
    CHECK(stream.find("event: conversation\ndata: {\"change\":\"claimed\",\"id\":" +
                      std::to_string(id) + "}\n\n") != std::string::npos);

    // And the other way round: the debtor's message handled by A reaches a stream on B, and
    // Ana's release through B reaches a stream on A.
    const std::string on_b = ReadEvents(
        b.port,
        desk.collector,
        [&] { desk.Say("ya pagué ayer"); },
        "\"change\":\"message\",\"id\":" + std::to_string(id));
    CHECK(on_b.find("\"change\":\"message\",\"id\":" + std::to_string(id)) != std::string::npos);
    Api api_b{b.port};
    const std::string on_a = ReadEvents(
        desk.setup.port,
        desk.supervisor,
        [&] { REQUIRE(api_b.Post(desk.Path(id, "release"), desk.collector).status == 200); },
        "\"change\":\"released\",\"id\":" + std::to_string(id));
    CHECK(on_a.find("\"change\":\"released\",\"id\":" + std::to_string(id)) != std::string::npos);

    b.server->Signal(SIGTERM);
    CHECK(b.server->Wait() == 0);
    CHECK(b.server->Stderr().find("listening to the other replicas' console events") !=
          std::string::npos);
}

TEST_CASE("Replicas: two collectors claiming one conversation on two replicas at once, one wins",
          "[bot][replicas][integration][postgres]") {
    Desk desk;
    const std::int64_t id = desk.Escalate();
    SecondReplica b(desk);
    const Api a_api{desk.setup.port};
    const Api b_api{b.port};

    // Five rounds: both claim at the same moment, one through each replica; the winner hands
    // the conversation back to the queue (a supervisor re-escalates it) for the next round.
    for (int round = 0; round < 5; ++round) {
        INFO("round " << round);
        std::array<int, 2> status{};
        std::barrier<> meet(2);
        std::thread other([&] {
            meet.arrive_and_wait();
            status[1] = b_api.Post(desk.Path(id, "claim"), desk.other_collector).status;
        });
        meet.arrive_and_wait();
        status[0] = a_api.Post(desk.Path(id, "claim"), desk.collector).status;
        other.join();
        std::multiset<int> got(status.begin(), status.end());
        CHECK(got == std::multiset<int>{200, 409});
        // Both replicas name the same holder.
        const std::string winner = status[0] == 200 ? "Ana Ruiz" : "Beto Díaz";
        for (const Api* api : {&a_api, &b_api}) {
            const json detail =
                api->Get("/api/v1/conversations/" + std::to_string(id), desk.supervisor);
            CHECK(detail["holder"]["name"] == winner);
        }
        CHECK(desk.setup.Query("SELECT count(*) FROM audit_log WHERE kind = 'claimed' AND "
                               "conversation_id = " +
                               std::to_string(id)) == std::to_string(round + 1));
        // Back to the queue for the next round: the holder releases, the debtor asks again.
        const std::string& holder = status[0] == 200 ? desk.collector : desk.other_collector;
        REQUIRE(a_api.Post(desk.Path(id, "release"), holder).status == 200);
        desk.Say("quiero hablar con una persona");
        desk.setup.WaitFor("SELECT state FROM conversations WHERE id = " + std::to_string(id),
                           "escalated");
    }
    b.server->Signal(SIGTERM);
    CHECK(b.server->Wait() == 0);
}

TEST_CASE("Replicas: two debtors writing through two replicas get each reply once and in order",
          "[bot][replicas][integration][postgres]") {
    Desk desk;
    SecondReplica b(desk);
    // Each message goes to the replica the round-robin gives it; the replies may be sent by
    // either replica's dispatcher.
    const std::array<std::uint16_t, 2> ports = {desk.setup.port, b.port};
    const std::vector<std::string> said = {
        "hola", "15/03/1985", "cuánto debo", "quiero pagar", "gracias", "hola otra vez"};
    int next = 0;
    for (std::size_t i = 0; i < said.size(); ++i) {
        for (const char* wa_id : {kWaId, kPedroWaId}) {
            const std::string wamid = "wamid.R" + std::to_string(i) + "-" + wa_id;
            const auto port = ports[static_cast<std::size_t>(next++ % 2)];
            REQUIRE(PostWhatsApp(port, WhatsAppText(wamid, wa_id, said[i])).status == 200);
            // The same event delivered to the other replica too: stored once.
            const auto again = ports[static_cast<std::size_t>(next % 2)];
            REQUIRE(PostWhatsApp(again, WhatsAppText(wamid, wa_id, said[i])).status == 200);
        }
    }
    desk.setup.WaitFor("SELECT count(*) FROM inbound_events WHERE processed_at IS NULL", "0");
    CHECK(desk.setup.Query("SELECT count(*) FROM inbound_events") ==
          std::to_string(said.size() * 2));
    desk.setup.WaitFor("SELECT count(*) FROM outbox WHERE status <> 'sent'", "0");

    // Every reply went out exactly once: as many provider calls as outbox rows, one attempt
    // each, and each debtor's replies reached the provider in the order they were queued.
    const std::string rows = desk.setup.Query("SELECT count(*) FROM outbox");
    const auto requests = desk.graph.Requests();
    CHECK(std::to_string(requests.size()) == rows);
    CHECK(desk.setup.Query("SELECT count(*) FROM outbox WHERE attempts <> 1") == "0");
    // The fake provider numbers its answers (wamid.OUT<n>) in the order the calls reached it.
    for (const char* wa_id : {kWaId, kPedroWaId}) {
        const std::string phone = "+52" + std::string(wa_id).substr(3);
        INFO(phone);
        const std::string ids = desk.setup.Joined(
            "SELECT m.provider_message_id FROM outbox o JOIN messages m ON m.id = o.message_id "
            "WHERE o.recipient = '" +
            phone + "' ORDER BY o.id");
        std::vector<int> order;
        std::stringstream split(ids);
        for (std::string id; std::getline(split, id, ',');) {
            REQUIRE(id.rfind("wamid.OUT", 0) == 0);
            order.push_back(std::stoi(id.substr(9)));
        }
        CHECK(order.size() >= said.size());
        CHECK(std::is_sorted(order.begin(), order.end()));
    }
    b.server->Signal(SIGTERM);
    CHECK(b.server->Wait() == 0);
}

}  // namespace
}  // namespace cobrador::testing
