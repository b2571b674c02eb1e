// End to end over loopback: the files debtors send on WhatsApp and by MMS are fetched after the
// webhook is answered, checked, kept in the ledger and shown to collectors with their token;
// what cannot be fetched says why. The Graph API and Twilio are fakes speaking their real
// protocols (the media id's URL, then the file with the token; Basic credentials, a redirect
// to storage).

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "dialogs/reference.hpp"

#include "e2e_support.hpp"
#include "webdriver.hpp"

namespace cobrador::testing {
namespace {

using json = nlohmann::json;
using namespace std::string_literals;

const std::string kPng = "\x89PNG\r\n\x1A\n\x00\x00\x00\x0DIHDR\x00\x00\x00\x01\x00\x00\x00\x01"s +
                         std::string(200, '\x42');
const std::string kOgg =
    "OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00OpusHead"s + std::string(300, '\x07');
const std::string kPdf = "%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n"s;

ScriptedAnswer Scripted(unsigned status, std::string body) {
    ScriptedAnswer a;
    a.status = status;
    a.body = std::move(body);
    return a;
}

// A WhatsApp webhook body with one message of `type` carrying media `id`.
std::string WhatsAppMedia(const std::string& wamid,
                          const std::string& type,
                          const std::string& media_id,
                          const std::string& mime,
                          const std::string& caption = {}) {
    json media = {{"id", media_id}, {"mime_type", mime}, {"sha256", "ignored-here"}};
    if (!caption.empty()) {
        media["caption"] = caption;
    }
    if (type == "audio") {
        media["voice"] = true;
    }
    return WhatsAppMessage(wamid, kWaId, type, media);
}

// Meta's Graph API: sends, media ids and their files. Each media id maps to what its file is.
struct Graph {
    struct File {
        std::string bytes;
        unsigned info_status = 200;  // the answer to GET /{media-id}
        bool declare_size = true;
        int failures = 0;  // answer 503 to the first this many info requests
    };

    std::mutex mutex;
    std::map<std::string, File> files;
    std::map<std::string, int> asked;
    std::atomic<int> sent{0};
    FakeProvider fake{[this](const RecordedRequest& r, std::size_t) {
        return Answer(r);
    }};

    ScriptedAnswer Answer(const RecordedRequest& r) {
        if (r.method == "POST") {
            return GraphAccepted("wamid.OUT" + std::to_string(++sent));
        }
        if (r.headers.count("authorization") == 0 ||
            r.headers.at("authorization") != "Bearer "s + kAccessToken) {
            return Scripted(401,
                            R"({"error":{"message":"Invalid OAuth access token","code":190}})");
        }
        const std::lock_guard lock(mutex);
        if (r.target.rfind("/files/", 0) == 0) {
            const std::string id = r.target.substr(7, r.target.find('?') - 7);
            return {200, files.at(id).bytes, {{"Content-Type", "image/jpeg"}}};
        }
        const std::string id = r.target.substr(r.target.rfind('/') + 1);
        const auto it = files.find(id);
        if (it == files.end()) {
            return Scripted(
                404,
                R"({"error":{"message":"Unsupported get request. Object with ID does not exist","code":100}})");
        }
        if (asked[id]++ < it->second.failures) {
            return Scripted(503,
                            R"({"error":{"message":"Service temporarily unavailable","code":2}})");
        }
        json info = {{"messaging_product", "whatsapp"},
                     {"url", fake.BaseUrl() + "/files/" + id + "?ext=1&hash=ATtZ"},
                     {"mime_type", "image/jpeg"},
                     {"sha256", channels::Sha256Hex(it->second.bytes)},
                     {"id", id}};
        if (it->second.declare_size) {
            info["file_size"] = std::to_string(it->second.bytes.size());
        }
        return Scripted(it->second.info_status, info.dump());
    }
};

struct MediaDesk {
    Graph graph;
    std::atomic<int> sms{0};
    std::vector<std::string> redirected_auth;  // the Authorization each storage GET carried
    std::mutex mutex;
    FakeProvider twilio{[this](const RecordedRequest& r, std::size_t) {
        return Twilio(r);
    }};
    Setup setup{&graph.fake, &twilio};
    std::unique_ptr<Child> server;
    std::string collector;
    Api api{0};

    ScriptedAnswer Twilio(const RecordedRequest& r) {
        if (r.method == "POST") {
            return TwilioAccepted("SM" + std::to_string(++sms));
        }
        if (r.target.rfind("/storage/", 0) == 0) {
            const std::lock_guard lock(mutex);
            redirected_auth.push_back(
                r.headers.count("authorization") != 0 ? r.headers.at("authorization") : "");
            return {200, kPdf, {{"Content-Type", "application/pdf"}}};
        }
        const std::string basic = "Basic " + Base64(std::string(kTwilioSid) + ":" + kTwilioToken);
        if (r.headers.count("authorization") == 0 || r.headers.at("authorization") != basic) {
            return Scripted(401, R"({"code":20003,"message":"Authenticate"})");
        }
        if (r.target.find("/Media/ME404") != std::string::npos) {
            return Scripted(404,
                            R"({"code":20404,"message":"The requested resource was not found"})");
        }
        // Twilio sends the file from its storage: a redirect, followed without credentials.
        return {307, "", {{"Location", "/storage/ME1?X-Amz-Signature=abc"}}};
    }

