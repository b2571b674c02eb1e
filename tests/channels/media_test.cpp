// Fetching debtors' files: the requests rendered for the Graph API and Twilio, and what the
// bytes really are (channels/media.hpp).

#include "channels/media.hpp"

#include <catch2/catch.hpp>

#include "channels/signature.hpp"
#include "channels/twilio.hpp"
#include "channels/whatsapp.hpp"

#include "support/catch_result.hpp"
#include "support/http_client.hpp"

namespace cobrador::channels {
namespace {

using namespace std::string_literals;

std::string Header(const HttpCall& call, const std::string& name) {
    for (const auto& [n, v] : call.headers) {
        if (n == name) {
            return v;
        }
    }
    return {};
}

// The bytes each format starts with, as a phone would send them.
const std::string kJpeg = "\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01"s + std::string(64, '\x11');
const std::string kPng = "\x89PNG\r\n\x1A\n\x00\x00\x00\x0DIHDR"s + std::string(64, '\x22');
const std::string kPdf = "%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj\n<<>>\nendobj\n"s;
const std::string kOgg = "OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00OpusHead"s;
const std::string kMp4 =
    "\x00\x00\x00\x18"
    "ftypmp42\x00\x00\x00\x00"s +
    std::string(32, '\x33');
const std::string kHtml = "<!doctype html><html><body>Iniciar sesión</body></html>";

TEST_CASE("media: WhatsApp image, document and voice messages carry what to fetch",
          "[channels][media]") {
    const std::string body = R"({"object":"whatsapp_business_account","entry":[{"id":"1",
      "changes":[{"field":"messages","value":{"messaging_product":"whatsapp",
      "metadata":{"phone_number_id":"106540352242922"},
      "messages":[
       {"from":"5215512345678","id":"wamid.A","timestamp":"1795000000","type":"image",
        "image":{"caption":"mi comprobante","mime_type":"image/jpeg","sha256":"abc","id":"1481"}},
       {"from":"5215512345678","id":"wamid.B","timestamp":"1795000001","type":"document",
        "document":{"filename":"pago.pdf","mime_type":"application/pdf","id":"2962"}},
       {"from":"5215512345678","id":"wamid.C","timestamp":"1795000002","type":"audio",
        "audio":{"mime_type":"audio/ogg; codecs=opus","id":"3907","voice":true}},
       {"from":"5215512345678","id":"wamid.D","timestamp":"1795000003","type":"sticker",
        "sticker":{"mime_type":"image/webp","id":"4011","animated":false}},
       {"from":"5215512345678","id":"wamid.E","timestamp":"1795000004","type":"image",
        "image":{"mime_type":"image/jpeg"}}]}}]}]})";
    const auto batch =
        ParseWhatsAppWebhook(body, "sha256=" + HmacSha256Hex("secret", body), "secret");
    REQUIRE(batch);
    const auto& m = batch->messages;
    REQUIRE(m.size() == 5);
    REQUIRE(m[0].media.size() == 1);
    CHECK(m[0].kind == "image");
    CHECK(m[0].text == "mi comprobante");
    CHECK(m[0].media[0].kind == "image");
    CHECK(m[0].media[0].id == "1481");
    CHECK(m[0].media[0].mime_type == "image/jpeg");
    CHECK_FALSE(m[0].media[0].voice);
    REQUIRE(m[1].media.size() == 1);
    CHECK(m[1].media[0].filename == "pago.pdf");
    REQUIRE(m[2].media.size() == 1);
    CHECK(m[2].media[0].voice);
    CHECK(m[2].media[0].kind == "audio");
    CHECK(m[3].media.at(0).kind == "sticker");
    CHECK(m[4].media.empty());  // no id: nothing to fetch
}

