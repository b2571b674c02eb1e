#pragma once
// What the server's parts share: the configuration, the ledger's thread, metrics, live events,
// the dialog's settings and the reminder strategy, and how to wake the outbox dispatcher. One
// small context handed to each part (webhooks, the inbound worker, housekeeping, routes, the
// collector API) instead of one object that holds everything.

#include <atomic>
#include <chrono>
#include <functional>
#include <string>

#include "bot/config.hpp"
#include "dialogs/dialog.hpp"
#include "dialogs/reminders.hpp"

#include "canned_replies.hpp"
#include "events.hpp"
#include "ledger_thread.hpp"
#include "metrics.hpp"

namespace cobrador::bot {

struct Services {
    const Config& config;
    LedgerThread& ledger;
    Metrics& metrics;
    EventHub& events;
    const dialogs::Settings& dialog;
    const dialogs::ReminderStrategy& strategy;
    // The creditor's own canned replies (COBRADOR_REPLIES_FILE), checked at start.
    const std::vector<OwnReply>& replies;
    // New outbox rows may be due (thread-safe; does nothing before the dispatcher starts).
    std::function<void()> wake_dispatcher;
    // A debtor asked for a payment instrument (thread-safe; does nothing before the provider
    // worker starts).
    std::function<void()> wake_provider_worker;
    // A handled message carried files to fetch (thread-safe; does nothing before the media
    // worker starts).
    std::function<void()> wake_media_worker;
    // Set once the server begins to stop (thread-safe).
    const std::atomic<bool>& stopping;

    // The clock, with COBRADOR_TODAY's pin applied: every "now" of the server comes from here.
    std::chrono::sys_seconds Instant() const {
        return config.Instant(std::chrono::system_clock::now());
    }

    std::string Now() const { return config.Now(std::chrono::system_clock::now()); }
};

}  // namespace cobrador::bot
