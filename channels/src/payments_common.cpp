#include "payments_common.hpp"

#include <algorithm>
#include <chrono>

#include "dialogs/calendar.hpp"
#include "dialogs/money.hpp"

namespace cobrador::channels::provider {

namespace {

constexpr std::int64_t kMaxCents = 1'000'000'000'000'000;  // far beyond any debt
constexpr std::size_t kMaxIdBytes = 200;

}  // namespace

std::string Text(const nlohmann::json& object, const char* key) {
    if (!object.is_object()) {
        return {};
    }
    const auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string Id(const nlohmann::json& object, const char* key) {
    if (!object.is_object()) {
        return {};
    }
    const auto it = object.find(key);
    std::string id;
    if (it == object.end()) {
        return id;
    }
    if (it->is_string()) {
        id = it->get<std::string>();
    } else if (it->is_number_unsigned()) {
        id = std::to_string(it->get<std::uint64_t>());
    } else if (it->is_number_integer() && it->get<std::int64_t>() >= 0) {
        id = std::to_string(it->get<std::int64_t>());
    }
    const bool clean =
        std::all_of(id.begin(), id.end(), [](unsigned char c) { return c > 0x20 && c < 0x7f; });
    return clean && id.size() <= kMaxIdBytes ? id : std::string();
}

std::optional<std::int64_t> IntegerCents(const nlohmann::json& object, const char* key) {
    if (!object.is_object()) {
        return std::nullopt;
    }
    const auto it = object.find(key);
    if (it == object.end()) {
        return std::nullopt;
    }
    if (it->is_number_unsigned() && it->get<std::uint64_t>() < kMaxCents) {
        return static_cast<std::int64_t>(it->get<std::uint64_t>());
    }
    if (it->is_number_integer() && it->get<std::int64_t>() >= 0 &&
        it->get<std::int64_t>() < kMaxCents) {
        return it->get<std::int64_t>();
    }
    return std::nullopt;
}

std::optional<std::int64_t> PesosCents(const nlohmann::json& object, const char* key) {
    if (!object.is_object()) {
        return std::nullopt;
    }
    const auto it = object.find(key);
    if (it == object.end()) {
        return std::nullopt;
    }
    std::string text;
    if (it->is_string()) {
        text = it->get<std::string>();  // ParseExact keeps a number with a fraction as text
    } else if (it->is_number_unsigned()) {
        text = std::to_string(it->get<std::uint64_t>());
    } else if (it->is_number_integer()) {
        text = std::to_string(it->get<std::int64_t>());
    } else {
        return std::nullopt;
    }
    const auto cents = dialogs::ParseDecimalCents(text);
    if (!cents || *cents < 0 || *cents >= kMaxCents) {
        return std::nullopt;
    }
    return cents;
}

std::string Reference(std::string_view text) {
    const bool clean = std::all_of(
        text.begin(), text.end(), [](unsigned char c) { return c >= 0x20 && c != 0x7f; });
    return clean && !text.empty() && text.size() <= 64 ? std::string(text) : std::string();
}

std::string Currency(std::string_view text) {
    std::string code(text);
    std::transform(code.begin(), code.end(), code.begin(), [](unsigned char c) {
        return static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    });
    return dialogs::IsKnownCurrency(code) ? code : std::string();
}

std::string IsoFromUnix(std::int64_t seconds) {
    // 2000-01-01 to 2100-01-01: a payment's time, not a fuzzer's.
    if (seconds < 946'684'800 || seconds >= 4'102'444'800) {
        return {};
    }
    return dialogs::FormatIsoInstant(std::chrono::sys_seconds(std::chrono::seconds(seconds)));
}

std::string IsoUtc(std::string_view text) {
    const auto at = dialogs::ParseIso8601(text);
    return at ? dialogs::FormatIsoInstant(*at) : std::string();
}

bool UrlSafe(std::string_view id) {
    return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               c == '-' || c == '_';
    });
}

HttpCall Request(std::string method,
                 std::string_view api_base,
                 const std::string& path,
                 std::vector<std::pair<std::string, std::string>> headers,
                 std::string body) {
    std::string base(api_base);
    while (!base.empty() && base.back() == '/') {
        base.pop_back();
    }
    HttpCall call;
    call.method = std::move(method);
    call.url = base + path;
    call.headers = std::move(headers);
    call.body = std::move(body);
    return call;
}

HttpCall Get(std::string_view api_base,
             const std::string& path,
             std::vector<std::pair<std::string, std::string>> headers) {
    return Request("GET", api_base, path, std::move(headers), {});
}

Verdict Refuse(Refusal refusal, std::string why) {
    Verdict v;
    v.refusal = refusal;
    v.why = std::move(why);
    return v;
}

Verdict Start(const char* provider, std::string_view body, nlohmann::json& object) {
    object = ParseExact(body);
    if (object.is_discarded() || !object.is_object()) {
        return Refuse(Refusal::kMalformed, "the body is not a JSON object");
    }
    Verdict v;
    v.event.provider = provider;
    v.event.body = std::string(body);
    return v;
}

}  // namespace cobrador::channels::provider
