#include "channels/whatsapp.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "channels/signature.hpp"

#include "support/catch_result.hpp"

namespace cobrador::channels {
namespace {

using json = nlohmann::json;
constexpr const char* kSecret = "TEST_APP_SECRET";

std::string Sign(const std::string& body) {
    return "sha256=" + HmacSha256Hex(kSecret, body);
}

std::string Envelope(const json& value) {
    return json({{"object", "whatsapp_business_account"},
                 {"entry",
                  {{{"id", "102290129340398"},
                    {"changes", {{{"field", "messages"}, {"value", value}}}}}}}})
        .dump();
}

json Value(const json& messages) {
    return {{"messaging_product", "whatsapp"},
            {"metadata",
             {{"display_phone_number", "15550783881"}, {"phone_number_id", "106540352242922"}}},
            {"contacts", {{{"profile", {{"name", "María"}}}, {"wa_id", "5215512345678"}}}},
            {"messages", messages}};
}

WebhookBatch ParseOk(const std::string& body) {
    auto parsed = ParseWhatsAppWebhook(body, Sign(body), kSecret);
    REQUIRE(parsed);
    return *parsed;
}

TEST_CASE("WhatsApp handshake echoes the challenge only for the right token",
          "[channels][whatsapp]") {
    CHECK(WhatsAppHandshake("hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=tok",
                            "tok") == std::optional<std::string>("1158201444"));
    // Order does not matter; escapes are decoded.
    CHECK(WhatsAppHandshake("hub.verify_token=a%20b&hub.challenge=x-y&hub.mode=subscribe", "a b") ==
          std::optional<std::string>("x-y"));
    CHECK_FALSE(
        WhatsAppHandshake("hub.mode=subscribe&hub.challenge=1&hub.verify_token=nope", "tok"));
    CHECK_FALSE(
        WhatsAppHandshake("hub.mode=unsubscribe&hub.challenge=1&hub.verify_token=tok", "tok"));
    CHECK_FALSE(WhatsAppHandshake("hub.mode=subscribe&hub.challenge=1&hub.verify_token=", ""));
    CHECK_FALSE(
        WhatsAppHandshake("hub_mode=subscribe&hub_challenge=1&hub_verify_token=tok", "tok"));
    CHECK_FALSE(WhatsAppHandshake("hub.mode=subscribe&hub.verify_token=tok", "tok"));
}

TEST_CASE("WhatsApp webhook: Meta's escaped-unicode vector verifies and parses",
          "[channels][whatsapp]") {
    const std::string body =
        R"({"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"contacts":[{"profile":{"name":"Jos\u00e9"},"wa_id":"5215512345678"}],"messages":[{"from":"5215512345678","id":"wamid.TEST1","timestamp":"1750000000","type":"text","text":{"body":"\u00bfCu\u00e1nto debo? 12\/05"}}]},"field":"messages"}]}]})";
    const auto parsed = ParseWhatsAppWebhook(
        body, "sha256=1ff66b7beda9e0c53f4fa4a26db07eaeda8fb355381cb9b8cf236f84a87378b1", kSecret);
    REQUIRE(parsed);
    REQUIRE(parsed->messages.size() == 1);
    const InboundMessage& m = parsed->messages[0];
    CHECK(m.provider_message_id == "wamid.TEST1");
    CHECK(m.from == "+525512345678");
    CHECK(m.to == "106540352242922");
    CHECK(m.profile_name == "José");
    CHECK(m.kind == "text");
    CHECK(m.text == "¿Cuánto debo? 12/05");
    CHECK(m.timestamp == 1750000000);
    CHECK(json::parse(m.raw)["id"] == "wamid.TEST1");
}

