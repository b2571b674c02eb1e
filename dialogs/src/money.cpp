#include "dialogs/money.hpp"

#include <algorithm>
#include <set>

#include <unicode/ucurr.h>
#include <unicode/uenum.h>

namespace cobrador::dialogs {

std::optional<std::int64_t> ParseDecimalCents(std::string_view text) {
    if (text.empty()) {
        return std::nullopt;
    }
    bool negative = false;
    if (text.front() == '-' || text.front() == '+') {
        negative = text.front() == '-';
        text.remove_prefix(1);
    }
    const auto dot = text.find('.');
    const std::string_view whole = text.substr(0, dot);
    const std::string_view fraction =
        dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
    if (whole.empty() || (dot != std::string_view::npos && fraction.empty()) ||
        fraction.size() > 2) {
        return std::nullopt;
    }
    const auto is_digit = [](char c) {
        return c >= '0' && c <= '9';
    };
    if (!std::all_of(whole.begin(), whole.end(), is_digit) ||
        !std::all_of(fraction.begin(), fraction.end(), is_digit)) {
        return std::nullopt;
    }
    // Strip leading zeros so that the length check below bounds the value, not the text.
    std::string_view significant = whole;
    while (significant.size() > 1 && significant.front() == '0') {
        significant.remove_prefix(1);
    }
    if (significant.size() > 16) {  // 10^16 units * 100 stays far inside int64
        return std::nullopt;
    }
    std::int64_t units = 0;
    for (const char c : significant) {
        units = units * 10 + (c - '0');
    }
    std::int64_t hundredths = 0;
    if (!fraction.empty()) {
        hundredths = (fraction[0] - '0') * 10;
        if (fraction.size() == 2) {
            hundredths += fraction[1] - '0';
        }
    }
    const std::int64_t cents = units * 100 + hundredths;
    if (cents > kMaxCents) {
        return std::nullopt;
    }
    return negative ? -cents : cents;
}

std::string FormatDecimalCents(std::int64_t cents) {
    const bool negative = cents < 0;
    // kMaxCents bounds every value we create; the unsigned detour keeps INT64_MIN defined too.
    const std::uint64_t magnitude =
        negative ? 0 - static_cast<std::uint64_t>(cents) : static_cast<std::uint64_t>(cents);
    std::string out = std::to_string(magnitude / 100);
    const auto rest = static_cast<unsigned>(magnitude % 100);
    out += '.';
    out += static_cast<char>('0' + rest / 10);
    out += static_cast<char>('0' + rest % 10);
    return negative ? "-" + out : out;
}

namespace {

// ICU's list of ISO 4217 codes in common use, read once.
const std::set<std::string, std::less<>>& KnownCurrencies() {
    static const std::set<std::string, std::less<>> codes = [] {
        std::set<std::string, std::less<>> out;
        UErrorCode status = U_ZERO_ERROR;
        UEnumeration* it = ucurr_openISOCurrencies(UCURR_COMMON | UCURR_NON_DEPRECATED, &status);
        if (U_FAILURE(status)) {
            return out;
        }
        int32_t length = 0;
        while (const char* code = uenum_next(it, &length, &status)) {
            if (U_FAILURE(status)) {
                break;
            }
            out.emplace(code, static_cast<std::size_t>(length));
        }
        uenum_close(it);
        out.erase("XXX");  // "no currency"
        out.erase("XTS");  // reserved for tests
        return out;
    }();
    return codes;
}

bool InRange(std::int64_t cents) {
    return cents >= -kMaxCents && cents <= kMaxCents;
}

}  // namespace

bool IsKnownCurrency(std::string_view code) {
    if (code.size() != 3) {
        return false;
    }
    return KnownCurrencies().count(code) > 0;
}

std::optional<Money> Add(const Money& a, const Money& b) {
    if (a.currency != b.currency || !InRange(a.cents) || !InRange(b.cents)) {
        return std::nullopt;
    }
    const std::int64_t sum = a.cents + b.cents;  // cannot overflow: both within ±10^18
    if (!InRange(sum)) {
        return std::nullopt;
    }
    return Money{sum, a.currency};
}

std::optional<Money> Subtract(const Money& a, const Money& b) {
    return Add(a, Money{-b.cents, b.currency});
}

std::optional<std::int64_t> PercentOf(std::int64_t cents, std::int64_t basis_points) {
    constexpr std::int64_t kWhole = 10'000;
    if (basis_points < 0 || basis_points > kWhole || !InRange(cents)) {
        return std::nullopt;
    }
    // Split cents = whole * 10^4 + rest so that no product leaves int64:
    // |whole * bp| <= 10^14 * 10^4 and |rest * bp| < 10^8.
    const std::int64_t whole = cents / kWhole;
    const std::int64_t rest = cents % kWhole;
    std::int64_t result = whole * basis_points + (rest * basis_points) / kWhole;
    const std::int64_t remainder = (rest * basis_points) % kWhole;
    if (remainder * 2 >= kWhole) {
        ++result;
    } else if (remainder * 2 <= -kWhole) {
        --result;
    }
    return result;
}

std::vector<std::int64_t> SplitEvenly(std::int64_t cents, int parts) {
    if (parts <= 0 || cents < 0) {
        return {};
    }
    const std::int64_t base = cents / parts;
    std::int64_t extra = cents % parts;
    std::vector<std::int64_t> out(static_cast<std::size_t>(parts), base);
    for (auto& part : out) {
        if (extra == 0) {
            break;
        }
        ++part;
        --extra;
    }
    return out;
}

}  // namespace cobrador::dialogs
