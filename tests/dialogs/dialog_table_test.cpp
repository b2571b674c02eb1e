// docs/dialog.md shows the dialog's transition tables as dialogs/src/dialog.cpp has them, and
// explains every trigger, stage, guard and action named in them. When the code changes, the
// failure prints the markdown to paste.

#include <fstream>
#include <iostream>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "dialogs/dialog.hpp"
#include "dialogs/lifecycle.hpp"

namespace cobrador::dialogs {
namespace {

const std::string kDocPath = std::string(COBRADOR_SOURCE_DIR) + "/docs/dialog.md";

std::string ReadDoc() {
    std::ifstream in(kDocPath);
    REQUIRE(in.good());
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// A guard, condition, action or effect as the document writes it: `Name`, or — for none.
std::string Code(const std::string& name) {
    return name == "Always" || name == "Nothing" ? "—" : "`" + name + "`";
}

std::string BeforeEveryMessageMarkdown() {
    std::string md = "| from | condition | effect | to |\n|---|---|---|---|\n";
    for (const TransitionDoc& rule : BeforeEveryMessage()) {
        md += "| " + rule.from + " | " + Code(rule.guard) + " | " + Code(rule.action) + " | " +
              rule.to + " |\n";
    }
    return md;
}

std::string TransitionsMarkdown() {
    std::string md = "| from | on | guard | action | to |\n|---|---|---|---|---|\n";
    for (const TransitionDoc& row : Transitions()) {
        const std::string on = row.on == "any" ? "any" : "`" + row.on + "`";
        const std::string action =
            Code(row.action) + (row.keeps_misunderstood_count ? " (keeps the count)" : "");
        md += "| " + row.from + " | " + on + " | " + Code(row.guard) + " | " + action + " | " +
              row.to + " |\n";
    }
    return md;
}

std::string LifecycleMarkdown() {
    std::string md = "| from | event | guard | outcome |\n|---|---|---|---|\n";
    for (const LifecycleRowDoc& row : LifecycleRows()) {
        md += "| " + row.from + " | `" + row.event + "` | " + Code(row.guard) + " | " +
              row.outcome + " |\n";
    }
    return md;
}

// What the document holds between <!-- name:begin --> and <!-- name:end -->, blank lines at
// either end dropped; nullopt without the markers.
std::optional<std::string> Between(const std::string& doc, const std::string& name) {
    const std::string begin = "<!-- " + name + ":begin -->";
    const std::string end = "<!-- " + name + ":end -->";
    const auto from = doc.find(begin);
    const auto to = doc.find(end);
    if (from == std::string::npos || to == std::string::npos || to < from) {
        return std::nullopt;
    }
    std::string block = doc.substr(from + begin.size(), to - from - begin.size());
    block.erase(0, block.find_first_not_of('\n'));
    block.erase(block.find_last_not_of('\n') + 1);
    return block + "\n";
}

// The first line where two texts differ, for the failure message.
std::string FirstDifference(const std::string& doc, const std::string& code) {
    std::istringstream a(doc);
    std::istringstream b(code);
    std::string x;
    std::string y;
    for (int line = 1;; ++line) {
        const bool more_a = static_cast<bool>(std::getline(a, x));
        const bool more_b = static_cast<bool>(std::getline(b, y));
        if (!more_a && !more_b) {
            return "";
        }
        if (!more_a || !more_b || x != y) {
            return "line " + std::to_string(line) +
                   " of the table:\n  docs: " + (more_a ? x : "(ends)") +
                   "\n  code: " + (more_b ? y : "(ends)");
        }
    }
}

// On a difference, prints the table to paste on stderr, where Catch does not wrap its lines.
void CheckBlock(const std::string& doc, const std::string& name, const std::string& expected) {
    const std::string begin = "<!-- " + name + ":begin -->";
    const std::string end = "<!-- " + name + ":end -->";
    const auto block = Between(doc, name);
    if (block && *block == expected) {
        return;
    }
    std::cerr << "\n----- paste between " << begin << " and " << end << " in docs/dialog.md:\n"
              << expected << "----- (end)\n";
    if (!block) {
        FAIL_CHECK(kDocPath << " has no " << begin << " ... " << end
                            << " markers; the table to put between them is on stderr.");
    } else {
        FAIL_CHECK(kDocPath << " does not show the table dialogs/src/dialog.cpp has; first "
                            << FirstDifference(*block, expected)
                            << "\nThe table to paste is on stderr; explain any new name in it "
                               "below the tables.");
    }
}

TEST_CASE("docs/dialog.md shows the dialog's transition tables as the code has them",
          "[dialogs][dialog][docs]") {
    const std::string doc = ReadDoc();
    CheckBlock(doc, "before-every-message", BeforeEveryMessageMarkdown());
    CheckBlock(doc, "transitions", TransitionsMarkdown());
}

TEST_CASE("docs/dialog.md shows the conversation's lifecycle table as the code has it",
          "[dialogs][lifecycle][docs]") {
    CheckBlock(ReadDoc(), "lifecycle", LifecycleMarkdown());
}

TEST_CASE("docs/dialog.md explains every name in the tables, and no other",
          "[dialogs][dialog][docs]") {
    std::set<std::string> names;
    for (int i = 0; i <= static_cast<int>(Stage::kEnded); ++i) {
        names.insert(std::string(ToString(static_cast<Stage>(i))));
    }
    auto add = [&](const std::vector<TransitionDoc>& rows) {
        for (const TransitionDoc& row : rows) {
            for (const std::string& name : {row.on, row.guard, row.action}) {
                if (!name.empty() && name != "any" && name != "Always" && name != "Nothing") {
                    names.insert(name);
                }
            }
        }
    };
    add(BeforeEveryMessage());
    add(Transitions());

    // The explanations: list items that start with names in backticks and a colon
    // ("- `Name`: ..." or "- `One`, `Other`: ...").
    const std::string doc = ReadDoc();
    std::set<std::string> explained;
    const std::regex item(R"((?:^|\n)- ((?:`[A-Za-z_]+`(?:,\s+)?)+):)");
    const std::regex code(R"(`([A-Za-z_]+)`)");
    for (auto it = std::sregex_iterator(doc.begin(), doc.end(), item); it != std::sregex_iterator();
         ++it) {
        const std::string list = (*it)[1].str();
        for (auto name = std::sregex_iterator(list.begin(), list.end(), code);
             name != std::sregex_iterator();
             ++name) {
            explained.insert((*name)[1].str());
        }
    }
    std::string missing;
    for (const std::string& name : names) {
        if (explained.count(name) == 0) {
            missing += "\n- `" + name + "`: ...";
        }
    }
    std::string stale;
    for (const std::string& name : explained) {
        if (names.count(name) == 0) {
            stale += " " + name;
        }
    }
    if (!missing.empty()) {
        FAIL_CHECK(kDocPath << " does not explain these names of the tables; add:" << missing);
    }
    if (!stale.empty()) {
        FAIL_CHECK(kDocPath << " explains names the tables no longer have:" << stale);
    }
}

}  // namespace
}  // namespace cobrador::dialogs
