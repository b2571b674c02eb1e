// `cobrador serve`: settings, the demo ledger with --demo, and the server until a signal.

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
#include "dialogs/money.hpp"
#include "dialogs/phone.hpp"
#include "store/ledger.hpp"
#include "store/portfolio.hpp"

#include "cli_support.hpp"
#include "conversation.hpp"
#include "proactive.hpp"
#include "reminders.hpp"
#include "report_format.hpp"
#include <malloc.h>

namespace cobrador::bot::cli {

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
        if (store::Ledger::IsPostgres(config.db_path)) {
            // The demo re-imports its portfolio and replaces its supervisor at every start:
            // not something to do to a shared PostgreSQL ledger.
            err << "cobrador serve: --demo runs on an SQLite file only; unset COBRADOR_DB (or "
                   "point it at a file) to try the demo\n";
            return kUsage;
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
            {{"db", Shown(config.db_path)}, {"accounts", std::to_string(parsed.rows.size())}});
        // A supervisor to try the console with: a new token each start (only hashes are kept),
        // and the previous starts' tokens stop working.
        demo_token = channels::NewToken();
        if (demo_token.empty() || !ledger->DisableAgentsNamed("Demo supervisor", NowIso(config)) ||
            !ledger->AddAgent(
                "Demo supervisor", "supervisor", channels::Sha256Hex(demo_token), NowIso(config))) {
            err << "cobrador: cannot create the demo supervisor\n";
            return kFailed;
        }
    }
    SetLogReplica(config.replica_id);
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
        << (demo ? " (demo: " + Shown(config.db_path) + ")" : std::string()) << "\n"
        << "  health: " << base << "/healthz\n"
        << "  console: " << base << "/console/\n";
    if (demo) {
        out << "  debtor's phone (sandbox): " << base << "/console/phone.html\n"
            << "  demo supervisor token: " << demo_token << "\n"
            << "  demo debtors (number, birth date for the identity check):\n";
        for (const DemoDebtor& d : DemoDebtors()) {
            out << "    " << d.phone_shown << "  " << d.birth_date << "  " << d.name << " ("
                << d.situation << ")\n";
        }
    }
    out << std::flush;
    server.Run();
    return kOk;
}

}  // namespace cobrador::bot::cli
