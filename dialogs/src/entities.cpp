// Dates and amounts in what debtors write. The rules are stated in dialogs/entities.hpp; the
// patterns run over normalized text (lower case, no accents), both languages' words at once,
// because debtors mix them ("te pago el friday" is rare, "STOP" and "ok" are not).
//
// Order matters: dates first (so "el 15" and "15/12" are not amounts), then counts of
// instalments ("6 pagos"), then amounts. Each recognised span is blanked out of a working copy
// before the next pattern runs.

#include "dialogs/entities.hpp"

#include <algorithm>
#include <array>
#include <functional>
#include <memory>
#include <vector>

#include <re2/re2.h>
#include <unicode/fmtable.h>
#include <unicode/parsepos.h>
#include <unicode/rbnf.h>

#include "dialogs/nlu.hpp"

namespace cobrador::dialogs {

namespace {

using std::chrono::day;
using std::chrono::month;
using std::chrono::year;

constexpr std::array<std::pair<std::string_view, unsigned>, 36> kMonths = {{
    {"septiembre", 9}, {"setiembre", 9}, {"noviembre", 11}, {"diciembre", 12}, {"september", 9},
    {"february", 2},   {"november", 11}, {"december", 12},  {"febrero", 2},    {"octubre", 10},
    {"january", 1},    {"october", 10},  {"agosto", 8},     {"august", 8},     {"enero", 1},
    {"marzo", 3},      {"abril", 4},     {"junio", 6},      {"julio", 7},      {"march", 3},
    {"april", 4},      {"mayo", 5},      {"june", 6},       {"july", 7},       {"sept", 9},
    {"ene", 1},        {"feb", 2},       {"mar", 3},        {"abr", 4},        {"may", 5},
    {"jun", 6},        {"jul", 7},       {"ago", 8},        {"sep", 9},        {"oct", 10},
    {"nov", 11},
}};
// "mzo", "dic", "jan", "aug", "dec" and "apr" are added in MonthAlternation().
constexpr std::array<std::pair<std::string_view, unsigned>, 6> kMoreMonths = {{
    {"mzo", 3},
    {"dic", 12},
    {"jan", 1},
    {"aug", 8},
    {"dec", 12},
    {"apr", 4},
}};

std::optional<unsigned> MonthNumber(std::string_view name) {
    for (const auto& [text, number] : kMonths) {
        if (text == name) {
            return number;
        }
    }
    for (const auto& [text, number] : kMoreMonths) {
        if (text == name) {
            return number;
        }
    }
    return std::nullopt;
}

std::string MonthAlternation() {
    std::vector<std::string_view> names;
    for (const auto& [text, number] : kMonths) {
        names.push_back(text);
    }
    for (const auto& [text, number] : kMoreMonths) {
        names.push_back(text);
    }
    // Longest first, so "septiembre" wins over "sep".
    std::stable_sort(names.begin(), names.end(), [](std::string_view a, std::string_view b) {
        return a.size() > b.size();
    });
    std::string out;
    for (const auto name : names) {
        out += out.empty() ? "" : "|";
        out += name;
    }
    return out;
}

const std::string& Months() {
    static const std::string kAlternation = MonthAlternation();
    return kAlternation;
}

int ToInt(std::string_view digits) {
    int value = 0;
    for (const char c : digits) {
        if (c >= '0' && c <= '9') {
            value = value * 10 + (c - '0');
        }
    }
    return value;
}

// Small counts written as words, for "en dos semanas" and "en 6 pagos".
std::optional<int> SmallNumber(std::string_view word) {
    static constexpr std::array<std::pair<std::string_view, int>, 36> kWords = {{
        {"un", 1},       {"una", 1},           {"uno", 1},       {"a", 1},
        {"one", 1},      {"dos", 2},           {"two", 2},       {"tres", 3},
        {"three", 3},    {"cuatro", 4},        {"four", 4},      {"cinco", 5},
        {"five", 5},     {"seis", 6},          {"six", 6},       {"siete", 7},
        {"seven", 7},    {"ocho", 8},          {"eight", 8},     {"nueve", 9},
        {"nine", 9},     {"diez", 10},         {"ten", 10},      {"once", 11},
        {"eleven", 11},  {"doce", 12},         {"twelve", 12},   {"quince", 15},
        {"fifteen", 15}, {"dieciocho", 18},    {"eighteen", 18}, {"veinte", 20},
        {"twenty", 20},  {"veinticuatro", 24}, {"treinta", 30},  {"thirty", 30},
    }};
    if (!word.empty() && word.front() >= '0' && word.front() <= '9') {
        return ToInt(word);
    }
    for (const auto& [text, value] : kWords) {
        if (text == word) {
            return value;
        }
    }
    return std::nullopt;
}

std::optional<Date> MakeDate(int y, int m, int d) {
    if (m < 1 || m > 12 || d < 1 || d > 31 || y < 1900 || y > 2199) {
        return std::nullopt;
    }
    const Date date{year{y}, month{static_cast<unsigned>(m)}, day{static_cast<unsigned>(d)}};
    return date.ok() ? std::optional<Date>(date) : std::nullopt;
}

int FullYear(std::string_view digits) {
    const int y = ToInt(digits);
    if (digits.size() <= 2) {
        return y < 30 ? 2000 + y : 1900 + y;
    }
    return y;
}

// The first day-month on or after `today` (a 29 February waits for a leap year).
std::optional<Date> NextDayMonth(const Date& today, int m, int d) {
    const int this_year = static_cast<int>(today.year());
    for (int y = this_year; y <= this_year + 8; ++y) {
        const auto date = MakeDate(y, m, d);
        if (date && *date >= today) {
            return date;
        }
    }
    return std::nullopt;
}

// Day `d` of this month when not past, else of the next month that has it.
std::optional<Date> NextDayOfMonth(const Date& today, int d) {
    if (d < 1 || d > 31) {
        return std::nullopt;
    }
    std::chrono::year_month ym = today.year() / today.month();
    for (int i = 0; i < 3; ++i, ym += std::chrono::months{1}) {
        const Date date = ym / day{static_cast<unsigned>(d)};
        if (date.ok() && date >= today) {
            return date;
        }
    }
    return std::nullopt;
}

Date NextWeekday(const Date& today, unsigned iso_weekday /* 1 = Monday .. 7 = Sunday */) {
    const std::chrono::weekday now{std::chrono::sys_days{today}};
    const std::chrono::weekday target{iso_weekday % 7};
    int delta = static_cast<int>((target - now).count());
    if (delta == 0) {
        delta = 7;
    }
    return AddDays(today, delta);
}

// The latest such weekday on or before `today` ("ya pagué el lunes").
Date LastWeekday(const Date& today, unsigned iso_weekday) {
    const std::chrono::weekday now{std::chrono::sys_days{today}};
    const std::chrono::weekday target{iso_weekday % 7};
    return AddDays(today, -static_cast<int>((now - target).count()));
}

unsigned IsoWeekday(const Date& date) {
    return std::chrono::weekday{std::chrono::sys_days{date}}.iso_encoding();
}

// `months` later, on the same day or the month's last ("31 de enero" + 1: 28 de febrero).
Date AddMonths(const Date& date, int months) {
    const std::chrono::year_month ym = date.year() / date.month() + std::chrono::months{months};
    const Date last = ym / std::chrono::last;
    return date.day() > last.day() ? last : Date{ym / date.day()};
}

// A day word after "el", "día" or "the": "primero", "cinco", "veinticinco", "treinta y uno".
std::optional<int> DayWord(std::string_view word) {
    static constexpr std::array<std::string_view, 31> kDays = {
        "uno",          "dos",        "tres",        "cuatro",     "cinco",       "seis",
        "siete",        "ocho",       "nueve",       "diez",       "once",        "doce",
        "trece",        "catorce",    "quince",      "dieciseis",  "diecisiete",  "dieciocho",
        "diecinueve",   "veinte",     "veintiuno",   "veintidos",  "veintitres",  "veinticuatro",
        "veinticinco",  "veintiseis", "veintisiete", "veintiocho", "veintinueve", "treinta",
        "treinta y uno"};
    if (word == "primero" || word == "first") {
        return 1;
    }
    for (std::size_t i = 0; i < kDays.size(); ++i) {
        if (kDays[i] == word) {
            return static_cast<int>(i) + 1;
        }
    }
    return std::nullopt;
}

std::optional<unsigned> WeekdayNumber(std::string_view name) {
    static constexpr std::array<std::pair<std::string_view, unsigned>, 30> kDays = {{
        {"lun", 1},       {"mie", 3},      {"jue", 4},     {"vie", 5},       {"sab", 6},
        {"dom", 7},       {"mon", 1},      {"tue", 2},     {"tues", 2},      {"wed", 3},
        {"thu", 4},       {"thur", 4},     {"thurs", 4},   {"fri", 5},       {"sat", 6},
        {"sun", 7},       {"lunes", 1},    {"martes", 2},  {"miercoles", 3}, {"jueves", 4},
        {"viernes", 5},   {"sabado", 6},   {"domingo", 7}, {"monday", 1},    {"tuesday", 2},
        {"wednesday", 3}, {"thursday", 4}, {"friday", 5},  {"saturday", 6},  {"sunday", 7},
    }};
    for (const auto& [text, number] : kDays) {
        if (text == name) {
            return number;
        }
    }
    return std::nullopt;
}

// Every match of `re` in `text`, left to right: fn(begin, end, groups) returns whether the
// match was taken (it is then blanked out of `text`).
using Groups = std::vector<re2::StringPiece>;

void ForEachMatch(const RE2& re,
                  std::string& text,
                  const std::function<bool(std::size_t, std::size_t, const Groups&)>& fn) {
    const int n = re.NumberOfCapturingGroups() + 1;
    Groups groups(static_cast<std::size_t>(n));
    std::size_t pos = 0;
    while (pos <= text.size()) {
        const re2::StringPiece input(text);
        if (!re.Match(input, pos, text.size(), RE2::UNANCHORED, groups.data(), n)) {
            return;
        }
        const auto begin = static_cast<std::size_t>(groups[0].data() - text.data());
        const std::size_t end = begin + groups[0].size();
        if (fn(begin, end, groups)) {
            std::fill(text.begin() + static_cast<std::ptrdiff_t>(begin),
                      text.begin() + static_cast<std::ptrdiff_t>(end),
                      ' ');
        }
        pos = end > begin ? end : end + 1;
    }
}

std::string_view Sv(const re2::StringPiece& piece) {
    return {piece.data(), piece.size()};
}

bool Has(const re2::StringPiece& piece) {
    return piece.data() != nullptr && !piece.empty();
}

// The numeric day/month order of a locale, with the other order as the fallback when the
// first cannot be a date ("03/15/1985" in es-MX).
std::optional<Date> NumericDate(std::string_view locale, int a, int b, int y) {
    const bool month_first = locale == "en-US" && a <= 12;
    if (month_first) {
        if (auto date = MakeDate(y, a, b)) {
            return date;
        }
        return MakeDate(y, b, a);
    }
    if (auto date = MakeDate(y, b, a)) {
        return date;
    }
    return MakeDate(y, a, b);
}

// Every weekday name and abbreviation, longest first ("miercoles" before "mie"); "mar" is
// left out (it is also March and the sea).
const std::string& Weekdays() {
    static const std::string kAlternation =
        "miercoles|wednesday|thursday|saturday|domingo|viernes|tuesday|martes|sabado|monday|"
        "friday|sunday|jueves|thurs|lunes|tues|thur|lun|mie|jue|vie|sab|dom|mon|tue|wed|thu|"
        "fri|sat|sun";
    return kAlternation;
}

struct Patterns {
    RE2 iso{R"(\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\b)"};
    RE2 numeric_full{R"(\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})\b)"};
    RE2 numeric_short{R"(\b(\d{1,2})[/-](\d{1,2})\b)"};
    RE2 compact{R"(^\s*(\d{2})(\d{2})(\d{4})\s*$)"};
    RE2 day_month{R"(\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:de\s+|of\s+)?()" + Months() +
                  R"()\b\.?(?:,?\s+(?:del?\s+)?(\d{4}|\d{2})\b)?)"};
    RE2 month_day{"\\b(" + Months() + R"()\b\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s+(\d{4})\b)?)"};
    RE2 day_after_tomorrow{R"(\bpasado\s+manana\b|\bday\s+after\s+tomorrow\b)"};
    RE2 tomorrow{R"(\b(la\s+|por\s+la\s+)?(manana|tomorrow)\b)"};
    RE2 today{R"(\b(hoy|today|tonight)\b)"};
    RE2 weekday{"\\b(" + Weekdays() + ")\\b"};
    // "el lunes 17 de marzo", "viernes, 14", "friday march 14": the date decides, the weekday
    // must agree.
    RE2 weekday_date{"\\b(" + Weekdays() +
                     R"()\b,?\s+(?:(\d{1,2})(?:st|nd|rd|th)?\b(?:\s+(?:de\s+|of\s+)?()" + Months() +
                     R"()\b)?|()" + Months() +
                     R"()\b\s+(\d{1,2})(?:st|nd|rd|th)?\b)(?:,?\s+(?:de\s+|del\s+)?(\d{4})\b)?)"};
    RE2 weekday_next_week{
        "\\b(" + Weekdays() +
        R"()\s+(?:de\s+la\s+(?:proxima|otra|siguiente)\s+semana|de\s+la\s+semana\s+que\s+viene|next\s+week)\b)"};
    RE2 weekday_past{"\\b(?:(" + Weekdays() + R"()\s+pasado|last\s+()" + Weekdays() + R"())\b)"};
    RE2 weekend{R"(\b(?:(?:este|el|this|the)\s+)?(?:fin\s+de\s+semana|weekend)\b)"};
    RE2 yesterday{R"(\b(ayer|yesterday)\b|\b(antier|anteayer|antes\s+de\s+ayer)\b)"};
    // Said of a payment already made: days are read backwards.
    RE2 past_tense{
        R"(\b(?:pague|deposite|transferi|abone|hice\s+el\s+(?:pago|deposito)|mande|i\s+paid|paid|i\s+sent)\b)"};
    RE2 days_after{
        R"(\b(?:(\d{1,2}|un|una|dos|tres|cuatro|cinco|one|two|three)\s+dias?\s+despues\s+de\s+(hoy|manana)|(?:el\s+)?dia\s+despues\s+de\s+(manana))\b)"};
    RE2 month_part{R"(\b(?:a\s+)?(principios|inicios|mediados|finales|fines)\s+(?:de|del)\s+(?:()" +
                   Months() + R"()|(?:(proximo|siguiente)\s+)?mes)\b)"};
    RE2 quincena_of{"\\b(primera|segunda|1a|2a|1ra|2da)\\s+quincena\\s+(?:de|del)\\s+(" + Months() +
                    ")\\b"};
    RE2 payday{
        R"(\bcuando\s+(?:me\s+paguen|me\s+pagan|cobre|me\s+caiga|tenga|reciba)\b|\bwhen\s+i\s+get\s+paid\b|\bpayday\b)"};
    // Days as words or ordinals, rewritten as digits before the patterns run.
    RE2 ordinal_suffix{R"(\b(\d{1,2})(ro|er|do|to|vo|no|mo)\b)"};
    RE2 ordinal_o{"\\b\\d{1,2}(\\s+o)\\s+de\\s+(?:" + Months() + ")\\b"};
    RE2 day_word{
        R"(\b(?:el|dia|the|on\s+the)\s+(?:dia\s+)?(primero|first|treinta\s+y\s+uno|veinti[a-z]+|treinta|veinte|diecinueve|dieciocho|diecisiete|dieciseis|quince|catorce|trece|doce|once|diez|nueve|ocho|siete|seis|cinco|cuatro|tres|dos|uno)\b)"};
    RE2 month_first{"\\b(?:" + Months() + ")\\s+(first)\\b"};
    RE2 day_of_month{
        R"(\b(?:(?:el|para\s+el|hasta\s+el)\s+(?:dia\s+)?|dia\s+|(?:on\s+)?the\s+)(\d{1,2})(?:st|nd|rd|th)?\b|\b(\d{1,2})(?:st|nd|rd|th)\b)"};
    RE2 end_of_month{
        R"(\b(?:fin|fines|final|finales)\s+(?:de|del)\s+mes\b|\bend\s+of\s+(?:the\s+)?month\b)"};
    RE2 quincena{
        R"(\b(cada\s+|por\s+|x\s+)?(?:(?:la|esta|en\s+la|para\s+la)\s+)?(?:(?:proxima|otra|siguiente)\s+)?quincena\b)"};
    RE2 in_days{
        R"(\b(?:en|in|dentro\s+de|de\s+aqui\s+a)\s+(\d{1,2}|un|una|uno|dos|tres|cuatro|cinco|seis|siete|ocho|diez|quince|a|one|two|three|four|five|six|seven|ten|fifteen)\s+(dias|dia|semanas|semana|meses|mes|days|day|weeks|week|months|month)\b)"};
    RE2 next_week{
        R"(\b(?:la\s+)?(?:proxima|otra|siguiente)\s+semana\b|\bla\s+semana\s+que\s+viene\b|\bnext\s+week\b)"};
    RE2 not_a_day{
        R"(^\s*(?:pagos?|meses|mensualidades|parcialidades|quincenas|abonos|dias|semanas|%|mil|pesos|varos|payments?|months|days|weeks|dollars|de\s+cada)\b)"};
    RE2 installments{
        R"(\b(\d{1,2}|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|once|doce|dieciocho|veinticuatro|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|eighteen)\s+(?:pagos|mensualidades|parcialidades|quincenas|meses|abonos|plazos|exhibiciones|payments|installments|instalments|months)\b)"};
    RE2 amount{
        R"(((?:\$|us\$|mx\$|usd|mxn)\s*)?(\d{1,3}(?:,\d{3})+|\d{1,3}(?:\.\d{3})+|\d+)(?:[.,](\d{1,2}))?(?:\s*(k|mil|thousand|grand)\b)?)"};
    RE2 currency_word{R"(^\s*(?:pesos?|varos|baros|mxn|mn|dolares|dollars?|dlls|usd|bucks)\b)"};
    // "15 pesos con 50 (centavos)"
    RE2 centavos{R"(^\s*(?:pesos?|varos|baros|mxn|mn)\s+con\s+(\d{1,2})\b(?:\s+centavos?\b)?)"};
    // "2 mil 500", "mil 200", "2 mil y 500": what "mil" leaves to be read.
    RE2 after_mil{R"(^\s+(?:y\s+)?(\d{1,3})\b)"};
    // What the digits after "mil" would be instead: a date, a count, another thousand.
    RE2 not_after_mil{"^\\s*(?:/|-\\d|de\\s+(?:" + Months() +
                      R"()\b|(?:mil|k|thousand|grand|pagos?|meses|dias|semanas|quincenas)\b))"};
    // An amount named only in part: "2 mil y pico", "500 y tantos".
    RE2 vague{R"(^\s+y\s+(?:pico|tantos|feria|cacho|algo|mas)\b)"};
    // A choice between amounts: "500 o 600", "de 800 a 1000", "400 or 500".
    RE2 choice{
        R"(^\s*(?:pesos\s+|dollars\s+)?(?:o|u|or|a|to|-)\s+(?:\$\s*)?(?:\d|(?:mil|cien|doscientos|trescientos|cuatrocientos|quinientos|seiscientos|setecientos|ochocientos|novecientos|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|one|two|three|four|five|six|seven|eight|nine|ten|a\s+thousand)\b))"};
    RE2 between{R"((?:entre|between)\s*$)"};
    RE2 grand{R"(\s*(?:grand|k)\b)"};
    RE2 none_of{R"(\b(?:ni|not)\s*$)"};  // "ni un peso", "not a dollar": no money at all
    RE2 and_another{R"(^\s*(?:pesos\s+)?(?:y|and)\s+(?:\$\s*)?\d)"};
    // Numbers that count something else: "12 horas", "2 hijos", "la cuenta 1234".
    RE2 not_money_after{
        R"(^\s*(?:horas?|hrs?|minutos?|anos|hijos|personas|cuentas?|veces|kilos|years?|hours?|kids|children|accounts?|times|am|pm)\b)"};
    RE2 not_money_before{
        R"((?:cuenta|tarjeta|folio|numero|num|referencia|ref|account|card|number|#)\s*$)"};
    // Digits that belong to the words before them: "mil 200" (read with its "mil"), "pesos con
    // 50" (the centavos).
    RE2 read_with_before{R"((?:\bmil\s+(?:y\s+)?|(?:pesos?|varos|baros)\s+con\s+)$)"};
    RE2 everything{
        R"(\b(todo|el\s+total|la\s+totalidad|completo|toda\s+la\s+deuda|all\s+of\s+it|in\s+full|everything|the\s+full\s+amount|the\s+whole\s+(?:thing|amount|balance))\b)"};
    RE2 menu{R"(^\s*(?:(?:opcion|opc|op|option|numero|num|la|#)\s*)?([1-9])\s*$)"};
};

std::string SpelledPattern() {
    static constexpr std::string_view kNumberWords =
        "novecientos|ochocientos|setecientos|seiscientos|quinientos|cuatrocientos|trescientos|"
        "doscientos|ciento|cien|mil|millones|millon|noventa|ochenta|setenta|sesenta|cincuenta|"
        "cuarenta|treinta|veinti[a-z]+|veinte|diecinueve|dieciocho|diecisiete|dieciseis|quince|"
        "catorce|trece|doce|once|diez|nueve|ocho|siete|seis|cinco|cuatro|tres|dos|uno|un|"
        "thousand|hundred|ninety|eighty|seventy|sixty|fifty|forty|thirty|twenty|nineteen|"
        "eighteen|seventeen|sixteen|fifteen|fourteen|thirteen|twelve|eleven|ten|nine|eight|"
        "seven|six|five|four|three|two|one";
    std::string pattern = R"(\b((?:NUM)(?:\s+(?:y\s+|and\s+)?(?:NUM))*)\b)";
    for (std::size_t at = pattern.find("NUM"); at != std::string::npos;
         at = pattern.find("NUM", at)) {
        pattern.replace(at, 3, kNumberWords);
        at += kNumberWords.size();
    }
    return pattern;
}

const Patterns& P() {
    static const Patterns kPatterns;
    return kPatterns;
}

const RE2& SpelledRe() {
    static const RE2 kRe(SpelledPattern());
    return kRe;
}

// A run of number words as ICU's spell-out rules read it, in either language; nullopt unless
// the whole run is one number.
std::optional<std::int64_t> ParseSpelled(std::string_view words) {
    // Building a rule-based format costs far more than a parse; ICU formats are not safe to
    // share between threads, so each thread keeps its own pair.
    struct Formats {
        std::unique_ptr<icu::RuleBasedNumberFormat> es;
        std::unique_ptr<icu::RuleBasedNumberFormat> en;
    };

    thread_local const Formats formats = [] {
        auto make = [](const char* language) {
            UErrorCode status = U_ZERO_ERROR;
            auto format = std::make_unique<icu::RuleBasedNumberFormat>(
                icu::URBNF_SPELLOUT, icu::Locale(language), status);
            if (U_FAILURE(status)) {
                return std::unique_ptr<icu::RuleBasedNumberFormat>();
            }
            format->setLenient(true);
            return format;
        };
        return Formats{make("es"), make("en")};
    }();
    const icu::UnicodeString text = icu::UnicodeString::fromUTF8(
        icu::StringPiece(words.data(), static_cast<std::int32_t>(words.size())));
    for (const auto* format : {formats.es.get(), formats.en.get()}) {
        if (format == nullptr) {
            continue;
        }
        icu::Formattable result;
        icu::ParsePosition position(0);
        format->parse(text, result, position);
        if (position.getIndex() == text.length()) {
            UErrorCode error = U_ZERO_ERROR;
            const std::int64_t value = result.getInt64(error);
            if (U_SUCCESS(error) && value > 0) {
                return value;
            }
        }
    }
    return std::nullopt;
}

bool StartsWith(const RE2& re, std::string_view text) {
    return RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), re);
}

