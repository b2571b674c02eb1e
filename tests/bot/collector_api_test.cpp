// The collector API end to end: the real `cobrador serve`, a real ledger, agents created
// with `cobrador agent add`, a debtor writing on WhatsApp through signed webhooks and a fake
// Graph API that records what we send.

#include <csignal>
#include <fstream>
#include <map>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "dialogs/money.hpp"

#include "e2e_support.hpp"

namespace cobrador::testing {
namespace {

using json = nlohmann::json;

TEST_CASE("collector API: every route wants a valid agent token, and roles limit what they may do",
          "[bot][api][integration]") {
    Desk desk;
    const Api& api = desk.api;

    for (const std::string& token :
         {std::string(), std::string("cbr_") + std::string(64, '0'), std::string("garbage")}) {
        for (const char* target :
             {"/api/v1/me", "/api/v1/conversations", "/api/v1/conversations/1", "/api/v1/events"}) {
            const auto res = api.Call("GET", target, token);
            INFO(target << " with '" << token << "'");
            CHECK(res.status == 401);
            CHECK(res.headers.count("www-authenticate") == 1);
            CHECK(Code(res) == "unauthorized");
        }
        CHECK(api.Post("/api/v1/conversations/1/claim", token).status == 401);
    }
    // The scheme is case-insensitive; the token is not mangled.
    CHECK(HttpRequest(desk.setup.port,
                      "GET",
                      "/api/v1/me",
                      "",
                      {{"Authorization", "bearer " + desk.collector}})
              .status == 200);

    const json me = api.Get("/api/v1/me", desk.collector);
    CHECK(me["name"] == "Ana Ruiz");
    CHECK(me["role"] == "collector");
    CHECK(api.Get("/api/v1/me", desk.supervisor)["role"] == "supervisor");

    // Listing agents is for supervisors, and never shows a token or its hash.
    CHECK(api.Call("GET", "/api/v1/agents", desk.collector).status == 403);
    const auto agents = api.Call("GET", "/api/v1/agents", desk.supervisor);
    REQUIRE(agents.status == 200);
    CHECK(json::parse(agents.body)["agents"].size() == 3);
    CHECK(agents.body.find("token") == std::string::npos);
    CHECK(agents.body.find(desk.collector.substr(4, 16)) == std::string::npos);

    // Tokens never reach the logs.
    desk.server->Signal(SIGTERM);
    REQUIRE(desk.server->Wait() == 0);
    for (const std::string& token : {desk.collector, desk.supervisor}) {
        CHECK(desk.server->Stderr().find(token.substr(4)) == std::string::npos);
        CHECK(desk.server->Stdout().find(token.substr(4)) == std::string::npos);
    }
}

TEST_CASE(
    "collector API: a disabled agent's token stops working at once and its conversations go back "
    "to the queue",
    "[bot][api][integration]") {
    Desk desk;
    const Api& api = desk.api;
    const std::int64_t id = desk.Escalate();
    REQUIRE(api.Post(desk.Path(id, "claim"), desk.collector).status == 200);
    const std::string ana = desk.setup.Query("SELECT id FROM agents WHERE name = 'Ana Ruiz'");

    // While the server runs, from the command line.
    const auto run = RunCobrador({"agent", "disable", "--db", desk.setup.db, "--id", ana});
    REQUIRE(run.exit_code == 0);
    CHECK(run.out == "agent " + ana +
                         " disabled: its token no longer works; 1 conversation back in the "
                         "queue\n");
    CHECK(api.Call("GET", "/api/v1/me", desk.collector).status == 401);
    CHECK(api.Call("GET", "/api/v1/me", desk.supervisor).status == 200);
    CHECK(desk.setup.Query("SELECT state || ':' || coalesce(assigned_agent_id, 0) FROM "
                           "conversations WHERE id = " +
                           std::to_string(id)) == "escalated:0");
    CHECK(desk.setup.Query("SELECT count(*) FROM audit_log WHERE kind = 'claim_released'") == "1");
    // Another collector takes it from the queue.
    CHECK(api.Post(desk.Path(id, "claim"), desk.other_collector).status == 200);
    // Listed as disabled, kept in the history.
    const json agents = api.Get("/api/v1/agents", desk.supervisor);
    bool listed = false;
    for (const auto& a : agents["agents"]) {
        if (std::to_string(a["id"].get<std::int64_t>()) == ana) {
            listed = true;
            CHECK(a["disabled"] == true);
        }
    }
    CHECK(listed);

    // Twice, an unknown agent, not a number: said so.
    const auto again = RunCobrador({"agent", "disable", "--db", desk.setup.db, "--id", ana});
    CHECK(again.exit_code == 1);
    CHECK(again.err.find("no active agent") != std::string::npos);
    CHECK(RunCobrador({"agent", "disable", "--db", desk.setup.db, "--id", "999"}).exit_code == 1);
    CHECK(RunCobrador({"agent", "disable", "--db", desk.setup.db, "--id", "ana"}).exit_code == 2);
    CHECK(RunCobrador({"agent", "disable", "--db", desk.setup.db}).exit_code == 2);
}

TEST_CASE(
    "collector API: a token with an expiry works through its day, and agents are disabled by name",
    "[bot][api][integration]") {
    Desk desk;
    const Api& api = desk.api;
    // A temporary collector, through the last day of 2099 (UTC); the server's day is pinned.
    const auto added = RunCobrador({"agent",
                                    "add",
                                    "--db",
                                    desk.setup.db,
                                    "--name",
                                    "Temporal",
                                    "--role",
                                    "collector",
                                    "--expires",
                                    "2099-12-31"});
    REQUIRE(added.exit_code == 0);
    CHECK(added.out.find("works through 2099-12-31 (UTC)") != std::string::npos);
    std::string token = added.out;
    token.pop_back();
    token = token.substr(token.rfind('\n') + 1);
    CHECK(api.Call("GET", "/api/v1/me", token).status == 200);
    desk.Restart("2099-12-31");
    CHECK(api.Call("GET", "/api/v1/me", token).status == 200);  // through its last day
    desk.Restart("2100-01-01");
    CHECK(api.Call("GET", "/api/v1/me", token).status == 401);
    CHECK(api.Call("GET", "/api/v1/me", desk.collector).status == 200);  // no expiry
    // A date in the past, or not a date: refused, nothing created.
    for (const char* bad : {"2020-01-01", "mañana", "2099-02-30"}) {
        CHECK(RunCobrador({"agent",
                           "add",
                           "--db",
                           desk.setup.db,
                           "--name",
                           "X",
                           "--role",
                           "collector",
                           "--expires",
                           bad})
                  .exit_code == 2);
    }
    CHECK(desk.setup.Query("SELECT count(*) FROM agents WHERE name = 'X'") == "0");

    // By name, as the contract has it.
    const auto off =
        RunCobrador({"agent", "disable", "--db", desk.setup.db, "--name", "Beto Díaz"});
    REQUIRE(off.exit_code == 0);
    CHECK(off.out.find("disabled: its token no longer works") != std::string::npos);
    CHECK(api.Call("GET", "/api/v1/me", desk.other_collector).status == 401);
    CHECK(
        RunCobrador({"agent", "disable", "--db", desk.setup.db, "--name", "Beto Díaz"}).exit_code ==
        1);
    CHECK(RunCobrador({"agent", "disable", "--db", desk.setup.db, "--name", "A", "--id", "1"})
              .exit_code == 2);
}

TEST_CASE("collector API: closing with promise_to_pay records the promise the debtor made",
          "[bot][api][integration]") {
    Desk desk;
    const Api& api = desk.api;
    const std::int64_t id = desk.Escalate();
    REQUIRE(api.Post(desk.Path(id, "claim"), desk.collector).status == 200);
    // The promise, when given, is exact and not in the past; nothing changes until it is right.
    CHECK(api.Post(desk.Path(id, "close"),
                   desk.collector,
                   {{"disposition", "promise_to_pay"},
                    {"promise", {{"amount", "1500.5.0"}, {"date", "2026-11-27"}}}})
              .status == 400);
    CHECK(api.Post(desk.Path(id, "close"),
                   desk.collector,
                   {{"disposition", "promise_to_pay"},
                    {"promise", {{"amount", "1500.00"}, {"date", "2026-11-01"}}}})
              .status == 422);  // past_date
    const auto other = api.Post(
        desk.Path(id, "close"),
        desk.collector,
        {{"disposition", "promise_to_pay"},
         {"promise",
          {{"amount", "1500.00"}, {"date", "2026-11-27"}, {"account_id", "A-2002"}}}});  // Pedro's
    CHECK(other.status == 422);
    CHECK(Code(other) == "no_account");
    CHECK(desk.setup.Query("SELECT count(*) FROM promises") == "0");
    CHECK(desk.setup.Query("SELECT state FROM conversations WHERE id = " + std::to_string(id)) ==
          "claimed");

    const auto closed = api.Post(desk.Path(id, "close"),
                                 desk.collector,
                                 {{"disposition", "promise_to_pay"},
                                  {"note", "Paga el viernes"},
                                  {"promise", {{"amount", "1500.00"}, {"date", "2026-11-27"}}}});
    REQUIRE(closed.status == 200);
    CHECK(desk.setup.Query("SELECT a.account_key || ' ' || p.amount_cents || ' ' || p.due_date || "
                           "' ' || p.status FROM promises p JOIN accounts a ON a.id = "
                           "p.account_id") == "A-1001 150000 2026-11-27 open");
    CHECK(desk.setup.Query("SELECT actor FROM audit_log WHERE kind = 'promise_made'")
              .rfind("agent:", 0) == 0);
    // The reminder pass now reminds of the promise, not of the overdue account.
    const auto dry =
        RunCobrador({"remind", "--db", desk.setup.db, "--now", "2026-11-26T17:00:00Z", "--dry-run"},
                    desk.setup.env);
    REQUIRE(dry.exit_code == 0);
    CHECK(dry.out.find("promise on A-1001 due 2026-11-27") != std::string::npos);
}

TEST_CASE(
    "collector API: a collector records promises and plans inside the policy, a supervisor "
    "beyond it",
    "[bot][api][integration]") {
    // María owes $12,345.67, 53 days late on 23 November: the policy's 31-60 bucket (no
    // discount, up to 6 instalments after 10% down) and promises up to 8 December.
    Desk desk;
    const Api& api = desk.api;
    const std::int64_t id = desk.Escalate();
    const auto agree = [&](const std::string& token, const json& body) {
        return api.Post(desk.Path(id, "agreements"), token, body);
    };
    const json late_promise = {{"kind", "promise"}, {"amount", "2000.00"}, {"date", "2026-12-15"}};
    // Not hers to record until she holds it.
    CHECK(Code(agree(desk.collector, late_promise)) == "not_held");
    REQUIRE(api.Post(desk.Path(id, "claim"), desk.collector).status == 200);
    CHECK(Code(agree(desk.other_collector, late_promise)) == "held_by_other");

    // Bad asks: a clear 400, and nothing written.
    for (const json& bad : {json{{"kind", "loan"}},
                            json{{"kind", "promise"}, {"amount", "20.001"}, {"date", "2026-12-01"}},
                            json{{"kind", "promise"}, {"amount", "2000.00"}},
                            json{{"kind", "installments"}, {"installments", 1}},
                            json{{"kind", "settlement"}}}) {
        INFO(bad.dump());
        CHECK(agree(desk.collector, bad).status == 400);
    }
    const auto past =
        agree(desk.collector, {{"kind", "promise"}, {"amount", "2000.00"}, {"date", "2026-11-20"}});
    CHECK(past.status == 422);
    CHECK(Code(past) == "past_date");
    const auto pedro = agree(
        desk.collector, {{"kind", "installments"}, {"installments", 3}, {"account_id", "A-2002"}});
    CHECK(Code(pedro) == "no_account");

    // Past the policy's horizon: refused for the collector, with the limit a console can word.
    const auto refused = agree(desk.collector, late_promise);
    CHECK(refused.status == 403);
    CHECK(Code(refused) == "outside_policy");
    INFO(refused.body);
    const json why = json::parse(refused.body);
    CHECK(why["limit"]["kind"] == "latest_date");
    CHECK(why["limit"]["value"] == "2026-12-08");
    // The same limit holds when closing with a promise.
    const auto close_late =
        api.Post(desk.Path(id, "close"),
                 desk.collector,
                 {{"disposition", "promise_to_pay"}, {"promise", late_promise}});
    CHECK(Code(close_late) == "outside_policy");
    CHECK(desk.setup.Query("SELECT count(*) FROM promises") == "0");
    CHECK(desk.setup.Query("SELECT state FROM conversations WHERE id = " + std::to_string(id)) ==
          "claimed");

    // A supervisor may go beyond it, and the ledger says so.
    const auto granted = agree(desk.supervisor, late_promise);
    REQUIRE(granted.status == 201);
    const json promise = json::parse(granted.body);
    CHECK(promise["kind"] == "promise");
    CHECK(promise["account_id"] == "A-1001");
    CHECK(promise["beyond_policy"] == true);
    CHECK(promise["conversation"]["state"] == "claimed");
    CHECK(
        desk.setup.Query("SELECT amount_cents || ' ' || due_date || ' ' || status FROM promises") ==
        "200000 2026-12-15 open");
    const std::string supervisor_id =
        desk.setup.Query("SELECT id FROM agents WHERE name = 'Sofía Vera'");
    CHECK(desk.setup.Query("SELECT actor FROM audit_log WHERE kind = 'promise_made'") ==
          "agent:" + supervisor_id);
    CHECK(json::parse(desk.setup.Query(
              "SELECT detail FROM audit_log WHERE kind = 'promise_made'"))["beyond_policy"] ==
          true);
    // One open promise at a time.
    CHECK(Code(agree(desk.collector,
                     {{"kind", "promise"}, {"amount", "500.00"}, {"date", "2026-12-01"}})) ==
          "promise_open");

    // Plans: up to 6 instalments for her.
    const auto eight = agree(desk.collector, {{"kind", "installments"}, {"installments", 8}});
    CHECK(eight.status == 403);
    CHECK(json::parse(eight.body)["limit"]["value"] == "6");
    CHECK(Code(agree(desk.collector, {{"kind", "settlement"}, {"amount", "10000.00"}})) ==
          "outside_policy");  // her bucket gives no discount
    const auto six = agree(desk.collector, {{"kind", "installments"}, {"installments", 6}});
    REQUIRE(six.status == 201);
    const json plan = json::parse(six.body);
    CHECK(plan["beyond_policy"] == false);
    CHECK(plan["total"] == "12345.67");
    REQUIRE(plan["schedule"].size() == 7);  // the down payment, then 6
    CHECK(plan["schedule"][0]["date"] == "2026-11-30");
    std::int64_t scheduled = 0;
    for (const json& i : plan["schedule"]) {
        scheduled += *dialogs::ParseDecimalCents(i["amount"].get<std::string>());
    }
    CHECK(scheduled == 1234567);
    const std::string collector_id =
        desk.setup.Query("SELECT id FROM agents WHERE name = 'Ana Ruiz'");
    CHECK(
        desk.setup.Query("SELECT approved_by || ' ' || kind || ' ' || status FROM payment_plans") ==
        "agent:" + collector_id + " installments active");
    CHECK(desk.setup.Query("SELECT count(*) FROM plan_installments") == "7");
    CHECK(Code(agree(desk.collector, {{"kind", "installments"}, {"installments", 3}})) ==
          "plan_active");
    // Canned replies, filled in for her: the account, its reference, the open promise.
    const json canned = api.Get(desk.Path(id, "replies"), desk.collector);
    CHECK(canned["locale"] == "es-MX");
    std::map<std::string, std::string> texts;
    for (const json& r : canned["replies"]) {
        texts[r["id"].get<std::string>()] = r["text"].get<std::string>();
    }
    CHECK(texts["greeting"].rfind("Hola María, soy Ana Ruiz de ", 0) == 0);
    CHECK(texts["how_to_pay"].find("Referencia: " + desk.Reference("A-1001")) != std::string::npos);
    CHECK(texts["promise"].find("$2,000.00") != std::string::npos);
    CHECK(api.Post(desk.Path(id, "replies"), desk.collector).status == 405);
    CHECK(api.Call("GET", desk.Path(999999, "replies"), desk.collector).status == 404);
    CHECK(api.Call("GET", desk.Path(id, "replies"), "").status == 401);
    // The conversation shows both, and the collector still holds it.
    const json detail = api.Get(desk.Path(id), desk.collector);
    CHECK(detail["promises"].size() == 1);
    CHECK(detail["plans"].size() == 1);
    CHECK(detail["state"] == "claimed");
}

TEST_CASE("collector API: take over an escalated WhatsApp conversation, talk, hand back",
          "[bot][api][integration]") {
    Desk desk;
    const Api& api = desk.api;
    const std::int64_t id = desk.Escalate();
    const std::size_t bot_replies = desk.graph.WaitForRequests(3).size();

    // The queue: oldest first, with the reason and the waiting time; nothing claimed yet.
    const json queue = api.Get("/api/v1/conversations?state=escalated", desk.collector);
    REQUIRE(queue["conversations"].size() == 1);
    const json& item = queue["conversations"][0];
    CHECK(item["id"] == id);
    CHECK(item["escalation_reason"] == "human");
    CHECK(item["debtor_name"] == "María López");
    CHECK(item["channel"] == "whatsapp");
    CHECK(item["verified"] == true);
    CHECK(item["waiting_seconds"].is_number());
    CHECK(item["holder"].is_null());
    CHECK(item["last_message"] == "quiero hablar con una persona");
    CHECK(api.Get("/api/v1/conversations?phone=%2B5215512345678&state=all",
                  desk.collector)["conversations"]
              .size() == 1);
    CHECK(api.Get("/api/v1/conversations?state=claimed", desk.collector)["conversations"].empty());

    // Before claiming, nobody may talk or hand back.
    CHECK(Code(api.Post(desk.Path(id, "messages"), desk.collector, {{"text", "hola"}})) ==
          "not_held");
    CHECK(Code(api.Post(desk.Path(id, "release"), desk.collector)) == "not_held");

    // One collector at a time.
    const auto claimed = api.Post(desk.Path(id, "claim"), desk.collector);
    REQUIRE(claimed.status == 200);
    CHECK(json::parse(claimed.body)["holder"]["name"] == "Ana Ruiz");
    CHECK(api.Post(desk.Path(id, "claim"), desk.collector).status == 200);  // again: a no-op
    const auto second = api.Post(desk.Path(id, "claim"), desk.other_collector);
    CHECK(second.status == 409);
    CHECK(Code(second) == "held_by_other");
    CHECK(json::parse(second.body)["holder"]["name"] == "Ana Ruiz");
    CHECK(Code(api.Post(desk.Path(id, "messages"), desk.other_collector, {{"text", "x"}})) ==
          "held_by_other");
    CHECK(api.Get("/api/v1/conversations?state=claimed&mine=1", desk.collector)["conversations"]
              .size() == 1);
    CHECK(
        api.Get("/api/v1/conversations?state=claimed&mine=1", desk.other_collector)["conversations"]
            .empty());

    // The collector's message goes out through the outbox on WhatsApp.
    const auto sent =
        api.Post(desk.Path(id, "messages"), desk.collector, {{"text", "Hola María, soy Ana."}});
    REQUIRE(sent.status == 202);
    const auto requests = desk.graph.WaitForRequests(bot_replies + 1);
    const json out = json::parse(requests.back().body);
    CHECK(out["to"].get<std::string>().find("525512345678") != std::string::npos);
    CHECK(out["text"]["body"] == "Hola María, soy Ana.");

    // While claimed, the debtor's message reaches the transcript and the bot stays silent.
    desk.Say("¿me puede dar un descuento?");
    std::this_thread::sleep_for(700ms);
    CHECK(desk.graph.Requests().size() == bot_replies + 1);

    const json detail = api.Get(desk.Path(id), desk.collector);
    CHECK(detail["state"] == "claimed");
    CHECK(detail["debtor"]["name"] == "María López");
    CHECK(detail["debtor"].dump().find("1985") == std::string::npos);  // the secret stays put
    REQUIRE(detail["accounts"].size() == 1);
    CHECK(detail["accounts"][0]["balance"] == "12345.67");
    // 53 days on the 23rd; the 22nd still in Mexico City before 06:00 UTC.
    const int days_past_due = detail["accounts"][0]["days_past_due"];
    CHECK((days_past_due == 53 || days_past_due == 52));
    CHECK(detail["can_send"]["ok"] == true);
    CHECK(detail["whatsapp_window_closes_at"].is_string());
    const json& messages = detail["messages"];
    REQUIRE(messages.size() >= 8);
    CHECK(messages.back()["direction"] == "in");
    CHECK(messages.back()["text"] == "¿me puede dar un descuento?");
    const json& mine = messages[messages.size() - 2];
    CHECK(mine["author"] ==
          "agent:" + std::to_string(api.Get("/api/v1/me", desk.collector)["id"].get<int>()));
    CHECK(mine["text"] == "Hola María, soy Ana.");
    CHECK(mine["status"] == "sent");

    // A delivery status shows in the transcript.
    const std::string wamid = "wamid.OUT" + std::to_string(bot_replies + 1);
    REQUIRE(
        PostWhatsApp(desk.setup.port, WhatsAppStatus(wamid, "delivered", "1795000100")).status ==
        200);
    desk.setup.WaitFor("SELECT status FROM messages WHERE provider_message_id = '" + wamid + "'",
                       "delivered");
    const json after = api.Get(desk.Path(id), desk.collector);
    CHECK(after["messages"][after["messages"].size() - 2]["status"] == "delivered");

    // A note, then hand back: the bot answers the next message again.
    const auto note =
        api.Post(desk.Path(id, "notes"), desk.collector, {{"text", "Pide descuento; revisar."}});
    CHECK(note.status == 201);
    REQUIRE(api.Post(desk.Path(id, "release"), desk.collector).status == 200);
    desk.Say("saldo");
    desk.graph.WaitForRequests(bot_replies + 2);
    const json released = api.Get(desk.Path(id), desk.collector);
    CHECK(released["state"] == "bot");
    CHECK(released["holder"].is_null());
    CHECK(released["notes"].size() == 1);
    CHECK(released["notes"][0]["agent"]["name"] == "Ana Ruiz");
    CHECK(released["messages"].back()["author"] == "bot");
    CHECK(released["messages"].back()["text"].get<std::string>().find("$12,345.67") !=
          std::string::npos);

    // Every action is in the audit log, by whom.
    CHECK(desk.setup.Joined("SELECT kind FROM audit_log WHERE actor LIKE 'agent:%' ORDER BY id") ==
          "claimed,agent_message,note_added,released");
    // The debtor's words and the collector's are not in the logs.
    CHECK(desk.server->Stderr().find("Hola María") == std::string::npos);
    CHECK(desk.server->Stderr().find("descuento") == std::string::npos);
}

TEST_CASE("collector API: a supervisor reassigns and closes, and closed stays closed",
          "[bot][api][integration]") {
    Desk desk;
    const Api& api = desk.api;
    const std::int64_t id = desk.Escalate();
    const int beto = 2;  // agents are numbered in the order they were added

    REQUIRE(api.Post(desk.Path(id, "claim"), desk.collector).status == 200);
    // A collector may not hand a conversation to someone else.
    CHECK(api.Post(desk.Path(id, "claim"), desk.collector, {{"agent_id", beto}}).status == 403);
    // A supervisor may, whoever holds it; an unknown agent is 404.
    CHECK(api.Post(desk.Path(id, "claim"), desk.supervisor, {{"agent_id", 99}}).status == 404);
    // A supervisor's plain claim does not steal it.
    CHECK(Code(api.Post(desk.Path(id, "claim"), desk.supervisor)) == "held_by_other");
    const auto moved = api.Post(desk.Path(id, "claim"), desk.supervisor, {{"agent_id", beto}});
    REQUIRE(moved.status == 200);
    CHECK(json::parse(moved.body)["holder"]["name"] == "Beto Díaz");
    CHECK(Code(api.Post(desk.Path(id, "messages"), desk.collector, {{"text", "sigo aquí"}})) ==
          "held_by_other");

    // Bad closes change nothing.
    CHECK(api.Post(desk.Path(id, "close"), desk.other_collector).status == 400);
    CHECK(api.Post(desk.Path(id, "close"), desk.other_collector, {{"disposition", "won"}}).status ==
          400);
    CHECK(api.Call("POST", desk.Path(id, "close"), desk.other_collector, "{not json").status ==
          400);
    CHECK(Code(api.Post(desk.Path(id, "close"), desk.collector, {{"disposition", "paid"}})) ==
          "held_by_other");
    CHECK(desk.setup.Query("SELECT state FROM conversations WHERE id = " + std::to_string(id)) ==
          "claimed");

    const auto closed = api.Post(desk.Path(id, "close"),
                                 desk.other_collector,
                                 {{"disposition", "promise_to_pay"}, {"note", "Paga el 30."}});
    REQUIRE(closed.status == 200);
    CHECK(json::parse(closed.body)["state"] == "closed");
    CHECK(json::parse(closed.body)["disposition"] == "promise_to_pay");
    CHECK(Code(api.Post(desk.Path(id, "claim"), desk.supervisor)) == "closed");
    CHECK(Code(api.Post(desk.Path(id, "close"), desk.supervisor, {{"disposition", "paid"}})) ==
          "closed");
    CHECK(nlohmann::json::parse(desk.setup.Query(
              "SELECT detail FROM audit_log WHERE kind = 'closed'"))["disposition"] ==
          "promise_to_pay");
    CHECK(desk.setup.Joined("SELECT actor || ':' || kind FROM audit_log WHERE kind IN "
                            "('claimed', 'reassigned', 'closed') ORDER BY id") ==
          "agent:1:claimed,agent:3:reassigned,agent:2:closed");

    // The debtor's next message starts a new conversation with the bot.
    desk.Say("hola otra vez");
    CHECK(desk.setup.Query("SELECT count(*) || ' ' || max(state) FROM conversations WHERE phone "
                           "= '+525512345678' AND state <> 'closed'") == "1 bot");
    CHECK(api.Get("/api/v1/conversations?state=closed", desk.collector)["conversations"].size() ==
          1);
}

TEST_CASE("collector API: WhatsApp's 24-hour window and opt-outs stop a message, and say why",
          "[bot][api][integration]") {
    Desk desk("2026-11-23");
    const Api& api = desk.api;
    const std::int64_t id = desk.Escalate();
    REQUIRE(api.Post(desk.Path(id, "claim"), desk.collector).status == 200);
    const std::size_t before = desk.graph.WaitForRequests(3).size();

    // Two days later the window the debtor's last message opened is closed.
    desk.Restart("2026-11-25");
    CHECK(api.Get(desk.Path(id), desk.collector)["can_send"]["code"] == "outside_whatsapp_window");
    const auto late =
        api.Post(desk.Path(id, "messages"), desk.collector, {{"text", "¿Sigue ahí?"}});
    CHECK(late.status == 409);
    CHECK(Code(late) == "outside_whatsapp_window");
    CHECK(json::parse(late.body)["window_closed_at"].get<std::string>().rfind("2026-11-24T", 0) ==
          0);
    CHECK(desk.setup.Query("SELECT count(*) FROM messages WHERE author LIKE 'agent:%'") == "0");

    // The debtor writes again (the window opens) and opts out. Even while a collector holds
    // the conversation the opt-out is recorded and confirmed once; then nothing may go.
    desk.Say("BAJA");
    const auto confirmation = desk.graph.WaitForRequests(before + 1);
    CHECK(json::parse(confirmation.back().body)["to"].get<std::string>().find("5512345678") !=
          std::string::npos);
    CHECK(desk.setup.Query("SELECT kind || ' ' || channel FROM contact_preferences WHERE active "
                           "= 1") == "opt_out whatsapp");
    CHECK(api.Get(desk.Path(id), desk.collector)["can_send"]["code"] == "opted_out");
    const auto opted = api.Post(desk.Path(id, "messages"), desk.collector, {{"text", "Entendido"}});
    CHECK(opted.status == 409);
    CHECK(Code(opted) == "opted_out");
    desk.Say("¿sigue ahí?");  // an ordinary message: the bot stays silent, it is claimed
    std::this_thread::sleep_for(500ms);
    CHECK(desk.graph.Requests().size() == before + 1);
    CHECK(desk.setup.Query("SELECT count(*) FROM outbox o JOIN messages m ON m.id = o.message_id "
                           "WHERE m.author LIKE 'agent:%'") == "0");
}

// Pedro writes "hola" by SMS; returns his conversation's id once it exists.
std::int64_t PedroWritesBySms(Desk& desk) {
    REQUIRE(PostTwilio(desk.setup.port,
                       "/webhooks/twilio",
                       {{"MessageSid", "SM00000000000000000000000000000001"},
                        {"AccountSid", kTwilioSid},
                        {"From", "+525587654321"},
                        {"To", "+15005550006"},
                        {"Body", "hola"}})
                .status == 200);
    desk.setup.WaitFor("SELECT count(*) FROM conversations WHERE phone = '+525587654321'", "1");
    return std::stoll(
        desk.setup.Query("SELECT id FROM conversations WHERE phone = '+525587654321'"));
}

// The ids GET /api/v1/conversations?`query` lists, in its order.
std::vector<std::int64_t> ListedIds(const Api& api,
                                    const std::string& token,
                                    const std::string& query) {
    const auto res = api.Call("GET", "/api/v1/conversations?" + query, token);
    INFO(query << " -> " << res.status << " " << res.body);
    REQUIRE(res.status == 200);
    std::vector<std::int64_t> ids;
    const json answer = json::parse(res.body);
    for (const auto& c : answer["conversations"]) {
        ids.push_back(c["id"].get<std::int64_t>());
    }
    return ids;
}

TEST_CASE("collector API: search finds a debtor's conversations by name, phone or account",
          "[bot][api][integration]") {
    Desk desk;
    const Api& api = desk.api;
    const std::int64_t maria = desk.Escalate();
    const std::int64_t pedro = PedroWritesBySms(desk);  // stays with the bot
    const std::string pedro_reference = *dialogs::PaymentReference(
        std::stoll(desk.setup.Query("SELECT id FROM accounts WHERE account_key = 'A-2002'")));

    const auto found = [&](const std::string& q) {
        return ListedIds(api, desk.collector, FormEncode({{"q", q}}));
    };
    using Ids = std::vector<std::int64_t>;
    // Names, without the accents or the capitals they were imported with, in any state.
    CHECK(found("maria") == Ids{maria});
    CHECK(found("MARÍA LÓPEZ") == Ids{maria});
    CHECK(found("  lopez ") == Ids{maria});
    CHECK(found("maria ruiz").empty());
    CHECK(found("pedro") == Ids{pedro});  // with the bot: a search looks in every state
    // Phones, as people write them, by any run of four or more digits.
    CHECK(found("55 8765 4321") == Ids{pedro});
    CHECK(found("+52 (55) 1234-5678") == Ids{maria});
    CHECK(found("4321") == Ids{pedro});
    // Accounts, by key (any case) or payment reference.
    CHECK(found("a-2002") == Ids{pedro});
    CHECK(found(pedro_reference) == Ids{pedro});
    CHECK(found(pedro_reference.substr(0, 6) + "-" + pedro_reference.substr(6)) == Ids{pedro});
    // LIKE's wildcards are letters like any other.
    CHECK(found("%").empty());
    CHECK(found("_").empty());
    CHECK(found("Mar%a").empty());
    // A state narrows a search.
    const auto escalated =
        api.Get("/api/v1/conversations?state=bot&q=maria", desk.collector)["conversations"];
    CHECK(escalated.empty());
    // Without q, the queue is the escalated list, as before.
    const auto queue = api.Get("/api/v1/conversations", desk.collector)["conversations"];
    REQUIRE(queue.size() == 1);
    CHECK(queue[0]["id"] == maria);
    // Too long a query is refused.
    const auto long_query =
        api.Call("GET", "/api/v1/conversations?q=" + std::string(101, 'a'), desk.collector);
    CHECK(long_query.status == 400);
    CHECK(json::parse(long_query.body)["error"].get<std::string>().find("q") != std::string::npos);
}

TEST_CASE("collector API: a supervisor applies a payment in suspense to its account, once",
          "[bot][api][integration]") {
    Desk desk;
    const Api& api = desk.api;
    const std::size_t before = desk.Verify();  // María has a conversation to be thanked in
    const std::string statement = desk.setup.dir.File("statement.csv");
    std::ofstream(statement) << "payment_id,reference,amount,currency,paid_at\n"
                             << "S-1,99999,500.00,MXN,2026-11-22T10:00:00Z\n"
                             << "S-2,99999,500.00,MXN,2026-11-23T09:00:00Z\n";
    REQUIRE(RunCobrador({"import", "payments", "--db", desk.setup.db, statement}).exit_code == 0);
    const auto balances = [&] {
        return desk.setup.Joined("SELECT balance_cents FROM accounts ORDER BY id") + "|" +
               desk.setup.Query("SELECT status FROM payments WHERE payment_id = 'S-1'");
    };
    const std::string held = balances();
    REQUIRE(held == "1234567,80000|suspense");

    const auto match = [&](const std::string& token, const json& body) {
        return api.Call("POST", "/api/v1/payments/match", token, body.dump());
    };
    // Collectors may not; bad bodies, unknown payments and accounts are said so.
    CHECK(match(desk.collector, {{"payment_id", "S-1"}, {"account_id", "A-1001"}}).status == 403);
    CHECK(api.Call("POST", "/api/v1/payments/match", desk.supervisor, "{not json").status == 400);
    CHECK(match(desk.supervisor, {{"payment_id", "S-1"}}).status == 400);
    CHECK(match(desk.supervisor, {{"payment_id", "S-1"}, {"account_id", 1001}}).status == 400);
    const auto unknown = match(desk.supervisor, {{"payment_id", "S-1"}, {"account_id", "A-9"}});
    CHECK(unknown.status == 404);
    CHECK(json::parse(unknown.body)["error"] == "no such account");
    CHECK(match(desk.supervisor, {{"payment_id", "S-404"}, {"account_id", "A-1001"}}).status ==
          404);
    CHECK(api.Call("GET", "/api/v1/payments/match", desk.supervisor).status == 405);
    CHECK(balances() == held);

    CHECK(match(desk.supervisor,
                {{"payment_id", "S-1"}, {"account_id", "A-1001"}, {"confirm", "yes"}})
              .status == 400);
    // S-2 may be the same money told again: the supervisor is asked to confirm.
    const auto twin = match(desk.supervisor, {{"payment_id", "S-1"}, {"account_id", "A-1001"}});
    CHECK(twin.status == 409);
    CHECK(Code(twin) == "possible_duplicate");
    CHECK(json::parse(twin.body)["twin"] == "S-2");
    CHECK(balances() == held);

    // Confirmed, with the key typed in lower case and a space.
    const auto done = match(desk.supervisor,
                            {{"payment_id", "S-1"}, {"account_id", "a-1001 "}, {"confirm", true}});
    REQUIRE(done.status == 200);
    const json answer = json::parse(done.body);
    CHECK(answer["status"] == "applied");
    CHECK(answer["account_id"] == "A-1001");
    CHECK(answer["applied"] == "500.00");
    CHECK(answer["balance"] == "11845.67");
    CHECK(answer["debtor_told"] == true);
    CHECK(balances() == "1184567,80000|applied");
    // María is thanked, as for any payment to her account.
    const auto sent = desk.graph.WaitForRequests(before + 1);
    CHECK(sent.back().body.find("500.00") != std::string::npos);
    // Once: again is a conflict, and the suspense list is empty.
    const auto again = match(desk.supervisor, {{"payment_id", "S-1"}, {"account_id", "A-2002"}});
    CHECK(again.status == 409);
    CHECK(Code(again) == "not_in_suspense");
    CHECK(balances() == "1184567,80000|applied");
    const auto left = api.Get("/api/v1/payments/suspense", desk.supervisor)["payments"];
    REQUIRE(left.size() == 1);
    CHECK(left[0]["payment_id"] == "S-2");
    CHECK(left[0]["refunded_in_part"] == false);
    CHECK(desk.setup.Query("SELECT actor FROM audit_log WHERE kind = 'payment_matched'") ==
          "agent:" + desk.setup.Query("SELECT id FROM agents WHERE name = 'Sofía Vera'"));
}

TEST_CASE("collector API: the promises due today list each such debtor's latest conversation",
          "[bot][api][integration]") {
    Desk desk;  // the server's day is 2026-11-23
    const Api& api = desk.api;
    const std::int64_t maria = desk.Escalate();
    const std::int64_t pedro = PedroWritesBySms(desk);
    // María promised twice for today; Pedro once for tomorrow, and kept one due today.
    const auto promise =
        [&](const char* account, std::int64_t conversation, const char* due, const char* status) {
            return "((SELECT id FROM accounts WHERE account_key = '" + std::string(account) +
                   "'), " + std::to_string(conversation) + ", 10000, 'MXN', '" + due + "', '" +
                   status + "', '2026-11-20T10:00:00Z')";
        };
    Probe(desk.setup.db)
        .Exec(
            "INSERT INTO promises (account_id, conversation_id, amount_cents, currency, "
            "due_date, status, created_at) VALUES " +
            promise("A-1001", maria, "2026-11-23", "open") + ", " +
            promise("A-1001", maria, "2026-11-23", "open") + ", " +
            promise("A-2002", pedro, "2026-11-24", "open") + ", " +
            promise("A-2002", pedro, "2026-11-23", "kept"));

    const auto listed = [&](const std::string& query) {
        return ListedIds(api, desk.collector, query);
    };
    using Ids = std::vector<std::int64_t>;
    CHECK(listed("promise_due=today") == Ids{maria});  // once, for two promises
    CHECK(listed("promise_due=2026-11-23") == Ids{maria});
    CHECK(listed("promise_due=2026-11-24") == Ids{pedro});
    CHECK(listed("promise_due=2026-11-25").empty());
    CHECK(listed("promise_due=today&state=bot").empty());  // María's is escalated
    // Only the debtor's latest conversation: once María's is closed and she writes again, the
    // new one is listed instead.
    REQUIRE(api.Post(desk.Path(maria, "claim"), desk.supervisor).status == 200);
    REQUIRE(api.Post(desk.Path(maria, "close"),
                     desk.supervisor,
                     json{{"disposition", "promise_to_pay"}})
                .status == 200);
    desk.Say("hola otra vez");
    desk.setup.WaitFor("SELECT count(*) FROM conversations WHERE phone = '+525512345678'", "2");
    const Ids again = listed("promise_due=today");
    REQUIRE(again.size() == 1);
    CHECK(again[0] != maria);
    for (const char* bad : {"promise_due=mañana", "promise_due=2026-02-30", "promise_due="}) {
        INFO(bad);
        CHECK(api.Call("GET", std::string("/api/v1/conversations?") + bad, desk.collector).status ==
              400);
    }
}

TEST_CASE(
    "collector API: a supervisor adds a collector, whose token is shown once, and disables "
    "them",
    "[bot][api][integration]") {
    Desk desk;
    const Api& api = desk.api;
    const std::string sofia = desk.setup.Query("SELECT id FROM agents WHERE name = 'Sofía Vera'");
    const auto add = [&](const std::string& token, const json& body) {
        return api.Call("POST", "/api/v1/agents", token, body.dump());
    };
    // Collectors may not; bad bodies say what is wrong; nothing is added.
    CHECK(add(desk.collector, {{"name", "Carla"}, {"role", "collector"}}).status == 403);
    CHECK(add(desk.supervisor, {{"role", "collector"}}).status == 400);
    CHECK(add(desk.supervisor, {{"name", "  "}, {"role", "collector"}}).status == 400);
    CHECK(add(desk.supervisor, {{"name", "Carla"}, {"role", "boss"}}).status == 400);
    CHECK(add(desk.supervisor, {{"name", "Carla"}, {"role", 1}}).status == 400);
    CHECK(add(desk.supervisor, {{"name", "Carla"}, {"role", "collector"}, {"expires", "mañana"}})
              .status == 400);
    CHECK(add(desk.supervisor,
              {{"name", "Carla"}, {"role", "collector"}, {"expires", "2026-11-22"}})  // past
              .status == 400);
    CHECK(desk.setup.Query("SELECT count(*) FROM agents") == "3");

    const auto added = add(desk.supervisor,
                           {{"name", "Carla Núñez"}, {"role", "collector"}, {"expires", nullptr}});
    REQUIRE(added.status == 201);
    const json carla = json::parse(added.body);
    const std::string token = carla["token"];
    CHECK(token.size() == 68);
    CHECK(token.rfind("cbr_", 0) == 0);
    CHECK(carla["name"] == "Carla Núñez");
    CHECK(carla["role"] == "collector");
    const std::string carla_id = std::to_string(carla["id"].get<std::int64_t>());
    // She signs in with it; the list never shows it again.
    CHECK(api.Get("/api/v1/me", token)["name"] == "Carla Núñez");
    const auto listed = api.Call("GET", "/api/v1/agents", desk.supervisor);
    CHECK(listed.body.find("Carla Núñez") != std::string::npos);
    CHECK(listed.body.find(token.substr(4)) == std::string::npos);
    CHECK(desk.setup.Query("SELECT actor FROM audit_log WHERE kind = 'agent_added' ORDER BY id "
                           "DESC LIMIT 1") == "agent:" + sofia);

    // She takes a conversation; disabled, her token stops working and it goes back to the queue.
    const std::int64_t id = desk.Escalate();
    REQUIRE(api.Post(desk.Path(id, "claim"), token).status == 200);
    const auto disable = [&](const std::string& who, const std::string& target) {
        return api.Call("POST", "/api/v1/agents/" + target + "/disable", who);
    };
    CHECK(disable(desk.collector, carla_id).status == 403);
    CHECK(api.Call("GET", "/api/v1/agents/" + carla_id + "/disable", desk.supervisor).status ==
          405);
    const auto self = disable(desk.supervisor, sofia);
    CHECK(self.status == 409);
    CHECK(Code(self) == "self");
    CHECK(disable(desk.supervisor, "999").status == 404);
    CHECK(disable(desk.supervisor, "carla").status == 404);
    CHECK(api.Call("GET", "/api/v1/me", token).status == 200);  // none of that touched her

    const auto done = disable(desk.supervisor, carla_id);
    REQUIRE(done.status == 200);
    CHECK(json::parse(done.body)["conversations_returned"] == 1);
    CHECK(api.Call("GET", "/api/v1/me", token).status == 401);
    CHECK(desk.setup.Query("SELECT state FROM conversations WHERE id = " + std::to_string(id)) ==
          "escalated");
    CHECK(desk.setup.Query("SELECT actor FROM audit_log WHERE kind = 'agent_disabled'") ==
          "agent:" + sofia);
    CHECK(disable(desk.supervisor, carla_id).status == 404);  // once

    // The token never reaches the logs.
    desk.server->Signal(SIGTERM);
    REQUIRE(desk.server->Wait() == 0);
    CHECK(desk.server->Stderr().find(token.substr(4)) == std::string::npos);
    CHECK(desk.server->Stdout().find(token.substr(4)) == std::string::npos);
}

TEST_CASE(
    "collector API: access that runs out cannot make access that outlives it, and someone "
    "is always left to run the team",
    "[bot][api][integration]") {
    Desk desk;  // Sofía, the only supervisor, has no expiry; the server's day is 2026-11-23
    const Api& api = desk.api;
    const auto add = [&](const std::string& token, const json& body) {
        return api.Call("POST", "/api/v1/agents", token, body.dump());
    };
    const auto rosa_added =
        add(desk.supervisor, {{"name", "Rosa"}, {"role", "supervisor"}, {"expires", "2026-12-31"}});
    REQUIRE(rosa_added.status == 201);
    const std::string rosa = json::parse(rosa_added.body)["token"];
    const std::string rosa_id =
        std::to_string(json::parse(rosa_added.body)["id"].get<std::int64_t>());
    const std::string sofia = desk.setup.Query("SELECT id FROM agents WHERE name = 'Sofía Vera'");

    // Rosa's access ends on 2026-12-31: no supervisors, no collector without an end or past hers.
    CHECK(add(rosa, {{"name", "X"}, {"role", "supervisor"}, {"expires", "2026-12-01"}}).status ==
          403);
    CHECK(add(rosa, {{"name", "X"}, {"role", "collector"}}).status == 403);
    CHECK(add(rosa, {{"name", "X"}, {"role", "collector"}, {"expires", "2027-01-15"}}).status ==
          403);
    CHECK(desk.setup.Query("SELECT count(*) FROM agents WHERE name = 'X'") == "0");
    CHECK(add(rosa, {{"name", "Temporal"}, {"role", "collector"}, {"expires", "2026-12-15"}})
              .status == 201);

    // Sofía is the last supervisor whose access does not run out: Rosa may not disable her.
    const auto last = api.Call("POST", "/api/v1/agents/" + sofia + "/disable", rosa);
    CHECK(last.status == 409);
    CHECK(Code(last) == "last_supervisor");
    CHECK(api.Call("GET", "/api/v1/me", desk.supervisor).status == 200);
    // Sofía may disable Rosa.
    CHECK(api.Call("POST", "/api/v1/agents/" + rosa_id + "/disable", desk.supervisor).status ==
          200);
    CHECK(api.Call("GET", "/api/v1/me", rosa).status == 401);
    // The command line on the server may still do anything (it is how the team is recovered).
    CHECK(RunCobrador({"agent", "disable", "--db", desk.setup.db, "--id", sofia}).exit_code == 0);
}

TEST_CASE("collector API: bad requests get a clear 4xx and change nothing",
          "[bot][api][integration]") {
    Desk desk;
    const Api& api = desk.api;
    const std::int64_t id = desk.Escalate();
    REQUIRE(api.Post(desk.Path(id, "claim"), desk.collector).status == 200);
    const std::string messages_before = desk.setup.Query("SELECT count(*) FROM messages");
    const std::string audit_before = desk.setup.Query("SELECT count(*) FROM audit_log");

    const auto expect = [&](const HttpResponse& res, unsigned status, const std::string& code) {
        INFO(res.body);
        CHECK(res.status == status);
        CHECK(Code(res) == code);
        CHECK(json::parse(res.body)["error"].get<std::string>().size() > 5);
    };
    expect(api.Call("POST", desk.Path(id, "messages"), desk.collector, "{\"text\":"),
           400,
           "bad_request");
    expect(
        api.Call("POST", desk.Path(id, "messages"), desk.collector, "[1,2]"), 400, "bad_request");
    expect(api.Post(desk.Path(id, "messages"), desk.collector, {{"text", 5}}), 400, "bad_request");
    expect(api.Post(desk.Path(id, "messages"), desk.collector, {{"text", "  \n "}}),
           400,
           "bad_request");
    expect(api.Post(desk.Path(id, "messages"), desk.collector, {{"text", std::string(4097, 'a')}}),
           400,
           "bad_request");
    expect(api.Call("POST",
                    desk.Path(id, "messages"),
                    desk.collector,
                    "{\"text\":\"\xff\xfe broken utf-8\"}"),
           400,
           "bad_request");
    expect(api.Post(desk.Path(id, "notes"), desk.collector, json::object()), 400, "bad_request");
    expect(api.Call("GET", "/api/v1/conversations?state=everything", desk.collector),
           400,
           "bad_request");
    expect(
        api.Call("GET", "/api/v1/conversations?phone=hello", desk.collector), 400, "bad_request");
    expect(api.Call("GET", "/api/v1/conversations?limit=0", desk.collector), 400, "bad_request");
    expect(api.Call("GET", "/api/v1/conversations/abc", desk.collector), 404, "not_found");
    expect(api.Call("GET", "/api/v1/conversations/999", desk.collector), 404, "not_found");
    expect(api.Post("/api/v1/conversations/999/claim", desk.collector), 404, "not_found");
    expect(api.Post(desk.Path(id, "dance"), desk.collector), 404, "not_found");
    expect(api.Call("DELETE", desk.Path(id), desk.collector), 405, "method_not_allowed");
    expect(api.Call("GET", desk.Path(id, "claim"), desk.collector), 405, "method_not_allowed");

    CHECK(desk.setup.Query("SELECT count(*) FROM messages") == messages_before);
    CHECK(desk.setup.Query("SELECT count(*) FROM audit_log") == audit_before);
}

TEST_CASE("collector API: the debtor's messages reach a collector live over server-sent events",
          "[bot][api][integration]") {
    Desk desk;
    const std::int64_t id = desk.Escalate();
    REQUIRE(desk.api.Post(desk.Path(id, "claim"), desk.collector).status == 200);
    const std::string stream = ReadEvents(
        desk.setup.port,
        desk.collector,
        [&] { desk.Say("ya voy a pagar"); },
        "\"change\":\"message\",\"id\":" + std::to_string(id));
    CHECK(stream.rfind("HTTP/1.1 200", 0) == 0);
    CHECK(stream.find("text/event-stream") != std::string::npos);
    CHECK(stream.find("event: conversation\ndata: {\"change\":\"message\",\"id\":" +
                      std::to_string(id) + "}\n\n") != std::string::npos);
    // The stream says what changed, never what was said.
    CHECK(stream.find("pagar") == std::string::npos);

    // A stop ends the streams and the server exits promptly.
    const auto started = std::chrono::steady_clock::now();
    desk.server->Signal(SIGTERM);
    CHECK(desk.server->Wait() == 0);
    CHECK(std::chrono::steady_clock::now() - started < 5s);
}

TEST_CASE("the console is served from the binary, with a strict content policy and no way out",
          "[bot][api][integration]") {
    Desk desk;
    const std::uint16_t port = desk.setup.port;
    const auto index = HttpRequest(port, "GET", "/console/");
    REQUIRE(index.status == 200);
    CHECK(index.headers.at("content-type").rfind("text/html", 0) == 0);
    CHECK(index.headers.at("content-security-policy").find("script-src 'self'") !=
          std::string::npos);
    CHECK(index.headers.at("x-content-type-options") == "nosniff");
    CHECK(index.body.find("console.js") != std::string::npos);
    CHECK(HttpRequest(port, "GET", "/console").status == 301);
    CHECK(HttpRequest(port, "GET", "/console/console.js")
              .headers.at("content-type")
              .rfind("text/javascript", 0) == 0);
    CHECK(HttpRequest(port, "GET", "/console/console.css").status == 200);
    for (const char* sneaky : {"/console/../../etc/passwd",
                               "/console/%2e%2e/%2e%2e/etc/passwd",
                               "/console/..%2fcobrador.db",
                               "/console//etc/passwd",
                               "/console/console.js%00.html",
                               "/console/ledger.db",
                               "/console/phone.html"}) {  // the sandbox phone is --demo only
        const auto res = HttpRequest(port, "GET", sneaky);
        INFO(sneaky);
        CHECK(res.status == 404);
        CHECK(res.body.find("root:") == std::string::npos);
    }
    CHECK(HttpRequest(port, "POST", "/console/", "x").status == 405);
}

}  // namespace
}  // namespace cobrador::testing
