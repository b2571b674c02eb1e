#pragma once
// Private to the store: writing to a debtor who did not just write to us (thank-yous,
// follow-ups, reminders). Used inside the callers' transactions.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dialogs/vocabulary.hpp"
#include "store/payments.hpp"

#include "connection.hpp"
#include "shifts.hpp"

namespace cobrador::store {

// The debtor's newest conversation, when its channel may be written to (no opt-out on it, the
// phone not a wrong number).
struct Target {
    std::int64_t conversation_id = 0;
    dialogs::ConversationState state = dialogs::ConversationState::kBot;
    std::int64_t debtor_id = 0;
    std::string debtor_name;
    std::string locale;
    std::string timezone;
    std::string phone;
    std::string channel;
    std::optional<std::string> last_inbound_at;
    std::optional<std::string> verified_until;
};

// The rules a broken promise's or plan's follow-up is recorded under in `reminders` (so that a
// complaint can cancel it), as an SQL list: they are no reminders of the strategy's.
inline constexpr const char* kFollowUpRules = "('promise_broken', 'plan_broken')";

std::optional<Target> LatestReachableConversation(Connection& db, std::int64_t debtor_id);
// Conversation `conversation_id` itself, when it has a debtor and may be written to.
std::optional<Target> ReachableConversation(Connection& db, std::int64_t conversation_id);

// The target as the bot addresses it at `now` (inside WhatsApp's window or not).
Addressee AddresseeOf(const Target& target, const std::string& now);

// Whether `phone` may receive a message we start on `channel`.
bool Reachable(Connection& db, const std::string& phone, const std::string& channel);

// Writes `message` to the transcript and the outbox (due at message.send_at, or now). A closed
// conversation is not reopened: the message starts a new one on the same channel, where the
// debtor's answer will land (`conversation_used`, when given, says which). Returns the message
// id.
std::int64_t QueueProactive(Connection& db,
                            const Target& target,
                            const ProactiveMessage& message,
                            const std::string& now,
                            std::int64_t* conversation_used = nullptr);

// Moves the debtor's open conversation (the latest) to the collectors' queue with `reason`.
bool EscalateDebtor(Connection& db,
                    std::int64_t debtor_id,
                    const std::string& reason,
                    const std::string& now);

// Queued messages that must not go out after all: each one's pending outbox row fails with
// "cancelled: `why`" and the message with `code` (rows already sent or failed are left alone).
void CancelQueued(Connection& db,
                  const std::vector<std::int64_t>& message_ids,
                  const std::string& code,
                  const std::string& why,
                  const std::string& now);

// Nothing more goes to `phone` on `channel` ("all": any channel): its pending outbox rows and
// their messages are marked failed (error "opted_out"), whatever queued them.
void CancelPending(Connection& db,
                   const std::string& phone,
                   const std::string& channel,
                   const std::string& now);

// `now` minus 24 hours: a debtor who wrote at or after it is inside WhatsApp's window.
std::string WindowStart(const std::string& now);
std::string DaysBefore(const std::string& now, int days);

}  // namespace cobrador::store
