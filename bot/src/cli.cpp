#include "bot/cli.hpp"

#include <chrono>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "bot/log.hpp"
#include "channels/signature.hpp"
#include "channels/twilio.hpp"
#include "dialogs/calendar.hpp"
#include "dialogs/money.hpp"
#include "dialogs/phone.hpp"
#include "store/ledger.hpp"
#include "store/portfolio.hpp"

#include "cli_support.hpp"
#include "conversation.hpp"
#include "proactive.hpp"
#include "reminders.hpp"
#include "report_format.hpp"

namespace cobrador::bot {

using namespace cli;

namespace {

const char* const kMainHelp = R"(cobrador — a collections chatbot for WhatsApp and SMS

usage: cobrador <command> [options]

commands:
  --version                             print the version
  serve [--config FILE] [--demo]        run the webhook server
  migrate --db PATH                     create or upgrade the ledger schema
  import portfolio --db PATH FILE.csv [FORMAT]
                                        upsert debtors and accounts (all or nothing)
  import payments --db PATH FILE.csv [FORMAT]
                                        apply a payments statement (idempotent per payment)
      FORMAT: [--encoding utf-8|windows-1252] [--delimiter ','|';'|tab|'|']
              [--date-format yyyy-mm-dd|dd/mm/yyyy|mm/dd/yyyy] [--default-country MX|US]
              (what is not given is detected from the file and printed)
  remind --db PATH [--now T] [--dry-run]
                                        one pass of the reminder scheduler
  report --db PATH [--from D] [--to D] [--format json|csv] [--currency CODE] [--lang L]
                                        collection KPIs
  agent add --db PATH --name NAME --role collector|supervisor [--expires YYYY-MM-DD]
                                        create a collector; prints its API token once
  agent disable --db PATH (--id ID | --name NAME)
                                        the agent's token stops working; its chats go back
  report complaints --db PATH --month YYYY-MM [--format json|csv] [--lang L]
                                        the month's disputes and privacy requests
  export debtor --db PATH --id DEBTOR_ID
                                        everything held about one debtor, as JSON
  backup --db PATH --to FILE            a consistent copy of an SQLite ledger, also while serving
  copy --from PATH --to URI             move a ledger from SQLite to PostgreSQL, checked
  nlu [--locale L] [--today D] TEXT     what the bot understands of TEXT, as JSON
  chat --db PATH --phone E164 [--channel whatsapp|sms]
                                        talk to the dialog in the terminal

--db PATH (and COBRADOR_DB) is an SQLite file, or a PostgreSQL URI or connection string
(postgresql://user:password@host:port/dbname?sslmode=verify-full) in libpq's own syntax.
'cobrador <command> --help' tells more about each.
)";

std::optional<Options> Parse(const std::vector<std::string>& args,
                             std::size_t first,
                             const std::vector<std::string>& with_value,
                             const std::vector<std::string>& switches,
                             std::string& problem) {
    Options options;
    for (std::size_t i = first; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (arg == "--help" || arg == "-h") {
            options.help = true;
            continue;
        }
        if (arg.rfind("--", 0) == 0 && arg.size() > 2) {
            std::string name = arg;
            std::optional<std::string> inline_value;
            if (const auto eq = arg.find('='); eq != std::string::npos) {
                name = arg.substr(0, eq);
                inline_value = arg.substr(eq + 1);
            }
            if (std::find(switches.begin(), switches.end(), name) != switches.end()) {
                options.flags[name] = true;
                continue;
            }
            if (std::find(with_value.begin(), with_value.end(), name) == with_value.end()) {
                problem = "unknown option " + name;
                return std::nullopt;
            }
            if (inline_value) {
                options.values[name] = *inline_value;
            } else if (i + 1 < args.size()) {
                options.values[name] = args[++i];
            } else {
                problem = name + " needs a value";
                return std::nullopt;
            }
            continue;
        }
        options.positional.push_back(arg);
    }
    return options;
}

// A row of the command table: its words, help, options and what must be given, and the
// function that runs it. RunCli does the part every command shares: parse, --help, the
// required options and positionals; each command then does its own work.
struct Command {
    const char* name;  // "migrate", "import portfolio"
    const char* usage;
    const char* help;
    std::vector<std::string> values;    // options that take a value
    std::vector<std::string> switches;  // options without one
    std::vector<std::string> required;  // of `values`
    std::size_t min_positional;
    std::size_t max_positional;
    const char* missing;  // what to say when a required option or positional is missing
    int (*run)(Invocation&);
};

const std::vector<Command>& Commands();

const Command* FindCommand(const std::string& name) {
    for (const Command& c : Commands()) {
        if (name == c.name) {
            return &c;
        }
    }
    return nullptr;
}

const std::vector<Command>& Commands() {
    constexpr std::size_t kMany = 1000;
    static const std::vector<Command> kCommands = {
        {"serve",
         "cobrador serve [--config FILE] [--demo]",
         "Runs the HTTP server (GET /healthz, /readyz, /metrics). Settings come from COBRADOR_*\n"
         "environment variables and, underneath them, the TOML file given with --config.\n"
         "--demo: uses ./cobrador-demo.db (unless COBRADOR_DB is set), creates or upgrades\n"
         "its schema, loads the demo portfolio, creates a \"Demo supervisor\" agent and\n"
         "prints its token, and serves the sandbox debtor's phone at /console/phone.html.\n"
         "Stops cleanly on SIGINT or SIGTERM.\n",
         {"--config"},
         {"--demo"},
         {},
         0,
         0,
         "unexpected argument",
         Serve},
        {"migrate",
         "cobrador migrate --db PATH",
         "Creates the ledger at PATH or upgrades it to this binary's schema. Safe to run\n"
         "again: an up-to-date ledger is left as it is.\n",
         {"--db"},
         {},
         {"--db"},
         0,
         0,
         "--db PATH is required and nothing else",
         Migrate},
        {"import portfolio",
         "cobrador import portfolio --db PATH FILE.csv [--encoding E] [--delimiter D]\n"
         "       [--date-format F] [--default-country MX|US]",
         "Upserts debtors and accounts from a portfolio CSV (columns: account_id, debtor_name,\n"
         "phone, birth_date, balance, currency, due_date; optional debtor_id, locale, timezone,\n"
         "segment, product, min_payment, email). Every bad row is reported with its line\n"
         "number, and a file with any bad row imports nothing. Progress goes to stderr.\n"
         "The file may be written as Excel and Mexican systems write it: --encoding\n"
         "utf-8|windows-1252, --delimiter ','|';'|tab|'|', --date-format yyyy-mm-dd|dd/mm/yyyy|\n"
         "mm/dd/yyyy, --default-country MX|US (10-digit numbers without the country code).\n"
         "What is not given is detected from the file and printed to stderr; amounts may be\n"
         "written $1,500.50.\n",
         {"--db", "--encoding", "--delimiter", "--date-format", "--default-country"},
         {},
         {"--db"},
         1,
         1,
         "give --db PATH and one CSV file",
         ImportPortfolio},
        {"import payments",
         "cobrador import payments --db PATH FILE.csv [--encoding E] [--delimiter D]\n"
         "       [--date-format F] [--default-country MX|US]",
         "Applies a bank or processor statement: CSV with payment_id, reference, amount,\n"
         "currency, paid_at (ISO 8601 with a zone) and optional method. A file with a bad row\n"
         "applies nothing. Each payment is matched by its reference (check digit verified);\n"
         "one that matches no account is held in suspense and listed. A payment_id already\n"
         "recorded changes nothing, so the same statement can be applied twice. Applied\n"
         "payments lower the balance, keep promises and pay plan instalments, and queue a\n"
         "thank-you that `serve` sends. paid_at may also be a date and time in Mexico City\n"
         "(23/11/2026 10:05 with --date-format dd/mm/yyyy). The format options are those of\n"
         "`import portfolio --help`; what is not given is detected and printed to stderr.\n",
         {"--db", "--encoding", "--delimiter", "--date-format", "--default-country"},
         {},
         {"--db"},
         1,
         1,
         "give --db PATH and one CSV file",
         ImportPayments},
        {"remind",
         "cobrador remind --db PATH [--now ISO8601] [--dry-run]",
         "One pass of the reminder scheduler, which `serve` also runs every five minutes:\n"
         "promises past their date and grace are marked broken (and followed up, or escalated\n"
         "the second time in 30 days), then each debtor whose local time is inside the contact\n"
         "hours gets the reminder their strategy has due (COBRADOR_REMINDERS_FILE, see\n"
         "docs/reminders.md), within the caps, never on an opted-out channel, a wrong number,\n"
         "or a conversation a person holds. Prints one line per reminder queued (--dry-run:\n"
         "that would be, and nothing changes). --now pins the instant (default: now).\n",
         {"--db", "--now"},
         {"--dry-run"},
         {"--db"},
         0,
         0,
         "give --db PATH",
         Remind},
        {"report",
         "cobrador report --db PATH [--from YYYY-MM-DD] [--to YYYY-MM-DD] "
         "[--format json|csv] [--currency CODE] [--lang en-US|es-MX]",
         "Collection KPIs for the period (default: everything up to today), in total, by\n"
         "channel and by days-past-due bucket. Money is exact decimal text. --lang es-MX\n"
         "writes the CSV's header row in Spanish (default: the JSON's key names).\n",
         {"--db", "--from", "--to", "--format", "--currency", "--lang"},
         {},
         {"--db"},
         0,
         0,
         "--db PATH is required",
         Report},
        {"agent add",
         "cobrador agent add --db PATH --name NAME --role collector|supervisor "
         "[--expires YYYY-MM-DD]",
         "Creates a collector or supervisor and prints the API token once, alone on the last\n"
         "line. Only its SHA-256 hash is stored: keep the token somewhere safe. With --expires\n"
         "the token works through that day (UTC) and then no more (a temporary collector).\n",
         {"--db", "--name", "--role", "--expires"},
         {},
         {"--db", "--name", "--role"},
         0,
         0,
         "--db, --name and --role are required",
         AgentAdd},
        {"agent disable",
         "cobrador agent disable --db PATH (--id ID | --name NAME)",
         "Disables an agent (a collector who left, a token that leaked): its token stops\n"
         "working at once, on every replica, and the conversations it held go back to the\n"
         "queue. The agent stays in the history. Agents are listed by GET /api/v1/agents;\n"
         "--name disables every enabled agent of that name.\n",
         {"--db", "--id", "--name"},
         {},
         {"--db"},
         0,
         0,
         "--db is required, and --id or --name",
         AgentDisable},
        {"report complaints",
         "cobrador report complaints --db PATH --month YYYY-MM [--format json|csv] "
         "[--lang en-US|es-MX]",
         "The month's disputes, complaints and privacy requests for the regulator's report:\n"
         "opened by category, closed by outcome (favorable, partial, unfavorable for the\n"
         "debtor), still open at the month's end, answered after their due date, and each\n"
         "case by folio. Every category is listed, so a month with none is a report of zeros.\n"
         "--lang es-MX writes the CSV's header row in Spanish.\n",
         {"--db", "--month", "--format", "--lang"},
         {},
         {"--db", "--month"},
         0,
         0,
         "--db and --month are required",
         ReportComplaints},
        {"export debtor",
         "cobrador export debtor --db PATH --id DEBTOR_ID",
         "Everything the ledger holds about one debtor (the portfolio's debtor_id), as JSON,\n"
         "for a privacy access request: the debtor, accounts, payments, promises, plans,\n"
         "conversations and messages, notes, files (listed; their bytes are left out), cases,\n"
         "opt-outs and the audit trail.\n",
         {"--db", "--id"},
         {},
         {"--db", "--id"},
         0,
         0,
         "--db and --id are required",
         ExportDebtor},
        {"references",
         "cobrador references --db PATH [--legacy-until YYYY-MM-DD|open]",
         "Payment references carry Damm's check digit since December 2026 (docs/references.md).\n"
         "The accounts that had a reference before keep their old one (Luhn's digit) accepted\n"
         "for payments until the transition ends; payments with one after that wait in\n"
         "suspense (reason old_reference) for a person. Prints the transition as JSON:\n"
         "{\"legacy_accounts_up_to\", \"legacy_until\"} (null: not ended). --legacy-until\n"
         "sets the last day old references count (UTC; the day the money was paid);\n"
         "\"open\" takes the end away again.\n",
         {"--db", "--legacy-until"},
         {},
         {"--db"},
         0,
         0,
         "--db is required",
         References},
        {"backup",
         "cobrador backup --db PATH --to FILE",
         "Copies the ledger to FILE with SQLite's online backup: a consistent snapshot, taken\n"
         "while `serve` keeps running. FILE must not exist. The copy is checked\n"
         "(PRAGMA integrity_check) before it gets its name. To restore: stop the server, put\n"
         "FILE in place of the ledger (and delete the ledger's -wal and -shm files), start "
         "it.\n"
         "A PostgreSQL ledger is backed up with PostgreSQL's tools (pg_dump, pg_basebackup;\n"
         "docs/operations.md).\n",
         {"--db", "--to"},
         {},
         {"--db", "--to"},
         0,
         0,
         "--db PATH and --to FILE are required",
         Backup},
        {"copy",
         "cobrador copy --from SQLITE_PATH --to POSTGRES_URI",
         "Copies a whole ledger into an empty PostgreSQL database migrated to the same version\n"
         "(cobrador migrate --db POSTGRES_URI first), in one transaction: debtors, accounts and\n"
         "their history, conversations, messages, outbox, references, payments, suspense,\n"
         "promises, plans, reminders, agents and the audit log, ids and all; new rows get ids\n"
         "after the copied ones. Prints every table's rows and the sums of balances and\n"
         "payments on both sides, and commits only when they all match. Stop `serve` on the\n"
         "source first. Also copies the other way (PostgreSQL to a new SQLite file).\n",
         {"--from", "--to"},
         {},
         {"--from", "--to"},
         0,
         0,
         "--from SQLITE_PATH and --to POSTGRES_URI are required",
         Copy},
        {"nlu",
         "cobrador nlu [--locale es-MX|en-US] [--today YYYY-MM-DD] TEXT",
         "Prints what the bot understands of TEXT as one JSON object:\n"
         "{\"intent\":…, \"confidence\":…, \"entities\":{\"amount\", \"date\", "
         "\"installments\", \"menu_choice\"}}.\n"
         "Relative dates (\"mañana\", \"el viernes\", \"la próxima quincena\") resolve against\n"
         "--today (default: COBRADOR_TODAY, else today's date). Several words are one TEXT.\n",
         {"--locale", "--today"},
         {},
         {},
         1,
         kMany,
         "give the TEXT to understand",
         Nlu},
        {"read-receipt",
         "cobrador read-receipt [--type CONTENT_TYPE] FILE",
         "Reads a payment receipt as the server does with one a debtor sends (docs/media.md):\n"
         "an image through OCR (Tesseract, Spanish and English), a PDF through its text layer,\n"
         "and prints one JSON object: {\"ok\", \"engine\", \"text\", \"error\", \"fields\":\n"
         "{\"clave_rastreo\", \"amount\", \"date\", \"sending_bank\", \"beneficiary_account\",\n"
         "\"reference\", \"concept\", \"beneficiary_name\"}}. FILE - reads standard input. The\n"
         "type is read from the bytes unless --type says it. Exit status 1 when nothing could\n"
         "be read.\n",
         {"--type"},
         {},
         {},
         1,
         1,
         "give the FILE to read (- for standard input)",
         ReadReceiptFile},
        {"chat",
         "cobrador chat --db PATH --phone E164 [--channel whatsapp|sms]",
         "Talks to the collection dialog in the terminal as the debtor with that phone: each\n"
         "line you type is one message, and the bot's replies are shown as the channel would\n"
         "render them (WhatsApp buttons and lists, or SMS numbered options with the segment\n"
         "count). Outcomes (verification, promises, plans, opt-outs...) are written to the\n"
         "ledger as a sandbox conversation, which is never sent to a provider. Ends at EOF\n"
         "(Ctrl-D).\n",
         {"--db", "--phone", "--channel"},
         {},
         {"--db", "--phone"},
         0,
         0,
         "--db PATH and --phone E164 are required",
         Chat},
    };
    return kCommands;
}

}  // namespace

namespace cli {

int Usage(std::ostream& err, const std::string& command, const std::string& problem) {
    err << "cobrador " << command << ": " << problem << "\n";
    if (const Command* c = FindCommand(command)) {
        err << "usage: " << c->usage << "\n";
    }
    return kUsage;
}

}  // namespace cli

int RunCli(const std::vector<std::string>& args,
           std::istream& in,
           std::ostream& out,
           std::ostream& err,
           const GetEnv& getenv) {
    if (!args.empty() && (args[0] == "--version" || args[0] == "version")) {
        out << "cobrador " << COBRADOR_VERSION << "\n";
        return kOk;
    }
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        (args.empty() ? err : out) << kMainHelp;
        return args.empty() ? kUsage : kOk;
    }
    const Command* command = FindCommand(args[0]);
    if (args[0] == "report" && args.size() > 1 && args[1] == "complaints") {
        command = FindCommand("report complaints");
    }
    if (command == nullptr && (args[0] == "import" || args[0] == "agent" || args[0] == "export")) {
        // Two words: "import portfolio", "agent add".
        const std::string sub = args.size() > 1 ? args[1] : "";
        command = FindCommand(args[0] + " " + sub);
        if (command == nullptr) {
            err << "cobrador " << args[0] << ": unknown subcommand '" << sub << "' (try "
                << (args[0] == "import"   ? "'import portfolio'"
                    : args[0] == "export" ? "'export debtor'"
                                          : "'agent add' or 'agent disable'")
                << ")\n";
            return kUsage;
        }
    }
    if (command == nullptr) {
        err << "cobrador: unknown command '" << args[0] << "'\n\n" << kMainHelp;
        return kUsage;
    }
    const bool serve = command->run == Serve;
    auto config = LoadConfig(std::nullopt, getenv);
    if (!config && !serve) {
        err << "cobrador: " << config.error() << "\n";
        return kUsage;
    }
    std::string problem;
    const std::size_t words =
        std::string_view(command->name).find(' ') == std::string_view::npos ? 1 : 2;
    auto options = Parse(args, words, command->values, command->switches, problem);
    if (!options) {
        return Usage(err, command->name, problem);
    }
    if (options->help) {
        out << "usage: " << command->usage << "\n\n" << command->help;
        return kOk;
    }
    const std::size_t given = options->positional.size();
    if (serve && given > 0) {
        return Usage(err, command->name, "unexpected argument '" + options->positional[0] + "'");
    }
    bool complete = given >= command->min_positional && given <= command->max_positional;
    for (const std::string& required : command->required) {
        complete = complete && options->values.count(required) > 0;
    }
    if (!complete) {
        return Usage(err, command->name, command->missing);
    }
    Invocation inv{std::move(*options), in, out, err, config ? &*config : nullptr, getenv};
    return command->run(inv);
}

int RunCli(const std::vector<std::string>& args,
           std::ostream& out,
           std::ostream& err,
           const GetEnv& getenv) {
    return RunCli(args, std::cin, out, err, getenv);
}

}  // namespace cobrador::bot
