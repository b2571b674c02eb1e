#include "store/import_format.hpp"

#include <algorithm>
#include <array>
#include <sstream>
#include <streambuf>

#include "dialogs/calendar.hpp"
#include "dialogs/money.hpp"
#include "dialogs/phone.hpp"
#include "store/csv.hpp"

namespace cobrador::store {

namespace {

std::string Lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
        return static_cast<char>(std::tolower(c));
    });
    return out;
}

bool IsDigit(char c) {
    return c >= '0' && c <= '9';
}

std::string DelimiterShown(char delimiter) {
    return delimiter == '\t' ? "tab" : std::string("'") + delimiter + "'";
}

std::string DelimiterOption(char delimiter) {
    return delimiter == '\t' ? "--delimiter tab" : std::string("--delimiter '") + delimiter + "'";
}

std::string_view DateOrderName(DateOrder order) {
    switch (order) {
        case DateOrder::kIso:
            return "YYYY-MM-DD";
        case DateOrder::kDayFirst:
            return "dd/mm/yyyy";
        case DateOrder::kMonthFirst:
            return "mm/dd/yyyy";
    }
    return "";
}

// A date written with the day and month first, in either order: its two leading numbers.
struct SlashDate {
    int first = 0;
    int second = 0;
    int year = 0;
};

std::optional<SlashDate> SplitSlashDate(std::string_view text) {
    // An instant's time, after a space or a 'T', is not part of the date.
    text = text.substr(0, text.find_first_of(" T"));
    SlashDate d;
    int* parts[3] = {&d.first, &d.second, &d.year};
    std::size_t at = 0;
    char separator = 0;
    for (int p = 0; p < 3; ++p) {
        const std::size_t start = at;
        while (at < text.size() && IsDigit(text[at])) {
            *parts[p] = *parts[p] * 10 + (text[at] - '0');
            ++at;
            if (at - start > 4) {
                return std::nullopt;
            }
        }
        const std::size_t digits = at - start;
        if (p < 2) {
            if (digits < 1 || digits > 2 || at >= text.size()) {
                return std::nullopt;
            }
            const char c = text[at];
            if (c != '/' && c != '-' && c != '.') {
                return std::nullopt;
            }
            if (separator != 0 && c != separator) {
                return std::nullopt;
            }
            separator = c;
            ++at;
        } else if (digits != 4 || at != text.size()) {
            return std::nullopt;
        }
    }
    return d;
}

}  // namespace

std::optional<TextEncoding> EncodingNamed(std::string_view name) {
    const std::string n = Lower(name);
    if (n == "utf-8" || n == "utf8") {
        return TextEncoding::kUtf8;
    }
    if (n == "windows-1252" || n == "cp1252" || n == "latin1" || n == "iso-8859-1" || n == "ansi") {
        return TextEncoding::kWindows1252;
    }
    return std::nullopt;
}

std::optional<char> DelimiterNamed(std::string_view name) {
    const std::string n = Lower(name);
    if (n == "," || n == "comma") {
        return ',';
    }
    if (n == ";" || n == "semicolon") {
        return ';';
    }
    if (n == "tab" || n == "\t" || n == "\\t") {
        return '\t';
    }
    if (n == "|" || n == "pipe") {
        return '|';
    }
    return std::nullopt;
}

std::optional<DateOrder> DateOrderNamed(std::string_view name) {
    const std::string n = Lower(name);
    if (n == "yyyy-mm-dd" || n == "iso") {
        return DateOrder::kIso;
    }
    if (n == "dd/mm/yyyy" || n == "dd-mm-yyyy" || n == "dd.mm.yyyy") {
        return DateOrder::kDayFirst;
    }
    if (n == "mm/dd/yyyy" || n == "mm-dd-yyyy") {
        return DateOrder::kMonthFirst;
    }
    return std::nullopt;
}

bool IsKnownDefaultCountry(std::string_view code) {
    return code == "MX" || code == "US";
}

std::string Windows1252ToUtf8(std::string_view text) {
    // 0x80..0x9F; 0 where the code page defines no character.
    static constexpr std::array<char16_t, 32> kHigh = {
        0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
        0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
        0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};
    std::string out;
    out.reserve(text.size() + text.size() / 8);
    for (const char byte : text) {
        const auto b = static_cast<unsigned char>(byte);
        if (b < 0x80) {
            out += byte;
            continue;
        }
        std::uint32_t code = b;
        if (b < 0xA0) {
            code = kHigh[b - 0x80];
            if (code == 0) {
                code = 0xFFFD;
            }
        }
        if (code < 0x800) {
            out += static_cast<char>(0xC0 | (code >> 6));
            out += static_cast<char>(0x80 | (code & 0x3F));
        } else {
            out += static_cast<char>(0xE0 | (code >> 12));
            out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (code & 0x3F));
        }
    }
    return out;
}

