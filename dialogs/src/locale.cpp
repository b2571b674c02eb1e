#include "dialogs/locale.hpp"

#include <string>

#include <unicode/timezone.h>
#include <unicode/unistr.h>

namespace cobrador::dialogs {

bool IsSupportedLocale(std::string_view tag) {
    return tag == "es-MX" || tag == "en-US";
}

bool IsKnownTimeZone(std::string_view iana) {
    if (iana.empty() || iana.size() > 64 || iana.find('/') == std::string_view::npos) {
        return false;  // IANA zones are Area/Location; this also rules out "CST", "GMT+6"
    }
    const icu::UnicodeString id = icu::UnicodeString::fromUTF8(
        icu::StringPiece(iana.data(), static_cast<int32_t>(iana.size())));
    icu::UnicodeString canonical;
    UBool is_system = 0;
    UErrorCode status = U_ZERO_ERROR;
    icu::TimeZone::getCanonicalID(id, canonical, is_system, status);
    return U_SUCCESS(status) && is_system != 0;
}

}  // namespace cobrador::dialogs
