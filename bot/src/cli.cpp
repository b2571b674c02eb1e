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

#include "bot/demo.hpp"
#include "bot/log.hpp"
#include "bot/server.hpp"
#include "channels/signature.hpp"
#include "channels/twilio.hpp"
#include "dialogs/calendar.hpp"
#include "dialogs/locale.hpp"
#include "dialogs/money.hpp"
#include "dialogs/nlu.hpp"
#include "dialogs/phone.hpp"
#include "store/ledger.hpp"
#include "store/portfolio.hpp"

#include "conversation.hpp"
#include "outbound_json.hpp"
#include "proactive.hpp"
#include "reminders.hpp"
#include "report_format.hpp"
#include <malloc.h>

namespace cobrador::bot {

namespace {

constexpr int kOk = 0;
constexpr int kFailed = 1;
constexpr int kUsage = 2;
constexpr std::size_t kMaxErrorsShown = 100;

const char* const kMainHelp = R"(cobrador — a collections chatbot for WhatsApp and SMS

usage: cobrador <command> [options]

commands:
  serve [--config FILE] [--demo]        run the webhook server
  migrate --db PATH                     create or upgrade the ledger schema
  import portfolio --db PATH FILE.csv   upsert debtors and accounts (all or nothing)
  import payments --db PATH FILE.csv    apply a payments statement (idempotent per payment)
  remind --db PATH [--now T] [--dry-run]
                                        one pass of the reminder scheduler
  report --db PATH [--from D] [--to D] [--format json|csv] [--currency CODE]
                                        collection KPIs
  agent add --db PATH --name NAME --role collector|supervisor
                                        create a collector; prints its API token once
  backup --db PATH --to FILE            a consistent copy of the ledger, also while serving
  nlu [--locale L] [--today D] TEXT     what the bot understands of TEXT, as JSON
  chat --db PATH --phone E164 [--channel whatsapp|sms]
                                        talk to the dialog in the terminal

'cobrador <command> --help' tells more about each.
)";

// Options after the command words: "--name value" pairs, "--flag" switches and positionals.
struct Options {
    std::map<std::string, std::string> values;
    std::map<std::string, bool> flags;
    std::vector<std::string> positional;
    bool help = false;
};

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

// One command's arguments, streams and settings, after the table's checks.
struct Invocation {
    Options options;
    std::istream& in;
    std::ostream& out;
    std::ostream& err;
    const Config* config;  // null for serve, which loads its own
    const GetEnv& getenv;

    std::string& operator[](const std::string& name) { return options.values[name]; }

    bool Has(const std::string& name) const { return options.values.count(name) > 0; }

