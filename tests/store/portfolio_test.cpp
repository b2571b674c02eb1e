#include "store/portfolio.hpp"

#include <sstream>

#include <catch2/catch.hpp>

namespace cobrador::store {
namespace {

const std::string kHeader = "account_id,debtor_name,phone,birth_date,balance,currency,due_date\n";

ParsedPortfolio Parse(const std::string& text) {
    std::istringstream in(text);
    return ParsePortfolioCsv(in);
}

// The single error a one-bad-row file gives; fails the test when there is not exactly one.
RowError OnlyError(const std::string& rows) {
    const auto parsed = Parse(kHeader + rows);
    REQUIRE(parsed.errors.size() == 1);
    return parsed.errors[0];
}

TEST_CASE("Portfolio: a good file with optional columns", "[store][portfolio]") {
    const auto parsed = Parse(
        "account_id,debtor_name,phone,birth_date,balance,currency,due_date,debtor_id,locale,"
        "timezone,segment,product,min_payment,email,extra_column\n"
        "A1,\"López, María\",+52 1 55 1234 5678,1985-03-15,12345.67,MXN,2026-10-01,D1,es-MX,"
        "America/Tijuana,consumo,tarjeta,500,maria@example.com,ignored\n"
        "A2,\"López, María\",+525512345678,1985-03-15,100,MXN,2026-12-01,D1,es-MX,"
        "America/Tijuana,consumo,préstamo,,maria@example.com,\n"
        "A3,Emily Johnson,+12125550101,1990-12-24,0.5,USD,2026-11-01,,en-US,,,,,,\n");
    REQUIRE(parsed.errors.empty());
    REQUIRE(parsed.rows.size() == 3);
    const PortfolioRow& a1 = parsed.rows[0];
    CHECK(a1.line == 2);
    CHECK(a1.debtor_name == "López, María");
    CHECK(a1.phone == "+525512345678");
    CHECK(a1.balance_cents == 1234567);
    CHECK(a1.min_payment_cents == 50000);
    CHECK(a1.timezone == "America/Tijuana");
    CHECK(parsed.rows[1].debtor_id == "D1");
    CHECK_FALSE(parsed.rows[1].min_payment_cents);
    const PortfolioRow& a3 = parsed.rows[2];
    CHECK(a3.debtor_id == "+12125550101");  // derived from the phone
    CHECK(a3.locale == "en-US");
    CHECK(a3.timezone == "America/Mexico_City");  // the default
    CHECK(a3.balance_cents == 50);
}

TEST_CASE("Portfolio: each kind of bad row says its line and why", "[store][portfolio]") {
    const std::string good_tail = ",1985-03-15,100.00,MXN,2026-10-01\n";
    SECTION("bad E.164 phone") {
        const auto e = OnlyError("A1,Ana,5512345678" + good_tail);
        CHECK(e.line == 2);
        CHECK(e.message.find("phone") == 0);
        CHECK(e.message.find("E.164") != std::string::npos);
    }
    SECTION("bad date") {
        const auto e = OnlyError("A1,Ana,+525512345678,1985-02-30,100.00,MXN,2026-10-01\n");
        CHECK(e.message.find("birth_date") == 0);
        const auto due = OnlyError("A1,Ana,+525512345678,1985-02-03,100.00,MXN,01/10/2026\n");
        CHECK(due.message.find("due_date") == 0);
    }
    SECTION("negative amount") {
        const auto e = OnlyError("A1,Ana,+525512345678,1985-03-15,-100.00,MXN,2026-10-01\n");
        CHECK(e.message.find("balance") == 0);
        CHECK(e.message.find("negative") != std::string::npos);
    }
    SECTION("malformed amount") {
        // "$1,234.56" is how Mexican files write amounts and reads (import_format_test.cpp).
        for (const char* amount : {"1.234,56", "12.345", "abc", "100$", "1e3", "1,23"}) {
            INFO(amount);
            const auto e = OnlyError(std::string("A1,Ana,+525512345678,1985-03-15,\"") + amount +
                                     "\",MXN,2026-10-01\n");
            CHECK(e.message.find("balance") == 0);
        }
    }
    SECTION("unknown currency") {
        const auto e = OnlyError("A1,Ana,+525512345678,1985-03-15,100,PESOS,2026-10-01\n");
        CHECK(e.message.find("currency") == 0);
    }
    SECTION("missing value in a required column") {
        const auto e = OnlyError("A1,,+525512345678,1985-03-15,100,MXN,2026-10-01\n");
        CHECK(e.message.find("debtor_name") == 0);
    }
    SECTION("wrong number of fields") {
        const auto e = OnlyError("A1,Ana,+525512345678,1985-03-15,100,MXN\n");
        CHECK(e.message.find("expected 7 fields, found 6") != std::string::npos);
    }
    SECTION("the same account twice with different data") {
        const auto parsed = Parse(kHeader + "A1,Ana,+525512345678" + good_tail +
                                  "A1,Ana,+525512345678,1985-03-15,200.00,MXN,2026-10-01\n");
        REQUIRE(parsed.errors.size() == 1);
        CHECK(parsed.errors[0].line == 3);
        CHECK(parsed.errors[0].message.find("line 2") != std::string::npos);
    }
    SECTION("the same account twice with the same data is one account") {
        const auto parsed = Parse(kHeader + "A1,Ana,+525512345678" + good_tail +
                                  "A1,Ana,+525512345678" + good_tail);
        CHECK(parsed.errors.empty());
        CHECK(parsed.rows.size() == 1);
        CHECK(parsed.duplicate_rows == 1);
    }
    SECTION("one debtor with two birth dates") {
        const auto parsed = Parse(kHeader + "A1,Ana,+525512345678" + good_tail +
                                  "A2,Ana,+525512345678,1986-03-15,100.00,MXN,2026-10-01\n");
        REQUIRE(parsed.errors.size() == 1);
        CHECK(parsed.errors[0].message.find("birth_date") == 0);
    }
    SECTION("unsupported locale and time zone") {
        const auto parsed = Parse(
            "account_id,debtor_name,phone,birth_date,balance,currency,due_date,locale,timezone\n"
            "A1,Ana,+525512345678,1985-03-15,1,MXN,2026-10-01,fr-FR,CST\n");
        REQUIRE(parsed.errors.size() == 2);
        CHECK(parsed.errors[0].message.find("locale") == 0);
        CHECK(parsed.errors[1].message.find("timezone") == 0);
    }
}

TEST_CASE("Portfolio: header problems", "[store][portfolio]") {
    SECTION("missing required column") {
        const auto parsed = Parse(
            "account_id,debtor_name,phone,birth_date,balance,due_date\n"
            "A1,Ana,+525512345678,1985-03-15,1,2026-10-01\n");
        REQUIRE(parsed.errors.size() == 1);
        CHECK(parsed.errors[0].line == 1);
        CHECK(parsed.errors[0].message.find("'currency'") != std::string::npos);
        CHECK(parsed.rows.empty());
    }
    SECTION("a column twice") {
        const auto parsed =
            Parse("account_id,debtor_name,phone,birth_date,balance,currency,due_date,phone\n");
        REQUIRE_FALSE(parsed.errors.empty());
        CHECK(parsed.errors[0].message.find("twice") != std::string::npos);
    }
    SECTION("an empty file") {
        const auto parsed = Parse("");
        REQUIRE(parsed.errors.size() == 1);
        CHECK(parsed.errors[0].message.find("empty") != std::string::npos);
    }
}

TEST_CASE("Portfolio: every bad row is reported, not just the first", "[store][portfolio]") {
    const auto parsed = Parse(kHeader +
                              "A1,Ana,+525512345678,1985-03-15,1,MXN,2026-10-01\n"
                              "A2,Bea,bad,1985-03-15,1,MXN,2026-10-01\n"
                              "A3,Cy,+525512345679,1985-03-15,1,MXN,2026-10-01\n"
                              "A4,Di,+525512345670,1985-03-15,x,MXN,2026-10-01\n");
    REQUIRE(parsed.errors.size() == 2);
    CHECK(parsed.errors[0].line == 3);
    CHECK(parsed.errors[1].line == 5);
}

TEST_CASE("Portfolio: blank lines are skipped, control characters refused", "[store][portfolio]") {
    const auto parsed = Parse(kHeader + "\nA1,Ana,+525512345678,1985-03-15,1,MXN,2026-10-01\n\n");
    CHECK(parsed.errors.empty());
    CHECK(parsed.rows.size() == 1);
    const auto bad = Parse(kHeader + "A1,\"Ana\x07\",+525512345678,1985-03-15,1,MXN,2026-10-01\n");
    REQUIRE(bad.errors.size() == 1);
    CHECK(bad.errors[0].message.find("control") != std::string::npos);
}

TEST_CASE("Portfolio: progress is reported for large files", "[store][portfolio]") {
    std::string text = kHeader;
    for (int i = 0; i < 25'000; ++i) {
        text += "A" + std::to_string(i) + ",Ana,+5255" + std::to_string(10000000 + i) +
                ",1985-03-15,1,MXN,2026-10-01\n";
    }
    std::istringstream in(text);
    std::vector<std::size_t> seen;
    const auto parsed =
        ParsePortfolioCsv(in, {}, [&](std::size_t rows, std::uint64_t) { seen.push_back(rows); });
    CHECK(parsed.errors.empty());
    CHECK(parsed.rows.size() == 25'000);
    CHECK(seen == std::vector<std::size_t>{10'000, 20'000, 25'000});
}

}  // namespace
}  // namespace cobrador::store
