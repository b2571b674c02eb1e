#include "templates/catalog.hpp"

#include <filesystem>
#include <fstream>
#include <set>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "dialogs/reminders.hpp"

namespace cobrador::templates {
namespace {

using std::chrono::day;
using std::chrono::month;
using std::chrono::year;

const dialogs::Date kFriday{year(2026), month(11), day(27)};

TEST_CASE("Catalog: both locales say the same things", "[templates][catalog]") {
    const auto es = Keys("es-MX");
    CHECK(es.size() >= 30);
    CHECK(es == Keys("en-US"));
}

TEST_CASE("Catalog: every message renders in both locales with typical arguments",
          "[templates][catalog]") {
    const Args args = {{"company", std::string("Financiera Prueba")},
                       {"name", std::string("María")},
                       {"account", std::string("A-1001")},
                       {"amount", Money{150000, "MXN"}},
                       {"balance", Money{1234567, "MXN"}},
                       {"down", std::string("none")},
                       {"date", kFriday},
                       {"days", std::int64_t{12}},
                       {"count", std::int64_t{3}},
                       {"clabe", std::string("032180000118359719")},
                       {"reference", std::string("0042176")},
                       {"concept", std::string("PAGO REF 0042176")},
                       {"link", std::string("https://pagos.example.mx/r/0042176")},
                       {"store_reference", std::string("000020TRNIRKIYOBO5QFEX55EF0100009")},
                       {"split", std::string("uneven")},
                       {"phone", std::string("+52 55 1234 5678")},
                       {"hours", std::string("lunes a viernes de 9 a 18 h")},
                       {"big_count", std::int64_t{3}},
                       {"small", Money{126307, "MXN"}},
                       {"small_count", std::int64_t{3}},
                       {"last", kFriday},
                       {"folio", std::string("Q-2026-000001")},
                       {"due", kFriday},
                       {"category", std::string("not_mine")},
                       {"right", std::string("access")},
                       {"stopped", std::string("no")},
                       {"url", std::string("https://financiera.example/privacidad")},
                       {"privacy", std::string("https://financiera.example/privacidad")},
                       {"resolution", std::string("Corregimos el saldo.")},
                       {"agent", std::string("Ana Ruiz")}};
    for (const std::string& locale : Locales()) {
        for (const std::string& key : Keys(locale)) {
            const auto text = Render(locale, key, args);
            INFO(locale << " " << key);
            REQUIRE(text);
            CHECK_FALSE(text->empty());
            CHECK(text->find('{') == std::string::npos);  // nothing left unfilled
        }
    }
}

TEST_CASE("Catalog: money, dates and plurals per locale", "[templates][catalog]") {
    const auto line = Render("es-MX",
                             "balance_line",
                             {{"account", std::string("A-1001")},
                              {"amount", Money{1234567, "MXN"}},
                              {"date", kFriday},
                              {"days", std::int64_t{1}}});
    REQUIRE(line);
    CHECK(*line ==
          "• Cuenta A-1001: $12,345.67, vencía el viernes, 27 de noviembre de 2026, 1 día "
          "de atraso.");
    const auto many = Render("es-MX",
                             "balance_line",
                             {{"account", std::string("A-1001")},
                              {"amount", Money{1234567, "MXN"}},
                              {"date", kFriday},
                              {"days", std::int64_t{45}}});
    CHECK(many->find("45 días de atraso") != std::string::npos);
    const auto en =
        Render("en-US", "promise_confirm", {{"amount", Money{200000, "USD"}}, {"date", kFriday}});
    CHECK(en ==
          std::optional<std::string>(
              "Got it.\nYou would pay $2,000.00 on Friday, November 27, 2026. Is that right?"));
    CHECK(Render("es-MX", "verify_failed", {{"count", std::int64_t{1}}})
              ->find("Te queda 1 intento") != std::string::npos);
    CHECK(Render("es-MX", "verify_failed", {{"count", std::int64_t{2}}})
              ->find("Te quedan 2 intentos") != std::string::npos);
    CHECK(FormatDate(kFriday, "es-MX") == "viernes, 27 de noviembre de 2026");
}

TEST_CASE("Catalog: first contact names the creditor and says nothing of a debt",
          "[templates][catalog]") {
    for (const std::string& locale : Locales()) {
        const auto text = Render(locale, "greeting_verify", {{"company", std::string("ACME")}});
        REQUIRE(text);
        CHECK(text->find("ACME") != std::string::npos);
        for (const char* word : {"deuda", "adeudo", "saldo", "debt", "balance", "$", "pago"}) {
            CHECK(text->find(word) == std::string::npos);
        }
    }
}

TEST_CASE("Catalog: lock-screen previews never show a debt", "[templates][catalog]") {
    // The first line of every message, rendered with an amount, holds no money.
    const Args args = {{"amount", Money{150000, "MXN"}},
                       {"balance", Money{150000, "MXN"}},
                       {"date", kFriday},
                       {"days", std::int64_t{3}},
                       {"count", std::int64_t{3}},
                       {"down", std::string("none")},
                       {"company", std::string("ACME")},
                       {"name", std::string("Ana")},
                       {"account", std::string("A-1")},
                       {"clabe", std::string("0")},
                       {"reference", std::string("0")},
                       {"concept", std::string("0")},
                       {"link", std::string("0")},
                       {"split", std::string("even")},
                       {"phone", std::string("none")},
                       {"hours", std::string("none")},
                       {"big_count", std::int64_t{3}},
                       {"small", Money{150000, "MXN"}},
                       {"small_count", std::int64_t{0}},
                       {"last", kFriday},
                       {"agent", std::string("Ana")}};
    // balance_line*, offer_discount, offer_plan and link_soon only ever follow a neutral line.
    for (const std::string& locale : Locales()) {
        for (const std::string& key : Keys(locale)) {
            if (key.starts_with("balance_line") || key == "offer_discount" || key == "offer_plan" ||
                key == "link_soon") {
                continue;
            }
            const auto text = Render(locale, key, args);
            REQUIRE(text);
            const std::string first = text->substr(0, text->find('\n'));
            INFO(locale << " " << key << ": " << first);
            CHECK(first.find("$") == std::string::npos);
        }
    }
}

TEST_CASE("Catalog: unknown keys and locales", "[templates][catalog]") {
    CHECK_FALSE(Render("es-MX", "no_such_message", {}));
    CHECK(Render("fr-FR", "escalated", {{"company", std::string("X")}}) ==
          Render("es-MX", "escalated", {{"company", std::string("X")}}));
}

}  // namespace
}  // namespace cobrador::templates

