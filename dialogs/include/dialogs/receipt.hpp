#pragma once
// What a SPEI transfer receipt ("comprobante") says, read from its text: the text layer of a
// PDF, or what OCR made of a photo or screenshot (docs/media.md). Mexican banks lay their
// receipts out differently, but they label the same fields: clave de rastreo, importe, fecha de
// operación, banco emisor, cuenta (CLABE) destino, referencia numérica, concepto, beneficiario.
// A field is read only next to its label (on the same line or the next), never guessed from a
// number somewhere on the page. Pure; never throws.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dialogs/calendar.hpp"

namespace cobrador::dialogs {

struct ReceiptFields {
    std::string clave_rastreo;  // upper case, as read (OCR confusions not undone: ClaveReadings)
    std::optional<std::int64_t> amount_cents;
    std::optional<Date> date;  // the operation's date
    std::string sending_bank;  // as the receipt names it, upper case ("BBVA", "BANORTE")
    // The beneficiary's account: 18 digits when the receipt shows it whole, else what it shows
    // ("****0007"), digits and asterisks only.
    std::string beneficiary_account;
    std::string reference;  // the numeric reference, digits only
    std::string payment_concept;
    std::string beneficiary_name;

    // Whether anything at all was read.
    bool Empty() const;
};

ReceiptFields ReadReceipt(std::string_view text);

// The plausible readings of a clave de rastreo that OCR may have misread (O/0, I/1, S/5, B/8),
// the reading itself first, then one change at a time, then two...; at most `limit`. Keys of
// 6 to 30 letters and digits only; anything else has no reading.
std::vector<std::string> ClaveReadings(std::string_view clave, std::size_t limit = 16);

}  // namespace cobrador::dialogs
