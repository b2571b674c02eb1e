// The first hour with cobrador (issue 21): `serve --demo` as a newcomer runs it from the README,
// the front door, the version, the favicon, the demo's debtors, the sandbox phone with the
// README's own spaced number format, greeting whoever the number belongs to, and a simulated
// payment that goes through the payments webhook's own path. Then the same page in Chromium at
// laptop and phone sizes.

#include <cstdlib>
#include <filesystem>
#include <regex>

#include "e2e_support.hpp"
#include "support/http_client.hpp"
#include "webdriver.hpp"

namespace cobrador::testing {
namespace {

using json = nlohmann::json;

std::uint16_t PortOf(const std::string& out) {
    std::smatch match;
    REQUIRE(std::regex_search(out, match, std::regex(R"(listening on http://127\.0\.0\.1:(\d+))")));
    return static_cast<std::uint16_t>(std::stoi(match[1]));
}

// `serve --demo` in a fresh folder, with the day pinned.
struct Demo {
    TempDir dir;
    Child server{{"serve", "--demo"},
                 {{"COBRADOR_LISTEN", "127.0.0.1:0"}, {"COBRADOR_TODAY", "2026-11-23"}},
                 dir.Path().string()};
    std::string printed = server.WaitForOutput("demo debtors");
    std::uint16_t port = PortOf(printed);

    HttpResponse Post(const std::string& target, const json& body) const {
        return HttpRequest(
            port, "POST", target, body.dump(), {{"Content-Type", "application/json"}});
    }

    json Messages(const std::string& query) const {
        const auto res = HttpRequest(port, "GET", "/sandbox/messages?" + query);
        INFO(res.body);
        REQUIRE(res.status == 200);
        return json::parse(res.body);
    }

