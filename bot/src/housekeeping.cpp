#include "housekeeping.hpp"

#include <boost/asio/post.hpp>

#include "bot/log.hpp"
#include "dialogs/calendar.hpp"

#include "reminders.hpp"

namespace cobrador::bot {

namespace net = boost::asio;

Housekeeping::Housekeeping(Services& services, net::io_context& ioc)
    : s_(services),
      strand_(net::make_strand(ioc)),
      claim_timer_(strand_),
      reminder_timer_(strand_) {}

void Housekeeping::Start() {
    net::post(strand_, [this] {
        ScheduleClaimExpiry();
        ScheduleReminders(std::chrono::seconds(2));
    });
}

void Housekeeping::Stop() {
    net::post(strand_, [this] {
        claim_timer_.cancel();
        reminder_timer_.cancel();
    });
}

void Housekeeping::ScheduleClaimExpiry() {
    if (s_.stopping) {
        return;
    }
    claim_timer_.expires_after(std::chrono::seconds(
        std::min<std::int64_t>(60, std::chrono::seconds(s_.config.claim_idle).count() / 2 + 1)));
    claim_timer_.async_wait([this](const boost::system::error_code& error) {
        if (error || s_.stopping) {
            return;
        }
        s_.ledger.Post([this](store::Ledger& ledger) {
            const auto now = s_.Instant();
            const std::string idle_since = dialogs::FormatIsoInstant(now - s_.config.claim_idle);
            auto expired = ledger.ExpireIdleClaims(idle_since, dialogs::FormatIsoInstant(now));
            if (!expired) {
                Log(LogLevel::kError,
                    "idle claims not expired",
                    {{"error", expired.error().message()}, {"detail", ledger.LastError()}});
            } else {
                for (const std::int64_t id : *expired) {
                    s_.events.Publish(id, "expired");
                    Log(LogLevel::kInfo,
                        "idle claim went back to the queue",
                        {{"conversation", std::to_string(id)}});
                }
                s_.metrics.Count("cobrador_claims_expired_total", "", expired->size());
            }
            net::post(strand_, [this] { ScheduleClaimExpiry(); });
        });
    });
}

void Housekeeping::ScheduleReminders(std::chrono::seconds after) {
    if (s_.stopping || s_.config.reminder_interval.count() == 0) {
        return;
    }
    reminder_timer_.expires_after(after);
    reminder_timer_.async_wait([this](const boost::system::error_code& error) {
        if (error || s_.stopping) {
            return;
        }
        s_.ledger.Post([this](store::Ledger& ledger) {
            auto pass = RunReminderPass(ledger, s_.config, s_.strategy, s_.Instant(), false);
            if (!pass) {
                Log(LogLevel::kError,
                    "reminder pass failed; next in 5 minutes",
                    {{"error", pass.error().message()}, {"detail", ledger.LastError()}});
            } else {
                s_.metrics.Count("cobrador_reminders_queued_total", "", pass->queued.size());
                if (!pass->queued.empty() || pass->promises_broken > 0) {
                    Log(LogLevel::kInfo,
                        "reminder pass",
                        {{"queued", std::to_string(pass->queued.size())},
                         {"promises_broken", std::to_string(pass->promises_broken)}});
                    s_.wake_dispatcher();
                }
            }
            net::post(strand_, [this] { ScheduleReminders(s_.config.reminder_interval); });
        });
    });
}

}  // namespace cobrador::bot
