// The NLU: normalization, dates, amounts, birth dates, and the labelled set of debtor
// messages in tests/dialogs/data/nlu_labelled.tsv (its accuracy is printed and held to a floor).

#include "dialogs/nlu.hpp"

#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include <catch2/catch.hpp>

#include "dialogs/entities.hpp"
#include "dialogs/money.hpp"

namespace cobrador::dialogs {
namespace {

const Date kToday = *ParseIsoDate("2025-03-12");  // a Wednesday

std::string DateOf(std::string_view text, std::string_view locale = "es-MX") {
    const auto u = Understand(text, locale, kToday);
    return u.entities.date ? FormatIsoDate(*u.entities.date) : "none";
}

std::string AmountOf(std::string_view text, std::string_view locale = "es-MX") {
    const auto u = Understand(text, locale, kToday);
    return u.entities.amount_cents ? FormatDecimalCents(*u.entities.amount_cents) : "none";
}

TEST_CASE("NLU: normalization folds case, accents, width, repeats and shorthand",
          "[dialogs][nlu]") {
    CHECK(Normalize("¿CUÁNTO DEBO?", "es-MX") == "cuanto debo");
    CHECK(Normalize("ＢＡＪＡ", "es-MX") == "baja");
    CHECK(Normalize("siiiii", "es-MX") == "si");
    CHECK(Normalize("kiero pagar xq ya", "es-MX") == "quiero pagar porque ya");
    CHECK(Normalize("$1,500.00 el 15/12 🙂", "es-MX") == "$1,500.00 el 15/12");
    // An emoji that answers: a yes or a no.
    CHECK(Normalize("👍", "es-MX") == "si");
    CHECK(Normalize("👍🏽", "en-US") == "yes");
    CHECK(Normalize("👎", "es-MX") == "no");
    CHECK(Normalize("I don’t owe", "en-US") == "i dont owe");
    CHECK(Normalize("", "es-MX").empty());
}

TEST_CASE("NLU: relative and absolute dates resolve against today", "[dialogs][nlu]") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"te pago hoy", "2025-03-12"},
        {"mañana", "2025-03-13"},
        {"pasado manana", "2025-03-14"},
        {"el viernes", "2025-03-14"},
        {"el viernez", "2025-03-14"},
        {"el miércoles", "2025-03-19"},
        {"el 15", "2025-03-15"},
        {"el 5", "2025-04-05"},
        {"el día 30", "2025-03-30"},
        {"15/12", "2025-12-15"},
        {"10/03", "2026-03-10"},
        {"15 de diciembre", "2025-12-15"},
        {"fin de mes", "2025-03-31"},
        {"la próxima quincena", "2025-03-15"},
        {"la otra quincena", "2025-03-15"},
        {"en 3 días", "2025-03-15"},
        {"en dos semanas", "2025-03-26"},
        {"la otra semana", "2025-03-17"},
        {"15/03/1985", "1985-03-15"},
        {"15-03-85", "1985-03-15"},
        {"15 de marzo de 1985", "1985-03-15"},
        {"en la mañana te pago", "none"},
        {"cada quincena", "none"},
    };
    for (const auto& [text, date] : cases) {
        INFO(text);
        CHECK(DateOf(text) == date);
    }
    CHECK(DateOf("next friday", "en-US") == "2025-03-14");
    CHECK(DateOf("tomorrow", "en-US") == "2025-03-13");
    CHECK(DateOf("on the 30th", "en-US") == "2025-03-30");
    CHECK(DateOf("end of the month", "en-US") == "2025-03-31");
    CHECK(DateOf("March 15 1985", "en-US") == "1985-03-15");
    CHECK(DateOf("03/04/2025", "en-US") == "2025-03-04");  // month first in en-US
    CHECK(DateOf("03/04/2025", "es-MX") == "2025-04-03");  // day first in es-MX
}

