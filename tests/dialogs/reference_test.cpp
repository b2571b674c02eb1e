#include "dialogs/reference.hpp"

#include <catch2/catch.hpp>

namespace cobrador::dialogs {
namespace {

TEST_CASE("Luhn: the published example", "[dialogs][reference]") {
    // collections-mexico.md §3.5: payload 7992739871 -> 3; BBVA Algoritmo 00 is the same.
    CHECK(LuhnCheckDigit("7992739871") == 3);
    CHECK(LuhnCheckDigit("18000359700002387") == 1);
    CHECK_FALSE(LuhnCheckDigit(""));
    CHECK_FALSE(LuhnCheckDigit("12a4"));
}

TEST_CASE("PaymentReference: stable, seven digits, checked", "[dialogs][reference]") {
    CHECK(PaymentReference(4217) == std::optional<std::string>("0042176"));  // §3.7's example
    CHECK(PaymentReference(4217) == PaymentReference(4217));
    CHECK(PaymentReference(1)->size() == 7);
    CHECK(PaymentReference(999999)->size() == 7);
    CHECK(PaymentReference(1000000)->size() == 8);
    CHECK_FALSE(PaymentReference(0));
    CHECK_FALSE(PaymentReference(-5));
    for (std::int64_t id : {1, 42, 4217, 123456, 999999, 1000000, 987654321}) {
        CHECK(AccountFromReference(*PaymentReference(id)) == id);
    }
}

TEST_CASE("AccountFromReference: typos and transpositions are caught", "[dialogs][reference]") {
    CHECK(AccountFromReference("004217-6") == 4217);
    CHECK(AccountFromReference("0042 176") == 4217);
    CHECK_FALSE(AccountFromReference("0042175"));  // wrong check digit
    CHECK_FALSE(AccountFromReference("0041276"));  // two digits swapped
    CHECK_FALSE(AccountFromReference("0042716"));
    CHECK_FALSE(AccountFromReference("00042176"));  // not the canonical form
    CHECK_FALSE(AccountFromReference("0000000"));
    CHECK_FALSE(AccountFromReference("42176"));
    CHECK_FALSE(AccountFromReference("ABC1234"));
    CHECK_FALSE(AccountFromReference(""));
}

TEST_CASE("CLABE: the check digit with weights 3, 7, 1", "[dialogs][reference]") {
    // collections-mexico.md §3.1's worked examples.
    CHECK(ClabeCheckDigit("03218000011835971") == 9);
    CHECK(IsValidClabe("032180000118359719"));
    CHECK(ClabeCheckDigit("00201007777777777") == 1);
    CHECK(IsValidClabe("002010077777777771"));
    CHECK_FALSE(IsValidClabe("032180000118539719"));  // adjacent digits swapped
    CHECK_FALSE(IsValidClabe("032180000118359718"));
    CHECK_FALSE(IsValidClabe("03218000011835971"));
    CHECK_FALSE(IsValidClabe("03218000011835971X"));
}

TEST_CASE("SPEI concept and payment link", "[dialogs][reference]") {
    CHECK(SpeiConcept("0042176") == "PAGO REF 0042176");
    CHECK(SpeiConcept(std::string(60, '9')).size() <= 40);
    CHECK(PaymentLink("https://pagos.example.mx/r/{reference}?monto={amount}",
                      "0042176",
                      "1500.00") == "https://pagos.example.mx/r/0042176?monto=1500.00");
    CHECK(PaymentLink("https://x/{reference}/{reference}", "1", "2") == "https://x/1/1");
}

}  // namespace
}  // namespace cobrador::dialogs

namespace cobrador::dialogs {
namespace {

TEST_CASE("Per-debtor CLABEs in the creditor's STP range", "[dialogs][reference]") {
    // Cuenca's STP tests generate 646180157099999993 and 646180157000000004 in the range
    // 6461801570 (payments-providers.md §5.1): the same check digits come out here.
    CHECK(AccountClabe("6461801570", 9999999) == "646180157099999993");
    CHECK(AccountFromClabe("6461801570", "646180157099999993") == 9999999);
    CHECK(AccountFromClabe("6461801570", "646180157000000004") == std::nullopt);  // id 0
    CHECK(AccountClabe("6461801570", 10000000) == std::nullopt);                  // does not fit
    CHECK(AccountClabe("6461801570", 0) == std::nullopt);
    CHECK(AccountClabe("64", 1) == std::nullopt);
    CHECK(AccountClabe("64618015x0", 1) == std::nullopt);
    const auto clabe = AccountClabe("6461801570", 42);
    REQUIRE(clabe);
    CHECK(IsValidClabe(*clabe));
    CHECK(AccountFromClabe("6461801570", *clabe) == 42);
    // Another range, a mistyped digit, not a CLABE: no account.
    CHECK(AccountFromClabe("6461801571", *clabe) == std::nullopt);
    std::string typo = *clabe;
    typo[12] = typo[12] == '9' ? '8' : '9';
    CHECK(AccountFromClabe("6461801570", typo) == std::nullopt);
    CHECK(AccountFromClabe("6461801570", "abc") == std::nullopt);
}

}  // namespace
}  // namespace cobrador::dialogs