    bool Flag(const std::string& name) const { return options.flags.count(name) > 0; }
};

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

int Usage(std::ostream& err, const std::string& command, const std::string& problem) {
    err << "cobrador " << command << ": " << problem << "\n";
    if (const Command* c = FindCommand(command)) {
        err << "usage: " << c->usage << "\n";
    }
    return kUsage;
}

std::string NowIso(const Config& config) {
    return config.Now(std::chrono::system_clock::now());
}

std::string TodayIso(const Config& config) {
    return config.Today(std::chrono::system_clock::now());
}

// Opens and checks the ledger for commands that need an up-to-date schema.
std::optional<store::Ledger> OpenLedger(const std::string& path,
                                        std::ostream& err,
                                        bool must_exist) {
    auto ledger = store::Ledger::Open(path,
                                      must_exist ? store::Ledger::OpenMode::kReadWrite
                                                 : store::Ledger::OpenMode::kReadWriteCreate);
    if (!ledger) {
        err << "cobrador: cannot open " << path << ": " << ledger.error().message() << "\n";
        return std::nullopt;
    }
    return std::move(*ledger);
}

bool ReportLedgerError(std::ostream& err,
                       const std::string& path,
                       const boost::system::error_code& error) {
    err << "cobrador: " << path << ": " << error.message();
    if (error == store::Errc::kNotMigrated) {
        err << " (cobrador migrate --db " << path << ")";
    }
    err << "\n";
    return false;
}

// Opens --db (which must exist) and checks its schema is the latest: the ledger, or nullopt
// after saying why (then the command fails with kFailed).
std::optional<store::Ledger> OpenReady(Invocation& inv) {
    const std::string& path = inv["--db"];
    auto ledger = OpenLedger(path, inv.err, true);
    if (!ledger) {
        return std::nullopt;
    }
    if (auto ready = ledger->CheckReady(); !ready) {
        ReportLedgerError(inv.err, path, ready.error());
        return std::nullopt;
    }
    return ledger;
}

int Migrate(Invocation& inv) {
    std::ostream& out = inv.out;
    const std::string path = inv["--db"];
    auto ledger = OpenLedger(path, inv.err, false);
    if (!ledger) {
        return kFailed;
    }
    auto applied = ledger->Migrate();
    if (!applied) {
        ReportLedgerError(inv.err, path, applied.error());
        return kFailed;
    }
    if (applied->empty()) {
        out << path << ": schema already at version " << store::Ledger::LatestSchemaVersion()
            << "; nothing to do\n";
    } else {
        out << path << ": applied migration";
        out << (applied->size() > 1 ? "s" : "");
        for (const int v : *applied) {
            out << " " << v;
        }
        out << "; schema at version " << store::Ledger::LatestSchemaVersion() << "\n";
    }
    return kOk;
}

int Backup(Invocation& inv) {
    std::ostream& out = inv.out;
    std::ostream& err = inv.err;
    const std::string path = inv["--db"];
    const std::string to = inv["--to"];
    auto ledger = OpenLedger(path, err, true);
    if (!ledger) {
        return kFailed;
    }
    const auto started = std::chrono::steady_clock::now();
    auto pages = ledger->Backup(to);
    if (!pages) {
        err << "cobrador: backup of " << path << " to " << to << " failed: " << ledger->LastError()
            << "\n";
        return kFailed;
    }
    const auto seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    out << path << " backed up to " << to << " (" << *pages << " pages, " << std::fixed
        << std::setprecision(2) << seconds << " s)\n";
    return kOk;
}

std::string Megabytes(std::uint64_t bytes) {
    std::ostringstream text;
    text << std::fixed << std::setprecision(1) << static_cast<double>(bytes) / 1e6 << " MB";
    return text.str();
}

// Every bad row of an import file (the first kMaxErrorsShown), and that nothing was imported.
int ReportRowErrors(std::ostream& err,
                    const std::string& file,
                    const std::vector<store::RowError>& errors) {
    std::size_t shown = 0;
    for (const auto& e : errors) {
        if (++shown > kMaxErrorsShown) {
            err << "... and " << errors.size() - kMaxErrorsShown << " more\n";
            break;
        }
        err << file << ":" << e.line << ": " << e.message << "\n";
    }
    std::set<std::size_t> lines;
    for (const auto& e : errors) {
        lines.insert(e.line);
    }
    err << "cobrador: " << errors.size() << " problem" << (errors.size() == 1 ? "" : "s") << " on "
        << lines.size() << " line" << (lines.size() == 1 ? "" : "s") << " of " << file
        << "; nothing was imported\n";
    return kFailed;
}

int ImportPortfolio(Invocation& inv) {
    std::ostream& out = inv.out;
    std::ostream& err = inv.err;
    const Config& config = *inv.config;
    const std::string path = inv["--db"];
    const std::string file = inv.options.positional[0];
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        err << "cobrador: cannot read " << file << "\n";
        return kFailed;
    }
    auto ledger = OpenReady(inv);
    if (!ledger) {
        return kFailed;
    }
    in.seekg(0, std::ios::end);
    const auto size = static_cast<std::uint64_t>(in.tellg());
    in.seekg(0);
    const auto parsed = store::ParsePortfolioCsv(in, [&](std::size_t rows, std::uint64_t bytes) {
        err << "reading " << file << ": " << rows << " rows, " << Megabytes(bytes) << " of "
            << Megabytes(size) << "\n";
    });
    if (!parsed.errors.empty()) {
        return ReportRowErrors(err, file, parsed.errors);
    }
    auto summary = ledger->ImportPortfolio(
        parsed.rows, file, NowIso(config), [&](std::size_t done, std::size_t total) {
            err << "writing: " << done << " of " << total << " accounts\n";
        });
    if (!summary) {
        ReportLedgerError(err, path, summary.error());
        err << "cobrador: nothing was imported\n";
        return kFailed;
    }
    out << "imported " << parsed.rows.size() << " accounts from " << file << " (" << parsed.records
        << " rows";
    if (parsed.duplicate_rows > 0) {
        out << ", " << parsed.duplicate_rows << " exact repeats ignored";
    }
    out << ")\n"
        << "debtors: " << summary->debtors_inserted << " new, " << summary->debtors_updated
        << " updated\n"
        << "accounts: " << summary->accounts_inserted << " new, " << summary->accounts_updated
        << " updated (" << summary->balances_changed << " with a new balance or due date), "
        << summary->accounts_unchanged << " unchanged\n";
    return kOk;
}

