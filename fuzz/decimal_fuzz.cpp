// Any text as an amount: parsing never crashes, and whatever parses prints back the same value.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "dialogs/money.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto cents = cobrador::dialogs::ParseDecimalCents(text);
    if (cents) {
        if (*cents > cobrador::dialogs::kMaxCents || *cents < -cobrador::dialogs::kMaxCents ||
            cobrador::dialogs::ParseDecimalCents(cobrador::dialogs::FormatDecimalCents(*cents)) !=
                cents) {
            std::abort();
        }
    }
    return 0;
}
