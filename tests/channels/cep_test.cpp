// Banxico's CEP as the portal speaks it (payments-providers.md §6): the lookup form, the pages
// it answers (in Latin-1, as it sends them), the CEP's XML, participant codes and the key one
// SPEI transfer is credited by.

#include "channels/cep.hpp"

#include <catch2/catch.hpp>

namespace cobrador::channels {
namespace {

using namespace std::string_literals;

// The CEP of a real transfer, as the portal answered it (cep-python's recorded test, 2019),
// sello shortened.
const std::string kCepXml =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<SPEI_Tercero FechaOperacion=\"2019-04-12\" "
    "Hora=\"13:31:44\" ClaveSPEI=\"40012\" sello=\"X8YFvAfKZhV72datpHzKes/Aa==\" "
    "numeroCertificado=\"00001000000402531402\" "
    "cadenaCDA=\"||01|12042019|12042019|133144|40012|STP|Matin Tamizi|40|646180157042875763|ND|"
    "BBVA BANCOMER|MATIN TAMIZI|40|012180004643051249|TAMA840916669|Matin|000000000000000.00|"
    "000000000000008.17|00001000000402531402||X8YF==\" claveRastreo=\"CUENCA1555093850\">\r\n"
    "    <Beneficiario BancoReceptor=\"BBVA BANCOMER\" Nombre=\"MATIN TAMIZI\" TipoCuenta=\"40\" "
    "Cuenta=\"012180004643051249\" RFC=\"TAMA840916669\" Concepto=\"Matin\" "
    "IVA=\"000000000000000.00\" MontoPago=\"000000000000008.17\"/>\r\n"
    "    <Ordenante BancoEmisor=\"STP\" Nombre=\"Matin Tamizi\" TipoCuenta=\"40\" "
    "Cuenta=\"646180157042875763\" RFC=\"ND\"/>\r\n</SPEI_Tercero>";

TEST_CASE("CEP: the lookup is the portal's own form, and the download carries the session",
          "[channels][cep]") {
    CepQuery q;
    q.date = "2019-04-12";
    q.clave = "CUENCA1555093850";
    q.emisor = "90646";
    q.receptor = "40012";
    q.cuenta = "012180004643051249";
    q.amount_cents = 817;
    const HttpCall call = CepValidateCall("https://www.banxico.org.mx/cep/", q);
    CHECK(call.method == "POST");
    CHECK(call.url == "https://www.banxico.org.mx/cep/valida.do");
    CHECK(call.body ==
          "tipoCriterio=T&captcha=c&tipoConsulta=1&fecha=12-04-2019&criterio=CUENCA1555093850&"
          "emisor=90646&receptor=40012&cuenta=012180004643051249&monto=8.17&"
          "receptorParticipante=0");
    q.amount_cents = 150000;
    q.clave = "ABC 1&2";
    const HttpCall escaped = CepValidateCall("http://127.0.0.1:9/cep", q);
    CHECK(escaped.body.find("criterio=ABC+1%262&") != std::string::npos);
    CHECK(escaped.body.find("monto=1500.00&") != std::string::npos);

    const HttpCall download =
        CepDownloadCall("https://www.banxico.org.mx/cep", {"JSESSIONID=nY1IT!-43", "", "ser=7"});
    CHECK(download.method == "GET");
    CHECK(download.url == "https://www.banxico.org.mx/cep/descarga.do?formato=XML");
    REQUIRE(download.headers.size() == 1);
    CHECK(download.headers[0] ==
          std::pair<std::string, std::string>{"Cookie", "JSESSIONID=nY1IT!-43; ser=7"});

    CHECK(CookiePair("JSESSIONID=nY1IT!-43; path=/; HttpOnly") == "JSESSIONID=nY1IT!-43");
    CHECK(CookiePair("TS014a=0189f4; Path=/") == "TS014a=0189f4");
    // Nothing that could add a header or a cookie of its own.
    CHECK(CookiePair("a=b\r\nX-Evil: 1") == "");
    CHECK(CookiePair("a=b,c=d") == "");
    CHECK(CookiePair("=b") == "");
    CHECK(CookiePair("novalue") == "");
}

TEST_CASE("CEP: the portal's answers, as it sends them", "[channels][cep]") {
    // Latin-1, as the portal writes it.
    const std::string not_found =
        "<div class=\"info\"><center><strong>Lo sentimos, por el momento no es posible generar "
        "el CEP. Operaci\xF3n no encontrada. El SPEI no ha recibido una orden de pago que cumpla "
        "con el criterio de b\xFAsqueda especificado.</strong></center></div>";
    CHECK(ReadCepAnswer(not_found) == CepAnswer::kNotFound);
    const std::string found =
        "<h2>Gracias por utilizar el servicio de descarga de CEP</h2><a "
        "href=\"descarga.do?formato=PDF\">PDF</a><a href=\"descarga.do?formato=XML\">XML</a>";
    CHECK(ReadCepAnswer(found) == CepAnswer::kFound);
    const std::string not_yet =
        "<strong>Lo sentimos, por el momento no es posible generar el CEP. Con la informaci\xF3n "
        "proporcionada se identific\xF3 el siguiente pago:</strong><tr><td>Estado del pago en "
        "Banxico</td><td>Liquidado</td></tr>";
    CHECK(ReadCepAnswer(not_yet) == CepAnswer::kNotYet);
    // The same page for a transfer that was returned: no money arrived.
    const std::string returned =
        "<strong>Lo sentimos, por el momento no es posible generar el CEP. Con la informaci\xF3n "
        "proporcionada se identific\xF3 el siguiente pago:</strong><tr><td>Estado del pago en "
        "Banxico</td><td>Devuelto</td></tr><div id=\"desc_Liquidado\"><h4>Liquidado</h4></div>";
    CHECK(ReadCepAnswer(returned) == CepAnswer::kNotSettled);
    CHECK(ReadCepAnswer("El SPEI no ha recibido una orden de pago que cumpla con el criterio") ==
          CepAnswer::kNotFound);
    CHECK(ReadCepAnswer("Usted ha excedido el n\xFAmero m\xE1ximo de consultas") ==
          CepAnswer::kBusy);
    CHECK(ReadCepAnswer("<html><h2>Error 500--Internal Server Error</h2></html>") ==
          CepAnswer::kUnknown);
    CHECK(ReadCepAnswer("") == CepAnswer::kUnknown);
}

TEST_CASE("CEP: the XML's transfer, and nothing from what is not a CEP", "[channels][cep]") {
    std::string why;
    const auto cep = ParseCepXml(kCepXml, why);
    INFO(why);
    REQUIRE(cep);
    CHECK(cep->date == "2019-04-12");
    CHECK(cep->time == "13:31:44");
    CHECK(cep->clave == "CUENCA1555093850");
    CHECK(cep->receptor == "40012");
    CHECK(cep->beneficiary_account == "012180004643051249");
    CHECK(cep->beneficiary_name == "MATIN TAMIZI");
    CHECK(cep->amount_cents == 817);
    CHECK(cep->sending_bank == "STP");
    CHECK(cep->sending_account == "646180157042875763");
    CHECK(cep->payment_concept == "Matin");
    CHECK(cep->settled_date == "2019-04-12");
    CHECK(cep->settled_time == "13:31:44");

    // Sent after the cut-off: the operation date is the next day, the settlement the day sent.
    std::string late = kCepXml;
    late.replace(late.find("||01|12042019|12042019|133144|"), 30, "||01|13042019|12042019|183315|");
    const auto next_day = ParseCepXml(late, why);
    REQUIRE(next_day);
    CHECK(next_day->settled_date == "2019-04-12");
    CHECK(next_day->settled_time == "18:33:15");

    // Entities in names are undone; the amount is exact at any size.
    const std::string big =
        "<SPEI_Tercero FechaOperacion=\"2026-11-23\" claveRastreo=\"X1\"><Beneficiario "
        "Nombre=\"PEREZ &amp; HIJOS &#211;PTICA &#x4E2D;\" Cuenta=\"646180110400000007\" "
        "MontoPago=\"000012345678901.23\"/></SPEI_Tercero>";
    const auto large = ParseCepXml(big, why);
    REQUIRE(large);
    CHECK(large->beneficiary_name == "PEREZ & HIJOS \xC3\x93PTICA \xE4\xB8\xAD");
    CHECK(large->amount_cents == 1234567890123);
    CHECK(large->time.empty());

    for (const std::string& bad : {
             ""s,
             "<html>Error 500</html>"s,
             "<SPEI_Tercero FechaOperacion=\"2026-11-23\" claveRastreo=\"X1\">"s,
             // no amount, a negative one, three decimals, letters
             "<SPEI_Tercero FechaOperacion=\"2026-11-23\" claveRastreo=\"X1\"><Beneficiario "
             "Cuenta=\"646180110400000007\"/></SPEI_Tercero>"s,
             "<SPEI_Tercero FechaOperacion=\"2026-11-23\" claveRastreo=\"X1\"><Beneficiario "
             "Cuenta=\"646180110400000007\" MontoPago=\"-5.00\"/></SPEI_Tercero>"s,
             "<SPEI_Tercero FechaOperacion=\"2026-11-23\" claveRastreo=\"X1\"><Beneficiario "
             "Cuenta=\"646180110400000007\" MontoPago=\"5.001\"/></SPEI_Tercero>"s,
             "<SPEI_Tercero FechaOperacion=\"2026-11-23\" claveRastreo=\"X1\"><Beneficiario "
             "Cuenta=\"64618011040000000A\" MontoPago=\"5.00\"/></SPEI_Tercero>"s,
             // a date that is not one, an attribute left open
             "<SPEI_Tercero FechaOperacion=\"23/11/2026\" claveRastreo=\"X1\"><Beneficiario "
             "Cuenta=\"646180110400000007\" MontoPago=\"5.00\"/></SPEI_Tercero>"s,
             "<SPEI_Tercero FechaOperacion=\"2026-11-23\" claveRastreo=\"X1\"><Beneficiario "
             "Cuenta=\"646180110400000007\" MontoPago=\"5.00/></SPEI_Tercero>"s,
             // an element whose name only begins like the CEP's
             "<SPEI_TerceroX FechaOperacion=\"2026-11-23\" claveRastreo=\"X1\"><BeneficiarioX "
             "Cuenta=\"646180110400000007\" MontoPago=\"5.00\"/></SPEI_TerceroX>"s,
         }) {
        INFO(bad);
        why.clear();
        CHECK_FALSE(ParseCepXml(bad, why));
        CHECK_FALSE(why.empty());
    }
}

TEST_CASE("CEP: participant codes from CLABEs and bank names, and the transfer's key",
          "[channels][cep]") {
    CHECK(ParticipantOfBankCode("012") == "40012");  // BBVA
    CHECK(ParticipantOfBankCode("002") == "40002");  // Banamex
    CHECK(ParticipantOfBankCode("646") == "90646");  // STP
    CHECK(ParticipantOfBankCode("638") == "90638");  // Nu
    CHECK(ParticipantOfBankCode("723") == "90723");
    CHECK(ParticipantOfBankCode("166") == "37166");  // Banco del Bienestar
    CHECK(ParticipantOfBankCode("135") == "37135");  // Nafin
    CHECK(ParticipantOfBankCode("12") == std::nullopt);
    CHECK(ParticipantOfBankCode("01a") == std::nullopt);
    CHECK(ParticipantOfClabe("646180110400000007") == "90646");
    CHECK(ParticipantOfClabe("012180004643051249") == "40012");
    CHECK(ParticipantOfClabe("01218000464305124") == std::nullopt);

    CHECK(BankCodeOfName("BBVA MEXICO") == "012");
    CHECK(BankCodeOfName("BBVA Bancomer") == "012");
    CHECK(BankCodeOfName("Banorte") == "072");
    CHECK(BankCodeOfName("BANCO SANTANDER MEXICO") == "014");
    CHECK(BankCodeOfName("Citibanamex") == "002");
    CHECK(BankCodeOfName("BANCO DEL BAJÍO") == "030");
    CHECK(BankCodeOfName("Banco del Bienestar") == "166");
    CHECK(BankCodeOfName("NU MÉXICO") == "638");
    CHECK(BankCodeOfName("Nu") == "638");
    CHECK(BankCodeOfName("Mercado Pago W") == "722");
    CHECK(BankCodeOfName("STP") == "646");
    CHECK(BankCodeOfName("NUEVO BANCO") == std::nullopt);  // "NU" only as a whole name
    CHECK(BankCodeOfName("") == std::nullopt);
    CHECK(BankCodeOfName("Banco") == std::nullopt);
    CHECK(BankCodeOfName("Banco Imaginario") == std::nullopt);

    // The same transfer, however each reporter writes it.
    const std::string key = "MBAN01002611230012345678:20261123:40012";
    CHECK(SpeiKey("MBAN01002611230012345678", "20261123", "40012") == key);
    CHECK(SpeiKey("mban01002611230012345678", "2026-11-23", "012") == key);
    CHECK(SpeiKey("", "20261123", "40012") == "");
    CHECK(SpeiKey("MBAN 0100", "20261123", "40012") == "");
    CHECK(SpeiKey("MBAN0100", "2026-1123", "40012") == "");
    CHECK(SpeiKey("MBAN0100", "20261123", "4001") == "");
    CHECK(SpeiKey(std::string(31, 'A'), "20261123", "40012") == "");
}

}  // namespace
}  // namespace cobrador::channels
