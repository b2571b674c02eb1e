#pragma once
// Reminder strategies: which reminder, if any, a debtor is due today. Read from a JSON file
// (dialogs/data/reminders.json is the default, embedded at build time; docs/reminders.md has
// the format). Pure: the caller brings the debtor's subjects, what was already sent and the
// local date; the ledger and the clock stay outside.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "dialogs/calendar.hpp"
#include "dialogs/contact.hpp"

namespace cobrador::dialogs {

struct ReminderRule {
    std::string name;     // unique; recorded with each reminder
    std::string on;       // account (its due date), promise (its date), installment (its date)
    int day = 0;          // days from that date: -3 is three days before
    std::string message;  // catalog key of the text
    std::vector<std::string> segments;  // only these portfolio segments; empty: all
};

struct WhatsAppTemplate {
    std::string name;                     // as approved by Meta
    std::vector<std::string> parameters;  // argument names for {{1}}, {{2}}, ...
};

struct ReminderStrategy {
    ContactHours hours;
    int max_per_day = 1;   // per debtor, in their local day
    int max_per_week = 3;  // per debtor, in the last 7 days
    int promise_grace_days = 3;
    int catch_up_days = 7;  // a rule missed on its day (weekend, holiday) is sent this late
    std::vector<ReminderRule> rules;
    std::map<std::string, WhatsAppTemplate> whatsapp_templates;  // by message key
};

std::optional<ReminderStrategy> ParseReminderStrategy(std::string_view json, std::string& error);
const ReminderStrategy& DefaultReminderStrategy();

// Something a reminder can be about.
struct ReminderSubject {
    std::string kind;            // account, promise, installment
    std::string key;             // unique per subject: "account:12@2026-11-20", "promise:5"
    Date date;                   // the due date it counts from
    std::string segment;         // the account's
    std::set<std::string> sent;  // rules already sent for this subject
};

struct PlannedReminder {
    const ReminderRule* rule = nullptr;
    const ReminderSubject* subject = nullptr;
};

// The rule due today for `subject`: the latest one whose day has come, unless it was sent or
// is more than catch_up_days late (an earlier one is never sent once a later one is due).
const ReminderRule* DueRule(const ReminderStrategy& strategy,
                            const ReminderSubject& subject,
                            const Date& today);

// What to send one debtor today: promises first, then instalments, then accounts, as many as
// the caps allow after `sent_today` and `sent_this_week`.
std::vector<PlannedReminder> PlanReminders(const ReminderStrategy& strategy,
                                           const std::vector<ReminderSubject>& subjects,
                                           const Date& today,
                                           int sent_today,
                                           int sent_this_week);

}  // namespace cobrador::dialogs
