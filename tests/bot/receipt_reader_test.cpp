// Reading receipts for real: Tesseract on screenshots ImageMagick draws, Poppler on a PDF's text
// layer, in the child process the server uses, and files that must not bring anything down (a
// corrupt image, an HTML page, a pixel bomb, a PDF bomb).

#include "receipt_reader.hpp"

#include <csignal>
#include <filesystem>

#include <catch2/catch.hpp>

#include "dialogs/receipt.hpp"

#include "e2e_support.hpp"

namespace cobrador::testing {
namespace {

using bot::ReadIsolated;
using bot::ReceiptText;
using namespace std::string_literals;

const std::vector<std::string> kBbva = {"BBVA",
                                        "Comprobante de transferencia SPEI",
                                        "Importe: $1,500.00",
                                        "Fecha de operación: 23/11/2026 10:42:17",
                                        "Clave de rastreo: MBAN01002611230012345678",
                                        "Banco emisor: BBVA MEXICO",
                                        "Cuenta destino: 646180110400000007",
                                        "Referencia numérica: 1000187",
                                        "Concepto de pago: PAGO A-1001"};

// The clave as printed is among the readings of the clave as OCR read it.
bool AmongReadings(const std::string& read, const std::string& printed) {
    for (const std::string& reading : dialogs::ClaveReadings(read)) {
        if (reading == printed) {
            return true;
        }
    }
    return false;
}

TEST_CASE("Receipt reader: a bank app's screenshot through OCR, in a child process",
          "[bot][receipts]") {
    TempDir dir;
    const std::string png = dir.File("bbva.png");
    RenderReceipt(png, kBbva);
    const ReceiptText text = ReadIsolated(COBRADOR_BINARY, ReadFile(png), "image/png");
    INFO(text.error << "\n" << text.text);
    REQUIRE(text.ok);
    CHECK(text.engine == "ocr");
    const auto fields = dialogs::ReadReceipt(text.text);
    CHECK(fields.amount_cents == 150000);
    CHECK(fields.date == dialogs::ParseIsoDate("2026-11-23"));
    CHECK(fields.beneficiary_account == "646180110400000007");
    CHECK(fields.reference == "1000187");
    // OCR may read the 0 after MBAN as an O: the printed key is among the readings tried.
    CHECK(AmongReadings(fields.clave_rastreo, "MBAN01002611230012345678"));

    // A Banorte-like layout, labels above their values, in capitals.
    const std::string banorte = dir.File("banorte.png");
    RenderReceipt(banorte,
                  {"BANORTE",
                   "MONTO",
                   "$ 800.00 MXN",
                   "FECHA DE APLICACION",
                   "24 NOV 2026",
                   "NUMERO DE RASTREO",
                   "0720112345678901",
                   "CUENTA BENEFICIARIA",
                   "****0007"});
    const ReceiptText upper = ReadIsolated(COBRADOR_BINARY, ReadFile(banorte), "image/png");
    INFO(upper.text);
    REQUIRE(upper.ok);
    const auto read = dialogs::ReadReceipt(upper.text);
    CHECK(read.amount_cents == 80000);
    CHECK(read.date == dialogs::ParseIsoDate("2026-11-24"));
    CHECK(AmongReadings(read.clave_rastreo, "0720112345678901"));
}

TEST_CASE("Receipt reader: a PDF's text layer, and cobrador read-receipt", "[bot][receipts]") {
    TempDir dir;
    const std::string pdf = ReceiptPdf({"Comprobante SPEI",
                                        "Monto: $2,345.60",
                                        "Fecha de operacion: 2026-11-25",
                                        "Clave de rastreo: BNET01002611250001234567",
                                        "CLABE destino: 646180110400000007",
                                        "Concepto: PAGO A-1001"});
    const ReceiptText text = ReadIsolated(COBRADOR_BINARY, pdf, "application/pdf");
    INFO(text.error);
    REQUIRE(text.ok);
    CHECK(text.engine == "pdf_text");
    const auto fields = dialogs::ReadReceipt(text.text);
    CHECK(fields.clave_rastreo == "BNET01002611250001234567");  // a text layer has no OCR doubt
    CHECK(fields.amount_cents == 234560);
    CHECK(fields.beneficiary_account == "646180110400000007");

    // The command an operator runs to see what the server would read.
    const std::string file = dir.File("r.pdf");
    std::ofstream(file, std::ios::binary) << pdf;
    const auto run = RunCobrador({"read-receipt", file});
    REQUIRE(run.exit_code == 0);
    const auto json = nlohmann::json::parse(run.out);
    CHECK(json["ok"] == true);
    CHECK(json["fields"]["amount"] == "2345.60");
    CHECK(json["fields"]["date"] == "2026-11-25");
    CHECK(json["fields"]["reference"].is_null());
    const auto missing = RunCobrador({"read-receipt", dir.File("nope.png")});
    CHECK(missing.exit_code == 1);
    CHECK(missing.err.find("cannot read") != std::string::npos);
}

TEST_CASE("Receipt reader: a scanned PDF (no text layer) is read by OCR of its page",
          "[bot][receipts]") {
    TempDir dir;
    const std::string png = dir.File("scan.png");
    const std::vector<std::string> lines = {"BANORTE",
                                            "Comprobante de transferencia",
                                            "Importe: $3,210.50",
                                            "Fecha de operación: 24/11/2026",
                                            "Clave de rastreo: 0720112345678901",
                                            "Cuenta destino: 646180110400000007"};
    RenderReceipt(png, lines);
    const std::string jpg = dir.File("scan.jpg");
    REQUIRE(std::system(("convert " + png + " -type TrueColor -quality 90 " + jpg).c_str()) == 0);
    const int height = 80 + 50 * static_cast<int>(lines.size());
    const ReceiptText text =
        ReadIsolated(COBRADOR_BINARY, ScannedPdf(ReadFile(jpg), 900, height), "application/pdf");
    INFO(text.error << "\n" << text.text);
    REQUIRE(text.ok);
    CHECK(text.engine == "pdf_ocr");
    const auto fields = dialogs::ReadReceipt(text.text);
    CHECK(fields.amount_cents == 321050);
    CHECK(fields.date == dialogs::ParseIsoDate("2026-11-24"));
    CHECK(fields.beneficiary_account == "646180110400000007");
    CHECK(AmongReadings(fields.clave_rastreo, "0720112345678901"));

    // A page of nothing: read, but nothing found, said so.
    const std::string blank = dir.File("blank.jpg");
    REQUIRE(std::system(("convert -size 300x200 xc:white -type TrueColor " + blank).c_str()) == 0);
    const ReceiptText empty =
        ReadIsolated(COBRADOR_BINARY, ScannedPdf(ReadFile(blank), 300, 200), "application/pdf");
    CHECK_FALSE(empty.ok);
    CHECK(empty.error == "no text was found in the scanned PDF");
}

TEST_CASE("Receipt reader: files that cannot be read say why and bring nothing down",
          "[bot][receipts]") {
    // An HTML page, a corrupt JPEG, a PNG that promises 60,000 x 60,000 pixels.
    const ReceiptText html =
        ReadIsolated(COBRADOR_BINARY, "<!doctype html><p>hola</p>", "text/html");
    CHECK_FALSE(html.ok);
    CHECK(html.error == "only images and PDFs are read");
    const ReceiptText corrupt =
        ReadIsolated(COBRADOR_BINARY, "\xFF\xD8\xFF\xE0 not really a jpeg"s, "image/jpeg");
    CHECK_FALSE(corrupt.ok);
    CHECK_FALSE(corrupt.error.empty());
    std::string huge = "\x89PNG\r\n\x1A\n\x00\x00\x00\x0DIHDR"s;
    for (const unsigned value : {60000U, 60000U}) {
        for (int shift = 24; shift >= 0; shift -= 8) {
            huge.push_back(static_cast<char>((value >> shift) & 0xFF));
        }
    }
    huge += "\x08\x02\x00\x00\x00"s + std::string(4, '\0') + std::string(64, '\0');
    const ReceiptText bomb = ReadIsolated(COBRADOR_BINARY, huge, "image/png");
    CHECK_FALSE(bomb.ok);
    CHECK(bomb.error.find("too large to read") != std::string::npos);
    // A PDF whose one page decompresses to 400 MB: the child runs out of its CPU time (or
    // memory) and the reading says so, well inside the wall limit.
    TempDir dir;
    const std::string path = dir.File("bomb.pdf");
    const std::string script =
        "import zlib,sys\n"
        "c=zlib.compressobj(9)\n"
        "d=b''.join(c.compress(b'0 0 m 1 1 l S '*4096) for _ in range(6800))+c.flush()\n"
        "h=b'%PDF-1.4\\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\\n2 0 obj << /Type "
        "/Pages /Kids [3 0 R] /Count 1 >> endobj\\n3 0 obj << /Type /Page /Parent 2 0 R "
        "/MediaBox [0 0 612 792] /Contents 4 0 R >> endobj\\n4 0 obj << /Length '+str(len(d))."
        "encode()+b' /Filter /FlateDecode >> stream\\n'\n"
        "sys.stdout.buffer.write(h+d+b'\\nendstream endobj\\ntrailer << /Root 1 0 R "
        ">>\\n%%EOF\\n')\n";
    std::ofstream(dir.File("bomb.py")) << script;
    REQUIRE(std::system(("python3 '" + dir.File("bomb.py") + "' > '" + path + "'").c_str()) == 0);
    const std::string pdf = ReadFile(path);
    REQUIRE(pdf.size() < 4 * 1024 * 1024);
    const auto started = std::chrono::steady_clock::now();
    const ReceiptText text = ReadIsolated(
        COBRADOR_BINARY, pdf, "application/pdf", std::chrono::seconds(3), std::chrono::seconds(20));
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(20));
    CHECK_FALSE(text.ok);
    CHECK_FALSE(text.error.empty());
}

TEST_CASE("Receipt reader: a child that dies at once, or never reads, is handled in time",
          "[bot][receipts]") {
    std::signal(SIGPIPE, SIG_IGN);                // as cobrador's main() does
    const std::string big(4 * 1024 * 1024, 'x');  // more than a pipe holds
    // Exits without reading: the write fails (EPIPE), nothing is killed.
    const ReceiptText gone = ReadIsolated("/bin/false", big, "image/png");
    CHECK_FALSE(gone.ok);
    CHECK_FALSE(gone.error.empty());
    // Never reads and never ends: killed at the wall limit.
    TempDir dir;
    const std::string sleeper = dir.File("sleeper");
    std::ofstream(sleeper) << "#!/bin/sh\nexec sleep 30\n";
    std::filesystem::permissions(sleeper, std::filesystem::perms::owner_all);
    const auto started = std::chrono::steady_clock::now();
    const ReceiptText stuck =
        ReadIsolated(sleeper, big, "image/png", std::chrono::seconds(5), std::chrono::seconds(2));
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(6));
    CHECK_FALSE(stuck.ok);
    CHECK(stuck.error == "reading took longer than 2 s");
    // A program that does not exist.
    const ReceiptText missing = ReadIsolated("/nonexistent/cobrador", "x", "image/png");
    CHECK_FALSE(missing.ok);
    CHECK_FALSE(missing.error.empty());
}

}  // namespace
}  // namespace cobrador::testing
