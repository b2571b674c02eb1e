#pragma once
// Dates and amounts as Mexican (and US) debtors write them. Works on text already through
// Normalize() (lower case, no accents). Pure; safe from any thread.
//
// Dates, resolved against `today` (the debtor's local date):
//   hoy / today; mañana / tomorrow (not "en la mañana"); pasado mañana / day after tomorrow;
//   a weekday ("el viernes", "next friday"): the next such day strictly after today;
//   "el 15", "el día 15", "the 15th": that day of this month if not past, else next month;
//   "15/12", "15-12", "15 de diciembre", "dec 15": the next such date from today;
//   full dates "15/03/1985", "15-03-85", "1985-03-15", "15 de marzo de 1985", "March 15 1985"
//   (es-MX reads numbers day first; en-US month first unless the first number is above 12);
//   two-digit years 00-29 are 20xx and 30-99 are 19xx;
//   "fin de mes" / "end of the month": the month's last day;
//   "la (próxima|otra|siguiente) quincena", "en la quincena": the next payday strictly after
//   today, paydays being the 15th and the month's last day ("cada quincena" is no date);
//   "en 3 días", "en dos semanas", "in 3 days": today plus that;
//   "la próxima semana", "la otra semana", "next week": next week's Monday;
//   "el miércoles de la próxima semana", "wednesday next week": that day of next week;
//   "el lunes 17 de marzo", "viernes, 14": the date, when the weekday agrees (else unclear);
//   days in words and ordinals ("el primero", "el 1ro", "el 1.º de julio", "el cinco de
//   abril", "april first"); abbreviations ("el mié.", "fri", "dic.", "mzo");
//   "este fin de semana", "this weekend": the coming Saturday (today on a weekend);
//   "dentro de dos semanas", "en dos meses", "dos días después de hoy", "el día después de
//   mañana"; "a principios / a mediados / a finales de abril": the 5th, the 15th, the last
//   day; "la primera / segunda quincena de abril": the 15th, the last day;
//   "ayer", "antier", "el lunes pasado", and with a verb of a payment made ("ya pagué el
//   lunes", "deposité el 10"): the latest such day on or before today;
//   "cuando me paguen", "when i get paid": no date, unclear (the bot asks).
// Amounts: "1500", "$1,500", "1,500.00", "1.500" (thousands), "$1.500,50", "1500 pesos",
//   "USD1,23", "1.5k", "2 mil", "2 mil quinientos", "2 mil 500", "mil 200", "15 pesos con 50",
//   "two grand", "a thousand", and spelled out through ICU's rule-based number format ("mil
//   quinientos", "three hundred"); a number below 10 counts only with "$" or a currency word,
//   a spelled one below 100 only with a currency word. Numbers that are dates, counts of
//   instalments ("6 pagos"), durations ("3 días"), other counts ("12 horas", "2 hijos") or
//   account numbers ("la cuenta 1234") are not amounts. A number marked as money wins over
//   unmarked ones; an amount named only in part, a choice, or two different amounts are not
//   read (amount_unclear).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "dialogs/calendar.hpp"

namespace cobrador::dialogs {

struct ExtractedEntities {
    std::optional<std::int64_t> amount_cents;
    std::optional<Date> date;
    std::optional<int> installments;
    std::optional<int> menu_choice;
    bool amount_is_everything = false;
    // An amount named only in part ("2 mil y pico", "mil y feria") or a choice ("500 o 600",
    // "entre 500 y 1000"), or two different amounts marked as money: none is read, so that the
    // bot asks rather than records a guess.
    bool amount_unclear = false;
    // A day that cannot be pinned without asking: a weekday that disagrees with the date beside
    // it ("el lunes 18 de marzo" on a Tuesday), "cuando me paguen". No date is read.
    bool date_unclear = false;
    // The text with every recognised entity blanked out (same length), for the intent step to
    // tell "only entities" from a sentence.
    std::string rest;
};

ExtractedEntities ExtractEntities(std::string_view normalized,
                                  std::string_view locale,
                                  const Date& today);

// A date of birth in any common form (the full-date forms above, and "15031985"); nullopt when
// the text holds none or it does not exist. `text` need not be normalized.
std::optional<Date> ParseBirthDate(std::string_view text, std::string_view locale);

// The next quincena payday (the 15th or the month's last day) strictly after `day`.
Date NextQuincena(const Date& day);

// The month's last day.
Date EndOfMonth(const Date& day);

}  // namespace cobrador::dialogs