TEST_CASE("WhatsApp webhook: a wrong, missing or keyless signature is refused before parsing",
          "[channels][whatsapp]") {
    const std::string body = Envelope(Value(json::array()));
    CHECK(ParseWhatsAppWebhook(body, "", kSecret).error() == WebhookError::kBadSignature);
    CHECK(ParseWhatsAppWebhook(body, Sign(body), "other").error() == WebhookError::kBadSignature);
    CHECK(ParseWhatsAppWebhook(body, Sign(body), "").error() == WebhookError::kBadSignature);
    CHECK(ParseWhatsAppWebhook(body + "\n", Sign(body), kSecret).error() ==
          WebhookError::kBadSignature);
    // Not JSON, but unsigned: still a signature problem, not a parse problem.
    CHECK(ParseWhatsAppWebhook("{{{", "sha256=00", kSecret).error() == WebhookError::kBadSignature);
}

TEST_CASE("WhatsApp webhook: a signed body that is not the envelope is malformed",
          "[channels][whatsapp]") {
    for (const std::string body :
         {"{{{", "[1,2]", "{}", R"({"object":"x","entry":5})", "", "null"}) {
        const auto parsed = ParseWhatsAppWebhook(body, Sign(body), kSecret);
        REQUIRE_FALSE(parsed);
        CHECK(parsed.error() == WebhookError::kMalformed);
    }
    // Invalid UTF-8 inside a string is malformed JSON.
    const std::string bad = "{\"object\":\"\xff\",\"entry\":[]}";
    CHECK(ParseWhatsAppWebhook(bad, Sign(bad), kSecret).error() == WebhookError::kMalformed);
    // A NUL byte after the envelope: the JSON parser would stop there and accept the rest unread.
    std::string trailing = R"({"object":"whatsapp_business_account","entry":[]})";
    trailing += '\0';
    trailing += "}";
    CHECK(ParseWhatsAppWebhook(trailing, Sign(trailing), kSecret).error() ==
          WebhookError::kMalformed);
}

TEST_CASE("WhatsApp webhook: every message kind", "[channels][whatsapp]") {
    const json messages = json::array({
        {{"from", "5215512345678"},
         {"id", "wamid.BTN"},
         {"timestamp", "1750000001"},
         {"type", "interactive"},
         {"context", {{"from", "15550783881"}, {"id", "wamid.MENU"}}},
         {"interactive",
          {{"type", "button_reply"},
           {"button_reply", {{"id", "balance"}, {"title", "Ver saldo"}}}}}},
        {{"from", "5215512345678"},
         {"id", "wamid.LIST"},
         {"timestamp", "1750000002"},
         {"type", "interactive"},
         {"interactive",
          {{"type", "list_reply"},
           {"list_reply",
            {{"id", "plan_3"}, {"title", "3 pagos"}, {"description", "quincenales"}}}}}},
        {{"from", "5215512345678"},
         {"id", "wamid.TPL"},
         {"type", "button"},
         {"context", {{"id", "wamid.TEMPLATE"}}},
         {"button", {{"payload", "case=8841;act=pay"}, {"text", "Pagar"}}}},
        {{"from", "5215512345678"},
         {"id", "wamid.IMG"},
         {"type", "image"},
         {"image", {{"caption", "mi comprobante"}, {"mime_type", "image/jpeg"}, {"id", "123"}}}},
        {{"from", "5215512345678"},
         {"id", "wamid.DOC"},
         {"type", "document"},
         {"document", {{"filename", "pago.pdf"}, {"id", "456"}}}},
        {{"from", "5215512345678"},
         {"id", "wamid.AUD"},
         {"type", "audio"},
         {"audio", {{"id", "789"}, {"voice", true}}}},
        {{"from", "5215512345678"},
         {"id", "wamid.LOC"},
         {"type", "location"},
         {"location", {{"latitude", 19.43}, {"longitude", -99.13}, {"name", "Oficina"}}}},
        {{"from", "5215512345678"},
         {"id", "wamid.UNS"},
         {"type", "unsupported"},
         {"errors", {{{"code", 131051}, {"title", "Message type unknown"}}}}},
        {{"from", "5215512345678"},
         {"id", "wamid.NEW"},
         {"type", "poll_vote_2030"},
         {"poll_vote_2030", {{"choice", 1}}}},
        {{"from", "BR.1502576394655843"},
         {"id", "wamid.BSUID"},
         {"type", "text"},
         {"text", {{"body", "hola"}}}},
    });
    const WebhookBatch batch = ParseOk(Envelope(Value(messages)));
    REQUIRE(batch.messages.size() == 10);
    const auto& m = batch.messages;
    CHECK(m[0].kind == "interactive");
    CHECK(m[0].reply_id == "balance");
    CHECK(m[0].text == "Ver saldo");
    CHECK(m[0].context_id == "wamid.MENU");
    CHECK(m[0].timestamp == 1750000001);
    CHECK(m[1].reply_id == "plan_3");
    CHECK(m[1].text == "3 pagos");
    CHECK(m[2].kind == "button");
    CHECK(m[2].reply_id == "case=8841;act=pay");
    CHECK(m[2].text == "Pagar");
    CHECK(m[2].context_id == "wamid.TEMPLATE");
    CHECK(m[2].timestamp == 0);
    CHECK(m[3].kind == "image");
    CHECK(m[3].text == "mi comprobante");
    CHECK(m[4].kind == "document");
    CHECK(m[4].text.empty());
    CHECK(m[5].kind == "audio");
    CHECK(m[6].kind == "location");
    CHECK(m[6].text == "Oficina");
    CHECK(m[7].kind == "unsupported");
    CHECK(m[8].kind == "poll_vote_2030");
    CHECK(m[9].from == "BR.1502576394655843");  // not a phone: kept as Meta gave it
    for (const auto& one : m) {
        CHECK(one.channel == Channel::kWhatsApp);
        CHECK(one.profile_name == (one.from == "+525512345678" ? "María" : ""));
    }
}

