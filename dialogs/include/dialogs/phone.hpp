#pragma once
// Phone numbers as the ledger keeps them: E.164, "+" and digits only.
// Pure functions; safe from any thread.

#include <optional>
#include <string>
#include <string_view>

namespace cobrador::dialogs {

// Normalizes a phone number written in E.164 with optional visual separators
// ("+52 55 1234 5678", "+52 (55) 1234-5678", "0052 55 1234 5678") to its canonical form
// ("+525512345678"). Mexican mobiles written with the old mobile "1" after the country code,
// which is how WhatsApp reports them ("+52 1 55 1234 5678", wa_id "5215512345678"), map to the
// same number as without it. Returns nullopt when the text is not a plausible E.164 number:
// no leading "+" (or "00"), letters, a country code starting with 0, fewer than 8 or more than
// 15 digits, a Mexican (+52) number that is not 10 national digits, or a North American (+1)
// number that is not 10 national digits.
//
// kProvider: a number as WhatsApp (wa_id) or Twilio reports it, where the "+" may be missing
// ("5215512345678"); the same rules apply otherwise. The one phone rule of the product: the
// channels, the portfolio importer, the sandbox and the API all normalise through here.
enum class PhoneSource { kPerson, kProvider };
std::optional<std::string> NormalizePhone(std::string_view text,
                                          PhoneSource source = PhoneSource::kPerson);

// The same number written for logs: country code and the last two digits only
// ("+52********78"), so that logs identify a conversation without holding the number.
std::string RedactPhone(std::string_view e164);

// `text` (a provider's error, say) with the phone numbers in it redacted as RedactPhone does:
// "+" and 8 to 15 digits (spaces, dots or dashes between them allowed), and bare runs of 12 or
// 13 digits beginning with 52 (a WhatsApp id, "5215512345678") or of 11 beginning with 1. Other
// numbers (ids, amounts, CLABEs of 18 digits) are left as they are.
std::string RedactPhonesIn(std::string_view text);

}  // namespace cobrador::dialogs
