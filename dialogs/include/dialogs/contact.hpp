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

// The days Mexican banks and financial authorities do not work in `year`, which is what
// "días hábiles" means for a financial entity's deadlines (the CNBV's yearly calendar): the
// rest days above, Holy Thursday and Good Friday, 2 November and 12 December.
std::vector<Date> MexicanBankHolidays(int year);

// A business day: Monday to Friday, not a bank holiday, not one of `extra` (the creditor's own).
bool IsBusinessDay(const Date& date, const std::vector<Date>& extra = {});

// The `n`-th business day after `from` (n >= 0; n = 0 is `from` itself): a complaint answered
// "within 30 business days" of `from` is due on AddBusinessDays(from, 30).
Date AddBusinessDays(const Date& from, int n, const std::vector<Date>& extra = {});

// Business days from `today` to `due`: 0 on the due date (or when only days off lie between),
// negative once it has passed (the business days it is late by, at least 1).
int BusinessDaysLeft(const Date& today, const Date& due, const std::vector<Date>& extra = {});

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