TEST_CASE("WhatsApp webhook: batched entries and changes, statuses with errors, unknown fields",
          "[channels][whatsapp]") {
    json body = json::parse(Envelope(Value(json::array({{{"from", "5215511111111"},
                                                         {"id", "wamid.A"},
                                                         {"type", "text"},
                                                         {"text", {{"body", "a"}}}}}))));
    body["entry"][0]["changes"].push_back(
        {{"field", "messages"},
         {"value",
          {{"messaging_product", "whatsapp"},
           {"metadata", {{"phone_number_id", "106540352242922"}}},
           {"statuses",
            {{{"id", "wamid.OUT1"},
              {"status", "delivered"},
              {"timestamp", "1750000010"},
              {"recipient_id", "5215512345678"},
              {"pricing", {{"billable", true}}}},
             {{"id", "wamid.OUT2"},
              {"status", "failed"},
              {"timestamp", "1750000011"},
              {"recipient_id", "5215512345678"},
              {"errors", {{{"code", 131047}, {"title", "Re-engagement message"}}}}}}}}}});
    body["entry"].push_back({{"id", "other"},
                             {"changes",
                              {{{"field", "messages"},
                                {"value",
                                 Value(json::array({{{"from", "5215522222222"},
                                                     {"id", "wamid.B"},
                                                     {"type", "text"},
                                                     {"brand_new_field", {1, 2}},
                                                     {"text", {{"body", "b"}}}}}))}}}}});
    body["a_new_top_level_field"] = "ignored";
    const WebhookBatch batch = ParseOk(body.dump());
    REQUIRE(batch.messages.size() == 2);
    CHECK(batch.messages[0].provider_message_id == "wamid.A");
    CHECK(batch.messages[0].from == "+525511111111");
    CHECK(batch.messages[1].provider_message_id == "wamid.B");
    REQUIRE(batch.statuses.size() == 2);
    CHECK(batch.statuses[0].status == "delivered");
    CHECK(batch.statuses[0].timestamp == 1750000010);
    CHECK(batch.statuses[0].recipient == "+525512345678");
    CHECK(batch.statuses[0].error_code.empty());
    CHECK(batch.statuses[1].status == "failed");
    CHECK(batch.statuses[1].error_code == "131047");
    CHECK(batch.statuses[1].error_title == "Re-engagement message");
}

