// Disputes, complaints and privacy requests end to end (docs/cases.md): the real `cobrador
// serve`, a debtor disputing on WhatsApp through signed webhooks, a fake Graph API that records
// what we send, collectors on the API, and the command line's report and export.

#include <chrono>
#include <thread>

#include "dialogs/contact.hpp"
#include "dialogs/dialog.hpp"

#include "e2e_support.hpp"

namespace cobrador::testing {
namespace {

using json = nlohmann::json;

// Everything the Graph API was asked to send, as one text, once a request names `awaited`
// (or after 60 s). Waiting for a count is not enough: a send the server timed out on under a
// slow sanitizer build is retried (at least once), and the retry is a request too.
std::string SentOnce(const FakeProvider& graph, const std::string& awaited) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    std::string all;
    while (true) {
        all.clear();
        for (const RecordedRequest& r : graph.Requests()) {
            all += r.body + "\n";
        }
        if (all.find(awaited) != std::string::npos || std::chrono::steady_clock::now() > deadline) {
            return all;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

TEST_CASE(
    "cases: a dispute in the chat gets a folio, collectors answer it in writing, the month "
    "is reported",
    "[bot][cases][integration]") {
    Desk desk;
    const Api& api = desk.api;
    desk.Verify();
    desk.Say("yo no reconozco esa deuda, nunca saqué ese crédito");
    // The reply names the folio and the due date: 30 business days after Monday 23 November.
    const std::string told = SentOnce(desk.graph, "folio Q-2026-000001");
    INFO(told);
    CHECK(told.find("folio Q-2026-000001") != std::string::npos);
    CHECK(told.find("6 de enero de 2027") != std::string::npos);
    CHECK(told.find(std::string(dialogs::kFolioArg)) == std::string::npos);

    // Collectors see it, with the business days left.
    json open = api.Get("/api/v1/cases", desk.collector);
    REQUIRE(open["cases"].size() == 1);
    const json& c = open["cases"][0];
    CHECK(c["folio"] == "Q-2026-000001");
    CHECK(c["kind"] == "complaint");
    CHECK(c["category"] == "not_mine");
    CHECK(c["account_id"] == "A-1001");
    CHECK(c["due_date"] == "2027-01-06");
    CHECK(c["business_days_left"] == 30);
    CHECK(c["debtor"]["name"] == "María López");
    CHECK(c["description"] == "yo no reconozco esa deuda, nunca saqué ese crédito");
    CHECK(
        api.Get("/api/v1/conversations?state=escalated", desk.collector)["conversations"].size() ==
        1);

    // A collector registers Pedro's complaint from a phone call; bad requests change nothing.
    CHECK(api.Post("/api/v1/cases",
                   desk.collector,
                   {{"debtor_id", "+525587654321"}, {"category", "rude"}, {"description", "x"}})
              .status == 400);
    CHECK(api.Post("/api/v1/cases",
                   desk.collector,
                   {{"debtor_id", "+525587654321"}, {"category", "treatment"}})
              .status == 400);
    const auto nobody =
        api.Post("/api/v1/cases",
                 desk.collector,
                 {{"debtor_id", "D-404"}, {"category", "treatment"}, {"description", "llamó"}});
    CHECK(nobody.status == 422);
    CHECK(Code(nobody) == "no_debtor");
    CHECK(api.Call("POST", "/api/v1/cases", desk.collector, "{not json").status == 400);
    const auto pedro = api.Post("/api/v1/cases",
                                desk.collector,
                                {{"debtor_id", "+525587654321"},
                                 {"category", "treatment"},
                                 {"account_id", "A-2002"},
                                 {"description", "Dice que le llamaron a su trabajo."}});
    REQUIRE(pedro.status == 201);
    CHECK(json::parse(pedro.body)["folio"] == "Q-2026-000002");
    CHECK(json::parse(pedro.body)["opened_by_name"] == "Ana Ruiz");
    CHECK(desk.setup.Query("SELECT count(*) FROM cases") == "2");
    // One debtor's cases (the console's card beside a conversation); a bad id is refused.
    const json pedros =
        api.Get("/api/v1/cases?status=all&debtor=" + json::parse(pedro.body)["debtor"]["id"].dump(),
                desk.collector);
    REQUIRE(pedros["cases"].size() == 1);
    CHECK(pedros["cases"][0]["folio"] == "Q-2026-000002");
    CHECK(api.Get("/api/v1/cases?debtor=" + c["debtor"]["id"].dump(),
                  desk.collector)["cases"][0]["opened_by_name"] == nullptr);
    CHECK(api.Call("GET", "/api/v1/cases?debtor=pedro", desk.collector).status == 400);
    CHECK(api.Call("GET", "/api/v1/cases?debtor=0", desk.collector).status == 400);

    // Closing needs a written resolution and an outcome; it is sent to María and kept.
    CHECK(api.Post("/api/v1/cases/1/close", desk.collector, {{"outcome", "favorable"}}).status ==
          400);
    CHECK(api.Post("/api/v1/cases/1/close",
                   desk.collector,
                   {{"outcome", "maybe"}, {"resolution", "Revisado."}})
              .status == 400);
    CHECK(api.Post("/api/v1/cases/99/close",
                   desk.collector,
                   {{"outcome", "favorable"}, {"resolution", "Revisado."}})
              .status == 404);
    const auto closed =
        api.Post("/api/v1/cases/1/close",
                 desk.collector,
                 {{"outcome", "favorable"},
                  {"resolution",
                   "Confirmamos que el crédito no es tuyo: lo dimos de baja y no te "
                   "volveremos a cobrar."}});
    REQUIRE(closed.status == 200);
    const json done = json::parse(closed.body);
    CHECK(done["status"] == "closed");
    CHECK(done["message_queued"] == true);
    CHECK(done["business_days_left"].is_null());
    // Queued for María: at once inside the contact hours, else when they open (as the
    // approved template, since by then WhatsApp's window may have closed). The pinned day's
    // time is the wall clock's, so either may happen here.
    CHECK(desk.setup.Query(
              "SELECT count(*) FROM messages m JOIN outbox o ON o.message_id = m.id "
              "WHERE m.body LIKE '%sobre tu folio Q-2026-000001.%lo dimos de baja%'") == "1");
    const auto twice = api.Post("/api/v1/cases/1/close",
                                desk.supervisor,
                                {{"outcome", "unfavorable"}, {"resolution", "otra"}});
    CHECK(twice.status == 409);
    CHECK(api.Get("/api/v1/cases/1", desk.collector)["outcome"] == "favorable");
    CHECK(api.Get("/api/v1/cases?status=all", desk.collector)["cases"].size() == 2);

    // The month's report, on the API and the command line; an empty month is zeros.
    const json month = api.Get("/api/v1/reports/complaints?month=2026-11", desk.supervisor);
    CHECK(month["complaints"]["not_mine"]["opened"] == 1);
    CHECK(month["complaints"]["not_mine"]["outcomes"]["favorable"] == 1);
    CHECK(month["complaints"]["treatment"]["open_at_month_end"] == 1);
    CHECK(month["totals"]["opened"] == 2);
    CHECK(api.Call("GET", "/api/v1/reports/complaints?month=2026-13", desk.supervisor).status ==
          400);
    const auto csv = RunCobrador(
        {"report", "complaints", "--db", desk.setup.db, "--month", "2026-11", "--format", "csv"});
    REQUIRE(csv.exit_code == 0);
    CHECK(csv.out.find("2026-11,complaint,not_mine,1,1,1,0,0,0,0\n") != std::string::npos);
    CHECK(csv.out.rfind("month,kind,category,opened,", 0) == 0);
    // For people: the same rows under Spanish headers, after the BOM spreadsheets need; on the
    // API too. A language it does not speak is refused.
    const auto spanish = RunCobrador({"report",
                                      "complaints",
                                      "--db",
                                      desk.setup.db,
                                      "--month",
                                      "2026-11",
                                      "--format",
                                      "csv",
                                      "--lang",
                                      "es-MX"});
    REQUIRE(spanish.exit_code == 0);
    CHECK(spanish.out.rfind("\xEF\xBB\xBFmes,tipo,categoría,abiertos,cerrados,favorables,", 0) ==
          0);
    CHECK(spanish.out.find("2026-11,complaint,not_mine,1,1,1,0,0,0,0\n") != std::string::npos);
    const auto api_csv = api.Call(
        "GET", "/api/v1/reports/complaints?month=2026-11&format=csv&lang=es-MX", desk.supervisor);
    REQUIRE(api_csv.status == 200);
    CHECK(api_csv.body == spanish.out);
    CHECK(api.Call("GET",
                   "/api/v1/reports/complaints?month=2026-11&format=csv&lang=fr-FR",
                   desk.supervisor)
              .status == 400);
    CHECK(RunCobrador(
              {"report", "complaints", "--db", desk.setup.db, "--month", "2026-11", "--lang", "fr"})
              .exit_code == 2);
    const auto empty =
        RunCobrador({"report", "complaints", "--db", desk.setup.db, "--month", "2027-02"});
    REQUIRE(empty.exit_code == 0);
    CHECK(json::parse(empty.out)["totals"]["opened"] == 0);
    CHECK(
        RunCobrador({"report", "complaints", "--db", desk.setup.db, "--month", "nov"}).exit_code ==
        2);

    // An access request: everything about María, nothing about Pedro.
    const auto exported =
        RunCobrador({"export", "debtor", "--db", desk.setup.db, "--id", "+525512345678"});
    REQUIRE(exported.exit_code == 0);
    const json all = json::parse(exported.out);
    CHECK(all["data"]["debtors"][0]["name"] == "María López");
    CHECK(all["data"]["cases"].size() == 1);
    CHECK(exported.out.find("nunca saqué ese crédito") != std::string::npos);
    CHECK(exported.out.find("Pedro") == std::string::npos);
    const auto unknown = RunCobrador({"export", "debtor", "--db", desk.setup.db, "--id", "D-404"});
    CHECK(unknown.exit_code == 1);
    CHECK(unknown.err.find("no debtor") != std::string::npos);
}

TEST_CASE("cases: the creditor's own days off (COBRADOR_DAYS_OFF) are not business days",
          "[bot][cases][integration]") {
    // Two weekdays off between 23 November and the answer: it is due two business days later.
    Desk desk;
    desk.setup.env["COBRADOR_DAYS_OFF"] = "2026-11-24, 2026-12-24 2026-12-26";
    desk.Restart("2026-11-23");
    desk.Verify();
    desk.Say("yo no reconozco esa deuda");
    const std::string told = SentOnce(desk.graph, "folio Q-2026-000001");
    INFO(told);
    CHECK(told.find("8 de enero de 2027") != std::string::npos);
    const json open = desk.api.Get("/api/v1/cases", desk.collector);
    REQUIRE(open["cases"].size() == 1);
    CHECK(open["cases"][0]["due_date"] == "2027-01-08");
    CHECK(open["cases"][0]["business_days_left"] == 30);
    // Registered by a collector: counted the same way.
    const auto pedro = desk.api.Post("/api/v1/cases",
                                     desk.collector,
                                     {{"debtor_id", "+525587654321"},
                                      {"category", "treatment"},
                                      {"description", "llamó a la oficina"}});
    REQUIRE(pedro.status == 201);
    CHECK(json::parse(pedro.body)["due_date"] == "2027-01-08");
    // On the first day off, a day later, no business day has gone by yet.
    desk.Restart("2026-11-24");
    CHECK(desk.api.Get("/api/v1/cases", desk.collector)["cases"][0]["business_days_left"] == 30);
}

TEST_CASE("cases: a privacy request gets a folio, and an opposition stops messages on the channel",
          "[bot][cases][integration]") {
    Desk desk;
    desk.Verify();
    desk.Say("no usen mis datos personales");
    const std::string told = SentOnce(desk.graph, "folio P-2026-000001");
    INFO(told);
    CHECK(told.find("folio P-2026-000001") != std::string::npos);
    CHECK(desk.setup.Query("SELECT kind || ' ' || category || ' ' || due_date FROM cases") ==
          "privacy opposition " + dialogs::FormatIsoDate(dialogs::AddBusinessDays(
                                      *dialogs::ParseIsoDate("2026-11-23"), 20)));
    CHECK(desk.setup.Query("SELECT count(*) FROM contact_preferences WHERE kind = 'opt_out' AND "
                           "channel = 'whatsapp' AND active = 1") == "1");
    const json listed = desk.api.Get("/api/v1/cases?kind=privacy", desk.collector);
    REQUIRE(listed["cases"].size() == 1);
    CHECK(listed["cases"][0]["category"] == "opposition");
}

}  // namespace
}  // namespace cobrador::testing
