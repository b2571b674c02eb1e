#pragma once
// The portfolio CSV (see CONTRACT.md "Portfolio CSV"): parsing and validation, before anything
// touches the ledger. A file is imported whole or not at all, so this reads it to the end and
// reports every bad row with its line number. Not thread-safe; one call per file.

#include <cstdint>
#include <functional>
#include <istream>
#include <optional>
#include <string>
#include <vector>

#include "store/csv.hpp"
#include "store/import_format.hpp"

namespace cobrador::store {

struct PortfolioRow {
    std::size_t line = 0;
    std::string account_id;
    std::string debtor_id;  // as given, or derived from the phone when the column is absent/empty
    std::string debtor_name;
    std::string phone;       // normalized E.164
    std::string birth_date;  // YYYY-MM-DD
    std::int64_t balance_cents = 0;
    std::string currency;
    std::string due_date;  // YYYY-MM-DD
    std::string locale = "es-MX";
    std::string timezone = "America/Mexico_City";
    std::string segment;
    std::string product;
    std::optional<std::int64_t> min_payment_cents;
    std::string email;

    friend bool operator==(const PortfolioRow&, const PortfolioRow&) = default;
};

// One account as the ledger holds it, with its debtor (Ledger::AccountsOfPhone).
struct PhoneAccount {
    std::int64_t id = 0;  // the account's row id: its payment reference's base
    std::string account_key;
    std::string debtor_name;
    std::string birth_date;  // YYYY-MM-DD
    std::string locale;
    std::int64_t balance_cents = 0;
    std::string currency;
    std::string due_date;  // YYYY-MM-DD
};

struct ParsedPortfolio {
    std::vector<PortfolioRow> rows;  // one per distinct account, in file order
    std::vector<RowError> errors;    // empty when the file may be imported
    std::size_t records = 0;         // data records read (blank lines not counted)
    std::size_t duplicate_rows = 0;  // rows that repeat an earlier row exactly (ignored)
};

// Called every `kProgressEvery` records with (records so far, bytes read so far).
using ProgressFn = std::function<void(std::size_t records, std::uint64_t bytes)>;
inline constexpr std::size_t kProgressEvery = 10'000;

// Reads and validates a whole portfolio file. Errors found: a missing required column, a
// duplicated column, a row with the wrong number of fields, malformed CSV or UTF-8, an empty
// required field, a phone that is not E.164, an impossible or malformed date, a negative or
// malformed amount, an unknown currency, an unsupported locale or time zone, the same account
// twice with different data, the same debtor with a different name, phone or birth date.
// `format` says how the file is written (ChoosePortfolioFormat chooses it from the file's first
// bytes); dates and phones are stored in the ledger's form whatever it is.
ParsedPortfolio ParsePortfolioCsv(std::istream& in,
                                  const CsvFormat& format = {},
                                  const ProgressFn& progress = {});

// The format of a portfolio file, from its first bytes and what the operator asked.
FormatChoice ChoosePortfolioFormat(std::string_view sample, const FormatRequest& asked);

}  // namespace cobrador::store