OutboundMessage Text(const std::string& text) {
    OutboundMessage m;
    m.to = "+525512345678";
    m.text = text;
    return m;
}

const WhatsAppCredentials kCreds{
    "https://graph.facebook.com/v21.0/", "EAAG-token", "106540352242922"};

TEST_CASE("RenderWhatsApp: text, buttons, list, template, context", "[channels][whatsapp]") {
    auto text = Text("Hola");
    text.reply_to = "wamid.IN";
    auto call = RenderWhatsApp(text, kCreds);
    REQUIRE(call);
    CHECK(call->method == "POST");
    CHECK(call->url == "https://graph.facebook.com/v21.0/106540352242922/messages");
    CHECK(std::find(call->headers.begin(),
                    call->headers.end(),
                    std::pair<std::string, std::string>{"Authorization", "Bearer EAAG-token"}) !=
          call->headers.end());
    json body = json::parse(call->body);
    CHECK(body["messaging_product"] == "whatsapp");
    CHECK(body["to"] == "+525512345678");
    CHECK(body["type"] == "text");
    CHECK(body["text"]["body"] == "Hola");
    CHECK(body["context"]["message_id"] == "wamid.IN");

    auto buttons = Text("¿Qué quieres hacer?");
    buttons.buttons = {{"balance", "Ver saldo"}, {"pay", "Pagar"}, {"human", "Hablar con alguien"}};
    call = RenderWhatsApp(buttons, kCreds);
    REQUIRE(call);
    body = json::parse(call->body);
    CHECK(body["type"] == "interactive");
    CHECK(body["interactive"]["type"] == "button");
    CHECK(body["interactive"]["body"]["text"] == "¿Qué quieres hacer?");
    REQUIRE(body["interactive"]["action"]["buttons"].size() == 3);
    CHECK(body["interactive"]["action"]["buttons"][2]["reply"]["id"] == "human");
    CHECK(body["interactive"]["action"]["buttons"][2]["reply"]["title"] == "Hablar con alguien");
    CHECK_FALSE(body.contains("context"));

    auto list = Text("Elige un plan");
    list.list_button = "Ver planes";
    list.list = {{"plan_2", "2 pagos", "$500.00 cada quincena"}, {"plan_3", "3 pagos", ""}};
    call = RenderWhatsApp(list, kCreds);
    REQUIRE(call);
    body = json::parse(call->body);
    CHECK(body["interactive"]["type"] == "list");
    CHECK(body["interactive"]["action"]["button"] == "Ver planes");
    const json rows = body["interactive"]["action"]["sections"][0]["rows"];
    REQUIRE(rows.size() == 2);
    CHECK(rows[0]["description"] == "$500.00 cada quincena");
    CHECK_FALSE(rows[1].contains("description"));

    auto tmpl = Text("Recordatorio");
    tmpl.template_call = TemplateCall{"recordatorio_pago", "es_MX", {"María", "$1,250.00"}};
    call = RenderWhatsApp(tmpl, kCreds);
    REQUIRE(call);
    body = json::parse(call->body);
    CHECK(body["type"] == "template");
    CHECK(body["template"]["name"] == "recordatorio_pago");
    CHECK(body["template"]["language"]["code"] == "es_MX");
    CHECK(body["template"]["components"][0]["parameters"][1]["text"] == "$1,250.00");
}

