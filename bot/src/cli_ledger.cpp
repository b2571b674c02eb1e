// The commands that work on the ledger file: migrate, backup, the imports, report, remind,
// agent add.

#include <charconv>
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
#include "dialogs/locale.hpp"
#include "dialogs/money.hpp"
#include "dialogs/nlu.hpp"
#include "dialogs/phone.hpp"
#include "dialogs/vocabulary.hpp"
#include "store/ledger.hpp"
#include "store/portfolio.hpp"

#include "cli_support.hpp"
#include "conversation.hpp"
#include "outbound_json.hpp"
#include "proactive.hpp"
#include "reminders.hpp"
#include "report_format.hpp"

namespace cobrador::bot::cli {

namespace {

std::string Megabytes(std::uint64_t bytes) {
    std::ostringstream text;
    text << std::fixed << std::setprecision(1) << static_cast<double>(bytes) / 1e6 << " MB";
    return text.str();
}

}  // namespace

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
        out << Shown(path) << ": schema already at version " << store::Ledger::LatestSchemaVersion()
            << "; nothing to do\n";
    } else {
        out << Shown(path) << ": applied migration";
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
        err << "cobrador: backup of " << Shown(path) << " to " << to
            << " failed: " << ledger->LastError() << "\n";
        return kFailed;
    }
    const auto seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    out << path << " backed up to " << to << " (" << *pages << " pages, " << std::fixed
        << std::setprecision(2) << seconds << " s)\n";
    return kOk;
}

int Copy(Invocation& inv) {
    std::ostream& out = inv.out;
    std::ostream& err = inv.err;
    const std::string from = inv["--from"];
    const std::string to = inv["--to"];
    auto source = OpenLedger(from, err, true);
    if (!source) {
        return kFailed;
    }
    auto target = OpenLedger(to, err, false);
    if (!target) {
        return kFailed;
    }
    out << "copying " << Shown(from) << " into " << Shown(to) << "\n";
    const auto started = std::chrono::steady_clock::now();
    auto report = source->CopyInto(*target, [&](const std::string& table, std::int64_t rows) {
        if (rows > 0 && rows % 100000 == 0) {
            err << "  " << table << ": " << rows << " rows so far\n";
        }
    });
    if (!report) {
        err << "cobrador: copy into " << Shown(to) << " failed: " << report.error().message();
        if (!target->LastError().empty()) {
            err << " (" << target->LastError() << ")";
        }
        if (report.error() == store::Errc::kNotMigrated) {
            err << "; run cobrador migrate on both first";
        }
        err << "\n";
        return kFailed;
    }
    out << std::left << std::setw(22) << "table" << std::right << std::setw(12) << "source"
        << std::setw(12) << "target"
        << "\n";
    std::int64_t total = 0;
    for (const auto& t : report->tables) {
        out << std::left << std::setw(22) << t.name << std::right << std::setw(12) << t.source_rows
            << std::setw(12) << t.target_rows << "\n";
        total += t.target_rows;
    }
    out << std::left << std::setw(22) << "balances (cents)" << std::right << std::setw(12)
        << report->source_balance_cents << std::setw(12) << report->target_balance_cents << "\n";
    out << std::left << std::setw(22) << "payments (cents)" << std::right << std::setw(12)
        << report->source_payment_cents << std::setw(12) << report->target_payment_cents << "\n";
    const auto seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    out << "copied " << total << " rows in one transaction in " << std::fixed
        << std::setprecision(2) << seconds << " s; every count and sum matches\n";
    return kOk;
}