    MediaDesk() {
        ImportMariaAndPedro(setup);
        collector = AddAgent(setup.db, "Ana Ruiz", "collector");
        setup.env["COBRADOR_TODAY"] = "2026-11-23";
        setup.env["COBRADOR_MEDIA_MAX_BYTES"] = "4096";
    }

    void Start() {
        server = setup.Start();
        api.port = setup.port;
    }

    void Post(const std::string& body, const std::string& wamid) {
        REQUIRE(PostWhatsApp(setup.port, body).status == 200);
        setup.WaitFor(
            "SELECT count(*) FROM inbound_events WHERE processed_at IS NOT NULL AND "
            "provider_event_id = '" +
                wamid + "'",
            "1");
    }

    void Say(const std::string& wamid, const std::string& text) {
        Post(WhatsAppText(wamid, kWaId, text), wamid);
    }

    // The status of the file message `wamid` carried, once it is no longer pending.
    std::string Settled(const std::string& wamid) {
        const std::string sql =
            "SELECT f.status FROM media f JOIN messages m ON m.id = f.message_id WHERE "
            "m.provider_message_id = '" +
            wamid + "'";
        const auto deadline = std::chrono::steady_clock::now() + 20s;
        std::string status;
        while (std::chrono::steady_clock::now() < deadline) {
            status = setup.Query(sql);
            if (status != "pending" && status != "<null>") {
                return status;
            }
            std::this_thread::sleep_for(50ms);
        }
        FAIL("the file of " << wamid << " is still " << status);
        return status;
    }

    std::string MediaId(const std::string& wamid) {
        return setup.Query(
            "SELECT f.id FROM media f JOIN messages m ON m.id = f.message_id WHERE "
            "m.provider_message_id = '" +
            wamid + "'");
    }

