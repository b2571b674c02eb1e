#include "dialogs/phone.hpp"

#include <catch2/catch.hpp>

namespace cobrador::dialogs {
namespace {

TEST_CASE("NormalizePhone: Mexican numbers with and without the mobile 1", "[dialogs][phone]") {
    // The same person, however the number is written.
    for (const char* written : {"+525512345678",
                                "+52 55 1234 5678",
                                "+52 1 55 1234 5678",
                                "+5215512345678",
                                "+52 (55) 1234-5678",
                                "0052 55 1234 5678",
                                "+52.55.1234.5678"}) {
        INFO(written);
        CHECK(NormalizePhone(written) == "+525512345678");
    }
}

TEST_CASE("NormalizePhone: other countries keep their digits", "[dialogs][phone]") {
    CHECK(NormalizePhone("+1 (212) 555-0101") == "+12125550101");
    CHECK(NormalizePhone("+34 612 345 678") == "+34612345678");
    CHECK(NormalizePhone("+57 300 123 4567") == "+573001234567");
}

TEST_CASE("NormalizePhone: refuses what is not E.164", "[dialogs][phone]") {
    for (const char* bad : {"",
                            "+",
                            "5512345678",           // no country code
                            "+52 55 1234 567",      // 9 national digits in Mexico
                            "+52 1 55 1234 56789",  // too long for Mexico
                            "+0 123 456 789",       // country code cannot start with 0
                            "+1 012 555 0101",      // NANP area code cannot start with 0
                            "+1 212 555 010",       // NANP needs 10 digits
                            "+1234567",             // fewer than 8 digits
                            "+1234567890123456",    // more than 15
                            "+52 55 1234 ABCD",
                            "52+5512345678",
                            "++525512345678",
                            "+52 55 1234 5678 ext 9",
                            "tel:+525512345678",
                            "+５２５５１２３４５６７８"}) {
        INFO(bad);
        CHECK_FALSE(NormalizePhone(bad).has_value());
    }
}

TEST_CASE("NormalizePhone: numbers as providers report them may lack the plus",
          "[dialogs][phone]") {
    // WhatsApp's wa_id and some Twilio fields carry no "+"; the same rules apply otherwise.
    CHECK(NormalizePhone("5215512345678", PhoneSource::kProvider) == "+525512345678");
    CHECK(NormalizePhone("525512345678", PhoneSource::kProvider) == "+525512345678");
    CHECK(NormalizePhone("+12125550101", PhoneSource::kProvider) == "+12125550101");
    CHECK(NormalizePhone("12125550101", PhoneSource::kProvider) == "+12125550101");
    CHECK_FALSE(NormalizePhone("52551234567", PhoneSource::kProvider));  // 9 national digits
    CHECK_FALSE(NormalizePhone("1234567", PhoneSource::kProvider));
    CHECK_FALSE(NormalizePhone("whatsapp:abc", PhoneSource::kProvider));
    // A person must write the country code with its "+" (or "00").
    CHECK_FALSE(NormalizePhone("5215512345678"));
}

TEST_CASE("RedactPhone: keeps the country and the last two digits", "[dialogs][phone]") {
    CHECK(RedactPhone("+525512345678") == "+52********78");
    CHECK(RedactPhone("+12125550101") == "+1********01");
    CHECK(RedactPhone("+1") == "***");
}

}  // namespace
}  // namespace cobrador::dialogs

namespace cobrador::dialogs {
namespace {

TEST_CASE("RedactPhonesIn: numbers in a provider's words, and nothing else", "[dialogs][phone]") {
    CHECK(RedactPhonesIn("The 'To' number +5215512345678 is not a valid phone number.") ==
          "The 'To' number +52*********78 is not a valid phone number.");
    CHECK(RedactPhonesIn("(#131030) Recipient 5215512345678 not in allowed list") ==
          "(#131030) Recipient +52*********78 not in allowed list");
    CHECK(RedactPhonesIn("to +52 1 55 1234 5678, from +1 212-555-0101.") ==
          "to +52*********78, from +1********01.");
    CHECK(RedactPhonesIn("US 12125550101 here") == "US +1********01 here");
    // Ids, amounts, CLABEs, references and claves stay.
    const std::string kept =
        "payment 1319000001 of 1500.00 to 646180110400000007 ref 0000018 clave "
        "MBAN01002611230012345678, order ord_5215512345678, HTTP 400, +12";
    CHECK(RedactPhonesIn(kept) == kept);
    CHECK(RedactPhonesIn("") == "");
    CHECK(RedactPhonesIn("+") == "+");
    CHECK(RedactPhonesIn("+5215512345678") == "+52*********78");
}

}  // namespace
}  // namespace cobrador::dialogs
