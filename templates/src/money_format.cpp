#include "templates/money_format.hpp"

#include <unicode/currunit.h>
#include <unicode/locid.h>
#include <unicode/numberformatter.h>

#include "dialogs/money.hpp"

namespace cobrador::templates {

std::string FormatMoney(std::int64_t cents, std::string_view currency, std::string_view locale) {
    const icu::Locale icu_locale =
        locale == "en-US" ? icu::Locale("en", "US") : icu::Locale("es", "MX");
    UErrorCode status = U_ZERO_ERROR;
    const std::string code(currency.substr(0, 3));
    icu::UnicodeString iso(code.c_str(), static_cast<int32_t>(code.size()), US_INV);
    const icu::CurrencyUnit unit(iso.getTerminatedBuffer(), status);
    if (U_FAILURE(status)) {
        return dialogs::FormatDecimalCents(cents) + " " + code;
    }
    const std::string decimal = dialogs::FormatDecimalCents(cents);
    const auto formatted = icu::number::NumberFormatter::withLocale(icu_locale)
                               .unit(unit)
                               .precision(icu::number::Precision::fixedFraction(2))
                               .formatDecimal(icu::StringPiece(decimal), status);
    if (U_FAILURE(status)) {
        return decimal + " " + code;
    }
    std::string out;
    formatted.toString(status).toUTF8String(out);
    if (U_FAILURE(status)) {
        return decimal + " " + code;
    }
    return out;
}

}  // namespace cobrador::templates
