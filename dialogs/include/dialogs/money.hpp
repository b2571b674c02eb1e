#pragma once
// Exact money for the whole product: integer hundredths ("cents") of an ISO 4217 currency.
// Never floating point. Every operation that could overflow or mix currencies says so in its
// return type instead of guessing. Value types only; safe to use from any thread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cobrador::dialogs {

struct Money {
    std::int64_t cents = 0;  // hundredths of the currency's unit; may be negative (refunds)
    std::string currency;    // ISO 4217 alphabetic code, upper case ("MXN")

    friend bool operator==(const Money&, const Money&) = default;
};

// The largest amount we accept anywhere: 10^13 units (ten trillion), far above any consumer
// debt, and far from int64 overflow even after summing millions of accounts.
inline constexpr std::int64_t kMaxCents = 1'000'000'000'000'000;

// Parses a plain decimal with at most two fraction digits: "1234", "1234.5", "1234.56",
// "-12.00", "+3". No thousands separators, no exponent, no spaces, no currency sign: a file
// that says "1,234.56" is ambiguous between locales and is refused rather than misread.
// Returns nullopt for anything else, or for an absolute value above kMaxCents.
std::optional<std::int64_t> ParseDecimalCents(std::string_view text);

// "1234.50", "-0.05", "0.00": the canonical exchange form used in JSON, CSV and the ledger's
// text columns.
std::string FormatDecimalCents(std::int64_t cents);

// True for an ISO 4217 code that is in current use ("MXN", "USD"); false for unknown,
// historic-only or malformed codes ("XXX" test code excluded).
bool IsKnownCurrency(std::string_view code);

// a + b and a - b; nullopt when the currencies differ or the result leaves ±kMaxCents.
std::optional<Money> Add(const Money& a, const Money& b);
std::optional<Money> Subtract(const Money& a, const Money& b);

// The share of `cents` given in basis points (1/100 of a percent; 1500 = 15%), rounded half
// away from zero to the nearest cent. nullopt for a rate outside 0..10000 (0% to 100%).
std::optional<std::int64_t> PercentOf(std::int64_t cents, std::int64_t basis_points);

// Splits `cents` into `parts` instalments that add up exactly to `cents`; the remainder cents
// go to the first instalments, so no instalment differs from another by more than one cent.
// Empty when parts <= 0 or cents < 0.
std::vector<std::int64_t> SplitEvenly(std::int64_t cents, int parts);

}  // namespace cobrador::dialogs
