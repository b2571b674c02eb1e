#include "templates/catalog.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <set>

#include <unicode/datefmt.h>
#include <unicode/dtptngen.h>
#include <unicode/messagepattern.h>
#include <unicode/msgfmt.h>
#include <unicode/smpdtfmt.h>
#include <unicode/timezone.h>

#include "templates/money_format.hpp"

namespace cobrador::templates {

namespace data {
extern const std::string_view kEsMx;
extern const std::string_view kEnUs;
}  // namespace data

namespace {

using Catalog = std::map<std::string, std::string, std::less<>>;

std::string Trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
        text.remove_suffix(1);
    }
    return std::string(text);
}

// "key = pattern" lines; '#' starts a comment line; "\n" in a pattern is a line break.
Catalog Parse(std::string_view file) {
    Catalog catalog;
    std::size_t start = 0;
    while (start < file.size()) {
        std::size_t end = file.find('\n', start);
        if (end == std::string_view::npos) {
            end = file.size();
        }
        const std::string line = Trim(file.substr(start, end - start));
        start = end + 1;
        if (line.empty() || line.front() == '#') {
            continue;
        }
        const auto eq = line.find('=');
        if (eq == std::string::npos) {
            continue;
        }
        std::string pattern = Trim(std::string_view(line).substr(eq + 1));
        for (std::size_t at = pattern.find("\\n"); at != std::string::npos;
             at = pattern.find("\\n", at + 1)) {
            pattern.replace(at, 2, "\n");
        }
        catalog[Trim(std::string_view(line).substr(0, eq))] = pattern;
    }
    return catalog;
}

const Catalog& CatalogFor(std::string_view locale) {
    static const Catalog es = Parse(data::kEsMx);
    static const Catalog en = Parse(data::kEnUs);
    return locale == "en-US" ? en : es;
}

std::string Utf8(const icu::UnicodeString& text) {
    std::string out;
    text.toUTF8String(out);
    return out;
}

}  // namespace

const std::vector<std::string>& Locales() {
    static const std::vector<std::string> kLocales = {"es-MX", "en-US"};
    return kLocales;
}

std::vector<std::string> Keys(std::string_view locale) {
    std::vector<std::string> keys;
    for (const auto& [key, pattern] : CatalogFor(locale)) {
        keys.push_back(key);
    }
    return keys;
}

namespace {

// "Friday, 27 November 2026" for a locale. Building it (the pattern generator loads CLDR data)
// costs more than a whole dialog step, so each thread builds one per locale and keeps it:
// SimpleDateFormat::format is not safe to share between threads, hence thread_local.
icu::SimpleDateFormat* DateFormatFor(std::string_view where) {
    thread_local std::map<std::string, std::unique_ptr<icu::SimpleDateFormat>, std::less<>> formats;
    const auto found = formats.find(where);
    if (found != formats.end()) {
        return found->second.get();
    }
    UErrorCode status = U_ZERO_ERROR;
    const icu::Locale icu_locale(where == "en-US" ? "en_US" : "es_MX");
    std::unique_ptr<icu::DateTimePatternGenerator> generator(
        icu::DateTimePatternGenerator::createInstance(icu_locale, status));
    std::unique_ptr<icu::SimpleDateFormat> format;
    if (U_SUCCESS(status)) {
        const icu::UnicodeString pattern = generator->getBestPattern("yMMMMEEEEd", status);
        format = std::make_unique<icu::SimpleDateFormat>(pattern, icu_locale, status);
        if (U_FAILURE(status)) {
            format.reset();
        } else {
            // A civil date, not an instant: format midnight UTC in UTC, so no zone moves the day.
            format->adoptTimeZone(icu::TimeZone::createTimeZone("UTC"));
        }
    }
    return formats.emplace(std::string(where), std::move(format)).first->second.get();
}

}  // namespace

std::string FormatDate(const dialogs::Date& date, std::string_view locale) {
    icu::SimpleDateFormat* format = DateFormatFor(locale == "en-US" ? "en-US" : "es-MX");
    if (format == nullptr) {
        return dialogs::FormatIsoDate(date);
    }
    const auto days = std::chrono::sys_days(date).time_since_epoch().count();
    icu::UnicodeString out;
    format->format(static_cast<UDate>(days) * 86400000.0, out);
    return Utf8(out);
}

