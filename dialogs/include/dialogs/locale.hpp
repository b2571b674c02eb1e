#pragma once
// The locales and time zones a debtor may have. Pure; safe from any thread.

#include <string_view>

namespace cobrador::dialogs {

// The languages the bot speaks: "es-MX" (first) and "en-US".
bool IsSupportedLocale(std::string_view tag);

// True for a canonical IANA zone ICU knows ("America/Mexico_City", "America/Tijuana",
// "Etc/UTC"); false for anything else, including abbreviations like "CST".
bool IsKnownTimeZone(std::string_view iana);

}  // namespace cobrador::dialogs
