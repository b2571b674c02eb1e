#include "canned_replies.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>

#include "bot/config.hpp"
#include "dialogs/calendar.hpp"
#include "dialogs/json_text.hpp"
#include "dialogs/reference.hpp"
#include "templates/catalog.hpp"

namespace cobrador::bot {

namespace {

using Needs = CannedNeeds;

struct Canned {
    const char* id;
    Needs needs;
};

constexpr std::array kCanned = {Canned{"greeting", Needs::kNothing},
                                Canned{"balance", Needs::kOwing},
                                Canned{"how_to_pay", Needs::kOwing},
                                Canned{"receipt", Needs::kOwing},
                                Canned{"promise", Needs::kPromise},
                                Canned{"closing", Needs::kNothing}};

// The placeholders each kind of reply may use (the later kinds have the earlier ones' too).
const std::set<std::string>& Placeholders(Needs needs) {
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
    return needs == Needs::kNothing ? kNothing : needs == Needs::kOwing ? kOwing : kPromise;
}

// Arguments of every placeholder, to try a creditor's pattern before any debtor needs it.
templates::Args SampleArgs() {
    return {{"name", std::string("María")},
            {"agent", std::string("Ana")},
            {"company", std::string("Financiera")},
            {"account", std::string("A-1")},
            {"balance", templates::Money{123456, "MXN"}},
            {"clabe", std::string("646180110400000007")},
            {"reference", std::string("0000018")},
            {"concept", std::string("REF 0000018")},
            {"amount", templates::Money{50000, "MXN"}},
            {"date", dialogs::Date(std::chrono::year(2026) / 12 / 15)}};
}

constexpr std::size_t kMaxReplies = 50;
constexpr std::size_t kMaxTitle = 60;   // bytes: a menu line
constexpr std::size_t kMaxText = 1000;  // bytes: well inside SMS's 1,600 characters

bool IdChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

// "María" of "María López": how a collector greets someone in a chat.
std::string FirstName(const std::string& full) {
    const auto space = full.find(' ');
    return space == std::string::npos ? full : full.substr(0, space);
}

}  // namespace

bool VerifiedNow(const store::ConversationSummary& conversation, const std::string& now) {
    // ISO 8601 UTC instants compare as text.
    return conversation.verified_until && *conversation.verified_until > now &&
           (!conversation.locked_until || *conversation.locked_until <= now);
}

std::string CannedLocale(const store::ConversationDetail& conversation) {
    if (conversation.debtor) {
        for (const std::string& locale : templates::Locales()) {
            if (conversation.debtor->locale == locale) {
                return locale;
            }
        }
    }
    return "es-MX";
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
            const auto& locales = templates::Locales();
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
            const auto names = templates::PatternArguments(words.second);
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
            if (!templates::RenderPattern(locale, words.second, SampleArgs())) {
                return fail(where + ": " + locale + "'s text does not render");
            }
        }
        out.push_back(std::move(reply));
    }
    return out;
}

boost::system::result<std::vector<OwnReply>, std::string> LoadOwnReplies(const Config& config) {
    if (config.replies_file.empty()) {
        return std::vector<OwnReply>{};
    }
    const auto text = ReadSettingFile(config.replies_file, "replies");
    if (!text) {
        return {boost::system::in_place_error, text.error()};
    }
    auto replies = ParseOwnReplies(*text);
    if (!replies) {
        return {boost::system::in_place_error, config.replies_file + ": " + replies.error()};
    }
    return replies;
}

std::vector<CannedReply> CannedReplies(const store::ConversationDetail& conversation,
                                       const CannedFacts& facts,
                                       const std::vector<OwnReply>& own) {
    const std::string locale = CannedLocale(conversation);
    const store::AccountDetail* owing = nullptr;
    for (const store::AccountDetail& a : conversation.accounts) {
        if (a.balance_cents > 0) {
            owing = &a;
            break;
        }
    }
    const store::PromiseDetail* promise = nullptr;
    if (owing != nullptr) {
        for (const store::PromiseDetail& p : conversation.promises) {
            if (p.status == "open" && p.account_id == owing->account_id) {
                promise = &p;
            }
        }
    }
    // Nothing about the debt, and no name, to whoever holds the phone until the check holds.
    const bool may_tell = VerifiedNow(conversation.summary, facts.now);
    const std::string name = conversation.debtor && may_tell ? FirstName(conversation.debtor->name)
                                                             : std::string("none");
    templates::Args args = {{"name", name}, {"agent", facts.agent}, {"company", facts.company}};
    if (owing != nullptr) {
        const std::string reference = owing->reference.value_or("");
        args.emplace_back("account", owing->account_id);
        args.emplace_back("balance", templates::Money{owing->balance_cents, owing->currency});
        args.emplace_back("clabe", facts.clabe);
        args.emplace_back("reference", reference);
        args.emplace_back("concept", dialogs::SpeiConcept(reference));
    }
    if (promise != nullptr) {
        if (const auto due = dialogs::ParseIsoDate(promise->due_date)) {
            args.emplace_back("amount", templates::Money{promise->amount_cents, promise->currency});
            args.emplace_back("date", *due);
        } else {
            promise = nullptr;
        }
    }
    const auto have = [&](Needs needs) {
        return (needs == Needs::kNothing && conversation.debtor) ||
               (needs == Needs::kOwing && may_tell && owing != nullptr &&
                owing->reference.has_value()) ||
               (needs == Needs::kPromise && may_tell && promise != nullptr);
    };
    const auto own_reply = [&](const OwnReply& r) -> std::optional<CannedReply> {
        const auto words =
            r.by_locale.contains(locale) ? r.by_locale.at(locale) : r.by_locale.at("es-MX");
        const std::string in = r.by_locale.contains(locale) ? locale : std::string("es-MX");
        const auto text = templates::RenderPattern(in, words.second, args);
        if (!text) {
            return std::nullopt;
        }
        return CannedReply{r.id, words.first, *text};
    };
    std::vector<CannedReply> out;
    std::set<std::string> replaced;
    for (const Canned& c : kCanned) {
        const auto mine =
            std::find_if(own.begin(), own.end(), [&](const OwnReply& r) { return r.id == c.id; });
        if (mine != own.end()) {
            replaced.insert(c.id);
            if (have(mine->needs)) {
                if (auto reply = own_reply(*mine)) {
                    out.push_back(std::move(*reply));
                }
            }
            continue;
        }
        if (!have(c.needs)) {
            continue;
        }
        const std::string key = std::string("canned_") + c.id;
        const auto title = templates::Render(locale, key + "_title", {});
        const auto text = templates::Render(locale, key, args);
        if (title && text) {
            out.push_back({c.id, *title, *text});
        }
    }
    for (const OwnReply& r : own) {
        if (!replaced.contains(r.id) && have(r.needs)) {
            if (auto reply = own_reply(r)) {
                out.push_back(std::move(*reply));
            }
        }
    }
    return out;
}

}  // namespace cobrador::bot
