#pragma once
// What the collector API reads and writes: agents, the queue of conversations, one
// conversation in full, and the actions a collector takes on it. Value types only; the
// operations are on Ledger (store/src/collector.cpp).

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dialogs/agreement.hpp"
#include "dialogs/contact_policy.hpp"
#include "dialogs/lifecycle.hpp"
#include "dialogs/vocabulary.hpp"
#include "store/messaging.hpp"

namespace cobrador::store {

// The outcome codes a collector closes a conversation with (docs/api.md).
inline constexpr std::array<const char*, 10> kDispositions = {"paid",
                                                              "promise_to_pay",
                                                              "payment_plan",
                                                              "settlement",
                                                              "dispute",
                                                              "refused",
                                                              "hardship",
                                                              "wrong_number",
                                                              "unreachable",
                                                              "other"};

bool IsDisposition(std::string_view code);

struct Agent {
    std::int64_t id = 0;
    std::string name;
    dialogs::Role role = dialogs::Role::kCollector;
    std::string created_at;
    bool disabled = false;
    std::optional<std::string> expires_on;  // YYYY-MM-DD (UTC): the token works through it
    // Since when the person is on shift (ISO 8601 UTC); new escalations are handed out in
    // turn among the people on shift. Empty: off shift.
    std::optional<std::string> on_shift_since;

    bool supervisor() const { return role == dialogs::Role::kSupervisor; }

    dialogs::Actor actor() const { return {id, role}; }
};

// What became of disabling an agent.
enum class DisableResult {
    kDisabled,
    kNoActiveAgent,   // no such agent, or disabled already
    kLastSupervisor,  // it would leave no active supervisor to run the console
    kActorGone,       // the supervisor asking was disabled (or expired) meanwhile
};

struct AgentDisabled {
    DisableResult result = DisableResult::kNoActiveAgent;
    std::int64_t conversations_returned = 0;
};

struct ConversationFilter {
    // nullopt: every state
    std::optional<dialogs::ConversationState> state = dialogs::ConversationState::kEscalated;
    std::string phone;                   // E.164, or empty for any
    std::optional<std::int64_t> holder;  // only those this agent holds
    // Words of the debtor's name (in order; case and Spanish accents aside), four or more
    // digits of the phone, part of an account key, or an account's payment reference; empty
    // for none.
    // A search lists the most recently active first.
    std::string search;
    // YYYY-MM-DD, or empty: only each debtor's latest conversation, for debtors with an open
    // promise due that day ("promesas que vencen hoy").
    std::string promise_due;
    std::size_t limit = 100;
};

struct AgentRef {
    std::int64_t id = 0;
    std::string name;
};

struct ConversationSummary {
    std::int64_t id = 0;
    dialogs::ConversationState state = dialogs::ConversationState::kBot;
    dialogs::Channel channel = dialogs::Channel::kSms;
    std::string phone;
    std::optional<std::string> debtor_name;
    bool verified = false;  // the identity check passed at some time in this conversation
    // Until when the check holds (it lasts a day), and until when failed checks lock the
    // conversation: "verified now" is verified_until > now and no lock beyond now.
    std::optional<std::string> verified_until;
    std::optional<std::string> locked_until;
    std::optional<std::string> escalation_reason;
    // The other reasons it was escalated for before (a dispute, then "a person"), latest first,
    // each once: escalation_reason holds only the latest.
    std::vector<std::string> earlier_reasons;
    std::optional<std::string> escalated_at;
    std::optional<AgentRef> holder;
    std::optional<std::string> last_message;
    std::optional<std::string> last_inbound_at;
    std::string last_activity_at;
    std::string created_at;
    std::optional<std::string> disposition;
    std::optional<std::string> closed_at;
};

struct DebtorSummary {
    std::int64_t id = 0;
    std::string name;
    std::string phone;
    std::string locale;
    std::string timezone;
};

struct AccountDetail {
    std::string account_id;
    std::int64_t balance_cents = 0;
    std::string currency;
    std::string due_date;
    std::optional<std::int64_t> min_payment_cents;
    std::string segment;
    std::string product;
    std::optional<std::string> reference;
};

struct PromiseDetail {
    std::int64_t id = 0;
    std::string account_id;
    std::int64_t amount_cents = 0;
    std::string currency;
    std::string due_date;
    std::string status;
    std::string created_at;
};

struct InstallmentDetail {
    int seq = 0;
    std::string due_date;
    std::int64_t amount_cents = 0;
    std::string status;
};

struct PlanDetail {
    std::int64_t id = 0;
    std::string account_id;
    std::string kind;
    std::int64_t total_cents = 0;
    std::int64_t discount_cents = 0;
    std::string currency;
    std::string status;
    std::string created_at;
    std::vector<InstallmentDetail> installments;
};

struct NoteDetail {
    std::int64_t id = 0;
    AgentRef agent;
    std::string text;
    std::string at;
};

struct AuditEntry {
    std::string at;
    std::string actor;
    std::string kind;
    std::string detail;  // JSON
};

// Whether the channel would let a message go to this debtor now.
struct Reachability {
    bool opted_out = false;
    bool wrong_number = false;
};

// What the contact policy (dialogs/contact_policy.hpp) needs to know for a collector's reply in
// `c`: the API shows it and SendAgentMessage enforces it with the same answer.
dialogs::Recipient AgentReplyRecipient(const ConversationSummary& c, const Reachability& reach);

struct ConversationDetail {
    ConversationSummary summary;
    std::optional<DebtorSummary> debtor;
    std::vector<AccountDetail> accounts;
    std::vector<PromiseDetail> promises;
    std::vector<PlanDetail> plans;
    std::vector<TranscriptLine> messages;
    std::vector<NoteDetail> notes;
    std::vector<AuditEntry> events;
    Reachability reach;
    // Every agent's name by id, so that the history can say who ("agent:3", {"agent_id": 3}).
    std::vector<AgentRef> agents;
};

// The outcome of an action that the ledger may refuse for a reason a person should read (the
// lifecycle table and the contact policy decide them).
using Refusal = dialogs::Refusal;

struct ActionOutcome {
    Refusal refusal = Refusal::kNone;
    std::optional<AgentRef> holder;              // with kHeldByOther: who
    std::optional<std::string> last_inbound_at;  // with kOutsideWindow: the debtor's last message
    std::int64_t created_id = 0;                 // the message or note written
    std::optional<ConversationSummary> conversation;  // after the action
    // An agreement: with kNotAgreed, why it was refused; when recorded, what was (its plan and
    // schedule, whether a supervisor went beyond the policy) and for which account.
    std::optional<dialogs::AgreementVerdict> agreement;
    std::string account_key;

    bool ok() const { return refusal == Refusal::kNone; }
};

// A promise or a plan a collector records (RecordAgreement), or the promise recorded when
// closing with the promise_to_pay disposition.
struct AgentAgreement {
    std::optional<std::string> account_key;  // none: the debtor's only account with a balance
    dialogs::AgreementAsk ask;
};

// A message a collector sends: the text for the transcript and the outbox's channel-neutral
// payload (written by the bot, which owns that format).
struct AgentMessage {
    std::string text;
    std::string payload;
    bool too_long_for_sms = false;  // refused if the conversation is on SMS
};

}  // namespace cobrador::store
