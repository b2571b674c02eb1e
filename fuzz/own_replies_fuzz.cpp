// Any bytes as a creditor's replies file: checking it never crashes, and what it accepts keeps
// its promises: ids are unique, es-MX is always there, titles are one line, and every accepted
// text renders for every locale with the placeholders its needs provides.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "templates/catalog.hpp"
#include "templates/own_replies.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace cobrador::templates;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto replies = ParseOwnReplies(text);
    if (!replies) {
        if (replies.error().empty()) {
            std::abort();  // a refusal always says why
        }
        return 0;
    }
    const Args args = SampleArgs();
    std::set<std::string> ids;
    for (const OwnReply& r : *replies) {
        if (!ids.insert(r.id).second || !r.by_locale.contains("es-MX")) {
            std::abort();
        }
        for (const auto& [locale, words] : r.by_locale) {
            if (words.first.empty() || words.first.find('\n') != std::string::npos) {
                std::abort();
            }
            const auto names = PatternArguments(words.second);
            if (!names) {
                std::abort();
            }
            for (const std::string& name : *names) {
                if (!Placeholders(r.needs).contains(name)) {
                    std::abort();
                }
            }
            if (!RenderPattern(locale, words.second, args)) {
                std::abort();
            }
        }
    }
    return 0;
}
