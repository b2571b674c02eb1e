// Any bytes as a payment provider's notification (Stripe's event, correctly signed so that the
// fuzzer reaches the parser behind the signature, and its signature header; Mercado Pago's
// notification, query and headers, and the payment its API returns; Conekta's event and the
// order its API returns; STP's abono; Openpay's notification with good credentials, and the
// charge its API returns): no parser may crash, hang or read out of bounds, and every report
// accepted must be one the ledger can apply: a positive amount, a known currency for money in,
// an instant in UTC, an id without control characters.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "channels/payment_providers.hpp"
#include "channels/signature.hpp"
#include "dialogs/calendar.hpp"
#include "dialogs/money.hpp"

namespace {

using cobrador::store::ProviderReport;

void Check(const ProviderReport& r) {
    const bool clean_id = !r.payment.empty() &&
                          r.payment.find_first_of(std::string("\0\n\r\t ", 5)) == std::string::npos;
    const bool money_in = r.kind == ProviderReport::Kind::kReceived;
    if (r.total_cents <= 0 || !clean_id ||
        (money_in && (!cobrador::dialogs::IsKnownCurrency(r.currency) ||
                      !cobrador::dialogs::ParseIsoInstant(r.paid_at))) ||
        r.reference.size() > 64) {
        std::abort();
    }
}

void Check(const cobrador::channels::Verdict& v) {
    if (!v.ok()) {
        return;
    }
    if (v.event.event_id.empty() || v.event.type.empty()) {
        std::abort();
    }
    for (const ProviderReport& r : v.event.reports) {
        Check(r);
    }
}

// Splits `text` at its first newline: (before, after).
std::pair<std::string_view, std::string_view> Split(std::string_view text) {
    const auto nl = text.find('\n');
    if (nl == std::string_view::npos) {
        return {text, {}};
    }
    return {text.substr(0, nl), text.substr(nl + 1)};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    namespace p = cobrador::channels;
    const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
    const std::string secret = "whsec_fuzz";
    switch (data[0] % 8) {
        case 0: {  // a Stripe event, signed as Stripe signs it
            const std::string header =
                "t=1764000000,v1=" +
                cobrador::channels::HmacSha256Hex(secret, "1764000000." + std::string(input));
            Check(p::ParseStripe(input, header, secret, 1764000000));
            break;
        }
        case 1: {  // a Stripe signature header, then a body
            const auto [header, body] = Split(input);
            Check(p::ParseStripe(body, header, secret, 1764000000));
            break;
        }
        case 2: {  // Mercado Pago: query, then x-signature, then the body
            const auto [query, rest] = Split(input);
            const auto [signature, body] = Split(rest);
            Check(p::ParseMercadoPago(body, query, signature, "req", secret));
            break;
        }
        case 3: {  // the payment Mercado Pago's API returns
            std::string why;
            if (const auto reports = p::ParseMercadoPagoPayment(input, why)) {
                for (const ProviderReport& r : *reports) {
                    Check(r);
                }
            }
            break;
        }
        case 4: {  // a Conekta event (no key configured: the order is fetched anyway)
            Check(p::ParseConekta(input, "", ""));
            break;
        }
        case 5: {  // the order Conekta's API returns
            std::string why;
            if (const auto reports = p::ParseConektaOrder(input, why)) {
                for (const ProviderReport& r : *reports) {
                    Check(r);
                }
            }
            break;
        }
        case 6:  // an STP abono
            Check(p::ParseStpAbono(input, "2026-11-23T16:00:00Z"));
            break;
        default: {  // Openpay with its right credentials (base64 of "u:p"), with and without
                    // the private key; then the same bytes as the charge its API returns
            Check(p::ParseOpenpay(input, "Basic dTpw", "u", "p"));
            Check(p::ParseOpenpay(input, "Basic dTpw", "u", "p", true));
            for (const char* type :
                 {"charge.succeeded", "charge.refunded", "chargeback.accepted"}) {
                std::string why;
                if (const auto reports = p::ParseOpenpayCharge(type, input, why)) {
                    for (const ProviderReport& r : *reports) {
                        Check(r);
                    }
                }
            }
            break;
        }
    }
    return 0;
}
