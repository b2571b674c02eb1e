#include "dialogs/reminders.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace cobrador::dialogs {

namespace data {
extern const std::string_view kReminders;
}  // namespace data

namespace {

using json = nlohmann::json;

std::optional<int> ClockMinutes(const std::string& text) {
    if (text.size() != 5 || text[2] != ':') {
        return std::nullopt;
    }
    for (const std::size_t i : {0U, 1U, 3U, 4U}) {
        if (text[i] < '0' || text[i] > '9') {
            return std::nullopt;
        }
    }
    const int h = (text[0] - '0') * 10 + (text[1] - '0');
    const int m = (text[3] - '0') * 10 + (text[4] - '0');
    if (h > 24 || m > 59 || (h == 24 && m != 0)) {
        return std::nullopt;
    }
    return h * 60 + m;
}

int Priority(const std::string& kind) {
    return kind == "promise" ? 0 : kind == "installment" ? 1 : 2;
}

}  // namespace

std::optional<ReminderStrategy> ParseReminderStrategy(std::string_view text, std::string& error) {
    const auto j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        error = "not a JSON object";
        return std::nullopt;
    }
    ReminderStrategy s;
    try {
        if (j.contains("contact_hours")) {
            const json& h = j.at("contact_hours");
            if (h.contains("days")) {
                static constexpr const char* kDays[] = {
                    "sun", "mon", "tue", "wed", "thu", "fri", "sat"};
                s.hours.weekdays.fill(false);
                for (const auto& day : h.at("days")) {
                    const auto name = day.get<std::string>();
                    const auto* it = std::find(std::begin(kDays), std::end(kDays), name);
                    if (it == std::end(kDays)) {
                        error = "contact_hours.days: '" + name + "' is not sun, mon, ... sat";
                        return std::nullopt;
                    }
                    s.hours.weekdays[static_cast<std::size_t>(it - std::begin(kDays))] = true;
                }
            }
            const auto start = ClockMinutes(h.value("start", std::string("08:00")));
            const auto end = ClockMinutes(h.value("end", std::string("21:00")));
            if (!start || !end || *start >= *end) {
                error = "contact_hours: start and end are HH:MM with start before end";
                return std::nullopt;
            }
            // The legal outer limit in Mexico is 07:00-22:00 local (collections-mexico.md §1.2).
            if (*start < 7 * 60 || *end > 22 * 60) {
                error = "contact_hours: must stay within 07:00-22:00, the legal limit";
                return std::nullopt;
            }
            s.hours.start_minute = *start;
            s.hours.end_minute = *end;
            s.hours.mexican_holidays = h.value("mexican_holidays", true);
            const json holidays = h.contains("holidays") ? h.at("holidays") : json::array();
            for (const auto& day : holidays) {
                const auto date = ParseIsoDate(day.get<std::string>());
                if (!date) {
                    error = "contact_hours.holidays: dates are YYYY-MM-DD";
                    return std::nullopt;
                }
                s.hours.holidays.push_back(*date);
            }
        }
        s.max_per_day = j.value("max_per_day", 1);
        s.max_per_week = j.value("max_per_week", 3);
        s.promise_grace_days = j.value("promise_grace_days", 3);
        s.catch_up_days = j.value("catch_up_days", 7);
        if (s.max_per_day < 0 || s.max_per_week < 0 || s.promise_grace_days < 0 ||
            s.promise_grace_days > 30 || s.catch_up_days < 0 || s.catch_up_days > 30) {
            error =
                "max_per_day, max_per_week, promise_grace_days (0-30) and catch_up_days "
                "(0-30) must be small non-negative numbers";
            return std::nullopt;
        }
        std::set<std::string> names;
        const json rules = j.contains("rules") ? j.at("rules") : json::array();
        for (const auto& r : rules) {
            ReminderRule rule;
            rule.name = r.at("name").get<std::string>();
            rule.on = r.at("on").get<std::string>();
            rule.day = r.at("day").get<int>();
            rule.message = r.at("message").get<std::string>();
            rule.segments = r.value("segments", std::vector<std::string>{});
            if (rule.on != "account" && rule.on != "promise" && rule.on != "installment") {
                error = "rule " + rule.name + ": 'on' is account, promise or installment";
                return std::nullopt;
            }
            if (rule.day < -60 || rule.day > 365 || rule.name.empty() ||
                !names.insert(rule.name).second) {
                error = "rule '" + rule.name + "': names are unique, day is -60..365";
                return std::nullopt;
            }
            s.rules.push_back(std::move(rule));
        }
        const json templates =
            j.contains("whatsapp_templates") ? j.at("whatsapp_templates") : json::object();
        for (const auto& [key, t] : templates.items()) {
            s.whatsapp_templates[key] = {t.at("name").get<std::string>(),
                                         t.value("parameters", std::vector<std::string>{})};
        }
    } catch (const json::exception& e) {
        error = std::string("unexpected shape: ") + e.what();
        return std::nullopt;
    }
    std::stable_sort(
        s.rules.begin(), s.rules.end(), [](const auto& a, const auto& b) { return a.day < b.day; });
    return s;
}

const ReminderStrategy& DefaultReminderStrategy() {
    static const ReminderStrategy strategy = [] {
        std::string error;
        auto parsed = ParseReminderStrategy(data::kReminders, error);
        return parsed ? *parsed : ReminderStrategy{};
    }();
    return strategy;
}

const ReminderRule* DueRule(const ReminderStrategy& strategy,
                            const ReminderSubject& subject,
                            const Date& today) {
    const ReminderRule* latest = nullptr;
    for (const ReminderRule& rule : strategy.rules) {  // sorted by day
        if (rule.on != subject.kind ||
            (!rule.segments.empty() &&
             std::find(rule.segments.begin(), rule.segments.end(), subject.segment) ==
                 rule.segments.end())) {
            continue;
        }
        if (AddDays(subject.date, rule.day) <= today) {
            latest = &rule;
        }
    }
    if (latest == nullptr || subject.sent.count(latest->name) > 0 ||
        DaysBetween(AddDays(subject.date, latest->day), today) > strategy.catch_up_days) {
        return nullptr;
    }
    return latest;
}

std::vector<PlannedReminder> PlanReminders(const ReminderStrategy& strategy,
                                           const std::vector<ReminderSubject>& subjects,
                                           const Date& today,
                                           int sent_today,
                                           int sent_this_week) {
    const int room =
        std::min(strategy.max_per_day - sent_today, strategy.max_per_week - sent_this_week);
    std::vector<PlannedReminder> due;
    for (const ReminderSubject& subject : subjects) {
        if (const ReminderRule* rule = DueRule(strategy, subject, today)) {
            due.push_back({rule, &subject});
        }
    }
    std::stable_sort(due.begin(), due.end(), [](const auto& a, const auto& b) {
        return Priority(a.subject->kind) < Priority(b.subject->kind);
    });
    due.resize(static_cast<std::size_t>(std::clamp<int>(room, 0, static_cast<int>(due.size()))));
    return due;
}

}  // namespace cobrador::dialogs
