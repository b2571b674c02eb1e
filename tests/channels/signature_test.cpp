#include "channels/signature.hpp"

#include <catch2/catch.hpp>

namespace cobrador::channels {
namespace {

TEST_CASE("HmacSha256Hex: published X-Hub-Signature-256 vectors", "[channels][signature]") {
    // WhatsApp-Nodejs-SDK's test and the Elixir whatsapp_sdk docs (domain/channels.md §6.2).
    CHECK(HmacSha256Hex("TEST_APP_SECRET", "test") ==
          "0c61947b610d4f45e65f3d680e26027121ec2413e77598bcb6cfc6e0d9888221");
    CHECK(HmacSha256Hex("secret", "test") ==
          "0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914");
}

TEST_CASE("VerifySha256Header: over the raw bytes, escapes and all", "[channels][signature]") {
    // domain/channels.md §1.2: Meta signs the body as sent, with \u escapes and \/.
    const std::string body =
        R"({"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"contacts":[{"profile":{"name":"Jos\u00e9"},"wa_id":"5215512345678"}],"messages":[{"from":"5215512345678","id":"wamid.TEST1","timestamp":"1750000000","type":"text","text":{"body":"\u00bfCu\u00e1nto debo? 12\/05"}}]},"field":"messages"}]}]})";
    REQUIRE(body.size() == 448);
    const std::string header =
        "sha256=1ff66b7beda9e0c53f4fa4a26db07eaeda8fb355381cb9b8cf236f84a87378b1";
    CHECK(VerifySha256Header("TEST_APP_SECRET", body, header));
    CHECK_FALSE(VerifySha256Header("TEST_APP_SECRET", body + " ", header));
    CHECK_FALSE(VerifySha256Header("OTHER_SECRET", body, header));
    CHECK_FALSE(VerifySha256Header("", body, header));
    CHECK_FALSE(VerifySha256Header("TEST_APP_SECRET", body, header.substr(7)));
    CHECK_FALSE(VerifySha256Header(
        "TEST_APP_SECRET", body, "sha1=1ff66b7beda9e0c53f4fa4a26db07eaeda8fb355381cb9b8"));
    CHECK_FALSE(VerifySha256Header("TEST_APP_SECRET", body, "sha256="));
}

TEST_CASE("HmacSha1Base64: Twilio's documented example", "[channels][signature]") {
    // Twilio's old docs example (domain/channels.md §6.1): URL + sorted name/value pairs.
    const std::string signed_text =
        "https://mycompany.com/myapp.php?foo=1&bar=2"
        "CallSidCA1234567890ABCDECaller+12349013030Digits1234From+12349013030To+18005551212";
    CHECK(HmacSha1Base64("12345", signed_text) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
}

TEST_CASE("ConstantTimeEquals compares whole strings", "[channels][signature]") {
    CHECK(ConstantTimeEquals("abc", "abc"));
    CHECK_FALSE(ConstantTimeEquals("abc", "abd"));
    CHECK_FALSE(ConstantTimeEquals("abc", "ab"));
    CHECK(ConstantTimeEquals("", ""));
}

TEST_CASE("Sha256Hex", "[channels][signature]") {
    CHECK(Sha256Hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

}  // namespace
}  // namespace cobrador::channels
