// Any bytes as a payments statement (CSV) and as a payments webhook body (JSON): neither parser
// may crash, hang or read out of bounds, and every payment either accepts must be one the
// ledger can apply: a positive amount, a known currency, an instant in UTC, an id and a
// reference without control characters.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>

#include "dialogs/calendar.hpp"
#include "dialogs/money.hpp"
#include "store/csv.hpp"
#include "store/payments.hpp"

namespace {

void Check(const cobrador::store::PaymentRecord& p) {
    if (p.amount_cents <= 0 || !cobrador::dialogs::IsKnownCurrency(p.currency) ||
        !cobrador::dialogs::ParseIsoInstant(p.paid_at) || p.payment_id.empty() ||
        p.reference.empty() || cobrador::store::HasControlCharacters(p.payment_id) ||
        cobrador::store::HasControlCharacters(p.reference) ||
        !cobrador::store::IsValidUtf8(p.payment_id)) {
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    const auto choice = cobrador::store::ChoosePaymentsFormat(text, {});
    for (const auto& format : {cobrador::store::CsvFormat{}, choice.format}) {
        std::istringstream in(text);
        const auto parsed = cobrador::store::ParsePaymentsCsv(in, format);
        for (const auto& row : parsed.rows) {
            Check(row);
        }
    }
    std::string error;
    if (const auto payment = cobrador::store::ParsePaymentJson(text, error)) {
        Check(*payment);
    } else if (error.empty()) {
        std::abort();  // a refusal always says why
    }
    return 0;
}
