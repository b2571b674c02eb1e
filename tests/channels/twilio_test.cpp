#include "channels/twilio.hpp"

#include <map>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/catch_result.hpp"
#include "support/http_client.hpp"

namespace cobrador::channels {
namespace {

using Params = std::vector<std::pair<std::string, std::string>>;

const Params kVectorParams = {{"CallSid", "CA1234567890ABCDE"},
                              {"Caller", "+14158675309"},
                              {"Digits", "1234"},
                              {"From", "+14158675309"},
                              {"To", "+18005551212"}};

TEST_CASE("TwilioSignature: the published vectors", "[channels][twilio]") {
    // domain/channels.md §6.1 (twilio-node and twilio-python tests).
    const std::string url = "https://mycompany.com/myapp.php?foo=1&bar=2";
    CHECK(TwilioSignature(url, kVectorParams, "12345") == "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
    CHECK(TwilioSignature("https://mycompany.com:443/myapp.php?foo=1&bar=2",
                          kVectorParams,
                          "12345") == "kvajT1Ptam85bY51eRf/AJRuM3w=");
    CHECK(TwilioSignature("http://mycompany.com:80/myapp.php?foo=1&bar=2",
                          kVectorParams,
                          "12345") == "0ZXoZLH/DfblKGATFgpif+LLRf4=");
    CHECK(TwilioSignature("http://mycompany.com:1234/myapp.php?foo=1&bar=2",
                          kVectorParams,
                          "12345") == "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=");
    // Multi-valued names: values deduplicated and sorted.
    CHECK(TwilioSignature(url,
                          {{"Sid", "CA123"},
                           {"SidAccount", "AC123"},
                           {"Digits", "5678"},
                           {"Digits", "1234"},
                           {"Digits", "1234"}},
                          "12345") == "IK+Dwps556ElfBT0I3Rgjkr1wJU=");
}

TEST_CASE("ParseTwilioWebhook: the Spanish SMS vector verifies and parses", "[channels][twilio]") {
    const Params params = {{"ToCountry", "US"},
                           {"SmsMessageSid", "SM0123456789abcdef0123456789abcdef"},
                           {"NumMedia", "0"},
                           {"ToCity", ""},
                           {"FromZip", ""},
                           {"SmsSid", "SM0123456789abcdef0123456789abcdef"},
                           {"FromState", ""},
                           {"SmsStatus", "received"},
                           {"FromCity", ""},
                           {"Body", "¿Cuánto debo? Pagaré mañana"},
                           {"FromCountry", "MX"},
                           {"To", "+15005550006"},
                           {"ToZip", ""},
                           {"NumSegments", "1"},
                           {"MessageSid", "SM0123456789abcdef0123456789abcdef"},
                           {"AccountSid", "AC0123456789abcdef0123456789abcdef"},
                           {"From", "+5215512345678"},
                           {"ApiVersion", "2010-04-01"}};
    const std::string url = "https://example.com/twilio/sms";
    CHECK(TwilioSignature(url, params, "12345") == "KxpHoBn3k/3tM9i6r+iKGadT2Es=");
    const std::string body = testing::FormEncode(params);
    const auto parsed = ParseTwilioWebhook(body, "KxpHoBn3k/3tM9i6r+iKGadT2Es=", url, "12345");
    REQUIRE(parsed);
    REQUIRE(parsed->messages.size() == 1);
    CHECK(parsed->statuses.empty());
    const InboundMessage& m = parsed->messages[0];
    CHECK(m.channel == Channel::kSms);
    CHECK(m.provider_message_id == "SM0123456789abcdef0123456789abcdef");
    CHECK(m.from == "+525512345678");
    CHECK(m.to == "+15005550006");
    CHECK(m.kind == "text");
    CHECK(m.text == "¿Cuánto debo? Pagaré mañana");
    CHECK(nlohmann::json::parse(m.raw)["FromCountry"] == "MX");
    // The same request against the URL with :443 also verifies (Twilio's libraries accept both).
    CHECK(ParseTwilioWebhook(
        body, "KxpHoBn3k/3tM9i6r+iKGadT2Es=", "https://example.com:443/twilio/sms", "12345"));
    // Anything else does not.
    CHECK(ParseTwilioWebhook(body, "KxpHoBn3k/3tM9i6r+iKGadT2Es=", url, "54321").error() ==
          WebhookError::kBadSignature);
    CHECK(ParseTwilioWebhook(
              body, "KxpHoBn3k/3tM9i6r+iKGadT2Es=", "https://example.com/twilio/sms?x=1", "12345")
              .error() == WebhookError::kBadSignature);
    CHECK(ParseTwilioWebhook(body + "&Extra=1", "KxpHoBn3k/3tM9i6r+iKGadT2Es=", url, "12345")
              .error() == WebhookError::kBadSignature);
    CHECK(ParseTwilioWebhook(body, "", url, "12345").error() == WebhookError::kBadSignature);
    CHECK(ParseTwilioWebhook(body, "KxpHoBn3k/3tM9i6r+iKGadT2Es=", url, "").error() ==
          WebhookError::kBadSignature);
}

TEST_CASE("ParseTwilioWebhook: status callbacks, media, and signed nonsense",
          "[channels][twilio]") {
    const std::string url = "https://cobrador.example.com/webhooks/twilio/status";
    const auto parse = [&](const Params& params) {
        return ParseTwilioWebhook(
            testing::FormEncode(params), TwilioSignature(url, params, "tok"), url, "tok");
    };
    auto status = parse({{"MessageSid", "SM1"},
                         {"MessageStatus", "undelivered"},
                         {"ErrorCode", "30003"},
                         {"To", "+525512345678"},
                         {"From", "+15005550006"}});
    REQUIRE(status);
    REQUIRE(status->statuses.size() == 1);
    CHECK(status->messages.empty());
    CHECK(status->statuses[0].channel == Channel::kSms);
    CHECK(status->statuses[0].status == "failed");
    CHECK(status->statuses[0].error_code == "30003");
    CHECK(status->statuses[0].recipient == "+525512345678");
    for (const auto& [twilio, ours] : std::map<std::string, std::string>{{"sent", "sent"},
                                                                         {"delivered", "delivered"},
                                                                         {"queued", "queued"},
                                                                         {"sending", "queued"},
                                                                         {"failed", "failed"},
                                                                         {"read", "read"}}) {
        auto one = parse({{"MessageSid", "SM2"}, {"MessageStatus", twilio}});
        REQUIRE(one);
        CHECK(one->statuses.at(0).status == ours);
    }
    auto media = parse({{"MessageSid", "MM1"},
                        {"From", "+525512345678"},
                        {"Body", ""},
                        {"NumMedia", "1"},
                        {"MediaUrl0", "https://api.twilio.com/x"},
                        {"MediaContentType0", "image/jpeg"}});
    REQUIRE(media);
    CHECK(media->messages.at(0).kind == "image");
    CHECK(media->messages.at(0).media.at(0).url == "https://api.twilio.com/x");
    auto no_sid = parse({{"From", "+525512345678"}, {"Body", "hola"}});
    REQUIRE_FALSE(no_sid);
    CHECK(no_sid.error() == WebhookError::kMalformed);
}

TEST_CASE("ParseForm: '+' is a space, escapes decode, bad escapes and bad UTF-8 fail",
          "[channels][twilio]") {
    auto form = ParseForm("Body=Hola+mundo%21&Empty=&From=%2B525512345678&Acc=%C3%A1");
    REQUIRE(form);
    REQUIRE(form->size() == 4);
    CHECK((*form)[0] == std::pair<std::string, std::string>{"Body", "Hola mundo!"});
    CHECK((*form)[1].second.empty());
    CHECK((*form)[2].second == "+525512345678");
    CHECK((*form)[3].second == "á");
    CHECK(ParseForm("")->empty());
    // A view into a larger buffer (a query inside a request target) ends where it ends.
    const std::string target = "hub.mode=subscribe&hub.challenge=42 HTTP/1.1";
    const auto cut = ParseForm(std::string_view(target).substr(0, target.find(' ')));
    REQUIRE(cut);
    REQUIRE(cut->size() == 2);
    CHECK((*cut)[1].second == "42");
    CHECK_FALSE(ParseForm("Body=%ZZ"));
    CHECK_FALSE(ParseForm("Body=%4"));
    CHECK_FALSE(ParseForm("Body=%FF%FE"));
    CHECK_FALSE(ParseForm("Body=%C3"));
    CHECK_FALSE(ParseForm("Body=%ED%A0%80"));  // a UTF-16 surrogate
}

const TwilioCredentials kCreds{"https://api.twilio.com",
                               "AC123",
                               "secret-token",
                               "+15005550006",
                               "https://cobrador.example.com/webhooks/twilio/status"};

TEST_CASE("RenderTwilio: form body, Basic auth, numbered options, 1600 limit",
          "[channels][twilio]") {
    OutboundMessage m;
    m.channel = Channel::kSms;
    m.to = "+525512345678";
    m.text = "¿Qué quieres hacer?";
    m.buttons = {{"balance", "Ver saldo"}, {"pay", "Pagar"}};
    m.list = {{"human", "Hablar con alguien", ""}};
    auto call = RenderTwilio(m, kCreds);
    REQUIRE(call);
    CHECK(call->url == "https://api.twilio.com/2010-04-01/Accounts/AC123/Messages.json");
    // base64("AC123:secret-token")
    CHECK(std::find(call->headers.begin(),
                    call->headers.end(),
                    std::pair<std::string, std::string>{
                        "Authorization", "Basic QUMxMjM6c2VjcmV0LXRva2Vu"}) != call->headers.end());
    auto form = ParseForm(call->body);
    REQUIRE(form);
    std::map<std::string, std::string> fields(form->begin(), form->end());
    CHECK(fields["To"] == "+525512345678");
    CHECK(fields["From"] == "+15005550006");
    CHECK(fields["Body"] == "¿Qué quieres hacer?\n1. Ver saldo\n2. Pagar\n3. Hablar con alguien");
    CHECK(fields["StatusCallback"] == "https://cobrador.example.com/webhooks/twilio/status");

    OutboundMessage big;
    big.to = "+525512345678";
    big.text = std::string(1600, 'a');
    CHECK(RenderTwilio(big, kCreds));
    big.text += "a";
    CHECK_FALSE(RenderTwilio(big, kCreds));
    big.text.clear();
    CHECK_FALSE(RenderTwilio(big, kCreds));
}

TEST_CASE("InterpretTwilioResponse: sent, retry, permanent", "[channels][twilio]") {
    auto ok =
        InterpretTwilioResponse(201, R"({"sid":"SMabc","status":"queued","error_code":null})");
    CHECK(ok.kind == SendOutcome::Kind::kSent);
    CHECK(ok.provider_message_id == "SMabc");
    auto busy =
        InterpretTwilioResponse(429, R"({"code":20429,"message":"Too Many Requests"})", "3");
    CHECK(busy.kind == SendOutcome::Kind::kRetry);
    CHECK(busy.error_code == "20429");
    REQUIRE(busy.retry_after);
    CHECK(busy.retry_after->count() == 3);
    CHECK(InterpretTwilioResponse(500, "oops").kind == SendOutcome::Kind::kRetry);
    auto stop = InterpretTwilioResponse(
        400,
        R"({"code":21610,"message":"Attempt to send to unsubscribed recipient","status":400})");
    CHECK(stop.kind == SendOutcome::Kind::kPermanent);
    CHECK(stop.error_code == "21610");
    CHECK(stop.error_message == "Attempt to send to unsubscribed recipient");
    CHECK(InterpretTwilioResponse(401, "").error_code == "http_401");
}

TEST_CASE("SmsSegments: GSM-7 and UCS-2 budgets", "[channels][twilio]") {
    CHECK(SmsSegments("") == 1);
    CHECK(SmsSegments(std::string(160, 'a')) == 1);
    CHECK(SmsSegments(std::string(161, 'a')) == 2);
    CHECK(SmsSegments(std::string(306, 'a')) == 2);
    CHECK(SmsSegments(std::string(307, 'a')) == 3);
    // ñ, é, ¿ are in GSM-7; á is not, and makes the whole message UCS-2.
    std::string spanish = "¿Pagaré mañana?";
    CHECK(SmsSegments(spanish + std::string(160 - 15, 'a')) == 1);
    CHECK(SmsSegments("á" + std::string(69, 'a')) == 1);
    CHECK(SmsSegments("á" + std::string(70, 'a')) == 2);
    CHECK(SmsSegments("á" + std::string(133, 'a')) == 2);
    CHECK(SmsSegments("á" + std::string(134, 'a')) == 3);
    // Extension characters cost two septets.
    CHECK(SmsSegments("€" + std::string(158, 'a')) == 1);
    CHECK(SmsSegments("{" + std::string(159, 'a')) == 2);
}

}  // namespace
}  // namespace cobrador::channels
