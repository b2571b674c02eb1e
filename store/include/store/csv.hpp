#pragma once
// A streaming RFC 4180 reader: comma (or another one-byte delimiter) separated, double-quoted
// fields with "" escapes and line breaks inside quotes, CRLF or LF record ends, an optional UTF-8
// byte-order mark. Every field must be valid UTF-8 with no NUL byte. One reader per stream; not
// thread-safe.

#include <cstddef>
#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cobrador::store {

struct CsvRecord {
    std::size_t line = 0;             // physical line (1-based) where the record starts
    std::vector<std::string> fields;  // as written, quotes removed
};

class CsvReader {
public:
    enum class Result {
        kRecord,  // `record` holds the next record
        kError,   // the record starting at record.line is malformed; Error() says why. The
                  // reader has skipped to the next line and can go on.
        kEnd,     // no more input
    };

    explicit CsvReader(std::istream& in, char delimiter = ',');

    Result Next(CsvRecord& record);

    const std::string& Error() const { return error_; }

    // Bytes consumed so far, for progress reports.
    std::uint64_t BytesRead() const { return bytes_; }

private:
    int Get();
    int Peek();
    void SkipRestOfLine();

    std::istream& in_;
    char delimiter_;
    std::string error_;
    std::uint64_t bytes_ = 0;
    std::size_t line_ = 1;
    bool started_ = false;
};

// A problem with one row of an imported file.
struct RowError {
    std::size_t line = 0;  // 1 is the header
    std::string message;   // says which column and why, in words an operator can act on
};

// A CSV file read as a table with named columns, for the importers: the header row names the
// columns (extra ones are ignored), then data rows with exactly the header's number of fields.
class CsvTable {
public:
    // `names`: the columns we know; the first `required` of them must be present. Reads the
    // header at once; HeaderErrors() says what was wrong with it, the missing columns in one
    // line (with the likely cause when the header is one field holding another delimiter).
    CsvTable(std::istream& in,
             std::vector<std::string_view> names,
             std::size_t required,
             char delimiter = ',');

    const std::vector<RowError>& HeaderErrors() const { return header_errors_; }

    // The next data row. Blank lines are skipped; a malformed record or one with the wrong
    // number of fields is added to `errors` and skipped. false at the end of the file.
    bool Next(CsvRecord& record, std::vector<RowError>& errors);

    // Column `column` (an index into `names`) of `record`, trimmed; empty when absent.
    std::string Field(const CsvRecord& record, std::size_t column) const;
    // The column's raw size in `record` (0 when absent), to refuse runaway fields.
    std::size_t FieldBytes(const CsvRecord& record, std::size_t column) const;

    std::string_view Name(std::size_t column) const { return names_[column]; }

    std::size_t Columns() const { return names_.size(); }

    std::size_t Records() const { return records_; }  // data records read, blanks not counted

    std::uint64_t BytesRead() const { return reader_.BytesRead(); }

private:
    CsvReader reader_;
    std::vector<std::string_view> names_;
    std::vector<std::optional<std::size_t>> where_;
    std::vector<RowError> header_errors_;
    std::size_t header_fields_ = 0;
    std::size_t records_ = 0;
};

// `text` without the spaces, tabs and line ends around it.
std::string Trimmed(std::string_view text);

// A user-supplied value quoted for an error message, cut short (never mid-UTF-8).
std::string Shown(const std::string& value);

bool HasControlCharacters(std::string_view text);

// True when `text` is well-formed UTF-8 (no overlong forms, no surrogates, nothing above
// U+10FFFF).
bool IsValidUtf8(const std::string& text);

}  // namespace cobrador::store