TEST_CASE("RenderWhatsApp: the limits are enforced before Meta sees the message",
          "[channels][whatsapp]") {
    CHECK_FALSE(RenderWhatsApp(Text(""), kCreds));
    CHECK(RenderWhatsApp(Text(std::string(4096, 'a')), kCreds));
    CHECK_FALSE(RenderWhatsApp(Text(std::string(4097, 'a')), kCreds));
    // Characters, not bytes: 4096 "á" is 8192 bytes and still fits.
    std::string accents;
    for (int i = 0; i < 4096; ++i) {
        accents += "á";
    }
    CHECK(RenderWhatsApp(Text(accents), kCreds));

    auto four = Text("x");
    four.buttons = {{"a", "A"}, {"b", "B"}, {"c", "C"}, {"d", "D"}};
    CHECK_FALSE(RenderWhatsApp(four, kCreds));
    auto long_title = Text("x");
    long_title.buttons = {{"a", std::string(21, 'x')}};
    CHECK_FALSE(RenderWhatsApp(long_title, kCreds));
    long_title.buttons = {{"a", std::string(20, 'x')}};
    CHECK(RenderWhatsApp(long_title, kCreds));
    auto same = Text("x");
    same.buttons = {{"a", "Sí"}, {"b", "Sí"}};
    CHECK_FALSE(RenderWhatsApp(same, kCreds));
    auto long_body = Text(std::string(1025, 'x'));
    long_body.buttons = {{"a", "A"}};
    CHECK_FALSE(RenderWhatsApp(long_body, kCreds));

    auto rows = Text("x");
    rows.list_button = "Ver";
    for (int i = 0; i < 11; ++i) {
        rows.list.push_back({"r" + std::to_string(i), "Fila " + std::to_string(i), ""});
    }
    CHECK_FALSE(RenderWhatsApp(rows, kCreds));
    rows.list.pop_back();
    CHECK(RenderWhatsApp(rows, kCreds));
    rows.list[0].title = std::string(25, 'x');
    CHECK_FALSE(RenderWhatsApp(rows, kCreds));
    rows.list[0].title = "ok";
    rows.list[0].description = std::string(73, 'x');
    CHECK_FALSE(RenderWhatsApp(rows, kCreds));
    rows.list[0].description = "";
    rows.list_button = std::string(21, 'x');
    CHECK_FALSE(RenderWhatsApp(rows, kCreds));
}

TEST_CASE("InterpretWhatsAppResponse: sent, retry, permanent", "[channels][whatsapp]") {
    auto ok = InterpretWhatsAppResponse(
        200,
        R"({"messaging_product":"whatsapp","contacts":[{"input":"+525512345678","wa_id":"5215512345678"}],"messages":[{"id":"wamid.OUT"}]})");
    CHECK(ok.kind == SendOutcome::Kind::kSent);
    CHECK(ok.provider_message_id == "wamid.OUT");

    auto limited = InterpretWhatsAppResponse(
        400, R"({"error":{"message":"(#131056) pair rate limit","code":131056}})", "7");
    CHECK(limited.kind == SendOutcome::Kind::kRetry);
    CHECK(limited.error_code == "131056");
    REQUIRE(limited.retry_after);
    CHECK(limited.retry_after->count() == 7);

    auto throttled = InterpretWhatsAppResponse(
        429, R"({"error":{"message":"(#130429) Rate limit hit","code":130429}})", "soon");
    CHECK(throttled.kind == SendOutcome::Kind::kRetry);
    CHECK_FALSE(throttled.retry_after);
    CHECK(InterpretWhatsAppResponse(503, "<html>bad gateway</html>").kind ==
          SendOutcome::Kind::kRetry);
    CHECK(InterpretWhatsAppResponse(200, "not json").kind == SendOutcome::Kind::kRetry);

    for (const std::string code : {"131047", "131026", "131050", "190", "100"}) {
        auto permanent = InterpretWhatsAppResponse(
            400, R"({"error":{"message":"no","type":"OAuthException","code":)" + code + "}}");
        CHECK(permanent.kind == SendOutcome::Kind::kPermanent);
        CHECK(permanent.error_code == code);
        CHECK(permanent.error_message == "no");
    }
    auto garbage = InterpretWhatsAppResponse(403, "");
    CHECK(garbage.kind == SendOutcome::Kind::kPermanent);
    CHECK(garbage.error_code == "http_403");
}

}  // namespace
}  // namespace cobrador::channels
