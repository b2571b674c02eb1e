#include "canned_replies.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <set>

#include "bot/config.hpp"
#include "dialogs/calendar.hpp"
#include "dialogs/reference.hpp"
#include "templates/catalog.hpp"

namespace cobrador::bot {

namespace {

using Needs = templates::CannedNeeds;

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
