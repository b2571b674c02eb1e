// Reminders end to end: `cobrador remind` against the ledger the real server uses, the
// template WhatsApp requires outside the 24-hour window, and the SMS fallback when WhatsApp
// says the number cannot receive.

#include "dialogs/contact.hpp"

#include "e2e_support.hpp"

namespace cobrador::testing {
namespace {

using json = nlohmann::json;

// The server's clock in these tests: the pinned day at the real time of day.
std::chrono::sys_seconds ServerNow(const std::string& day) {
    const auto real = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    return std::chrono::sys_days{*dialogs::ParseIsoDate(day)} +
           (real - std::chrono::floor<std::chrono::days>(real));
}

// A zone where `at` falls on a working day at 09:00-20:00 (working), or at 22:00-06:00.
std::string ZoneWhere(std::chrono::sys_seconds at, bool working) {
    for (const char* zone : {"America/Mexico_City",
                             "Europe/Madrid",
                             "Asia/Tokyo",
                             "Pacific/Auckland",
                             "America/Los_Angeles",
                             "Asia/Kolkata",
                             "Atlantic/Azores",
                             "Asia/Dubai"}) {
        const auto local = dialogs::ToLocal(at, zone);
        const bool open = local.weekday >= 1 && local.weekday <= 5 &&
                          local.minute_of_day >= 9 * 60 && local.minute_of_day < 20 * 60 &&
                          dialogs::FormatIsoDate(local.date) != "2026-11-16";
        const bool night = local.minute_of_day < 6 * 60 || local.minute_of_day >= 22 * 60;
        if (working ? open : night) {
            return zone;
        }
    }
    return {};
}

TEST_CASE("remind: a template on WhatsApp, by SMS when the number is not on WhatsApp, once",
          "[bot][reminders][integration]") {
    Desk desk("2026-11-23");
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
    // Pedro lives where it is working hours now, and his account fell due 15 days ago there.
    const auto now = ServerNow("2026-11-23");
    const std::string zone = ZoneWhere(now, true);
    REQUIRE_FALSE(zone.empty());
    const std::string due =
        dialogs::FormatIsoDate(dialogs::AddDays(dialogs::ToLocal(now, zone).date, -15));
    {
        Probe db(desk.setup.db);
        db.Exec("UPDATE debtors SET timezone = '" + zone + "' WHERE name = 'Pedro Ruiz'");
        db.Exec("UPDATE accounts SET due_date = '" + due + "' WHERE account_key = 'A-2002'");
    }
    std::map<std::string, std::string> env = desk.setup.env;
    const std::vector<std::string> remind = {
        "remind", "--db", desk.setup.db, "--now", dialogs::FormatIsoInstant(now)};

    // Pedro's 15-day reminder is due. María's last reminder day passed more than a week ago.
    auto dry = remind;
    dry.push_back("--dry-run");
    const auto preview = RunCobrador(dry, env);
    REQUIRE(preview.exit_code == 0);
    CHECK(preview.out.find("overdue_15 (account A-2002 due " + due + ") via whatsapp") !=
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

    // At night where Pedro lives nothing is queued for him, whatever is due.
    const auto local = dialogs::ToLocal(now, zone);
    const auto late = now + std::chrono::minutes(23 * 60 - local.minute_of_day);
    const auto night = RunCobrador(
        {"remind", "--db", desk.setup.db, "--now", dialogs::FormatIsoInstant(late), "--dry-run"},
        env);
    CHECK(night.out.find("A-2002") == std::string::npos);
}

}  // namespace
}  // namespace cobrador::testing

namespace cobrador::testing {
namespace {

TEST_CASE("a message we started is held back outside the contact hours whenever it falls due",
          "[bot][reminders][integration]") {
    Desk desk("2026-11-24");  // a Tuesday
    const auto server_now = ServerNow("2026-11-24");
    const std::string night = ZoneWhere(server_now, false);
    const std::string day = ZoneWhere(server_now, true);
    REQUIRE_FALSE(night.empty());
    REQUIRE_FALSE(day.empty());
    {
        Probe(desk.setup.db)
            .Exec(
                "INSERT INTO conversations (debtor_id, phone, channel, state, last_activity_at, "
                "created_at) VALUES (1, '+525512345678', 'sms', 'bot', 'x', 'x');"
                "INSERT INTO messages (conversation_id, direction, channel, author, body, payload, "
                "status, created_at, status_at) VALUES (1, 'out', 'sms', 'bot', 'noche', "
                "'{\"text\":\"noche\"}', 'queued', 'x', 'x'), (1, 'out', 'sms', 'bot', 'dia', "
                "'{\"text\":\"dia\"}', 'queued', 'x', 'x');"
                "INSERT INTO outbox (message_id, channel, recipient, payload, status, "
                "next_attempt_at, "
                "created_at, contact_timezone) VALUES (1, 'sms', '+525512345678', "
                "'{\"text\":\"noche\"}', "
                "'pending', '2026-01-01T00:00:00Z', 'x', '" +
                night +
                "'), (2, 'sms', '+525512345678', '{\"text\":\"dia\"}', 'pending', "
                "'2026-01-01T00:00:00Z', 'x', '" +
                day + "');");
    }
    // The one for working hours goes; the one for the night waits for the morning there.
    const auto sent = desk.twilio.WaitForRequests(1);
    CHECK(sent[0].body.find("Body=dia") != std::string::npos);
    desk.setup.WaitFor("SELECT next_attempt_at > '2026-11-24' FROM outbox WHERE message_id = 1",
                       "1");
    CHECK(desk.setup.Query("SELECT status || ' ' || attempts FROM outbox WHERE message_id = 1") ==
          "pending 0");
    std::this_thread::sleep_for(700ms);
    CHECK(desk.twilio.Requests().size() == 1);
}

}  // namespace
}  // namespace cobrador::testing
