// Any bytes as a payment provider's answer to creating an instrument (Stripe's Checkout
// Session, Mercado Pago's preference, Conekta's payment link, Openpay's store charge): no parser
// may crash, hang or read out of bounds, and whatever is accepted must be safe to hand to a
// debtor: an https URL without spaces or control characters, an id, an expiry in UTC, and for a
// store reference only digits and capital letters.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "channels/payment_instruments.hpp"
#include "dialogs/calendar.hpp"

namespace {

bool Printable(const std::string& text) {
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if (c <= 0x20 || c >= 0x7f) {
            return false;
        }
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    static constexpr std::string_view kProviders[] = {
        "stripe", "mercadopago", "conekta", "openpay"};
    const std::string_view provider = kProviders[data[0] % 4];
    const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
    std::string why;
    const auto made = cobrador::channels::ParseCreatedInstrument(provider, body, 1764000000, why);
    if (!made) {
        if (why.empty()) {
            std::abort();  // a refusal always says why
        }
        return 0;
    }
    const bool url_ok = made->url.rfind("https://", 0) == 0 && Printable(made->url);
    const bool id_ok = !made->provider_id.empty() && Printable(made->provider_id);
    const bool expiry_ok = cobrador::dialogs::ParseIsoInstant(made->expires_at).has_value();
    bool reference_ok = made->kind == "page" ? made->reference.empty() : !made->reference.empty();
    for (const char c : made->reference) {
        reference_ok = reference_ok && ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'));
    }
    if (!url_ok || !id_ok || !expiry_ok || !reference_ok) {
        std::abort();
    }
    return 0;
}
