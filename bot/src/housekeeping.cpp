#include "housekeeping.hpp"

#include <algorithm>

#include <boost/asio/post.hpp>

#include "bot/log.hpp"
#include "dialogs/calendar.hpp"

#include "reminders.hpp"

namespace cobrador::bot {

namespace net = boost::asio;

namespace {

// How often each replica asks whether a job is due: a job runs at most this late.
constexpr std::chrono::seconds kLookEvery{30};

}  // namespace

Housekeeping::Housekeeping(Services& services, net::io_context& ioc)
    : s_(services),
      strand_(net::make_strand(ioc)),
      claims_{"claim-expiry",
              std::chrono::seconds(std::min<std::int64_t>(
                  60, std::chrono::seconds(services.config.claim_idle).count() / 2 + 1)),
              [this](store::Ledger& ledger) { ExpireClaims(ledger); },
              net::steady_timer(strand_)},
      reminders_{"reminder-pass",
                 services.config.reminder_interval,
                 [this](store::Ledger& ledger) { RemindersPass(ledger); },
                 net::steady_timer(strand_)} {}

void Housekeeping::Start() {
    net::post(strand_, [this] {
        Schedule(claims_, claims_.every);
        if (reminders_.every.count() > 0) {
            Schedule(reminders_, std::chrono::seconds(2));
        }
    });
}

void Housekeeping::Stop() {
    net::post(strand_, [this] {
        claims_.timer.cancel();
        reminders_.timer.cancel();
    });
}

void Housekeeping::Schedule(Job& job, std::chrono::seconds after) {
    if (s_.stopping) {
        return;
    }
    job.timer.expires_after(after);
    job.timer.async_wait([this, &job](const boost::system::error_code& error) {
        if (error || s_.stopping) {
            return;
        }
        s_.ledger.Post([this, &job](store::Ledger& ledger) {
            RunIfMine(job, ledger);
            net::post(strand_, [this, &job] { Schedule(job, std::min(job.every, kLookEvery)); });
        });
    });
}

void Housekeeping::RunIfMine(Job& job, store::Ledger& ledger) {
    const auto now = s_.Instant();
    // Held for one interval, when it is due again: a pass that takes longer may overlap the
    // next, which is harmless (every job is idempotent), while a dead runner is replaced within
    // one interval.
    const std::string next = dialogs::FormatIsoInstant(now + job.every);
    auto taken =
        ledger.TakeJob(job.name, s_.config.replica_id, dialogs::FormatIsoInstant(now), next, next);
    if (!taken) {
        Log(LogLevel::kError,
            "job not started",
            {{"job", job.name},
             {"error", taken.error().message()},
             {"detail", ledger.LastError()}});
        return;
    }
    if (!*taken) {
        return;  // not due yet, or another replica runs it
    }
    job.run(ledger);
    s_.metrics.Count("cobrador_jobs_run_total", "job=\"" + job.name + "\"");
    if (auto finished = ledger.FinishJob(job.name, s_.config.replica_id, next); !finished) {
        Log(LogLevel::kWarn,
            "job not released; it frees itself when its lease runs out",
            {{"job", job.name}, {"error", finished.error().message()}});
    }
}

void Housekeeping::ExpireClaims(store::Ledger& ledger) {
    const auto now = s_.Instant();
    const std::string idle_since = dialogs::FormatIsoInstant(now - s_.config.claim_idle);
    auto expired = ledger.ExpireIdleClaims(idle_since, dialogs::FormatIsoInstant(now));
    if (!expired) {
        Log(LogLevel::kError,
            "idle claims not expired",
            {{"error", expired.error().message()}, {"detail", ledger.LastError()}});
        return;
    }
    for (const std::int64_t id : *expired) {
        s_.events.Publish(id, "expired");
        Log(LogLevel::kInfo,
            "idle claim went back to the queue",
            {{"conversation", std::to_string(id)}});
    }
    if (!expired->empty()) {
        s_.events.Publish(std::nullopt, "agents");  // their holders went off shift
    }
    s_.metrics.Count("cobrador_claims_expired_total", "", expired->size());
}

void Housekeeping::RemindersPass(store::Ledger& ledger) {
    auto pass = RunReminderPass(ledger, s_.config, s_.strategy, s_.Instant(), false);
    if (!pass) {
        Log(LogLevel::kError,
            "reminder pass failed",
            {{"error", pass.error().message()}, {"detail", ledger.LastError()}});
        return;
    }
    s_.metrics.Count("cobrador_reminders_queued_total", "", pass->queued.size());
    if (!pass->queued.empty() || pass->promises_broken > 0 || pass->plans_broken > 0) {
        Log(LogLevel::kInfo,
            "reminder pass",
            {{"queued", std::to_string(pass->queued.size())},
             {"promises_broken", std::to_string(pass->promises_broken)},
             {"plans_broken", std::to_string(pass->plans_broken)}});
        s_.wake_dispatcher();
    }
}

}  // namespace cobrador::bot
