// The conversation's lifecycle table. Rows are tried in order; the first whose state, event and
// guard match decides: either a target state or a refusal. Reading the rows top to bottom for
// one event gives the whole rule for it, refusals included.

#include "dialogs/lifecycle.hpp"

#include <array>

namespace cobrador::dialogs {

namespace {

using State = ConversationState;
using Event = LifecycleEvent;

struct Ask {
    const LifecycleFacts& facts;
    const Actor& by;
    std::int64_t assignee;
};

using Guard = bool (*)(const Ask&);

bool Always(const Ask&) {
    return true;
}

bool ByHolder(const Ask& a) {
    return a.facts.state == State::kClaimed && a.facts.holder == a.by.agent_id;
}

bool BySupervisor(const Ask& a) {
    return a.by.supervisor();
}

bool ByHolderOrSupervisor(const Ask& a) {
    return ByHolder(a) || BySupervisor(a);
}

bool AssigneeHoldsIt(const Ask& a) {
    return a.facts.state == State::kClaimed && a.facts.holder == a.assignee;
}

bool CollectorNamesOther(const Ask& a) {
    return !a.by.supervisor() && a.assignee != a.by.agent_id;
}

constexpr unsigned Bit(State s) {
    return 1U << static_cast<unsigned>(s);
}

constexpr unsigned kAny =
    Bit(State::kBot) | Bit(State::kEscalated) | Bit(State::kClaimed) | Bit(State::kClosed);
constexpr unsigned kOpen = kAny & ~Bit(State::kClosed);
constexpr unsigned kWithPerson = Bit(State::kEscalated) | Bit(State::kClaimed);

// What a row does when it matches.
enum class Then {
    kGo,      // move to `to`
    kStay,    // keep the state (activity only)
    kRefuse,  // refuse with `refusal`
};

struct Row {
    unsigned from;
    Event on;
    Guard guard;
    std::string_view guard_name;
    Then then;
    State to;         // kGo
    Refusal refusal;  // kRefuse
    bool bot_answers;
};

#define COBRADOR_GUARD(g) g, #g

// clang-format off
constexpr std::array kRows = {
    // from                   on                     guard                                        then           to                 refusal                bot answers
    // The dialog (or a second broken promise) asks for a person; a person already on it keeps it.
    Row{Bit(State::kBot),     Event::kEscalate,      COBRADOR_GUARD(Always),                       Then::kGo,     State::kEscalated, Refusal::kNone,        false},
    Row{kAny,                 Event::kEscalate,      COBRADOR_GUARD(Always),                       Then::kStay,   State::kBot,       Refusal::kNone,        false},
    // Handed out in turn to the next person on shift, while it waits; otherwise left alone.
    Row{Bit(State::kEscalated), Event::kHandOut,    COBRADOR_GUARD(Always),                       Then::kGo,     State::kClaimed,   Refusal::kNone,        false},
    Row{kAny,                 Event::kHandOut,       COBRADOR_GUARD(Always),                       Then::kStay,   State::kBot,       Refusal::kNone,        false},
    // Taking it: a collector for themselves; a supervisor for anyone, whoever holds it now.
    Row{kAny,                 Event::kClaim,         COBRADOR_GUARD(CollectorNamesOther),          Then::kRefuse, State::kBot,       Refusal::kForbidden,   false},
    Row{Bit(State::kClosed),  Event::kClaim,         COBRADOR_GUARD(Always),                       Then::kRefuse, State::kBot,       Refusal::kClosed,      false},
    Row{Bit(State::kClaimed), Event::kClaim,         COBRADOR_GUARD(AssigneeHoldsIt),              Then::kStay,   State::kBot,       Refusal::kNone,        false},
    Row{Bit(State::kClaimed), Event::kClaim,         COBRADOR_GUARD(Always),                       Then::kRefuse, State::kBot,       Refusal::kHeldByOther, false},
    Row{kOpen,                Event::kClaim,         COBRADOR_GUARD(Always),                       Then::kGo,     State::kClaimed,   Refusal::kNone,        false},
    Row{kAny,                 Event::kAssign,        COBRADOR_GUARD(CollectorNamesOther),          Then::kRefuse, State::kBot,       Refusal::kForbidden,   false},
    Row{Bit(State::kClosed),  Event::kAssign,        COBRADOR_GUARD(Always),                       Then::kRefuse, State::kBot,       Refusal::kClosed,      false},
    Row{Bit(State::kClaimed), Event::kAssign,        COBRADOR_GUARD(AssigneeHoldsIt),              Then::kStay,   State::kBot,       Refusal::kNone,        false},
    Row{kOpen,                Event::kAssign,        COBRADOR_GUARD(Always),                       Then::kGo,     State::kClaimed,   Refusal::kNone,        false},
    // Handing back to the bot: the holder, or a supervisor while a person has it.
    Row{Bit(State::kClosed),  Event::kRelease,       COBRADOR_GUARD(Always),                       Then::kRefuse, State::kBot,       Refusal::kClosed,      false},
    Row{kAny,                 Event::kRelease,       COBRADOR_GUARD(ByHolder),                     Then::kGo,     State::kBot,       Refusal::kNone,        false},
    Row{kWithPerson,          Event::kRelease,       COBRADOR_GUARD(BySupervisor),                 Then::kGo,     State::kBot,       Refusal::kNone,        false},
    Row{Bit(State::kClaimed), Event::kRelease,       COBRADOR_GUARD(Always),                       Then::kRefuse, State::kBot,       Refusal::kHeldByOther, false},
    Row{kAny,                 Event::kRelease,       COBRADOR_GUARD(Always),                       Then::kRefuse, State::kBot,       Refusal::kNotHeld,     false},
    // Ending it: the holder, or a supervisor.
    Row{Bit(State::kClosed),  Event::kClose,         COBRADOR_GUARD(Always),                       Then::kRefuse, State::kBot,       Refusal::kClosed,      false},
    Row{kAny,                 Event::kClose,         COBRADOR_GUARD(ByHolderOrSupervisor),         Then::kGo,     State::kClosed,    Refusal::kNone,        false},
    Row{Bit(State::kClaimed), Event::kClose,         COBRADOR_GUARD(Always),                       Then::kRefuse, State::kBot,       Refusal::kHeldByOther, false},
    Row{kAny,                 Event::kClose,         COBRADOR_GUARD(Always),                       Then::kRefuse, State::kBot,       Refusal::kNotHeld,     false},
    // Writing to the debtor: only the holder (then the contact policy has its say).
    Row{Bit(State::kClosed),  Event::kReply,         COBRADOR_GUARD(Always),                       Then::kRefuse, State::kBot,       Refusal::kClosed,      false},
    Row{kAny,                 Event::kReply,         COBRADOR_GUARD(ByHolder),                     Then::kStay,   State::kBot,       Refusal::kNone,        false},
    Row{Bit(State::kClaimed), Event::kReply,         COBRADOR_GUARD(Always),                       Then::kRefuse, State::kBot,       Refusal::kHeldByOther, false},
    Row{kAny,                 Event::kReply,         COBRADOR_GUARD(Always),                       Then::kRefuse, State::kBot,       Refusal::kNotHeld,     false},
    // Recording a promise or a plan for the debtor: the holder, or a supervisor.
    Row{Bit(State::kClosed),  Event::kRecord,        COBRADOR_GUARD(Always),                       Then::kRefuse, State::kBot,       Refusal::kClosed,      false},
    Row{kAny,                 Event::kRecord,        COBRADOR_GUARD(ByHolderOrSupervisor),         Then::kStay,   State::kBot,       Refusal::kNone,        false},
    Row{Bit(State::kClaimed), Event::kRecord,        COBRADOR_GUARD(Always),                       Then::kRefuse, State::kBot,       Refusal::kHeldByOther, false},
    Row{kAny,                 Event::kRecord,        COBRADOR_GUARD(Always),                       Then::kRefuse, State::kBot,       Refusal::kNotHeld,     false},
    // A claim nobody works on goes back to the queue.
    Row{Bit(State::kClaimed), Event::kIdleClaimEnds, COBRADOR_GUARD(Always),                       Then::kGo,     State::kEscalated, Refusal::kNone,        false},
    Row{kAny,                 Event::kIdleClaimEnds, COBRADOR_GUARD(Always),                       Then::kStay,   State::kBot,       Refusal::kNone,        false},
    // A message arrives: the bot answers unless a collector holds the conversation (leaving —
    // opt-out, opt-in, wrong number — is answered anyway: dialogs::IsLeaving).
    Row{Bit(State::kClaimed), Event::kDebtorWrites,  COBRADOR_GUARD(Always),                       Then::kStay,   State::kBot,       Refusal::kNone,        false},
    Row{kOpen,                Event::kDebtorWrites,  COBRADOR_GUARD(Always),                       Then::kStay,   State::kBot,       Refusal::kNone,        true},
    Row{Bit(State::kClosed),  Event::kDebtorWrites,  COBRADOR_GUARD(Always),                       Then::kGo,     State::kBot,       Refusal::kNone,        true},
};
// clang-format on

#undef COBRADOR_GUARD

std::string FromNames(unsigned from) {
    if (from == kAny) {
        return "any";
    }
    if (from == kOpen) {
        return "open";
    }
    std::string out;
    for (const auto& [state, name] : Names<ConversationState>::kAll) {
        if ((from & Bit(state)) != 0) {
            out += out.empty() ? "" : ", ";
            out += name;
        }
    }
    return out;
}

}  // namespace

LifecycleDecision Decide(const LifecycleFacts& facts,
                         LifecycleEvent event,
                         const Actor& by,
                         std::optional<std::int64_t> assignee) {
    const Ask ask{facts, by, assignee.value_or(by.agent_id)};
    for (const Row& row : kRows) {
        if (row.on != event || (row.from & Bit(facts.state)) == 0 || !row.guard(ask)) {
            continue;
        }
        LifecycleDecision d;
        d.row = row.guard_name;
        d.to = facts.state;
        d.bot_answers = row.bot_answers;
        switch (row.then) {
            case Then::kRefuse:
                d.refusal = row.refusal;
                break;
            case Then::kStay:
                break;
            case Then::kGo:
                d.to = row.to;
                d.changes = true;
                d.hand_back = event == Event::kRelease;
                break;
        }
        return d;
    }
    // Every event ends in a catch-all row; this is unreachable, and refuses if it is not.
    LifecycleDecision d;
    d.refusal = Refusal::kForbidden;
    d.to = facts.state;
    return d;
}

LifecycleEvent ClaimOrAssign(const Actor& by, std::optional<std::int64_t> assignee) {
    if (assignee && (*assignee != by.agent_id || by.supervisor())) {
        return by.supervisor() ? Event::kAssign : Event::kClaim;
    }
    return Event::kClaim;
}

std::vector<LifecycleRowDoc> LifecycleRows() {
    std::vector<LifecycleRowDoc> out;
    for (const Row& row : kRows) {
        std::string outcome;
        switch (row.then) {
            case Then::kGo:
                outcome = std::string(ToString(row.to));
                break;
            case Then::kStay:
                outcome = "(stays)";
                break;
            case Then::kRefuse:
                outcome = "refused: " + std::string(ToString(row.refusal));
                break;
        }
        if (row.bot_answers) {
            outcome += "; the bot answers";
        }
        out.push_back({FromNames(row.from),
                       std::string(ToString(row.on)),
                       std::string(row.guard_name),
                       outcome});
    }
    return out;
}

}  // namespace cobrador::dialogs
