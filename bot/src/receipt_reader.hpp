#pragma once
// Getting a receipt file's text (docs/media.md): OCR with Tesseract for images, the text layer
// of a PDF with Poppler. Both are large C libraries parsing a stranger's file, so the server
// never runs them in its own process: ReadIsolated runs `cobrador read-receipt` as a child
// with limits on CPU time, memory and wall time, and a crash, a hang or a PDF bomb is an
// unreadable receipt, never a dead server.

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "dialogs/receipt.hpp"

namespace cobrador::bot {

struct ReceiptText {
    bool ok = false;
    std::string engine;  // "ocr" or "pdf_text"
    std::string text;    // up to kMaxReceiptText bytes
    std::string error;   // why there is no text
};

constexpr std::size_t kMaxReceiptText = 64 * 1024;

// In this process: image bytes through Tesseract (Spanish, then English words), a PDF's first
// pages' text layer through Poppler. For `cobrador read-receipt`, and nothing else.
ReceiptText ReadReceiptText(std::string_view bytes, std::string_view content_type);

// The same in a child process (`binary` read-receipt), at most `cpu` of CPU time, 1 GiB of
// memory and `wall` of waiting. Blocking: call it off the I/O threads.
ReceiptText ReadIsolated(const std::string& binary,
                         std::string_view bytes,
                         std::string_view content_type,
                         std::chrono::seconds cpu = std::chrono::seconds(30),
                         std::chrono::seconds wall = std::chrono::seconds(60));

// The reading as `cobrador read-receipt` prints it: {"ok","engine","text","error","fields"}.
nlohmann::json ReadingJson(const ReceiptText& reading, const dialogs::ReceiptFields& fields);
// `fields` as JSON: {"clave_rastreo", "amount", "date", "sending_bank", "beneficiary_account",
// "reference", "concept", "beneficiary_name"}, each null when not read.
nlohmann::json FieldsJson(const dialogs::ReceiptFields& fields);

}  // namespace cobrador::bot
