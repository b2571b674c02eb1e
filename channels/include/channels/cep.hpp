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
#include "dialogs/reference.hpp"

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
    kFound,       // a CEP can be downloaded
    kNotFound,    // "Operación no encontrada": no transfer matches every criterion
    kNotYet,      // the transfer was found but its CEP cannot be generated yet
    kNotSettled,  // found, but returned, cancelled or rejected: no money arrived
    kBusy,        // "ha excedido el número máximo de consultas"
    kUnknown,     // an answer we do not recognise (a changed page, an error page)
};

// valida.do's page (UTF-8 or Latin-1, as the portal sends it).
CepAnswer ReadCepAnswer(std::string_view html);

// What the CEP says the transfer was.
struct CepTransfer {
    std::string date;  // FechaOperacion, YYYY-MM-DD
    std::string time;  // Hora, HH:MM:SS (Mexico City), when given
    // When the money moved (cadenaCDA's settlement date and time, Mexico City), when given: a
    // transfer made after SPEI's daily cut-off, or on a holiday, carries the next operation
    // date but settles the day it was sent.
    std::string settled_date;  // YYYY-MM-DD
    std::string settled_time;  // HH:MM:SS
    std::string clave;         // claveRastreo
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

// The 5-digit SPEI participant code of a CLABE's bank (dialogs::ParticipantOfBankCode).
std::optional<std::string> ParticipantOfClabe(std::string_view clabe);
// The 3-digit code of a bank as receipts name it ("BBVA MEXICO", "Banorte", "NU MÉXICO");
// nullopt for a name we do not know.
std::optional<std::string> BankCodeOfName(std::string_view name);

using dialogs::ParticipantOfBankCode;
using dialogs::SpeiKey;

}  // namespace cobrador::channels
