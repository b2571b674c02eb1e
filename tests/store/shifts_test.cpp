// New escalations handed out in turn among the people on shift (store/src/shifts.cpp), on
// SQLite or PostgreSQL.

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "store/ledger.hpp"

#include "inbound.hpp"
#include "people.hpp"
#include "support/catch_result.hpp"
#include "support/probe.hpp"
#include "support/temp_dir.hpp"

namespace cobrador::store {
namespace {

using testing::Probe;
using testing::TempDir;

constexpr const char* kNow = "2026-12-07T15:00:00Z";

Ledger Migrated(const std::string& path) {
    auto ledger = Ledger::Open(path);
    REQUIRE(ledger);
    REQUIRE(ledger->Migrate());
    return std::move(*ledger);
}

Agent NewAgent(Ledger& ledger,
               const std::string& name,
               dialogs::Role role = dialogs::Role::kCollector) {
    return testing::NewAgent(ledger, name, role, kNow);
}

// A bot that answers and hands the conversation to a person for `reason`.
DecideFn Escalating(std::string reason) {
    return [reason](const dialogs::ConversationView&) {
        DialogTurn turn;
        turn.dialog_state = "{}";
        turn.replies.push_back({"Te comunico con una persona", "{\"text\":\"persona\"}"});
        turn.commands.emplace_back(dialogs::Escalated{reason});
        return turn;
    };
}

// A conversation from phone number `i`, escalated at `now`; returns it.
std::int64_t Escalated(Ledger& ledger,
                       int i,
                       const std::string& now,
                       const std::string& reason = "human") {
    static int event = 0;
    return testing::ReceiveText(ledger,
                                "in-" + std::to_string(++event),
                                "+52552000" + std::to_string(1000 + i),
                                Escalating(reason),
                                now);
}

struct Books {
    TempDir dir;
    std::string path = dir.Ledger("ledger.db");
    Ledger ledger = Migrated(path);

    // Who holds conversation `id` (0: nobody), and its state.
    std::int64_t Holder(std::int64_t id) const {
        return Probe(path).Count(
            "SELECT coalesce(assigned_agent_id, 0) FROM conversations WHERE id = " +
            std::to_string(id));
    }