// Overwrites text[begin, end) with `digits` and spaces: the text keeps its length.
void Overwrite(std::string& text, std::size_t begin, std::size_t end, const std::string& digits) {
    for (std::size_t i = begin; i < end; ++i) {
        text[i] = i - begin < digits.size() ? digits[i - begin] : ' ';
    }
}

std::size_t Offset(const std::string& text, const re2::StringPiece& piece) {
    return static_cast<std::size_t>(piece.data() - text.data());
}

// Days written as words or ordinals become digits: "el primero de abril" -> "el 1 de abril",
// "el 1ro", "el 1.º de julio", "april first".
void DaysAsDigits(std::string& work) {
    const Patterns& p = P();
    ForEachMatch(p.ordinal_suffix, work, [&](std::size_t, std::size_t, const Groups& g) {
        Overwrite(work, Offset(work, g[2]), Offset(work, g[2]) + g[2].size(), "");
        return false;
    });
    ForEachMatch(p.ordinal_o, work, [&](std::size_t, std::size_t, const Groups& g) {
        Overwrite(work, Offset(work, g[1]), Offset(work, g[1]) + g[1].size(), "");
        return false;
    });
    ForEachMatch(p.day_word, work, [&](std::size_t, std::size_t e, const Groups& g) {
        std::string word(Sv(g[1]));
        std::replace(word.begin(), word.end(), '\t', ' ');
        const auto d =
            DayWord(word.find("treinta") == 0 && word.size() > 7 ? "treinta y uno" : word);
        if (!d || StartsWith(p.not_a_day, std::string_view(work).substr(e))) {
            return false;  // "el cinco mil", "el dos por ciento"
        }
        Overwrite(work, Offset(work, g[1]), Offset(work, g[1]) + g[1].size(), std::to_string(*d));
        return false;
    });
    ForEachMatch(p.month_first, work, [&](std::size_t, std::size_t, const Groups& g) {
        Overwrite(work, Offset(work, g[1]), Offset(work, g[1]) + g[1].size(), "1");
        return false;
    });
}

