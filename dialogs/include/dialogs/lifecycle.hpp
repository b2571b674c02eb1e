#pragma once
// The conversation's lifecycle: who answers it (the bot, the queue, a collector) and who may
// move it. One table (dialogs/src/lifecycle.cpp, also printed in docs/dialog.md) decides every
// change of ConversationState; the store only persists what it decides. Pure; safe from any
// thread.
//
//   bot ──escalate──▶ escalated ──claim, or hand out (in turn)──▶ claimed ──release──▶ bot
//                         ▲                                         │ idle claim (then handed
//                         └─────────────────────────────────────────┘ out to someone else)
//   any open state ──close──▶ closed (the debtor's next message opens a new conversation)

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dialogs/vocabulary.hpp"

namespace cobrador::dialogs {

enum class LifecycleEvent {
    kEscalate,       // the dialog or a broken promise hands it to a person
    kHandOut,        // a waiting conversation goes, in turn, to the next person on shift
    kClaim,          // an agent takes it for themselves
    kAssign,         // a supervisor gives it to an agent (themselves too), whoever holds it
    kRelease,        // handed back to the bot, which reads the next message from its menu
    kClose,          // ended with a disposition
    kReply,          // an agent writes to the debtor (stays where it is)
    kRecord,         // an agent records a promise or a plan (stays where it is)
    kIdleClaimEnds,  // the holder did nothing for too long: back to the queue
    kDebtorWrites,   // a message arrives: does the bot answer it?
};

// Why an agent's action is not taken: the words a person reads (docs/api.md).
enum class Refusal {
    kNone,
    kNotFound,       // no such conversation (or agent to assign)
    kForbidden,      // the role may not do this
    kHeldByOther,    // another agent holds it
    kNotHeld,        // claim it first
    kClosed,         // the conversation is closed
    kOutsideWindow,  // WhatsApp's 24-hour window is closed
    kOptedOut,       // the debtor opted out of this channel
    kWrongNumber,    // the phone is not the debtor's
    kTooLongForSms,  // over Twilio's 1,600 characters
    kNoAccount,      // a promise for an account that is not the debtor's (or none to choose)
    kNotAgreed,      // a promise or plan the policy or the account does not allow (see why)
};

// Who acts: an agent (id, role), or the system (id 0, the dialog, timers, payments).
struct Actor {
    std::int64_t agent_id = 0;
    Role role = Role::kCollector;

    bool supervisor() const { return role == Role::kSupervisor; }
};

// What the table needs to know about the conversation.
struct LifecycleFacts {
    ConversationState state = ConversationState::kBot;
    std::optional<std::int64_t> holder;  // the agent holding it, while claimed
};

struct LifecycleDecision {
    Refusal refusal = Refusal::kNone;
    ConversationState to = ConversationState::kBot;
    bool changes = false;      // the state or holder changes (else: only activity is touched)
    bool bot_answers = false;  // kDebtorWrites: the dialog replies
    bool hand_back = false;    // kRelease: the dialog starts again from its menu
    std::string_view row;      // the row that decided, for logs and tests

    bool ok() const { return refusal == Refusal::kNone; }
};

// Decides `event` on a conversation in `facts` by `by`. For kClaim/kAssign, `assignee` is the
// agent who will hold it (by.agent_id for a claim). Never throws.
LifecycleDecision Decide(const LifecycleFacts& facts,
                         LifecycleEvent event,
                         const Actor& by,
                         std::optional<std::int64_t> assignee = std::nullopt);

// A claim names an assignee: a supervisor naming anyone (themselves too) assigns; a collector
// naming someone else is refused by the table (kForbidden); no name is a claim.
LifecycleEvent ClaimOrAssign(const Actor& by, std::optional<std::int64_t> assignee);

// The table as a reader sees it: one line per row, "from | event | guard | to or refusal".
struct LifecycleRowDoc {
    std::string from;
    std::string event;
    std::string guard;
    std::string outcome;
};

std::vector<LifecycleRowDoc> LifecycleRows();

// Names for logs, docs and the API's error codes (ToString/FromString in vocabulary.hpp).
template <>
struct Names<LifecycleEvent> {
    static constexpr std::array<std::pair<LifecycleEvent, std::string_view>, 10> kAll = {{
        {LifecycleEvent::kEscalate, "escalate"},
        {LifecycleEvent::kHandOut, "hand_out"},
        {LifecycleEvent::kClaim, "claim"},
        {LifecycleEvent::kAssign, "assign"},
        {LifecycleEvent::kRelease, "release"},
        {LifecycleEvent::kClose, "close"},
        {LifecycleEvent::kReply, "reply"},
        {LifecycleEvent::kRecord, "record"},
        {LifecycleEvent::kIdleClaimEnds, "idle_claim_ends"},
        {LifecycleEvent::kDebtorWrites, "debtor_writes"},
    }};
};

template <>
struct Names<Refusal> {
    static constexpr std::array<std::pair<Refusal, std::string_view>, 12> kAll = {{
        {Refusal::kNone, "none"},
        {Refusal::kNotFound, "not_found"},
        {Refusal::kForbidden, "forbidden"},
        {Refusal::kHeldByOther, "held_by_other"},
        {Refusal::kNotHeld, "not_held"},
        {Refusal::kClosed, "closed"},
        {Refusal::kOutsideWindow, "outside_whatsapp_window"},
        {Refusal::kOptedOut, "opted_out"},
        {Refusal::kWrongNumber, "wrong_number"},
        {Refusal::kTooLongForSms, "too_long_for_sms"},
        {Refusal::kNoAccount, "no_account"},
        {Refusal::kNotAgreed, "not_agreed"},
    }};
};

}  // namespace cobrador::dialogs