    // The texts the Graph API was asked to send, in order.
    std::vector<std::string> SentTexts() {
        std::vector<std::string> out;
        for (const auto& r : graph.fake.Requests()) {
            if (r.method == "POST") {
                const auto body = json::parse(r.body);
                out.push_back(body.contains("text")
                                  ? body["text"]["body"].get<std::string>()
                                  : body["interactive"]["body"]["text"].get<std::string>());
            }
        }
        return out;
    }
};

TEST_CASE(
    "media e2e: a receipt photo is fetched, kept, shown to the collector, and waits for a "
    "person",
    "[bot][media][e2e]") {
    MediaDesk desk;
    const std::string png = desk.setup.dir.File("comprobante.png");
    RenderReceipt(png,
                  {"Banorte",
                   "Importe: $12,345.67",
                   "Fecha de operación: 23/11/2026",
                   "Clave de rastreo: 072011234567890123",
                   "Cuenta destino: 646180110400000007",
                   "Referencia numérica: 1000187"});
    const std::string receipt = ReadFile(png);
    desk.graph.files["1001"] = {receipt};
    desk.setup.env["COBRADOR_MEDIA_MAX_BYTES"] = "1048576";
    desk.Start();
    desk.Say("wamid.IN1", "hola");
    desk.Say("wamid.IN2", "15/03/1985");
    desk.Post(WhatsAppMedia("wamid.IN3", "image", "1001", "image/jpeg", "ya pagué"), "wamid.IN3");

    CHECK(desk.Settled("wamid.IN3") == "stored");
    const std::string id = desk.MediaId("wamid.IN3");
    CHECK(desk.setup.Query("SELECT content_type FROM media WHERE id = " + id) == "image/png");
    CHECK(desk.setup.Query("SELECT size_bytes FROM media WHERE id = " + id) ==
          std::to_string(receipt.size()));
    CHECK(desk.setup.Query("SELECT sha256 FROM media WHERE id = " + id) ==
          channels::Sha256Hex(receipt));
    // Then read as a receipt (OCR in a child process), for the person who checks it.
    desk.setup.WaitFor("SELECT status FROM receipts WHERE media_id = " + id, "read", 60s);
    CHECK(desk.setup.Query("SELECT amount_cents FROM receipts WHERE media_id = " + id) ==
          "1234567");
    CHECK(desk.setup.Query("SELECT operation_date FROM receipts WHERE media_id = " + id) ==
          "2026-11-23");
    CHECK(desk.setup.Query("SELECT engine FROM receipts WHERE media_id = " + id) == "ocr");
    // The conversation waits for a person, who is told why.
    desk.setup.WaitFor("SELECT state FROM conversations WHERE phone = '+525512345678'",
                       "escalated");
    CHECK(desk.setup
              .Query("SELECT detail FROM audit_log WHERE kind = 'escalated' ORDER BY id "
                     "DESC LIMIT 1")
              .find("receipt_review") != std::string::npos);
    desk.graph.fake.WaitForRequests(5);  // 3 replies, the media id, the file
    const auto texts = desk.SentTexts();
    REQUIRE_FALSE(texts.empty());
    CHECK(texts.back().find("recibimos tu comprobante") != std::string::npos);

    // The collector sees it in the transcript, and gets the bytes with the token only.
    const std::string conversation =
        desk.setup.Query("SELECT id FROM conversations WHERE phone = '+525512345678'");
    const json detail = desk.api.Get("/api/v1/conversations/" + conversation, desk.collector);
    json file;
    for (const auto& m : detail["messages"]) {
        if (!m["media"].empty()) {
            file = m["media"][0];
            CHECK(m["text"] == "ya pagué");
        }
    }
    REQUIRE(file.is_object());
    CHECK(file["status"] == "stored");
    CHECK(file["kind"] == "image");
    CHECK(file["content_type"] == "image/png");
    CHECK(file["url"] == "/api/v1/media/" + id);
    REQUIRE(file["receipt"].is_object());
    CHECK(file["receipt"]["status"] == "read");
    CHECK(file["receipt"]["fields"]["amount"] == "12345.67");
    CHECK(file["receipt"]["fields"]["reference"] == "1000187");
    CHECK(file["receipt"]["fields"]["beneficiary_account"] == "646180110400000007");
    const auto got = desk.api.Call("GET", "/api/v1/media/" + id, desk.collector);
    CHECK(got.status == 200);
    CHECK(got.body == receipt);
    CHECK(got.headers.at("content-type") == "image/png");
    CHECK(got.headers.at("x-content-type-options") == "nosniff");
    CHECK(got.headers.at("content-disposition") ==
          "inline; filename=\"cobrador-media-" + id + ".png\"");
    CHECK(got.headers.at("cache-control").find("no-store") != std::string::npos);
    CHECK(desk.api.Call("GET", "/api/v1/media/" + id, "").status == 401);
    CHECK(desk.api.Call("GET", "/api/v1/media/" + id, "cbr_wrong").status == 401);
    CHECK(desk.api.Call("GET", "/api/v1/media/99999", desk.collector).status == 404);
    CHECK(desk.api.Call("GET", "/api/v1/media/abc", desk.collector).status == 404);

    // The token went to the Graph API with the media id, and to the file's URL.
    int info = 0;
    int download = 0;
    for (const auto& r : desk.graph.fake.Requests()) {
        if (r.method == "GET") {
            CHECK(r.headers.at("authorization") == "Bearer "s + kAccessToken);
            info += r.target == "/v21.0/1001" ? 1 : 0;
            download += r.target.rfind("/files/1001", 0) == 0 ? 1 : 0;
        }
    }
    CHECK(info == 1);
    CHECK(download == 1);

    // The same webhook again changes nothing: one message, one file.
    REQUIRE(PostWhatsApp(desk.setup.port,
                         WhatsAppMedia("wamid.IN3", "image", "1001", "image/jpeg", "ya pagué"))
                .status == 200);
    std::this_thread::sleep_for(300ms);
    CHECK(desk.setup.Query("SELECT count(*) FROM media") == "1");
}

TEST_CASE("media e2e: files that cannot be kept say why, and a failed fetch is retried",
          "[bot][media][e2e]") {
    MediaDesk desk;
    desk.graph.files["2001"] = {"<!doctype html><html><body>Inicia sesión</body></html>"};
    desk.graph.files["2003"] = {std::string(5000, 'x')};  // declared too large
    desk.graph.files["2004"] = {"\xFF\xD8\xFF"s + std::string(6000, '\x01'), 200, false};
    desk.graph.files["2005"] = {kPng, 200, true, 1};  // the first ask fails
    desk.Start();
    desk.Say("wamid.IN1", "hola");
    desk.Say("wamid.IN2", "15/03/1985");
    desk.Post(WhatsAppMedia("wamid.IN3", "image", "2001", "image/jpeg"), "wamid.IN3");
    desk.Post(WhatsAppMedia("wamid.IN4", "image", "2002", "image/jpeg"), "wamid.IN4");
    desk.Post(WhatsAppMedia("wamid.IN5", "document", "2003", "application/pdf"), "wamid.IN5");
    desk.Post(WhatsAppMedia("wamid.IN6", "image", "2004", "image/jpeg"), "wamid.IN6");
    desk.Post(WhatsAppMedia("wamid.IN7", "image", "2005", "image/jpeg"), "wamid.IN7");

    // An HTML page served as image/jpeg is refused; the bytes are not kept.
    CHECK(desk.Settled("wamid.IN3") == "refused");
    CHECK(desk.setup.Query("SELECT content IS NULL FROM media WHERE id = " +
                           desk.MediaId("wamid.IN3")) == "1");
    CHECK(desk.setup.Query("SELECT last_error FROM media WHERE id = " + desk.MediaId("wamid.IN3"))
              .find("not a known image") != std::string::npos);
    // A media id WhatsApp does not know (expired after its 7 days) is recorded as such.
    CHECK(desk.Settled("wamid.IN4") == "expired");
    // Over COBRADOR_MEDIA_MAX_BYTES, whether the Graph API says so or the download shows it.
    CHECK(desk.Settled("wamid.IN5") == "too_large");
    CHECK(desk.Settled("wamid.IN6") == "too_large");
    CHECK(desk.setup.Query("SELECT count(*) FROM media WHERE content IS NOT NULL") == "0");
    // A fetch that failed is tried again (5 s later) and then kept.
    CHECK(desk.Settled("wamid.IN7") == "stored");
    CHECK(desk.setup.Query("SELECT attempts FROM media WHERE id = " + desk.MediaId("wamid.IN7")) ==
          "2");

    // The collector is told why, and asking for the bytes says they are not there.
    const std::string conversation =
        desk.setup.Query("SELECT id FROM conversations WHERE phone = '+525512345678'");
    const json detail = desk.api.Get("/api/v1/conversations/" + conversation, desk.collector);
    std::map<std::string, json> by_status;
    for (const auto& m : detail["messages"]) {
        for (const auto& f : m["media"]) {
            by_status[f["status"].get<std::string>()] = f;
        }
    }
    REQUIRE(by_status.count("refused") == 1);
    CHECK_FALSE(by_status["refused"]["detail"].is_null());
    REQUIRE(by_status.count("expired") == 1);
    const auto refused =
        desk.api.Call("GET", "/api/v1/media/" + desk.MediaId("wamid.IN3"), desk.collector);
    CHECK(refused.status == 409);
    CHECK(Code(refused) == "media_refused");
    // The metric counts each outcome.
    const auto metrics = HttpRequest(desk.setup.port, "GET", "/metrics");
    CHECK(metrics.body.find("cobrador_media_total{channel=\"whatsapp\",result=\"too_large\"} 2") !=
          std::string::npos);
    CHECK(metrics.body.find("cobrador_media_total{channel=\"whatsapp\",result=\"retry\"} 1") !=
          std::string::npos);
}

TEST_CASE("media e2e: voice notes get one answer and are kept for the collector",
          "[bot][media][e2e]") {
    MediaDesk desk;
    desk.graph.files["3001"] = {kOgg};
    desk.graph.files["3002"] = {kOgg};
    desk.Start();
    desk.Say("wamid.IN1", "hola");
    desk.Say("wamid.IN2", "15/03/1985");
    // The greeting and the menu are out before the voice notes come.
    desk.setup.WaitFor("SELECT count(*) FROM outbox WHERE status <> 'pending'", "2");
    const std::size_t before = desk.SentTexts().size();
    REQUIRE(before == 2);
    desk.Post(WhatsAppMedia("wamid.IN3", "audio", "3001", "audio/ogg; codecs=opus"), "wamid.IN3");
    desk.Post(WhatsAppMedia("wamid.IN4", "audio", "3002", "audio/ogg; codecs=opus"), "wamid.IN4");
    CHECK(desk.Settled("wamid.IN3") == "stored");
    CHECK(desk.Settled("wamid.IN4") == "stored");
    CHECK(desk.setup.Query("SELECT voice FROM media WHERE id = " + desk.MediaId("wamid.IN3")) ==
          "1");
    CHECK(desk.setup.Query("SELECT content_type FROM media WHERE id = " +
                           desk.MediaId("wamid.IN4")) == "audio/ogg");
    desk.setup.WaitFor("SELECT count(*) FROM outbox WHERE status <> 'pending'",
                       std::to_string(before + 1));
    const auto texts = desk.SentTexts();
    REQUIRE(texts.size() == before + 1);
    CHECK(texts.back().find("no puedo escuchar audios") != std::string::npos);
    CHECK(desk.setup.Query("SELECT state FROM conversations WHERE phone = '+525512345678'") ==
          "bot");
}

TEST_CASE(
    "media e2e: an MMS file comes from Twilio with its credentials, and from storage "
    "without them",
    "[bot][media][e2e]") {
    MediaDesk desk;
    desk.Start();
    const std::string base =
        desk.twilio.BaseUrl() + "/2010-04-01/Accounts/" + kTwilioSid + "/Messages/MM5a6b/Media/";
    const std::vector<std::pair<std::string, std::string>> fields = {
        {"MessageSid", "MM5a6b"},
        {"AccountSid", kTwilioSid},
        {"From", "+525587654321"},
        {"To", "+15005550006"},
        {"Body", "comprobante"},
        {"NumMedia", "2"},
        {"MediaUrl0", base + "ME1"},
        {"MediaContentType0", "application/pdf"},
        {"MediaUrl1", base + "ME404"},
        {"MediaContentType1", "image/jpeg"}};
    REQUIRE(PostTwilio(desk.setup.port, "/webhooks/twilio", fields).status == 200);
    desk.setup.WaitFor("SELECT count(*) FROM media WHERE status <> 'pending' AND channel = 'sms'",
                       "2");
    CHECK(desk.setup.Joined("SELECT status FROM media ORDER BY id") == "stored,expired");
    CHECK(desk.setup.Query("SELECT content_type FROM media ORDER BY id LIMIT 1") ==
          "application/pdf");
    {
        const std::lock_guard lock(desk.mutex);
        REQUIRE(desk.redirected_auth.size() == 1);
        CHECK(desk.redirected_auth[0].empty());  // the credentials stay with Twilio
    }
    // A media URL on another host is refused without a request, and the secret goes nowhere.
    FakeProvider elsewhere{[](const RecordedRequest&, std::size_t) {
        return Scripted(200, kPdf);
    }};
    auto other = fields;
    other[0].second = "MM7c8d";
    other[5].second = "1";
    other[6].second = elsewhere.BaseUrl() + "/Media/ME9";
    other.resize(8);
    REQUIRE(PostTwilio(desk.setup.port, "/webhooks/twilio", other).status == 200);
    desk.setup.WaitFor("SELECT count(*) FROM media WHERE status = 'refused'", "1");
    CHECK(elsewhere.Requests().empty());
}

// Banxico's CEP portal as it answers (payments-providers.md §6): valida.do takes the form and
// answers an HTML page, in Latin-1, that either offers the download (with a session cookie) or
// says "Operación no encontrada"; descarga.do?formato=XML, in that session, answers the CEP.
// The portal matches every criterion, the amount included: a receipt showing another amount is
// "not found", as at Banxico.
struct FakeCep {
    struct Transfer {
        std::string fecha;  // DD-MM-YYYY
        std::string clave;
        std::string emisor;
        std::string receptor;
        std::string cuenta;
        std::int64_t cents = 0;
    };

