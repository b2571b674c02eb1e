// Intent and entities of a debtor's message. The intent patterns and the spelling fixes are
// data (dialogs/data/nlu.<locale>.txt, embedded at build time); this file only normalizes,
// matches, and decides.

#include "dialogs/nlu.hpp"

#include <array>
#include <cctype>
#include <cstdio>
#include <map>
#include <memory>
#include <vector>

#include <re2/re2.h>
#include <unicode/translit.h>
#include <unicode/unistr.h>

#include "dialogs/entities.hpp"
#include "dialogs/money.hpp"

namespace cobrador::dialogs {

namespace data {
extern const std::string_view kNluEsMx;
extern const std::string_view kNluEnUs;
}  // namespace data

namespace {

constexpr std::array<std::string_view, 19> kIntentNames = {
    "greeting",       "balance",      "payment_reference",
    "promise_to_pay", "negotiate",    "already_paid",
    "cannot_pay",     "dispute",      "privacy",
    "human",          "wrong_number", "opt_out",
    "opt_in",         "help",         "affirm",
    "deny",           "thanks",       "inform",
    "unknown",
};

// What a rule needs besides its pattern: an entity in the same message.
enum class Needs { kNothing, kAny, kDate, kAmount, kInstallments };

struct Rule {
    Intent intent;
    double weight;
    Needs needs;
    std::unique_ptr<RE2> pattern;
};

std::optional<Needs> NeedsFromString(std::string_view word) {
    if (word == "+any") {
        return Needs::kAny;
    }
    if (word == "+date") {
        return Needs::kDate;
    }
    if (word == "+amount") {
        return Needs::kAmount;
    }
    if (word == "+installments") {
        return Needs::kInstallments;
    }
    return std::nullopt;
}

// "category dispute NAME PATTERN": the first matching line of the intent names the entity.
struct CategoryRule {
    Intent intent;
    std::string name;
    std::unique_ptr<RE2> pattern;
};

struct Model {
    std::map<std::string, std::string, std::less<>> fixes;  // word -> replacement
    std::vector<Rule> rules;                                // file order breaks ties
    std::vector<CategoryRule> categories;                   // first match wins
};

std::string_view TrimView(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())) != 0) {
        text.remove_prefix(1);
    }
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())) != 0) {
        text.remove_suffix(1);
    }
    return text;
}

std::string_view NextWord(std::string_view& line) {
    line = TrimView(line);
    const auto space = line.find_first_of(" \t");
    const std::string_view word = line.substr(0, space);
    line = space == std::string_view::npos ? std::string_view() : line.substr(space);
    return word;
}

// "fix WRONG RIGHT..." and "INTENT WEIGHT PATTERN" lines; '#' starts a comment line. A line
// that does not parse is a build-time mistake in our own data: it aborts at first use, which
// every test run reaches.
Model Parse(std::string_view file) {
    Model model;
    std::size_t start = 0;
    while (start < file.size()) {
        std::size_t end = file.find('\n', start);
        if (end == std::string_view::npos) {
            end = file.size();
        }
        std::string_view line = TrimView(file.substr(start, end - start));
        start = end + 1;
        if (line.empty() || line.front() == '#') {
            continue;
        }
        const std::string_view head = NextWord(line);
        if (head == "fix") {
            const std::string wrong(NextWord(line));
            model.fixes[wrong] = std::string(TrimView(line));
            continue;
        }
        RE2::Options options;
        options.set_log_errors(false);
        if (head == "category") {
            const auto intent = IntentFromString(NextWord(line));
            const std::string name(NextWord(line));
            auto re = std::make_unique<RE2>(std::string(TrimView(line)), options);
            if (!intent || name.empty() || !re->ok()) {
                std::fprintf(stderr, "cobrador: bad NLU category line: %s\n", name.c_str());
                std::abort();
            }
            model.categories.push_back({*intent, name, std::move(re)});
            continue;
        }
        const auto intent = IntentFromString(head);
        const std::string weight_text(NextWord(line));
        std::optional<Needs> needs = Needs::kNothing;
        if (TrimView(line).starts_with("+")) {
            needs = NeedsFromString(NextWord(line));
        }
        const std::string pattern(TrimView(line));
        auto re = std::make_unique<RE2>(pattern, options);
        if (!intent || !needs || weight_text.empty() || !re->ok()) {
            std::fprintf(stderr,
                         "cobrador: bad NLU data line: %.*s\n",
                         static_cast<int>(head.size()),
                         head.data());
            std::abort();
        }
        model.rules.push_back({*intent, std::stod(weight_text), *needs, std::move(re)});
    }
    return model;
}