TEST_CASE("NLU: amounts in digits, with separators and spelled out", "[dialogs][nlu]") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"1500", "1500.00"},
        {"$1,500", "1500.00"},
        {"1,500.00", "1500.00"},
        {"$1500.50", "1500.50"},
        {"1.5k", "1500.00"},
        {"2 mil", "2000.00"},
        {"2 mil quinientos", "2500.00"},
        {"mil quinientos", "1500.00"},
        {"dos mil quinientos pesos", "2500.00"},
        {"quinientos", "500.00"},
        {"500 varos", "500.00"},
        {"te doy $5", "5.00"},
        {"mil gracias", "none"},
        {"la 2", "none"},        // a menu choice
        {"en 6 pagos", "none"},  // instalments
        {"el 15", "none"},       // a date
        {"un asesor", "none"},
    };
    for (const auto& [text, amount] : cases) {
        INFO(text);
        CHECK(AmountOf(text) == amount);
    }
    CHECK(AmountOf("three hundred dollars", "en-US") == "300.00");
    CHECK(AmountOf("fifteen hundred", "en-US") == "1500.00");
    CHECK(Understand("kiero un combenio a 6 meses", "es-MX", kToday).entities.installments == 6);
    CHECK(Understand("2", "es-MX", kToday).entities.menu_choice == 2);
    CHECK(Understand("opción 3", "es-MX", kToday).entities.menu_choice == 3);
    CHECK(Understand("pago todo el viernes", "es-MX", kToday).entities.amount_is_everything);
}

TEST_CASE("NLU: birth dates in the common forms", "[dialogs][nlu]") {
    const Date born = *ParseIsoDate("1985-03-15");
    for (const char* text : {"15/03/1985",
                             "15-03-85",
                             "15.03.1985",
                             "15 de marzo de 1985",
                             "15 marzo 1985",
                             "1985-03-15",
                             "15031985",
                             "nací el 15/03/1985",
                             "03/15/1985"}) {
        INFO(text);
        CHECK(ParseBirthDate(text, "es-MX") == born);
    }
    CHECK(ParseBirthDate("March 15 1985", "en-US") == born);
    CHECK(ParseBirthDate("03/15/1985", "en-US") == born);
    CHECK(ParseBirthDate("15th of March, 1985", "en-US") == born);
    for (const char* text : {"hola", "31/02/1985", "15/03", "1985", ""}) {
        INFO(text);
        CHECK_FALSE(ParseBirthDate(text, "es-MX").has_value());
    }
}

TEST_CASE("NLU: quincena paydays", "[dialogs][nlu]") {
    CHECK(NextQuincena(*ParseIsoDate("2025-03-12")) == *ParseIsoDate("2025-03-15"));
    CHECK(NextQuincena(*ParseIsoDate("2025-03-15")) == *ParseIsoDate("2025-03-31"));
    CHECK(NextQuincena(*ParseIsoDate("2025-02-20")) == *ParseIsoDate("2025-02-28"));
    CHECK(NextQuincena(*ParseIsoDate("2024-02-29")) == *ParseIsoDate("2024-03-15"));
    CHECK(NextQuincena(*ParseIsoDate("2025-12-31")) == *ParseIsoDate("2026-01-15"));
}

TEST_CASE("NLU: odd input never breaks it", "[dialogs][nlu]") {
    for (const std::string& text : {std::string(""),
                                    std::string("\xff\xfe\xfd"),
                                    std::string(5000, 'a'),
                                    std::string("99999999999999999999 pesos"),
                                    std::string("\0\0", 2),
                                    std::string("el 99"),
                                    std::string("31/31/3131"),
                                    std::string("$")}) {
        const auto u = Understand(text, "es-MX", kToday);
        CHECK(ToJson(u).front() == '{');
    }
}

struct Row {
    std::string locale, text, intent, entities;
};

// A data file of tests/dialogs/data: four tab-separated columns, '#' comments.
std::vector<Row> ReadTsv(const std::string& name) {
    std::ifstream file(COBRADOR_SOURCE_DIR "/tests/dialogs/data/" + name);
    std::vector<Row> rows;
    std::string line;
    while (std::getline(file, line)) {
        if (line.empty() || line.front() == '#') {
            continue;
        }
        std::vector<std::string> cols;
        std::stringstream in(line);
        std::string col;
        while (std::getline(in, col, '\t')) {
            cols.push_back(col);
        }
        cols.resize(4);
        rows.push_back({cols[0], cols[1], cols[2], cols[3]});
    }
    return rows;
}