int ImportPortfolio(Invocation& inv) {
    std::ostream& out = inv.out;
    std::ostream& err = inv.err;
    const Config& config = *inv.config;
    const std::string path = inv["--db"];
    const std::string file = inv.options.positional[0];
    const auto asked = FormatOptions(inv, "import portfolio");
    if (!asked) {
        return kUsage;
    }
    std::ifstream in;
    auto ledger = OpenImport(inv, in);
    if (!ledger) {
        return kFailed;
    }
    const auto format = ChooseImportFormat(inv, in, *asked, store::ChoosePortfolioFormat);
    if (!format) {
        return kFailed;
    }
    in.seekg(0, std::ios::end);
    const auto size = static_cast<std::uint64_t>(in.tellg());
    in.seekg(0);
    const auto parsed =
        store::ParsePortfolioCsv(in, *format, [&](std::size_t rows, std::uint64_t bytes) {
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
    const std::string lang = options->values.count("--lang") ? options->values["--lang"] : "en-US";
    if (!IsReportLanguage(lang)) {
        return Usage(err, "report", "--lang is en-US or es-MX");
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
        WriteReportCsv(*report, out, lang);
        return kOk;
    }
    const nlohmann::ordered_json j = ReportJson(*report);
    out << j.dump(2) << "\n";
    return kOk;
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
    const auto asked = FormatOptions(inv, "import payments");
    if (!asked) {
        return kUsage;
    }
    std::ifstream in;
    auto ledger = OpenImport(inv, in);
    if (!ledger) {
        return kFailed;
    }
    const auto format = ChooseImportFormat(inv, in, *asked, store::ChoosePaymentsFormat);
    if (!format) {
        return kFailed;
    }
    const auto parsed = store::ParsePaymentsCsv(in, *format);
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
        << ", promises found broken: " << pass->promises_broken
        << ", plans found broken: " << pass->plans_broken << "\n";
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
    if (v["--name"].empty() || dialogs::CodePoints(v["--name"]) > 200) {
        return Usage(err, "agent add", "--name must be 1 to 200 characters");
    }
    std::optional<std::string> expires;
    if (v.count("--expires")) {
        const auto day = dialogs::ParseIsoDate(v["--expires"]);
        if (!day) {
            return Usage(err, "agent add", "--expires is a date, YYYY-MM-DD");
        }
        if (v["--expires"] < NowIso(config).substr(0, 10)) {
            return Usage(err, "agent add", "--expires is in the past");
        }
        expires = v["--expires"];
    }
    auto ledger = OpenLedger(v["--db"], err, true);
    if (!ledger) {
        return kFailed;
    }
    const std::string token = channels::NewToken();
    if (token.empty()) {
        err << "cobrador: cannot read random bytes for the token\n";
        return kFailed;
    }
    auto id = ledger->AddAgent(
        v["--name"], v["--role"], channels::Sha256Hex(token), NowIso(config), expires);
    if (!id) {
        ReportLedgerError(err, v["--db"], id.error());
        return kFailed;
    }
    out << "agent " << *id << " (" << v["--role"] << ") created"
        << (expires ? "; it works through " + *expires + " (UTC)" : std::string())
        << "; its token is shown only once:\n"
        << token << "\n";
    return kOk;
}

int AgentDisable(Invocation& inv) {
    std::ostream& out = inv.out;
    std::ostream& err = inv.err;
    auto& v = inv.options.values;
    if (v.count("--id") == v.count("--name")) {
        return Usage(err, "agent disable", "give --id or --name (one of them)");
    }
    const bool by_id = v.count("--id") > 0;
    std::vector<std::int64_t> ids;
    if (by_id) {
        std::int64_t id = 0;
        const std::string& text = v["--id"];
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), id);
        if (error != std::errc() || end != text.data() + text.size() || id < 1) {
            return Usage(err, "agent disable", "--id is the agent's number (GET /api/v1/agents)");
        }
        ids.push_back(id);
    }
    auto ledger = OpenLedger(v["--db"], err, true);
    if (!ledger) {
        return kFailed;
    }
    if (!by_id) {
        const auto agents = ledger->ListAgents();
        if (!agents) {
            ReportLedgerError(err, v["--db"], agents.error());
            return kFailed;
        }
        for (const store::Agent& a : *agents) {
            if (a.name == v["--name"] && !a.disabled) {
                ids.push_back(a.id);
            }
        }
        if (ids.empty()) {
            err << "cobrador agent disable: there is no active agent named " << v["--name"] << "\n";
            return kFailed;
        }
    }
    for (const std::int64_t id : ids) {
        const auto disabled = ledger->DisableAgent(id, NowIso(*inv.config));
        if (!disabled) {
            ReportLedgerError(err, v["--db"], disabled.error());
            return kFailed;
        }
        if (disabled->result != store::DisableResult::kDisabled) {
            if (by_id) {
                err << "cobrador agent disable: there is no active agent " << id << "\n";
                return kFailed;
            }
            continue;  // disabled by someone else since it was listed
        }
        out << "agent " << id << " disabled: its token no longer works; "
            << disabled->conversations_returned << " conversation"
            << (disabled->conversations_returned == 1 ? "" : "s")
            << " back in the queue (or with someone on shift)\n";
    }
    return kOk;
}

