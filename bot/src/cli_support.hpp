#pragma once
// Private to the command line: what every command shares (options, the invocation, opening the
// ledger, reporting its errors) and the commands themselves, one function each. The table that
// names them, with their help and options, is in cli.cpp.

#include <cstdint>
#include <fstream>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/system/error_code.hpp>

#include "bot/config.hpp"
#include "store/import_format.hpp"
#include "store/ledger.hpp"
#include "store/portfolio.hpp"

namespace cobrador::bot::cli {

constexpr int kOk = 0;
constexpr int kFailed = 1;
constexpr int kUsage = 2;
constexpr std::size_t kMaxErrorsShown = 100;

// Options after the command words: "--name value" pairs, "--flag" switches and positionals.
struct Options {
    std::map<std::string, std::string> values;
    std::map<std::string, bool> flags;
    std::vector<std::string> positional;
    bool help = false;
};

// One command's arguments, streams and settings, after the table's checks.
struct Invocation {
    Options options;
    std::istream& in;
    std::ostream& out;
    std::ostream& err;
    const Config* config;  // null for serve, which loads its own
    const GetEnv& getenv;

    std::string& operator[](const std::string& name) { return options.values[name]; }
};

// Says what is wrong with the arguments and the command's usage line; returns kUsage.
int Usage(std::ostream& err, const std::string& command, const std::string& problem);

// Now and today, with COBRADOR_TODAY's pin applied.
// A --db value fit to print: a PostgreSQL connection string without its password.
std::string Shown(const std::string& db);

std::string NowIso(const Config& config);
std::string TodayIso(const Config& config);

// Opens the ledger at `path` (creating it unless `must_exist`); nullopt after saying why.
std::optional<store::Ledger> OpenLedger(const std::string& path,
                                        std::ostream& err,
                                        bool must_exist);

// Says what went wrong with the ledger at `path` (and how to migrate it, when that is why).
bool ReportLedgerError(std::ostream& err,
                       const std::string& path,
                       const boost::system::error_code& error);

// Opens --db (which must exist) and checks its schema is the latest: the ledger, or nullopt
// after saying why (then the command fails with kFailed).
std::optional<store::Ledger> OpenReady(Invocation& inv);

// For the imports: opens the one positional FILE into `in`, then the ledger as OpenReady
// does; nullopt after saying why.
std::optional<store::Ledger> OpenImport(Invocation& inv, std::ifstream& in);

// The import's --encoding, --delimiter, --date-format and --default-country; nullopt after
// saying which value is wrong with `command`'s usage line (a usage error).
std::optional<store::FormatRequest> FormatOptions(Invocation& inv, const std::string& command);

// How the import's FILE is written: as `asked`, the rest detected from its first bytes by
// `choose`; prints the choice to stderr ("reading F: Windows-1252 (detected), …") and leaves
// `in` at the start. nullopt after saying, in one line, why the file cannot be read.
using FormatChooser = store::FormatChoice (*)(std::string_view, const store::FormatRequest&);
std::optional<store::CsvFormat> ChooseImportFormat(Invocation& inv,
                                                   std::ifstream& in,
                                                   const store::FormatRequest& asked,
                                                   FormatChooser choose);

// Every bad row of an import file (the first kMaxErrorsShown), and that nothing was imported.
int ReportRowErrors(std::ostream& err,
                    const std::string& file,
                    const std::vector<store::RowError>& errors);

// The commands (cli_ledger.cpp, cli_serve.cpp, cli_chat.cpp).
int Migrate(Invocation& inv);
int Backup(Invocation& inv);
int Copy(Invocation& inv);
int ImportPortfolio(Invocation& inv);
int ImportPayments(Invocation& inv);
int Report(Invocation& inv);
int Remind(Invocation& inv);
int AgentAdd(Invocation& inv);
int AgentDisable(Invocation& inv);
int ReportComplaints(Invocation& inv);
int ExportDebtor(Invocation& inv);
int References(Invocation& inv);
int Serve(Invocation& inv);
int Nlu(Invocation& inv);
int Chat(Invocation& inv);
int ReadReceiptFile(Invocation& inv);

}  // namespace cobrador::bot::cli
