#include "reminders.hpp"

#include <algorithm>

#include "dialogs/calendar.hpp"
#include "dialogs/contact.hpp"
#include "dialogs/dialog.hpp"
#include "dialogs/phone.hpp"

#include "proactive.hpp"

namespace cobrador::bot {

namespace {

// The channel a reminder goes on: the one the debtor last used, else WhatsApp, else SMS —
// never one they opted out of, never one without credentials (the sandbox with --demo).
std::string ChooseChannel(const store::ReminderDebtor& d, const Config& config) {
    const auto usable = [&](const std::string& channel) {
        if (d.opted_out.count(channel) > 0) {
            return false;
        }
        if (channel == "whatsapp") {
            return config.WhatsAppEnabled();
        }
        if (channel == "sms") {
            return config.SmsEnabled();
        }
        return channel == "sandbox" && config.demo;
    };
    for (const std::string& channel :
         {d.last_channel, std::string("whatsapp"), std::string("sms"), std::string("sandbox")}) {
        if (!channel.empty() && usable(channel)) {
            return channel;
        }
    }
    return {};
}

}  // namespace

boost::system::result<ReminderPass, boost::system::error_code> RunReminderPass(
    store::Ledger& ledger,
    const Config& config,
    const dialogs::ReminderStrategy& strategy,
    std::chrono::sys_seconds now,
    bool dry_run) {
    ReminderPass pass;
    const std::string now_iso = dialogs::FormatIsoInstant(now);

    if (!dry_run) {
        const dialogs::Date utc_today = dialogs::UtcDate(now);
        const std::string cutoff =
            dialogs::FormatIsoDate(dialogs::AddDays(utc_today, -strategy.promise_grace_days));
        auto broken =
            ledger.BreakOverduePromises(cutoff, now_iso, [&](const store::FollowUp& follow_up) {
                return BrokenPromiseFollowUp(follow_up, config, strategy, now);
            });
        if (!broken) {
            return broken.error();
        }
        pass.promises_broken = broken->size();
    }

    auto candidates =
        ledger.ReminderCandidates(now_iso, dialogs::FormatIsoInstant(now - std::chrono::days(8)));
    if (!candidates) {
        return candidates.error();
    }
    std::vector<store::ReminderToQueue> batch;
    std::vector<ReminderLine> lines;
    for (const store::ReminderDebtor& d : *candidates) {
        if (!d.blocked.empty()) {
            ++pass.skipped_blocked;
            continue;
        }
        // Only inside the debtor's own contact hours: what is queued now goes now.
        if (!dialogs::MayContact(strategy.hours, now, d.timezone)) {
            ++pass.skipped_outside_hours;
            continue;
        }
        const std::string channel = ChooseChannel(d, config);
        if (channel.empty()) {
            ++pass.skipped_blocked;
            continue;
        }
        const dialogs::LocalTime local = dialogs::ToLocal(now, d.timezone);
        int sent_today = 0;
        int sent_week = 0;
        for (const std::string& at : d.recent) {
            const auto instant = dialogs::ParseIsoInstant(at);
            if (!instant) {
                continue;
            }
            sent_today += dialogs::ToLocal(*instant, d.timezone).date == local.date ? 1 : 0;
            sent_week += *instant > now - std::chrono::days(7) ? 1 : 0;
        }

        // What each account's reminders are about now: its open promise, else its plan's next
        // instalment, else the account's own due date.
        std::vector<dialogs::ReminderSubject> subjects;
        std::vector<std::string> described;
        for (const store::ReminderAccount& a : d.accounts) {
            dialogs::ReminderSubject s;
            s.segment = a.segment;
            std::optional<dialogs::Date> date;
            std::string description;
            if (a.open_promise) {
                s.kind = "promise";
                s.key = "promise:" + std::to_string(a.open_promise->id);
                date = dialogs::ParseIsoDate(a.open_promise->due_date);
                description = "promise on " + a.key + " due " + a.open_promise->due_date;
            } else if (a.next_installment) {
                s.kind = "installment";
                s.key = "installment:" + std::to_string(a.next_installment->id);
                date = dialogs::ParseIsoDate(a.next_installment->due_date);
                description = "instalment on " + a.key + " due " + a.next_installment->due_date;
            } else {
                s.kind = "account";
                s.key = "account:" + std::to_string(a.id) + "@" + a.due_date;
                date = dialogs::ParseIsoDate(a.due_date);
                description = "account " + a.key + " due " + a.due_date;
            }
            if (!date) {
                continue;
            }
            described.push_back(std::move(description));
            s.date = *date;
            if (const auto sent = d.sent.find(s.key); sent != d.sent.end()) {
                s.sent = sent->second;
            }
            subjects.push_back(std::move(s));
        }
        const auto planned =
            dialogs::PlanReminders(strategy, subjects, local.date, sent_today, sent_week);
        for (const dialogs::PlannedReminder& p : planned) {
            ProactiveRequest request;
            request.key = p.rule->message;
            request.locale = d.locale;
            request.channel = channel;
            request.whatsapp_window_open =
                d.last_channel == "whatsapp" && d.last_inbound_at &&
                *d.last_inbound_at >= dialogs::FormatIsoInstant(now - std::chrono::hours(24));
            request.timezone = d.timezone;
            request.args = {{"name", dialogs::FirstName(d.name)}, {"company", config.company_name}};
            auto message = RenderProactive(request, strategy, now);
            if (!message) {
                continue;  // WhatsApp outside the window without a template for it
            }
            store::ReminderToQueue r;
            r.debtor_id = d.debtor_id;
            r.rule = p.rule->name;
            r.subject = p.subject->key;
            r.local_date = dialogs::FormatIsoDate(local.date);
            r.channel = channel;
            r.phone = d.phone;
            r.message = std::move(*message);
            batch.push_back(std::move(r));
            const auto index = static_cast<std::size_t>(p.subject - subjects.data());
            lines.push_back(
                {dialogs::RedactPhone(d.phone), p.rule->name, described[index], channel});
        }
    }
    if (dry_run) {
        pass.queued = std::move(lines);
        return pass;
    }
    auto queued = ledger.QueueReminders(batch, now_iso);
    if (!queued) {
        return queued.error();
    }
    // Only the lines of reminders that were really queued (a second pass queues nothing).
    for (const store::ReminderToQueue& q : *queued) {
        for (std::size_t i = 0; i < batch.size(); ++i) {
            if (batch[i].rule == q.rule && batch[i].subject == q.subject) {
                pass.queued.push_back(lines[i]);
                break;
            }
        }
    }
    return pass;
}

}  // namespace cobrador::bot