namespace cobrador::templates {
namespace {

std::size_t CodePoints(const std::string& text) {
    std::size_t n = 0;
    for (const char c : text) {
        n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
    }
    return n;
}

TEST_CASE("Catalog: option titles fit WhatsApp's button limit (20 characters)",
          "[templates][catalog]") {
    for (const std::string& locale : Locales()) {
        int titles = 0;
        for (const std::string& key : Keys(locale)) {
            const bool title = (key.starts_with("menu_") && key != "menu_prompt") ||
                               key.starts_with("option_") || key.starts_with("offer_accept_");
            if (!title) {
                continue;
            }
            ++titles;
            const auto text = Render(locale, key, {});
            REQUIRE(text);
            INFO(locale << " " << key << ": " << *text);
            CHECK(CodePoints(*text) <= 20);
        }
        CHECK(titles >= 10);
    }
}

TEST_CASE("Catalog: a dialog reply renders its lines and titled options", "[templates][catalog]") {
    dialogs::Reply reply;
    reply.lines = {{"promise_confirm", {{"amount", Money{150000, "MXN"}}, {"date", kFriday}}}};
    reply.options = {{"yes", "option_yes"}, {"no", "option_no"}};
    const auto es = RenderReply(reply, "es-MX");
    CHECK(es.text ==
          "Entendido.\nPagarías $1,500.00 el viernes, 27 de noviembre de 2026. ¿Es correcto?");
    REQUIRE(es.options.size() == 2);
    CHECK(es.options[0].id == "yes");
    CHECK(es.options[0].title == "Sí");
    CHECK(es.list_button == "Opciones");
    CHECK(RenderReply(reply, "en-US").options[0].title == "Yes");
    reply.lines.push_back({"no_such_key", {}});
    CHECK(
        RenderReply(reply, "es-MX").text.ends_with("\nno_such_key"));  // a bug shows, the rest goes
}

}  // namespace
}  // namespace cobrador::templates

