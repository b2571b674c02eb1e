#pragma once
// A streaming RFC 4180 reader: comma separated, double-quoted fields with "" escapes and line
// breaks inside quotes, CRLF or LF record ends, an optional UTF-8 byte-order mark. Every field
// must be valid UTF-8 with no NUL byte. One reader per stream; not thread-safe.

#include <cstddef>
#include <cstdint>
#include <istream>
#include <string>
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

    explicit CsvReader(std::istream& in);

    Result Next(CsvRecord& record);

    const std::string& Error() const { return error_; }

    // Bytes consumed so far, for progress reports.
    std::uint64_t BytesRead() const { return bytes_; }

private:
    int Get();
    int Peek();
    void SkipRestOfLine();

    std::istream& in_;
    std::string error_;
    std::uint64_t bytes_ = 0;
    std::size_t line_ = 1;
    bool started_ = false;
};

// True when `text` is well-formed UTF-8 (no overlong forms, no surrogates, nothing above
// U+10FFFF).
bool IsValidUtf8(const std::string& text);

}  // namespace cobrador::store
