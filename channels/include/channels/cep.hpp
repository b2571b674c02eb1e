#pragma once
// Banxico's CEP (Comprobante Electrónico de Pago), the public proof that a SPEI transfer
// settled (payments-providers.md §6; docs/media.md "Confirming a receipt"). The lookup is the
// portal's own form: POST {base}/valida.do (form-encoded: tipoCriterio=T, captcha=c,
// tipoConsulta=1, fecha=DD-MM-YYYY, criterio=<clave de rastreo>, emisor and receptor as
// 5-digit SPEI participant codes, cuenta=<beneficiary CLABE>, monto=<pesos>,
// receptorParticipante=0) answers an HTML page; when it names a transfer, GET
// {base}/descarga.do?formato=XML with the session's cookies answers the CEP itself:
//   <SPEI_Tercero FechaOperacion="2019-04-12" Hora="13:31:44" ClaveSPEI="40012" sello="…"
//                 claveRastreo="CUENCA1555093850">
//     <Beneficiario BancoReceptor="…" Nombre="…" Cuenta="012180004643051249"
//                   MontoPago="000000000000008.17" Concepto="…"/>
//     <Ordenante BancoEmisor="STP" Nombre="…" Cuenta="646180157042875763"/>
//   </SPEI_Tercero>
// The portal has no documented API contract: everything here reads it defensively, and any
// answer it does not recognise counts as "try again later", never as a confirmation.
// Pure; never throws.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "channels/http_call.hpp"

namespace cobrador::channels {

// What is looked up: one transfer.
struct CepQuery {
    std::string date;      // the operation's date, YYYY-MM-DD
    std::string clave;     // the clave de rastreo, as tried
    std::string emisor;    // the sending participant, 5 digits (40012)
    std::string receptor;  // the receiving participant, 5 digits (90646)
    std::string cuenta;    // the beneficiary's CLABE, 18 digits
    std::int64_t amount_cents = 0;
};

HttpCall CepValidateCall(std::string_view base, const CepQuery& query);

// The XML download in the session valida.do opened (`cookies`: "name=value" each).
HttpCall CepDownloadCall(std::string_view base, const std::vector<std::string>& cookies);

// "name=value" from a Set-Cookie header's value; empty for anything unusable.
std::string CookiePair(std::string_view set_cookie);

enum class CepAnswer {
    kFound,     // a CEP can be downloaded
    kNotFound,  // "Operación no encontrada": no transfer matches every criterion
    kNotYet,    // the transfer was found but its CEP cannot be generated yet
    kBusy,      // "ha excedido el número máximo de consultas"
    kUnknown,   // an answer we do not recognise (a changed page, an error page)
};

// valida.do's page (UTF-8 or Latin-1, as the portal sends it).
CepAnswer ReadCepAnswer(std::string_view html);

// What the CEP says the transfer was.
struct CepTransfer {
    std::string date;   // FechaOperacion, YYYY-MM-DD
    std::string time;   // Hora, HH:MM:SS (Mexico City), when given
    std::string clave;  // claveRastreo
    std::string receptor;
    std::string beneficiary_account;
    std::string beneficiary_name;
    std::int64_t amount_cents = 0;
    std::string sending_bank;
    std::string sending_account;
    std::string payment_concept;
};

// nullopt, with `why`, for anything but a CEP with its clave, date, beneficiary and amount.
std::optional<CepTransfer> ParseCepXml(std::string_view xml, std::string& why);

// The 5-digit SPEI participant code of a bank's 3-digit code (a CLABE's first three digits):
// banca múltiple is 40xxx, banca de desarrollo 37xxx, and every other participant (the 6xx
// and 7xx codes: STP, Nu, Mercado Pago, brokers, SOFIPOs) 90xxx. nullopt for anything but
// three digits.
std::optional<std::string> ParticipantOfBankCode(std::string_view abm_code);
// The same from a CLABE.
std::optional<std::string> ParticipantOfClabe(std::string_view clabe);
// The 3-digit code of a bank as receipts name it ("BBVA MEXICO", "Banorte", "NU MÉXICO");
// nullopt for a name we do not know.
std::optional<std::string> BankCodeOfName(std::string_view name);

// The key one SPEI transfer is credited by, whoever reports it (STP's abono, a receipt
// confirmed with the CEP, a bank statement): the clave de rastreo in upper case, the
// operation's date as YYYYMMDD and the sending participant as 5 digits, joined by ':'. The date
// may be given as YYYY-MM-DD or YYYYMMDD, the sender as 3 or 5 digits. Empty when any part is
// unusable.
std::string SpeiKey(std::string_view clave, std::string_view date, std::string_view sender);

}  // namespace cobrador::channels
