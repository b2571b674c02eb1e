// A creditor's own canned replies (own_replies.hpp): the file's JSON, checked whole.

#include "templates/own_replies.hpp"

#include <algorithm>
#include <array>

#include <nlohmann/json.hpp>

#include "dialogs/json_text.hpp"
#include "templates/catalog.hpp"

namespace cobrador::templates {

namespace {

using Needs = CannedNeeds;

constexpr std::size_t kMaxReplies = 50;
constexpr std::size_t kMaxTitle = 60;   // bytes: a menu line
constexpr std::size_t kMaxText = 1000;  // bytes: well inside SMS's 1,600 characters

bool IdChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

}  // namespace

// The placeholders each kind of reply may use (the later kinds have the earlier ones' too).
const std::set<std::string>& Placeholders(CannedNeeds needs) {
    static const std::set<std::string> kNothing = {"name", "agent", "company"};
    static const std::set<std::string> kOwing = {
        "name", "agent", "company", "account", "balance", "clabe", "reference", "concept"};
    static const std::set<std::string> kPromise = {"name",
                                                   "agent",
                                                   "company",
                                                   "account",
                                                   "balance",
                                                   "clabe",
                                                   "reference",
                                                   "concept",
                                                   "amount",
                                                   "date"};
    return needs == CannedNeeds::kNothing ? kNothing
           : needs == CannedNeeds::kOwing ? kOwing
                                          : kPromise;
}

Args SampleArgs() {
    return {{"name", std::string("María")},
            {"agent", std::string("Ana")},
            {"company", std::string("Financiera")},
            {"account", std::string("A-1")},
            {"balance", Money{123456, "MXN"}},
            {"clabe", std::string("646180110400000007")},
            {"reference", std::string("0000013")},
            {"concept", std::string("REF 0000013")},
            {"amount", Money{50000, "MXN"}},
            {"date", dialogs::Date(std::chrono::year(2026) / 12 / 15)}};
}

boost::system::result<std::vector<OwnReply>, std::string> ParseOwnReplies(std::string_view text) {
    using Failed = boost::system::result<std::vector<OwnReply>, std::string>;
    const auto fail = [](std::string why) {
        return Failed(boost::system::in_place_error, why);
    };
    const nlohmann::json parsed = dialogs::ParseJsonText(text);
    if (!parsed.is_object() || !parsed.contains("replies") || !parsed["replies"].is_array()) {
        return fail("expected a JSON object {\"replies\": [...]}");
    }
    for (const auto& [key, value] : parsed.items()) {
        if (key != "replies") {
            return fail("unknown key \"" + key + "\" (only \"replies\")");
        }
    }
    const nlohmann::json& list = parsed["replies"];
    if (list.size() > kMaxReplies) {
        return fail("more than " + std::to_string(kMaxReplies) + " replies");
    }
    std::vector<OwnReply> out;
    std::set<std::string> ids;
    for (std::size_t i = 0; i < list.size(); ++i) {
        const nlohmann::json& r = list[i];
        std::string where = "reply " + std::to_string(i + 1);
        if (!r.is_object() || !r.contains("id") || !r["id"].is_string()) {
            return fail(where + ": expected an object with an \"id\"");
        }
        OwnReply reply;
        reply.id = r["id"].get<std::string>();
        where += " (\"" + reply.id + "\")";
        if (reply.id.empty() || reply.id.size() > 40 ||
            !std::all_of(reply.id.begin(), reply.id.end(), IdChar)) {
            return fail(where + ": the id is 1 to 40 of a-z, 0-9 and _");
        }
        if (!ids.insert(reply.id).second) {
            return fail(where + ": the id is used twice");
        }
        for (const auto& [key, value] : r.items()) {
            if (key == "id") {
                continue;
            }
            if (key == "needs") {
                const std::string needs = value.is_string() ? value.get<std::string>() : "";
                if (needs == "nothing") {
                    reply.needs = Needs::kNothing;
                } else if (needs == "owing") {
                    reply.needs = Needs::kOwing;
                } else if (needs == "promise") {
                    reply.needs = Needs::kPromise;
                } else {
                    return fail(where + ": \"needs\" is nothing, owing or promise");
                }
                continue;
            }
            const auto& locales = Locales();
            if (std::find(locales.begin(), locales.end(), key) == locales.end()) {
                return fail(where + ": unknown key \"" + key + "\" (id, needs, es-MX, en-US)");
            }
            if (!value.is_object() || !value.contains("title") || !value["title"].is_string() ||
                !value.contains("text") || !value["text"].is_string() || value.size() != 2) {
                return fail(where + ": " + key + " is {\"title\": \"...\", \"text\": \"...\"}");
            }
            const std::string title = value["title"].get<std::string>();
            const std::string pattern = value["text"].get<std::string>();
            if (title.empty() || title.size() > kMaxTitle ||
                title.find_first_of("\r\n") != std::string::npos) {
                return fail(where + ": " + key + "'s title is one line of 1 to " +
                            std::to_string(kMaxTitle) + " bytes");
            }
            if (pattern.empty() || pattern.size() > kMaxText) {
                return fail(where + ": " + key + "'s text is 1 to " + std::to_string(kMaxText) +
                            " bytes");
            }
            reply.by_locale[key] = {title, pattern};
        }
        if (!reply.by_locale.contains("es-MX")) {
            return fail(where + ": es-MX is required (other locales fall back to it)");
        }
        // Every placeholder must be one this kind of reply fills in, and the pattern must render.
        for (const auto& [locale, words] : reply.by_locale) {
            const auto names = PatternArguments(words.second);
            if (!names) {
                return fail(where + ": " + locale +
                            "'s text is not a valid ICU MessageFormat pattern (a lone { or '?)");
            }
            for (const std::string& name : *names) {
                if (Placeholders(reply.needs).contains(name)) {
                    continue;
                }
                if (Placeholders(Needs::kPromise).contains(name)) {
                    return fail(where + ": {" + name + "} is about the debt: set \"needs\": \"" +
                                (Placeholders(Needs::kOwing).contains(name) ? "owing" : "promise") +
                                "\"");
                }
                return fail(where + ": unknown placeholder {" + name +
                            "}; known: name, agent, company, account, balance, clabe, "
                            "reference, concept, amount, date");
            }
            if (!RenderPattern(locale, words.second, SampleArgs())) {
                return fail(where + ": " + locale + "'s text does not render");
            }
        }
        out.push_back(std::move(reply));
    }
    return out;
}

}  // namespace cobrador::templates
