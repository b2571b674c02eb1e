#include "store/csv.hpp"

#include <sstream>

#include <catch2/catch.hpp>

namespace cobrador::store {
namespace {

std::vector<CsvRecord> ReadAll(const std::string& text,
                               std::vector<std::string>* errors = nullptr) {
    std::istringstream in(text);
    CsvReader reader(in);
    std::vector<CsvRecord> out;
    CsvRecord record;
    for (;;) {
        const auto result = reader.Next(record);
        if (result == CsvReader::Result::kEnd) {
            break;
        }
        if (result == CsvReader::Result::kError) {
            if (errors) {
                errors->push_back(std::to_string(record.line) + ": " + reader.Error());
            }
            continue;
        }
        out.push_back(record);
    }
    return out;
}

TEST_CASE("CsvReader: RFC 4180 quoting", "[store][csv]") {
    const auto records = ReadAll(
        "a,b,c\r\n"
        "\"López, María\",\"say \"\"hi\"\"\",\n"
        "\"two\nlines\",x,y\n"
        "last,row,here");
    REQUIRE(records.size() == 4);
    CHECK(records[0].fields == std::vector<std::string>{"a", "b", "c"});
    CHECK(records[1].fields == std::vector<std::string>{"López, María", "say \"hi\"", ""});
    CHECK(records[2].fields == std::vector<std::string>{"two\nlines", "x", "y"});
    CHECK(records[2].line == 3);
    CHECK(records[3].line == 5);  // the quoted line break moved it down
    CHECK(records[3].fields.back() == "here");
}

TEST_CASE("CsvReader: a byte-order mark is skipped", "[store][csv]") {
    const auto records = ReadAll(
        "\xEF\xBB\xBF"
        "account_id,x\n1,2\n");
    REQUIRE(records.size() == 2);
    CHECK(records[0].fields[0] == "account_id");
}

TEST_CASE("CsvReader: malformed records are errors with their line", "[store][csv]") {
    std::vector<std::string> errors;
    const auto records = ReadAll(
        "h1,h2\n"
        "\"closed\"junk,x\n"
        "ok,1\n"
        "bad\"quote,x\n"
        "\xC3\x28,x\n"  // invalid UTF-8
        "ok,2\n"
        "\"never closed,x\n",
        &errors);
    CHECK(records.size() == 3);
    REQUIRE(errors.size() == 4);
    CHECK(errors[0].rfind("2: ", 0) == 0);
    CHECK(errors[1].rfind("4: ", 0) == 0);
    CHECK(errors[2].rfind("5: ", 0) == 0);
    CHECK(errors[3].rfind("7: ", 0) == 0);
    CHECK(errors[3].find("never closed") != std::string::npos);
}

TEST_CASE("IsValidUtf8: odd Unicode", "[store][csv]") {
    CHECK(IsValidUtf8("María José Ñuñez 😀"));
    CHECK(IsValidUtf8(""));
    CHECK_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong '/'
    CHECK_FALSE(IsValidUtf8("\xED\xA0\x80"));      // a lone surrogate
    CHECK_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
    CHECK_FALSE(IsValidUtf8("abc\xE2\x82"));       // cut short
    CHECK_FALSE(IsValidUtf8("\xFF"));
}

}  // namespace
}  // namespace cobrador::store
