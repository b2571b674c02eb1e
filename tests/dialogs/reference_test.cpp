#include "dialogs/reference.hpp"

#include <algorithm>
#include <array>
#include <string_view>

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

TEST_CASE("Damm: the published example and its table's properties", "[dialogs][reference]") {
    // Damm (2004), as Wikipedia works it: 572 -> 4, and 5724 checks to 0.
    CHECK(DammCheckDigit("572") == 4);
    CHECK(DammCheckDigit("5724") == 0);
    CHECK(DammCheckDigit("004217") == 7);
    CHECK_FALSE(DammCheckDigit(""));
    CHECK_FALSE(DammCheckDigit("12a4"));
    CHECK_FALSE(DammCheckDigit("-1"));
}

TEST_CASE("PaymentReference: stable, seven digits, Damm-checked", "[dialogs][reference]") {
    CHECK(PaymentReference(4217) == std::optional<std::string>("0042177"));
    CHECK(PaymentReference(4217) == PaymentReference(4217));
    CHECK(PaymentReference(1)->size() == 7);
    CHECK(PaymentReference(999999)->size() == 7);
    CHECK(PaymentReference(1000000)->size() == 8);
    CHECK_FALSE(PaymentReference(0));
    CHECK_FALSE(PaymentReference(-5));
    for (std::int64_t id : {1, 42, 4217, 123456, 999999, 1000000, 987654321}) {
        CHECK(AccountFromReference(*PaymentReference(id)) == id);
        CHECK(AccountFromLegacyReference(*LegacyPaymentReference(id)) == id);
        CHECK(AccountFromAnyReference(*PaymentReference(id)) == id);
        CHECK(AccountFromAnyReference(*LegacyPaymentReference(id)) == id);
    }
    // The reference before December 2026 (Luhn), still read during the transition.
    CHECK(LegacyPaymentReference(4217) == std::optional<std::string>("0042176"));
    CHECK(AccountFromLegacyReference("0042176") == 4217);
    CHECK_FALSE(AccountFromReference("0042176"));
    CHECK_FALSE(AccountFromLegacyReference("0042177"));
}

TEST_CASE("AccountFromReference: typos and transpositions are caught", "[dialogs][reference]") {
    CHECK(AccountFromReference("004217-7") == 4217);
    CHECK(AccountFromReference("0042 177") == 4217);
    CHECK_FALSE(AccountFromReference("0042175"));  // wrong check digit
    CHECK_FALSE(AccountFromReference("0041277"));  // two digits swapped
    CHECK_FALSE(AccountFromReference("0042717"));
    CHECK_FALSE(AccountFromReference("00042177"));  // not the canonical form
    CHECK_FALSE(AccountFromReference("0000000"));
    CHECK_FALSE(AccountFromReference("42177"));
    CHECK_FALSE(AccountFromReference("ABC1234"));
    CHECK_FALSE(AccountFromReference(""));
    // What Luhn let through: 09 <-> 90 turned account 90's reference into account 9's.
    CHECK(LegacyPaymentReference(90) == std::optional<std::string>("0000901"));
    CHECK(AccountFromLegacyReference("0000091") == 9);
    CHECK(PaymentReference(90) == std::optional<std::string>("0000904"));
    CHECK_FALSE(AccountFromReference("0000094"));
}

// Every seven-digit reference there is (accounts 1 to 999,999): each single mistyped digit and
// each swap of two adjacent different digits, the check digit's place included, is refused.
// Sanitizer builds, which check memory and races rather than arithmetic, take every 97th.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr std::int64_t kEvery = 97;
#else
constexpr std::int64_t kEvery = 1;
#endif

TEST_CASE("Damm references: every single-digit error and adjacent transposition is caught",
          "[dialogs][reference]") {
    std::int64_t references = 0;
    std::int64_t errors = 0;
    std::int64_t missed = 0;
    std::int64_t luhn_missed = 0;
    std::array<char, 7> typo{};
    const auto valid = [&] {
        return DammCheckDigit(std::string_view(typo.data(), 7)) == 0;
    };
    for (std::int64_t id = 1; id <= 999999; id += kEvery) {
        const std::string reference = *PaymentReference(id);
        const std::string legacy = *LegacyPaymentReference(id);
        if (reference.size() != 7 || legacy.size() != 7) {
            continue;
        }
        ++references;
        for (std::size_t at = 0; at < 7; ++at) {
            std::copy(reference.begin(), reference.end(), typo.begin());
            for (char digit = '0'; digit <= '9'; ++digit) {
                if (digit != reference[at]) {
                    typo[at] = digit;
                    ++errors;
                    missed += valid() ? 1 : 0;
                }
            }
            typo[at] = reference[at];
            if (at + 1 < 7 && reference[at] != reference[at + 1]) {
                std::swap(typo[at], typo[at + 1]);
                ++errors;
                missed += valid() ? 1 : 0;
            }
            if (at + 1 < 7 && legacy[at] != legacy[at + 1]) {
                std::copy(legacy.begin(), legacy.end(), typo.begin());
                std::swap(typo[at], typo[at + 1]);
                luhn_missed +=
                    LuhnCheckDigit(std::string_view(typo.data(), 6)) == typo[6] - '0' ? 1 : 0;
            }
        }
    }
    CHECK(references == (999999 + kEvery - 1) / kEvery);
    CHECK(errors > references * 60);
    CHECK(missed == 0);
    // The reason for the change: Luhn let about one adjacent swap in 45 through.
    CHECK(luhn_missed * 20 > references);
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
    CHECK(SpeiConcept("0042177") == "PAGO REF 0042177");
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
