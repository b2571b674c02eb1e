#include "dialogs/calendar.hpp"

#include <cstdio>

namespace cobrador::dialogs {

namespace {

std::optional<int> Digits(std::string_view text) {
    int value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        value = value * 10 + (c - '0');
    }
    return value;
}

}  // namespace

std::optional<Date> ParseIsoDate(std::string_view text) {
    if (text.size() != 10 || text[4] != '-' || text[7] != '-') {
        return std::nullopt;
    }
    const auto year = Digits(text.substr(0, 4));
    const auto month = Digits(text.substr(5, 2));
    const auto day = Digits(text.substr(8, 2));
    if (!year || !month || !day || *year < 1900 || *year > 2199) {
        return std::nullopt;
    }
    const Date date{std::chrono::year{*year},
                    std::chrono::month{static_cast<unsigned>(*month)},
                    std::chrono::day{static_cast<unsigned>(*day)}};
    if (!date.ok()) {
        return std::nullopt;
    }
    return date;
}

std::string FormatIsoDate(const Date& date) {
    const int y = static_cast<int>(date.year());
    const auto m = static_cast<unsigned>(date.month());
    const auto d = static_cast<unsigned>(date.day());
    std::string out = std::to_string(y);
    while (out.size() < 4) {
        out.insert(out.begin(), '0');
    }
    out += m < 10 ? "-0" : "-";
    out += std::to_string(m);
    out += d < 10 ? "-0" : "-";
    out += std::to_string(d);
    return out;
}

int DaysBetween(const Date& from, const Date& to) {
    return static_cast<int>((std::chrono::sys_days{to} - std::chrono::sys_days{from}).count());
}

Date AddDays(const Date& date, int days) {
    return Date{std::chrono::sys_days{date} + std::chrono::days{days}};
}

int DaysPastDue(const Date& due, const Date& today) {
    const int days = DaysBetween(due, today);
    return days > 0 ? days : 0;
}

std::optional<std::chrono::sys_seconds> ParseIsoInstant(std::string_view text) {
    // "YYYY-MM-DDTHH:MM:SSZ"
    if (text.size() != 20 || text[10] != 'T' || text[13] != ':' || text[16] != ':' ||
        text[19] != 'Z') {
        return std::nullopt;
    }
    const auto date = ParseIsoDate(text.substr(0, 10));
    const auto two = [&](std::size_t at) -> int {
        const char a = text[at];
        const char b = text[at + 1];
        if (a < '0' || a > '9' || b < '0' || b > '9') {
            return -1;
        }
        return (a - '0') * 10 + (b - '0');
    };
    const int h = two(11);
    const int m = two(14);
    const int s = two(17);
    if (!date || h < 0 || h > 23 || m < 0 || m > 59 || s < 0 || s > 59) {
        return std::nullopt;
    }
    return std::chrono::sys_seconds{std::chrono::sys_days{*date}} + std::chrono::hours(h) +
           std::chrono::minutes(m) + std::chrono::seconds(s);
}

std::optional<std::chrono::sys_seconds> ParseIso8601(std::string_view text) {
    if (text.size() == 10) {
        const auto date = ParseIsoDate(text);
        if (!date) {
            return std::nullopt;
        }
        return std::chrono::sys_seconds{std::chrono::sys_days{*date}} + std::chrono::hours(12);
    }
    if (text.size() < 20) {
        return std::nullopt;
    }
    // The first 19 characters are "YYYY-MM-DDTHH:MM:SS"; borrow the strict parser for them.
    const auto base = ParseIsoInstant(std::string(text.substr(0, 19)) + "Z");
    if (!base) {
        return std::nullopt;
    }
    std::string_view rest = text.substr(19);
    if (rest.front() == '.') {
        std::size_t digits = 1;
        while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') {
            ++digits;
        }
        if (digits == 1 || digits > 10) {
            return std::nullopt;
        }
        rest.remove_prefix(digits);
    }
    if (rest == "Z") {
        return base;
    }
    // ±HH:MM or ±HHMM
    if ((rest.size() != 6 && rest.size() != 5) || (rest[0] != '+' && rest[0] != '-') ||
        (rest.size() == 6 && rest[3] != ':')) {
        return std::nullopt;
    }
    const std::string_view hh = rest.substr(1, 2);
    const std::string_view mm = rest.substr(rest.size() - 2);
    for (const char c : std::string(hh) + std::string(mm)) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
    }
    const int hours = (hh[0] - '0') * 10 + (hh[1] - '0');
    const int minutes = (mm[0] - '0') * 10 + (mm[1] - '0');
    if (hours > 14 || minutes > 59) {
        return std::nullopt;
    }
    const auto offset = std::chrono::hours(hours) + std::chrono::minutes(minutes);
    // Local time = UTC + offset, so UTC = local - offset.
    return rest[0] == '+' ? *base - offset : *base + offset;
}

std::string FormatIsoInstant(std::chrono::sys_seconds instant) {
    const auto day = std::chrono::floor<std::chrono::days>(instant);
    const std::chrono::hh_mm_ss time{instant - day};
    char clock[16];
    std::snprintf(clock,
                  sizeof clock,
                  "T%02d:%02d:%02dZ",
                  static_cast<int>(time.hours().count()),
                  static_cast<int>(time.minutes().count()),
                  static_cast<int>(time.seconds().count()));
    return FormatIsoDate(Date{day}) + clock;
}

Date UtcDate(std::chrono::system_clock::time_point instant) {
    return Date{std::chrono::floor<std::chrono::days>(instant)};
}

}  // namespace cobrador::dialogs
