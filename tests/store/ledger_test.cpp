#include "store/ledger.hpp"

#include <sstream>

#include <catch2/catch.hpp>

#include "inbound.hpp"
#include "people.hpp"
#include "support/catch_result.hpp"
#include "support/probe.hpp"
#include "support/temp_dir.hpp"

namespace cobrador::store {
namespace {

using testing::OnPostgres;
using testing::Probe;
using testing::TempDir;

constexpr const char* kNow = "2026-11-22T10:00:00Z";

std::vector<PortfolioRow> Rows(const std::string& csv_rows) {
    std::istringstream in("account_id,debtor_name,phone,birth_date,balance,currency,due_date\n" +
                          csv_rows);
    auto parsed = ParsePortfolioCsv(in);
    REQUIRE(parsed.errors.empty());
    return parsed.rows;
}

Ledger Migrated(const std::string& path) {
    auto ledger = Ledger::Open(path);
    REQUIRE(ledger);
    REQUIRE(ledger->Migrate());
    return std::move(*ledger);
}

std::int64_t Count(const std::string& path, const std::string& sql) {
    return Probe(path).Count(sql);
}

TEST_CASE("Ledger: migrate creates the schema and is safe to run twice", "[store][ledger]") {
    TempDir dir;
    const std::string path = dir.Ledger("ledger.db");
    auto ledger = Ledger::Open(path);
    REQUIRE(ledger);
    CHECK(ledger->SchemaVersion().value() == 0);
    CHECK(ledger->CheckReady().error() == Errc::kNotMigrated);
    const auto first = ledger->Migrate();
    REQUIRE(first);
    CHECK(*first == std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15});
    CHECK(ledger->SchemaVersion().value() == Ledger::LatestSchemaVersion());
    CHECK(ledger->CheckReady());
    const auto second = ledger->Migrate();
    REQUIRE(second);
    CHECK(second->empty());
    CHECK(Count(path, "SELECT count(*) FROM schema_migrations") == 15);
    if (!OnPostgres()) {
        // WAL is on for every SQLite connection the ledger opens.
        CHECK(Probe(path).Text("PRAGMA journal_mode") == "wal");
    }
}

TEST_CASE("Ledger: an older schema is upgraded and keeps its rows", "[store][ledger]") {
    TempDir dir;
    const std::string path = dir.Ledger("old.db");
    {
        auto ledger = Ledger::Open(path);
        REQUIRE(ledger);
        REQUIRE(ledger->Migrate(1).value() == std::vector<int>{1});
        CHECK(ledger->CheckReady().error() == Errc::kNotMigrated);
        Probe(path).Exec(
            "INSERT INTO debtors (debtor_key, name, phone, birth_date, created_at, updated_at) "
            "VALUES ('D1', 'Ana', '+525512345678', '1985-03-15', 'x', 'x')");
    }
    auto ledger = Ledger::Open(path);
    REQUIRE(ledger);
    CHECK(ledger->Migrate().value() ==
          std::vector<int>{2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15});
    CHECK(ledger->CheckReady());
    CHECK(Count(path, "SELECT count(*) FROM debtors WHERE debtor_key = 'D1'") == 1);
}

TEST_CASE("Ledger: a file from a newer cobrador is left alone", "[store][ledger]") {
    TempDir dir;
    const std::string path = dir.Ledger("new.db");
    Migrated(path);
    { Probe(path).Exec("INSERT INTO schema_migrations VALUES (99, 'future', 'x')"); }
    auto ledger = Ledger::Open(path);
    REQUIRE(ledger);
    CHECK(ledger->Migrate().error() == Errc::kSchemaTooNew);
    CHECK(ledger->CheckReady().error() == Errc::kSchemaTooNew);
}

TEST_CASE("Ledger: a file that is not a database is refused", "[store][ledger][sqlite]") {
    TempDir dir;
    const std::string path = dir.Write("junk.db", std::string(4096, 'x'));
    auto ledger = Ledger::Open(path);
    REQUIRE_FALSE(ledger);
    CHECK(ledger.error() == Errc::kCorrupt);
    CHECK_FALSE(Ledger::Open(dir.File("missing.db"), Ledger::OpenMode::kReadWrite));
}

TEST_CASE("Ledger: importing needs an up-to-date schema", "[store][ledger]") {
    TempDir dir;
    auto ledger = Ledger::Open(dir.Ledger());
    REQUIRE(ledger);
    const auto result = ledger->ImportPortfolio(
        Rows("A1,Ana,+525512345678,1985-03-15,1,MXN,2026-10-01\n"), "f.csv", kNow);
    CHECK(result.error() == Errc::kNotMigrated);
}

TEST_CASE("Ledger: import inserts, then re-import updates and keeps history", "[store][ledger]") {
    TempDir dir;
    const std::string path = dir.Ledger("ledger.db");
    Ledger ledger = Migrated(path);
    const auto first =
        ledger.ImportPortfolio(Rows("A1,Ana,+52 1 55 1234 5678,1985-03-15,1000.00,MXN,2026-10-01\n"
                                    "A2,Ana,+525512345678,1985-03-15,250.50,MXN,2026-11-01\n"
                                    "B1,Beto,+525587654321,1970-01-01,99.99,MXN,2026-09-15\n"),
                               "first.csv",
                               kNow);
    REQUIRE(first);
    CHECK(first->debtors_inserted == 2);
    CHECK(first->accounts_inserted == 3);
    CHECK(Count(path, "SELECT count(*) FROM debtors") == 2);
    CHECK(Count(path, "SELECT sum(balance_cents) FROM accounts") == 100000 + 25050 + 9999);
    CHECK(Count(path, "SELECT count(*) FROM debtors WHERE phone = '+525512345678'") == 1);

    // A payment came in for A1 elsewhere; the creditor's next file says so. B1 is unchanged,
    // and A2 is missing from the file: it stays as it was.
    const auto second =
        ledger.ImportPortfolio(Rows("A1,Ana,+525512345678,1985-03-15,400.00,MXN,2026-10-01\n"
                                    "B1,Beto,+525587654321,1970-01-01,99.99,MXN,2026-09-15\n"
                                    "C1,Caro,+525511112222,1990-05-05,10.00,MXN,2026-11-20\n"),
                               "second.csv",
                               "2026-11-23T10:00:00Z");
    REQUIRE(second);
    CHECK(second->debtors_inserted == 1);
    CHECK(second->debtors_updated == 0);
    CHECK(second->accounts_inserted == 1);
    CHECK(second->accounts_updated == 1);
    CHECK(second->balances_changed == 1);
    CHECK(second->accounts_unchanged == 1);
    CHECK(Count(path, "SELECT balance_cents FROM accounts WHERE account_key = 'A1'") == 40000);
    CHECK(Count(path, "SELECT balance_cents FROM accounts WHERE account_key = 'A2'") == 25050);
    // History: A1's two balances, in order.
    const std::vector<std::int64_t> balances = Probe(path).Ints(
        "SELECT h.balance_cents FROM balance_history h JOIN accounts a ON "
        "a.id = h.account_id WHERE a.account_key = 'A1' ORDER BY h.id");
    CHECK(balances == std::vector<std::int64_t>{100000, 40000});
    CHECK(Count(path, "SELECT count(*) FROM imports") == 2);
    CHECK(Count(path, "SELECT count(*) FROM audit_log WHERE kind = 'portfolio_imported'") == 2);
}

TEST_CASE("Ledger: a debtor's corrected details update in place", "[store][ledger]") {
    TempDir dir;
    const std::string path = dir.Ledger("ledger.db");
    Ledger ledger = Migrated(path);
    REQUIRE(ledger.ImportPortfolio(
        Rows("A1,Ana Lopez,+525512345678,1985-03-15,1,MXN,2026-10-01\n"), "a.csv", kNow));
    const auto again = ledger.ImportPortfolio(
        Rows("A1,Ana López,+525512345678,1985-03-15,1,MXN,2026-10-01\n"), "b.csv", kNow);
    REQUIRE(again);
    CHECK(again->debtors_updated == 1);
    CHECK(again->accounts_unchanged == 1);
    CHECK(Probe(path).Text("SELECT name FROM debtors") == "Ana López");
}

TEST_CASE("Ledger: a failing import leaves nothing behind", "[store][ledger]") {
    TempDir dir;
    const std::string path = dir.Ledger("ledger.db");
    Ledger ledger = Migrated(path);
    REQUIRE(ledger.ImportPortfolio(
        Rows("A1,Ana,+525512345678,1985-03-15,1.00,MXN,2026-10-01\n"), "a.csv", kNow));
    // Rows that skipped the parser's checks: the last one breaks a schema rule.
    auto rows = Rows(
        "A1,Ana,+525512345678,1985-03-15,5.00,MXN,2026-10-01\n"
        "A2,Bea,+525512345679,1985-03-15,2.00,MXN,2026-10-01\n");
    rows[1].locale = "fr-FR";
    const auto result = ledger.ImportPortfolio(rows, "bad.csv", kNow);
    REQUIRE_FALSE(result);
    CHECK(result.error() == Errc::kConstraint);
    CHECK(Count(path, "SELECT balance_cents FROM accounts WHERE account_key = 'A1'") == 100);
    CHECK(Count(path, "SELECT count(*) FROM accounts") == 1);
    CHECK(Count(path, "SELECT count(*) FROM imports") == 1);
}

TEST_CASE("Ledger: the audit log is append-only", "[store][ledger]") {
    TempDir dir;
    const std::string path = dir.Ledger("ledger.db");
    Ledger ledger = Migrated(path);
    REQUIRE(ledger.ImportPortfolio(
        Rows("A1,Ana,+525512345678,1985-03-15,1.00,MXN,2026-10-01\n"), "a.csv", kNow));
    Probe db(path);
    CHECK_THROWS_WITH(db.Exec("UPDATE audit_log SET kind = 'x'"), Catch::Contains("append-only"));
    CHECK_THROWS_WITH(db.Exec("DELETE FROM audit_log"), Catch::Contains("append-only"));
    CHECK(Count(path, "SELECT count(*) FROM audit_log") == 1);
}

TEST_CASE("Ledger: agents are stored by token hash, unique", "[store][ledger]") {
    TempDir dir;
    const std::string path = dir.Ledger("ledger.db");
    Ledger ledger = Migrated(path);
    const auto id = ledger.AddAgent("Laura", "collector", std::string(64, 'a'), kNow);
    REQUIRE(id);
    CHECK(ledger.AddAgent("Other", "supervisor", std::string(64, 'a'), kNow).error() ==
          Errc::kConstraint);
    CHECK(ledger.AddAgent("Bad", "janitor", std::string(64, 'b'), kNow).error() ==
          Errc::kConstraint);
    CHECK(Count(path, "SELECT count(*) FROM agents") == 1);
}

}  // namespace
}  // namespace cobrador::store

