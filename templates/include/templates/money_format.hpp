#pragma once
// How money reads to a person, per locale, through ICU. Takes integer cents so that no amount
// ever passes through floating point on its way to the screen. Safe from any thread.

#include <cstdint>
#include <string>
#include <string_view>

namespace cobrador::templates {

// `cents` of `currency` formatted for `locale` ("es-MX", "en-US"): es-MX MXN 1234567 ->
// "$12,345.67"; en-US USD -> "$12,345.67"; en-US MXN -> "MX$12,345.67"; negatives as ICU's
// locale pattern says ("-$5.00"). An unknown locale falls back to es-MX. Always two decimals.
std::string FormatMoney(std::int64_t cents, std::string_view currency, std::string_view locale);

}  // namespace cobrador::templates
