#pragma once
// The demo portfolio `serve --demo` starts with: a handful of debtors in every days-past-due
// bucket and both languages, due dates relative to `today` so the demo reads the same any day.

#include <string>
#include <vector>

namespace cobrador::bot {

// The portfolio CSV for `today` (YYYY-MM-DD).
std::string DemoPortfolioCsv(const std::string& today);

// One person of the demo, to play on the sandbox phone: who, their number as the README
// writes it ("+52 1 555 000 1001"), the birth date the bot asks for (dd/mm/yyyy), and what
// their accounts are like ("12 días de atraso, $12,345.67; vence en 5 días, $2,500.00").
struct DemoDebtor {
    std::string name;
    std::string phone;  // E.164, as the ledger keeps it ("+525550001001")
    std::string phone_shown;
    std::string birth_date;  // dd/mm/yyyy, as a debtor types it
    std::string situation;
};

// Each demo debtor once, in the portfolio's order.
std::vector<DemoDebtor> DemoDebtors();

}  // namespace cobrador::bot
