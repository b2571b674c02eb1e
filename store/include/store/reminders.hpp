#pragma once
// What the reminder scheduler reads and writes: each debtor with a balance, what is due, what
// was already sent, and whether they may be written to at all. Value types only; the
// operations are on Ledger (store/src/reminder_ledger.cpp).

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "dialogs/vocabulary.hpp"
#include "store/payments.hpp"

namespace cobrador::store {

struct DueItem {
    std::int64_t id = 0;  // promise or instalment id
    std::string due_date;
    std::int64_t amount_cents = 0;  // still to pay
};

struct ReminderAccount {
    std::int64_t id = 0;
    std::string key;
    std::int64_t balance_cents = 0;
    std::string currency;
    std::string due_date;
    std::string segment;
    std::optional<DueItem> open_promise;      // the earliest open one
    std::optional<DueItem> next_installment;  // of the active plan, the earliest unpaid
};

struct ReminderDebtor {
    std::int64_t debtor_id = 0;
    std::string name;
    std::string phone;
    std::string locale;
    std::string timezone;
    std::optional<dialogs::Channel> last_channel;  // of the latest conversation
    std::optional<std::string> last_inbound_at;
    // What the contact policy (dialogs/contact_policy.hpp) weighs: the latest conversation's
    // state, a wrong number, the opted-out channels; and an identity lock, which also stops
    // reminders.
    std::optional<dialogs::ConversationState> state;
    bool wrong_number = false;
    bool locked = false;
    std::set<dialogs::Channel> opted_out;
    std::vector<ReminderAccount> accounts;
    std::map<std::string, std::set<std::string>> sent;  // subject -> rules already sent
    // When reminders were queued to this debtor's phone (for any debtor on it), the last eight
    // days: the caps are per phone as well as per debtor.
    std::vector<std::string> recent;
};

// One reminder to queue.
struct ReminderToQueue {
    std::int64_t debtor_id = 0;
    std::int64_t account_id = 0;  // the account it is about (ledger id)
    std::string rule;
    std::string subject;
    std::string local_date;
    std::string channel;
    std::string phone;
    ProactiveMessage message;
};

}  // namespace cobrador::store
