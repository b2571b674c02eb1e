// The console in a real browser: Debian's headless Chromium, driven through chromedriver,
// against the real server. A collector signs in, claims an escalated conversation, replies,
// the reply reaches the (fake) Graph API, and the debtor's answer appears live. Screenshots are
// saved beside the test (COBRADOR_SCREENSHOT_DIR, else the working directory) to look at.

#include <cstdlib>
#include <filesystem>

#include "dialogs/calendar.hpp"
#include "dialogs/contact.hpp"
#include "dialogs/reference.hpp"

#include "e2e_support.hpp"
#include "webdriver.hpp"

namespace cobrador::testing {
namespace {

using json = nlohmann::json;

TEST_CASE(
    "console in Chromium: sign in, claim an escalated conversation, reply, see the debtor "
    "answer live, hand back",
    "[bot][console][browser][integration]") {
    Desk desk;
    const std::int64_t id = desk.Escalate();
    const std::size_t bot_replies = desk.graph.WaitForRequests(3).size();
    const std::string base = "http://127.0.0.1:" + std::to_string(desk.setup.port);
    const std::string item = "#queue .queue-item[data-id=\"" + std::to_string(id) + "\"]";

    WebDriver browser(desk.setup.dir.File("browser"));
    browser.Go(base + "/console/");

    // A wrong token is refused on the page; the right one signs in.
    browser.Type("#token", "cbr_not-a-token");
    browser.Click("#sign-in");
    browser.WaitUntil([&] { return !browser.Text("#signin-error").empty(); },
                      "an error for a wrong token");
    CHECK_FALSE(browser.Displayed("#main"));
    browser.Script("document.getElementById('token').value = '';");
    browser.Type("#token", desk.collector);
    browser.Click("#sign-in");
    browser.WaitUntil([&] { return browser.Displayed("#main"); }, "the main view");
    CHECK(browser.Text("#who").find("Ana Ruiz") != std::string::npos);

    // The queue shows the escalated conversation with its reason.
    browser.WaitUntil([&] { return browser.Find(item).has_value(); }, "the queue item");
    const std::string queued = browser.Text(item);
    CHECK(queued.find("María López") != std::string::npos);
    CHECK(queued.find("pidió una persona") != std::string::npos);

    browser.Click(item);
    browser.WaitUntil(
        [&] {
            return browser.Script(
                       "return document.getElementById('conversation')"
                       ".getAttribute('data-id')") == std::to_string(id);
        },
        "the open conversation");
    browser.WaitUntil(
        [&] {
            return browser.Text("#transcript").find("quiero hablar con una persona") !=
                   std::string::npos;
        },
        "the transcript");
    CHECK_FALSE(browser.Enabled("#send"));  // not claimed yet
    CHECK(browser.Text("#conv-reason").find("Motivo: pidió una persona") != std::string::npos);

    browser.Click("#claim");
    browser.WaitUntil([&] { return browser.Enabled("#send"); }, "the reply box after claiming");
    CHECK(desk.setup.Query("SELECT state FROM conversations WHERE id = " + std::to_string(id)) ==
          "claimed");

    // The reply goes through the outbox to the provider.
    const std::string reply = "Hola María, soy Ana. ¿Cómo le ayudo?";
    browser.Type("#reply-text", reply);
    browser.Click("#send");
    const auto sent = desk.graph.WaitForRequests(bot_replies + 1);
    CHECK(json::parse(sent.back().body)["text"]["body"] == reply);
    browser.WaitUntil([&] { return browser.Text("#transcript").find(reply) != std::string::npos; },
                      "our reply in the transcript");

    // The debtor answers; the console shows it without a reload (server-sent events).
    desk.Say("quiero pagar en dos partes");
    browser.WaitUntil(
        [&] {
            return browser.Text("#transcript").find("quiero pagar en dos partes") !=
                   std::string::npos;
        },
        "the debtor's answer, live",
        std::chrono::seconds(10));
    CHECK(desk.graph.Requests().size() == bot_replies + 1);  // the bot stayed silent
    browser.KeepScreenshot("console-conversation.png");

    // Readable on a phone: the conversation takes the screen, with a way back to the queue.
    browser.SetWindowSize(390, 844);
    browser.WaitUntil([&] { return browser.Displayed("#back"); }, "the back button on a phone");
    const json overflow =
        browser.Script("return document.documentElement.scrollWidth <= window.innerWidth + 1;");
    CHECK(overflow == true);  // nothing wider than the screen
    browser.KeepScreenshot("console-phone.png");
    browser.SetWindowSize(1280, 900);

    // Hand back to the bot.
    browser.Click("#release");
    desk.setup.WaitFor("SELECT state FROM conversations WHERE id = " + std::to_string(id), "bot");
    browser.WaitUntil([&] { return !browser.Enabled("#send"); }, "the reply box closing");
    // The reason it was escalated is not shown once the bot has it again.
    browser.WaitUntil([&] { return !browser.Displayed("#conv-reason"); },
                      "the reason banner going away");
    // The history reads as words: the reason, who, never the ledger's keys.
    const std::string history =
        browser.Script("return document.getElementById('events-list').textContent;")
            .get<std::string>();
    INFO(history);
    CHECK(history.find("escalada — motivo: pidió una persona") != std::string::npos);
    CHECK(history.find("Tú") != std::string::npos);
    CHECK(history.find("devuelta al bot") != std::string::npos);
    for (const char* raw : {"reason:", "agent_id", "null", "human"}) {
        CHECK(history.find(raw) == std::string::npos);
    }

    // Search finds her in any state (she is with the bot now, out of the queue), by a name
    // typed without its accent; a search that matches nothing says so.
    CHECK_FALSE(browser.Find(item).has_value());
    browser.Type("#search", "pedro");
    browser.WaitUntil(
        [&] {
            return browser.Text("#search-note").find("Nada coincide con «pedro»") !=
                   std::string::npos;
        },
        "a search that finds nothing");
    CHECK_FALSE(browser.Find(item).has_value());
    browser.Script("document.getElementById('search').value = '';");
    browser.Type("#search", "lopez");
    browser.WaitUntil([&] { return browser.Find(item).has_value(); }, "María, found by search");
    CHECK(browser.Text("#search-note").find("1 conversación coincide con «lopez»") !=
          std::string::npos);
    // Escape ends the search: the queue's own tab again, where she is not.
    browser.Type("#search", "\xEE\x80\x8C");  // WebDriver's Escape key
    browser.WaitUntil(
        [&] { return !browser.Find(item).has_value() && !browser.Displayed("#search-note"); },
        "the queue again");

    // "Promesas de hoy": nobody's promise is due on the creditor's day yet; once María's is,
    // her conversation is listed.
    browser.Click(".tab[data-state=\"promises\"]");
    browser.WaitUntil(
        [&] {
            return browser.Displayed("#queue-empty") &&
                   browser.Text("#queue-empty") == "Ninguna promesa vigente vence hoy.";
        },
        "an empty list of promises due today");
    // The creditor's calendar day (Mexico City), as the console reckons it: not the browser's
    // (Tokyo, most of the day a date ahead).
    const std::string today =
        browser
            .Script(
                "return new Intl.DateTimeFormat('en-CA', {timeZone: 'America/Mexico_City', "
                "year: 'numeric', month: '2-digit', day: '2-digit'}).format(new Date());")
            .get<std::string>();
    Probe(desk.setup.db)
        .Exec(
            "INSERT INTO promises (account_id, conversation_id, amount_cents, currency, "
            "due_date, status, created_at) VALUES ((SELECT id FROM accounts WHERE account_key "
            "= 'A-1001'), " +
            std::to_string(id) + ", 50000, 'MXN', '" + today + "', 'open', '2026-11-23')");
    browser.Click(".tab[data-state=\"promises\"]");
    browser.WaitUntil([&] { return browser.Find(item).has_value(); },
                      "María among the promises due today");

    // The page broke no content-security rule and threw no script error on the way.
    for (const std::string& line : browser.PageErrors()) {
        FAIL_CHECK(line);
    }
}

TEST_CASE(
    "console in Chromium: the holder records a promise and a plan, told the policy's limit "
    "in Spanish",
    "[bot][console][browser][integration]") {
    // María: $12,345.67, 53 days late on 23 November; promises up to 8 December, up to 6
    // instalments.
    Desk desk;
    const std::int64_t id = desk.Escalate();
    const std::string item = "#queue .queue-item[data-id=\"" + std::to_string(id) + "\"]";
    WebDriver browser(desk.setup.dir.File("browser"));
    browser.Go("http://127.0.0.1:" + std::to_string(desk.setup.port) + "/console/");
    browser.Type("#token", desk.collector);
    browser.Click("#sign-in");
    browser.WaitUntil([&] { return browser.Find(item).has_value(); }, "the queue item");
    browser.Click(item);
    browser.WaitUntil([&] { return browser.Displayed("#claim"); }, "the open conversation");
    CHECK_FALSE(browser.Displayed("#agreement-section"));  // not hers yet
    browser.Click("#claim");
    browser.WaitUntil([&] { return browser.Displayed("#agreement-section"); },
                      "the agreement form once she holds it");
    CHECK(browser.Text("#agreement-hint").find("supervisor") != std::string::npos);
    CHECK_FALSE(browser.Displayed("#agreement-account-field"));  // one account owes

    // A promise past the horizon: refused, with the limit in words.
    browser.Type("#agreement-amount", "$2,000");
    browser.Script("document.getElementById('agreement-date').value = '2026-12-15';");
    browser.Click("#agreement-save");
    browser.WaitUntil(
        [&] { return browser.Text("#notice").find("permite promesas hasta") != std::string::npos; },
        "the policy's limit");
    CHECK(browser.Text("#notice").find("Un supervisor puede autorizarlo") != std::string::npos);
    CHECK(desk.setup.Query("SELECT count(*) FROM promises") == "0");

    // Inside it: recorded, and listed with the conversation.
    browser.Script("document.getElementById('agreement-date').value = '2026-12-05';");
    browser.Click("#agreement-save");
    browser.WaitUntil(
        [&] { return browser.Text("#notice").find("registrada") != std::string::npos; },
        "the promise recorded");
    CHECK(browser.Text("#notice").find("2,000.00") != std::string::npos);
    desk.setup.WaitFor("SELECT amount_cents || ' ' || due_date FROM promises", "200000 2026-12-05");
    browser.WaitUntil([&] { return browser.Displayed("#promises-section"); }, "the promise listed");

    // A plan of 6 instalments: the down payment and six more, listed.
    browser.Script(
        "const k = document.getElementById('agreement-kind'); k.value = 'installments';"
        "k.dispatchEvent(new Event('change'));");
    CHECK_FALSE(browser.Displayed("#agreement-date-field"));
    browser.Script("document.getElementById('agreement-count').value = '6';");
    browser.Click("#agreement-save");
    browser.WaitUntil(
        [&] {
            return browser.Text("#notice").find("Plan de 7 pagos registrado") != std::string::npos;
        },
        "the plan recorded");
    browser.WaitUntil(
        [&] {
            return browser.Script(
                       "return document.querySelectorAll('#plans .installments li').length;") ==
                   json(7);
        },
        "the plan's seven payments listed");
    CHECK(desk.setup.Query("SELECT count(*) FROM plan_installments") == "7");
    browser.KeepScreenshot("console-agreement.png");

    // A canned reply confirms the promise in words, filled in; the collector reads and sends it.
    browser.Click("#canned-toggle");
    browser.WaitUntil([&] { return browser.Displayed("#canned-menu"); }, "the canned replies");
    CHECK(browser.Text("#canned-menu").find("Cómo pagar") != std::string::npos);
    browser.Click("#canned-menu button[data-id=\"promise\"]");
    const std::string filled =
        browser.Script("return document.getElementById('reply-text').value;").get<std::string>();
    CHECK(filled.rfind("Gracias, María. Queda registrado tu compromiso de pago", 0) == 0);
    CHECK(filled.find("$2,000.00") != std::string::npos);
    CHECK_FALSE(browser.Displayed("#canned-menu"));
    const std::size_t before = desk.graph.Requests().size();
    browser.Click("#send");
    const auto sent = desk.graph.WaitForRequests(before + 1);
    CHECK(json::parse(sent.back().body)["text"]["body"] == filled);
    for (const std::string& line : browser.PageErrors()) {
        FAIL_CHECK(line);
    }
}

TEST_CASE(
    "console in Chromium: a collector starts a shift, is handed the next escalation, and sees "
    "a supervisor end the shift",
    "[bot][console][browser][integration]") {
    Desk desk;
    const std::string base = "http://127.0.0.1:" + std::to_string(desk.setup.port);
    const std::string ana = desk.setup.Query("SELECT id FROM agents WHERE name = 'Ana Ruiz'");
    WebDriver browser(desk.setup.dir.File("browser"));
    browser.Go(base + "/console/");
    browser.Type("#token", desk.collector);
    browser.Click("#sign-in");
    browser.WaitUntil([&] { return browser.Displayed("#main"); }, "the main view");
    CHECK(browser.Text("#shift") == "Empezar turno");

    browser.Click("#shift");
    browser.WaitUntil([&] { return browser.Text("#who").find("en turno") != std::string::npos; },
                      "on shift");
    CHECK(browser.Text("#shift") == "Terminar turno");
    CHECK(desk.setup.Query(
              "SELECT count(*) FROM agents WHERE on_shift_since IS NOT NULL AND id = " + ana) ==
          "1");

    // María asks for a person: it is Ana's, and her console says so without a reload.
    desk.Verify();
    desk.Say("quiero hablar con una persona");
    desk.setup.WaitFor("SELECT assigned_agent_id FROM conversations WHERE phone = '+525512345678'",
                       ana);
    browser.WaitUntil(
        [&] {
            return browser.Text("#notice").find("Te asignaron una conversación: María López") !=
                   std::string::npos;
        },
        "the notice of the conversation handed out",
        std::chrono::seconds(10));
    browser.Click(".tab[data-state=\"mine\"]");
    browser.WaitUntil(
        [&] { return browser.Text("#queue").find("María López") != std::string::npos; },
        "her conversation under Mías");
    browser.Click("#queue .queue-item");
    // The history says how it came to her; the reply box is open: it is hers.
    browser.WaitUntil(
        [&] {
            return browser.Script("return document.getElementById('events-list').textContent;")
                       .get<std::string>()
                       .find("asignada por turno") != std::string::npos;
        },
        "the history of the conversation handed out");
    CHECK(browser.Enabled("#send"));
    // Times are the creditor's (Mexico City, the default), not the browser's (Tokyo).
    const auto said = dialogs::ParseIsoInstant(desk.setup.Query(
        "SELECT created_at FROM messages WHERE direction = 'in' ORDER BY id DESC LIMIT 1"));
    REQUIRE(said);
    const dialogs::LocalTime local = dialogs::ToLocal(*said, "America/Mexico_City");
    const int hour = (local.minute_of_day / 60 + 11) % 12 + 1;
    const int minute = local.minute_of_day % 60;
    const std::string clock =
        std::to_string(hour) + ":" + (minute < 10 ? "0" : "") + std::to_string(minute);
    INFO(clock);
    CHECK(browser.Text("#transcript").find(clock) != std::string::npos);
    CHECK(browser.Script("return document.getElementById('who').title;") ==
          "Horas y días en America/Mexico_City");
    browser.KeepScreenshot("console-shift.png");

    // The supervisor ends her shift from elsewhere: her console shows it live.
    REQUIRE(
        desk.api.Post("/api/v1/agents/" + ana + "/shift", desk.supervisor, {{"on_shift", false}})
            .status == 200);
    browser.WaitUntil([&] { return browser.Text("#shift") == "Empezar turno"; },
                      "the shift ended, live",
                      std::chrono::seconds(10));
    CHECK(browser.Text("#who").find("en turno") == std::string::npos);
    for (const std::string& line : browser.PageErrors()) {
        FAIL_CHECK(line);
    }
}

TEST_CASE("console in Chromium: room to work on a 1366 px laptop and on a phone",
          "[bot][console][browser][integration]") {
    // A supervisor (the most controls) on a conversation someone holds, with a long name.
    Desk desk;
    Probe(desk.setup.db)
        .Exec("UPDATE debtors SET name = 'María Guadalupe Fernández de la Concepción Hernández'");
    const std::int64_t id = desk.Escalate();
    REQUIRE(desk.api.Post(desk.Path(id, "claim"), desk.collector).status == 200);
    const std::string item = "#queue .queue-item[data-id=\"" + std::to_string(id) + "\"]";
    WebDriver browser(desk.setup.dir.File("browser"));
    browser.SetWindowSize(1366, 768);
    browser.Go("http://127.0.0.1:" + std::to_string(desk.setup.port) + "/console/");
    browser.Type("#token", desk.supervisor);
    browser.Click("#sign-in");
    browser.WaitUntil([&] { return browser.Displayed("#main"); }, "the main view");
    browser.Click(".tab[data-state=\"all\"]");
    browser.WaitUntil([&] { return browser.Find(item).has_value(); }, "the queue item");
    browser.Click(item);
    browser.WaitUntil([&] { return browser.Displayed("#accounts-section"); }, "the accounts");
    const auto number = [&](const std::string& script) {
        return browser.Script("return " + script + ";").get<double>();
    };
    const auto fits = [&](const std::string& selector) {
        return browser
            .Script("const e = document.querySelector('" + selector +
                    "'); return e.scrollWidth <= e.clientWidth + 1;")
            .get<bool>();
    };
    // The accounts table whole, without a sideways scroll.
    CHECK(fits("#accounts-section .table-wrap"));
    // Room to read the chat: at least 300 px of messages on a 768 px screen.
    const double transcript = number("document.getElementById('transcript').clientHeight");
    INFO("transcript height " << transcript);
    CHECK(transcript >= 300);
    // The debtor's whole name, in the header and in the queue.
    CHECK(fits("#conv-name"));
    CHECK(browser.Text(item).find("María Guadalupe Fernández de la Concepción Hernández") !=
          std::string::npos);
    // A notice never covers the reply box or its buttons.
    browser.Script("document.getElementById('disposition').value = '';");
    browser.Click("#close");  // no outcome chosen: an error notice
    browser.WaitUntil([&] { return browser.Displayed("#notice"); }, "a notice");
    const bool covers =
        browser
            .Script(
                "const n = document.getElementById('notice').getBoundingClientRect();"
                "return ['reply-text', 'send', 'canned-toggle'].some((id) => {"
                "  const r = document.getElementById(id).getBoundingClientRect();"
                "  return r.width > 0 && n.left < r.right && r.left < n.right &&"
                "         n.top < r.bottom && r.top < n.bottom; });")
            .get<bool>();
    CHECK_FALSE(covers);
    browser.KeepScreenshot("console-1366.png");

    // On a phone: no keyboard shortcut offered, nothing wider than the screen.
    browser.SetWindowSize(390, 844);
    browser.WaitUntil([&] { return browser.Displayed("#back"); }, "the phone layout");
    CHECK(browser.Script("return document.getElementById('reply-text').placeholder;")
              .get<std::string>()
              .find("Ctrl") == std::string::npos);
    CHECK(browser.Script("return document.documentElement.scrollWidth <= window.innerWidth + 1;")
              .get<bool>());
    browser.KeepScreenshot("console-phone-supervisor.png");
    for (const std::string& line : browser.PageErrors()) {
        FAIL_CHECK(line);
    }
}

TEST_CASE("console in Chromium: the reports view charts what came in",
          "[bot][console][browser][integration]") {
    Desk desk;
    const std::string reference = *dialogs::PaymentReference(
        std::stoll(desk.setup.Query("SELECT id FROM accounts WHERE account_key = 'A-2002'")));
    const std::string statement = desk.setup.dir.File("statement.csv");
    std::ofstream(statement) << "payment_id,reference,amount,currency,paid_at\n"
                             << "R-1," << reference << ",300.00,MXN,2026-11-20T10:00:00Z\n"
                             << "R-2,55555,20.00,MXN,2026-11-21T10:00:00Z\n";
    REQUIRE(RunCobrador({"import", "payments", "--db", desk.setup.db, statement}).exit_code == 0);
    // One conversation escalated twice (handed back in between) is one escalated conversation.
    const std::int64_t id = desk.Escalate();
    REQUIRE(desk.api.Post(desk.Path(id, "claim"), desk.collector, json::object()).status == 200);
    REQUIRE(desk.api.Post(desk.Path(id, "release"), desk.collector, json::object()).status == 200);
    desk.Say("quiero hablar con una persona");
    desk.setup.WaitFor("SELECT count(*) FROM audit_log WHERE kind = 'escalated'", "2");

    WebDriver browser(desk.setup.dir.File("browser"));
    browser.Go("http://127.0.0.1:" + std::to_string(desk.setup.port) + "/console/");
    browser.Type("#token", desk.supervisor);
    browser.Click("#sign-in");
    browser.WaitUntil([&] { return browser.Displayed("#main"); }, "the main view");
    browser.Click("#nav-reports");
    browser.WaitUntil([&] { return browser.Displayed("#reports"); }, "the reports view");
    // The period that holds the payments.
    browser.Script(
        "document.getElementById('report-from').value = '2026-11-01';"
        "document.getElementById('report-to').value = '2026-11-30';");
    browser.Click("#report-run");
    browser.WaitUntil(
        [&] { return browser.Text("#kpi-collected").find("300.00") != std::string::npos; },
        "the collected figure");
    CHECK(browser.Text("#kpi-suspense").find("1") != std::string::npos);
    CHECK(browser.Text("#kpi-escalations .kpi-label") == "Conversaciones escaladas");
    CHECK(browser.Text("#kpi-escalations .kpi-value") == "1");
    CHECK(browser.Text("#kpi-escalations .kpi-sub") == "2 escalamientos en el periodo");
    // Each chart drew something (an SVG with shapes), and the suspense table lists the payment.
    // No promises in this period: the funnel says so rather than drawing empty bars.
    CHECK(browser.Text("#chart-funnel").find("Sin movimientos") != std::string::npos);
    for (const char* chart : {"#chart-recovery", "#chart-aging"}) {
        INFO(chart);
        CHECK(browser
                  .Script(std::string("return document.querySelectorAll('") + chart + " rect, " +
                          chart + " path, " + chart + " polyline').length;")
                  .get<int>() > 0);
    }
    CHECK(browser.Text("#suspense-table").find("55555") != std::string::npos);
    // Each person's work: Ana took the conversation once.
    const std::string ana = desk.setup.Query("SELECT id FROM agents WHERE name = 'Ana Ruiz'");
    const std::string ana_row = "#agents-report-table tr[data-agent=\"" + ana + "\"]";
    REQUIRE(browser.Displayed("#agents-report"));
    const json cells = browser.Script("return [...document.querySelectorAll('" + ana_row +
                                      " td')].map((td) => td.textContent);");
    REQUIRE(cells.size() == 10);
    CHECK(cells[0] == "Ana Ruizcobrador");  // her name, and her role under it
    CHECK(cells[1] == "1");                 // taken
    CHECK(cells[2] == "0");                 // handed to her on shift
    CHECK(cells[3] == "0");                 // closed
    browser.KeepScreenshot("console-reports.png");
    // A supervisor applies the payment in suspense to the account it was meant for, from the
    // same table: a key that names no account is said so, the right one applies it.
    const std::string row = "#suspense-table tr[data-payment=\"R-2\"]";
    browser.Type(row + " input", "A-9999");
    browser.Click(row + " button");
    browser.WaitUntil(
        [&] {
            return browser.Text("#notice").find("No hay ninguna cuenta con esa clave") !=
                   std::string::npos;
        },
        "the notice for an unknown account");
    CHECK(desk.setup.Query("SELECT status FROM payments WHERE payment_id = 'R-2'") == "suspense");
    browser.Script(
        "document.querySelector('#suspense-table tr[data-payment=\"R-2\"] input').value = '';");
    browser.Type(row + " input", "A-1001");
    browser.Click(row + " button");
    browser.WaitUntil(
        [&] { return browser.Text("#notice").find("aplicado a A-1001") != std::string::npos; },
        "the notice for the applied payment");
    browser.WaitUntil([&] { return browser.Displayed("#suspense-empty"); },
                      "the suspense table emptied");
    CHECK(desk.setup.Query("SELECT p.status || ':' || a.account_key || ':' || a.balance_cents "
                           "FROM payments p JOIN accounts a ON a.id = p.account_id WHERE "
                           "p.payment_id = 'R-2'") == "applied:A-1001:1232567");

    // The team: the supervisor adds a collector, sees the token once, and disables them.
    browser.Click("#nav-team");
    browser.WaitUntil([&] { return browser.Displayed("#team"); }, "the team view");
    browser.WaitUntil(
        [&] { return browser.Text("#agents-table").find("Ana Ruiz") != std::string::npos; },
        "the agents listed");
    CHECK(browser.Text("#agents-table").find("Sofía Vera (tú)") != std::string::npos);
    browser.Type("#agent-name", "Carla Núñez");
    browser.Click("#agent-add");
    browser.WaitUntil([&] { return browser.Displayed("#agent-token-box"); }, "the new token");
    const std::string token =
        browser.Script("return document.getElementById('agent-token').value;").get<std::string>();
    CHECK(token.rfind("cbr_", 0) == 0);
    CHECK(desk.api.Get("/api/v1/me", token)["name"] == "Carla Núñez");
    const std::string carla = desk.setup.Query("SELECT id FROM agents WHERE name = 'Carla Núñez'");
    const std::string carla_row = "#agents-table tr[data-agent=\"" + carla + "\"]";
    browser.WaitUntil([&] { return browser.Find(carla_row + " button").has_value(); },
                      "Carla's row");
    browser.Click(carla_row + " button");
    browser.WaitUntil(
        [&] { return browser.Text(carla_row).find("desactivado") != std::string::npos; },
        "Carla disabled");
    CHECK(desk.api.Call("GET", "/api/v1/me", token).status == 401);
    browser.KeepScreenshot("console-team.png");
    for (const std::string& line : browser.PageErrors()) {
        FAIL_CHECK(line);
    }
}

TEST_CASE(
    "console in Chromium: open cases with the business days left, one registered from a "
    "conversation, one answered in writing",
    "[bot][console][browser][integration]") {
    // Monday 23 November: María disputes the debt in the chat (due 6 January, 30 business days).
    Desk desk;
    desk.Verify();
    desk.Say("yo no reconozco esa deuda, nunca saqué ese crédito");
    desk.setup.WaitFor("SELECT count(*) FROM cases", "1");
    const std::string conversation =
        desk.setup.Query("SELECT id FROM conversations WHERE phone = '+525512345678'");
    const std::string ana = desk.setup.Query("SELECT id FROM agents WHERE name = 'Ana Ruiz'");
    WebDriver browser(desk.setup.dir.File("browser"));
    browser.Go("http://127.0.0.1:" + std::to_string(desk.setup.port) + "/console/");
    browser.Type("#token", desk.collector);
    browser.Click("#sign-in");
    browser.WaitUntil([&] { return browser.Displayed("#main"); }, "the main view");

    // Casos lists it, in words, with the business days left.
    browser.Click("#nav-cases");
    const std::string dispute = "#cases-table .case-row[data-case=\"1\"]";
    browser.WaitUntil([&] { return browser.Find(dispute).has_value(); }, "the dispute listed");
    const std::string row = browser.Text(dispute);
    INFO(row);
    for (const char* shown : {"Q-2026-000001",
                              "Queja: no reconoce la deuda",
                              "María López",
                              "A-1001",
                              "quedan 30 días hábiles"}) {
        CHECK(row.find(shown) != std::string::npos);
    }
    CHECK_FALSE(browser.Displayed("#case-detail"));
    browser.Click(dispute);
    browser.WaitUntil([&] { return browser.Displayed("#case-detail"); }, "the case's detail");
    CHECK(browser.Text("#case-meta").find("por el deudor, en el chat") != std::string::npos);
    CHECK(browser.Text("#case-description-text") ==
          "yo no reconozco esa deuda, nunca saqué ese crédito");

    // From the case to its conversation, where a collector registers what María said on the
    // phone: a privacy request, due in 20 business days.
    browser.Click("#case-conversation");
    browser.WaitUntil(
        [&] {
            return browser.Script(
                       "return document.getElementById('conversation')"
                       ".getAttribute('data-id')") == conversation &&
                   browser.Text("#conv-cases").find("Q-2026-000001") != std::string::npos;
        },
        "the conversation with its case");
    CHECK(browser.Displayed("#panes"));
    CHECK_FALSE(browser.Displayed("#cases"));
    browser.Click("#case-open summary");
    browser.Script(
        "const k = document.getElementById('case-kind'); k.value = 'privacy';"
        "k.dispatchEvent(new Event('change'));"
        "document.getElementById('case-category').value = 'access';");
    browser.Click("#case-open-save");  // nothing said yet: refused on the page
    browser.WaitUntil(
        [&] { return browser.Text("#notice").find("Escribe qué dijo") != std::string::npos; },
        "a case needs the debtor's words");
    CHECK(desk.setup.Query("SELECT count(*) FROM cases") == "1");
    browser.Type("#case-description", "Pidió por teléfono una copia de sus datos.");
    browser.Click("#case-open-save");
    browser.WaitUntil(
        [&] {
            return browser.Text("#notice").find("Folio P-2026-000001 abierto") != std::string::npos;
        },
        "the privacy folio");
    CHECK(desk.setup.Query("SELECT kind || ' ' || category || ' ' || opened_by_agent || ' ' || "
                           "due_date FROM cases WHERE id = 2") ==
          "privacy access " + ana + " 2026-12-21");
    browser.WaitUntil(
        [&] { return browser.Text("#conv-cases").find("P-2026-000001") != std::string::npos; },
        "the new case with the conversation");

    // Both open, the one due first on top.
    browser.Click("#nav-cases");
    browser.WaitUntil(
        [&] {
            return browser.Script(
                       "return document.querySelectorAll('#cases-table .case-row')"
                       ".length;") == json(2);
        },
        "both cases");
    CHECK(browser.Script("return document.querySelector('#cases-table .case-row').dataset.case;") ==
          json("2"));

    // Closing needs an outcome and the written answer; it goes to María and is kept.
    browser.Click(dispute);
    browser.WaitUntil([&] { return browser.Displayed("#case-close-form"); }, "the close form");
    browser.Click("#case-close");
    browser.WaitUntil(
        [&] { return browser.Text("#notice").find("Elige el resultado") != std::string::npos; },
        "an outcome is needed");
    CHECK(desk.setup.Query("SELECT status FROM cases WHERE id = 1") == "open");
    const std::size_t before = desk.graph.Requests().size();
    const std::string answer =
        "Revisamos tu caso: el crédito no es tuyo, lo dimos de baja y no te volveremos a cobrar.";
    browser.Script("document.getElementById('case-outcome').value = 'favorable';");
    browser.Type("#case-resolution", answer);
    browser.Click("#case-close");
    browser.WaitUntil(
        [&] {
            return browser.Text("#notice").find("Folio Q-2026-000001 cerrado: la respuesta va") !=
                   std::string::npos;
        },
        "the case closed");
    const auto sent = desk.graph.WaitForRequests(before + 1);
    CHECK(json::parse(sent.back().body)["text"]["body"].get<std::string>().find(answer) !=
          std::string::npos);
    CHECK(desk.setup.Query("SELECT status || ' ' || outcome || ' ' || closed_by FROM cases WHERE "
                           "id = 1") == "closed favorable " + ana);
    // Gone from the open ones; under Cerrados with the answer and who gave it.
    browser.WaitUntil([&] { return !browser.Find(dispute).has_value(); }, "the open list");
    browser.Click(".case-tab[data-status=\"closed\"]");
    browser.WaitUntil([&] { return browser.Find(dispute).has_value(); }, "the closed list");
    CHECK(browser.Text(dispute).find("a su favor") != std::string::npos);
    CHECK(browser.Text("#case-answer-text") == answer);
    CHECK(browser.Text("#case-answer-meta").find("Ana Ruiz") != std::string::npos);
    CHECK_FALSE(browser.Displayed("#case-close-form"));
    browser.KeepScreenshot("console-cases.png");

    // On a phone the list fits the screen.
    browser.SetWindowSize(390, 844);
    browser.WaitUntil(
        [&] {
            return browser
                .Script("return document.documentElement.scrollWidth <= window.innerWidth + 1;")
                .get<bool>();
        },
        "nothing wider than a phone's screen");
    for (const std::string& line : browser.PageErrors()) {
        FAIL_CHECK(line);
    }
}

}  // namespace
}  // namespace cobrador::testing
