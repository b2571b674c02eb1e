// Any bytes as a receipt's text (a PDF's text layer, or OCR's output): reading never crashes,
// and what it reads keeps its shape; a clave de rastreo's readings start with it, are distinct,
// bounded, and differ from it only where OCR confuses letters and digits.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "dialogs/receipt.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace cobrador::dialogs;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const ReceiptFields r = ReadReceipt(text);
    const auto alnum_upper = [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
    };
    if (!r.clave_rastreo.empty()) {
        if (r.clave_rastreo.size() < 6 || r.clave_rastreo.size() > 30) {
            std::abort();
        }
        for (const char c : r.clave_rastreo) {
            if (!alnum_upper(c)) {
                std::abort();
            }
        }
        const auto readings = ClaveReadings(r.clave_rastreo);
        if (readings.empty() || readings.size() > 16 || readings.front() != r.clave_rastreo) {
            std::abort();
        }
        if (std::set<std::string>(readings.begin(), readings.end()).size() != readings.size()) {
            std::abort();
        }
        for (const std::string& reading : readings) {
            for (std::size_t i = 0; i < reading.size(); ++i) {
                if (reading[i] != r.clave_rastreo[i] &&
                    std::string_view("O0I1S5B8").find(reading[i]) == std::string_view::npos) {
                    std::abort();
                }
            }
        }
    }
    if (r.amount_cents && *r.amount_cents < 0) {
        std::abort();
    }
    if (r.beneficiary_account.size() > 20 ||
        r.beneficiary_account.find_first_not_of("0123456789*") != std::string::npos) {
        std::abort();
    }
    if (r.reference.size() > 20 ||
        r.reference.find_first_not_of("0123456789") != std::string::npos) {
        std::abort();
    }
    if (r.payment_concept.size() > 80 || r.beneficiary_name.size() > 80 ||
        r.sending_bank.size() > 40) {
        std::abort();
    }
    if (r.date && !r.date->ok()) {
        std::abort();
    }
    return 0;
}
