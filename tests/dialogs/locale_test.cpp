#include "dialogs/locale.hpp"

#include <catch2/catch.hpp>

namespace cobrador::dialogs {
namespace {

TEST_CASE("IsSupportedLocale: es-MX and en-US", "[dialogs][locale]") {
    CHECK(IsSupportedLocale("es-MX"));
    CHECK(IsSupportedLocale("en-US"));
    CHECK_FALSE(IsSupportedLocale("es"));
    CHECK_FALSE(IsSupportedLocale("es_MX"));
    CHECK_FALSE(IsSupportedLocale("fr-FR"));
}

TEST_CASE("IsKnownTimeZone: IANA names of Mexico's zones and others", "[dialogs][locale]") {
    for (const char* zone : {"America/Mexico_City",
                             "America/Tijuana",
                             "America/Cancun",
                             "America/Monterrey",
                             "America/Hermosillo",
                             "America/New_York"}) {
        INFO(zone);
        CHECK(IsKnownTimeZone(zone));
    }
    for (const char* bad :
         {"CST", "GMT+6", "America/Atlantis", "", "Mexico City", "America/Mexico_City/x"}) {
        INFO(bad);
        CHECK_FALSE(IsKnownTimeZone(bad));
    }
}

}  // namespace
}  // namespace cobrador::dialogs