std::string EntitiesOf(const Understanding& u) {
    std::string out;
    auto add = [&](const std::string& field) {
        out += (out.empty() ? "" : ";") + field;
    };
    if (u.entities.amount_cents) {
        add("amount=" + FormatDecimalCents(*u.entities.amount_cents));
    }
    if (u.entities.date) {
        add("date=" + FormatIsoDate(*u.entities.date));
    }
    if (u.entities.installments) {
        add("installments=" + std::to_string(*u.entities.installments));
    }
    if (u.entities.menu_choice) {
        add("menu_choice=" + std::to_string(*u.entities.menu_choice));
    }
    return out;
}

TEST_CASE("NLU: accuracy on the labelled set", "[dialogs][nlu]") {
    const auto rows = ReadTsv("nlu_labelled.tsv");
    REQUIRE(rows.size() >= 300);
    std::map<std::string, std::pair<int, int>> by_locale;  // right intents, rows
    int intents_right = 0;
    int entities_right = 0;
    std::string misses;
    for (const Row& row : rows) {
        const auto u = Understand(row.text, row.locale, kToday);
        const bool intent_ok = ToString(u.intent) == row.intent;
        const bool entities_ok = EntitiesOf(u) == row.entities;
        intents_right += intent_ok ? 1 : 0;
        entities_right += entities_ok ? 1 : 0;
        by_locale[row.locale].first += intent_ok ? 1 : 0;
        by_locale[row.locale].second += 1;
        if (!intent_ok || !entities_ok) {
            misses += row.locale + " | " + row.text + " | want " + row.intent + " " + row.entities +
                      " | got " + std::string(ToString(u.intent)) + " " + EntitiesOf(u) + "\n";
        }
    }
    const double intent_accuracy = 100.0 * intents_right / static_cast<double>(rows.size());
    const double entity_accuracy = 100.0 * entities_right / static_cast<double>(rows.size());
    std::ostringstream report;
    report << "labelled set: " << rows.size() << " utterances; intent accuracy " << intent_accuracy
           << "%, entities exactly right " << entity_accuracy << "%";
    for (const auto& [locale, counts] : by_locale) {
        report << "; " << locale << " " << counts.first << "/" << counts.second;
    }
    WARN(report.str());
    if (std::getenv("NLU_MISSES") != nullptr) {
        WARN(misses);
    }
    CHECK(intent_accuracy >= 90.0);
    CHECK(entity_accuracy >= 85.0);
}

// A labelled set of tests/dialogs/data (category, locale, text, expected), read by `got`: each
// category is held to 95% exact, and no text may be read as a wrong value (an amount or a date
// that is not the expected one, also where the answer is to ask). Prints the figures.
void CheckLabelledSet(const std::string& file,
                      std::size_t at_least,
                      const std::function<std::string(const Understanding&, bool& read)>& got) {
    const auto rows = ReadTsv(file);
    REQUIRE(rows.size() >= at_least);
    std::map<std::string, std::pair<int, int>> by_category;  // right, rows
    std::string wrong;
    std::string misses;
    for (const Row& row : rows) {
        const std::string& category = row.locale;
        const std::string& locale = row.text;
        const std::string& text = row.intent;
        const std::string& expected = row.entities;
        bool read = false;
        const std::string value = got(Understand(text, locale, kToday), read);
        const bool right = value == expected;
        by_category[category].first += right ? 1 : 0;
        by_category[category].second += 1;
        if (!right) {
            misses += category + " | " + text + " | want " + expected + " | got " + value + "\n";
        }
        if (read && !right) {
            wrong += text + " -> " + value + " (want " + expected + ")\n";
        }
    }
    std::ostringstream report;
    report << file << ":";
    for (const auto& [category, counts] : by_category) {
        report << " " << category << " " << counts.first << "/" << counts.second << ";";
    }
    WARN(report.str());
    if (std::getenv("NLU_MISSES") != nullptr) {
        WARN(misses);
    }
    CHECK(wrong == "");
    for (const auto& [category, counts] : by_category) {
        INFO(category);
        CHECK(100.0 * counts.first / counts.second >= 95.0);
    }
}

