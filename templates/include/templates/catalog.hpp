#pragma once
// Every sentence the bot says, per locale, from the data files in templates/data/ (ICU
// MessageFormat, embedded in the binary at build time). Safe from any thread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "dialogs/calendar.hpp"

namespace cobrador::templates {

struct Money {
    std::int64_t cents = 0;
    std::string currency = "MXN";
};

// A named argument: text as is, a number (plurals), money (formatted for the locale: es-MX
// "$12,345.67"), or a date (formatted for the locale: "viernes, 14 de marzo de 2026").
using ArgValue = std::variant<std::string, std::int64_t, Money, dialogs::Date>;
using Args = std::vector<std::pair<std::string, ArgValue>>;

// The locales with a catalog: "es-MX" and "en-US".
const std::vector<std::string>& Locales();

// The message `key` in `locale` (an unknown locale falls back to es-MX) with `args`; nullopt
// for an unknown key or arguments the pattern cannot take.
std::optional<std::string> Render(std::string_view locale, std::string_view key, const Args& args);

// The keys of a locale's catalog, sorted (for tests that check both catalogs agree).
std::vector<std::string> Keys(std::string_view locale);

// `date` as the locale writes it, with the weekday.
std::string FormatDate(const dialogs::Date& date, std::string_view locale);

}  // namespace cobrador::templates
