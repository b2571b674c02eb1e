// HTTPS served directly (COBRADOR_TLS_CERT / COBRADOR_TLS_KEY): the real binary with a
// self-signed certificate made here, and a client that checks it as a provider would.

#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "e2e_support.hpp"

namespace cobrador::testing {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;

struct Pem {
    std::string cert;
    std::string key;
};

// A self-signed P-256 certificate for 127.0.0.1 and localhost, valid for a day, written as
// PEM files (the key readable by its owner only, as an operator would keep it).
Pem MakeCertificate(const TempDir& dir, const std::string& name) {
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
        EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), EVP_PKEY_free);
    REQUIRE(key);
    std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
    X509_set_pubkey(cert.get(), key.get());
    X509_NAME* subject = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(subject,
                               "CN",
                               MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("localhost"),
                               -1,
                               -1,
                               0);
    X509_set_issuer_name(cert.get(), subject);
    X509V3_CTX context;
    X509V3_set_ctx_nodb(&context);
    X509V3_set_ctx(&context, cert.get(), cert.get(), nullptr, nullptr, 0);
    X509_EXTENSION* san =
        X509V3_EXT_conf_nid(nullptr, &context, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
    REQUIRE(san != nullptr);
    X509_add_ext(cert.get(), san, -1);
    X509_EXTENSION_free(san);
    REQUIRE(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0);

    Pem pem{dir.File(name + ".crt"), dir.File(name + ".key")};
    FILE* out = std::fopen(pem.cert.c_str(), "w");
    REQUIRE(out != nullptr);
    PEM_write_X509(out, cert.get());
    std::fclose(out);
    out = std::fopen(pem.key.c_str(), "w");
    REQUIRE(out != nullptr);
    PEM_write_PrivateKey(out, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(out);
    std::filesystem::permissions(pem.key, std::filesystem::perms::owner_read);
    return pem;
}

struct TlsAnswer {
    std::optional<HttpResponse> response;  // empty: the handshake or the exchange failed
    std::string error;
};

// One HTTPS request. `trust` is the CA file to check the server against; empty: the system's
// store (which does not know our self-signed certificate).
TlsAnswer HttpsRequest(std::uint16_t port,
                       const std::string& trust,
                       const std::string& method,
                       const std::string& target,
                       const std::string& body = {},
                       const std::map<std::string, std::string>& headers = {}) {
    net::io_context ioc;
    ssl::context context(ssl::context::tls_client);
    boost::system::error_code error;
    if (trust.empty()) {
        context.set_default_verify_paths(error);
    } else {
        context.load_verify_file(trust, error);
    }
    REQUIRE_FALSE(error);
    context.set_verify_mode(ssl::verify_peer);
    beast::ssl_stream<beast::tcp_stream> stream(ioc, context);
    stream.set_verify_callback(ssl::host_name_verification("127.0.0.1"));
    beast::get_lowest_layer(stream).expires_after(10s);
    beast::get_lowest_layer(stream).connect({net::ip::make_address("127.0.0.1"), port});
    TlsAnswer answer;
    stream.handshake(ssl::stream_base::client, error);
    if (error) {
        answer.error = error.message();
        return answer;
    }
    http::request<http::string_body> req{http::string_to_verb(method), target, 11, body};
    req.set(http::field::host, "127.0.0.1");
    for (const auto& [name, value] : headers) {
        req.set(name, value);
    }
    req.prepare_payload();
    http::write(stream, req, error);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    if (!error) {
        http::read(stream, buffer, res, error);
    }
    if (error) {
        answer.error = error.message();
        return answer;
    }
    HttpResponse out;
    out.status = res.result_int();
    out.body = res.body();
    answer.response = out;
    return answer;
}

// What a plain-HTTP client gets from the HTTPS port: no HTTP answer at all.
bool PlainHttpGetsAnAnswer(std::uint16_t port) {
    net::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.expires_after(10s);
    stream.connect({net::ip::make_address("127.0.0.1"), port});
    http::request<http::empty_body> req{http::verb::get, "/healthz", 11};
    req.set(http::field::host, "127.0.0.1");
    boost::system::error_code error;
    http::write(stream, req, error);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res, error);
    return !error;
}

std::uint64_t Counter(const std::string& metrics, const std::string& name) {
    const auto at = metrics.find("\n" + name + " ");
    return at == std::string::npos
               ? 0
               : std::stoull(metrics.substr(at + name.size() + 2,
                                            metrics.find('\n', at + 1) - at - name.size() - 2));
}