struct DecodedInput::Buffer : std::streambuf {
    explicit Buffer(std::istream& source) : raw(source) {}

    int_type underflow() override {
        if (gptr() < egptr()) {
            return traits_type::to_int_type(*gptr());
        }
        std::array<char, 16 * 1024> chunk{};
        raw.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
        const auto got = static_cast<std::size_t>(raw.gcount());
        if (got == 0) {
            return traits_type::eof();
        }
        consumed += got;
        decoded = Windows1252ToUtf8(std::string_view(chunk.data(), got));
        setg(decoded.data(), decoded.data(), decoded.data() + decoded.size());
        return traits_type::to_int_type(*gptr());
    }

    std::istream& raw;
    std::string decoded;
    std::uint64_t consumed = 0;
};

DecodedInput::DecodedInput(std::istream& raw, TextEncoding encoding) {
    if (encoding == TextEncoding::kUtf8) {
        stream_ = &raw;
        return;
    }
    buffer_ = std::make_unique<Buffer>(raw);
    decoded_ = std::make_unique<std::istream>(buffer_.get());
    stream_ = decoded_.get();
}

DecodedInput::~DecodedInput() = default;

std::istream& DecodedInput::Stream() {
    return *stream_;
}

std::uint64_t DecodedInput::RawBytesRead() const {
    return buffer_ ? buffer_->consumed : 0;
}

std::optional<std::string> ReadDate(std::string_view text, DateOrder order) {
    if (dialogs::ParseIsoDate(text)) {
        return std::string(text);
    }
    if (order == DateOrder::kIso || text.find_first_of(" T") != std::string_view::npos) {
        return std::nullopt;
    }
    const auto split = SplitSlashDate(text);
    if (!split) {
        return std::nullopt;
    }
    const int day = order == DateOrder::kDayFirst ? split->first : split->second;
    const int month = order == DateOrder::kDayFirst ? split->second : split->first;
    const dialogs::Date date{std::chrono::year(split->year),
                             std::chrono::month(static_cast<unsigned>(month)),
                             std::chrono::day(static_cast<unsigned>(day))};
    if (!date.ok()) {
        return std::nullopt;
    }
    // Through the strict reader, so that the years it refuses are refused here too.
    const std::string iso = dialogs::FormatIsoDate(date);
    return dialogs::ParseIsoDate(iso) ? std::optional<std::string>(iso) : std::nullopt;
}

std::optional<std::int64_t> ReadAmount(std::string_view text) {
    if (!text.empty() && text.front() == '$') {
        text.remove_prefix(1);
        while (!text.empty() && text.front() == ' ') {
            text.remove_prefix(1);
        }
    }
    const auto dot = text.find('.');
    const std::string_view whole = text.substr(0, dot);
    if (whole.find(',') == std::string_view::npos) {
        return dialogs::ParseDecimalCents(text);
    }
    // "1,234,567": groups of three after the first group of one to three digits.
    std::string plain;
    std::size_t group = 0;
    bool first = true;
    for (const char c : whole) {
        if (c == ',') {
            if ((first && (group == 0 || group > 3)) || (!first && group != 3)) {
                return std::nullopt;
            }
            first = false;
            group = 0;
            continue;
        }
        if (!IsDigit(c)) {
            return std::nullopt;
        }
        plain += c;
        ++group;
    }
    if (group != 3) {
        return std::nullopt;
    }
    if (dot != std::string_view::npos) {
        plain.append(text.substr(dot));
    }
    return dialogs::ParseDecimalCents(plain);
}

std::optional<std::string> ReadPhone(std::string_view text, const std::string& default_country) {
    if (auto e164 = dialogs::NormalizePhone(text)) {
        return e164;
    }
    if (default_country.empty() || text.empty() || text.front() == '+') {
        return std::nullopt;
    }
    std::string digits;
    for (const char c : text) {
        if (IsDigit(c)) {
            digits += c;
        } else if (c != ' ' && c != '-' && c != '.' && c != '(' && c != ')') {
            return std::nullopt;
        }
    }
    if (digits.size() != 10) {
        return std::nullopt;
    }
    return dialogs::NormalizePhone((default_country == "MX" ? "+52" : "+1") + digits);
}

