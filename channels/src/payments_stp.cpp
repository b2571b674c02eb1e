// STP's "abono" (payments-providers.md §5.2): a settled incoming SPEI transfer, in the
// camelCase of STP's SendAbono or the PascalCase of other receivers. STP signs nothing: what
// protects this route is the network (docs/payments.md), and what gets credited is only a
// transfer into a per-debtor CLABE of the creditor's own range, which the server checks.

#include <charconv>

#include "channels/cep.hpp"

#include "payments_common.hpp"

namespace cobrador::channels {

using namespace provider;  // NOLINT(google-build-using-namespace): this file's helpers

namespace {

using json = nlohmann::json;

// A member under either spelling, as text (numbers too: FechaOperacion is an integer there).
std::string Field(const json& abono, const char* camel, const char* pascal) {
    for (const char* key : {camel, pascal}) {
        if (auto text = Id(abono, key); !text.empty()) {
            return text;
        }
    }
    return {};
}

}  // namespace

Verdict ParseStpAbono(std::string_view body, std::string_view received_at) {
    json abono;
    Verdict v = Start("stp", body, abono);
    if (!v.ok()) {
        return v;
    }
    const std::string id = Field(abono, "id", "Clave");
    const std::string tracking = Field(abono, "claveRastreo", "ClaveRastreo");
    const std::string date = Field(abono, "fechaOperacion", "FechaOperacion");
    const std::string sender = Field(abono, "institucionOrdenante", "InstitucionOrdenante");
    const std::string clabe = Field(abono, "cuentaBeneficiario", "CuentaBeneficiario");
    auto amount = PesosCents(abono, "monto");
    if (!amount) {
        amount = PesosCents(abono, "Monto");
    }
    if (id.empty() || tracking.empty() || date.size() != 8 || sender.empty() || clabe.empty() ||
        !amount || *amount <= 0) {
        return Refuse(Refusal::kMalformed,
                      "an abono needs id, claveRastreo, fechaOperacion (YYYYMMDD), "
                      "institucionOrdenante, cuentaBeneficiario and a positive monto");
    }
    v.event.event_id = id;
    v.event.type = "abono";
    store::ProviderReport r;
    r.provider = "stp";
    // One transfer, whatever STP's id: the key of Banxico's CEP lookup too.
    r.payment = tracking + ":" + date + ":" + sender;
    r.spei_key = SpeiKey(tracking, date, sender);
    r.total_cents = *amount;
    r.currency = "MXN";
    r.clabe = clabe;
    r.method = "spei";
    // Into the creditor's own CLABE, the debtor quotes our reference: SPEI's numeric reference
    // (seven digits, ours zero-padded) or the concept's last word ("PAGO REF 0004217").
    const std::string numeric = Field(abono, "referenciaNumerica", "ReferenciaNumerica");
    if (!numeric.empty() && numeric.size() <= 7 &&
        numeric.find_first_not_of("0123456789") == std::string::npos && numeric != "0") {
        r.reference = std::string(7 - numeric.size(), '0') + numeric;
    } else {
        const std::string words = Text(abono, "conceptoPago").empty() ? Text(abono, "ConceptoPago")
                                                                      : Text(abono, "conceptoPago");
        r.reference = Reference(words.substr(words.find_last_of(' ') + 1));
    }
    // tsLiquidacion: the settlement, in milliseconds since the epoch.
    const std::string settled = Field(abono, "tsLiquidacion", "TsLiquidacion");
    std::int64_t ms = 0;
    const auto [end, error] = std::from_chars(settled.data(), settled.data() + settled.size(), ms);
    r.paid_at =
        !settled.empty() && error == std::errc() && end == settled.data() + settled.size() && ms > 0
            ? IsoFromUnix(ms / 1000)
            : std::string();
    if (r.paid_at.empty()) {
        r.paid_at = std::string(received_at);
    }
    v.event.reports.push_back(std::move(r));
    return v;
}

}  // namespace cobrador::channels