int Report(Invocation& inv) {
    std::ostream& out = inv.out;
    std::ostream& err = inv.err;
    const Config& config = *inv.config;
    auto* options = &inv.options;
    store::ReportQuery query;
    query.from = options->values["--from"];
    query.to = options->values["--to"];
    query.currency = options->values["--currency"];
    if (const auto wrong = ReportQueryProblem(query)) {
        return Usage(err, "report", *wrong);
    }
    const std::string format =
        options->values.count("--format") ? options->values["--format"] : "json";
    if (format != "json" && format != "csv") {
        return Usage(err, "report", "--format is json or csv");
    }
    query.as_of = query.to.empty() ? TodayIso(config) : query.to;

    const std::string path = options->values["--db"];
    auto ledger = OpenLedger(path, err, true);
    if (!ledger) {
        return kFailed;
    }
    auto report = ledger->BuildReport(query);
    if (!report) {
        ReportLedgerError(err, path, report.error());
        return kFailed;
    }
    if (format == "csv") {
        WriteReportCsv(*report, out);
        return kOk;
    }
    const nlohmann::ordered_json j = ReportJson(*report);
    out << j.dump(2) << "\n";
    return kOk;
}

std::string NewToken() {
    // 32 random bytes from the kernel, hex: 256 bits, and no character needs quoting.
    std::ifstream random("/dev/urandom", std::ios::binary);
    std::string bytes(32, '\0');
    random.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!random) {
        return {};
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string token = "cbr_";
    for (const char c : bytes) {
        const auto b = static_cast<unsigned char>(c);
        token += kHex[b >> 4];
        token += kHex[b & 0x0f];
    }
    return token;
}