namespace {

// `pattern` parsed for `where` ("es-MX" or "en-US"), kept per thread: parsing is most of a
// render's cost. Null for a pattern ICU cannot parse.
const icu::MessageFormat* Parsed(std::string_view where, std::string_view pattern) {
    thread_local std::map<std::string, std::unique_ptr<icu::MessageFormat>, std::less<>> parsed;
    const std::string cache_key = std::string(where) + "\x1f" + std::string(pattern);
    auto cached = parsed.find(cache_key);
    if (cached == parsed.end()) {
        UErrorCode status = U_ZERO_ERROR;
        const icu::Locale icu_locale(where == "en-US" ? "en_US" : "es_MX");
        auto made = std::make_unique<icu::MessageFormat>(
            icu::UnicodeString::fromUTF8(
                icu::StringPiece(pattern.data(), static_cast<int32_t>(pattern.size()))),
            icu_locale,
            status);
        if (U_FAILURE(status)) {
            made.reset();
        }
        cached = parsed.emplace(cache_key, std::move(made)).first;
    }
    return cached->second.get();
}

std::optional<std::string> Format(const icu::MessageFormat& format,
                                  std::string_view where,
                                  const Args& args) {
    std::vector<icu::UnicodeString> names;
    std::vector<icu::Formattable> values;
    for (const auto& [name, value] : args) {
        names.push_back(icu::UnicodeString::fromUTF8(name));
        if (const auto* text = std::get_if<std::string>(&value)) {
            values.emplace_back(icu::UnicodeString::fromUTF8(*text));
        } else if (const auto* number = std::get_if<std::int64_t>(&value)) {
            values.emplace_back(static_cast<int64_t>(*number));
        } else if (const auto* money = std::get_if<Money>(&value)) {
            values.emplace_back(
                icu::UnicodeString::fromUTF8(FormatMoney(money->cents, money->currency, where)));
        } else {
            values.emplace_back(
                icu::UnicodeString::fromUTF8(FormatDate(std::get<dialogs::Date>(value), where)));
        }
    }
    UErrorCode status = U_ZERO_ERROR;
    icu::UnicodeString out;
    format.format(names.data(), values.data(), static_cast<int32_t>(values.size()), out, status);
    if (U_FAILURE(status)) {
        return std::nullopt;
    }
    return Utf8(out);
}

std::string_view Where(std::string_view locale) {
    return locale == "en-US" ? "en-US" : "es-MX";
}

}  // namespace

std::optional<std::string> Render(std::string_view locale, std::string_view key, const Args& args) {
    const std::string_view where = Where(locale);
    const Catalog& catalog = CatalogFor(where);
    const auto found = catalog.find(key);
    if (found == catalog.end()) {
        return std::nullopt;
    }
    const icu::MessageFormat* format = Parsed(where, found->second);
    return format == nullptr ? std::nullopt : Format(*format, where, args);
}

std::optional<std::string> RenderPattern(std::string_view locale,
                                         std::string_view pattern,
                                         const Args& args) {
    const std::string_view where = Where(locale);
    const icu::MessageFormat* format = Parsed(where, pattern);
    return format == nullptr ? std::nullopt : Format(*format, where, args);
}

std::optional<std::set<std::string>> PatternArguments(std::string_view pattern) {
    UErrorCode status = U_ZERO_ERROR;
    icu::MessagePattern parsed(icu::UnicodeString::fromUTF8(icu::StringPiece(
                                   pattern.data(), static_cast<int32_t>(pattern.size()))),
                               nullptr,
                               status);
    if (U_FAILURE(status)) {
        return std::nullopt;
    }
    std::set<std::string> names;
    for (int32_t i = 0; i < parsed.countParts(); ++i) {
        const icu::MessagePattern::Part& part = parsed.getPart(i);
        if (part.getType() == UMSGPAT_PART_TYPE_ARG_NAME) {
            names.insert(Utf8(parsed.getSubstring(part)));
        } else if (part.getType() == UMSGPAT_PART_TYPE_ARG_NUMBER) {
            names.insert(std::to_string(part.getValue()));
        }
    }
    return names;
}

RenderedReply RenderReply(const dialogs::Reply& reply, std::string_view locale) {
    RenderedReply out;
    for (const dialogs::Line& line : reply.lines) {
        out.text += out.text.empty() ? "" : "\n";
        out.text += Render(locale, line.key, line.args).value_or(line.key);
    }
    for (const dialogs::Option& option : reply.options) {
        out.options.push_back({option.id, Render(locale, option.key, {}).value_or(option.key)});
    }
    if (!reply.options.empty()) {
        out.list_button = Render(locale, "menu_button", {}).value_or("Menu");
    }
    return out;
}

}  // namespace cobrador::templates