namespace cobrador::store {
namespace {

// One inbound message from `phone` on the sandbox channel, handled by a bot that says "ok".
std::int64_t Inbound(Ledger& ledger,
                     const std::string& phone,
                     const std::string& id,
                     const std::string& now) {
    return testing::ReceiveText(
        ledger,
        id,
        phone,
        [](const dialogs::ConversationView&) {
            DialogTurn turn;
            turn.dialog_state = "{}";
            turn.replies.push_back({"ok", "{\"text\":\"ok\"}"});
            return turn;
        },
        now);
}

Agent NewAgent(Ledger& ledger, const std::string& name, dialogs::Role role) {
    return testing::NewAgent(ledger, name, role, kNow);
}

TEST_CASE("Ledger: an inbound event keeps what the dialog reads as columns", "[store][ledger]") {
    TempDir dir;
    const std::string path = dir.Ledger("ledger.db");
    Ledger ledger = Migrated(path);
    const InboundRecord typed{"whatsapp",
                              "wamid.1",
                              "interactive",
                              "+525511111111",
                              "{}",
                              "Ver saldo",
                              "menu:balance",
                              "wamid.OUT1"};
    REQUIRE(ledger.RecordWebhook({typed}, {}, kNow));
    // An event written before the columns existed (or by hand) has none: the payload is read.
    {
        Probe(path).Exec(
            "INSERT INTO inbound_events (channel, provider_event_id, kind, phone, payload, "
            "received_at) VALUES ('sms', 'SM1', 'text', '+525522222222', "
            "'{\"text\":\"hola\"}', '2026-11-22T10:00:00Z')");
    }
    const auto pending = ledger.PendingInboundEvents(10);
    REQUIRE(pending);
    REQUIRE(pending->size() == 2);
    CHECK(pending->at(0).text == "Ver saldo");
    CHECK(pending->at(0).reply_id == "menu:balance");
    CHECK(Count(path, "SELECT count(*) FROM inbound_events WHERE context_id = 'wamid.OUT1'") == 1);
    CHECK_FALSE(pending->at(1).text.has_value());
    CHECK_FALSE(pending->at(1).reply_id.has_value());
}

TEST_CASE("Ledger: a group with a failing call keeps the others on SQLite, nothing on PostgreSQL",
          "[store][ledger]") {
    TempDir dir;
    const std::string path = dir.Ledger("ledger.db");
    Ledger ledger = Migrated(path);
    const auto message = [](const std::string& id, const std::string& channel) {
        return InboundRecord{channel, id, "text", "+525511111111", "{}", "hola", "", ""};
    };
    std::vector<bool> answers;
    const auto group = ledger.InOneTransaction([&] {
        answers.push_back(
            ledger.RecordWebhook({message("wamid.A", "whatsapp")}, {}, kNow).has_value());
        // No such status: the schema's CHECK refuses it.
        const StatusRecord bad{"whatsapp", "wamid.OUT", "exploded", "", "", kNow};
        answers.push_back(ledger.RecordWebhook({}, {bad}, kNow).has_value());
        answers.push_back(
            ledger.RecordWebhook({message("wamid.C", "whatsapp")}, {}, kNow).has_value());
    });
    CHECK(answers == std::vector<bool>{true, false, OnPostgres() ? false : true});
    if (OnPostgres()) {
        // No savepoints: the failed call's half cannot be told apart, so nothing is kept.
        REQUIRE_FALSE(group);
        CHECK(group.error() == Errc::kBusy);
        CHECK(Count(path, "SELECT count(*) FROM inbound_events") == 0);
    } else {
        REQUIRE(group);
        CHECK(Probe(path).Joined("SELECT provider_event_id FROM inbound_events ORDER BY id") ==
              "wamid.A,wamid.C");
    }
    // The connection is fine afterwards, and a group without failures commits.
    REQUIRE(ledger.InOneTransaction(
        [&] { CHECK(ledger.RecordWebhook({message("wamid.D", "sms")}, {}, kNow)); }));
    CHECK(Count(path, "SELECT count(*) FROM inbound_events WHERE provider_event_id = 'wamid.D'") ==
          1);
}

TEST_CASE("Ledger: an idle claim goes back to the queue, a busy one stays", "[store][ledger]") {
    TempDir dir;
    const std::string path = dir.Ledger("ledger.db");
    Ledger ledger = Migrated(path);
    const auto ana_id = ledger.AddAgent("Ana", "collector", std::string(64, 'a'), kNow);
    REQUIRE(ana_id);
    const Agent ana{
        *ana_id, "Ana", dialogs::Role::kCollector, kNow, false, std::nullopt, std::nullopt};
    const std::int64_t idle = Inbound(ledger, "+525511111111", "in-1", "2026-11-22T10:00:00Z");
    const std::int64_t busy = Inbound(ledger, "+525522222222", "in-2", "2026-11-22T10:00:00Z");
    REQUIRE(ledger.ClaimConversation(idle, ana, std::nullopt, "2026-11-22T10:00:00Z")->ok());
    REQUIRE(ledger.ClaimConversation(busy, ana, std::nullopt, "2026-11-22T10:00:00Z")->ok());
    // The debtor keeps writing in the idle one: that does not keep the claim alive.
    Inbound(ledger, "+525511111111", "in-3", "2026-11-22T10:40:00Z");
    // Ana works on the busy one.
    REQUIRE(ledger.AddNote(busy, ana, "llamar mañana", "2026-11-22T10:25:00Z")->ok());

    // Idle since 10:20 (at 10:50 with 30 minutes).
    const auto expired = ledger.ExpireIdleClaims("2026-11-22T10:20:00Z", "2026-11-22T10:50:00Z");
    REQUIRE(expired);
    CHECK(*expired == std::vector<std::int64_t>{idle});
    CHECK(Count(path,
                "SELECT count(*) FROM conversations WHERE state = 'escalated' AND "
                "assigned_agent_id IS NULL AND id = " +
                    std::to_string(idle)) == 1);
    CHECK(Count(path,
                "SELECT count(*) FROM conversations WHERE state = 'claimed' AND id = " +
                    std::to_string(busy)) == 1);
    CHECK(Count(path,
                "SELECT count(*) FROM audit_log WHERE kind = 'claim_expired' AND actor = "
                "'system'") == 1);
    // Nothing left to expire: running it again changes nothing.
    CHECK(ledger.ExpireIdleClaims("2026-11-22T10:20:00Z", "2026-11-22T10:51:00Z")->empty());
}

TEST_CASE(
    "Ledger: an agreement is judged on the debtor's own day, and only the holder's keeps "
    "the claim alive",
    "[store][ledger]") {
    TempDir dir;
    const std::string path = dir.Ledger("ledger.db");
    Ledger ledger = Migrated(path);
    REQUIRE(ledger.ImportPortfolio(
        Rows("A-1,María López,+525511111111,1985-03-15,1000.00,MXN,2026-11-01\n"
             "A-2,María López,+525511111111,1985-03-15,1000.00,MXN,2026-11-01\n"),
        "test",
        kNow));
    const Agent ana = NewAgent(ledger, "Ana", dialogs::Role::kCollector);
    const Agent sofia = NewAgent(ledger, "Sofía", dialogs::Role::kSupervisor);
    const std::int64_t id = Inbound(ledger, "+525511111111", "in-1", "2026-11-24T01:00:00Z");
    REQUIRE(ledger.ClaimConversation(id, ana, std::nullopt, "2026-11-24T02:00:00Z")->ok());
    const auto promise = [](const char* account, const char* date) {
        return AgentAgreement{
            account, {dialogs::AgreementKind::kPromise, 10000, dialogs::ParseIsoDate(date), 0}};
    };
    // 21:00 on the 23rd in Mexico City (03:00 on the 24th in UTC): the 23rd is still today.
    const auto tonight = ledger.RecordAgreement(id,
                                                ana,
                                                promise("A-1", "2026-11-23"),
                                                dialogs::DefaultPolicy(),
                                                std::nullopt,
                                                "2026-11-24T03:00:00Z");
    REQUIRE(tonight);
    CHECK(tonight->ok());
    // 01:00 on the 24th there: the 23rd has passed.
    const auto late = ledger.RecordAgreement(id,
                                             sofia,
                                             promise("A-2", "2026-11-23"),
                                             dialogs::DefaultPolicy(),
                                             std::nullopt,
                                             "2026-11-24T07:00:00Z");
    REQUIRE(late);
    CHECK(late->refusal == Refusal::kNotAgreed);
    CHECK(late->agreement->problem == dialogs::AgreementProblem::kPastDate);
    // Several accounts owe: one must be named.
    const auto unnamed = ledger.RecordAgreement(
        id,
        ana,
        {std::nullopt, {dialogs::AgreementKind::kInstallments, 0, std::nullopt, 2}},
        dialogs::DefaultPolicy(),
        std::nullopt,
        "2026-11-24T03:00:00Z");
    CHECK(unnamed->refusal == Refusal::kNoAccount);
    // Ana's recording was activity on her claim; Sofía's plan, later, is not.
    CHECK(ledger.ExpireIdleClaims("2026-11-24T02:30:00Z", "2026-11-24T03:10:00Z")->empty());
    REQUIRE(
        ledger
            .RecordAgreement(id,
                             sofia,
                             {"A-2", {dialogs::AgreementKind::kInstallments, 0, std::nullopt, 2}},
                             dialogs::DefaultPolicy(),
                             std::nullopt,
                             "2026-11-24T09:00:00Z")
            ->ok());
    CHECK(Count(path,
                "SELECT count(*) FROM payment_plans WHERE approved_by = 'agent:" +
                    std::to_string(sofia.id) + "'") == 1);
    CHECK(*ledger.ExpireIdleClaims("2026-11-24T08:00:00Z", "2026-11-24T09:05:00Z") ==
          std::vector<std::int64_t>{id});
}

TEST_CASE("Ledger: a refused collector action writes nothing", "[store][ledger]") {
    TempDir dir;
    const std::string path = dir.Ledger("ledger.db");
    Ledger ledger = Migrated(path);
    const Agent ana = NewAgent(ledger, "Ana", dialogs::Role::kCollector);
    const Agent beto = NewAgent(ledger, "Beto", dialogs::Role::kCollector);
    const std::int64_t id = Inbound(ledger, "+525511111111", "in-1", kNow);
    REQUIRE(ledger.ClaimConversation(id, ana, std::nullopt, kNow)->ok());
    const auto audit = Count(path, "SELECT count(*) FROM audit_log");
    const auto messages = Count(path, "SELECT count(*) FROM messages");

    const auto taken = ledger.ClaimConversation(id, beto, std::nullopt, kNow);
    CHECK(taken->refusal == Refusal::kHeldByOther);
    CHECK(taken->holder->name == "Ana");
    CHECK(ledger.ClaimConversation(id, beto, ana.id, kNow)->refusal == Refusal::kForbidden);
    CHECK(
        ledger.SendAgentMessage(id, beto, {"hola", "{\"text\":\"hola\"}", false}, kNow)->refusal ==
        Refusal::kHeldByOther);
    CHECK(ledger.ReleaseConversation(id, beto, kNow)->refusal == Refusal::kHeldByOther);
    CHECK(ledger.CloseConversation(id, beto, "paid", "", kNow)->refusal == Refusal::kHeldByOther);
    CHECK(ledger.ClaimConversation(999, ana, std::nullopt, kNow)->refusal == Refusal::kNotFound);
    CHECK(Count(path, "SELECT count(*) FROM audit_log") == audit);
    CHECK(Count(path, "SELECT count(*) FROM messages") == messages);

    // The holder's message lands in the transcript and the outbox together.
    const auto sent =
        ledger.SendAgentMessage(id, ana, {"hola", "{\"text\":\"hola\"}", false}, kNow);
    REQUIRE(sent->ok());
    CHECK(Count(path,
                "SELECT count(*) FROM outbox WHERE message_id = " +
                    std::to_string(sent->created_id)) == 1);
    CHECK(IsDisposition("promise_to_pay"));
    CHECK_FALSE(IsDisposition("won"));
}

}  // namespace
}  // namespace cobrador::store
