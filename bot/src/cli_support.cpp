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
    // Each option: its name, what it takes (said when it is wrong), and how it sets the request
    // (false for a value it does not know).
    struct Option {
        const char* name;
        const char* usage;
        bool (*set)(const std::string& value, store::FormatRequest& asked);
    };

    static constexpr Option kOptions[] = {
        {"--encoding",
         "--encoding is utf-8 or windows-1252",
         [](const std::string& v, store::FormatRequest& asked) {
             asked.encoding = store::EncodingNamed(v);
             return asked.encoding.has_value();
         }},
        {"--delimiter",
         "--delimiter is ',', ';', tab or '|'",
         [](const std::string& v, store::FormatRequest& asked) {
             asked.delimiter = store::DelimiterNamed(v);
             return asked.delimiter.has_value();
         }},
        {"--date-format",
         "--date-format is yyyy-mm-dd, dd/mm/yyyy or mm/dd/yyyy",
         [](const std::string& v, store::FormatRequest& asked) {
             asked.dates = store::DateOrderNamed(v);
             return asked.dates.has_value();
         }},
        {"--default-country",
         "--default-country is MX or US",
         [](const std::string& v, store::FormatRequest& asked) {
             asked.default_country = v;
             return store::IsKnownDefaultCountry(v);
         }},
    };
    store::FormatRequest asked;
    for (const Option& option : kOptions) {
        const auto given = inv.options.values.find(option.name);
        if (given != inv.options.values.end() && !option.set(given->second, asked)) {
            Usage(inv.err, command, option.usage);
            return std::nullopt;
        }
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