void FindDates(std::string& work,
               std::string_view locale,
               const Date& today,
               ExtractedEntities& out) {
    const Patterns& p = P();
    DaysAsDigits(work);
    auto take = [&](std::size_t begin, std::optional<Date> date, std::size_t& first) {
        if (!date) {
            return false;
        }
        if (!out.date || begin < first) {
            out.date = date;
            first = begin;
        }
        return true;
    };
    std::size_t first = std::string::npos;
    bool disagree = false;  // a weekday beside a date that is another day
    const bool past = RE2::PartialMatch(work, p.past_tense);
    const bool payday = RE2::PartialMatch(work, p.payday);
    ForEachMatch(p.weekday_date, work, [&](std::size_t b, std::size_t e, const Groups& g) {
        if (StartsWith(p.not_a_day, std::string_view(work).substr(e))) {
            return false;
        }
        const auto weekday = WeekdayNumber(Sv(g[1]));
        const int d = ToInt(Has(g[2]) ? Sv(g[2]) : Sv(g[5]));
        const auto m = MonthNumber(Has(g[3]) ? Sv(g[3]) : Sv(g[4]));
        std::optional<Date> date;
        if (m && Has(g[6])) {
            date = MakeDate(ToInt(Sv(g[6])), static_cast<int>(*m), d);
        } else if (m) {
            date = NextDayMonth(today, static_cast<int>(*m), d);
        } else {
            date = NextDayOfMonth(today, d);
        }
        if (!weekday || !date) {
            return false;
        }
        if (IsoWeekday(*date) != *weekday) {
            disagree = true;
            return true;  // neither is taken: the bot asks
        }
        return take(b, date, first);
    });
    ForEachMatch(p.weekday_next_week, work, [&](std::size_t b, std::size_t, const Groups& g) {
        const auto number = WeekdayNumber(Sv(g[1]));
        return number &&
               take(b, AddDays(NextWeekday(today, 1), static_cast<int>(*number) - 1), first);
    });
    ForEachMatch(p.weekday_past, work, [&](std::size_t b, std::size_t, const Groups& g) {
        const auto number = WeekdayNumber(Has(g[1]) ? Sv(g[1]) : Sv(g[2]));
        return number && take(b, LastWeekday(AddDays(today, -1), *number), first);
    });
    ForEachMatch(p.month_part, work, [&](std::size_t b, std::size_t, const Groups& g) {
        const std::string_view part = Sv(g[1]);
        const int d = part == "mediados" ? 15 : (part == "finales" || part == "fines") ? 31 : 5;
        std::chrono::year_month ym = today.year() / today.month();
        if (Has(g[2])) {
            const auto m = MonthNumber(Sv(g[2]));
            if (!m) {
                return false;
            }
            ym = today.year() / month{*m};
            if (ym < today.year() / today.month()) {
                ym += std::chrono::years{1};
            }
        } else if (Has(g[3])) {
            ym += std::chrono::months{1};
        }
        const auto in = [&](std::chrono::year_month at) {
            const Date last = at / std::chrono::last;
            return d == 31 ? last : Date{at / day{static_cast<unsigned>(d)}};
        };
        Date date = in(ym);
        if (date < today) {
            date = in(ym + std::chrono::months{1});  // "a principios de mes", already past
        }
        return take(b, date, first);
    });
    ForEachMatch(p.quincena_of, work, [&](std::size_t b, std::size_t, const Groups& g) {
        const auto m = MonthNumber(Sv(g[2]));
        if (!m) {
            return false;
        }
        const bool second = Sv(g[1]).starts_with("s") || Sv(g[1]).starts_with("2");
        const auto fifteenth = NextDayMonth(today, static_cast<int>(*m), 15);
        if (!fifteenth) {
            return false;
        }
        return take(b, second ? EndOfMonth(*fifteenth) : *fifteenth, first);
    });
    ForEachMatch(p.days_after, work, [&](std::size_t b, std::size_t, const Groups& g) {
        if (Has(g[3])) {
            return take(b, AddDays(today, 2), first);  // "el día después de mañana"
        }
        const auto count = SmallNumber(Sv(g[1]));
        const int base = Sv(g[2]) == "manana" ? 1 : 0;
        return count && *count <= 90 && take(b, AddDays(today, base + *count), first);
    });
    ForEachMatch(p.weekend, work, [&](std::size_t b, std::size_t, const Groups&) {
        const unsigned now = IsoWeekday(today);
        return take(b, now >= 6 ? today : NextWeekday(today, 6), first);
    });
    ForEachMatch(p.yesterday, work, [&](std::size_t b, std::size_t, const Groups& g) {
        return take(b, AddDays(today, Has(g[1]) ? -1 : -2), first);
    });
    ForEachMatch(p.iso, work, [&](std::size_t b, std::size_t, const Groups& g) {
        return take(b, MakeDate(ToInt(Sv(g[1])), ToInt(Sv(g[2])), ToInt(Sv(g[3]))), first);
    });
    ForEachMatch(p.numeric_full, work, [&](std::size_t b, std::size_t, const Groups& g) {
        return take(
            b, NumericDate(locale, ToInt(Sv(g[1])), ToInt(Sv(g[2])), FullYear(Sv(g[3]))), first);
    });
    ForEachMatch(p.day_month, work, [&](std::size_t b, std::size_t, const Groups& g) {
        const auto m = MonthNumber(Sv(g[2]));
        const int d = ToInt(Sv(g[1]));
        return m && take(b,
                         Has(g[3]) ? MakeDate(FullYear(Sv(g[3])), static_cast<int>(*m), d)
                                   : NextDayMonth(today, static_cast<int>(*m), d),
                         first);
    });
    ForEachMatch(p.month_day, work, [&](std::size_t b, std::size_t, const Groups& g) {
        const auto m = MonthNumber(Sv(g[1]));
        const int d = ToInt(Sv(g[2]));
        return m && take(b,
                         Has(g[3]) ? MakeDate(FullYear(Sv(g[3])), static_cast<int>(*m), d)
                                   : NextDayMonth(today, static_cast<int>(*m), d),
                         first);
    });
    ForEachMatch(p.numeric_short, work, [&](std::size_t b, std::size_t, const Groups& g) {
        const int a = ToInt(Sv(g[1]));
        const int c = ToInt(Sv(g[2]));
        const bool month_first = locale == "en-US" && a <= 12;
        auto date = month_first ? NextDayMonth(today, a, c) : NextDayMonth(today, c, a);
        if (!date) {
            date = month_first ? NextDayMonth(today, c, a) : NextDayMonth(today, a, c);
        }
        return take(b, date, first);
    });
    ForEachMatch(p.day_after_tomorrow, work, [&](std::size_t b, std::size_t, const Groups&) {
        return take(b, AddDays(today, 2), first);
    });
    ForEachMatch(p.tomorrow, work, [&](std::size_t b, std::size_t, const Groups& g) {
        // "en la mañana", "por la mañana" is the morning, not tomorrow.
        return !Has(g[1]) && take(b, AddDays(today, 1), first);
    });
    ForEachMatch(p.today, work, [&](std::size_t b, std::size_t, const Groups&) {
        return take(b, today, first);
    });
    ForEachMatch(p.weekday, work, [&](std::size_t b, std::size_t, const Groups& g) {
        const auto number = WeekdayNumber(Sv(g[1]));
        return number &&
               take(b, past ? LastWeekday(today, *number) : NextWeekday(today, *number), first);
    });
    ForEachMatch(p.end_of_month, work, [&](std::size_t b, std::size_t, const Groups&) {
        return take(b, EndOfMonth(today), first);
    });
    ForEachMatch(p.quincena, work, [&](std::size_t b, std::size_t, const Groups& g) {
        return !Has(g[1]) && take(b, NextQuincena(today), first);  // "cada quincena": how often
    });
    ForEachMatch(p.in_days, work, [&](std::size_t b, std::size_t, const Groups& g) {
        const auto count = SmallNumber(Sv(g[1]));
        const bool weeks = Sv(g[2]).starts_with("semana") || Sv(g[2]).starts_with("week");
        const bool months = Sv(g[2]).starts_with("mes") || Sv(g[2]).starts_with("month");
        if (months) {
            return count && *count <= 12 && take(b, AddMonths(today, *count), first);
        }
        return count && *count <= 90 && take(b, AddDays(today, *count * (weeks ? 7 : 1)), first);
    });
    ForEachMatch(p.next_week, work, [&](std::size_t b, std::size_t, const Groups&) {
        return take(b, NextWeekday(today, 1), first);
    });
    ForEachMatch(p.day_of_month, work, [&](std::size_t b, std::size_t e, const Groups& g) {
        const std::string_view after = std::string_view(work).substr(e);
        if (StartsWith(p.not_a_day, after)) {
            return false;
        }
        const int d = ToInt(Has(g[1]) ? Sv(g[1]) : Sv(g[2]));
        if (past) {
            // "ya pagué el 10": this month's, or last month's when it is still ahead.
            std::chrono::year_month ym = today.year() / today.month();
            for (int i = 0; i < 2; ++i, ym -= std::chrono::months{1}) {
                const Date date = ym / day{static_cast<unsigned>(d)};
                if (date.ok() && date <= today) {
                    return take(b, date, first);
                }
            }
            return false;
        }
        return take(b, NextDayOfMonth(today, d), first);
    });
    if (disagree && !out.date) {
        out.date_unclear = true;
    } else if (disagree) {
        out.date.reset();  // another day named elsewhere does not settle the disagreement
        out.date_unclear = true;
    }
    if (payday && !out.date) {
        out.date_unclear = true;
    }
}

