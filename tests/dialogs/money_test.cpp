#include "dialogs/money.hpp"

#include <numeric>

#include <catch2/catch.hpp>

namespace cobrador::dialogs {
namespace {

TEST_CASE("ParseDecimalCents: plain decimals become exact cents", "[dialogs][money]") {
    CHECK(ParseDecimalCents("1234.56") == 123456);
    CHECK(ParseDecimalCents("1234.5") == 123450);
    CHECK(ParseDecimalCents("1234") == 123400);
    CHECK(ParseDecimalCents("0") == 0);
    CHECK(ParseDecimalCents("0.01") == 1);
    CHECK(ParseDecimalCents("-12.00") == -1200);
    CHECK(ParseDecimalCents("+3") == 300);
    CHECK(ParseDecimalCents("000123.40") == 12340);
    // 0.1 + 0.2 is exactly 0.30 here, unlike in binary floating point.
    CHECK(*ParseDecimalCents("0.1") + *ParseDecimalCents("0.2") == *ParseDecimalCents("0.3"));
}

TEST_CASE("ParseDecimalCents: anything ambiguous or malformed is refused", "[dialogs][money]") {
    for (const char* bad : {"",
                            "-",
                            ".",
                            "1.",
                            ".5",
                            "1.234",
                            "1,234.56",
                            "1 234",
                            "$12",
                            "12e3",
                            "0x10",
                            "1.2.3",
                            "12-",
                            "--1",
                            "١٢",
                            "nan",
                            " 12",
                            "12 "}) {
        INFO(bad);
        CHECK_FALSE(ParseDecimalCents(bad).has_value());
    }
}

TEST_CASE("ParseDecimalCents: huge amounts are refused, not wrapped", "[dialogs][money]") {
    CHECK(ParseDecimalCents("10000000000000") == kMaxCents);  // ten trillion is the limit
    CHECK_FALSE(ParseDecimalCents("10000000000000.01"));
    CHECK_FALSE(ParseDecimalCents("9999999999999999.99"));
    CHECK_FALSE(ParseDecimalCents("99999999999999999999999"));
    CHECK_FALSE(ParseDecimalCents("-99999999999999999999999"));
}

TEST_CASE("FormatDecimalCents: canonical two-decimal text", "[dialogs][money]") {
    CHECK(FormatDecimalCents(0) == "0.00");
    CHECK(FormatDecimalCents(5) == "0.05");
    CHECK(FormatDecimalCents(-5) == "-0.05");
    CHECK(FormatDecimalCents(123456) == "1234.56");
    CHECK(FormatDecimalCents(-100) == "-1.00");
    CHECK(FormatDecimalCents(kMaxCents) == "10000000000000.00");
    CHECK(FormatDecimalCents(INT64_MIN) == "-92233720368547758.08");
    for (const std::int64_t cents : {0LL, 1LL, -1LL, 99LL, 100LL, 987654321LL, -40LL}) {
        CHECK(ParseDecimalCents(FormatDecimalCents(cents)) == cents);
    }
}

TEST_CASE("IsKnownCurrency: ISO 4217 codes in use", "[dialogs][money]") {
    CHECK(IsKnownCurrency("MXN"));
    CHECK(IsKnownCurrency("USD"));
    CHECK(IsKnownCurrency("EUR"));
    CHECK_FALSE(IsKnownCurrency("mxn"));
    CHECK_FALSE(IsKnownCurrency("MXX"));
    CHECK_FALSE(IsKnownCurrency("XXX"));
    CHECK_FALSE(IsKnownCurrency("XTS"));
    CHECK_FALSE(IsKnownCurrency("MX"));
    CHECK_FALSE(IsKnownCurrency("MXNN"));
    CHECK_FALSE(IsKnownCurrency(""));
}

TEST_CASE("Add and Subtract: same currency only, bounded", "[dialogs][money]") {
    CHECK(Add({150, "MXN"}, {250, "MXN"}) == Money{400, "MXN"});
    CHECK(Subtract({150, "MXN"}, {250, "MXN"}) == Money{-100, "MXN"});
    CHECK_FALSE(Add({150, "MXN"}, {250, "USD"}));
    CHECK_FALSE(Add({kMaxCents, "MXN"}, {1, "MXN"}));
    CHECK_FALSE(Subtract({-kMaxCents, "MXN"}, {1, "MXN"}));
}

TEST_CASE("PercentOf: rounds half away from zero to the cent", "[dialogs][money]") {
    CHECK(PercentOf(10000, 1500) == 1500);  // 15% of 100.00
    CHECK(PercentOf(1, 5000) == 1);         // 50% of 0.01 is half a cent: rounds up
    CHECK(PercentOf(1, 4999) == 0);
    CHECK(PercentOf(-1, 5000) == -1);
    CHECK(PercentOf(123456, 3333) == 41148);  // 1234.56 * 33.33% = 411.4757...
    CHECK(PercentOf(kMaxCents, 10000) == kMaxCents);
    CHECK(PercentOf(kMaxCents, 9999) == kMaxCents / 10000 * 9999);
    CHECK_FALSE(PercentOf(100, -1));
    CHECK_FALSE(PercentOf(100, 10001));
}

TEST_CASE("SplitEvenly: instalments add up to the cent", "[dialogs][money]") {
    const auto parts = SplitEvenly(100000, 3);
    REQUIRE(parts.size() == 3);
    CHECK(parts[0] == 33334);
    CHECK(parts[1] == 33333);
    CHECK(parts[2] == 33333);
    for (const int n : {1, 2, 6, 7, 12, 24}) {
        const auto split = SplitEvenly(1234567, n);
        CHECK(std::accumulate(split.begin(), split.end(), std::int64_t{0}) == 1234567);
        CHECK(split.front() - split.back() <= 1);
    }
    CHECK(SplitEvenly(2, 5) == std::vector<std::int64_t>{1, 1, 0, 0, 0});
    CHECK(SplitEvenly(100, 0).empty());
    CHECK(SplitEvenly(-100, 2).empty());
}

}  // namespace
}  // namespace cobrador::dialogs