const Model& ModelFor(std::string_view locale) {
    static const Model es = Parse(data::kNluEsMx);
    static const Model en = Parse(data::kNluEnUs);
    return locale == "en-US" ? en : es;
}

// Case, accents, width: NFKD folds full-width forms and splits accents off, which are then
// dropped. Transliterators are not safe to share between threads, so each thread has one.
std::string Fold(std::string_view text) {
    thread_local std::unique_ptr<icu::Transliterator> fold = [] {
        UErrorCode status = U_ZERO_ERROR;
        std::unique_ptr<icu::Transliterator> t(icu::Transliterator::createInstance(
            "NFKD; [:Nonspacing Mark:] Remove; Lower; NFC", UTRANS_FORWARD, status));
        return U_SUCCESS(status) ? std::move(t) : nullptr;
    }();
    icu::UnicodeString unicode = icu::UnicodeString::fromUTF8(
        icu::StringPiece(text.data(), static_cast<std::int32_t>(text.size())));
    if (fold) {
        fold->transliterate(unicode);
    } else {
        unicode.toLower();
    }
    std::string out;
    unicode.toUTF8String(out);
    return out;
}

bool IsDigit(char c) {
    return c >= '0' && c <= '9';
}

bool IsLetter(char c) {
    return (c >= 'a' && c <= 'z') || (static_cast<unsigned char>(c) >= 0x80);
}

}  // namespace

std::string_view ToString(Intent intent) {
    return kIntentNames.at(static_cast<std::size_t>(intent));
}

std::optional<Intent> IntentFromString(std::string_view name) {
    for (std::size_t i = 0; i < kIntentNames.size(); ++i) {
        if (kIntentNames[i] == name) {
            return static_cast<Intent>(i);
        }
    }
    return std::nullopt;
}

// An emoji that answers a question: a thumbs up, OK hand or check mark is a yes, a thumbs down
// or cross a no (skin tones are dropped with the other symbols).
std::string EmojiAnswers(std::string text, std::string_view locale) {
    static constexpr std::array<std::pair<std::string_view, bool>, 7> kAnswers = {{
        {"\xF0\x9F\x91\x8D", true},   // thumbs up
        {"\xF0\x9F\x91\x8C", true},   // OK hand
        {"\xE2\x9C\x85", true},       // white heavy check mark
        {"\xE2\x9C\x94", true},       // heavy check mark
        {"\xE2\x98\x91", true},       // ballot box with check
        {"\xF0\x9F\x91\x8E", false},  // thumbs down
        {"\xE2\x9D\x8C", false},      // cross mark
    }};
    const std::string yes = locale == "en-US" ? " yes " : " si ";
    for (const auto& [emoji, answer] : kAnswers) {
        for (auto at = text.find(emoji); at != std::string::npos; at = text.find(emoji, at)) {
            text.replace(at, emoji.size(), answer ? yes : " no ");
        }
    }
    return text;
}

std::string Normalize(std::string_view text, std::string_view locale) {
    const std::string folded = Fold(EmojiAnswers(std::string(text.substr(0, 4096)), locale));
    // Keep letters and digits; keep $ % # always, and . , / - : only between digits (amounts,
    // dates, times); everything else (punctuation, emoji, symbols) separates words.
    std::string kept;
    for (std::size_t i = 0; i < folded.size(); ++i) {
        const char c = folded[i];
        const bool between_digits =
            i > 0 && i + 1 < folded.size() && IsDigit(folded[i - 1]) && IsDigit(folded[i + 1]);
        if (c == '\'') {
            continue;  // "don't" -> "dont"
        }
        if (folded.compare(i, 3, "\xE2\x80\x99") == 0) {
            i += 2;  // a typographic apostrophe, likewise
            continue;
        }
        if (IsLetter(c) || IsDigit(c) || c == '$' || c == '%' || c == '#' ||
            ((c == '.' || c == ',' || c == '/' || c == '-' || c == ':') && between_digits)) {
            // A multi-byte character that is not a letter ICU could fold (emoji, symbols) goes.
            if (static_cast<unsigned char>(c) >= 0x80) {
                const auto lead = static_cast<unsigned char>(c);
                const std::size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
                // Latin-1 punctuation (¿ ¡ « »), general punctuation, symbols, specials, emoji.
                const bool symbol = lead == 0xC2 || lead == 0xE2 || lead == 0xEF || lead >= 0xF0;
                if (!symbol) {
                    kept.append(folded, i, length);
                } else {
                    kept += ' ';
                }
                i += length - 1;
                continue;
            }
            kept += c;
        } else {
            kept += ' ';
        }
    }
    // Words: runs of 3+ of one letter cut to one ("siiii", "holaaa"), then the locale's fixes.
    const Model& model = ModelFor(locale);
    std::string out;
    std::size_t i = 0;
    while (i < kept.size()) {
        if (kept[i] == ' ') {
            ++i;
            continue;
        }
        std::size_t end = kept.find(' ', i);
        if (end == std::string::npos) {
            end = kept.size();
        }
        std::string word;
        for (std::size_t j = i; j < end;) {
            std::size_t run = j + 1;
            while (run < end && kept[run] == kept[j]) {
                ++run;
            }
            const bool letter = kept[j] >= 'a' && kept[j] <= 'z';
            word.append(letter && run - j >= 3 ? 1 : run - j, kept[j]);
            j = run;
        }
        const auto fix = model.fixes.find(word);
        if (fix != model.fixes.end()) {
            word = fix->second;
        }
        if (!word.empty()) {
            out += out.empty() ? "" : " ";
            out += word;
        }
        i = end;
    }
    return out;
}

