#include "dialogs/lifecycle.hpp"

#include <catch2/catch.hpp>

namespace cobrador::dialogs {
namespace {

using S = ConversationState;
using E = LifecycleEvent;

const Actor kAna{1, Role::kCollector};
const Actor kBeto{2, Role::kCollector};
const Actor kSara{3, Role::kSupervisor};

LifecycleFacts HeldBy(std::int64_t agent) {
    return {S::kClaimed, agent};
}

TEST_CASE("Lifecycle: a collector claims what waits and nobody else's", "[dialogs][lifecycle]") {
    const auto claim = Decide({S::kEscalated, std::nullopt}, E::kClaim, kAna);
    CHECK(claim.ok());
    CHECK(claim.changes);
    CHECK(claim.to == S::kClaimed);
    // The bot's own conversations can be taken over too.
    CHECK(Decide({S::kBot, std::nullopt}, E::kClaim, kAna).to == S::kClaimed);
    CHECK(Decide(HeldBy(2), E::kClaim, kAna).refusal == Refusal::kHeldByOther);
    CHECK(Decide({S::kClosed, std::nullopt}, E::kClaim, kAna).refusal == Refusal::kClosed);
    // Claiming again what one holds changes nothing (and is not refused).
    const auto again = Decide(HeldBy(1), E::kClaim, kAna);
    CHECK(again.ok());
    CHECK_FALSE(again.changes);
    CHECK(again.to == S::kClaimed);
}

TEST_CASE("Lifecycle: only a supervisor assigns, whoever holds it", "[dialogs][lifecycle]") {
    CHECK(ClaimOrAssign(kAna, std::nullopt) == E::kClaim);
    CHECK(ClaimOrAssign(kAna, 1) == E::kClaim);
    CHECK(ClaimOrAssign(kSara, 3) == E::kAssign);  // a supervisor naming themselves assigns
    CHECK(ClaimOrAssign(kSara, std::nullopt) == E::kClaim);
    // A collector naming someone else is forbidden, before anything else is looked at.
    CHECK(Decide({S::kClosed, std::nullopt}, ClaimOrAssign(kAna, 2), kAna, 2).refusal ==
          Refusal::kForbidden);
    const auto moved = Decide(HeldBy(1), E::kAssign, kSara, 2);
    CHECK(moved.ok());
    CHECK(moved.changes);
    CHECK(Decide(HeldBy(2), E::kAssign, kSara, 2).changes == false);
    CHECK(Decide({S::kClosed, std::nullopt}, E::kAssign, kSara, 2).refusal == Refusal::kClosed);
}

TEST_CASE("Lifecycle: release and close by the holder or a supervisor", "[dialogs][lifecycle]") {
    const auto release = Decide(HeldBy(1), E::kRelease, kAna);
    CHECK(release.ok());
    CHECK(release.to == S::kBot);
    CHECK(release.hand_back);
    CHECK(Decide(HeldBy(1), E::kRelease, kBeto).refusal == Refusal::kHeldByOther);
    CHECK(Decide({S::kEscalated, std::nullopt}, E::kRelease, kBeto).refusal == Refusal::kNotHeld);
    CHECK(Decide({S::kEscalated, std::nullopt}, E::kRelease, kSara).to == S::kBot);
    CHECK(Decide(HeldBy(1), E::kRelease, kSara).ok());
    // There is nothing to hand back while the bot has it.
    CHECK(Decide({S::kBot, std::nullopt}, E::kRelease, kSara).refusal == Refusal::kNotHeld);

    CHECK(Decide(HeldBy(1), E::kClose, kAna).to == S::kClosed);
    CHECK(Decide({S::kBot, std::nullopt}, E::kClose, kSara).to == S::kClosed);
    CHECK(Decide(HeldBy(1), E::kClose, kBeto).refusal == Refusal::kHeldByOther);
    CHECK(Decide({S::kEscalated, std::nullopt}, E::kClose, kBeto).refusal == Refusal::kNotHeld);
    CHECK(Decide({S::kClosed, std::nullopt}, E::kClose, kSara).refusal == Refusal::kClosed);
}

TEST_CASE("Lifecycle: a promise or plan is recorded by the holder or a supervisor, in place",
          "[dialogs][lifecycle]") {
    const auto by_holder = Decide(HeldBy(1), E::kRecord, kAna);
    CHECK(by_holder.ok());
    CHECK_FALSE(by_holder.changes);
    CHECK(Decide(HeldBy(1), E::kRecord, kSara).ok());
    CHECK(Decide({S::kEscalated, std::nullopt}, E::kRecord, kSara).ok());
    CHECK(Decide(HeldBy(1), E::kRecord, kBeto).refusal == Refusal::kHeldByOther);
    CHECK(Decide({S::kEscalated, std::nullopt}, E::kRecord, kAna).refusal == Refusal::kNotHeld);
    CHECK(Decide({S::kClosed, std::nullopt}, E::kRecord, kSara).refusal == Refusal::kClosed);
}

TEST_CASE("Lifecycle: only the holder writes, and the bot is silent while a person holds it",
          "[dialogs][lifecycle]") {
    CHECK(Decide(HeldBy(1), E::kReply, kAna).ok());
    CHECK(Decide(HeldBy(1), E::kReply, kSara).refusal == Refusal::kHeldByOther);
    CHECK(Decide({S::kEscalated, std::nullopt}, E::kReply, kAna).refusal == Refusal::kNotHeld);
    CHECK(Decide({S::kClosed, std::nullopt}, E::kReply, kAna).refusal == Refusal::kClosed);

    const Actor system{};
    CHECK_FALSE(Decide(HeldBy(1), E::kDebtorWrites, system).bot_answers);
    CHECK(Decide({S::kEscalated, std::nullopt}, E::kDebtorWrites, system).bot_answers);
    CHECK(Decide({S::kBot, std::nullopt}, E::kDebtorWrites, system).bot_answers);
    const auto reopened = Decide({S::kClosed, std::nullopt}, E::kDebtorWrites, system);
    CHECK(reopened.bot_answers);
    CHECK(reopened.to == S::kBot);
}

TEST_CASE("Lifecycle: escalation and idle claims", "[dialogs][lifecycle]") {
    const Actor system{};
    const auto up = Decide({S::kBot, std::nullopt}, E::kEscalate, system);
    CHECK(up.changes);
    CHECK(up.to == S::kEscalated);
    // A person already on it keeps it: nothing changes, nothing to count.
    CHECK_FALSE(Decide(HeldBy(1), E::kEscalate, system).changes);
    CHECK_FALSE(Decide({S::kEscalated, std::nullopt}, E::kEscalate, system).changes);
    const auto idle = Decide(HeldBy(1), E::kIdleClaimEnds, system);
    CHECK(idle.changes);
    CHECK(idle.to == S::kEscalated);
    CHECK_FALSE(Decide({S::kBot, std::nullopt}, E::kIdleClaimEnds, system).changes);
    // Handed out in turn to someone on shift: only while it waits for a person.
    const auto handed = Decide({S::kEscalated, std::nullopt}, E::kHandOut, system);
    CHECK(handed.changes);
    CHECK(handed.to == S::kClaimed);
    CHECK_FALSE(Decide(HeldBy(1), E::kHandOut, system).changes);
    CHECK_FALSE(Decide({S::kBot, std::nullopt}, E::kHandOut, system).changes);
    CHECK_FALSE(Decide({S::kClosed, std::nullopt}, E::kHandOut, system).changes);
}

TEST_CASE("Lifecycle: every state and event has a row, and the table prints",
          "[dialogs][lifecycle]") {
    for (int s = 0; s < 4; ++s) {
        for (int e = 0; e <= static_cast<int>(E::kDebtorWrites); ++e) {
            for (const Actor& by : {kAna, kSara, Actor{}}) {
                const auto d = Decide({static_cast<S>(s), 1}, static_cast<E>(e), by);
                INFO(s << " " << e);
                CHECK_FALSE(d.row.empty());  // decided by a row, not by the fallback
            }
        }
    }
    const auto rows = LifecycleRows();
    REQUIRE(rows.size() > 20);
    CHECK(rows.front().event == "escalate");
    CHECK(rows.front().outcome == "escalated");
}

}  // namespace
}  // namespace cobrador::dialogs