    std::string State(std::int64_t id) const {
        return Probe(path).Text("SELECT state FROM conversations WHERE id = " + std::to_string(id));
    }
};

TEST_CASE("Shifts: new escalations go in turn to the people on shift, as their claims",
          "[store][shifts]") {
    Books b;
    const Agent ana = NewAgent(b.ledger, "Ana");
    const Agent beto = NewAgent(b.ledger, "Beto");
    const Agent carla = NewAgent(b.ledger, "Carla");
    const Agent sofia = NewAgent(b.ledger, "Sofía", dialogs::Role::kSupervisor);

    // Nobody on shift: it waits in the queue, as before.
    const std::int64_t waiting = Escalated(b.ledger, 0, kNow);
    CHECK(b.State(waiting) == "escalated");
    CHECK(b.Holder(waiting) == 0);

    const auto on = b.ledger.SetShift(ana.id, true, ana.id, kNow);
    REQUIRE(on);
    REQUIRE(*on);
    CHECK((*on)->on_shift_since == std::optional<std::string>(kNow));
    REQUIRE(b.ledger.SetShift(beto.id, true, sofia.id, kNow).value());  // a supervisor may
    // Going on shift again changes nothing (and keeps since when).
    CHECK(b.ledger.SetShift(ana.id, true, ana.id, "2026-12-07T15:30:00Z").value()->on_shift_since ==
          std::optional<std::string>(kNow));
    CHECK(Probe(b.path).Count("SELECT count(*) FROM audit_log WHERE kind = 'shift_started'") == 2);
    CHECK(Probe(b.path).Text("SELECT actor FROM audit_log WHERE kind = 'shift_started' AND "
                             "detail LIKE '%" +
                             std::to_string(beto.id) + "%'") ==
          "agent:" + std::to_string(sofia.id));

    // What waited before anyone came stays in the queue; new ones alternate Ana, Beto, ...
    std::vector<std::int64_t> holders;
    for (int i = 1; i <= 4; ++i) {
        const std::int64_t id = Escalated(b.ledger, i, kNow);
        CHECK(b.State(id) == "claimed");
        holders.push_back(b.Holder(id));
    }
    CHECK(holders == std::vector<std::int64_t>{ana.id, beto.id, ana.id, beto.id});
    CHECK(b.State(waiting) == "escalated");
    // Handed out conversations are theirs, like a claim: in their list, with the reason kept.
    ConversationFilter mine;
    mine.state = dialogs::ConversationState::kClaimed;
    mine.holder = ana.id;
    const auto listed = b.ledger.ListConversations(mine);
    REQUIRE(listed);
    REQUIRE(listed->size() == 2);
    CHECK(listed->front().escalation_reason == std::optional<std::string>("human"));
    CHECK(Probe(b.path).Count("SELECT count(*) FROM audit_log WHERE kind = 'handed_out' AND "
                              "actor = 'system'") == 4);

    // Someone who joins is next once, then takes their place in the line.
    REQUIRE(b.ledger.SetShift(carla.id, true, carla.id, kNow).value());
    holders.clear();
    for (int i = 5; i <= 8; ++i) {
        holders.push_back(b.Holder(Escalated(b.ledger, i, kNow)));
    }
    CHECK(holders == std::vector<std::int64_t>{carla.id, ana.id, beto.id, carla.id});

    // Off shift: no more; what they hold stays theirs.
    const auto off = b.ledger.SetShift(ana.id, false, ana.id, kNow);
    REQUIRE(off);
    CHECK_FALSE((*off)->on_shift_since);
    holders.clear();
    for (int i = 9; i <= 10; ++i) {
        holders.push_back(b.Holder(Escalated(b.ledger, i, kNow)));
    }
    CHECK(holders == std::vector<std::int64_t>{beto.id, carla.id});
    CHECK(Probe(b.path).Count("SELECT count(*) FROM conversations WHERE assigned_agent_id = " +
                              std::to_string(ana.id)) == 3);

    // A disabled person leaves the shift; the one with expired access gets nothing either.
    REQUIRE(b.ledger.DisableAgent(beto.id, kNow)->result == DisableResult::kDisabled);
    CHECK(Probe(b.path).Count("SELECT count(*) FROM agents WHERE on_shift_since IS NOT NULL") == 1);
    Probe(b.path).Exec("UPDATE agents SET expires_on = '2026-12-06' WHERE id = " +
                       std::to_string(carla.id));
    const std::int64_t nobody = Escalated(b.ledger, 11, kNow);
    CHECK(b.State(nobody) == "escalated");
    // She still shows on shift until someone ends it, which anyone may do though her access ran
    // out.
    const auto ended = b.ledger.SetShift(carla.id, false, sofia.id, kNow);
    REQUIRE(ended);
    REQUIRE(*ended);
    CHECK_FALSE((*ended)->on_shift_since);
    CHECK_FALSE(b.ledger.SetShift(carla.id, true, carla.id, kNow).value());
    // The report counts what each was handed, apart from what they took: Carla also got the
    // four Beto held when he was disabled.
    ReportQuery query;
    query.from = "2026-12-01";
    query.to = "2026-12-07";
    query.as_of = "2026-12-07";
    const auto report = b.ledger.BuildReport(query);
    REQUIRE(report);
    std::map<std::string, std::int64_t> handed;
    for (const AgentFigures& a : report->by_agent) {
        handed[a.name] = a.handed_out;
        CHECK(a.claimed == 0);
    }
    CHECK(handed ==
          std::map<std::string, std::int64_t>{{"Ana", 3}, {"Beto", 4}, {"Carla", 7}, {"Sofía", 0}});
    // No such (or no longer enabled) person cannot go on shift.
    CHECK_FALSE(b.ledger.SetShift(beto.id, true, beto.id, kNow).value());
    CHECK_FALSE(b.ledger.SetShift(9999, true, sofia.id, kNow).value());
}

TEST_CASE("Shifts: a claim that ends without its holder goes to someone else on shift",
          "[store][shifts]") {
    Books b;
    const Agent ana = NewAgent(b.ledger, "Ana");
    const Agent beto = NewAgent(b.ledger, "Beto");
    REQUIRE(b.ledger.SetShift(ana.id, true, ana.id, kNow).value());
    const std::int64_t id = Escalated(b.ledger, 1, kNow);
    REQUIRE(b.Holder(id) == ana.id);

    // Ana does nothing with it; with nobody else on shift it waits in the queue.
    auto expired = b.ledger.ExpireIdleClaims("2026-12-07T15:10:00Z", "2026-12-07T15:40:00Z");
    REQUIRE(expired);
    CHECK(*expired == std::vector<std::int64_t>{id});
    CHECK(b.State(id) == "escalated");
    CHECK(b.Holder(id) == 0);
    // Ana is away: off shift, so that nothing more goes to her (the system did it, and says so).
    CHECK(Probe(b.path).Count("SELECT count(*) FROM agents WHERE on_shift_since IS NOT NULL") == 0);
    CHECK(Probe(b.path).Text("SELECT actor || ' ' || detail FROM audit_log WHERE kind = "
                             "'shift_ended'") ==
          "system {\"agent_id\":" + std::to_string(ana.id) + ",\"reason\":\"idle_claim\"}");

    // Beto is on shift when the next one goes idle: it moves to him, not back to Ana.
    REQUIRE(b.ledger.SetShift(beto.id, true, beto.id, kNow).value());
    REQUIRE(b.ledger.ClaimConversation(id, ana, std::nullopt, "2026-12-07T15:45:00Z")->ok());
    expired = b.ledger.ExpireIdleClaims("2026-12-07T16:00:00Z", "2026-12-07T16:30:00Z");
    REQUIRE(expired);
    CHECK(*expired == std::vector<std::int64_t>{id});
    CHECK(b.State(id) == "claimed");
    CHECK(b.Holder(id) == beto.id);
    CHECK(Probe(b.path).Text("SELECT detail FROM audit_log WHERE kind = 'handed_out' ORDER BY id "
                             "DESC LIMIT 1") == "{\"agent_id\":" + std::to_string(beto.id) +
                                                    ",\"from_agent_id\":" + std::to_string(ana.id) +
                                                    "}");
    // The idle clock starts again with him.
    CHECK(b.ledger.ExpireIdleClaims("2026-12-07T16:20:00Z", "2026-12-07T16:40:00Z")->empty());

    // Beto ends his shift (he keeps what he holds); Ana is back: disabling Beto hands it to her.
    CHECK_FALSE(b.ledger.SetShift(beto.id, false, beto.id, kNow).value()->on_shift_since);
    REQUIRE(b.ledger.SetShift(ana.id, true, ana.id, "2026-12-07T16:41:00Z").value());
    REQUIRE(b.ledger.DisableAgent(beto.id, "2026-12-07T16:45:00Z")->result ==
            DisableResult::kDisabled);
    CHECK(b.Holder(id) == ana.id);
}

TEST_CASE("Shifts: a receipt for a person is handed out, and the debtor is still told",
          "[store][shifts]") {
    Books b;
    std::istringstream csv(
        "account_id,debtor_name,phone,birth_date,balance,currency,due_date\n"
        "A-1,María López,+525520001001,1985-03-15,1000.00,MXN,2026-11-01\n");
    const auto parsed = ParsePortfolioCsv(csv);
    REQUIRE(parsed.errors.empty());
    REQUIRE(b.ledger.ImportPortfolio(parsed.rows, "test", kNow));
    const Agent ana = NewAgent(b.ledger, "Ana");
    const std::int64_t id = testing::ReceiveText(
        b.ledger,
        "in-r1",
        "+525520001001",
        [](const dialogs::ConversationView&) {
            DialogTurn turn;
            turn.dialog_state = "{}";
            turn.replies.push_back({"Hola", "{\"text\":\"Hola\"}"});
            return turn;
        },
        kNow);
    REQUIRE(b.ledger.SetShift(ana.id, true, ana.id, kNow).value());
    const std::string told = "Una persona revisará tu comprobante.";
    const ReceiptReplyFn reply = [&](const Addressee&, const std::string&) {
        return std::optional<ProactiveMessage>(
            ProactiveMessage{told, "{\"text\":\"" + told + "\"}", "", ""});
    };
    // The receipt could not be read: it goes to Ana at once, and María hears a person will look.
    CHECK(b.ledger.ReceiptToPerson(id, "2026-12-07T15:05:00Z", reply).value());
    CHECK(b.State(id) == "claimed");
    CHECK(b.Holder(id) == ana.id);
    CHECK(Probe(b.path).Count("SELECT count(*) FROM messages WHERE direction = 'out' AND body = '" +
                              told + "'") == 1);
    // Another one while Ana holds it: she tells María herself.
    CHECK_FALSE(b.ledger.ReceiptToPerson(id, "2026-12-07T15:10:00Z", reply).value());
    CHECK(Probe(b.path).Count("SELECT count(*) FROM messages WHERE direction = 'out' AND body = '" +
                              told + "'") == 1);
}

TEST_CASE("Shifts: a second reason while waiting is kept, and the place in the queue too",
          "[store][shifts]") {
    Books b;
    const std::int64_t id = Escalated(b.ledger, 1, kNow, "human");
    // The debtor asks again for a person, then disputes the debt, an hour later.
    Escalated(b.ledger, 1, "2026-12-07T15:30:00Z", "human");
    Escalated(b.ledger, 1, "2026-12-07T16:00:00Z", "dispute");
    CHECK(Probe(b.path).Text("SELECT escalation_reason FROM conversations WHERE id = " +
                             std::to_string(id)) == "dispute");
    CHECK(Probe(b.path).Text("SELECT escalated_at FROM conversations WHERE id = " +
                             std::to_string(id)) == kNow);
    // Two escalations recorded (the repeated one is not a new one).
    CHECK(Probe(b.path).Count("SELECT count(*) FROM audit_log WHERE kind = 'escalated'") == 2);
    const auto summary = b.ledger.ListConversations({});
    REQUIRE(summary);
    REQUIRE(summary->size() == 1);
    CHECK(summary->front().earlier_reasons == std::vector<std::string>{"human"});
}

}  // namespace
}  // namespace cobrador::store
