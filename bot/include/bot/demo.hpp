#pragma once
// The demo portfolio `serve --demo` starts with: a handful of debtors in every days-past-due
// bucket and both languages, due dates relative to `today` so the demo reads the same any day.

#include <string>

namespace cobrador::bot {

// The portfolio CSV for `today` (YYYY-MM-DD).
std::string DemoPortfolioCsv(const std::string& today);

}  // namespace cobrador::bot
