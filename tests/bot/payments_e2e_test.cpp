// Money in, end to end: the payments webhook over loopback (signatures, bad bodies,
// idempotency, suspense), the thank-you reaching the debtor through the fake Graph API,
// `cobrador import payments`, and the report counting what came in.

#include "dialogs/reference.hpp"

#include "e2e_support.hpp"

namespace cobrador::testing {
namespace {

using json = nlohmann::json;

TEST_CASE("payments webhook: signed, idempotent, matched by reference, thanked on WhatsApp",
          "[bot][payments][integration]") {
    Desk desk("2026-11-23");
    desk.setup.env["COBRADOR_PAYMENTS_SECRET"] = kPaymentsSecret;
    desk.Restart("2026-11-23");
    // María talks to the bot first (verified), so her channel is WhatsApp and the window is open.
    const std::size_t before = desk.Verify();
    const std::string reference = desk.Reference("A-1001");
    const std::uint16_t port = desk.setup.port;

    // Bad signature, no signature, bad body: refused, nothing stored.
    const std::string body = PaymentBody("pay_001", reference, "2345.67");
    CHECK(PostPayment(port, body, "wrong-secret").status == 401);
    CHECK(HttpRequest(port, "POST", "/webhooks/payments", body).status == 401);
    const auto malformed = PostPayment(port, R"({"payment_id":"x","amount":"1"})");
    CHECK(malformed.status == 400);
    CHECK(json::parse(malformed.body)["error"].get<std::string>().find("reference") !=
          std::string::npos);
    CHECK(PostPayment(port, PaymentBody("pay_neg", reference, "-1")).status == 400);
    CHECK(desk.setup.Query("SELECT count(*) FROM payments") == "0");

    // Applied: the balance goes down and María is thanked with the new balance.
    const auto applied = PostPayment(port, body);
    REQUIRE(applied.status == 200);
    CHECK(json::parse(applied.body)["status"] == "applied");
    CHECK(desk.setup.Query("SELECT balance_cents FROM accounts WHERE account_key = 'A-1001'") ==
          "1000000");
    const auto sent = desk.graph.WaitForRequests(before + 1);
    const std::string thanks = json::parse(sent.back().body)["text"]["body"];
    CHECK(thanks.rfind("Hola María, te escribe Financiera Prueba.", 0) == 0);
    CHECK(thanks.find("$2,345.67") != std::string::npos);
    CHECK(thanks.find("$10,000.00") != std::string::npos);

    // The processor retries: 200, nothing changes, no second thank-you.
    const auto retried = PostPayment(port, body);
    CHECK(retried.status == 200);
    CHECK(json::parse(retried.body)["status"] == "duplicate");
    std::this_thread::sleep_for(300ms);
    CHECK(desk.graph.Requests().size() == before + 1);
    CHECK(desk.setup.Query("SELECT balance_cents FROM accounts WHERE account_key = 'A-1001'") ==
          "1000000");

    // A mistyped reference is held in suspense and says why.
    std::string typo = reference;
    typo.back() = typo.back() == '0' ? '1' : '0';
    const auto held = PostPayment(port, PaymentBody("pay_002", typo, "100.00"));
    REQUIRE(held.status == 200);
    CHECK(json::parse(held.body)["status"] == "suspense");
    CHECK(json::parse(held.body)["reason"] == "bad_check_digit");

    const auto metrics = HttpRequest(port, "GET", "/metrics").body;
    CHECK(metrics.find(R"(cobrador_payments_total{result="applied"} 1)") != std::string::npos);
    CHECK(metrics.find(R"(cobrador_payments_total{result="suspense"} 1)") != std::string::npos);
    CHECK(metrics.find(
              R"(cobrador_webhook_rejected_total{channel="payments",reason="signature"} 2)") !=
          std::string::npos);
    // The secret is in no log line.
    CHECK(desk.server->Stderr().find(kPaymentsSecret) == std::string::npos);
}

TEST_CASE("payments webhook is off without its secret", "[bot][payments][integration]") {
    Desk desk;
    CHECK(PostPayment(desk.setup.port, PaymentBody("p", "0000018", "1")).status == 404);
}

TEST_CASE("import payments: a statement applied once, all or nothing, suspense listed",
          "[bot][payments][integration]") {
    Desk desk;
    const std::string a1 = *dialogs::PaymentReference(
        std::stoll(desk.setup.Query("SELECT id FROM accounts WHERE account_key = 'A-1001'")));
    const std::string a2 = *dialogs::PaymentReference(
        std::stoll(desk.setup.Query("SELECT id FROM accounts WHERE account_key = 'A-2002'")));

    const std::string bad = desk.setup.dir.File("bad.csv");
    std::ofstream(bad) << "payment_id,reference,amount,currency,paid_at\n"
                       << "S-1," << a1 << ",100.00,MXN,2026-11-20T10:00:00Z\n"
                       << "S-2," << a2 << ",abc,MXN,2026-11-20T10:00:00Z\n";
    const auto refused = RunCobrador({"import", "payments", "--db", desk.setup.db, bad});
    CHECK(refused.exit_code == 1);
    CHECK(refused.err.find("bad.csv:3: amount:") != std::string::npos);
    CHECK(refused.err.find("nothing was imported") != std::string::npos);
    CHECK(desk.setup.Query("SELECT count(*) FROM payments") == "0");

    const std::string good = desk.setup.dir.File("statement.csv");
    std::ofstream(good) << "payment_id,reference,amount,currency,paid_at,method\n"
                        << "S-1," << a1 << ",100.00,MXN,2026-11-20T10:00:00Z,spei\n"
                        << "S-2," << a2 << ",800.00,MXN,2026-11-21T10:00:00-06:00,oxxo\n"
                        << "S-3,12345,50.00,MXN,2026-11-21T10:00:00Z,spei\n";
    const auto run = RunCobrador({"import", "payments", "--db", desk.setup.db, good});
    INFO(run.err);
    REQUIRE(run.exit_code == 0);
    CHECK(run.out.find("2 applied, 1 in suspense, 0 already recorded") != std::string::npos);
    CHECK(run.out.find("statement.csv:4: payment S-3 held in suspense") != std::string::npos);
    CHECK(desk.setup.Query("SELECT balance_cents FROM accounts WHERE account_key = 'A-2002'") ==
          "0");
    const auto again = RunCobrador({"import", "payments", "--db", desk.setup.db, good});
    CHECK(again.out.find("0 applied, 0 in suspense, 3 already recorded") != std::string::npos);

    // The report counts what was collected in the period.
    const auto report = RunCobrador({"report",
                                     "--db",
                                     desk.setup.db,
                                     "--from",
                                     "2026-11-01",
                                     "--to",
                                     "2026-11-30",
                                     "--format",
                                     "json"});
    REQUIRE(report.exit_code == 0);
    const json figures = json::parse(report.out);
    CHECK(figures["collected"] == "900.00");
    CHECK(figures["suspense"]["payments"] == 1);
    CHECK(figures["suspense"]["amount"] == "50.00");
    REQUIRE(figures["daily"].size() == 2);
    CHECK(figures["daily"][0]["date"] == "2026-11-20");
    CHECK(figures["daily"][1]["collected"] == "800.00");

    // The same through the collector API, in JSON and CSV, and the suspense list.
    const Api& api = desk.api;
    const json api_report =
        api.Get("/api/v1/reports?from=2026-11-01&to=2026-11-30", desk.collector);
    // Each person's figures are for supervisors: a collector gets the rest, the same.
    json without_agents = figures;
    without_agents.erase("agents");
    CHECK(api_report == without_agents);
    const json supervisors =
        api.Get("/api/v1/reports?from=2026-11-01&to=2026-11-30", desk.supervisor);
    CHECK(supervisors == figures);
    REQUIRE(figures["agents"].size() == 3);  // Ana Ruiz, Beto Díaz, Sofía Vera, by name
    CHECK(figures["agents"][0]["name"] == "Ana Ruiz");
    CHECK(figures["agents"][0]["recovered"] == "0.00");
    const auto csv = api.Call(
        "GET", "/api/v1/reports?from=2026-11-01&to=2026-11-30&format=csv", desk.supervisor);
    REQUIRE(csv.status == 200);
    CHECK(csv.headers.at("content-type").rfind("text/csv", 0) == 0);
    CHECK(csv.body.find("total,all,MXN,2,") != std::string::npos);
    CHECK(csv.body.find("suspense,all,MXN,1,,50.00,") != std::string::npos);
    CHECK(csv.body.find("day,2026-11-21,MXN,,,800.00,") != std::string::npos);
    // Each person's row, for supervisors only.
    const std::string ana = desk.setup.Query("SELECT id FROM agents WHERE name = 'Ana Ruiz'");
    CHECK(csv.body.find("\nagent," + ana + ",MXN,") != std::string::npos);
    CHECK(csv.body.find(",Ana Ruiz,") != std::string::npos);
    const auto collectors =
        api.Call("GET", "/api/v1/reports?from=2026-11-01&to=2026-11-30&format=csv", desk.collector);
    REQUIRE(collectors.status == 200);
    CHECK(collectors.body.find("\nagent,") == std::string::npos);
    CHECK(collectors.body.find("total,all,MXN,2,") != std::string::npos);
    CHECK(api.Call("GET", "/api/v1/reports?from=2026-11-30&to=2026-11-01", desk.collector).status ==
          400);
    CHECK(api.Call("GET", "/api/v1/reports?format=pdf", desk.collector).status == 400);
    const auto spanish =
        api.Call("GET",
                 "/api/v1/reports?from=2026-11-01&to=2026-11-30&format=csv&lang=es-MX",
                 desk.supervisor);
    CHECK(spanish.body.rfind("\xEF\xBB\xBF"
                             "ámbito,clave,moneda,",
                             0) == 0);
    CHECK(spanish.body.find("total,all,MXN,2,") != std::string::npos);
    CHECK(api.Call("GET", "/api/v1/reports?format=csv&lang=xx", desk.collector).status == 400);
    CHECK(api.Call("GET", "/api/v1/reports", "").status == 401);
    const json suspense = api.Get("/api/v1/payments/suspense", desk.collector);
    REQUIRE(suspense["payments"].size() == 1);
    CHECK(suspense["payments"][0]["payment_id"] == "S-3");
    CHECK(suspense["payments"][0]["reason"] == "bad_check_digit");  // 1234: Damm gives 1234 a 0
}

}  // namespace
}  // namespace cobrador::testing
