// Any bytes as a portfolio file: the parser must never crash, hang or read out of bounds, and
// every row it accepts must hold the invariants the ledger relies on.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>

#include "dialogs/phone.hpp"
#include "store/csv.hpp"
#include "store/portfolio.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
    const auto parsed = cobrador::store::ParsePortfolioCsv(in);
    for (const auto& row : parsed.rows) {
        if (row.balance_cents < 0 || row.account_id.empty() || row.phone.empty() ||
            row.phone.front() != '+' || cobrador::dialogs::NormalizePhone(row.phone) != row.phone ||
            !cobrador::store::IsValidUtf8(row.debtor_name)) {
            std::abort();
        }
    }
    if (!parsed.errors.empty() && parsed.errors.front().line == 0) {
        std::abort();  // every error names a line
    }
    return 0;
}
