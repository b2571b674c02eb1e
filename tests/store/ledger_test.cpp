#include "store/ledger.hpp"

#include <sstream>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <catch2/catch.hpp>

#include "support/catch_result.hpp"
#include "support/temp_dir.hpp"

namespace cobrador::store {
namespace {

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
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    SQLite::Statement st(db, sql);
    REQUIRE(st.executeStep());
    return st.getColumn(0).getInt64();
}

TEST_CASE("Ledger: migrate creates the schema and is safe to run twice", "[store][ledger]") {
    TempDir dir;
    const std::string path = dir.File("ledger.db");
    auto ledger = Ledger::Open(path);
    REQUIRE(ledger);
    CHECK(ledger->SchemaVersion().value() == 0);
    CHECK(ledger->CheckReady().error() == Errc::kNotMigrated);
    const auto first = ledger->Migrate();
    REQUIRE(first);
    CHECK(*first == std::vector<int>{1, 2, 3});
    CHECK(ledger->SchemaVersion().value() == Ledger::LatestSchemaVersion());
    CHECK(ledger->CheckReady());
    const auto second = ledger->Migrate();
    REQUIRE(second);
    CHECK(second->empty());
    CHECK(Count(path, "SELECT count(*) FROM schema_migrations") == 3);
    // WAL and foreign keys are on for every connection the ledger opens.
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    CHECK(db.execAndGet("PRAGMA journal_mode").getString() == "wal");
}

TEST_CASE("Ledger: an older schema is upgraded and keeps its rows", "[store][ledger]") {
    TempDir dir;
    const std::string path = dir.File("old.db");
    {
        auto ledger = Ledger::Open(path);
        REQUIRE(ledger);
        REQUIRE(ledger->Migrate(1).value() == std::vector<int>{1});
        CHECK(ledger->CheckReady().error() == Errc::kNotMigrated);
        SQLite::Database db(path, SQLite::OPEN_READWRITE);
        db.exec(
            "INSERT INTO debtors (debtor_key, name, phone, birth_date, created_at, updated_at) "
            "VALUES ('D1', 'Ana', '+525512345678', '1985-03-15', 'x', 'x')");
    }
    auto ledger = Ledger::Open(path);
    REQUIRE(ledger);
    CHECK(ledger->Migrate().value() == std::vector<int>{2, 3});
    CHECK(ledger->CheckReady());
    CHECK(Count(path, "SELECT count(*) FROM debtors WHERE debtor_key = 'D1'") == 1);
}

TEST_CASE("Ledger: a file from a newer cobrador is left alone", "[store][ledger]") {
    TempDir dir;
    const std::string path = dir.File("new.db");
    Migrated(path);
    {
        SQLite::Database db(path, SQLite::OPEN_READWRITE);
        db.exec("INSERT INTO schema_migrations VALUES (99, 'future', 'x')");
    }
    auto ledger = Ledger::Open(path);
    REQUIRE(ledger);
    CHECK(ledger->Migrate().error() == Errc::kSchemaTooNew);
    CHECK(ledger->CheckReady().error() == Errc::kSchemaTooNew);
}

TEST_CASE("Ledger: a file that is not a database is refused", "[store][ledger]") {
    TempDir dir;
    const std::string path = dir.Write("junk.db", std::string(4096, 'x'));
    auto ledger = Ledger::Open(path);
    REQUIRE_FALSE(ledger);
    CHECK(ledger.error() == Errc::kCorrupt);
    CHECK_FALSE(Ledger::Open(dir.File("missing.db"), Ledger::OpenMode::kReadWrite));
}

TEST_CASE("Ledger: importing needs an up-to-date schema", "[store][ledger]") {
    TempDir dir;
    auto ledger = Ledger::Open(dir.File("ledger.db"));
    REQUIRE(ledger);
    const auto result = ledger->ImportPortfolio(
        Rows("A1,Ana,+525512345678,1985-03-15,1,MXN,2026-10-01\n"), "f.csv", kNow);
    CHECK(result.error() == Errc::kNotMigrated);
}

TEST_CASE("Ledger: import inserts, then re-import updates and keeps history", "[store][ledger]") {
    TempDir dir;
    const std::string path = dir.File("ledger.db");
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
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    SQLite::Statement history(db,
                              "SELECT h.balance_cents FROM balance_history h JOIN accounts a ON "
                              "a.id = h.account_id WHERE a.account_key = 'A1' ORDER BY h.id");
    std::vector<std::int64_t> balances;
    while (history.executeStep()) {
        balances.push_back(history.getColumn(0).getInt64());
    }
    CHECK(balances == std::vector<std::int64_t>{100000, 40000});
    CHECK(Count(path, "SELECT count(*) FROM imports") == 2);
    CHECK(Count(path, "SELECT count(*) FROM audit_log WHERE kind = 'portfolio_imported'") == 2);
}

TEST_CASE("Ledger: a debtor's corrected details update in place", "[store][ledger]") {
    TempDir dir;
    const std::string path = dir.File("ledger.db");
    Ledger ledger = Migrated(path);
    REQUIRE(ledger.ImportPortfolio(
        Rows("A1,Ana Lopez,+525512345678,1985-03-15,1,MXN,2026-10-01\n"), "a.csv", kNow));
    const auto again = ledger.ImportPortfolio(
        Rows("A1,Ana López,+525512345678,1985-03-15,1,MXN,2026-10-01\n"), "b.csv", kNow);
    REQUIRE(again);
    CHECK(again->debtors_updated == 1);
    CHECK(again->accounts_unchanged == 1);
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    CHECK(db.execAndGet("SELECT name FROM debtors").getString() == "Ana López");
}

TEST_CASE("Ledger: a failing import leaves nothing behind", "[store][ledger]") {
    TempDir dir;
    const std::string path = dir.File("ledger.db");
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
    const std::string path = dir.File("ledger.db");
    Ledger ledger = Migrated(path);
    REQUIRE(ledger.ImportPortfolio(
        Rows("A1,Ana,+525512345678,1985-03-15,1.00,MXN,2026-10-01\n"), "a.csv", kNow));
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    CHECK_THROWS_WITH(db.exec("UPDATE audit_log SET kind = 'x'"), Catch::Contains("append-only"));
    CHECK_THROWS_WITH(db.exec("DELETE FROM audit_log"), Catch::Contains("append-only"));
    CHECK(Count(path, "SELECT count(*) FROM audit_log") == 1);
}

TEST_CASE("Ledger: agents are stored by token hash, unique", "[store][ledger]") {
    TempDir dir;
    const std::string path = dir.File("ledger.db");
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
