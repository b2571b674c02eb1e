#pragma once
// How an imported CSV is written, as Excel and Mexican ERPs write it: UTF-8 or Windows-1252,
// separated by ',' ';' tab or '|', dates as YYYY-MM-DD or dd/mm/yyyy (or mm/dd/yyyy), phones
// with or without the country code, amounts with "$" and thousands separators. Chosen from what
// the operator said and, for what was left unsaid, from the file's first bytes; what cannot be
// decided is a one-line problem that names the likely cause and the option that fixes it.
// Pure functions and a decoding stream; safe from any thread (one stream per reader).

#include <cstdint>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cobrador::store {

enum class TextEncoding { kUtf8, kWindows1252 };
enum class DateOrder {
    kIso,         // YYYY-MM-DD only
    kDayFirst,    // dd/mm/yyyy (also with '-' or '.'), and YYYY-MM-DD
    kMonthFirst,  // mm/dd/yyyy, and YYYY-MM-DD
};

struct CsvFormat {
    TextEncoding encoding = TextEncoding::kUtf8;
    char delimiter = ',';
    DateOrder dates = DateOrder::kIso;
    // "MX" or "US": a 10-digit national number is that country's ("55 1234 5678" → +52…);
    // empty: every phone must carry its country code.
    std::string default_country;
};

// What the operator said on the command line; unset parts are detected.
struct FormatRequest {
    std::optional<TextEncoding> encoding;
    std::optional<char> delimiter;
    std::optional<DateOrder> dates;
    std::string default_country;
};

struct FormatChoice {
    CsvFormat format;
    std::string described;  // "Windows-1252 (detected), ';'-separated (detected), dates …"
    std::string problem;    // non-empty: the file cannot be read as it is; says why, in one line
};

// The option values: "utf-8"/"utf8", "windows-1252"/"cp1252"/"latin1"; ",", ";", "tab" (or a
// tab), "|"; "yyyy-mm-dd", "dd/mm/yyyy", "mm/dd/yyyy"; "MX", "US".
std::optional<TextEncoding> EncodingNamed(std::string_view name);
std::optional<char> DelimiterNamed(std::string_view name);
std::optional<DateOrder> DateOrderNamed(std::string_view name);
bool IsKnownDefaultCountry(std::string_view code);

// Chooses the format of a file from its first bytes (`sample`, up to kFormatSampleBytes, cut
// anywhere) and what the operator asked. `columns` are the names the importer knows, the first
// `required` of them required; `date_columns` those holding dates (or instants).
inline constexpr std::size_t kFormatSampleBytes = 256 * 1024;
FormatChoice ChooseCsvFormat(std::string_view sample,
                             const FormatRequest& asked,
                             const std::vector<std::string_view>& columns,
                             std::size_t required,
                             const std::vector<std::string_view>& date_columns);

// `text` in Windows-1252 as UTF-8 (the five bytes the code page leaves undefined become U+FFFD).
std::string Windows1252ToUtf8(std::string_view text);

// A stream that reads `raw` as `encoding` and gives UTF-8 (UTF-8 passes through). Counts the
// raw bytes consumed, for progress.
class DecodedInput {
public:
    DecodedInput(std::istream& raw, TextEncoding encoding);
    ~DecodedInput();
    DecodedInput(const DecodedInput&) = delete;
    DecodedInput& operator=(const DecodedInput&) = delete;

    std::istream& Stream();
    std::uint64_t RawBytesRead() const;

private:
    struct Buffer;
    std::unique_ptr<Buffer> buffer_;
    std::unique_ptr<std::istream> decoded_;
    std::istream* stream_ = nullptr;
};

// One field as the chosen format writes it, in the ledger's form; nullopt when it is not one.
// A date: "YYYY-MM-DD" (always accepted) or, with kDayFirst/kMonthFirst, d/m/yyyy with '/', '-'
// or '.' between, day and month of one or two digits. Returns "YYYY-MM-DD".
std::optional<std::string> ReadDate(std::string_view text, DateOrder order);
// An amount: "1500", "1500.5", "1,500.50", "$1,500.50", "$ 1 500.50" is refused; thousands
// separators must group by three. Cents.
std::optional<std::int64_t> ReadAmount(std::string_view text);
// A phone: E.164 as dialogs::NormalizePhone reads it, or with `default_country` a national
// number of 10 digits (spaces, dashes, dots and parentheses allowed).
std::optional<std::string> ReadPhone(std::string_view text, const std::string& default_country);

// The hint for a value that did not read, when the format explains it: "" or
// "; 10-digit numbers need --default-country MX" and the like.
std::string PhoneHint(std::string_view text, const CsvFormat& format);
std::string DateHint(std::string_view text, const CsvFormat& format);

}  // namespace cobrador::store