int ImportPayments(Invocation& inv) {
    std::ostream& out = inv.out;
    std::ostream& err = inv.err;
    const Config& config = *inv.config;
    auto* options = &inv.options;
    auto strategy = LoadReminderStrategy(config);
    if (!strategy) {
        err << "cobrador: " << strategy.error() << "\n";
        return kUsage;
    }
    const std::string path = options->values["--db"];
    const std::string file = options->positional[0];
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        err << "cobrador: cannot read " << file << "\n";
        return kFailed;
    }
    auto ledger = OpenReady(inv);
    if (!ledger) {
        return kFailed;
    }
    const auto parsed = store::ParsePaymentsCsv(in);
    if (!parsed.errors.empty()) {
        return ReportRowErrors(err, file, parsed.errors);
    }
    const auto clock = std::chrono::system_clock::now();
    const auto instant = config.Instant(clock);
    auto summary = ledger->ApplyPayments(
        parsed.rows, "import", config.Now(clock), [&](const store::PaymentNotice& notice) {
            return PaymentThanks(notice, config, *strategy, instant, false);
        });
    if (!summary) {
        ReportLedgerError(err, path, summary.error());
        err << "cobrador: nothing was imported\n";
        return kFailed;
    }
    std::size_t queued = 0;
    for (std::size_t i = 0; i < summary->outcomes.size(); ++i) {
        const auto& o = summary->outcomes[i];
        queued += o.message_queued ? 1 : 0;
        if (o.status == "suspense") {
            out << file << ":" << parsed.rows[i].line << ": payment " << o.payment_id
                << " held in suspense (" << o.reason << ")\n";
        }
    }
    out << "payments from " << file << " (" << parsed.records << " rows";
    if (parsed.duplicate_rows > 0) {
        out << ", " << parsed.duplicate_rows << " exact repeats ignored";
    }
    out << "): " << summary->applied << " applied, " << summary->suspense << " in suspense, "
        << summary->duplicates << " already recorded\n"
        << "thank-you messages queued: " << queued << "\n";
    return kOk;
}

int Remind(Invocation& inv) {
    std::ostream& out = inv.out;
    std::ostream& err = inv.err;
    const Config& config = *inv.config;
    auto* options = &inv.options;
    std::chrono::sys_seconds now = config.Instant(std::chrono::system_clock::now());
    if (options->values.count("--now")) {
        const auto given = dialogs::ParseIso8601(options->values["--now"]);
        if (!given || options->values["--now"].size() == 10) {
            return Usage(err,
                         "remind",
                         "--now is an ISO 8601 instant with a zone, like 2026-11-23T16:00:00Z");
        }
        now = *given;
    }
    auto strategy = LoadReminderStrategy(config);
    if (!strategy) {
        err << "cobrador: " << strategy.error() << "\n";
        return kUsage;
    }
    const std::string path = options->values["--db"];
    auto ledger = OpenReady(inv);
    if (!ledger) {
        return kFailed;
    }
    const bool dry_run = options->flags.count("--dry-run") > 0;
    auto pass = RunReminderPass(*ledger, config, *strategy, now, dry_run);
    if (!pass) {
        ReportLedgerError(err, path, pass.error());
        return kFailed;
    }
    for (const ReminderLine& line : pass->queued) {
        out << line.debtor << " " << line.rule << " (" << line.subject << ") via " << line.channel
            << "\n";
    }
    err << (dry_run ? "would queue " : "queued ") << pass->queued.size() << " reminder"
        << (pass->queued.size() == 1 ? "" : "s") << " at " << dialogs::FormatIsoInstant(now)
        << "; outside contact hours: " << pass->skipped_outside_hours
        << ", not to be reminded: " << pass->skipped_blocked
        << ", promises found broken: " << pass->promises_broken << "\n";
    return kOk;
}

int AgentAdd(Invocation& inv) {
    std::ostream& out = inv.out;
    std::ostream& err = inv.err;
    const Config& config = *inv.config;
    auto& v = inv.options.values;
    if (!dialogs::FromString<dialogs::Role>(v["--role"])) {
        return Usage(err, "agent add", "--role is collector or supervisor");
    }
    if (v["--name"].empty() || v["--name"].size() > 200) {
        return Usage(err, "agent add", "--name must be 1 to 200 characters");
    }
    auto ledger = OpenLedger(v["--db"], err, true);
    if (!ledger) {
        return kFailed;
    }
    const std::string token = NewToken();
    if (token.empty()) {
        err << "cobrador: cannot read random bytes for the token\n";
        return kFailed;
    }
    auto id =
        ledger->AddAgent(v["--name"], v["--role"], channels::Sha256Hex(token), NowIso(config));
    if (!id) {
        ReportLedgerError(err, v["--db"], id.error());
        return kFailed;
    }
    out << "agent " << *id << " (" << v["--role"] << ") created; its token is shown only once:\n"
        << token << "\n";
    return kOk;
}

