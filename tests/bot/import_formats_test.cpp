// Portfolio and statement files as Mexican systems write them (issue 21), through the real
// binary: Excel's Windows-1252 with ';', an ERP's tab-separated UTF-8 with a byte-order mark, a
// bank portal's statement with day-first dates and "$" amounts. Each fixture is in
// tests/data/import/. And the files that cannot be read: one line that names the likely cause.

#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "dialogs/reference.hpp"

#include "support/probe.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace cobrador::testing {
namespace {

std::string Fixture(const std::string& name) {
    return std::string(COBRADOR_SOURCE_DIR) + "/tests/data/import/" + name;
}

std::string Bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream all;
    all << in.rdbuf();
    return all.str();
}

std::size_t Lines(const std::string& text) {
    return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

struct Ledger {
    TempDir dir;
    std::string db = dir.Ledger();

    Ledger() { REQUIRE(RunCobrador({"migrate", "--db", db}).exit_code == 0); }
};

TEST_CASE(
    "import: Excel's Windows-1252 file with semicolons, dd/mm/yyyy, $ amounts, 10-digit phones",
    "[bot][cli][import][integration]") {
    Ledger ledger;
    const std::string file = Fixture("excel-windows-1252-semicolon.csv");

    // Without --default-country the 10-digit numbers are refused, and the error says how.
    const auto refused = RunCobrador({"import", "portfolio", "--db", ledger.db, file});
    CHECK(refused.exit_code == 1);
    CHECK(refused.err.find(
              "Windows-1252 (detected), ';'-separated (detected), dates dd/mm/yyyy (detected)") !=
          std::string::npos);
    CHECK(refused.err.find(":2: phone: '55 1234 5678' is not an E.164 phone number") !=
          std::string::npos);
    CHECK(refused.err.find("need --default-country MX") != std::string::npos);
    CHECK(Probe(ledger.db).Count("SELECT count(*) FROM accounts") == 0);

    const auto imported =
        RunCobrador({"import", "portfolio", "--db", ledger.db, file, "--default-country", "MX"});
    INFO(imported.err);
    REQUIRE(imported.exit_code == 0);
    CHECK(imported.out.find("imported 3 accounts") != std::string::npos);
    CHECK(imported.out.find("debtors: 2 new") != std::string::npos);
    CHECK(imported.err.find("10-digit phones in MX") != std::string::npos);
    Probe probe(ledger.db);
    // Stored as the ledger keeps everything: UTF-8, E.164, ISO dates, cents.
    CHECK(probe.Text("SELECT name || '|' || phone || '|' || birth_date FROM debtors WHERE "
                     "name LIKE 'Jos%'") == "José Muñoz Peña|+525512345678|1985-03-15");
    CHECK(probe.Text("SELECT phone || '|' || birth_date FROM debtors WHERE name LIKE 'Bego%'") ==
          "+523336161234|1988-02-29");
    CHECK(probe.Text("SELECT balance_cents || '|' || due_date FROM accounts WHERE account_key = "
                     "'C-100'") == "1234567|2026-10-01");
    CHECK(probe.Count("SELECT balance_cents FROM accounts WHERE account_key = 'C-200'") == 150000);

    // The same file again changes nothing.
    const auto again =
        RunCobrador({"import", "portfolio", "--db", ledger.db, file, "--default-country", "MX"});
    CHECK(again.exit_code == 0);
    CHECK(again.out.find("3 unchanged") != std::string::npos);
}

TEST_CASE("import: an ERP's tab-separated UTF-8 file with a byte-order mark",
          "[bot][cli][import][integration]") {
    Ledger ledger;
    const auto imported =
        RunCobrador({"import", "portfolio", "--db", ledger.db, Fixture("erp-utf8-bom-tab.txt")});
    INFO(imported.err);
    REQUIRE(imported.exit_code == 0);
    CHECK(imported.err.find("UTF-8 (detected), tab-separated (detected), dates YYYY-MM-DD") !=
          std::string::npos);
    CHECK(Probe(ledger.db).Text("SELECT name FROM debtors WHERE phone = '+528181234567'") ==
          "Ángela Ibáñez");
}

TEST_CASE("import: a bank's statement with day-first dates in Mexico City and $ amounts",
          "[bot][cli][import][integration]") {
    Ledger ledger;
    REQUIRE(RunCobrador({"import",
                         "portfolio",
                         "--db",
                         ledger.db,
                         Fixture("excel-windows-1252-semicolon.csv"),
                         "--default-country",
                         "MX"})
                .exit_code == 0);
    Probe probe(ledger.db);
    std::string statement = Bytes(Fixture("bank-statement-windows-1252.csv.in"));
    for (const std::string key : {"C-100", "C-200"}) {
        const auto id = probe.Count("SELECT id FROM accounts WHERE account_key = '" + key + "'");
        const std::string slot = "{" + key + "}";
        statement.replace(statement.find(slot), slot.size(), *dialogs::PaymentReference(id));
    }
    const std::string file = ledger.dir.Write("estado-de-cuenta.csv", statement);

    const auto applied = RunCobrador({"import", "payments", "--db", ledger.db, file});
    INFO(applied.err);
    REQUIRE(applied.exit_code == 0);
    CHECK(applied.out.find("2 applied, 0 in suspense") != std::string::npos);
    CHECK(applied.err.find("Windows-1252 (detected), ';'-separated (detected), dates dd/mm/yyyy "
                           "(detected)") != std::string::npos);
    // 10:05 in Mexico City is 16:05 UTC; a date alone is noon UTC, as an ISO date alone is.
    CHECK(probe.Joined("SELECT paid_at FROM payments ORDER BY paid_at") ==
          "2026-11-23T16:05:00Z,2026-11-24T12:00:00Z");
    CHECK(probe.Text("SELECT amount_cents || ' ' || method FROM payments WHERE paid_at LIKE "
                     "'2026-11-23%'") == "100000 depósito");
    CHECK(probe.Count("SELECT balance_cents FROM accounts WHERE account_key = 'C-200'") == 0);
}

TEST_CASE("import: a file that cannot be read says why in one line and imports nothing",
          "[bot][cli][import][integration]") {
    Ledger ledger;
    const std::string excel = Fixture("excel-windows-1252-semicolon.csv");
    const auto count = [&] {
        return Probe(ledger.db).Count("SELECT count(*) FROM accounts");
    };

    // The operator insists on commas: the header is one field.
    const auto commas =
        RunCobrador({"import", "portfolio", "--db", ledger.db, excel, "--delimiter", ","});
    CHECK(commas.exit_code == 1);
    CHECK(commas.err.find("it looks ';'-separated: try --delimiter ';'") != std::string::npos);
    CHECK(Lines(commas.err) == 2);  // the cause, and that nothing was imported

    const auto utf8 =
        RunCobrador({"import", "portfolio", "--db", ledger.db, excel, "--encoding", "utf-8"});
    CHECK(utf8.exit_code == 1);
    CHECK(utf8.err.find("not UTF-8; it looks like Windows-1252") != std::string::npos);
    CHECK(utf8.err.find("--encoding windows-1252") != std::string::npos);

    // Dates that read both ways: the operator must say.
    const std::string ambiguous =
        ledger.dir.Write("ambiguo.csv",
                         "account_id,debtor_name,phone,birth_date,balance,currency,due_date\n"
                         "A-1,Ana,+525511111111,03/04/1980,100.00,MXN,05/12/2026\n");
    const auto unclear = RunCobrador({"import", "portfolio", "--db", ledger.db, ambiguous});
    CHECK(unclear.exit_code == 1);
    CHECK(unclear.err.find("'03/04/1980' could be day/month or month/day") != std::string::npos);
    const auto said = RunCobrador(
        {"import", "portfolio", "--db", ledger.db, ambiguous, "--date-format", "dd/mm/yyyy"});
    CHECK(said.exit_code == 0);
    CHECK(Probe(ledger.db).Text("SELECT birth_date FROM debtors") == "1980-04-03");

    // No header row: one line, not one per missing column.
    const std::string headless = ledger.dir.Write(
        "sin-encabezado.csv", "12345,Ana,+525511111111,1980-04-03,100.00,MXN,2026-12-05\n");
    const auto no_header = RunCobrador({"import", "portfolio", "--db", ledger.db, headless});
    CHECK(no_header.exit_code == 1);
    CHECK(no_header.err.find("missing required columns 'account_id', 'debtor_name'") !=
          std::string::npos);
    CHECK(no_header.err.find("the first line looks like data") != std::string::npos);
    CHECK(Lines(no_header.err) == 3);  // what was read, the one problem, nothing imported

    // ISO dates asked for, a day-first date in the file: the row says how to read it.
    const std::string mixed =
        ledger.dir.Write("mezcla.csv",
                         "account_id,debtor_name,phone,birth_date,balance,currency,due_date\n"
                         "A-2,Beto,+525522222222,1980-04-03,100.00,MXN,2026-12-05\n"
                         "A-3,Caro,+525533333333,1980-04-03,100.00,MXN,25/12/2026\n");
    const auto iso = RunCobrador(
        {"import", "portfolio", "--db", ledger.db, mixed, "--date-format", "yyyy-mm-dd"});
    CHECK(iso.exit_code == 1);
    CHECK(iso.err.find(":3: due_date: '25/12/2026' is not a real date written YYYY-MM-DD; for "
                       "dates written day first, use --date-format dd/mm/yyyy") !=
          std::string::npos);
    const std::string late =
        ledger.dir.Write("tarde.csv",
                         "account_id,debtor_name,phone,birth_date,balance,currency,due_date\n"
                         "A-3,Caro,+525533333333,1980-04-03,1;5,MXN,2026-12-05\n"
                         "A-4,Dani,+525544444444,1980-04-03,\"1,50\",MXN,2026-12-05\n");
    const auto amounts = RunCobrador({"import", "portfolio", "--db", ledger.db, late});
    CHECK(amounts.exit_code == 1);
    CHECK(amounts.err.find(":3: balance: '1,50' is not an amount") != std::string::npos);
    CHECK(count() == 1);

    // Bad option values are usage errors.
    CHECK(RunCobrador({"import", "portfolio", "--db", ledger.db, excel, "--date-format", "dmy"})
              .exit_code == 2);
    CHECK(RunCobrador({"import", "portfolio", "--db", ledger.db, excel, "--default-country", "AR"})
              .exit_code == 2);
    const auto encoding =
        RunCobrador({"import", "portfolio", "--db", ledger.db, excel, "--encoding", "latin9"});
    CHECK(encoding.exit_code == 2);
    CHECK(encoding.err.find("--encoding is utf-8 or windows-1252") != std::string::npos);
    const auto delimiter =
        RunCobrador({"import", "payments", "--db", ledger.db, excel, "--delimiter", "::"});
    CHECK(delimiter.exit_code == 2);
    CHECK(delimiter.err.find("--delimiter is ',', ';', tab or '|'") != std::string::npos);
    CHECK(count() == 1);
}

}  // namespace
}  // namespace cobrador::testing