int ReportComplaints(Invocation& inv) {
    auto& v = inv.options.values;
    const std::string month = v["--month"];
    if (!ComplaintsMonthValid(month)) {
        return Usage(inv.err, "report complaints", "--month is YYYY-MM, like 2026-11");
    }
    const std::string format = v.count("--format") ? v["--format"] : "json";
    if (format != "json" && format != "csv") {
        return Usage(inv.err, "report complaints", "--format is json or csv");
    }
    const std::string lang = v.count("--lang") ? v["--lang"] : "en-US";
    if (!IsReportLanguage(lang)) {
        return Usage(inv.err, "report complaints", "--lang is en-US or es-MX");
    }
    auto ledger = OpenLedger(v["--db"], inv.err, true);
    if (!ledger) {
        return kFailed;
    }
    const auto report = ledger->ComplaintsForMonth(month, inv.config->timezone);
    if (!report) {
        ReportLedgerError(inv.err, v["--db"], report.error());
        return kFailed;
    }
    if (format == "csv") {
        WriteComplaintsCsv(*report, inv.out, lang);
    } else {
        inv.out << ComplaintsJson(*report).dump(2) << "\n";
    }
    return kOk;
}

int ExportDebtor(Invocation& inv) {
    auto& v = inv.options.values;
    auto ledger = OpenLedger(v["--db"], inv.err, true);
    if (!ledger) {
        return kFailed;
    }
    const auto exported = ledger->ExportDebtor(v["--id"], NowIso(*inv.config));
    if (!exported) {
        ReportLedgerError(inv.err, v["--db"], exported.error());
        return kFailed;
    }
    if (!*exported) {
        inv.err << "cobrador export debtor: there is no debtor with debtor_id " << v["--id"]
                << " in the ledger\n";
        return kFailed;
    }
    inv.out << **exported << "\n";
    return kOk;
}

int References(Invocation& inv) {
    auto& v = inv.options.values;
    std::optional<std::string> until;
    if (v.count("--legacy-until")) {
        const std::string& text = v["--legacy-until"];
        if (text == "open") {
            until = std::string();
        } else if (dialogs::ParseIsoDate(text)) {
            until = text;
        } else {
            return Usage(inv.err, "references", "--legacy-until is YYYY-MM-DD, or open");
        }
    }
    auto ledger = OpenLedger(v["--db"], inv.err, true);
    if (!ledger) {
        return kFailed;
    }
    const auto transition = ledger->LegacyReferences(until);
    if (!transition) {
        ReportLedgerError(inv.err, v["--db"], transition.error());
        return kFailed;
    }
    const nlohmann::json out = {
        {"legacy_accounts_up_to", transition->last_legacy_account},
        {"legacy_until",
         transition->ends_on ? nlohmann::json(*transition->ends_on) : nlohmann::json(nullptr)}};
    inv.out << out.dump() << "\n";
    return kOk;
}

}  // namespace cobrador::bot::cli
