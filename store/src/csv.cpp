#include "store/csv.hpp"

namespace cobrador::store {

CsvReader::CsvReader(std::istream& in) : in_(in) {}

int CsvReader::Get() {
    const int c = in_.get();
    if (c != std::char_traits<char>::eof()) {
        ++bytes_;
    }
    return c;
}

int CsvReader::Peek() {
    return in_.peek();
}

void CsvReader::SkipRestOfLine() {
    for (int c = Get(); c != std::char_traits<char>::eof(); c = Get()) {
        if (c == '\n') {
            ++line_;
            return;
        }
    }
}

CsvReader::Result CsvReader::Next(CsvRecord& record) {
    constexpr int kEof = std::char_traits<char>::eof();
    record.fields.clear();
    record.line = line_;
    error_.clear();
    if (!started_) {
        started_ = true;
        // A UTF-8 byte-order mark, as spreadsheet programs write it.
        if (Peek() == 0xEF) {
            Get();
            if (Get() != 0xBB || Get() != 0xBF) {
                error_ = "the file starts with bytes that are not UTF-8";
                SkipRestOfLine();
                return Result::kError;
            }
        }
    }
    if (Peek() == kEof) {
        return Result::kEnd;
    }
    std::string field;
    bool quoted = false;      // inside a quoted field
    bool was_quoted = false;  // the current field was quoted and has closed
    const auto fail = [&](std::string why) {
        error_ = std::move(why);
        SkipRestOfLine();
        return Result::kError;
    };
    const auto finish_field = [&]() -> bool {
        if (!IsValidUtf8(field)) {
            return false;
        }
        record.fields.push_back(std::move(field));
        field.clear();
        was_quoted = false;
        return true;
    };
    for (;;) {
        const int c = Get();
        if (c == kEof) {
            if (quoted) {
                error_ = "a quoted field is never closed";
                return Result::kError;
            }
            if (!finish_field()) {
                error_ = "a field is not valid UTF-8";
                return Result::kError;
            }
            return Result::kRecord;
        }
        if (c == 0) {
            return fail("the line contains a NUL byte");
        }
        if (quoted) {
            if (c == '"') {
                if (Peek() == '"') {
                    Get();
                    field += '"';
                } else {
                    quoted = false;
                    was_quoted = true;
                }
            } else {
                if (c == '\n') {
                    ++line_;
                }
                field += static_cast<char>(c);
            }
            continue;
        }
        if (c == ',') {
            if (!finish_field()) {
                return fail("a field is not valid UTF-8");
            }
            continue;
        }
        if (c == '\r' && Peek() == '\n') {
            continue;  // the '\n' ends the record
        }
        if (c == '\n') {
            ++line_;
            if (!finish_field()) {
                error_ = "a field is not valid UTF-8";
                return Result::kError;
            }
            return Result::kRecord;
        }
        if (was_quoted) {
            return fail("text after a closing quote; a quote inside a field must be doubled");
        }
        if (c == '"') {
            if (!field.empty()) {
                return fail("a quote inside an unquoted field; quote the whole field");
            }
            quoted = true;
            continue;
        }
        field += static_cast<char>(c);
    }
}

bool IsValidUtf8(const std::string& text) {
    std::size_t i = 0;
    const std::size_t n = text.size();
    while (i < n) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t length = 0;
        std::uint32_t code = 0;
        if ((c & 0xE0) == 0xC0) {
            length = 2;
            code = c & 0x1Fu;
        } else if ((c & 0xF0) == 0xE0) {
            length = 3;
            code = c & 0x0Fu;
        } else if ((c & 0xF8) == 0xF0) {
            length = 4;
            code = c & 0x07u;
        } else {
            return false;
        }
        if (i + length > n) {
            return false;
        }
        for (std::size_t k = 1; k < length; ++k) {
            const auto next = static_cast<unsigned char>(text[i + k]);
            if ((next & 0xC0) != 0x80) {
                return false;
            }
            code = (code << 6) | (next & 0x3Fu);
        }
        const bool overlong = (length == 2 && code < 0x80) || (length == 3 && code < 0x800) ||
                              (length == 4 && code < 0x10000);
        if (overlong || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
            return false;
        }
        i += length;
    }
    return true;
}

}  // namespace cobrador::store
