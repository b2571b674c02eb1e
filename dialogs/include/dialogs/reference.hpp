#pragma once
// Payment references and the creditor's CLABE (docs/references.md states the algorithms).
// Pure functions; safe from any thread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cobrador::dialogs {

// The Luhn (mod 10) check digit for a string of decimal digits; nullopt for anything else.
// References used it before December 2026; it misses 09<->90 and other transpositions.
std::optional<int> LuhnCheckDigit(std::string_view digits);

// The Damm check digit (Damm's quasigroup of order 10) for a string of decimal digits; nullopt
// for anything else. It catches every single mistyped digit and every swap of two adjacent
// digits, the check digit included.
std::optional<int> DammCheckDigit(std::string_view digits);

// The payment reference of an account: its ledger id, zero-padded to six digits, followed by
// the Damm check digit. Seven digits (SPEI's numeric reference) for the first 999,999 accounts;
// more beyond. The same account always gets the same reference. nullopt for id < 1.
std::optional<std::string> PaymentReference(std::int64_t account_id);

// The account id a reference names, when its Damm check digit is right; nullopt for a
// mistyped, transposed or foreign reference. Spaces and dashes ("004217-7") are ignored; only
// the canonical form is read ("00042173" names nothing).
std::optional<std::int64_t> AccountFromReference(std::string_view reference);

// The reference the same account had before December 2026 (Luhn's check digit), and the
// inverse. The ledger keeps accepting these for the accounts that had them while the
// transition lasts (docs/references.md); nothing issues them any more.
std::optional<std::string> LegacyPaymentReference(std::int64_t account_id);
std::optional<std::int64_t> AccountFromLegacyReference(std::string_view reference);

// Either: for finding an account by what someone typed or a receipt shows, never for crediting
// money (the ledger decides whether an old reference still counts).
std::optional<std::int64_t> AccountFromAnyReference(std::string_view reference);

// The CLABE check digit (weights 3, 7, 1) of the first 17 digits; nullopt unless exactly 17
// decimal digits.
std::optional<int> ClabeCheckDigit(std::string_view first_17_digits);

// True for 18 decimal digits whose last is the CLABE check digit of the rest.
bool IsValidClabe(std::string_view clabe);

// The per-debtor CLABE of an account in the creditor's range (STP gives each client one:
// docs/payments.md): `prefix` (3 to 16 digits), the account's ledger id zero-padded to fill 17
// digits, then the check digit. nullopt when the prefix is not digits of that length or the id
// does not fit (or is < 1).
std::optional<std::string> AccountClabe(std::string_view prefix, std::int64_t account_id);

// The account id a CLABE of the range names: the inverse of AccountClabe. nullopt for a CLABE
// outside the range, with a wrong check digit, or naming id 0.
std::optional<std::int64_t> AccountFromClabe(std::string_view prefix, std::string_view clabe);

// The SPEI concept for a reference (<= 40 ASCII characters, never the word "deuda" nor a name,
// which third parties may read on a statement).
std::string SpeiConcept(std::string_view reference);

// `url_template` with {reference} and {amount} (a decimal like "1500.00") replaced.
std::string PaymentLink(std::string_view url_template,
                        std::string_view reference,
                        std::string_view amount);

// The 5-digit SPEI participant code of a bank's 3-digit code (a CLABE's first three digits):
// banca múltiple is 40xxx, banca de desarrollo 37xxx, and every other participant (the 6xx
// and 7xx codes: STP, Nu, Mercado Pago, brokers, SOFIPOs) 90xxx. nullopt for anything but
// three digits.
std::optional<std::string> ParticipantOfBankCode(std::string_view abm_code);

// The key one SPEI transfer is credited by, whoever reports it (STP's abono, a receipt
// confirmed with Banxico's CEP, a statement row): the clave de rastreo in upper case, the
// operation's date as YYYYMMDD and the sending participant as 5 digits, joined by ':'. The date
// may be given as YYYY-MM-DD or YYYYMMDD, the sender as 3 or 5 digits. Empty when any part is
// unusable.
std::string SpeiKey(std::string_view clave, std::string_view date, std::string_view sender);

}  // namespace cobrador::dialogs