Understanding Understand(std::string_view text, std::string_view locale, const Date& today) {
    const std::string normalized = Normalize(text, locale);
    ExtractedEntities found = ExtractEntities(normalized, locale, today);
    Understanding out;
    out.entities.amount_cents = found.amount_cents;
    out.entities.date = found.date;
    out.entities.installments = found.installments;
    out.entities.menu_choice = found.menu_choice;
    out.entities.amount_is_everything = found.amount_is_everything;
    out.entities.amount_unclear = found.amount_unclear;
    out.entities.date_unclear = found.date_unclear;
    if (found.menu_choice) {
        out.intent = Intent::kInform;
        out.confidence = 0.95;
        return out;
    }
    auto satisfied = [&](Needs needs) {
        switch (needs) {
            case Needs::kNothing:
                return true;
            case Needs::kAny:
                return found.amount_cents || found.date || found.amount_is_everything;
            case Needs::kDate:
                return found.date.has_value();
            case Needs::kAmount:
                return found.amount_cents.has_value();
            case Needs::kInstallments:
                return found.installments.has_value();
        }
        return false;
    };
    const Rule* best = nullptr;
    for (const Rule& rule : ModelFor(locale).rules) {
        if ((best == nullptr || rule.weight > best->weight) && satisfied(rule.needs) &&
            RE2::PartialMatch(normalized, *rule.pattern)) {
            best = &rule;
        }
    }
    if (best != nullptr) {
        out.intent = best->intent;
        out.confidence = best->weight;
        if (out.intent == Intent::kDispute || out.intent == Intent::kPrivacy) {
            std::string& entity =
                out.intent == Intent::kDispute ? out.entities.category : out.entities.right;
            entity = out.intent == Intent::kDispute ? "other" : "access";
            for (const CategoryRule& c : ModelFor(locale).categories) {
                if (c.intent == out.intent && RE2::PartialMatch(normalized, *c.pattern)) {
                    entity = c.name;
                    break;
                }
            }
        }
        return out;
    }
    const bool has_entities =
        found.amount_cents || found.date || found.installments || found.amount_is_everything;
    if (found.amount_cents && found.date) {
        out.intent = Intent::kPromiseToPay;  // "2000 el viernes"
        out.confidence = 0.7;
    } else if (has_entities) {
        out.intent = Intent::kInform;
        out.confidence = 0.8;
    }
    return out;
}

std::string ToJson(const Understanding& u) {
    char confidence[16];
    std::snprintf(confidence, sizeof confidence, "%.2f", u.confidence);
    std::string out = "{\"intent\":\"" + std::string(ToString(u.intent)) +
                      "\",\"confidence\":" + confidence + ",\"entities\":{";
    std::string fields;
    auto add = [&](std::string_view key, const std::string& json_value) {
        fields += fields.empty() ? "" : ",";
        fields += "\"" + std::string(key) + "\":" + json_value;
    };
    if (u.entities.amount_cents) {
        add("amount", "\"" + FormatDecimalCents(*u.entities.amount_cents) + "\"");
    }
    if (u.entities.date) {
        add("date", "\"" + FormatIsoDate(*u.entities.date) + "\"");
    }
    if (u.entities.installments) {
        add("installments", std::to_string(*u.entities.installments));
    }
    if (u.entities.menu_choice) {
        add("menu_choice", std::to_string(*u.entities.menu_choice));
    }
    if (!u.entities.category.empty()) {
        add("category", "\"" + u.entities.category + "\"");
    }
    if (!u.entities.right.empty()) {
        add("right", "\"" + u.entities.right + "\"");
    }
    return out + fields + "}}";
}

}  // namespace cobrador::dialogs
