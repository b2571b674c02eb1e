#include "templates/money_format.hpp"

#include <catch2/catch.hpp>

namespace cobrador::templates {
namespace {

TEST_CASE("FormatMoney: es-MX pesos as Mexicans write them", "[templates][money]") {
    CHECK(FormatMoney(1234567, "MXN", "es-MX") == "$12,345.67");
    CHECK(FormatMoney(0, "MXN", "es-MX") == "$0.00");
    CHECK(FormatMoney(5, "MXN", "es-MX") == "$0.05");
    CHECK(FormatMoney(100000000, "MXN", "es-MX") == "$1,000,000.00");
}

TEST_CASE("FormatMoney: en-US", "[templates][money]") {
    CHECK(FormatMoney(1234567, "USD", "en-US") == "$12,345.67");
    CHECK(FormatMoney(1234567, "MXN", "en-US") == "MX$12,345.67");
    CHECK(FormatMoney(-500, "USD", "en-US") == "-$5.00");
}

TEST_CASE("FormatMoney: exact for amounts a double would round", "[templates][money]") {
    // 90,071,992,547,409.93 has more significant digits than a double holds.
    CHECK(FormatMoney(9007199254740993, "MXN", "es-MX") == "$90,071,992,547,409.93");
}

TEST_CASE("FormatMoney: unknown locale falls back to es-MX", "[templates][money]") {
    CHECK(FormatMoney(1234567, "MXN", "fr-FR") == "$12,345.67");
}

}  // namespace
}  // namespace cobrador::templates