int Serve(Invocation& inv) {
    std::ostream& out = inv.out;
    std::ostream& err = inv.err;
    const GetEnv& getenv = inv.getenv;
    auto* options = &inv.options;
    std::optional<std::string> file;
    if (options->values.count("--config")) {
        file = options->values["--config"];
    }
    auto loaded = LoadConfig(file, getenv);
    if (!loaded) {
        err << "cobrador serve: " << loaded.error() << "\n";
        return kUsage;
    }
    Config config = std::move(*loaded);
    const bool demo = options->flags.count("--demo") > 0;
    config.demo = demo;
    std::string demo_token;
    if (demo) {
        if (!getenv("COBRADOR_DB") && !(file && config.db_path != "./cobrador.db")) {
            config.db_path = "./cobrador-demo.db";
        }
        auto ledger = OpenLedger(config.db_path, err, false);
        if (!ledger) {
            return kFailed;
        }
        if (auto applied = ledger->Migrate(); !applied) {
            ReportLedgerError(err, config.db_path, applied.error());
            return kFailed;
        }
        std::istringstream csv(DemoPortfolioCsv(TodayIso(config)));
        const auto parsed = store::ParsePortfolioCsv(csv);
        if (!parsed.errors.empty()) {
            err << "cobrador: the demo portfolio is broken: " << parsed.errors[0].message << "\n";
            return kFailed;
        }
        auto summary = ledger->ImportPortfolio(parsed.rows, "demo portfolio", NowIso(config));
        if (!summary) {
            ReportLedgerError(err, config.db_path, summary.error());
            return kFailed;
        }
        Log(LogLevel::kInfo,
            "demo portfolio loaded",
            {{"db", config.db_path}, {"accounts", std::to_string(parsed.rows.size())}});
        // A supervisor to try the console with: a new token each start (only hashes are kept),
        // and the previous starts' tokens stop working.
        demo_token = NewToken();
        if (demo_token.empty() || !ledger->DisableAgentsNamed("Demo supervisor", NowIso(config)) ||
            !ledger->AddAgent(
                "Demo supervisor", "supervisor", channels::Sha256Hex(demo_token), NowIso(config))) {
            err << "cobrador: cannot create the demo supervisor\n";
            return kFailed;
        }
    }
    Log(LogLevel::kInfo, "starting", {{"config", config.Describe()}});
    if (!config.WhatsAppEnabled()) {
        Log(LogLevel::kWarn, "WhatsApp is off: COBRADOR_WHATSAPP_* credentials are missing");
    }
    if (!config.SmsEnabled()) {
        Log(LogLevel::kWarn, "SMS is off: COBRADOR_TWILIO_* credentials are missing");
    }
    // glibc gives freed memory back to the kernel eagerly (madvise on every trim), and each
    // give-back is a TLB shoot-down on every core and page faults to take it again: a fifth of
    // the server's CPU under webhook load (docs/performance.md). Keep what the process has.
    mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024);
    mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);
    Server server(config);
    auto port = server.Start();
    if (!port) {
        err << "cobrador serve: " << port.error() << "\n";
        return kFailed;
    }
    const std::string base = std::string(config.Tls() ? "https://" : "http://") +
                             config.listen_host + ":" + std::to_string(*port);
    out << "cobrador listening on " << base
        << (demo ? " (demo: " + config.db_path + ")" : std::string()) << "\n"
        << "  health: " << base << "/healthz\n"
        << "  console: " << base << "/console/\n";
    if (demo) {
        out << "  debtor's phone (sandbox): " << base << "/console/phone.html\n"
            << "  demo supervisor token: " << demo_token << "\n";
    }
    out << std::flush;
    server.Run();
    return kOk;
}

