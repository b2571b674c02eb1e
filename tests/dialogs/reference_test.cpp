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
