#include "store/csv.hpp"

#include <algorithm>

namespace cobrador::store {

namespace {

constexpr const char* kNotUtf8 =
    "a field is not valid UTF-8 (a file saved by Excel on Windows: try --encoding windows-1252)";

}  // namespace

CsvReader::CsvReader(std::istream& in, char delimiter) : in_(in), delimiter_(delimiter) {}

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
                error_ = kNotUtf8;
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
        if (c == delimiter_) {
            if (!finish_field()) {
                return fail(kNotUtf8);
            }
            continue;
        }
        if (c == '\r' && Peek() == '\n') {
            continue;  // the '\n' ends the record
        }
        if (c == '\n') {
            ++line_;
            if (!finish_field()) {
                error_ = kNotUtf8;
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

std::string Trimmed(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) {
        return {};
    }
    const auto last = text.find_last_not_of(" \t\r\n");
    return std::string(text.substr(first, last - first + 1));
}

CsvTable::CsvTable(std::istream& in,
                   std::vector<std::string_view> names,
                   std::size_t required,
                   char delimiter)
    : reader_(in, delimiter), names_(std::move(names)), where_(names_.size()) {
    CsvRecord record;
    switch (reader_.Next(record)) {
        case CsvReader::Result::kEnd:
            header_errors_.push_back({1, "the file is empty; expected a header row"});
            return;
        case CsvReader::Result::kError:
            header_errors_.push_back({record.line, "header: " + reader_.Error()});
            return;
        case CsvReader::Result::kRecord:
            break;
    }
    header_fields_ = record.fields.size();
    for (std::size_t i = 0; i < record.fields.size(); ++i) {
        const std::string name = Trimmed(record.fields[i]);
        const auto known = std::find(names_.begin(), names_.end(), name);
        if (known == names_.end()) {
            continue;  // extra columns are the operator's own; ignored
        }
        auto& slot = where_[static_cast<std::size_t>(known - names_.begin())];
        if (slot) {
            header_errors_.push_back({1, "header: column '" + name + "' appears twice"});
        }
        slot = i;
    }
    std::string missing;
    std::size_t count = 0;
    for (std::size_t i = 0; i < required && i < names_.size(); ++i) {
        if (!where_[i]) {
            missing += (count++ == 0 ? "'" : ", '") + std::string(names_[i]) + "'";
        }
    }
    if (count == 0) {
        return;
    }
    std::string line =
        "header: missing required column" + std::string(count > 1 ? "s " : " ") + missing;
    // One field that holds another delimiter: the file is separated by that one.
    if (record.fields.size() == 1) {
        for (const char other : {';', '\t', '|', ','}) {
            if (other != delimiter && record.fields[0].find(other) != std::string::npos) {
                line += other == '\t' ? "; the file looks tab-separated: try --delimiter tab"
                                      : std::string("; the file looks '") + other +
                                            "'-separated: try --delimiter '" + other + "'";
                break;
            }
        }
    } else if (count == required && !record.fields.empty() && !record.fields[0].empty() &&
               std::all_of(record.fields[0].begin(), record.fields[0].end(), [](char c) {
                   return (c >= '0' && c <= '9') || c == '-' || c == ' ';
               })) {
        line +=
            "; the first line looks like data: the file needs a header row naming the "
            "columns";
    }
    header_errors_.push_back({1, std::move(line)});
}

bool CsvTable::Next(CsvRecord& record, std::vector<RowError>& errors) {
    if (!header_errors_.empty()) {
        return false;
    }
    for (;;) {
        const auto result = reader_.Next(record);
        if (result == CsvReader::Result::kEnd) {
            return false;
        }
        if (result == CsvReader::Result::kError) {
            ++records_;
            errors.push_back({record.line, reader_.Error()});
            continue;
        }
        if (record.fields.size() == 1 && Trimmed(record.fields[0]).empty()) {
            continue;  // a blank line
        }
        ++records_;
        if (record.fields.size() != header_fields_) {
            errors.push_back({record.line,
                              "expected " + std::to_string(header_fields_) + " fields, found " +
                                  std::to_string(record.fields.size())});
            continue;
        }
        return true;
    }
}

std::string CsvTable::Field(const CsvRecord& record, std::size_t column) const {
    const auto index = where_[column];
    return index ? Trimmed(record.fields[*index]) : std::string{};
}

std::size_t CsvTable::FieldBytes(const CsvRecord& record, std::size_t column) const {
    const auto index = where_[column];
    return index ? record.fields[*index].size() : 0;
}

std::string Shown(const std::string& value) {
    constexpr std::size_t kShow = 40;
    std::string out = "'";
    if (value.size() <= kShow) {
        out += value;
    } else {
        std::size_t cut = kShow;
        while (cut > 0 && (static_cast<unsigned char>(value[cut]) & 0xC0) == 0x80) {
            --cut;  // do not split a UTF-8 sequence
        }
        out.append(value, 0, cut);
        out += "…";
    }
    out += "'";
    return out;
}

bool HasControlCharacters(std::string_view text) {
    return std::any_of(text.begin(), text.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u < 0x20 || u == 0x7F;
    });
}

}  // namespace cobrador::store