int Nlu(Invocation& inv) {
    std::ostream& out = inv.out;
    std::ostream& err = inv.err;
    const Config& config = *inv.config;
    auto* options = &inv.options;
    const std::string locale =
        options->values.count("--locale") ? options->values["--locale"] : "es-MX";
    if (!dialogs::IsSupportedLocale(locale)) {
        return Usage(err, "nlu", "--locale is es-MX or en-US");
    }
    const std::string today_text = options->values.count("--today")
                                       ? options->values["--today"]
                                       : config.Today(std::chrono::system_clock::now());
    const auto today = dialogs::ParseIsoDate(today_text);
    if (!today) {
        return Usage(err, "nlu", "'" + today_text + "' is not a date written YYYY-MM-DD");
    }
    std::string text;
    for (const std::string& word : options->positional) {
        text += text.empty() ? word : " " + word;
    }
    out << dialogs::ToJson(dialogs::Understand(text, locale, *today)) << "\n";
    return kOk;
}

// How a message looks on the channel: WhatsApp shows buttons or a list under the text; SMS
// numbers the options inside the text and costs segments.
std::string Shown(const channels::OutboundMessage& message, const std::string& channel) {
    if (channel == "sms") {
        const std::string text = channels::SmsText(message);
        return text + "\n  (SMS, " + std::to_string(channels::SmsSegments(text)) + " segment" +
               (channels::SmsSegments(text) == 1 ? "" : "s") + ")";
    }
    std::string text = message.text;
    for (const auto& b : message.buttons) {
        text += "\n  [ " + b.title + " ]";
    }
    if (!message.list.empty()) {
        text += "\n  [ " + message.list_button + " \u25BE ]";
        for (const auto& r : message.list) {
            text += "\n    - " + r.title;
        }
    }
    return text;
}