    std::mutex mutex;
    std::vector<Transfer> transfers;
    std::map<std::string, Transfer> sessions;
    int unavailable = 0;  // answer 503 to this many requests first
    FakeProvider fake{[this](const RecordedRequest& r, std::size_t) {
        return Answer(r);
    }};

    static std::map<std::string, std::string> Form(const std::string& body) {
        std::map<std::string, std::string> out;
        std::size_t at = 0;
        while (at <= body.size()) {
            const auto end = std::min(body.find('&', at), body.size());
            const std::string pair = body.substr(at, end - at);
            const auto eq = pair.find('=');
            if (eq != std::string::npos) {
                std::string value;
                for (std::size_t i = eq + 1; i < pair.size(); ++i) {
                    if (pair[i] == '+') {
                        value += ' ';
                    } else if (pair[i] == '%' && i + 2 < pair.size()) {
                        value += static_cast<char>(std::stoi(pair.substr(i + 1, 2), nullptr, 16));
                        i += 2;
                    } else {
                        value += pair[i];
                    }
                }
                out[pair.substr(0, eq)] = value;
            }
            at = end + 1;
        }
        return out;
    }

    static std::int64_t Cents(const std::string& monto) {
        const auto dot = monto.find('.');
        std::string frac = dot == std::string::npos ? "" : monto.substr(dot + 1);
        frac.resize(2, '0');
        return std::stoll(monto.substr(0, dot)) * 100 + std::stoll(frac);
    }

