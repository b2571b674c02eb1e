#include "dialogs/contact.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <string>

#include <unicode/timezone.h>

namespace cobrador::dialogs {

namespace {

using namespace std::chrono;

std::chrono::seconds UtcOffset(std::string_view timezone, sys_seconds instant) {
    // Building an ICU zone costs more than the lookup: keep one per name, per thread.
    thread_local std::map<std::string, std::unique_ptr<icu::TimeZone>, std::less<>> zones;
    auto found = zones.find(timezone);
    if (found == zones.end()) {
        if (zones.size() > 512) {
            zones.clear();  // only a flood of made-up names gets here
        }
        found = zones
                    .emplace(
                        std::string(timezone),
                        icu::TimeZone::createTimeZone(icu::UnicodeString::fromUTF8(icu::StringPiece(
                            timezone.data(), static_cast<std::int32_t>(timezone.size())))))
                    .first;
    }
    std::int32_t raw = 0;
    std::int32_t dst = 0;
    UErrorCode status = U_ZERO_ERROR;
    found->second->getOffset(
        static_cast<UDate>(instant.time_since_epoch().count()) * 1000.0, false, raw, dst, status);
    return U_SUCCESS(status) ? duration_cast<seconds>(milliseconds(raw + dst)) : seconds(0);
}

// The `n`-th (1-based) `weekday` of `month` in `y`.
Date NthWeekday(int y, std::chrono::month m, weekday wd, unsigned n) {
    return Date{sys_days{year{y} / m / wd[n]}};
}

}  // namespace

LocalTime ToLocal(sys_seconds instant, std::string_view timezone) {
    const sys_seconds local = instant + UtcOffset(timezone, instant);
    const sys_days day = floor<days>(local);
    LocalTime out;
    out.date = Date{day};
    out.minute_of_day = static_cast<int>(duration_cast<minutes>(local - day).count());
    out.weekday = weekday{day}.c_encoding();
    return out;
}

std::vector<Date> MexicanHolidays(int y) {
    std::vector<Date> out = {
        Date{year{y} / January / 1},
        NthWeekday(y, February, Monday, 1),
        NthWeekday(y, March, Monday, 3),
        Date{year{y} / May / 1},
        Date{year{y} / September / 16},
        NthWeekday(y, November, Monday, 3),
        Date{year{y} / December / 25},
    };
    if (y >= 2024 && (y - 2024) % 6 == 0) {
        out.push_back(Date{year{y} / October / 1});
    }
    return out;
}

namespace {

// Easter Sunday of `y` (Gregorian; the anonymous algorithm in Meeus, "Astronomical Algorithms").
Date EasterSunday(int y) {
    const int a = y % 19;
    const int b = y / 100;
    const int c = y % 100;
    const int d = b / 4;
    const int e = b % 4;
    const int f = (b + 8) / 25;
    const int g = (b - f + 1) / 3;
    const int h = (19 * a + b - d - g + 15) % 30;
    const int i = c / 4;
    const int k = c % 4;
    const int l = (32 + 2 * e + 2 * i - h - k) % 7;
    const int m = (a + 11 * h + 22 * l) / 451;
    const int month_number = (h + l - 7 * m + 114) / 31;
    const int day_number = ((h + l - 7 * m + 114) % 31) + 1;
    return Date{year{y},
                month{static_cast<unsigned>(month_number)},
                day{static_cast<unsigned>(day_number)}};
}

bool Listed(const std::vector<Date>& days, const Date& date) {
    return std::find(days.begin(), days.end(), date) != days.end();
}

}  // namespace

std::vector<Date> MexicanBankHolidays(int y) {
    std::vector<Date> out = MexicanHolidays(y);
    const Date easter = EasterSunday(y);
    out.push_back(AddDays(easter, -3));  // Holy Thursday
    out.push_back(AddDays(easter, -2));  // Good Friday
    out.push_back(Date{year{y} / November / 2});
    out.push_back(Date{year{y} / December / 12});
    std::sort(out.begin(), out.end());
    return out;
}

bool IsBusinessDay(const Date& date, const std::vector<Date>& extra) {
    const unsigned wd = weekday{sys_days{date}}.c_encoding();
    if (wd == 0 || wd == 6 || Listed(extra, date)) {
        return false;
    }
    return !Listed(MexicanBankHolidays(static_cast<int>(date.year())), date);
}

Date AddBusinessDays(const Date& from, int n, const std::vector<Date>& extra) {
    Date at = from;
    for (int counted = 0; counted < n;) {
        at = AddDays(at, 1);
        counted += IsBusinessDay(at, extra) ? 1 : 0;
    }
    return at;
}

int BusinessDaysLeft(const Date& today, const Date& due, const std::vector<Date>& extra) {
    const bool late = due < today;
    Date at = late ? due : today;
    const Date end = late ? today : due;
    int count = 0;
    while (at < end) {
        at = AddDays(at, 1);
        count += IsBusinessDay(at, extra) ? 1 : 0;
    }
    // Late is late, even when only a weekend or a holiday has passed since the due date.
    return late ? -std::max(count, 1) : count;
}

bool MayContact(const ContactHours& hours, sys_seconds instant, std::string_view timezone) {
    const LocalTime local = ToLocal(instant, timezone);
    if (!hours.weekdays[local.weekday] || local.minute_of_day < hours.start_minute ||
        local.minute_of_day >= hours.end_minute) {
        return false;
    }
    if (std::find(hours.holidays.begin(), hours.holidays.end(), local.date) !=
        hours.holidays.end()) {
        return false;
    }
    if (hours.mexican_holidays) {
        const auto official = MexicanHolidays(static_cast<int>(local.date.year()));
        if (std::find(official.begin(), official.end(), local.date) != official.end()) {
            return false;
        }
    }
    return true;
}

std::optional<sys_seconds> NextContactTime(const ContactHours& hours,
                                           sys_seconds instant,
                                           std::string_view timezone) {
    if (MayContact(hours, instant, timezone)) {
        return instant;
    }
    // Whole minutes from the next one on: a window opens on a minute boundary.
    sys_seconds at = ceil<minutes>(instant);
    const sys_seconds limit = instant + days(14);
    while (at < limit) {
        if (MayContact(hours, at, timezone)) {
            return at;
        }
        const LocalTime local = ToLocal(at, timezone);
        // Jump to the window's start on this local day, or to the next local midnight.
        const int to_start = hours.start_minute - local.minute_of_day;
        at += to_start > 0 ? minutes(to_start) : minutes(24 * 60 - local.minute_of_day);
    }
    return std::nullopt;
}

}  // namespace cobrador::dialogs
