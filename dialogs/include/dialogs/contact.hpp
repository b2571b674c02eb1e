#pragma once
// When we may write first: contact hours in the debtor's own time zone, working days, and
// Mexico's mandatory rest days (collections-mexico.md §1.2: 07:00–22:00 local is the legal
// outer limit; the default window is narrower). Pure apart from ICU's time-zone data.

#include <array>
#include <chrono>
#include <optional>
#include <string_view>
#include <vector>

#include "dialogs/calendar.hpp"

namespace cobrador::dialogs {

// A wall-clock moment in some time zone.
struct LocalTime {
    Date date;
    int minute_of_day = 0;  // 0..1439
    unsigned weekday = 0;   // 0 Sunday .. 6 Saturday
};

// `instant` in IANA zone `timezone` (UTC for a zone ICU does not know).
LocalTime ToLocal(std::chrono::sys_seconds instant, std::string_view timezone);

// Mexico's mandatory rest days in `year` (Ley Federal del Trabajo, art. 74): 1 January, the
// first Monday of February, the third Monday of March, 1 May, 16 September, 1 October every
// six years from 2024 (a new president), the third Monday of November, 25 December.
std::vector<Date> MexicanHolidays(int year);

struct ContactHours {
    std::array<bool, 7> weekdays = {false, true, true, true, true, true, false};  // Sunday first
    int start_minute = 8 * 60;                                                    // 08:00
    int end_minute = 21 * 60;  // 21:00 (exclusive)
    bool mexican_holidays = true;
    std::vector<Date> holidays;  // more days off (the creditor's own)
};

// Whether a message we start may go out at `instant` to someone in `timezone`.
bool MayContact(const ContactHours& hours,
                std::chrono::sys_seconds instant,
                std::string_view timezone);

// The first instant at or after `instant` when MayContact holds (searched up to 14 days
// ahead, to the minute), nullopt when the hours allow none.
std::optional<std::chrono::sys_seconds> NextContactTime(const ContactHours& hours,
                                                        std::chrono::sys_seconds instant,
                                                        std::string_view timezone);

}  // namespace cobrador::dialogs
