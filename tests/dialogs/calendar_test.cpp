#include "dialogs/calendar.hpp"

#include <catch2/catch.hpp>

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

}  // namespace
}  // namespace cobrador::dialogs