void FindInstallments(std::string& work, ExtractedEntities& out) {
    ForEachMatch(P().installments, work, [&](std::size_t, std::size_t, const Groups& g) {
        const auto count = SmallNumber(Sv(g[1]));
        if (!count || *count < 1 || *count > 60) {
            return false;
        }
        if (!out.installments) {
            out.installments = count;
        }
        return true;
    });
}

// One number that may be money, as found in the text.
struct AmountCandidate {
    std::int64_t cents = 0;
    bool marked = false;   // "$", "pesos", "usd": money for sure
    bool counts = false;   // big enough to be money without a mark
    bool unclear = false;  // named only in part, or one of a choice
};

// What follows an amount ending at `e`: its currency word and centavos, "mil"'s remainder,
// a vagueness or a choice. Updates `c` and returns where the amount really ends.
std::size_t ReadTail(const std::string& work, std::size_t e, bool ends_in_mil, AmountCandidate& c) {
    const Patterns& p = P();
    auto after = [&]() {
        return re2::StringPiece(work.data() + e, work.size() - e);
    };
    re2::StringPiece digits;
    if (ends_in_mil) {
        re2::StringPiece rest = after();
        if (RE2::Consume(&rest, p.after_mil, &digits) &&
            !RE2::PartialMatch(rest, p.not_after_mil)) {
            c.cents += ToInt(Sv(digits)) * 100;
            e = static_cast<std::size_t>(rest.data() - work.data());
        } else if (re2::StringPiece spelled; RE2::PartialMatch(after(), SpelledRe(), &spelled)) {
            // "2 mil quinientos"
            const std::string_view gap(work.data() + e,
                                       static_cast<std::size_t>(spelled.data() - work.data()) - e);
            const bool adjacent = gap.find_first_not_of(' ') == std::string_view::npos ||
                                  gap.find_first_not_of(' ') == gap.rfind('y');
            const auto extra = adjacent ? ParseSpelled(Sv(spelled)) : std::nullopt;
            if (extra && *extra < 1000) {
                c.cents += *extra * 100;
                e = static_cast<std::size_t>(spelled.data() - work.data()) + spelled.size();
            }
        }
    }
    if (RE2::PartialMatch(after(), p.currency_word)) {
        c.marked = true;
        re2::StringPiece rest = after();
        if (c.cents % 100 == 0 && RE2::Consume(&rest, p.centavos, &digits)) {
            c.cents += ToInt(Sv(digits));
            e = static_cast<std::size_t>(rest.data() - work.data());
        }
    }
    c.unclear = RE2::PartialMatch(after(), p.vague) || RE2::PartialMatch(after(), p.choice);
    return e;
}

