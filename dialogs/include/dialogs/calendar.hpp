#pragma once
// Civil dates (no time zone) as the ledger and the dialog use them: due dates, birth dates,
// promise dates. Built on std::chrono's calendar types; pure functions, safe from any thread.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace cobrador::dialogs {

using Date = std::chrono::year_month_day;

// Strict ISO 8601 calendar date "YYYY-MM-DD" with a real day of that month (leap years
// included). Years 1900..2199. Anything else, including "2025-2-3" or "2025-02-30", is nullopt.
std::optional<Date> ParseIsoDate(std::string_view text);

// "YYYY-MM-DD".
std::string FormatIsoDate(const Date& date);

// Whole days from `from` to `to` (negative when `to` is earlier).
int DaysBetween(const Date& from, const Date& to);

// `date` moved by `days` (either direction).
Date AddDays(const Date& date, int days);

// Days past due on `today` for an account due on `due`; 0 when not yet past due.
int DaysPastDue(const Date& due, const Date& today);

// An instant as ISO 8601 UTC to the second: "2026-11-22T10:00:00Z" (how the ledger keeps time).
std::string FormatIsoInstant(std::chrono::sys_seconds instant);

// The inverse of FormatIsoInstant; nullopt for anything else.
std::optional<std::chrono::sys_seconds> ParseIsoInstant(std::string_view text);

// An ISO 8601 instant as processors write it: "2026-11-23T10:05:00Z", with fractions of a
// second ("...:00.123Z", dropped), with an offset ("...T10:05:00-06:00" or "-0600"), or a bare
// date ("2026-11-23", taken as 12:00 UTC: the same civil day from Tijuana to Cancún). nullopt
// for anything else, including a time without a zone.
std::optional<std::chrono::sys_seconds> ParseIso8601(std::string_view text);

// Today's date in UTC from a system-clock instant. The caller passes the instant, so tests and
// demos can pin it (COBRADOR_TODAY); nothing here reads the clock.
Date UtcDate(std::chrono::system_clock::time_point instant);

}  // namespace cobrador::dialogs