int Chat(Invocation& inv) {
    std::istream& in = inv.in;
    std::ostream& out = inv.out;
    std::ostream& err = inv.err;
    const Config& config = *inv.config;
    auto& v = inv.options.values;
    const auto phone = dialogs::NormalizePhone(v["--phone"]);
    if (!phone) {
        return Usage(err, "chat", "'" + v["--phone"] + "' is not a phone number in E.164 (+52...)");
    }
    const std::string channel = v.count("--channel") ? v["--channel"] : "whatsapp";
    if (channel != "whatsapp" && channel != "sms") {
        return Usage(err, "chat", "--channel is whatsapp or sms");
    }
    auto settings = DialogSettings(config);
    if (!settings) {
        err << "cobrador chat: " << settings.error() << "\n";
        return kFailed;
    }
    auto ledger = OpenLedger(v["--db"], err, false);
    if (!ledger) {
        return kFailed;
    }
    out << "chat with the bot as " << dialogs::RedactPhone(*phone) << " on " << channel
        << "; one line per message, Ctrl-D to end\n";
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
        if (line.empty()) {
            continue;
        }
        const auto now = std::chrono::system_clock::now();
        const std::string id =
            "chat-" + std::to_string(now.time_since_epoch().count()) + "-" + std::to_string(++n);
        const nlohmann::json payload = {{"text", line}};
        store::InboundRecord record{"sandbox", id, "text", *phone, payload.dump()};
        if (auto stored = ledger->RecordWebhook({record}, {}, config.Now(now)); !stored) {
            ReportLedgerError(err, v["--db"], stored.error());
            return kFailed;
        }
        auto pending = ledger->PendingInboundEvents(1000);
        if (!pending) {
            ReportLedgerError(err, v["--db"], pending.error());
            return kFailed;
        }
        for (const store::PendingInbound& event : *pending) {
            if (event.provider_event_id != id) {
                continue;
            }
            std::vector<store::Reply> replies;
            auto handled = ledger->HandleInbound(
                event,
                line,
                [&](const dialogs::ConversationView& view) {
                    store::DialogTurn turn = Decide(view, {line, "", ""}, *settings, config, now);
                    replies = turn.replies;
                    return turn;
                },
                config.Now(now));
            if (!handled) {
                ReportLedgerError(err, v["--db"], handled.error());
                return kFailed;
            }
            for (const store::Reply& reply : replies) {
                const auto message = OutboundFromJson(reply.payload);
                out << "bot> " << (message ? Shown(*message, channel) : reply.body) << "\n";
            }
        }
        out << std::flush;
    }
    return kOk;
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
         "cobrador import portfolio --db PATH FILE.csv",
         "Upserts debtors and accounts from a portfolio CSV (columns: account_id, debtor_name,\n"
         "phone, birth_date, balance, currency, due_date; optional debtor_id, locale, timezone,\n"
         "segment, product, min_payment, email). Every bad row is reported with its line\n"
         "number, and a file with any bad row imports nothing. Progress goes to stderr.\n",
         {"--db"},
         {},
         {"--db"},
         1,
         1,
         "give --db PATH and one CSV file",
         ImportPortfolio},
        {"import payments",
         "cobrador import payments --db PATH FILE.csv",
         "Applies a bank or processor statement: CSV with payment_id, reference, amount,\n"
         "currency, paid_at (ISO 8601 with a zone) and optional method. A file with a bad row\n"
         "applies nothing. Each payment is matched by its reference (check digit verified);\n"
         "one that matches no account is held in suspense and listed. A payment_id already\n"
         "recorded changes nothing, so the same statement can be applied twice. Applied\n"
         "payments lower the balance, keep promises and pay plan instalments, and queue a\n"
         "thank-you that `serve` sends.\n",
         {"--db"},
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
         "[--format json|csv] [--currency CODE]",
         "Collection KPIs for the period (default: everything up to today), in total, by\n"
         "channel and by days-past-due bucket. Money is exact decimal text.\n",
         {"--db", "--from", "--to", "--format", "--currency"},
         {},
         {"--db"},
         0,
         0,
         "--db PATH is required",
         Report},
        {"agent add",
         "cobrador agent add --db PATH --name NAME --role collector|supervisor",
         "Creates a collector or supervisor and prints the API token once, alone on the last\n"
         "line. Only its SHA-256 hash is stored: keep the token somewhere safe.\n",
         {"--db", "--name", "--role"},
         {},
         {"--db", "--name", "--role"},
         0,
         0,
         "--db, --name and --role are required",
         AgentAdd},
        {"backup",
         "cobrador backup --db PATH --to FILE",
         "Copies the ledger to FILE with SQLite's online backup: a consistent snapshot, taken\n"
         "while `serve` keeps running. FILE must not exist. The copy is checked\n"
         "(PRAGMA integrity_check) before it gets its name. To restore: stop the server, put\n"
         "FILE in place of the ledger (and delete the ledger's -wal and -shm files), start "
         "it.\n",
         {"--db", "--to"},
         {},
         {"--db", "--to"},
         0,
         0,
         "--db PATH and --to FILE are required",
         Backup},
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

int RunCli(const std::vector<std::string>& args,
           std::istream& in,
           std::ostream& out,
           std::ostream& err,
           const GetEnv& getenv) {
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        (args.empty() ? err : out) << kMainHelp;
        return args.empty() ? kUsage : kOk;
    }
    std::string name = args[0];
    const Command* command = FindCommand(name);
    if (command == nullptr && args.size() > 1) {
        name += " " + args[1];  // two words: "import portfolio", "agent add"
        command = FindCommand(name);
        if (command == nullptr && (args[0] == "import" || args[0] == "agent")) {
            err << "cobrador " << args[0] << ": unknown subcommand '" << args[1] << "' (try "
                << (args[0] == "import" ? "'import portfolio'" : "'agent add'") << ")\n";
            return kUsage;
        }
    }
    if (command == nullptr) {
        if (args[0] == "import" || args[0] == "agent") {
            err << "cobrador " << args[0] << ": unknown subcommand '' (try "
                << (args[0] == "import" ? "'import portfolio'" : "'agent add'") << ")\n";
            return kUsage;
        }
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