    // Waits until the sandbox conversation of `phone` shows `text`.
    json WaitForText(const std::string& query, const std::string& text) const {
        for (int i = 0; i < 200; ++i) {
            const json got = Messages(query);
            if (got.dump().find(text) != std::string::npos) {
                return got;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        FAIL("the sandbox never showed " << text);
        return {};
    }
};

TEST_CASE("demo: the front door, the version, the debtors to play, the README's phone format",
          "[bot][demo][integration][sqlite]") {
    const auto version = RunCobrador({"--version"});
    CHECK(version.exit_code == 0);
    CHECK(std::regex_match(version.out, std::regex("cobrador [0-9]+\\.[0-9]+\\.[0-9]+\n")));

    Demo demo;
    // serve --demo prints whom to play: number as the README writes it, and birth date.
    demo.server.WaitForOutput("Ricardo Ortiz");
    const std::string out = demo.server.Stdout();
    CHECK(out.find("+52 1 555 000 1002  02/11/1979  José Ángel Hernández (45 días de atraso, "
                   "$8420.50)") != std::string::npos);
    CHECK(out.find("+52 1 555 000 1001  15/03/1985  María Fernanda López (12 días de atraso, "
                   "$12345.67; vence en 5 días, $2500.00)") != std::string::npos);
    CHECK(out.find("+1 212 555 0101  24/12/1990  Emily Johnson (20 days past due") !=
          std::string::npos);

    // GET / says what this is and links the console and the phone.
    const auto home = HttpRequest(demo.port, "GET", "/");
    CHECK(home.status == 200);
    CHECK(home.headers.at("content-type").rfind("text/html", 0) == 0);
    CHECK(home.body.find("href=\"/console/\"") != std::string::npos);
    CHECK(home.body.find("href=\"/console/phone.html\"") != std::string::npos);
    CHECK(home.body.find(version.out.substr(0, version.out.size() - 1)) != std::string::npos);
    CHECK(HttpRequest(demo.port, "GET", "/nothing-here").status == 404);  // "/" is only "/"
    const auto icon = HttpRequest(demo.port, "GET", "/favicon.ico");
    CHECK(icon.status == 200);
    CHECK(icon.headers.at("content-type") == "image/svg+xml");
    CHECK(icon.body.find("<svg") == 0);
    CHECK(HttpRequest(demo.port, "GET", "/console/favicon.svg").status == 200);

    const auto debtors = json::parse(HttpRequest(demo.port, "GET", "/sandbox/debtors").body);
    REQUIRE(debtors["debtors"].size() == 7);
    CHECK(debtors["debtors"][1]["phone_shown"] == "+52 1 555 000 1002");
    CHECK(debtors["debtors"][1]["birth_date"] == "02/11/1979");

    // The page asks with encodeURIComponent: spaces are %20, "+" is %2B. José, not María.
    CHECK(
        demo.Post("/sandbox/messages", {{"from", "+52 1 555 000 1002"}, {"text", "hola"}}).status ==
        200);
    const json jose = demo.WaitForText("phone=%2B52%201%20555%20000%201002", "fecha de nacimiento");
    CHECK(jose["phone"] == "+525550001002");
    CHECK(jose["debtor"]["name"] == "José Ángel Hernández");
    CHECK(jose["debtor"]["birth_date"] == "1979-11-02");
    // Typed in the address bar, the "+" arrives as a space; the answer is the same.
    CHECK(demo.Messages("phone=+52%201%20555%20000%201002")["debtor"]["name"] ==
          "José Ángel Hernández");
    // A number of no one, and one that is not a number.
    CHECK(demo.Messages("phone=%2B52%201%20555%20000%209999")["debtor"].is_null());
    const auto bad = HttpRequest(demo.port, "GET", "/sandbox/messages?phone=hola");
    CHECK(bad.status == 400);
    CHECK(json::parse(bad.body)["error"].get<std::string>().find("código de país") !=
          std::string::npos);
}

TEST_CASE("demo: a simulated payment goes the payments webhook's way and the bot thanks",
          "[bot][demo][integration][sqlite]") {
    Demo demo;
    const std::string jose = "phone=%2B52%201%20555%20000%201002";
    demo.Post("/sandbox/messages", {{"from", "+52 1 555 000 1002"}, {"text", "hola"}});
    demo.WaitForText(jose, "fecha de nacimiento");
    demo.Post("/sandbox/messages", {{"from", "+52 1 555 000 1002"}, {"text", "02/11/1979"}});
    demo.WaitForText(jose, "José");

    // Bad requests change nothing.
    CHECK(demo.Post("/sandbox/payments", {{"phone", "+52 1 555 000 1002"}, {"amount", "-5"}})
              .status == 400);
    CHECK(demo.Post("/sandbox/payments", {{"phone", "+52 1 555 000 9999"}}).status == 404);
    CHECK(demo.Post("/sandbox/payments", {{"phone", "nadie"}}).status == 400);
    CHECK(HttpRequest(
              demo.port, "POST", "/sandbox/payments", "{", {{"Content-Type", "application/json"}})
              .status == 400);
    // Not JSON (a form another site could post): refused before anything is read.
    CHECK(HttpRequest(demo.port,
                      "POST",
                      "/sandbox/payments",
                      R"({"phone": "+52 1 555 000 1002"})",
                      {{"Content-Type", "text/plain"}})
              .status == 415);
    Probe ledger(demo.dir.File("cobrador-demo.db"));
    CHECK(ledger.Count("SELECT count(*) FROM payments") == 0);

    const auto paid =
        demo.Post("/sandbox/payments", {{"phone", "+52 1 555 000 1002"}, {"amount", "500.00"}});
    INFO(paid.body);
    REQUIRE(paid.status == 200);
    CHECK(json::parse(paid.body)["status"] == "applied");
    CHECK(ledger.Text("SELECT amount_cents || ' ' || method || ' ' || source || ' ' || status "
                      "FROM payments") == "50000 demo webhook applied");
    CHECK(ledger.Count("SELECT balance_cents FROM accounts WHERE account_key = 'DEMO-1003'") ==
          792050);
    demo.WaitForText(jose, "500.00");  // the thank-you, in the chat

    // All of the rest: the account is paid, and a further payment is refused.
    CHECK(demo.Post("/sandbox/payments", {{"phone", "+52 1 555 000 1002"}}).status == 200);
    CHECK(ledger.Count("SELECT balance_cents FROM accounts WHERE account_key = 'DEMO-1003'") == 0);
    CHECK(demo.Post("/sandbox/payments", {{"phone", "+52 1 555 000 1002"}}).status == 409);
}

TEST_CASE("demo phone in Chromium: pick a debtor, be greeted as them, pay from the page",
          "[bot][demo][browser][integration][sqlite]") {
    Demo demo;
    const std::string base = "http://127.0.0.1:" + std::to_string(demo.port);
    WebDriver browser(demo.dir.File("browser"));
    browser.Go(base + "/console/phone.html");
    browser.WaitUntil([&] { return browser.Find("#phone-pick option").has_value(); },
                      "the demo's debtors");

    // The README's spaced format, typed in: no error, José's name, and the bot's answer.
    browser.Script(
        "const p = document.getElementById('phone'); p.value = '+52 1 555 000 1002';"
        "p.dispatchEvent(new Event('change'));");
    browser.WaitUntil(
        [&] {
            return browser.Text("#phone-who").find("José Ángel Hernández") != std::string::npos;
        },
        "José's greeting");
    CHECK(browser.Text("#phone-who").find("02/11/1979") != std::string::npos);
    // The list follows the number, however it is spaced.
    CHECK(browser.Script("return document.getElementById('phone-pick').selectedIndex;") == 1);
    browser.Type("#phone-text", "hola");
    browser.Click("#phone-send");
    browser.WaitUntil(
        [&] { return browser.Text("#phone-log").find("fecha de nacimiento") != std::string::npos; },
        "the bot's greeting");
    CHECK(browser.Text("#phone-error").empty());
    browser.Type("#phone-text", "02/11/1979");
    browser.Click("#phone-send");
    browser.WaitUntil(
        [&] { return browser.Text("#phone-log").find("Gracias, José") != std::string::npos; },
        "the verified menu");

    // Paying from the page.
    browser.Type("#pay-amount", "$1,000");
    browser.Click("#pay-send");
    browser.WaitUntil(
        [&] { return browser.Text("#pay-result").find("Pago registrado") != std::string::npos; },
        "the payment recorded");
    browser.WaitUntil(
        [&] { return browser.Text("#phone-log").find("1,000.00") != std::string::npos; },
        "the thank-you in the chat");
    CHECK(Probe(demo.dir.File("cobrador-demo.db"))
              .Count("SELECT balance_cents FROM accounts WHERE account_key = 'DEMO-1003'") ==
          742050);
    browser.KeepScreenshot("demo-phone-laptop.png");

    // Choosing another debtor from the list greets them instead.
    browser.Script(
        "const s = document.getElementById('phone-pick'); s.value = '+1 212 555 0101';"
        "s.dispatchEvent(new Event('change'));");
    browser.WaitUntil(
        [&] { return browser.Text("#phone-who").find("Emily Johnson") != std::string::npos; },
        "Emily's greeting");

    // On a phone: nothing wider than the screen, the compose box visible.
    browser.SetWindowSize(390, 844);
    const json fits =
        browser.Script("return document.documentElement.scrollWidth <= window.innerWidth + 1;");
    CHECK(fits == true);
    CHECK(browser.Displayed("#phone-text"));
    CHECK(browser.Displayed("#pay-send"));
    browser.KeepScreenshot("demo-phone-small.png");

    for (const std::string& line : browser.PageErrors()) {
        FAIL_CHECK(line);
    }
}

}  // namespace
}  // namespace cobrador::testing
