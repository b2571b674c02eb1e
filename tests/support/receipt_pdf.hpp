#pragma once
// Receipts as PDFs, written by hand for the tests and the benchmark: one with a text layer, one
// scanned (an image only).

#include <string>
#include <vector>

namespace cobrador::testing {

// A PDF with a text layer (Helvetica, one line per entry of `lines`, ASCII), as a bank's
// statement generator writes one; its cross-reference table is left for the reader to rebuild.
inline std::string ReceiptPdf(const std::vector<std::string>& lines) {
    std::string content = "BT /F1 12 Tf 72 720 Td 16 TL";
    for (const std::string& line : lines) {
        content += " (" + line + ") Tj T*";
    }
    content += " ET";
    return "%PDF-1.4\n"
           "1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
           "2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
           "3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
           "/Resources << /Font << /F1 5 0 R >> >> >> endobj\n"
           "4 0 obj << /Length " +
           std::to_string(content.size()) + " >> stream\n" + content +
           "\nendstream endobj\n"
           "5 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> endobj\n"
           "trailer << /Root 1 0 R >>\n%%EOF\n";
}

// A scanned receipt: a PDF whose only page is a JPEG (`width` x `height` pixels, RGB) shown at
// 150 dpi, with no text layer.
inline std::string ScannedPdf(const std::string& jpeg, int width, int height) {
    const std::string w = std::to_string(width * 72 / 150);
    const std::string h = std::to_string(height * 72 / 150);
    const std::string content = "q " + w + " 0 0 " + h + " 0 0 cm /Im1 Do Q";
    return "%PDF-1.4\n"
           "1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
           "2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
           "3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 " +
           w + " " + h +
           "] /Contents 4 0 R /Resources << /XObject << /Im1 5 0 R >> >> >> endobj\n"
           "4 0 obj << /Length " +
           std::to_string(content.size()) + " >> stream\n" + content +
           "\nendstream endobj\n"
           "5 0 obj << /Type /XObject /Subtype /Image /Width " +
           std::to_string(width) + " /Height " + std::to_string(height) +
           " /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode /Length " +
           std::to_string(jpeg.size()) + " >> stream\n" + jpeg +
           "\nendstream endobj\n"
           "trailer << /Root 1 0 R >>\n%%EOF\n";
}

}  // namespace cobrador::testing
