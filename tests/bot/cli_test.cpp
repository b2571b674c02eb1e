// The command line as a user runs it: the real binary, real files, exit codes and output.

#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "dialogs/reference.hpp"

#include "support/probe.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace cobrador::testing {
namespace {

const std::string kHeader = "account_id,debtor_name,phone,birth_date,balance,currency,due_date\n";

std::int64_t Count(const std::string& db, const std::string& sql) {
    return Probe(db).Count(sql);
}

TEST_CASE("CLI: usage errors exit 2 with a clear message", "[bot][cli][integration]") {
    auto none = RunCobrador({});
    CHECK(none.exit_code == 2);
    CHECK(none.err.find("usage: cobrador <command>") != std::string::npos);
    auto unknown = RunCobrador({"frobnicate"});
    CHECK(unknown.exit_code == 2);
    CHECK(unknown.err.find("unknown command 'frobnicate'") != std::string::npos);
    auto missing = RunCobrador({"migrate"});
    CHECK(missing.exit_code == 2);
    CHECK(missing.err.find("--db") != std::string::npos);
    auto bad_option = RunCobrador({"report", "--db", "x.db", "--colour", "red"});
    CHECK(bad_option.exit_code == 2);
    CHECK(bad_option.err.find("unknown option --colour") != std::string::npos);
    auto bad_format = RunCobrador({"report", "--db", "x.db", "--format", "xml"});
    CHECK(bad_format.exit_code == 2);
    auto bad_date = RunCobrador({"report", "--db", "x.db", "--from", "2026-02-30"});
    CHECK(bad_date.exit_code == 2);
    CHECK(bad_date.err.find("2026-02-30") != std::string::npos);
    auto bad_now = RunCobrador({"remind", "--db", "x.db", "--now", "2026-11-23T10:00:00"});
    CHECK(bad_now.exit_code == 2);
    CHECK(bad_now.err.find("--now") != std::string::npos);
    CHECK(RunCobrador({"remind"}).exit_code == 2);
    CHECK(RunCobrador({"import", "payments", "--db", "x.db"}).exit_code == 2);
}

TEST_CASE("CLI: nlu prints the contract's JSON", "[bot][cli][integration]") {
    auto promise =
        RunCobrador({"nlu", "--today", "2025-03-12", "te", "pago", "mil quinientos", "el viernes"});
    CHECK(promise.exit_code == 0);
    CHECK(promise.out ==
          "{\"intent\":\"promise_to_pay\",\"confidence\":0.88,\"entities\":{\"amount\":"
          "\"1500.00\",\"date\":\"2025-03-14\"}}\n");
    auto english = RunCobrador({"nlu", "--locale", "en-US", "--today", "2025-03-12", "STOP"});
    CHECK(english.out.find("\"intent\":\"opt_out\"") != std::string::npos);
    auto bad_locale = RunCobrador({"nlu", "--locale", "fr-FR", "bonjour"});
    CHECK(bad_locale.exit_code == 2);
    auto bad_today = RunCobrador({"nlu", "--today", "2025-02-30", "hola"});
    CHECK(bad_today.exit_code == 2);
    CHECK(RunCobrador({"nlu"}).exit_code == 2);
}

TEST_CASE("CLI: chat runs the dialog in the terminal as SMS would show it, and records outcomes",
          "[bot][cli][integration]") {
    TempDir dir;
    const std::string db = dir.Ledger();
    const std::string csv = dir.File("portfolio.csv");
    std::ofstream(csv) << "account_id,debtor_name,phone,birth_date,balance,currency,due_date,"
                          "min_payment\n"
                          "A-1001,\"López, María Fernanda\",+52 1 55 1234 5678,1985-03-15,"
                          "12345.67,MXN,2026-10-01,500\n";
    REQUIRE(RunCobrador({"migrate", "--db", db}).exit_code == 0);
    REQUIRE(RunCobrador({"import", "portfolio", "--db", db, csv}).exit_code == 0);
    const std::map<std::string, std::string> env = {{"COBRADOR_TODAY", "2026-11-23"},
                                                    {"COBRADOR_COMPANY_NAME", "ACME Crédito"}};
    const auto run = RunCobrador(
        {"chat", "--db", db, "--phone", "+525512345678", "--channel", "sms"},
        env,
        {},
        std::string("hola\n15 de marzo de 1985\n1\nte pago mil quinientos el viernes\n1\nBAJA\n"));
    INFO(run.out << run.err);
    REQUIRE(run.exit_code == 0);
    CHECK(run.out.find("ACME Crédito") != std::string::npos);
    CHECK(run.out.find("Gracias, María.") != std::string::npos);
    CHECK(run.out.find("\n1. Ver saldo\n") != std::string::npos);  // SMS numbers the menu
    CHECK(run.out.find("$12,345.67") != std::string::npos);        // "1" picked the balance
    CHECK(run.out.find("Pagarías $1,500.00 el viernes, 27 de noviembre de 2026") !=
          std::string::npos);
    CHECK(run.out.find("quedó registrado") != std::string::npos);
    // Every reply of this conversation fits in two SMS segments.
    CHECK(run.out.find("segments)") != std::string::npos);
    CHECK(run.out.find("(SMS, 3 segments)") == std::string::npos);
    Probe ledger(db);
    CHECK(ledger.Text("SELECT amount_cents || ' ' || due_date || ' ' || status FROM promises") ==
          "150000 2026-11-27 open");
    CHECK(ledger.Count("SELECT count(*) FROM contact_preferences WHERE kind = 'opt_out' AND "
                       "active = 1") == 1);
    CHECK(ledger.Count("SELECT count(*) FROM conversations WHERE verified_at IS NOT NULL") == 1);
    // Nothing from chat goes to a provider: its conversation is the sandbox's.
    CHECK(ledger.Count("SELECT count(*) FROM outbox WHERE channel <> 'sandbox'") == 0);
    CHECK(ledger.Count("SELECT count(*) FROM outbox") > 0);

    // The report counts what the conversation did.
    const auto report =
        RunCobrador({"report", "--db", db, "--from", "2026-11-01", "--to", "2026-11-30"}, env);
    REQUIRE(report.exit_code == 0);
    const auto figures = nlohmann::json::parse(report.out);
    CHECK(figures["promises_made"] == 1);
    CHECK(figures["opt_outs"] == 1);
    CHECK(figures["conversations"] == 1);
    CHECK(figures["verified_conversations"] == 1);

    const auto bad = RunCobrador({"chat", "--db", db, "--phone", "12345"});
    CHECK(bad.exit_code == 2);
    CHECK(RunCobrador({"chat", "--db", db, "--phone", "+525512345678", "--channel", "fax"})
              .exit_code == 2);
}

TEST_CASE("CLI: every command has --help", "[bot][cli][integration]") {
    for (const auto& args : std::vector<std::vector<std::string>>{{"--help"},
                                                                  {"serve", "--help"},
                                                                  {"migrate", "--help"},
                                                                  {"import", "portfolio", "--help"},
                                                                  {"report", "--help"},
                                                                  {"agent", "add", "--help"},
                                                                  {"nlu", "--help"},
                                                                  {"chat", "--help"},
                                                                  {"references", "--help"}}) {
        const auto run = RunCobrador(args);
        INFO(args[0]);
        CHECK(run.exit_code == 0);
        CHECK(run.out.find("usage:") != std::string::npos);
    }
}

TEST_CASE("CLI: references shows and ends the move from Luhn to Damm check digits",
          "[bot][cli][integration]") {
    TempDir dir;
    const std::string db = dir.Ledger();
    REQUIRE(RunCobrador({"migrate", "--db", db}).exit_code == 0);
    const auto shown = RunCobrador({"references", "--db", db});
    REQUIRE(shown.exit_code == 0);
    CHECK(nlohmann::json::parse(shown.out) ==
          nlohmann::json{{"legacy_accounts_up_to", 0}, {"legacy_until", nullptr}});
    for (const char* bad : {"2027-02-30", "31/03/2027", "2027-3-31", ""}) {
        const auto refused = RunCobrador({"references", "--db", db, "--legacy-until", bad});
        INFO(bad);
        CHECK(refused.exit_code == 2);
        CHECK(refused.err.find("YYYY-MM-DD") != std::string::npos);
    }
    const auto ended = RunCobrador({"references", "--db", db, "--legacy-until", "2027-03-31"});
    REQUIRE(ended.exit_code == 0);
    CHECK(nlohmann::json::parse(ended.out)["legacy_until"] == "2027-03-31");
    CHECK(nlohmann::json::parse(RunCobrador({"references", "--db", db}).out)["legacy_until"] ==
          "2027-03-31");
    const auto opened = RunCobrador({"references", "--db", db, "--legacy-until", "open"});
    REQUIRE(opened.exit_code == 0);
    CHECK(nlohmann::json::parse(opened.out)["legacy_until"] == nullptr);
}

TEST_CASE("CLI: migrate, import, re-import and report", "[bot][cli][integration]") {
    TempDir dir;
    const std::string db = dir.Ledger();
    const auto migrate = RunCobrador({"migrate", "--db", db});
    REQUIRE(migrate.exit_code == 0);
    CHECK(migrate.out.find("applied migrations 1 2 3") != std::string::npos);
    const auto again = RunCobrador({"migrate", "--db", db});
    CHECK(again.exit_code == 0);
    CHECK(again.out.find("nothing to do") != std::string::npos);

    const std::string file =
        dir.Write("portfolio.csv",
                  kHeader +
                      "A1,\"López, María\",+52 1 55 1234 5678,1985-03-15,12345.67,MXN,2026-10-01\n"
                      "A2,\"López, María\",+525512345678,1985-03-15,100.00,MXN,2026-12-01\n"
                      "B1,Beto,+525587654321,1970-01-01,2500,MXN,2026-11-20\n");
    const auto imported = RunCobrador({"import", "portfolio", "--db", db, file});
    REQUIRE(imported.exit_code == 0);
    CHECK(imported.out.find("imported 3 accounts") != std::string::npos);
    CHECK(imported.out.find("debtors: 2 new") != std::string::npos);

    const std::string update =
        dir.Write("update.csv",
                  kHeader + "A1,\"López, María\",+525512345678,1985-03-15,345.67,MXN,2026-10-01\n");
    const auto reimported = RunCobrador({"import", "portfolio", "--db", db, update});
    REQUIRE(reimported.exit_code == 0);
    CHECK(reimported.out.find("accounts: 0 new, 1 updated (1 with a new balance") !=
          std::string::npos);

    const auto report = RunCobrador({"report", "--db", db}, {{"COBRADOR_TODAY", "2026-11-22"}});
    REQUIRE(report.exit_code == 0);
    const auto json = nlohmann::json::parse(report.out);
    CHECK(json["accounts"] == 3);
    CHECK(json["balance_outstanding"] == "2945.67");  // 345.67 + 100.00 + 2500.00
    CHECK(json["collected"] == "0.00");
    CHECK(json["recovery_rate"] == 0.0);
    CHECK(json["as_of"] == "2026-11-22");
    CHECK(json["currency"] == "MXN");
    for (const char* key : {"promises_made",
                            "promises_kept",
                            "promises_broken",
                            "promise_kept_rate",
                            "plans_created",
                            "references_issued",
                            "escalations",
                            "opt_outs",
                            "conversations",
                            "verified_conversations"}) {
        INFO(key);
        CHECK(json.at(key) == 0);
    }
    CHECK(json["days_past_due"]["31-60"]["balance_outstanding"] == "345.67");
    CHECK(json["days_past_due"]["1-30"]["accounts"] == 1);
    CHECK(json["days_past_due"]["current"]["accounts"] == 1);
    CHECK(json["channel"]["whatsapp"]["conversations"] == 0);

    const auto csv = RunCobrador({"report", "--db", db, "--format", "csv", "--to", "2026-11-22"});
    REQUIRE(csv.exit_code == 0);
    CHECK(csv.out.rfind("scope,key,currency,accounts,balance_outstanding", 0) == 0);
    CHECK(csv.out.find("\ntotal,all,MXN,3,2945.67,0.00,0.0000,") != std::string::npos);
    CHECK(csv.out.find("\nbucket,31-60,MXN,1,345.67,") != std::string::npos);
    // Every row has the header's twenty-five columns (no name here holds a comma).
    std::istringstream rows(csv.out);
    for (std::string line; std::getline(rows, line);) {
        INFO(line);
        CHECK(std::count(line.begin(), line.end(), ',') == 24);
    }
    // For the creditor's people, the same columns with Spanish names.
    const auto spanish = RunCobrador(
        {"report", "--db", db, "--format", "csv", "--to", "2026-11-22", "--lang", "es-MX"});
    REQUIRE(spanish.exit_code == 0);
    CHECK(spanish.out.rfind("\xEF\xBB\xBF"
                            "ámbito,clave,moneda,cuentas,saldo_pendiente,cobrado,",
                            0) == 0);
    CHECK(spanish.out.find(",escalamientos,bajas,") != std::string::npos);
    CHECK(spanish.out.substr(spanish.out.find('\n')) == csv.out.substr(csv.out.find('\n')));
    CHECK(RunCobrador({"report", "--db", db, "--format", "csv", "--lang", "fr-FR"}).exit_code == 2);
}

TEST_CASE("CLI: a file with bad rows imports nothing and names every line",
          "[bot][cli][integration]") {
    TempDir dir;
    const std::string db = dir.Ledger();
    REQUIRE(RunCobrador({"migrate", "--db", db}).exit_code == 0);
    REQUIRE(
        RunCobrador({"import",
                     "portfolio",
                     "--db",
                     db,
                     dir.Write("first.csv",
                               kHeader + "A1,Ana,+525512345678,1985-03-15,10.00,MXN,2026-10-01\n")})
            .exit_code == 0);
    const std::string file =
        dir.Write("bad.csv",
                  kHeader +
                      "A1,Ana,+525512345678,1985-03-15,99.00,MXN,2026-10-01\n"  // fine alone
                      "A2,Bea,55 1234 5678,1985-03-15,1.00,MXN,2026-10-01\n"    // line 3: phone
                      "A3,Cy,+525512345679,1985-13-15,1.00,MXN,2026-10-01\n"    // line 4: date
                      "A4,Di,+525512345670,1985-03-15,-1.00,MXN,2026-10-01\n"   // line 5: negative
                      "A5,Ed,+525512345671,1985-03-15,1.00,XYZ,2026-10-01\n");  // line 6: currency
    const auto run = RunCobrador({"import", "portfolio", "--db", db, file});
    CHECK(run.exit_code == 1);
    CHECK(run.err.find("bad.csv:3: phone") != std::string::npos);
    CHECK(run.err.find("bad.csv:4: birth_date") != std::string::npos);
    CHECK(run.err.find("bad.csv:5: balance") != std::string::npos);
    CHECK(run.err.find("bad.csv:6: currency") != std::string::npos);
    CHECK(run.err.find("nothing was imported") != std::string::npos);
    // A1 keeps its old balance; none of the new accounts exist.
    CHECK(Count(db, "SELECT balance_cents FROM accounts WHERE account_key = 'A1'") == 1000);
    CHECK(Count(db, "SELECT count(*) FROM accounts") == 1);
    CHECK(Count(db, "SELECT count(*) FROM imports") == 1);
}

TEST_CASE("CLI: import into a ledger that was never migrated says what to do",
          "[bot][cli][integration]") {
    TempDir dir;
    const std::string file =
        dir.Write("p.csv", kHeader + "A1,Ana,+525512345678,1985-03-15,10.00,MXN,2026-10-01\n");
    const auto missing = RunCobrador({"import", "portfolio", "--db", dir.File("none.db"), file});
    CHECK(missing.exit_code == 1);
    CHECK(missing.err.find("cannot open") != std::string::npos);
    // Every command that needs a ledger says the same, and none creates an empty file.
    const std::string none = dir.File("none.db");
    for (const std::vector<std::string>& command :
         {std::vector<std::string>{"import", "portfolio", "--db", none, file},
          {"chat", "--db", none, "--phone", "+525512345678"},
          {"report", "--db", none},
          {"remind", "--db", none},
          {"agent", "add", "--db", none, "--name", "Ana", "--role", "collector"},
          {"export", "debtor", "--db", none, "--id", "D-1"},
          {"backup", "--db", none, "--to", dir.File("copy.db")}}) {
        INFO(command[0]);
        const auto refused = RunCobrador(command, {}, {}, "hola\n");
        CHECK(refused.exit_code == 1);
        CHECK(refused.err.find("the ledger does not exist; create it with: cobrador migrate "
                               "--db " +
                               none) != std::string::npos);
        CHECK_FALSE(std::filesystem::exists(none));
    }
    const std::string empty_db = dir.Ledger("empty.db");
    store::OpenConnection(empty_db, true);  // an empty SQLite file, or an empty database
    const auto empty = RunCobrador({"import", "portfolio", "--db", empty_db, file});
    CHECK(empty.exit_code == 1);
    CHECK(empty.err.find("cobrador migrate --db") != std::string::npos);
    const auto no_file =
        RunCobrador({"import", "portfolio", "--db", empty_db, dir.File("nope.csv")});
    CHECK(no_file.exit_code == 1);
    CHECK(no_file.err.find("cannot read") != std::string::npos);
}

TEST_CASE("CLI: agent add prints the token once and stores only its hash",
          "[bot][cli][integration]") {
    TempDir dir;
    const std::string db = dir.Ledger();
    REQUIRE(RunCobrador({"migrate", "--db", db}).exit_code == 0);
    const auto run =
        RunCobrador({"agent", "add", "--db", db, "--name", "Laura Gómez", "--role", "collector"});
    REQUIRE(run.exit_code == 0);
    const std::string out = run.out;
    const auto last_start = out.rfind('\n', out.size() - 2);
    const std::string token = out.substr(last_start + 1, out.size() - last_start - 2);
    CHECK(token.size() == 68);  // "cbr_" + 64 hex digits
    CHECK(token.rfind("cbr_", 0) == 0);
    const std::string stored = Probe(db).Text("SELECT token_sha256 FROM agents");
    CHECK(stored.size() == 64);
    CHECK(stored != token.substr(4));
    CHECK(Count(db, "SELECT count(*) FROM agents WHERE role = 'collector'") == 1);
    const auto bad_role =
        RunCobrador({"agent", "add", "--db", db, "--name", "X", "--role", "boss"});
    CHECK(bad_role.exit_code == 2);
}

TEST_CASE("CLI on PostgreSQL: backup and --demo say they are for SQLite, no password is shown",
          "[bot][cli][integration][postgres]") {
    TempDir dir;
    const std::string db = dir.Ledger();
    REQUIRE(RunCobrador({"migrate", "--db", db}).exit_code == 0);
    const auto backup = RunCobrador({"backup", "--db", db, "--to", dir.File("copy.db")});
    CHECK(backup.exit_code == 1);
    CHECK(backup.err.find("pg_dump") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(dir.File("copy.db")));
    const auto demo = RunCobrador({"serve", "--demo"}, {{"COBRADOR_DB", db}});
    CHECK(demo.exit_code == 2);
    CHECK(demo.err.find("SQLite file only") != std::string::npos);

    // A wrong password: libpq's reason, and the URI without the password.
    const std::string socket_dir = db.substr(5, db.find(' ') - 5);  // host=DIR port=...
    const std::string uri =
        "postgresql://postgres:s3cr3t-pw@/nope?host=" + socket_dir + "&port=5432";
    const auto wrong = RunCobrador({"migrate", "--db", uri});
    CHECK(wrong.exit_code == 1);
    CHECK(wrong.err.find("cannot open postgresql://postgres:***@/nope") != std::string::npos);
    CHECK(wrong.err.find("does not exist") != std::string::npos);
    CHECK(wrong.err.find("s3cr3t-pw") == std::string::npos);
}

TEST_CASE("CLI: copy moves a used SQLite ledger to PostgreSQL with every row, id and sum",
          "[bot][cli][integration][postgres]") {
    TempDir dir;
    // A ledger with some history: a portfolio, a conversation with a promise and an opt-out, a
    // collector, a statement with an applied payment and one in suspense.
    const std::string source = dir.File("source.db");
    const std::string csv =
        dir.Write("p.csv",
                  kHeader +
                      "A-1,María López,+525512345678,1985-03-15,12345.67,MXN,2026-10-01\n"
                      "A-2,Pedro Ruiz,+525587654321,1979-07-02,800.00,MXN,2026-11-01\n");
    REQUIRE(RunCobrador({"migrate", "--db", source}).exit_code == 0);
    REQUIRE(RunCobrador({"import", "portfolio", "--db", source, csv}).exit_code == 0);
    REQUIRE(RunCobrador({"chat", "--db", source, "--phone", "+525512345678"},
                        {{"COBRADOR_TODAY", "2026-11-23"}},
                        {},
                        std::string("hola\n15 de marzo de 1985\n1\nte pago mil el viernes\n1\n"
                                    "BAJA\n"))
                .exit_code == 0);
    REQUIRE(RunCobrador({"agent", "add", "--db", source, "--name", "Ana", "--role", "collector"})
                .exit_code == 0);
    const std::string reference = *dialogs::PaymentReference(
        Probe(source).Count("SELECT id FROM accounts WHERE account_key = 'A-2'"));
    const std::string statement = dir.Write("s.csv",
                                            "payment_id,reference,amount,currency,paid_at\n"
                                            "R-1," +
                                                reference +
                                                ",300.00,MXN,2026-11-20T10:00:00Z\n"
                                                "R-2,55555,20.00,MXN,2026-11-21T10:00:00Z\n");
    REQUIRE(RunCobrador({"import", "payments", "--db", source, statement}).exit_code == 0);
    // A file María sent, kept byte for byte (NUL and 0xFF among them), and its reading.
    Probe(source).Exec(
        "INSERT INTO media (message_id, conversation_id, channel, kind, source, status, "
        "content_type, size_bytes, content, next_attempt_at, created_at) SELECT id, "
        "conversation_id, 'whatsapp', 'image', '1481', 'stored', 'image/png', 6, "
        "X'89504E00FF0A', created_at, created_at FROM messages ORDER BY id LIMIT 1;"
        "INSERT INTO receipts (media_id, conversation_id, status, engine, text, amount_cents, "
        "read_at) SELECT id, conversation_id, 'read', 'ocr', 'Importe: $1.00', 100, created_at "
        "FROM media;");

    const std::string target = dir.Ledger("target");
    // Not migrated yet: refused, nothing written.
    const auto early = RunCobrador({"copy", "--from", source, "--to", target});
    CHECK(early.exit_code == 1);
    CHECK(early.err.find("migrate") != std::string::npos);
    REQUIRE(RunCobrador({"migrate", "--db", target}).exit_code == 0);
    const auto copied = RunCobrador({"copy", "--from", source, "--to", target});
    INFO(copied.out << copied.err);
    REQUIRE(copied.exit_code == 0);
    CHECK(copied.out.find("every count and sum matches") != std::string::npos);
    CHECK(copied.out.find("balances (cents)") != std::string::npos);

    // Row for row, the same, and the same figures.
    Probe from(source);
    Probe to(target);
    for (const char* table : {"debtors",
                              "accounts",
                              "balance_history",
                              "conversations",
                              "messages",
                              "outbox",
                              "payments",
                              "promises",
                              "contact_preferences",
                              "audit_log",
                              "agents",
                              "imports",
                              "inbound_events"}) {
        INFO(table);
        const std::string sql = std::string("SELECT count(*) FROM ") + table;
        CHECK(from.Count(sql) == to.Count(sql));
        CHECK(from.Count(sql) > 0);
    }
    CHECK(from.Text("SELECT lower(hex(content)) FROM media") == "89504e00ff0a");
    CHECK(to.Text("SELECT encode(content, 'hex') FROM media") == "89504e00ff0a");
    CHECK(to.Text("SELECT amount_cents FROM receipts") == "100");
    const std::string money =
        "SELECT payment_id || ':' || amount_cents || ':' || status || ':' || "
        "coalesce(CAST(account_id AS TEXT), '-') FROM payments ORDER BY id";
    CHECK(from.Text(money) == to.Text(money));
    const auto report_from = RunCobrador({"report", "--db", source, "--to", "2026-11-30"});
    const auto report_to = RunCobrador({"report", "--db", target, "--to", "2026-11-30"});
    CHECK(report_from.out == report_to.out);
    // Ids go on after the copied ones.
    REQUIRE(RunCobrador({"agent", "add", "--db", target, "--name", "Beto", "--role", "collector"})
                .exit_code == 0);
    CHECK(to.Count("SELECT id FROM agents WHERE name = 'Beto'") == 2);

    // A target that is not empty is refused and left as it was.
    const auto again = RunCobrador({"copy", "--from", source, "--to", target});
    CHECK(again.exit_code == 1);
    CHECK(again.err.find("not empty") != std::string::npos);
    CHECK(to.Count("SELECT count(*) FROM debtors") == 2);
}

}  // namespace
}  // namespace cobrador::testing
