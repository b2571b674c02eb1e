#pragma once
// Natural-language understanding of what a debtor writes: one intent and its entities
// (CONTRACT.md "NLU intents"). Normalization with ICU (case, accents, width), intent patterns
// with RE2 from per-locale data files embedded at build time (dialogs/data/nlu.*.txt), dates
// and amounts by the rules in dialogs/src/entities.cpp. Pure; safe from any thread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "dialogs/calendar.hpp"

namespace cobrador::dialogs {

// The contract's intents, in its order.
enum class Intent {
    kGreeting,
    kBalance,
    kPaymentReference,
    kPromiseToPay,
    kNegotiate,
    kAlreadyPaid,
    kCannotPay,
    kDispute,
    kPrivacy,  // a request about one's personal data (ARCO rights) or the privacy notice
    kHuman,
    kWrongNumber,
    kOptOut,
    kOptIn,
    kHelp,
    kAffirm,
    kDeny,
    kThanks,
    kInform,
    kUnknown,
};

// "promise_to_pay", ...
std::string_view ToString(Intent intent);
std::optional<Intent> IntentFromString(std::string_view name);

struct Entities {
    std::optional<std::int64_t> amount_cents;  // an amount of money, exact
    std::optional<Date> date;                  // resolved against `today`
    std::optional<int> installments;           // "en 6 pagos", "a 6 meses"
    std::optional<int> menu_choice;            // the message is just "2", "opción 2"
    bool amount_is_everything = false;         // "todo", "el total", "all of it"
    bool amount_unclear = false;  // "2 mil y pico", "500 o 600": an amount not to be guessed
    bool date_unclear = false;    // "el lunes 18" (a Tuesday), "cuando me paguen": ask the day
    // A dispute's category: not_mine, identity_theft, wrong_amount, already_paid, treatment
    // (how someone collecting behaved), other.
    std::string category;
    // A privacy request's right: access, rectification, cancellation, opposition; or notice
    // (the privacy notice itself).
    std::string right;
};

struct Understanding {
    Intent intent = Intent::kUnknown;
    double confidence = 0;  // 0..1: the weight of the pattern that decided, 0 for unknown
    Entities entities;
};

// Lower case, no accents or other combining marks, full-width forms folded, runs of three or
// more of the same letter cut to one ("siiii" -> "si"), common misspellings and SMS shorthand
// of the locale fixed ("kiero" -> "quiero", "xq" -> "porque"), punctuation other than what
// numbers and dates use turned into spaces, single spaces. What the patterns match against.
std::string Normalize(std::string_view text, std::string_view locale);

// What the text means, in `locale` ("es-MX" or "en-US"; anything else reads as es-MX), with
// relative dates resolved against `today` (the debtor's local date).
Understanding Understand(std::string_view text, std::string_view locale, const Date& today);

// The contract's JSON for `cobrador nlu`: {"intent":…, "confidence":…, "entities":{…}}, with
// amount as a decimal string and date as YYYY-MM-DD, a dispute's category and a privacy
// request's right; absent entities are left out.
std::string ToJson(const Understanding& understanding);

}  // namespace cobrador::dialogs
