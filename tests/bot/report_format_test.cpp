// The report's CSV as a spreadsheet reads it (bot/src/report_format.cpp): each person's row, with
// a name that holds commas, quotes or the start of a formula.

#include "report_format.hpp"

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace cobrador::bot {
namespace {

// The cells of one CSV line (quoted cells unquoted).
std::vector<std::string> Cells(const std::string& line) {
    std::vector<std::string> cells(1);
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted) {
            if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
                cells.back() += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                cells.back() += c;
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            cells.emplace_back();
        } else {
            cells.back() += c;
        }
    }
    return cells;
}

TEST_CASE("Report CSV: a row per person, names kept whole and never read as a formula",
          "[bot][report]") {
    store::Report report;
    report.currency = "MXN";
    store::AgentFigures ana;
    ana.agent_id = 3;
    ana.name = "Ruiz, Ana \"la güera\"";
    ana.claimed = 4;
    ana.handed_out = 7;
    ana.closed = 5;
    ana.messages_sent = 12;
    ana.promises_made = 2;
    ana.promises_kept = 1;
    ana.plans_created = 1;
    ana.recovered_cents = 150050;
    store::AgentFigures trick;
    trick.agent_id = 9;
    trick.name = "=HYPERLINK(\"http://x\")";
    report.by_agent = {ana, trick};

    for (const char* lang : {"en-US", "es-MX"}) {
        std::ostringstream out;
        WriteReportCsv(report, out, lang);
        std::istringstream lines(out.str());
        std::string header;
        std::getline(lines, header);
        const auto columns = Cells(header);
        REQUIRE(columns.size() == 25);
        std::map<std::string, std::vector<std::string>> agents;
        for (std::string line; std::getline(lines, line);) {
            const auto cells = Cells(line);
            INFO(line);
            REQUIRE(cells.size() == columns.size());  // every row as wide as the header
            if (cells[0] == "agent") {
                agents[cells[1]] = cells;
            }
        }
        REQUIRE(agents.size() == 2);
        const auto& a = agents.at("3");
        const auto at = [&](const char* en, const char* es) {
            const std::string want = std::string(lang) == "es-MX" ? es : en;
            for (std::size_t i = 0; i < columns.size(); ++i) {
                if (columns[i] == want || (i == 0 && columns[i].ends_with(want))) {
                    return a[i];
                }
            }
            FAIL("no column " << want);
            return std::string();
        };
        CHECK(at("agent_name", "nombre") == "Ruiz, Ana \"la güera\"");
        CHECK(at("claimed", "tomadas") == "4");
        CHECK(at("handed_out", "asignadas_por_turno") == "7");
        CHECK(at("closed", "cerradas") == "5");
        CHECK(at("messages_sent", "mensajes_enviados") == "12");
        CHECK(at("promises_made", "promesas_hechas") == "2");
        CHECK(at("collected", "cobrado") == "1500.50");
        // A name a spreadsheet would run as a formula is shown as text.
        CHECK(agents.at("9")[20] == "'=HYPERLINK(\"http://x\")");
    }
}

}  // namespace
}  // namespace cobrador::bot