TEST_CASE("NLU: amounts, by category, never a confident wrong value", "[dialogs][nlu][amounts]") {
    CheckLabelledSet("amounts.tsv", 150, [](const Understanding& u, bool& read) {
        read = u.entities.amount_cents.has_value();
        return read                        ? FormatDecimalCents(*u.entities.amount_cents)
               : u.entities.amount_unclear ? "ask"
                                           : "none";
    });
}

TEST_CASE("NLU: dates, by category, never a confident wrong day", "[dialogs][nlu][dates]") {
    CheckLabelledSet("dates.tsv", 110, [](const Understanding& u, bool& read) {
        read = u.entities.date.has_value();
        return read ? FormatIsoDate(*u.entities.date) : u.entities.date_unclear ? "ask" : "none";
    });
}

// The 56 utterances of shared/domain/collections-mexico.md §4.4, written by the domain
// researcher and never used to tune the patterns: the honest figure.
TEST_CASE("NLU: accuracy on the held-out domain set", "[dialogs][nlu]") {
    const auto set = ReadTsv("nlu_heldout_domain.tsv");
    const int rows = static_cast<int>(set.size());
    int right = 0;
    std::string misses;
    for (const Row& row : set) {
        const auto u = Understand(row.text, row.locale, kToday);
        const std::string got(ToString(u.intent));
        const bool ok = ("|" + row.intent + "|").find("|" + got + "|") != std::string::npos;
        right += ok ? 1 : 0;
        if (!ok) {
            misses += row.text + " | want " + row.intent + " | got " + got + "\n";
        }
    }
    REQUIRE(rows == 56);
    const double accuracy = 100.0 * right / rows;
    WARN("held-out domain set: " << right << "/" << rows << " intents right (" << accuracy << "%)");
    if (std::getenv("NLU_MISSES") != nullptr) {
        WARN(misses);
    }
    CHECK(accuracy >= 75.0);
}

TEST_CASE("NLU: privacy requests and a dispute's category", "[dialogs][nlu]") {
    struct Said {
        const char* locale;
        const char* text;
        Intent intent;
        const char* entity;
    };

    for (const Said& r :
         {Said{"es-MX", "quiero saber qué datos míos tienen", Intent::kPrivacy, "access"},
          Said{"es-MX", "BORREN MIS DATOS", Intent::kPrivacy, "cancellation"},
          Said{"es-MX", "no usen mis datos", Intent::kPrivacy, "opposition"},
          Said{"es-MX",
               "mis datos están mal, corrijan mis datos",
               Intent::kPrivacy,
               "rectification"},
          Said{"es-MX", "me pasan su aviso de privacidad", Intent::kPrivacy, "notice"},
          Said{"en-US", "delete my personal data", Intent::kPrivacy, "cancellation"},
          Said{"en-US", "what data do you have about me", Intent::kPrivacy, "access"},
          Said{"es-MX", "no reconozco esa deuda", Intent::kDispute, "not_mine"},
          Said{"es-MX", "me estan hostigando", Intent::kDispute, "treatment"},
          Said{"en-US", "this is identity theft", Intent::kDispute, "identity_theft"},
          Said{"en-US", "the amount is wrong", Intent::kDispute, "wrong_amount"}}) {
        INFO(r.text);
        const Understanding u = Understand(r.text, r.locale, *ParseIsoDate("2026-11-23"));
        CHECK(u.intent == r.intent);
        CHECK((r.intent == Intent::kPrivacy ? u.entities.right : u.entities.category) == r.entity);
    }
    // Payment data are not personal data requests; BAJA stays an opt-out.
    CHECK(Understand("pásame los datos para pagar", "es-MX", *ParseIsoDate("2026-11-23")).intent ==
          Intent::kPaymentReference);
    CHECK(Understand("BAJA", "es-MX", *ParseIsoDate("2026-11-23")).intent == Intent::kOptOut);
    CHECK(ToJson(Understand("borren mis datos", "es-MX", *ParseIsoDate("2026-11-23"))) ==
          R"({"intent":"privacy","confidence":0.98,"entities":{"right":"cancellation"}})");
}

}  // namespace
}  // namespace cobrador::dialogs
