#pragma once
// Every sentence the bot says, per locale, from the data files in templates/data/ (ICU
// MessageFormat, embedded in the binary at build time). Safe from any thread.

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "dialogs/calendar.hpp"
#include "dialogs/dialog.hpp"
#include "dialogs/money.hpp"

namespace cobrador::templates {

using Money = dialogs::Money;

// A named argument: text as is, a number (plurals), money (formatted for the locale: es-MX
// "$12,345.67"), or a date (formatted for the locale: "viernes, 14 de marzo de 2026"). The
// dialog's own type, so that its replies render as they are.
using ArgValue = dialogs::ArgValue;
using Args = dialogs::Args;

// The locales with a catalog: "es-MX" and "en-US".
const std::vector<std::string>& Locales();

// The message `key` in `locale` (an unknown locale falls back to es-MX) with `args`; nullopt
// for an unknown key or arguments the pattern cannot take.
std::optional<std::string> Render(std::string_view locale, std::string_view key, const Args& args);

// `pattern` (ICU MessageFormat, as the catalog's, like a creditor's own canned reply) rendered
// for `locale` with `args`; nullopt when ICU cannot parse it or the arguments do not fit.
std::optional<std::string> RenderPattern(std::string_view locale,
                                         std::string_view pattern,
                                         const Args& args);

// The names of the arguments `pattern` uses, nested ones too ({name, select, ...} names "name");
// nullopt when ICU cannot parse it.
std::optional<std::set<std::string>> PatternArguments(std::string_view pattern);

// The keys of a locale's catalog, sorted (for tests that check both catalogs agree).
std::vector<std::string> Keys(std::string_view locale);

// `date` as the locale writes it, with the weekday.
std::string FormatDate(const dialogs::Date& date, std::string_view locale);

// A dialog reply in words: its lines joined by line breaks, its options with their titles,
// and the label of the button that opens a list ("Opciones").
struct RenderedOption {
    std::string id;
    std::string title;
};

struct RenderedReply {
    std::string text;
    std::vector<RenderedOption> options;
    std::string list_button;
};

// A line whose key is missing or whose arguments do not fit is a bug in our own code: it
// renders as its key, so that tests see it, and the debtor still gets the rest.
RenderedReply RenderReply(const dialogs::Reply& reply, std::string_view locale);

}  // namespace cobrador::templates