TEST_CASE("media: Twilio MMS gives each file URL and type, and the kind follows the first",
          "[channels][media]") {
    const std::string url = "https://cobrador.example.com/webhooks/twilio";
    const std::vector<std::pair<std::string, std::string>> params = {
        {"MessageSid", "MM5a6b"},
        {"From", "+525512345678"},
        {"Body", ""},
        {"NumMedia", "2"},
        {"MediaUrl0", "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM5a6b/Media/ME1"},
        {"MediaContentType0", "image/jpeg"},
        {"MediaUrl1", "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM5a6b/Media/ME2"},
        {"MediaContentType1", "application/pdf"}};
    const auto batch = ParseTwilioWebhook(
        testing::FormEncode(params), TwilioSignature(url, params, "tok"), url, "tok");
    REQUIRE(batch);
    const auto& m = batch->messages.at(0);
    CHECK(m.kind == "image");
    REQUIRE(m.media.size() == 2);
    CHECK(m.media[0].url.ends_with("/Media/ME1"));
    CHECK(m.media[1].kind == "document");
    CHECK(m.media[1].mime_type == "application/pdf");

    // A lying count reads only the files that are there, and at most Twilio's ten.
    auto lying = params;
    lying[3].second = "99999";
    const auto read = ParseTwilioWebhook(
        testing::FormEncode(lying), TwilioSignature(url, lying, "tok"), url, "tok");
    REQUIRE(read);
    CHECK(read->messages.at(0).media.size() == 2);
}

