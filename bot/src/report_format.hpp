#pragma once
// The report (CONTRACT.md "Report") as JSON and CSV: what `cobrador report` prints and
// `GET /api/v1/reports` answers.

#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "store/cases.hpp"
#include "store/report.hpp"

namespace cobrador::bot {

// What is wrong with a query's dates or currency, in words; nullopt when it is fine.
std::optional<std::string> ReportQueryProblem(const store::ReportQuery& query);

nlohmann::ordered_json ReportJson(const store::Report& report);

// The CSV, its header row in `lang`: "en-US", the column names programs read (as the JSON's
// keys), or "es-MX", the same columns in Spanish for the creditor's people (after a UTF-8
// byte-order mark, which spreadsheet programs need to read the accents).
bool IsReportLanguage(std::string_view lang);
void WriteReportCsv(const store::Report& report,
                    std::ostream& out,
                    std::string_view lang = "en-US");

// The month's complaints and privacy requests (cobrador report complaints, GET
// /api/v1/reports/complaints): "YYYY-MM" with a real month.
bool ComplaintsMonthValid(std::string_view month);
nlohmann::ordered_json ComplaintsJson(const store::ComplaintsReport& report);
// One row per kind and category, every one listed (zeros included); the header row in `lang`
// (IsReportLanguage), as the report's CSV.
void WriteComplaintsCsv(const store::ComplaintsReport& report,
                        std::ostream& out,
                        std::string_view lang = "en-US");

}  // namespace cobrador::bot
