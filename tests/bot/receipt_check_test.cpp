// What a receipt's reading allows to be looked up with Banxico's CEP, and what the CEP's answer
// proves (in-process: the pure part of the media worker's confirmation).

#include "receipt_check.hpp"

#include <catch2/catch.hpp>

#include "dialogs/reference.hpp"

namespace cobrador::bot {
namespace {

const OurAccounts kOurs{"646180110400000007", "6461801570"};

store::ReceiptReading Bbva() {
    store::ReceiptReading r;
    r.read = true;
    r.clave_rastreo = "MBANO1002611230012345678";  // OCR read the 0 after MBAN as an O
    r.amount_cents = 150000;
    r.operation_date = "2026-11-23";
    r.sending_bank = "BBVA MEXICO";
    r.beneficiary_account = "646180110400000007";
    r.reference = "13";  // María's reference (0000013) as a bank app shows it
    r.payment_concept = "PAGO A-1001";
    return r;
}

TEST_CASE("Receipt check: the lookups a reading allows", "[bot][receipts][cep]") {
    const CepPlan plan = PlanCepLookup(Bbva(), kOurs);
    REQUIRE(plan.outcome.empty());
    CHECK(plan.reference == *dialogs::PaymentReference(1));
    // Her reference from before December 2026 (Luhn's digit) is found too; the ledger decides
    // whether it still counts.
    store::ReceiptReading legacy = Bbva();
    legacy.reference = "18";
    CHECK(PlanCepLookup(legacy, kOurs).reference == *dialogs::LegacyPaymentReference(1));
    REQUIRE(plan.queries.size() >= 2);
    CHECK(plan.queries.size() <= kCepReadings);
    CHECK(plan.queries[0].clave == "MBANO1002611230012345678");  // as read, first
    bool printed = false;
    for (const auto& q : plan.queries) {
        CHECK(q.emisor == "40012");
        CHECK(q.receptor == "90646");
        CHECK(q.cuenta == "646180110400000007");
        CHECK(q.amount_cents == 150000);
        CHECK(q.date == "2026-11-23");
        printed = printed || q.clave == "MBAN01002611230012345678";
    }
    CHECK(printed);

    // The reference in the concept when the numeric one is not ours.
    store::ReceiptReading concept_only = Bbva();
    concept_only.reference = "12";
    concept_only.payment_concept = "ABONO REF " + *dialogs::PaymentReference(7);
    CHECK(PlanCepLookup(concept_only, kOurs).reference == *dialogs::PaymentReference(7));
    // None at all: still looked up (the money may be ours), to be matched by a person.
    concept_only.payment_concept = "PAGO";
    const CepPlan unnamed = PlanCepLookup(concept_only, kOurs);
    CHECK(unnamed.outcome.empty());
    CHECK(unnamed.reference.empty());

    // Our CLABE as a receipt masks it.
    store::ReceiptReading masked = Bbva();
    masked.beneficiary_account = "****0007";
    const CepPlan unmasked = PlanCepLookup(masked, kOurs);
    REQUIRE(unmasked.outcome.empty());
    CHECK(unmasked.queries[0].cuenta == "646180110400000007");

    // A per-debtor CLABE of the STP range pays its own account, whatever the concept says.
    store::ReceiptReading own = Bbva();
    own.beneficiary_account = *dialogs::AccountClabe(kOurs.stp_clabe_prefix, 42);
    own.reference.clear();
    const CepPlan per_debtor = PlanCepLookup(own, kOurs);
    REQUIRE(per_debtor.outcome.empty());
    CHECK(per_debtor.reference == *dialogs::PaymentReference(42));
}

TEST_CASE("Receipt check: what cannot be looked up says why", "[bot][receipts][cep]") {
    store::ReceiptReading unreadable;
    unreadable.error = "the image is too large to read";
    CHECK(PlanCepLookup(unreadable, kOurs).outcome == "unreadable");
    CHECK(PlanCepLookup(unreadable, kOurs).detail == "the image is too large to read");

    store::ReceiptReading blank;
    blank.read = true;
    const CepPlan nothing = PlanCepLookup(blank, kOurs);
    CHECK(nothing.outcome == "incomplete");
    CHECK(nothing.detail ==
          "the receipt does not show its clave de rastreo, amount, date, sending bank or "
          "beneficiary account");
    CHECK(nothing.queries.empty());

    store::ReceiptReading unknown_bank = Bbva();
    unknown_bank.sending_bank = "BANCO IMAGINARIO";
    CHECK(PlanCepLookup(unknown_bank, kOurs).detail.find("BANCO IMAGINARIO") != std::string::npos);

    store::ReceiptReading elsewhere = Bbva();
    elsewhere.beneficiary_account = "012180004643051249";  // someone else's BBVA account
    CHECK(PlanCepLookup(elsewhere, kOurs).outcome == "not_ours");
    elsewhere.beneficiary_account = "****1249";
    CHECK(PlanCepLookup(elsewhere, kOurs).outcome == "not_ours");
    elsewhere.beneficiary_account = "646180110400000008";  // a wrong check digit
    CHECK(PlanCepLookup(elsewhere, kOurs).outcome == "not_ours");
    // Without an STP range, a CLABE that looks like one is not ours.
    elsewhere.beneficiary_account = *dialogs::AccountClabe("6461801570", 42);
    CHECK(PlanCepLookup(elsewhere, {kOurs.clabe, ""}).outcome == "not_ours");
}

TEST_CASE("Receipt check: the CEP confirms the transfer the receipt shows, or nothing",
          "[bot][receipts][cep]") {
    const CepPlan plan = PlanCepLookup(Bbva(), kOurs);
    channels::CepQuery q = plan.queries[1];
    q.clave = "MBAN01002611230012345678";
    channels::CepTransfer cep;
    cep.date = "2026-11-23";
    cep.time = "10:42:17";
    cep.clave = "MBAN01002611230012345678";
    cep.beneficiary_account = "646180110400000007";
    cep.amount_cents = 150000;
    const store::ReceiptVerdict yes = VerdictFromCep(q, cep, plan);
    REQUIRE(yes.confirmed);
    CHECK(yes.reference_read);  // only the image named it: the store checks whose it is
    CHECK(yes.payment.spei_key == "MBAN01002611230012345678:20261123:40012");
    CHECK(yes.payment.payment_id == "cep:MBAN01002611230012345678:20261123:40012");
    CHECK(yes.payment.reference == *dialogs::PaymentReference(1));
    CHECK(yes.payment.amount_cents == 150000);
    CHECK(yes.payment.currency == "MXN");
    CHECK(yes.payment.paid_at == "2026-11-23T16:42:17Z");  // Mexico City is UTC-6
    CHECK(yes.payment.method == "spei");

    channels::CepTransfer other = cep;
    other.amount_cents = 15000;
    other.beneficiary_account = "012180004643051249";
    const store::ReceiptVerdict no = VerdictFromCep(q, other, plan);
    CHECK_FALSE(no.confirmed);
    CHECK(no.outcome == "mismatch");
    CHECK(no.detail ==
          "Banxico's CEP names another transfer: account 012180004643051249; amount 150.00;");
}

TEST_CASE(
    "Receipt check: a transfer after the cut-off carries the next operation date, and Banxico's "
    "concept names the account",
    "[bot][receipts][cep]") {
    const CepPlan plan = PlanCepLookup(Bbva(), kOurs);
    channels::CepQuery q = plan.queries[0];
    // Sent on Friday the 27th at 18:33; SPEI's operation date is Monday the 30th.
    q.date = "2026-11-27";
    channels::CepTransfer cep;
    cep.date = "2026-11-30";
    cep.time = "18:33:15";
    cep.settled_date = "2026-11-27";
    cep.settled_time = "18:33:15";
    cep.clave = q.clave;
    cep.beneficiary_account = q.cuenta;
    cep.amount_cents = q.amount_cents;
    cep.payment_concept = "PAGO " + *dialogs::PaymentReference(7);
    const store::ReceiptVerdict late = VerdictFromCep(q, cep, plan);
    REQUIRE(late.confirmed);
    // Keyed by the operation date, as STP reports it; paid when the money moved.
    CHECK(late.payment.spei_key == q.clave + ":20261130:40012");
    CHECK(late.payment.paid_at == "2026-11-28T00:33:15Z");
    // Banxico's record of the concept wins over what OCR read, and needs no other check.
    CHECK(late.payment.reference == *dialogs::PaymentReference(7));
    CHECK_FALSE(late.reference_read);
    // Five days later is another transfer; a day before, too.
    cep.date = "2026-12-02";
    CHECK_FALSE(VerdictFromCep(q, cep, plan).confirmed);
    cep.date = "2026-11-26";
    CHECK_FALSE(VerdictFromCep(q, cep, plan).confirmed);

    // A per-debtor CLABE names its account whatever the concept says.
    store::ReceiptReading own = Bbva();
    own.beneficiary_account = *dialogs::AccountClabe(kOurs.stp_clabe_prefix, 42);
    const CepPlan per_debtor = PlanCepLookup(own, kOurs);
    channels::CepQuery pq = per_debtor.queries[0];
    cep = {};
    cep.date = pq.date;
    cep.clave = pq.clave;
    cep.beneficiary_account = pq.cuenta;
    cep.amount_cents = pq.amount_cents;
    cep.payment_concept = "PAGO " + *dialogs::PaymentReference(7);
    const store::ReceiptVerdict clabe = VerdictFromCep(pq, cep, per_debtor);
    REQUIRE(clabe.confirmed);
    CHECK(clabe.payment.reference == *dialogs::PaymentReference(42));
    CHECK_FALSE(clabe.reference_read);
}

}  // namespace
}  // namespace cobrador::bot
