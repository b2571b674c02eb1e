// Reminders end to end: `cobrador remind` against the ledger the real server uses, the
// template WhatsApp requires outside the 24-hour window, and the SMS fallback when WhatsApp
// says the number cannot receive.

#include "e2e_support.hpp"

namespace cobrador::testing {
namespace {

using json = nlohmann::json;

TEST_CASE("remind: a template on WhatsApp, by SMS when the number is not on WhatsApp, once",
          "[bot][reminders][integration]") {
    // The server's clock is a day ahead of the pass below, so what the pass queues is due.
    Desk desk("2026-11-24");
    // Graph refuses every message: the number is not on WhatsApp (Meta's 131026).
    desk.graph.SetScript([](const RecordedRequest&, std::size_t) {
        ScriptedAnswer refused;
        refused.status = 400;
        refused.body =
            R"({"error":{"message":"(#131026) Message undeliverable","type":"OAuthException",)"
            R"("code":131026,"error_data":{"messaging_product":"whatsapp",)"
            R"("details":"Message Undeliverable."},"fbtrace_id":"x"}})";
        return refused;
    });
    std::map<std::string, std::string> env = desk.setup.env;
    // Monday 23 November 2026, 11:00 in Mexico City: inside the contact hours.
    const std::vector<std::string> remind = {
        "remind", "--db", desk.setup.db, "--now", "2026-11-23T17:00:00Z"};

    // Pedro's account fell due on 1 November: the 15-day reminder is due (caught up within a
    // week). María's last reminder day passed more than a week ago: nothing for her.
    auto dry = remind;
    dry.push_back("--dry-run");
    const auto preview = RunCobrador(dry, env);
    REQUIRE(preview.exit_code == 0);
    CHECK(preview.out.find("overdue_15 (account A-2002 due 2026-11-01) via whatsapp") !=
          std::string::npos);
    CHECK(preview.out.find("A-1001") == std::string::npos);
    CHECK(desk.setup.Query("SELECT count(*) FROM reminders") == "0");

    const auto run = RunCobrador(remind, env);
    REQUIRE(run.exit_code == 0);
    CHECK(run.out == preview.out);
    CHECK(run.out.find("5587654321") == std::string::npos);  // phones are redacted

    // The server sends it: a template (no window is open), refused, then the same text by SMS.
    const auto whatsapp = desk.graph.WaitForRequests(1);
    const json sent = json::parse(whatsapp[0].body);
    CHECK(sent["type"] == "template");
    CHECK(sent["template"]["name"] == "cobrador_aviso_cuenta");
    const auto sms = desk.twilio.WaitForRequests(1);
    CHECK(sms[0].body.find("To=%2B525587654321") != std::string::npos);
    CHECK(sms[0].body.find("BAJA") != std::string::npos);
    desk.setup.WaitFor("SELECT count(*) FROM audit_log WHERE kind = 'fallback_to_sms'", "1");
    desk.setup.WaitFor(
        "SELECT status || ' ' || coalesce(error_code, '') FROM messages WHERE channel = "
        "'whatsapp' AND direction = 'out'",
        "failed 131026");

    // The same pass again queues nothing, and nothing more is sent.
    const auto again = RunCobrador(remind, env);
    REQUIRE(again.exit_code == 0);
    CHECK(again.out.empty());
    std::this_thread::sleep_for(500ms);
    CHECK(desk.graph.Requests().size() == 1);
    CHECK(desk.twilio.Requests().size() == 1);

    // At 23:00 in Mexico City nothing is queued, whatever is due.
    const auto night = RunCobrador(
        {"remind", "--db", desk.setup.db, "--now", "2026-11-24T05:00:00Z", "--dry-run"}, env);
    CHECK(night.out.empty());
    CHECK(night.err.find("outside contact hours: 2") != std::string::npos);
}

}  // namespace
}  // namespace cobrador::testing
