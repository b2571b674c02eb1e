// How long reading a receipt takes, the way the server does it: `cobrador read-receipt` in a
// child process with its limits, for a phone screenshot (OCR) and a PDF with a text layer.
// Receipts are drawn by ImageMagick (`convert`, Debian's imagemagick) into a temporary folder.
//
//   build/bench/bench_receipts [ROUNDS]     (default 10)
//
// Prints per kind: receipts read, p50 and p99 seconds, fields found, and the children's peak
// resident memory.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "dialogs/receipt.hpp"

#include "receipt_reader.hpp"
#include "support/receipt_pdf.hpp"
#include <sys/resource.h>

namespace {

std::string Slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

double Percentile(std::vector<double> values, double p) {
    std::sort(values.begin(), values.end());
    const auto index = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1));
    return values[index];
}

void Run(const char* kind, const std::string& bytes, const std::string& type, int rounds) {
    std::vector<double> seconds;
    int with_amount = 0;
    for (int i = 0; i < rounds; ++i) {
        const auto start = std::chrono::steady_clock::now();
        const auto text = cobrador::bot::ReadIsolated(COBRADOR_BINARY, bytes, type);
        seconds.push_back(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        if (!text.ok) {
            std::cerr << kind << ": not read: " << text.error << "\n";
            std::exit(1);
        }
        with_amount += cobrador::dialogs::ReadReceipt(text.text).amount_cents ? 1 : 0;
    }
    std::printf("%-22s %4d read  p50 %.3f s  p99 %.3f s  amount found %d/%d\n",
                kind,
                rounds,
                Percentile(seconds, 0.5),
                Percentile(seconds, 0.99),
                with_amount,
                rounds);
}

}  // namespace

int main(int argc, char** argv) {
    const int rounds = argc > 1 ? std::max(1, std::atoi(argv[1])) : 10;
    const auto dir = std::filesystem::temp_directory_path() / "cobrador-bench-receipts";
    std::filesystem::create_directories(dir);
    const std::string png = (dir / "receipt.png").string();
    const std::string command =
        "convert -size 1080x1400 xc:white -font DejaVu-Sans -fill black -pointsize 34 "
        "-annotate +60+100 'BBVA' -annotate +60+200 'Importe: $1,500.00' "
        "-annotate +60+280 'Fecha de operación: 23/11/2026 10:42:17' "
        "-annotate +60+360 'Clave de rastreo: MBAN01002611230012345678' "
        "-annotate +60+440 'Banco emisor: BBVA MEXICO' "
        "-annotate +60+520 'Cuenta destino: 646180110400000007' "
        "-annotate +60+600 'Beneficiario: Demo Financiera SA de CV' "
        "-annotate +60+680 'Referencia numérica: 1000187' "
        "-annotate +60+760 'Concepto de pago: PAGO A-1001' '" +
        png + "'";
    if (std::system(command.c_str()) != 0) {
        std::cerr << "bench_receipts: ImageMagick's convert is needed to draw the receipts\n";
        return 1;
    }
    const std::string pdf =
        cobrador::testing::ReceiptPdf({"Monto: $2,345.60",
                                       "Fecha de operacion: 2026-11-25",
                                       "Clave de rastreo: BNET01002611250001234567"});
    // The same screenshot, scanned: a JPEG in a PDF with no text layer.
    const std::string jpg = (dir / "receipt.jpg").string();
    if (std::system(("convert '" + png + "' -type TrueColor -quality 90 '" + jpg + "'").c_str()) !=
        0) {
        std::cerr << "bench_receipts: ImageMagick's convert could not write a JPEG\n";
        return 1;
    }
    const std::string scanned = cobrador::testing::ScannedPdf(Slurp(jpg), 1080, 1400);
    std::printf("receipts read as the server reads them (a child process each), %d rounds\n",
                rounds);
    Run("screenshot 1080x1400", Slurp(png), "image/png", rounds);
    Run("PDF text layer", pdf, "application/pdf", rounds);
    Run("scanned PDF 1080x1400 (OCR)", scanned, "application/pdf", rounds);
    rusage usage{};
    getrusage(RUSAGE_CHILDREN, &usage);
    std::printf("children's peak resident memory: %.1f MiB\n",
                static_cast<double>(usage.ru_maxrss) / 1024.0);
    std::filesystem::remove_all(dir);
    return 0;
}