void FindAmounts(std::string& work, ExtractedEntities& out) {
    const Patterns& p = P();
    std::vector<AmountCandidate> found;
    const auto before = [&](std::size_t b) {
        return re2::StringPiece(work.data(), b);
    };
    // Not money: a count ("12 horas"), an account number, part of a date ("2025/12/08").
    const auto other_number = [&](std::size_t b, std::size_t e) {
        const std::string_view rest = std::string_view(work).substr(e);
        return StartsWith(p.not_money_after, rest) ||
               RE2::PartialMatch(before(b), p.not_money_before) ||
               RE2::PartialMatch(before(b), p.read_with_before) || rest.starts_with("/") ||
               (b > 0 && work[b - 1] == '/') ||
               (rest.size() > 1 && rest[0] == '-' &&
                std::isdigit(static_cast<unsigned char>(rest[1])) != 0);
    };
    const auto between = [&](std::size_t b, std::size_t e) {
        return RE2::PartialMatch(before(b), p.between) &&
               StartsWith(p.and_another, std::string_view(work).substr(e));
    };
    ForEachMatch(p.amount, work, [&](std::size_t b, std::size_t e, const Groups& g) {
        if (b > 0 && std::isalnum(static_cast<unsigned char>(work[b - 1])) != 0) {
            return false;  // "a15", "3er"
        }
        if (e < work.size() && std::isalnum(static_cast<unsigned char>(work[e])) != 0) {
            return false;  // "15abc", "3er"
        }
        std::string digits;
        for (const char c : Sv(g[2])) {
            if (c >= '0' && c <= '9') {
                digits += c;
            }
        }
        if (digits.size() > 11 || other_number(b, e)) {
            return false;
        }
        AmountCandidate c;
        c.cents = std::stoll(digits) * 100;
        if (Has(g[3])) {
            c.cents += ToInt(Sv(g[3])) * (g[3].size() == 1 ? 10 : 1);
        }
        const bool multiplied = Has(g[4]);
        if (multiplied) {
            c.cents *= 1000;
        }
        c.marked = Has(g[1]);
        const std::size_t end = ReadTail(work, e, Sv(g[4]) == "mil", c);
        c.unclear = c.unclear || between(b, e);
        c.counts = c.marked || multiplied || c.cents >= 1000;
        if (!c.counts) {
            return false;  // "2", "la 3": not money on their own
        }
        found.push_back(c);
        std::fill(work.begin() + static_cast<std::ptrdiff_t>(e),
                  work.begin() + static_cast<std::ptrdiff_t>(end),
                  ' ');
        return true;
    });
    ForEachMatch(SpelledRe(), work, [&](std::size_t b, std::size_t e, const Groups& g) {
        const std::string_view after = std::string_view(work).substr(e);
        if (after.starts_with(" gracias")) {
            return false;  // "mil gracias"
        }
        std::string words(Sv(g[1]));
        // "a thousand", "a hundred"
        if ((words.starts_with("thousand") || words.starts_with("hundred")) && b >= 2 &&
            std::string_view(work).substr(b - 2, 2) == "a ") {
            words = "one " + words;
        }
        const auto value = ParseSpelled(words);
        if (!value || other_number(b, e) || RE2::PartialMatch(before(b), p.none_of)) {
            return false;
        }
        AmountCandidate c;
        c.cents = *value * 100;
        std::size_t end = e;
        bool multiplied = false;
        if (re2::StringPiece rest(work.data() + e, work.size() - e); RE2::Consume(&rest, p.grand)) {
            c.cents *= 1000;  // "two grand"
            multiplied = true;
            end = static_cast<std::size_t>(rest.data() - work.data());
        }
        end = ReadTail(work, end, words.ends_with("mil"), c);
        c.unclear = c.unclear || between(b, e);
        c.counts = c.marked || multiplied || *value >= 100;
        if (!c.counts) {
            return false;
        }
        found.push_back(c);
        std::fill(work.begin() + static_cast<std::ptrdiff_t>(e),
                  work.begin() + static_cast<std::ptrdiff_t>(end),
                  ' ');
        return true;
    });
    // Decide: never a guess. Anything unclear, or two different amounts either both marked as
    // money or both unmarked, or a marked one beside a different unmarked one: ask.
    std::optional<std::int64_t> marked;
    std::optional<std::int64_t> unmarked;
    bool unclear = false;
    for (const AmountCandidate& c : found) {
        if (c.cents <= 0 || c.cents > 100'000'000'000LL || !c.counts) {
            continue;
        }
        unclear = unclear || c.unclear;
        auto& slot = c.marked ? marked : unmarked;
        unclear = unclear || (slot && *slot != c.cents);
        slot = c.cents;
    }
    unclear = unclear || (marked && unmarked && *marked != *unmarked);
    if (unclear) {
        out.amount_unclear = true;
        return;
    }
    out.amount_cents = marked ? marked : unmarked;
}

}  // namespace