TEST_CASE("media: the Graph API's two steps, with the token, and only for plain ids",
          "[channels][media]") {
    const auto info = WhatsAppMediaInfoCall("https://graph.facebook.com/v21.0/", "EAAG", "1481");
    REQUIRE(info);
    CHECK(info->method == "GET");
    CHECK(info->url == "https://graph.facebook.com/v21.0/1481");
    CHECK(Header(*info, "Authorization") == "Bearer EAAG");
    CHECK_FALSE(WhatsAppMediaInfoCall("https://graph.facebook.com/v21.0", "EAAG", "../me"));
    CHECK_FALSE(WhatsAppMediaInfoCall("https://graph.facebook.com/v21.0", "EAAG", "1?x=1"));
    CHECK_FALSE(WhatsAppMediaInfoCall("https://graph.facebook.com/v21.0", "EAAG", ""));

    std::string why;
    const auto parsed = ParseWhatsAppMediaInfo(
        R"({"messaging_product":"whatsapp","url":"https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1481&ext=1&hash=x","mime_type":"image/jpeg","sha256":"81d3","file_size":"303833","id":"1481"})",
        why);
    REQUIRE(parsed);
    CHECK(parsed->url.starts_with("https://lookaside.fbsbx.com/"));
    CHECK(parsed->size == 303833);
    CHECK(parsed->sha256 == "81d3");
    const auto download = WhatsAppMediaDownloadCall(parsed->url, "EAAG");
    CHECK(download.url == parsed->url);
    CHECK(Header(download, "Authorization") == "Bearer EAAG");

    CHECK_FALSE(ParseWhatsAppMediaInfo(R"j({"url":"javascript:alert(1)"})j", why));
    CHECK_FALSE(ParseWhatsAppMediaInfo(R"({"url":"ftp://x/y"})", why));
    CHECK_FALSE(ParseWhatsAppMediaInfo(R"({"id":"1481"})", why));
    CHECK_FALSE(ParseWhatsAppMediaInfo("<html>", why));
    CHECK_FALSE(why.empty());
    // A file size as a number is read too; a silly one is not a size.
    CHECK(ParseWhatsAppMediaInfo(R"({"url":"https://x/y","file_size":12})", why)->size == 12);
    CHECK_FALSE(ParseWhatsAppMediaInfo(R"({"url":"https://x/y","file_size":"-3"})", why)->size);
}

TEST_CASE("media: Twilio's credentials go only to Twilio's API host", "[channels][media]") {
    std::string why;
    const auto call = TwilioMediaCall("https://api.twilio.com",
                                      "AC1",
                                      "secret",
                                      "https://api.twilio.com/2010-04-01/Accounts/AC1/Media/ME1",
                                      why);
    REQUIRE(call);
    CHECK(Header(*call, "Authorization") == "Basic QUMxOnNlY3JldA==");  // AC1:secret
    CHECK_FALSE(TwilioMediaCall(
        "https://api.twilio.com", "AC1", "secret", "https://evil.example.com/Media/ME1", why));
    CHECK(why.find("api.twilio.com") != std::string::npos);
    CHECK_FALSE(TwilioMediaCall(
        "https://api.twilio.com", "AC1", "secret", "http://api.twilio.com/Media/ME1", why));
    CHECK_FALSE(TwilioMediaCall(
        "https://api.twilio.com", "AC1", "secret", "https://api.twilio.com.evil.com/x", why));
    CHECK_FALSE(TwilioMediaCall("https://api.twilio.com", "AC1", "secret", "not a url", why));
}

TEST_CASE("media: the bytes say what a file is, whatever its name says", "[channels][media]") {
    CHECK(SniffContentType(kJpeg) == "image/jpeg");
    CHECK(SniffContentType(kPng) == "image/png");
    CHECK(SniffContentType("RIFF\x10\x00\x00\x00WEBPVP8 "s) == "image/webp");
    CHECK(SniffContentType("GIF89a\x01\x00"s) == "image/gif");
    CHECK(SniffContentType(kPdf) == "application/pdf");
    CHECK(SniffContentType(kOgg) == "audio/ogg");
    CHECK(SniffContentType("#!AMR\n"s) == "audio/amr");
    CHECK(SniffContentType("ID3\x04\x00"s) == "audio/mpeg");
    CHECK(SniffContentType(kMp4) == "video/mp4");
    CHECK(SniffContentType("\x00\x00\x00\x14"
                           "ftyp3gp4"s) == "video/3gpp");
    CHECK(SniffContentType(kHtml).empty());
    CHECK(SniffContentType("").empty());
    CHECK(SniffContentType("\xFF\xD8"s).empty());  // cut short

    CHECK(ContentFitsKind("image", "image/jpeg"));
    CHECK(ContentFitsKind("sticker", "image/webp"));
    CHECK(ContentFitsKind("document", "application/pdf"));
    CHECK(ContentFitsKind("document", "image/png"));  // a screenshot sent as a document
    CHECK(ContentFitsKind("audio", "audio/ogg"));
    CHECK(ContentFitsKind("audio", "video/mp4"));  // iPhone audio in an MP4 box
    CHECK(ContentFitsKind("video", "video/mp4"));
    CHECK_FALSE(ContentFitsKind("image", ""));  // an HTML page served as image/jpeg
    CHECK_FALSE(ContentFitsKind("image", "application/pdf"));
    CHECK_FALSE(ContentFitsKind("audio", "image/jpeg"));
    CHECK_FALSE(ContentFitsKind("video", "audio/ogg"));

    CHECK(MediaKindOf("image/jpeg") == "image");
    CHECK(MediaKindOf("audio/ogg; codecs=opus") == "audio");
    CHECK(MediaKindOf("application/pdf") == "document");
}

TEST_CASE("media: the provider's SHA-256, as hex or base64, must match the bytes",
          "[channels][media]") {
    const std::string hex = Sha256Hex(kJpeg);
    CHECK(Sha256Matches(kJpeg, hex));
    std::string upper = hex;
    for (char& c : upper) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    CHECK(Sha256Matches(kJpeg, upper));
    CHECK(Sha256Matches(kJpeg, ""));  // nothing declared
    CHECK_FALSE(Sha256Matches(kPng, hex));
    // Base64 of the same 32 bytes: what WhatsApp's webhooks carry.
    std::string raw;
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        raw.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    }
    const std::string b64 = testing::Base64(raw);
    CHECK(Sha256Matches(kJpeg, b64));
    CHECK_FALSE(Sha256Matches(kPng, b64));
    CHECK_FALSE(Sha256Matches(kJpeg, "not a hash"));
}

}  // namespace
}  // namespace cobrador::channels
