// Any bytes as an answer of Banxico's CEP portal (its HTML page, its XML) or a Set-Cookie:
// reading never crashes, a CEP read has its date, digits-only account and a positive amount,
// and a cookie sent back can never carry a header or a second cookie. Bank names and keys keep
// their shape.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "channels/cep.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace cobrador::channels;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    (void)ReadCepAnswer(text);
    std::string why;
    if (const auto cep = ParseCepXml(text, why)) {
        if (cep->date.size() != 10 || cep->amount_cents <= 0 || cep->clave.empty() ||
            cep->beneficiary_account.empty() ||
            cep->beneficiary_account.find_first_not_of("0123456789") != std::string::npos ||
            (!cep->time.empty() && cep->time.size() != 8)) {
            std::abort();
        }
    } else if (why.empty()) {
        std::abort();
    }
    const std::string cookie = CookiePair(text);
    for (const char c : cookie) {
        if (static_cast<unsigned char>(c) <= 0x20 || c == ';' || c == ',' || c == 0x7F) {
            std::abort();
        }
    }
    if (const auto code = BankCodeOfName(text)) {
        if (code->size() != 3 || !ParticipantOfBankCode(*code)) {
            std::abort();
        }
    }
    // The key from thirds of the input: empty, or CLAVE:YYYYMMDD:NNNNN.
    const std::string key = SpeiKey(
        text.substr(0, size / 3), text.substr(size / 3, size / 3), text.substr(2 * size / 3));
    if (!key.empty()) {
        const auto first = key.find(':');
        const auto second = key.find(':', first + 1);
        if (first == std::string::npos || second != first + 9 || key.size() != second + 6) {
            std::abort();
        }
    }
    return 0;
}
