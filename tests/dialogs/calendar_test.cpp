#include "dialogs/calendar.hpp"

#include <algorithm>

#include <catch2/catch.hpp>

#include "dialogs/contact.hpp"

namespace cobrador::dialogs {
namespace {

using namespace std::chrono_literals;  // NOLINT(google-build-using-namespace)

TEST_CASE("ParseIsoDate: real dates only", "[dialogs][calendar]") {
    CHECK(ParseIsoDate("2024-02-29") == Date{2024y, std::chrono::February, 29d});
    CHECK(ParseIsoDate("1985-03-15").has_value());
    for (const char* bad : {"2025-02-29",
                            "2025-02-30",
                            "2025-13-01",
                            "2025-00-10",
                            "2025-04-31",
                            "2025-2-3",
                            "25-02-03",
                            "2025/02/03",
                            "2025-02-03T00:00",
                            "",
                            "1899-12-31",
                            "2200-01-01",
                            "abcd-ef-gh",
                            "2025-02-0x"}) {
        INFO(bad);
        CHECK_FALSE(ParseIsoDate(bad).has_value());
    }
}

TEST_CASE("FormatIsoDate round-trips", "[dialogs][calendar]") {
    for (const char* text : {"2024-02-29", "1985-03-15", "2026-11-22", "1900-01-01"}) {
        CHECK(FormatIsoDate(*ParseIsoDate(text)) == text);
    }
}

TEST_CASE("DaysPastDue counts whole days after the due date", "[dialogs][calendar]") {
    const Date due = *ParseIsoDate("2026-01-31");
    CHECK(DaysPastDue(due, *ParseIsoDate("2026-01-31")) == 0);
    CHECK(DaysPastDue(due, *ParseIsoDate("2026-01-01")) == 0);
    CHECK(DaysPastDue(due, *ParseIsoDate("2026-02-01")) == 1);
    CHECK(DaysPastDue(due, *ParseIsoDate("2026-03-02")) == 30);
    CHECK(DaysBetween(*ParseIsoDate("2024-02-28"), *ParseIsoDate("2024-03-01")) == 2);
    CHECK(FormatIsoDate(AddDays(due, 29)) == "2026-03-01");
    CHECK(FormatIsoDate(AddDays(due, -31)) == "2025-12-31");
}

TEST_CASE("UtcDate takes the day of the instant it is given", "[dialogs][calendar]") {
    const auto instant = std::chrono::sys_days{2026y / 11 / 22} + 23h + 59min;
    CHECK(FormatIsoDate(UtcDate(instant)) == "2026-11-22");
}

TEST_CASE("Business days: weekends and Mexican bank holidays are not counted",
          "[dialogs][calendar]") {
    const auto d = [](const char* iso) {
        return *ParseIsoDate(iso);
    };
    const auto days = MexicanBankHolidays(2026);
    for (const char* holiday : {"2026-01-01",
                                "2026-02-02",
                                "2026-03-16",
                                "2026-04-02",  // Holy Thursday (Easter is 5 April 2026)
                                "2026-04-03",  // Good Friday
                                "2026-05-01",
                                "2026-09-16",
                                "2026-11-02",
                                "2026-11-16",
                                "2026-12-12",
                                "2026-12-25"}) {
        INFO(holiday);
        CHECK(std::find(days.begin(), days.end(), d(holiday)) != days.end());
    }
    CHECK(days.size() == 11);
    // Easter moves: 2027's is 28 March, so Holy Thursday is 25 March.
    const auto next = MexicanBankHolidays(2027);
    CHECK(std::find(next.begin(), next.end(), d("2027-03-25")) != next.end());
    CHECK(std::find(next.begin(), next.end(), d("2027-03-26")) != next.end());

    CHECK(IsBusinessDay(d("2026-11-23")));        // a Monday
    CHECK_FALSE(IsBusinessDay(d("2026-11-21")));  // a Saturday
    CHECK_FALSE(IsBusinessDay(d("2026-11-16")));  // Revolution day (third Monday)
    CHECK_FALSE(IsBusinessDay(d("2026-11-24"), {d("2026-11-24")}));  // the creditor's own

    CHECK(AddBusinessDays(d("2026-11-23"), 0) == d("2026-11-23"));
    CHECK(AddBusinessDays(d("2026-11-20"), 1) == d("2026-11-23"));  // Friday -> Monday
    CHECK(AddBusinessDays(d("2026-11-13"), 1) == d("2026-11-17"));  // over the 16th
    CHECK(AddBusinessDays(d("2026-11-23"), 30) == d("2027-01-06"));
    CHECK(AddBusinessDays(d("2026-03-30"), 5) == d("2026-04-08"));  // over Easter

    CHECK(BusinessDaysLeft(d("2026-11-23"), d("2027-01-06")) == 30);
    CHECK(BusinessDaysLeft(d("2027-01-06"), d("2027-01-06")) == 0);
    CHECK(BusinessDaysLeft(d("2026-11-28"), d("2026-11-30")) == 1);  // Saturday to Monday
    CHECK(BusinessDaysLeft(d("2027-01-08"), d("2027-01-06")) == -2);
    CHECK(BusinessDaysLeft(d("2026-11-28"), d("2026-11-27")) == -1);  // due Friday, Saturday now
    // Counting forward and back agree for every start over two years.
    for (Date start = d("2026-01-01"); start < d("2027-12-31"); start = AddDays(start, 1)) {
        const Date due = AddBusinessDays(start, 30);
        REQUIRE(IsBusinessDay(due));
        REQUIRE(BusinessDaysLeft(start, due) == 30);
    }
}

}  // namespace
}  // namespace cobrador::dialogs