    ScriptedAnswer Answer(const RecordedRequest& r) {
        const std::lock_guard lock(mutex);
        if (unavailable > 0) {
            --unavailable;
            return Scripted(503, "<html><body>Service Unavailable</body></html>");
        }
        const std::map<std::string, std::string> html = {
            {"Content-Type", "text/html; charset=UTF-8"}};
        if (r.method == "POST" && r.target == "/cep/valida.do") {
            auto f = Form(r.body);
            for (const Transfer& t : transfers) {
                if (f["tipoCriterio"] == "T" && f["fecha"] == t.fecha && f["criterio"] == t.clave &&
                    f["emisor"] == t.emisor && f["receptor"] == t.receptor &&
                    f["cuenta"] == t.cuenta && Cents(f["monto"]) == t.cents) {
                    const std::string session = "JS" + std::to_string(sessions.size() + 1) + "!-43";
                    sessions[session] = t;
                    ScriptedAnswer found;
                    found.body =
                        "<div class=\"bg-banxico title-bar\">Descargar CEP</div><h2>Gracias por "
                        "utilizar el servicio de descarga de CEP</h2><a "
                        "href=\"descarga.do?formato=PDF\">PDF</a><a "
                        "href=\"descarga.do?formato=XML\">XML</a>";
                    found.headers = html;
                    found.headers["Set-Cookie"] = "JSESSIONID=" + session + "; path=/; HttpOnly";
                    return found;
                }
            }
            ScriptedAnswer none;
            none.body =
                "<div class=\"info\"><center><strong>Lo sentimos, por el momento no es posible "
                "generar el CEP. Operaci\xF3n no encontrada. El SPEI no ha recibido una orden de "
                "pago que cumpla con el criterio de b\xFAsqueda especificado.</strong></center>"
                "</div>";
            none.headers = html;
            return none;
        }
        if (r.method == "GET" && r.target == "/cep/descarga.do?formato=XML") {
            const std::string cookie = r.headers.count("cookie") ? r.headers.at("cookie") : "";
            for (const auto& [session, t] : sessions) {
                if (cookie.find("JSESSIONID=" + session) == std::string::npos) {
                    continue;
                }
                const std::string iso =
                    t.fecha.substr(6, 4) + "-" + t.fecha.substr(3, 2) + "-" + t.fecha.substr(0, 2);
                const std::string monto = std::to_string(t.cents / 100) + "." +
                                          (t.cents % 100 < 10 ? "0" : "") +
                                          std::to_string(t.cents % 100);
                ScriptedAnswer xml;
                xml.body =
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<SPEI_Tercero "
                    "FechaOperacion=\"" +
                    iso + "\" Hora=\"10:42:17\" ClaveSPEI=\"" + t.receptor +
                    "\" sello=\"X8YF==\" claveRastreo=\"" + t.clave +
                    "\">\r\n    <Beneficiario BancoReceptor=\"STP\" Nombre=\"FINANCIERA "
                    "PRUEBA SA DE CV\" TipoCuenta=\"40\" Cuenta=\"" +
                    t.cuenta +
                    "\" RFC=\"ND\" Concepto=\"PAGO A-1001\" IVA=\"0.00\" "
                    "MontoPago=\"" +
                    std::string(15 - monto.size(), '0') + monto +
                    "\"/>\r\n    <Ordenante BancoEmisor=\"BBVA MEXICO\" Nombre=\"MARIA "
                    "LOPEZ\" TipoCuenta=\"40\" Cuenta=\"012180004643051249\" "
                    "RFC=\"ND\"/>\r\n</SPEI_Tercero>";
                xml.headers = {{"Content-Type", "application/xml"}};
                return xml;
            }
            return Scripted(500, "<HTML><TITLE>Error 500--Internal Server Error</TITLE></HTML>");
        }
        return Scripted(404, "<html>Not Found</html>");
    }

