// Reading SPEI receipts as Mexican banks and apps lay them out, as text (a PDF's text layer, or
// what OCR made of a screenshot), and the readings of a clave de rastreo OCR may have misread.

#include "dialogs/receipt.hpp"

#include <set>

#include <catch2/catch.hpp>

namespace cobrador::dialogs {
namespace {

Date D(const char* iso) {
    return *ParseIsoDate(iso);
}

TEST_CASE("Receipt: label and value on one line (a bank app's screenshot)", "[dialogs][receipt]") {
    const auto r = ReadReceipt(
        "BBVA\n"
        "Comprobante de transferencia\n"
        "Transferencia SPEI enviada\n"
        "Importe: $1,500.00\n"
        "Fecha de operación: 23/11/2026 10:42:17\n"
        "Clave de rastreo: MBAN01002611230012345678\n"
        "Banco emisor: BBVA MEXICO\n"
        "Cuenta destino: 6461 8011 0400 0000 07\n"
        "Beneficiario: Demo Financiera SA de CV\n"
        "Referencia numérica: 1000187\n"
        "Concepto de pago: PAGO A-1001\n");
    CHECK(r.clave_rastreo == "MBAN01002611230012345678");
    CHECK(r.amount_cents == 150000);
    CHECK(r.date == D("2026-11-23"));
    CHECK(r.sending_bank == "BBVA MEXICO");
    CHECK(r.beneficiary_account == "646180110400000007");
    CHECK(r.beneficiary_name == "Demo Financiera SA de CV");
    CHECK(r.reference == "1000187");
    CHECK(r.payment_concept == "PAGO A-1001");
    CHECK_FALSE(r.Empty());
}

TEST_CASE("Receipt: label above its value, upper case, masked account (a PDF's text layer)",
          "[dialogs][receipt]") {
    const auto r = ReadReceipt(
        "BANORTE\r\n"
        "COMPROBANTE ELECTRÓNICO DE PAGO\r\n"
        "MONTO\r\n"
        "$ 12,345.67 MXN\r\n"
        "FECHA DE APLICACIÓN\r\n"
        "23 NOV 2026\r\n"
        "NÚMERO DE RASTREO\r\n"
        "072 0112 3456 7890\r\n"
        "CUENTA BENEFICIARIA\r\n"
        "****0007\r\n"
        "CONCEPTO\r\n"
        "abono cuenta\r\n");
    CHECK(r.amount_cents == 1234567);
    CHECK(r.date == D("2026-11-23"));
    CHECK(r.clave_rastreo == "072011234567890");
    CHECK(r.beneficiary_account == "****0007");
    CHECK(r.payment_concept == "abono cuenta");
    CHECK(r.reference.empty());
    CHECK(r.sending_bank.empty());
}

TEST_CASE("Receipt: dates and amounts as apps write them", "[dialogs][receipt]") {
    CHECK(ReadReceipt("Fecha: 2026-11-23").date == D("2026-11-23"));
    CHECK(ReadReceipt("Fecha y hora: 23-11-26 08:00").date == D("2026-11-23"));
    CHECK(ReadReceipt("Fecha de envío: 1 de diciembre de 2026").date == D("2026-12-01"));
    CHECK(ReadReceipt("Fecha: 05/Sep/2026").date == D("2026-09-05"));
    CHECK(ReadReceipt("Date: 23 Nov 2026").date == D("2026-11-23"));
    CHECK_FALSE(ReadReceipt("Fecha: 31/02/2026").date);  // no such day
    CHECK_FALSE(ReadReceipt("Fecha: mañana").date);

    CHECK(ReadReceipt("Monto: $800").amount_cents == 80000);
    CHECK(ReadReceipt("Cantidad: 1 500.50 MXN").amount_cents == 150050);
    CHECK(ReadReceipt("Importe transferido\n$15,000.00").amount_cents == 1500000);
    CHECK(ReadReceipt("Total: 99.9 pesos").amount_cents == 9990);
    // A number without a money mark next to the label is not money.
    CHECK_FALSE(ReadReceipt("Importe: 1000187").amount_cents);
    CHECK_FALSE(ReadReceipt("Importe: pendiente").amount_cents);
    // Money elsewhere on the page, without its label, is not the amount.
    CHECK_FALSE(ReadReceipt("Saldo disponible $5,000.00").amount_cents);
}

TEST_CASE("Receipt: nothing is read without its label", "[dialogs][receipt]") {
    const auto r =
        ReadReceipt("MBAN01002611230012345678\n$1,500.00\n23/11/2026\n646180110400000007\n");
    CHECK(r.Empty());
    CHECK(ReadReceipt("").Empty());
    CHECK(ReadReceipt("\n\n\n").Empty());
    // A label with nothing after it, even on the next lines, reads nothing.
    CHECK(ReadReceipt("Clave de rastreo:\n\n").clave_rastreo.empty());
    // Too short or too long to be a clave de rastreo.
    CHECK(ReadReceipt("Clave de rastreo: AB12").clave_rastreo.empty());
    CHECK(ReadReceipt("Clave de rastreo: " + std::string(40, 'A')).clave_rastreo.empty());
}

TEST_CASE("Receipt: odd text never breaks the reader", "[dialogs][receipt]") {
    std::string junk;
    for (int i = 0; i < 5000; ++i) {
        junk += static_cast<char>((i * 37) % 256);
    }
    (void)ReadReceipt(junk);
    (void)ReadReceipt(std::string(200000, '\n'));
    (void)ReadReceipt("Importe: $" + std::string(5000, '9') + ".00");
    CHECK_FALSE(ReadReceipt("Importe: $" + std::string(5000, '9') + ".00").amount_cents);
    const auto cut = ReadReceipt("Concepto: " + std::string(79, 'a') + "ñandú");
    CHECK(cut.payment_concept.size() <= 80);
    CHECK(cut.payment_concept == std::string(79, 'a'));  // never half of "ñ"
}

TEST_CASE("ClaveReadings: O/0, I/1, S/5 and B/8, the reading first, bounded",
          "[dialogs][receipt]") {
    const auto none = ClaveReadings("XYZ2472467");
    REQUIRE(none.size() == 1);  // nothing OCR confuses
    CHECK(none[0] == "XYZ2472467");
    const auto readings = ClaveReadings("BNET0100261");
    REQUIRE(readings.size() == 16);
    CHECK(readings[0] == "BNET0100261");
    const std::set<std::string> unique(readings.begin(), readings.end());
    CHECK(unique.size() == readings.size());
    CHECK(unique.count("8NET0100261") == 1);  // one change
    CHECK(unique.count("BNETO100261") == 1);
    CHECK(unique.count("BNET0I00261") == 1);
    // Every reading differs from the key only where OCR confuses letters and digits.
    for (const std::string& r : readings) {
        REQUIRE(r.size() == 11);
        for (std::size_t i = 0; i < r.size(); ++i) {
            if (r[i] != readings[0][i]) {
                CHECK(std::string("O0I1S5B8").find(r[i]) != std::string::npos);
            }
        }
    }
    CHECK(ClaveReadings("BNET0100261", 3).size() == 3);
    CHECK(ClaveReadings("abc123").empty());  // lower case: not as read
    CHECK(ClaveReadings("AB12").empty());
    CHECK(ClaveReadings("AB-123456").empty());
}

}  // namespace
}  // namespace cobrador::dialogs