std::string PhoneHint(std::string_view text, const CsvFormat& format) {
    if (!format.default_country.empty()) {
        return "";
    }
    const auto digits = std::count_if(text.begin(), text.end(), IsDigit);
    if (digits == 10 && text.find('+') == std::string_view::npos) {
        return "; numbers of 10 digits without +52 need --default-country MX";
    }
    return "";
}

std::string DateHint(std::string_view text, const CsvFormat& format) {
    const auto split = SplitSlashDate(text);
    if (format.dates != DateOrder::kIso || !split) {
        return "";
    }
    return split->second > 12 ? "; for dates written month first, use --date-format mm/dd/yyyy"
                              : "; for dates written day first, use --date-format dd/mm/yyyy";
}

namespace {

// The first record of `text` split by `delimiter`, trimmed; empty when it does not parse.
std::vector<std::string> HeaderFields(const std::string& text, char delimiter) {
    std::istringstream in(text);
    CsvReader reader(in, delimiter);
    CsvRecord record;
    if (reader.Next(record) != CsvReader::Result::kRecord) {
        return {};
    }
    for (auto& f : record.fields) {
        f = Trimmed(f);
    }
    return record.fields;
}

std::size_t KnownColumns(const std::vector<std::string>& fields,
                         const std::vector<std::string_view>& columns) {
    return static_cast<std::size_t>(std::count_if(fields.begin(), fields.end(), [&](const auto& f) {
        return std::find(columns.begin(), columns.end(), f) != columns.end();
    }));
}

// Whether `text` holds at least one well-formed multi-byte UTF-8 character.
bool HasUtf8Sequence(std::string_view text) {
    for (std::size_t i = 0; i + 1 < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        const std::size_t length = (c & 0xE0) == 0xC0   ? 2
                                   : (c & 0xF0) == 0xE0 ? 3
                                   : (c & 0xF8) == 0xF0 ? 4
                                                        : 0;
        if (length != 0 && i + length <= text.size() &&
            IsValidUtf8(std::string(text.substr(i, length)))) {
            return true;
        }
    }
    return false;
}

// "line N": where the first byte that is not UTF-8 is.
std::string FirstBadUtf8(std::string_view text) {
    std::size_t line = 1;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= text.size(); ++i) {
        if (i == text.size() || text[i] == '\n') {
            if (!IsValidUtf8(std::string(text.substr(start, i - start)))) {
                return "line " + std::to_string(line);
            }
            ++line;
            start = i + 1;
        }
    }
    return "near the end";
}

// Valid UTF-8, allowing a sequence cut by the end of a full sample.
bool LooksUtf8(std::string_view sample) {
    std::string text(sample);
    if (sample.size() >= kFormatSampleBytes) {
        for (int cut = 0; cut < 4 && !text.empty(); ++cut) {
            if (IsValidUtf8(text)) {
                return true;
            }
            text.pop_back();
        }
        return false;
    }
    return IsValidUtf8(text);
}

}  // namespace