    // The lookups made, as (criterio, monto), in order.
    std::vector<std::string> Lookups() {
        std::vector<std::string> out;
        for (const auto& r : fake.Requests()) {
            if (r.method == "POST") {
                auto f = Form(r.body);
                out.push_back(f["criterio"] + " " + f["monto"]);
            }
        }
        return out;
    }
};

// A BBVA app's screenshot of a $1,500.00 SPEI transfer to the creditor's CLABE, quoting
// María's payment reference.
std::vector<std::string> BbvaReceipt(const std::string& amount) {
    return {"BBVA",
            "Comprobante de transferencia SPEI",
            "Importe: $" + amount,
            "Fecha de operación: 23/11/2026 10:42:17",
            "Clave de rastreo: MBAN01002611230012345678",
            "Banco emisor: BBVA MEXICO",
            "Cuenta destino: 646180110400000007",
            "Referencia numérica: " + *dialogs::PaymentReference(1),
            "Concepto de pago: PAGO A-1001"};
}

TEST_CASE(
    "media e2e: a SPEI receipt confirmed with Banxico's CEP is paid once and thanked, and the same "
    "image again counts once",
    "[bot][media][e2e][cep]") {
    MediaDesk desk;
    FakeCep cep;
    cep.transfers.push_back(
        {"23-11-2026", "MBAN01002611230012345678", "40012", "90646", "646180110400000007", 150000});
    const std::string png = desk.setup.dir.File("bbva.png");
    RenderReceipt(png, BbvaReceipt("1,500.00"));
    const std::string receipt = ReadFile(png);
    desk.graph.files["2001"] = {receipt};
    desk.graph.files["2002"] = {receipt};
    desk.setup.env["COBRADOR_MEDIA_MAX_BYTES"] = "1048576";
    desk.setup.env["COBRADOR_CEP_BASE"] = cep.fake.BaseUrl() + "/cep";
    desk.Start();
    desk.Say("wamid.IN1", "hola");
    desk.Say("wamid.IN2", "15/03/1985");
    desk.Post(WhatsAppMedia("wamid.IN3", "image", "2001", "image/jpeg", "ya pagué"), "wamid.IN3");

    desk.setup.WaitFor("SELECT status FROM receipt_checks ORDER BY id LIMIT 1", "confirmed", 90s);
    CHECK(desk.setup.Query("SELECT outcome FROM receipt_checks") == "applied");
    // The payment, from Banxico's figures, on María's account; the conversation stays the bot's.
    CHECK(desk.setup.Query("SELECT amount_cents FROM payments") == "150000");
    CHECK(desk.setup.Query("SELECT spei_key FROM payments") ==
          "MBAN01002611230012345678:20261123:40012");
    CHECK(desk.setup.Query("SELECT a.account_key FROM payments p JOIN accounts a ON a.id = "
                           "p.account_id") == "A-1001");
    CHECK(desk.setup.Query("SELECT paid_at FROM payments") == "2026-11-23T16:42:17Z");
    CHECK(desk.setup.Query("SELECT balance_cents FROM accounts WHERE account_key = 'A-1001'") ==
          "1084567");
    CHECK(desk.setup.Query("SELECT state FROM conversations WHERE phone = '+525512345678'") ==
          "bot");
    // The lookup was the portal's form; OCR's reading of the clave, or one of its readings,
    // found it, and the XML came in the same session.
    const auto lookups = cep.Lookups();
    REQUIRE_FALSE(lookups.empty());
    CHECK(lookups.back() == "MBAN01002611230012345678 1500.00");
    bool downloaded = false;
    for (const auto& r : cep.fake.Requests()) {
        if (r.method == "GET") {
            downloaded = true;
            CHECK(r.headers.at("cookie").find("JSESSIONID=JS1!-43") != std::string::npos);
        }
    }
    CHECK(downloaded);
    // Said at once, then thanked with the amount (the identity check holds).
    desk.graph.fake.WaitForRequests(6);  // 3 replies, the media id, the file, the thank-you
    auto texts = desk.SentTexts();
    REQUIRE(texts.size() >= 4);
    CHECK(texts[2].find("confirmando con el banco") != std::string::npos);
    CHECK(texts[3].find("Recibimos tu pago de $1,500.00") != std::string::npos);

    // The same image again: read and confirmed again, but not paid twice.
    desk.Post(WhatsAppMedia("wamid.IN4", "image", "2002", "image/jpeg"), "wamid.IN4");
    desk.setup.WaitFor(
        "SELECT outcome FROM receipt_checks ORDER BY id DESC LIMIT 1", "duplicate", 90s);
    CHECK(desk.setup.Query("SELECT count(*) FROM payments") == "1");
    CHECK(desk.setup.Query("SELECT balance_cents FROM accounts WHERE account_key = 'A-1001'") ==
          "1084567");
    desk.graph.fake.WaitForRequests(10);  // its reply, media id, file, and "ya estaba"
    texts = desk.SentTexts();
    CHECK(texts.back().find("ya estaba registrado") != std::string::npos);

    // The collector sees both checks in the transcript.
    const std::string conversation =
        desk.setup.Query("SELECT id FROM conversations WHERE phone = '+525512345678'");
    const json detail = desk.api.Get("/api/v1/conversations/" + conversation, desk.collector);
    std::vector<std::string> checks;
    for (const auto& m : detail["messages"]) {
        for (const auto& f : m["media"]) {
            REQUIRE(f["receipt"]["check"].is_object());
            checks.push_back(f["receipt"]["check"]["status"].get<std::string>() + "/" +
                             f["receipt"]["check"]["outcome"].get<std::string>());
        }
    }
    CHECK(checks == std::vector<std::string>{"confirmed/applied", "confirmed/duplicate"});
}

TEST_CASE(
    "media e2e: a receipt Banxico's CEP does not confirm goes to a person with what was read, "
    "after the CEP comes back",
    "[bot][media][e2e][cep]") {
    MediaDesk desk;
    FakeCep cep;
    // The bank moved $1,500.00; the receipt says $2,000.00 (edited, or misread).
    cep.transfers.push_back(
        {"23-11-2026", "MBAN01002611230012345678", "40012", "90646", "646180110400000007", 150000});
    cep.unavailable = 1;  // the portal is down at first: tried again in 5 s
    const std::string png = desk.setup.dir.File("bbva.png");
    RenderReceipt(png, BbvaReceipt("2,000.00"));
    desk.graph.files["3001"] = {ReadFile(png)};
    desk.setup.env["COBRADOR_MEDIA_MAX_BYTES"] = "1048576";
    desk.setup.env["COBRADOR_CEP_BASE"] = cep.fake.BaseUrl() + "/cep";
    desk.Start();
    desk.Say("wamid.IN1", "hola");
    desk.Say("wamid.IN2", "15/03/1985");
    desk.Post(WhatsAppMedia("wamid.IN3", "image", "3001", "image/jpeg"), "wamid.IN3");

    desk.setup.WaitFor("SELECT status FROM receipt_checks", "unconfirmed", 90s);
    CHECK(desk.setup.Query("SELECT outcome FROM receipt_checks") == "not_found");
    CHECK(desk.setup.Query("SELECT attempts FROM receipt_checks") == "2");
    CHECK(desk.setup.Query("SELECT count(*) FROM payments") == "0");
    CHECK(desk.setup.Query("SELECT balance_cents FROM accounts WHERE account_key = 'A-1001'") ==
          "1234567");
    // Every lookup asked for the amount the receipt shows, never another.
    for (const std::string& lookup : cep.Lookups()) {
        CHECK(lookup.substr(lookup.find(' ') + 1) == "2000.00");
    }
    // A person has it, with the reason; the debtor is told so.
    CHECK(desk.setup.Query("SELECT state FROM conversations WHERE phone = '+525512345678'") ==
          "escalated");
    CHECK(desk.setup.Query("SELECT escalation_reason FROM conversations WHERE phone = "
                           "'+525512345678'") == "receipt_review");
    desk.graph.fake.WaitForRequests(6);
    const auto texts = desk.SentTexts();
    CHECK(texts.back().find("Una persona de Financiera Prueba lo revisará") != std::string::npos);
    const std::string conversation =
        desk.setup.Query("SELECT id FROM conversations WHERE phone = '+525512345678'");
    const json detail = desk.api.Get("/api/v1/conversations/" + conversation, desk.collector);
    json check;
    for (const auto& m : detail["messages"]) {
        for (const auto& f : m["media"]) {
            check = f["receipt"]["check"];
            CHECK(f["receipt"]["fields"]["amount"] == "2000.00");
        }
    }
    REQUIRE(check.is_object());
    CHECK(check["status"] == "unconfirmed");
    CHECK(check["outcome"] == "not_found");
    CHECK(check["detail"].get<std::string>().find("knows no transfer") != std::string::npos);
}

TEST_CASE("media e2e: the console shows the receipt photo and what was read from it, in Chromium",
          "[bot][media][console][browser][integration]") {
    MediaDesk desk;
    const std::string png = desk.setup.dir.File("comprobante.png");
    RenderReceipt(png,
                  {"BBVA",
                   "Importe: $1,500.00",
                   "Fecha de operación: 23/11/2026",
                   "Clave de rastreo: MBAN01002611230012345678",
                   "Cuenta destino: 646180110400000007",
                   "Concepto de pago: PAGO A-1001"});
    desk.graph.files["1001"] = {ReadFile(png)};
    desk.setup.env["COBRADOR_MEDIA_MAX_BYTES"] = "1048576";
    desk.Start();
    desk.Say("wamid.IN1", "hola");
    desk.Say("wamid.IN2", "15/03/1985");
    desk.Post(WhatsAppMedia("wamid.IN3", "image", "1001", "image/jpeg", "ya pagué"), "wamid.IN3");
    const std::string id = desk.MediaId("wamid.IN3");
    desk.setup.WaitFor("SELECT status FROM receipts WHERE media_id = " + id, "read", 60s);
    const std::string conversation =
        desk.setup.Query("SELECT id FROM conversations WHERE phone = '+525512345678'");
    const std::string item = "#queue .queue-item[data-id=\"" + conversation + "\"]";

    WebDriver browser(desk.setup.dir.File("browser"));
    browser.Go("http://127.0.0.1:" + std::to_string(desk.setup.port) + "/console/");
    browser.Type("#token", desk.collector);
    browser.Click("#sign-in");
    browser.WaitUntil([&] { return browser.Find(item).has_value(); }, "the queue item");
    CHECK(browser.Text(item).find("comprobante por revisar") != std::string::npos);
    browser.Click(item);
    // The photo, fetched with the token and shown from memory, loads for real.
    browser.WaitUntil(
        [&] {
            return browser.Script(
                       "const img = document.querySelector('#transcript img.media-image');"
                       "return !!img && img.complete && img.naturalWidth > 0;") == true;
        },
        "the receipt photo in the transcript",
        std::chrono::seconds(15));
    const nlohmann::json source =
        browser.Script("return document.querySelector('#transcript img.media-image').src;");
    CHECK(source.get<std::string>().rfind("blob:", 0) == 0);  // never a public URL
    const std::string transcript = browser.Text("#transcript");
    CHECK(transcript.find("ya pagué") != std::string::npos);
    CHECK(transcript.find("Leído del comprobante") != std::string::npos);
    CHECK(transcript.find("Importe") != std::string::npos);
    CHECK(transcript.find("1,500.00") != std::string::npos);
    CHECK(transcript.find("646180110400000007") != std::string::npos);
    browser.Script("document.querySelector('#transcript img.media-image').scrollIntoView();");
    browser.KeepScreenshot("console-receipt.png");
    for (const std::string& line : browser.PageErrors()) {
        FAIL_CHECK(line);
    }
}

}  // namespace
}  // namespace cobrador::testing
