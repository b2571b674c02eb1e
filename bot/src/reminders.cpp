#include "reminders.hpp"

#include <algorithm>
#include <map>

#include "dialogs/calendar.hpp"
#include "dialogs/contact.hpp"
#include "dialogs/contact_policy.hpp"
#include "dialogs/dialog.hpp"
#include "dialogs/phone.hpp"

#include "proactive.hpp"

namespace cobrador::bot {

namespace {

using dialogs::Channel;

// What the contact policy needs to know to write to `d` on `channel` (on no particular
// channel when empty: the facts that stop every channel).
dialogs::Recipient RecipientOf(const store::ReminderDebtor& d, std::optional<Channel> channel) {
    dialogs::Recipient r;
    r.channel = channel.value_or(Channel::kSms);
    r.wrong_number = d.wrong_number;
    r.opted_out = channel && d.opted_out.count(*channel) > 0;
    r.state = d.state;
    if (channel && d.last_channel == channel && d.last_inbound_at) {
        r.last_inbound = dialogs::ParseIsoInstant(*d.last_inbound_at);
    }
    r.timezone = d.timezone;
    return r;
}

struct ChosenChannel {
    Channel channel;
    dialogs::WriteDecision decision;  // the contact policy's answer on it (a template or not)
};

// The channel a reminder goes on: the one the debtor last used, else WhatsApp, else SMS —
// never one the contact policy refuses, never one without credentials (the sandbox with
// --demo).
std::optional<ChosenChannel> ChooseChannel(const store::ReminderDebtor& d,
                                           const Config& config,
                                           std::chrono::sys_seconds now) {
    const auto has_credentials = [&](Channel channel) {
        switch (channel) {
            case Channel::kWhatsApp:
                return config.WhatsAppEnabled();
            case Channel::kSms:
                return config.SmsEnabled();
            case Channel::kSandbox:
                return config.demo;
        }
        return false;
    };
    std::vector<Channel> order;
    if (d.last_channel) {
        order.push_back(*d.last_channel);
    }
    order.insert(order.end(), {Channel::kWhatsApp, Channel::kSms, Channel::kSandbox});
    for (const Channel channel : order) {
        const auto decision = dialogs::MayWrite(
            dialogs::WritePurpose::kWeStart, RecipientOf(d, channel), now, nullptr);
        if (decision.allowed() && has_credentials(channel)) {
            return ChosenChannel{channel, decision};
        }
    }
    return std::nullopt;
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
        auto broken = ledger.BreakOverduePromises(
            strategy.promise_grace_days, now_iso, [&](const store::FollowUp& follow_up) {
                return BrokenPromiseFollowUp(follow_up, config, strategy, now);
            });
        if (!broken) {
            return broken.error();
        }
        for (const store::BrokenPromise& b : *broken) {
            ++(b.plan_id != 0 ? pass.plans_broken : pass.promises_broken);
        }
    }

    auto candidates =
        ledger.ReminderCandidates(now_iso, dialogs::FormatIsoInstant(now - std::chrono::days(8)));
    if (!candidates) {
        return candidates.error();
    }
    std::vector<store::ReminderToQueue> batch;
    std::vector<ReminderLine> lines;
    // The caps hold per phone too: what this pass queues for one debtor counts for another on
    // the same phone.
    std::map<std::string, int> queued_by_phone;
    for (const store::ReminderDebtor& d : *candidates) {
        // The contact policy, on no channel yet: a wrong number, a person on the conversation,
        // outside the debtor's own contact hours (what is queued now goes now).
        const auto may = dialogs::MayWrite(
            dialogs::WritePurpose::kWeStart, RecipientOf(d, std::nullopt), now, &strategy.hours);
        if (d.locked || (!may.allowed() && may.block != dialogs::WriteBlock::kOutsideHours)) {
            ++pass.skipped_blocked;
            continue;
        }
        if (!may.allowed()) {
            ++pass.skipped_outside_hours;
            continue;
        }
        const auto chosen = ChooseChannel(d, config, now);
        if (!chosen) {
            ++pass.skipped_blocked;
            continue;
        }
        const std::string channel(dialogs::ToString(chosen->channel));
        const dialogs::LocalTime local = dialogs::ToLocal(now, d.timezone);
        int sent_today = queued_by_phone[d.phone];
        int sent_week = sent_today;
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
        std::vector<std::int64_t> subject_accounts;
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
            subject_accounts.push_back(a.id);
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
                chosen->channel == Channel::kWhatsApp && !chosen->decision.needs_template;
            request.timezone = d.timezone;
            request.args = {{"name", dialogs::FirstName(d.name)}, {"company", config.company_name}};
            auto message = RenderProactive(request, strategy, now);
            if (!message) {
                continue;  // WhatsApp outside the window without a template for it
            }
            const auto index = static_cast<std::size_t>(p.subject - subjects.data());
            store::ReminderToQueue r;
            r.debtor_id = d.debtor_id;
            r.account_id = subject_accounts[index];
            r.rule = p.rule->name;
            r.subject = p.subject->key;
            r.local_date = dialogs::FormatIsoDate(local.date);
            r.channel = channel;
            r.phone = d.phone;
            r.message = std::move(*message);
            batch.push_back(std::move(r));
            ++queued_by_phone[d.phone];
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