FormatChoice ChooseCsvFormat(std::string_view sample,
                             const FormatRequest& asked,
                             const std::vector<std::string_view>& columns,
                             std::size_t required,
                             const std::vector<std::string_view>& date_columns) {
    FormatChoice choice;
    CsvFormat& f = choice.format;
    f.default_country = asked.default_country;
    std::vector<std::string> said;
    const auto note = [&](std::string what, bool detected) {
        said.push_back(std::move(what) + (detected ? " (detected)" : ""));
    };

    // The encoding: UTF-8 when the bytes are UTF-8, else Windows-1252 (what Excel writes when
    // it saves "CSV" on a Spanish Windows).
    if (sample.starts_with("\xFF\xFE") || sample.starts_with("\xFE\xFF")) {
        choice.problem =
            "the file is UTF-16 (Excel's \"Unicode text\"); save it as \"CSV UTF-8\" instead";
        return choice;
    }
    const bool utf8 = LooksUtf8(sample);
    if (!utf8 && !asked.encoding &&
        (sample.starts_with("\xEF\xBB\xBF") || HasUtf8Sequence(sample))) {
        // Both UTF-8 characters and bytes that are not UTF-8: reading it either way would
        // garble some names without a word.
        choice.problem = "the file mixes UTF-8 with bytes that are not UTF-8 (" +
                         FirstBadUtf8(sample) +
                         "); save it again as \"CSV UTF-8\", or say which with --encoding";
        return choice;
    }
    if (asked.encoding) {
        f.encoding = *asked.encoding;
        if (f.encoding == TextEncoding::kUtf8 && !utf8) {
            choice.problem =
                "the file is not UTF-8; it looks like Windows-1252, as Excel saves CSV on a "
                "Spanish Windows: try --encoding windows-1252";
            return choice;
        }
    } else {
        f.encoding = utf8 ? TextEncoding::kUtf8 : TextEncoding::kWindows1252;
    }
    note(f.encoding == TextEncoding::kUtf8 ? "UTF-8" : "Windows-1252", !asked.encoding);
    std::string text =
        f.encoding == TextEncoding::kUtf8 ? std::string(sample) : Windows1252ToUtf8(sample);
    if (text.starts_with("\xEF\xBB\xBF")) {
        text.erase(0, 3);
    }

    // The delimiter: the one whose header names the most columns we know.
    char best = ',';
    std::size_t best_known = 0;
    for (const char candidate : {',', ';', '\t', '|'}) {
        const std::size_t known = KnownColumns(HeaderFields(text, candidate), columns);
        if (known > best_known) {
            best = candidate;
            best_known = known;
        }
    }
    if (asked.delimiter) {
        f.delimiter = *asked.delimiter;
        const std::size_t known = KnownColumns(HeaderFields(text, f.delimiter), columns);
        if (best != f.delimiter && best_known > known && known < required) {
            choice.problem = "with " + DelimiterOption(f.delimiter) +
                             " the header names too few of the columns; it looks " +
                             DelimiterShown(best) + "-separated: try " + DelimiterOption(best);
            return choice;
        }
    } else {
        f.delimiter = best;
    }
    note(DelimiterShown(f.delimiter) + "-separated", !asked.delimiter);

    // The dates: day or month first, from the values of the date columns in the sample.
    if (asked.dates) {
        f.dates = *asked.dates;
        note("dates " + std::string(DateOrderName(f.dates)), false);
    } else {
        std::istringstream in(text);
        CsvReader reader(in, f.delimiter);
        CsvRecord record;
        std::vector<std::size_t> where;
        bool header = true;
        std::string day_first_example, month_first_example, ambiguous_example;
        bool any = false;
        for (auto r = reader.Next(record); r != CsvReader::Result::kEnd; r = reader.Next(record)) {
            if (r != CsvReader::Result::kRecord) {
                continue;
            }
            if (header) {
                header = false;
                for (std::size_t i = 0; i < record.fields.size(); ++i) {
                    if (std::find(date_columns.begin(),
                                  date_columns.end(),
                                  Trimmed(record.fields[i])) != date_columns.end()) {
                        where.push_back(i);
                    }
                }
                continue;
            }
            for (const std::size_t i : where) {
                if (i >= record.fields.size()) {
                    continue;
                }
                const std::string value = Trimmed(record.fields[i]);
                const auto split = SplitSlashDate(value);
                if (!split) {
                    continue;
                }
                any = true;
                if (split->first > 12 && split->second <= 12) {
                    day_first_example = value;
                } else if (split->second > 12 && split->first <= 12) {
                    month_first_example = value;
                } else if (split->first != split->second && ambiguous_example.empty()) {
                    ambiguous_example = value;  // 05/05 reads the same either way
                }
            }
        }
        if (!day_first_example.empty() && !month_first_example.empty()) {
            choice.problem = "the dates mix day-first (" + Shown(day_first_example) +
                             ") and month-first (" + Shown(month_first_example) +
                             ") orders; say which with --date-format dd/mm/yyyy or mm/dd/yyyy";
            return choice;
        }
        if (!ambiguous_example.empty() && day_first_example.empty() &&
            month_first_example.empty()) {
            choice.problem = "dates like " + Shown(ambiguous_example) +
                             " could be day/month or month/day: say which with --date-format "
                             "dd/mm/yyyy or mm/dd/yyyy";
            return choice;
        }
        // Only dates that read the same both ways (05/05/2026): day first, as in Mexico.
        f.dates = !day_first_example.empty() || (any && month_first_example.empty())
                      ? DateOrder::kDayFirst
                  : !month_first_example.empty() ? DateOrder::kMonthFirst
                                                 : DateOrder::kIso;
        note("dates " + std::string(DateOrderName(f.dates)), any);
    }
    if (!f.default_country.empty()) {
        note("10-digit phones in " + f.default_country, false);
    }
    for (std::size_t i = 0; i < said.size(); ++i) {
        choice.described += (i == 0 ? "" : ", ") + said[i];
    }
    return choice;
}

}  // namespace cobrador::store
