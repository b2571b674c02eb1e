// The channel between replicas: change notices as they go over the wire, and (PostgreSQL) two
// processes' channels on one database hearing each other in order, a stranger's line refused.

#include "store/cluster_channel.hpp"

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "support/probe.hpp"
#include "support/temp_dir.hpp"

namespace cobrador::store {
namespace {

using namespace std::chrono_literals;

TEST_CASE("Cluster channel: a change notice goes over the wire and back, and junk is refused",
          "[store][cluster]") {
    const ChangeNotice claimed{"app-1:4242", 17, "claimed"};
    CHECK(EncodeChange(claimed) == "app-1:4242\t17\tclaimed");
    CHECK(DecodeChange(EncodeChange(claimed)) == claimed);
    const ChangeNotice status{"r2", std::nullopt, "status"};
    CHECK(EncodeChange(status) == "r2\t-\tstatus");
    CHECK(DecodeChange("r2\t-\tstatus") == status);
    for (const std::string_view junk : {"",
                                        "r1",
                                        "r1\t17",
                                        "\t17\tclaimed",
                                        "r1\t\tclaimed",
                                        "r1\t0\tclaimed",
                                        "r1\t-3\tclaimed",
                                        "r1\t017\tclaimed",
                                        "r1\t17x\tclaimed",
                                        "r1\t99999999999999999999\tclaimed",
                                        "r1\t17\t",
                                        "r1\t17\tClaimed",
                                        "r1\t17\tclaimed\tmore",
                                        "r 1\t17\tclaimed",
                                        "r1\t17\t<script>",
                                        "r1\t17\tclaimed\n"}) {
        INFO(junk);
        CHECK_FALSE(DecodeChange(junk));
    }
}

TEST_CASE("Cluster channel: two replicas on one PostgreSQL hear each other's notices",
          "[store][cluster][postgres]") {
    testing::TempDir dir;
    const std::string db = dir.Ledger();
    ClusterChannel a(db, "cobrador_test_events");
    ClusterChannel b(db, "cobrador_test_events");
    std::mutex mutex;
    std::vector<std::string> heard_by_b;
    std::atomic<int> up{0};
    const auto on_state = [&](bool connected, const std::string&) {
        if (connected) {
            ++up;
        }
    };
    std::thread ta([&] { a.Run([](std::string_view) {}, on_state); });
    std::thread tb([&] {
        b.Run(
            [&](std::string_view line) {
                const std::lock_guard lock(mutex);
                heard_by_b.emplace_back(line);
            },
            on_state);
    });
    for (int i = 0; i < 100 && up < 2; ++i) {
        std::this_thread::sleep_for(50ms);
    }
    REQUIRE(up == 2);

    // A burst from A, and a stranger's NOTIFY on the same channel.
    constexpr int kBurst = 500;
    for (int i = 1; i <= kBurst; ++i) {
        a.Send(EncodeChange({"replica-a", i, "message"}));
    }
    testing::Probe(db).Exec("NOTIFY cobrador_test_events, 'not\ta notice'");
    const auto heard = [&] {
        const std::lock_guard lock(mutex);
        return heard_by_b.size();
    };
    for (int i = 0; i < 100 && heard() < kBurst + 1; ++i) {
        std::this_thread::sleep_for(50ms);
    }
    a.Stop();
    b.Stop();
    ta.join();
    tb.join();

    // Everything A sent, in order, once; the stranger's line is heard as a line and refused by
    // DecodeChange.
    std::vector<std::string> notices;
    int refused = 0;
    for (const std::string& line : heard_by_b) {
        if (DecodeChange(line)) {
            notices.push_back(line);
        } else {
            ++refused;
        }
    }
    REQUIRE(notices.size() == static_cast<std::size_t>(kBurst));
    for (int i = 1; i <= kBurst; ++i) {
        CHECK(notices[static_cast<std::size_t>(i - 1)] ==
              EncodeChange({"replica-a", i, "message"}));
    }
    CHECK(refused == 1);
}

}  // namespace
}  // namespace cobrador::store
