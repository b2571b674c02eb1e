#include "cli_support.hpp"

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

#include "conversation.hpp"
#include "proactive.hpp"
#include "reminders.hpp"
#include "report_format.hpp"

namespace cobrador::bot::cli {

std::string Shown(const std::string& db) {
    return store::Ledger::Describe(db);
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
    std::string reason;
    auto ledger = store::Ledger::Open(path,
                                      must_exist ? store::Ledger::OpenMode::kReadWrite
                                                 : store::Ledger::OpenMode::kReadWriteCreate,
                                      &reason);
    if (!ledger) {
        err << "cobrador: cannot open " << Shown(path) << ": " << ledger.error().message();
        if (ledger.error() == store::Errc::kMissing) {
            err << "; create it with: cobrador migrate --db " << Shown(path);
        } else if (store::Ledger::IsPostgres(path) && !reason.empty()) {
            err << " (" << reason << ")";
        }
        err << "\n";
        return std::nullopt;
    }
    return std::move(*ledger);
}

bool ReportLedgerError(std::ostream& err,
                       const std::string& path,
                       const boost::system::error_code& error) {
    err << "cobrador: " << Shown(path) << ": " << error.message();
    if (error == store::Errc::kNotMigrated) {
        err << " (cobrador migrate --db " << Shown(path) << ")";
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

std::optional<store::Ledger> OpenImport(Invocation& inv, std::ifstream& in) {
    const std::string& file = inv.options.positional[0];
    in.open(file, std::ios::binary);
    if (!in) {
        inv.err << "cobrador: cannot read " << file << "\n";
        return std::nullopt;
    }
    return OpenReady(inv);
}

std::optional<store::FormatRequest> FormatOptions(Invocation& inv, const std::string& command) {
    store::FormatRequest asked;
    const auto given = [&](const char* option) -> const std::string* {
        const auto it = inv.options.values.find(option);
        return it == inv.options.values.end() ? nullptr : &it->second;
    };
    if (const std::string* v = given("--encoding")) {
        asked.encoding = store::EncodingNamed(*v);
        if (!asked.encoding) {
            Usage(inv.err, command, "--encoding is utf-8 or windows-1252");
            return std::nullopt;
        }
    }
    if (const std::string* v = given("--delimiter")) {
        asked.delimiter = store::DelimiterNamed(*v);
        if (!asked.delimiter) {
            Usage(inv.err, command, "--delimiter is ',', ';', tab or '|'");
            return std::nullopt;
        }
    }
    if (const std::string* v = given("--date-format")) {
        asked.dates = store::DateOrderNamed(*v);
        if (!asked.dates) {
            Usage(inv.err, command, "--date-format is yyyy-mm-dd, dd/mm/yyyy or mm/dd/yyyy");
            return std::nullopt;
        }
    }
    if (const std::string* v = given("--default-country")) {
        if (!store::IsKnownDefaultCountry(*v)) {
            Usage(inv.err, command, "--default-country is MX or US");
            return std::nullopt;
        }
        asked.default_country = *v;
    }
    return asked;
}

std::optional<store::CsvFormat> ChooseImportFormat(Invocation& inv,
                                                   std::ifstream& in,
                                                   const store::FormatRequest& asked,
                                                   FormatChooser choose) {
    const std::string& file = inv.options.positional[0];
    std::string sample(store::kFormatSampleBytes, '\0');
    in.read(sample.data(), static_cast<std::streamsize>(sample.size()));
    sample.resize(static_cast<std::size_t>(in.gcount()));
    in.clear();
    in.seekg(0);
    const store::FormatChoice choice = choose(sample, asked);
    if (!choice.problem.empty()) {
        inv.err << file << ": " << choice.problem << "\ncobrador: nothing was imported\n";
        return std::nullopt;
    }
    inv.err << "reading " << file << ": " << choice.described << "\n";
    return choice.format;
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
}  // namespace cobrador::bot::cli
