// How imported files are written (store/import_format.hpp): the readers of one field, the
// Windows-1252 decoder, and the choice of a format from a file's first bytes.

#include "store/import_format.hpp"

#include <sstream>

#include <catch2/catch.hpp>

#include "store/csv.hpp"
#include "store/payments.hpp"
#include "store/portfolio.hpp"

namespace cobrador::store {
namespace {

const std::string kHeader = "account_id,debtor_name,phone,birth_date,balance,currency,due_date\n";

TEST_CASE("import format: amounts as Mexican files write them", "[store][import]") {
    CHECK(ReadAmount("1500") == 150000);
    CHECK(ReadAmount("1500.5") == 150050);
    CHECK(ReadAmount("$1,500.50") == 150050);
    CHECK(ReadAmount("$ 1,500") == 150000);
    CHECK(ReadAmount("1,234,567.89") == 123456789);
    CHECK(ReadAmount("999") == 99900);
    for (const char* wrong : {"1,50",       // a European decimal comma: not a thousands group
                              "1,5000",     // a group of four
                              "12,34,567",  // a group of two
                              ",500",
                              "1,500,",
                              "$",
                              "$$10",
                              "1.500,50",
                              "1 500.50",
                              "USD 10",
                              "1,500.505",
                              ""}) {
        INFO(wrong);
        CHECK_FALSE(ReadAmount(wrong));
    }
}

TEST_CASE("import format: dates day first, month first, or ISO", "[store][import]") {
    CHECK(ReadDate("2026-11-23", DateOrder::kIso) == "2026-11-23");
    CHECK_FALSE(ReadDate("23/11/2026", DateOrder::kIso));
    CHECK(ReadDate("23/11/2026", DateOrder::kDayFirst) == "2026-11-23");
    CHECK(ReadDate("3/4/2026", DateOrder::kDayFirst) == "2026-04-03");
    CHECK(ReadDate("03-04-2026", DateOrder::kDayFirst) == "2026-04-03");
    CHECK(ReadDate("03.04.2026", DateOrder::kDayFirst) == "2026-04-03");
    CHECK(ReadDate("3/4/2026", DateOrder::kMonthFirst) == "2026-03-04");
    CHECK(ReadDate("2026-11-23", DateOrder::kDayFirst) == "2026-11-23");  // ISO always reads
    CHECK(ReadDate("29/02/2028", DateOrder::kDayFirst) == "2028-02-29");
    for (const char* wrong : {"29/02/2026",  // not a leap year
                              "31/04/2026",
                              "23/13/2026",
                              "23/11/26",  // two-digit years are not guessed
                              "23/11-2026",
                              "123/11/2026",
                              "23/11/2026 10:00",
                              "00/11/2026",
                              "23/11/0999",
                              "//2026",
                              ""}) {
        INFO(wrong);
        CHECK_FALSE(ReadDate(wrong, DateOrder::kDayFirst));
    }
}

TEST_CASE("import format: phones without the country code with --default-country",
          "[store][import]") {
    CHECK(ReadPhone("+52 55 1234 5678", "") == "+525512345678");
    CHECK_FALSE(ReadPhone("55 1234 5678", ""));
    CHECK(ReadPhone("55 1234 5678", "MX") == "+525512345678");
    CHECK(ReadPhone("(33) 3616-1234", "MX") == "+523336161234");
    CHECK(ReadPhone("55.1234.5678", "MX") == "+525512345678");
    CHECK(ReadPhone("212 555 0100", "US") == "+12125550100");
    CHECK(ReadPhone("+1 212 555 0100", "MX") == "+12125550100");  // a country code wins
    for (const char* wrong :
         {"5512345678x", "551234567", "55123456789", "+52 55 1234 567", "tel 55"}) {
        INFO(wrong);
        CHECK_FALSE(ReadPhone(wrong, "MX"));
    }
    CHECK(PhoneHint("55 1234 5678", {}).find("--default-country MX") != std::string::npos);
    CHECK(PhoneHint("12345", {}).empty());
}

TEST_CASE("import format: Windows-1252 decoded to UTF-8, streamed", "[store][import]") {
    CHECK(Windows1252ToUtf8("Mu\xF1oz Pe\xF1"
                            "a") == "Muñoz Peña");
    CHECK(Windows1252ToUtf8("\x80 \x93hola\x94 \xBF?") == "€ “hola” ¿?");
    CHECK(Windows1252ToUtf8("\x81") == "\xEF\xBF\xBD");  // undefined: the replacement character
    // Longer than the decoder's chunk, so that a chunk boundary falls inside the text.
    std::string raw;
    std::string expected;
    for (int i = 0; i < 20000; ++i) {
        raw += "\xE1\xE9";
        expected += "áé";
    }
    std::istringstream in(raw);
    DecodedInput decoded(in, TextEncoding::kWindows1252);
    std::ostringstream out;
    out << decoded.Stream().rdbuf();
    CHECK(out.str() == expected);
    CHECK(decoded.RawBytesRead() == raw.size());
}

TEST_CASE("import format: chosen from the file, or the one line that says why not",
          "[store][import]") {
    SECTION("a plain file is UTF-8, commas, ISO dates") {
        const auto c = ChoosePortfolioFormat(
            kHeader + "A,Ana,+525511111111,1980-04-03,1.00,MXN,2026-12-05\n", {});
        CHECK(c.problem.empty());
        CHECK(c.format.encoding == TextEncoding::kUtf8);
        CHECK(c.format.delimiter == ',');
        CHECK(c.format.dates == DateOrder::kIso);
        CHECK(c.described == "UTF-8 (detected), ','-separated (detected), dates YYYY-MM-DD");
    }
    SECTION("';', '|' and tabs") {
        for (const char d : {';', '|', '\t'}) {
            std::string header = kHeader;
            std::replace(header.begin(), header.end(), ',', d);
            const auto c = ChoosePortfolioFormat(header, {});
            CHECK(c.problem.empty());
            CHECK(c.format.delimiter == d);
        }
    }
    SECTION("day first once one day is over 12; month first the other way; mixed is a problem") {
        const auto day =
            ChoosePortfolioFormat(kHeader +
                                      "A,Ana,+525511111111,03/04/1980,1.00,MXN,05/12/2026\n"
                                      "B,Beto,+525522222222,03/04/1980,1.00,MXN,25/12/2026\n",
                                  {});
        CHECK(day.format.dates == DateOrder::kDayFirst);
        CHECK(day.described.find("dates dd/mm/yyyy (detected)") != std::string::npos);
        const auto month = ChoosePortfolioFormat(
            kHeader + "A,Ana,+525511111111,12/25/1980,1.00,MXN,12/05/2026\n", {});
        CHECK(month.format.dates == DateOrder::kMonthFirst);
        const auto both = ChoosePortfolioFormat(
            kHeader + "A,Ana,+525511111111,12/25/1980,1.00,MXN,25/12/2026\n", {});
        CHECK(both.problem.find("mix day-first ('25/12/2026') and month-first ('12/25/1980')") !=
              std::string::npos);
        FormatRequest asked;
        asked.dates = DateOrder::kDayFirst;
        CHECK(ChoosePortfolioFormat(kHeader + "A,Ana,+525511111111,12/25/1980,1.00,MXN,"
                                              "25/12/2026\n",
                                    asked)
                  .problem.empty());
    }
    SECTION("Windows-1252 when the bytes are not UTF-8, and a UTF-8 file cut mid-character") {
        const auto latin = ChoosePortfolioFormat(kHeader + "A,Jos\xE9,+525511111111\n", {});
        CHECK(latin.format.encoding == TextEncoding::kWindows1252);
        std::string big = kHeader;
        while ((kFormatSampleBytes - big.size()) % 2 == 0) {
            big += 'x';
        }
        while (big.size() < kFormatSampleBytes) {
            big += "ñ";
        }
        big.resize(kFormatSampleBytes);  // the last "ñ" is cut in half
        REQUIRE_FALSE(IsValidUtf8(big));
        CHECK(ChoosePortfolioFormat(big, {}).format.encoding == TextEncoding::kUtf8);
    }
    SECTION("what the operator said wins, unless the file plainly says otherwise") {
        std::string header = kHeader;
        std::replace(header.begin(), header.end(), ',', ';');
        FormatRequest commas;
        commas.delimiter = ',';
        CHECK(ChoosePortfolioFormat(header, commas).problem ==
              "with --delimiter ',' the header names too few of the columns; it looks "
              "';'-separated: try --delimiter ';'");
        FormatRequest tabs;
        tabs.delimiter = '\t';
        CHECK(ChoosePortfolioFormat(kHeader, tabs).problem.find("try --delimiter ','") !=
              std::string::npos);
    }
    SECTION("dates that read the same both ways, and dates with spaces around them") {
        const auto same = ChoosePortfolioFormat(
            kHeader + "A,Ana,+525511111111,05/05/1980,1.00,MXN,12/12/2026\n", {});
        CHECK(same.problem.empty());
        CHECK(same.format.dates == DateOrder::kDayFirst);
        const auto spaced = ChoosePortfolioFormat(
            kHeader + "A,Ana,+525511111111, 23/04/1980 ,1.00,MXN,05/12/2026\n", {});
        CHECK(spaced.format.dates == DateOrder::kDayFirst);
        CHECK(DateHint("11/23/2026", {}).find("mm/dd/yyyy") != std::string::npos);
        CHECK(DateHint("23/11/2026", {}).find("dd/mm/yyyy") != std::string::npos);
    }
    SECTION("a file that mixes encodings, or is UTF-16, is not guessed") {
        const auto mixed =
            ChoosePortfolioFormat(kHeader + "A,José,+525511111111\nB,Mu\xF1oz,+525522222222\n", {});
        CHECK(mixed.problem.find("mixes UTF-8 with bytes that are not UTF-8 (line 3)") !=
              std::string::npos);
        const auto bom = ChoosePortfolioFormat("\xEF\xBB\xBF" + kHeader + "A,Mu\xF1oz\n", {});
        CHECK(bom.problem.find("mixes UTF-8") != std::string::npos);
        FormatRequest latin;
        latin.encoding = TextEncoding::kWindows1252;  // the operator knows better
        CHECK(
            ChoosePortfolioFormat(kHeader + "A,José,+52\nB,Mu\xF1oz,+52\n", latin).problem.empty());
        CHECK(ChoosePortfolioFormat(std::string("\xFF\xFE"
                                                "a\0c\0",
                                                6),
                                    {})
                  .problem.find("UTF-16") != std::string::npos);
    }
    SECTION("statements: paid_at's date decides") {
        const auto c = ChoosePaymentsFormat(
            "payment_id;reference;amount;currency;paid_at\nP;R;$1,00.00;MXN;23/11/2026 10:05\n",
            {});
        CHECK(c.problem.empty());
        CHECK(c.format.delimiter == ';');
        CHECK(c.format.dates == DateOrder::kDayFirst);
    }
}

TEST_CASE("import format: a portfolio read in the chosen format", "[store][import]") {
    const std::string raw =
        "account_id;debtor_name;phone;birth_date;balance;currency;due_date\r\n"
        "A;Jos\xE9 Mu\xF1oz;55 1234 5678;15/03/1985;\"$12,345.67\";MXN;01/10/2026\r\n";
    FormatRequest asked;
    asked.default_country = "MX";
    const auto choice = ChoosePortfolioFormat(raw, asked);
    REQUIRE(choice.problem.empty());
    std::istringstream in(raw);
    const auto parsed = ParsePortfolioCsv(in, choice.format);
    REQUIRE(parsed.errors.empty());
    REQUIRE(parsed.rows.size() == 1);
    CHECK(parsed.rows[0].debtor_name == "José Muñoz");
    CHECK(parsed.rows[0].phone == "+525512345678");
    CHECK(parsed.rows[0].birth_date == "1985-03-15");
    CHECK(parsed.rows[0].due_date == "2026-10-01");
    CHECK(parsed.rows[0].balance_cents == 1234567);

    // Read as the default format instead, the same bytes are refused, and nothing is half-read.
    std::istringstream again(raw);
    const auto strict = ParsePortfolioCsv(again);
    CHECK(strict.rows.empty());
    REQUIRE(strict.errors.size() == 1);
    CHECK(strict.errors[0].message.find("the file looks ';'-separated: try --delimiter ';'") !=
          std::string::npos);
}

TEST_CASE("import format: a statement's dates and times in Mexico City", "[store][import]") {
    CsvFormat format;
    format.dates = DateOrder::kDayFirst;
    std::istringstream in(
        "payment_id,reference,amount,currency,paid_at\n"
        "P1,R1,\"$1,000.00\",MXN,23/11/2026 10:05\n"
        "P2,R2,5,MXN,23/11/2026\n"
        "P3,R3,5,MXN,2026-11-23T10:05:00-06:00\n"
        "P4,R4,5,MXN,23/11/2026 25:00\n"
        "P5,R5,5,MXN,23/11/2026 10:5\n"
        "P6,R6,5,MXN,2026-11-23\n"
        "P7,R7,5,MXN,2026-11-23 :0:00\n"
        "P8,R8,5,MXN,23/11/2026 00:::\n"
        "P9,R9,5,MXN,23/11/2026 1a:00\n");
    const auto parsed = ParsePaymentsCsv(in, format);
    REQUIRE(parsed.rows.size() == 4);
    CHECK(parsed.rows[0].paid_at == "2026-11-23T16:05:00Z");
    CHECK(parsed.rows[0].amount_cents == 100000);
    // A date alone is noon UTC, written either way: the same civil day all over Mexico.
    CHECK(parsed.rows[1].paid_at == "2026-11-23T12:00:00Z");
    CHECK(parsed.rows[2].paid_at == "2026-11-23T16:05:00Z");
    CHECK(parsed.rows[3].paid_at == "2026-11-23T12:00:00Z");
    REQUIRE(parsed.errors.size() == 5);
    CHECK(parsed.errors[0].line == 5);
    CHECK(parsed.errors[0].message.find("nor a date (and time) in Mexico City") !=
          std::string::npos);

    // The webhook's JSON stays strict.
    std::string error;
    CHECK_FALSE(ParsePaymentJson(R"({"payment_id":"P","reference":"R","amount":"$1,000.00",)"
                                 R"("currency":"MXN","paid_at":"2026-11-23T10:05:00Z"})",
                                 error));
    CHECK(error.find("amount") != std::string::npos);
}

}  // namespace
}  // namespace cobrador::store
