#pragma once
// One pass of the reminder scheduler (`cobrador remind`; `serve` runs one every few minutes):
// broken promises are marked and followed up, then every debtor whose local time is inside
// the contact hours gets the reminder their strategy says is due, within the caps, on a
// channel they have not opted out of. Runs on the thread that owns `ledger`.

#include <chrono>
#include <string>
#include <vector>

#include "bot/config.hpp"
#include "dialogs/reminders.hpp"
#include "store/ledger.hpp"

namespace cobrador::bot {

struct ReminderLine {
    std::string debtor;  // the phone, redacted as in the logs
    std::string rule;
    std::string subject;  // account A-1, promise of 2026-11-27, instalment of ...
    std::string channel;
};

struct ReminderPass {
    std::vector<ReminderLine> queued;  // or, with dry_run, that would be
    std::size_t promises_broken = 0;
    std::size_t plans_broken = 0;  // an instalment missed beyond grace
    std::size_t skipped_outside_hours = 0;
    std::size_t skipped_blocked = 0;  // wrong number, a person holds it, locked, no channel
};

boost::system::result<ReminderPass, boost::system::error_code> RunReminderPass(
    store::Ledger& ledger,
    const Config& config,
    const dialogs::ReminderStrategy& strategy,
    std::chrono::sys_seconds now,
    bool dry_run);

}  // namespace cobrador::bot