namespace cobrador::templates {
namespace {

std::string ReplaceAll(std::string text, const std::string& from, const std::string& to) {
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
        text.replace(at, from.size(), to);
    }
    return text;
}

TEST_CASE("WhatsApp templates in deploy/ say what the code sends, for every template it uses",
          "[templates][catalog]") {
    const std::filesystem::path dir =
        std::filesystem::path(COBRADOR_SOURCE_DIR) / "deploy" / "whatsapp-templates";
    const auto& strategy = dialogs::DefaultReminderStrategy();
    REQUIRE_FALSE(strategy.whatsapp_templates.empty());
    for (const auto& [key, call] : strategy.whatsapp_templates) {
        for (const auto& [language, locale] :
             {std::pair<std::string, std::string>{"es_MX", "es-MX"}, {"en_US", "en-US"}}) {
            const auto file = dir / (call.name + "." + language + ".json");
            INFO(file.string());
            REQUIRE(std::filesystem::exists(file));
            std::ifstream in(file);
            const auto json = nlohmann::json::parse(in);
            CHECK(json["name"] == call.name);
            CHECK(json["language"] == language);
            CHECK(json["category"] == "UTILITY");
            CHECK(json["x-cobrador-message"] == key);
            // {{1}}, {{2}}... are the parameters the code fills, in order.
            std::string body = json["components"][0]["text"];
            Args args;
            for (std::size_t i = 0; i < call.parameters.size(); ++i) {
                const std::string value = "<" + call.parameters[i] + ">";
                body = ReplaceAll(body, "{{" + std::to_string(i + 1) + "}}", value);
                args.emplace_back(call.parameters[i], value);
            }
            const auto rendered = Render(locale, key, args);
            REQUIRE(rendered);
            CHECK(body == *rendered);
            // No amount in a template: it goes to whoever holds the phone.
            CHECK(body.find('$') == std::string::npos);
            // Every message we start to collect says how to stop them.
            if (key.rfind("reminder_", 0) == 0 || key == "promise_broken") {
                CHECK(body.find(language == "es_MX" ? "responde BAJA" : "reply STOP") !=
                      std::string::npos);
            }
        }
    }
}

TEST_CASE("Catalog: a pattern from outside renders like the catalog's, and names its arguments",
          "[templates]") {
    const std::string pattern = "Hola{name, select, none {} other { {name}}}: debes {balance}.";
    const auto names = PatternArguments(pattern);
    REQUIRE(names);
    CHECK(*names == std::set<std::string>{"balance", "name"});  // the nested one too
    CHECK(RenderPattern("es-MX",
                        pattern,
                        {{"name", std::string("María")}, {"balance", Money{123456, "MXN"}}}) ==
          std::optional<std::string>("Hola María: debes $1,234.56."));
    CHECK(RenderPattern(
              "en-US", pattern, {{"name", std::string("none")}, {"balance", Money{500, "MXN"}}})
              ->rfind("Hola: debes ", 0) == 0);
    CHECK_FALSE(PatternArguments("Hola {name"));
    CHECK_FALSE(RenderPattern("es-MX", "Hola {name", {}));
}

}  // namespace
}  // namespace cobrador::templates
