// Any bytes as a portfolio file: the parser must never crash, hang or read out of bounds, and
// every row it accepts must hold the invariants the ledger relies on. The bytes are read twice:
// as UTF-8 with commas, and in the format detected from them (Windows-1252, ';', day-first
// dates, 10-digit Mexican phones).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>

#include "dialogs/calendar.hpp"
#include "dialogs/phone.hpp"
#include "store/csv.hpp"
#include "store/portfolio.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    cobrador::store::FormatRequest asked;
    asked.default_country = "MX";
    const auto choice = cobrador::store::ChoosePortfolioFormat(text, asked);
    if (choice.problem.empty() == choice.described.empty()) {
        std::abort();  // either a format, said, or a problem
    }
    for (const auto& format : {cobrador::store::CsvFormat{}, choice.format}) {
        std::istringstream in(text);
        const auto parsed = cobrador::store::ParsePortfolioCsv(in, format);
        for (const auto& row : parsed.rows) {
            if (row.balance_cents < 0 || row.account_id.empty() || row.phone.empty() ||
                row.phone.front() != '+' ||
                cobrador::dialogs::NormalizePhone(row.phone) != row.phone ||
                !cobrador::store::IsValidUtf8(row.debtor_name) ||
                !cobrador::dialogs::ParseIsoDate(row.birth_date) ||
                !cobrador::dialogs::ParseIsoDate(row.due_date)) {
                std::abort();
            }
        }
        if (!parsed.errors.empty() && parsed.errors.front().line == 0) {
            std::abort();  // every error names a line
        }
    }
    return 0;
}