TEST_CASE("TLS: with a certificate the server speaks HTTPS, and only HTTPS",
          "[bot][tls][integration]") {
    Setup setup(nullptr, nullptr);
    const Pem pem = MakeCertificate(setup.dir, "server");
    setup.env["COBRADOR_TLS_CERT"] = pem.cert;
    setup.env["COBRADOR_TLS_KEY"] = pem.key;
    auto server = setup.Start();
    CHECK(server->Stdout().find("listening on https://127.0.0.1:") != std::string::npos);

    // A client that checks the certificate against the one we made: health, and a signed
    // webhook stored before the 200, as a provider would send it over the internet.
    const auto health = HttpsRequest(setup.port, pem.cert, "GET", "/healthz");
    REQUIRE(health.response);
    CHECK(health.response->status == 200);
    CHECK(health.response->body.find("\"ok\"") != std::string::npos);

    const std::string body = WhatsAppText("wamid.TLS1", kWaId, "hola");
    const auto posted = HttpsRequest(
        setup.port,
        pem.cert,
        "POST",
        "/webhooks/whatsapp",
        body,
        {{"Content-Type", "application/json"},
         {"X-Hub-Signature-256", "sha256=" + channels::HmacSha256Hex(kAppSecret, body)}});
    REQUIRE(posted.response);
    CHECK(posted.response->status == 200);
    CHECK(setup.Query("SELECT count(*) FROM inbound_events WHERE provider_event_id = "
                      "'wamid.TLS1'") == "1");
    // The signature still counts under TLS.
    const auto forged = HttpsRequest(setup.port,
                                     pem.cert,
                                     "POST",
                                     "/webhooks/whatsapp",
                                     WhatsAppText("wamid.TLS2", kWaId, "hola"),
                                     {{"X-Hub-Signature-256", "sha256=" + std::string(64, '0')}});
    REQUIRE(forged.response);
    CHECK(forged.response->status == 401);

    // Plain HTTP on the HTTPS port gets nothing; a client that does not trust the certificate
    // stops at the handshake. Neither harms the server, which counts them.
    CHECK_FALSE(PlainHttpGetsAnAnswer(setup.port));
    const auto untrusted = HttpsRequest(setup.port, "", "GET", "/healthz");
    CHECK_FALSE(untrusted.response);
    CHECK(untrusted.error.find("certificate") != std::string::npos);

    // A body over 1 MiB, sent whole before the answer is read (as most clients do): the 413
    // is read, not lost to a reset, and the server serves on.
    const auto big = HttpsRequest(setup.port,
                                  pem.cert,
                                  "POST",
                                  "/webhooks/whatsapp",
                                  std::string(16 * 1024 * 1024, 'x'),
                                  {{"Content-Type", "application/json"}});
    INFO(big.error);
    REQUIRE(big.response);
    CHECK(big.response->status == 413);
    CHECK(big.response->body.find("over 1 MiB") != std::string::npos);

    const auto metrics = HttpsRequest(setup.port, pem.cert, "GET", "/metrics");
    REQUIRE(metrics.response);
    CHECK(Counter(metrics.response->body, "cobrador_tls_handshake_failures_total") >= 2);

    // A graceful stop over TLS, as without it.
    server->Signal(SIGTERM);
    CHECK(server->Wait() == 0);
    CHECK(server->Stderr().find("BEGIN") == std::string::npos);
}

TEST_CASE("TLS: a missing, mismatched or half-given certificate stops serve with a reason",
          "[bot][tls][integration]") {
    Setup setup(nullptr, nullptr);
    const Pem pem = MakeCertificate(setup.dir, "server");
    const Pem other = MakeCertificate(setup.dir, "other");
    std::string key_text;
    {
        std::ifstream in(pem.key);
        key_text.assign(std::istreambuf_iterator<char>(in), {});
    }
    REQUIRE(key_text.find("PRIVATE KEY") != std::string::npos);

    SECTION("a certificate without its key is a bad setting") {
        auto env = setup.env;
        env["COBRADOR_TLS_CERT"] = pem.cert;
        const auto run = RunCobrador({"serve"}, env);
        CHECK(run.exit_code == 2);
        CHECK(run.err.find("COBRADOR_TLS_KEY") != std::string::npos);
    }
    SECTION("a key that is not the certificate's") {
        auto env = setup.env;
        env["COBRADOR_TLS_CERT"] = pem.cert;
        env["COBRADOR_TLS_KEY"] = other.key;
        const auto run = RunCobrador({"serve"}, env);
        CHECK(run.exit_code == 1);
        CHECK(run.err.find("does not match") != std::string::npos);
        CHECK(run.err.find("PRIVATE KEY") == std::string::npos);
    }
    SECTION("a certificate file that is not there") {
        auto env = setup.env;
        env["COBRADOR_TLS_CERT"] = setup.dir.File("missing.crt");
        env["COBRADOR_TLS_KEY"] = pem.key;
        const auto run = RunCobrador({"serve"}, env);
        CHECK(run.exit_code == 1);
        CHECK(run.err.find("missing.crt") != std::string::npos);
    }
    SECTION("the key given as the certificate: refused without printing the key") {
        auto env = setup.env;
        env["COBRADOR_TLS_CERT"] = pem.key;
        env["COBRADOR_TLS_KEY"] = pem.key;
        const auto run = RunCobrador({"serve"}, env);
        CHECK(run.exit_code == 1);
        CHECK(run.err.find(key_text.substr(40, 30)) == std::string::npos);
    }
}

}  // namespace
}  // namespace cobrador::testing