Date EndOfMonth(const Date& d) {
    return d.year() / d.month() / std::chrono::last;
}

Date NextQuincena(const Date& d) {
    const Date fifteenth = d.year() / d.month() / day{15};
    if (d < fifteenth) {
        return fifteenth;
    }
    const Date last = EndOfMonth(d);
    if (d < last) {
        return last;
    }
    const auto next = d.year() / d.month() + std::chrono::months{1};
    return next / day{15};
}

ExtractedEntities ExtractEntities(std::string_view normalized,
                                  std::string_view locale,
                                  const Date& today) {
    ExtractedEntities out;
    std::string work(normalized);
    const Patterns& p = P();
    int choice = 0;
    if (RE2::FullMatch(work, p.menu, &choice)) {
        out.menu_choice = choice;
        out.rest.assign(work.size(), ' ');
        return out;
    }
    FindDates(work, locale, today, out);
    FindInstallments(work, out);
    FindAmounts(work, out);
    ForEachMatch(p.everything, work, [&](std::size_t, std::size_t, const Groups&) {
        out.amount_is_everything = true;
        return true;
    });
    out.rest = std::move(work);
    return out;
}

std::optional<Date> ParseBirthDate(std::string_view text, std::string_view locale) {
    std::string work = Normalize(text, locale);
    const Patterns& p = P();
    std::optional<Date> found;
    auto take = [&](std::optional<Date> date) {
        if (date && !found) {
            found = date;
        }
        return date.has_value();
    };
    ForEachMatch(p.iso, work, [&](std::size_t, std::size_t, const Groups& g) {
        return take(MakeDate(ToInt(Sv(g[1])), ToInt(Sv(g[2])), ToInt(Sv(g[3]))));
    });
    ForEachMatch(p.numeric_full, work, [&](std::size_t, std::size_t, const Groups& g) {
        return take(NumericDate(locale, ToInt(Sv(g[1])), ToInt(Sv(g[2])), FullYear(Sv(g[3]))));
    });
    ForEachMatch(p.day_month, work, [&](std::size_t, std::size_t, const Groups& g) {
        const auto m = MonthNumber(Sv(g[2]));
        return Has(g[3]) && m &&
               take(MakeDate(FullYear(Sv(g[3])), static_cast<int>(*m), ToInt(Sv(g[1]))));
    });
    ForEachMatch(p.month_day, work, [&](std::size_t, std::size_t, const Groups& g) {
        const auto m = MonthNumber(Sv(g[1]));
        return Has(g[3]) && m &&
               take(MakeDate(FullYear(Sv(g[3])), static_cast<int>(*m), ToInt(Sv(g[2]))));
    });
    ForEachMatch(p.compact, work, [&](std::size_t, std::size_t, const Groups& g) {
        return take(NumericDate(locale, ToInt(Sv(g[1])), ToInt(Sv(g[2])), ToInt(Sv(g[3]))));
    });
    return found;
}

}  // namespace cobrador::dialogs
