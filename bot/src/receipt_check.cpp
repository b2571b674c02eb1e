#include "receipt_check.hpp"

#include <algorithm>

#include "dialogs/calendar.hpp"
#include "dialogs/money.hpp"
#include "dialogs/receipt.hpp"
#include "dialogs/reference.hpp"

namespace cobrador::bot {

namespace {

bool Digits(std::string_view text) {
    return !text.empty() &&
           std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// One of our payment references among the words of `concept`.
std::string ReferenceIn(const std::string& concept_text) {
    std::string word;
    const std::string text = concept_text + " ";
    for (const char c : text) {
        if (c >= '0' && c <= '9') {
            word += c;
            continue;
        }
        if (dialogs::AccountFromAnyReference(word)) {
            return word;
        }
        word.clear();
    }
    return {};
}

// One of our payment references in what the debtor wrote as reference or concept: the numeric
// reference itself, zero-padded to seven digits, else a word of the concept.
std::string OurReference(const store::ReceiptReading& r) {
    if (Digits(r.reference) && r.reference.size() <= 7) {
        const std::string padded = std::string(7 - r.reference.size(), '0') + r.reference;
        if (dialogs::AccountFromAnyReference(padded)) {
            return padded;
        }
    }
    return ReferenceIn(r.payment_concept);
}

}  // namespace

CepPlan PlanCepLookup(const store::ReceiptReading& r, const OurAccounts& ours) {
    CepPlan plan;
    if (!r.read) {
        plan.outcome = "unreadable";
        plan.detail = r.error.empty() ? "the file could not be read" : r.error;
        return plan;
    }
    // The beneficiary account: ours in full, or ours as the receipt masks it ("****0007").
    std::string account = r.beneficiary_account;
    if (account.size() != 18 && account.find('*') != std::string::npos) {
        const std::string shown = account.substr(account.find_last_of('*') + 1);
        if (shown.size() >= 4 && ours.clabe.size() == 18 &&
            ours.clabe.compare(18 - shown.size(), shown.size(), shown) == 0) {
            account = ours.clabe;
        }
    }
    std::vector<std::string> missing;
    if (r.clave_rastreo.empty()) {
        missing.emplace_back("clave de rastreo");
    }
    if (!r.amount_cents || *r.amount_cents <= 0) {
        missing.emplace_back("amount");
    }
    if (r.operation_date.empty()) {
        missing.emplace_back("date");
    }
    const auto bank = channels::BankCodeOfName(r.sending_bank);
    if (!bank) {
        missing.emplace_back(r.sending_bank.empty()
                                 ? "sending bank"
                                 : "a sending bank we know (read: " + r.sending_bank + ")");
    }
    if (account.empty()) {
        missing.emplace_back("beneficiary account");
    }
    if (!missing.empty()) {
        plan.outcome = "incomplete";
        plan.detail = "the receipt does not show its ";
        for (std::size_t i = 0; i < missing.size(); ++i) {
            plan.detail += (i == 0 ? "" : i + 1 == missing.size() ? " or " : ", ") + missing[i];
        }
        return plan;
    }
    if (account.size() != 18 || !dialogs::IsValidClabe(account)) {
        plan.outcome = "not_ours";
        plan.detail = "the beneficiary account " + r.beneficiary_account +
                      " is not a CLABE of the creditor's";
        return plan;
    }
    if (account == ours.clabe) {
        plan.reference = OurReference(r);
    } else if (const auto id = ours.stp_clabe_prefix.empty()
                                   ? std::nullopt
                                   : dialogs::AccountFromClabe(ours.stp_clabe_prefix, account)) {
        plan.reference = dialogs::PaymentReference(*id).value_or("");
        plan.reference_from_clabe = true;
    } else {
        plan.outcome = "not_ours";
        plan.detail =
            "the money went to " + account + ", which is not one of the creditor's accounts";
        return plan;
    }
    const auto receptor = channels::ParticipantOfClabe(account);
    const auto emisor = channels::ParticipantOfBankCode(*bank);
    for (const std::string& clave : dialogs::ClaveReadings(r.clave_rastreo, kCepReadings)) {
        channels::CepQuery q;
        q.date = r.operation_date;
        q.clave = clave;
        q.emisor = *emisor;
        q.receptor = *receptor;
        q.cuenta = account;
        q.amount_cents = *r.amount_cents;
        plan.queries.push_back(std::move(q));
    }
    if (plan.queries.empty()) {
        plan.outcome = "incomplete";
        plan.detail = "the clave de rastreo read (" + r.clave_rastreo + ") is not one";
    }
    return plan;
}

store::ReceiptVerdict VerdictFromCep(const channels::CepQuery& query,
                                     const channels::CepTransfer& cep,
                                     const CepPlan& plan) {
    store::ReceiptVerdict v;
    std::string clave = cep.clave;
    std::transform(clave.begin(), clave.end(), clave.begin(), [](unsigned char c) {
        return static_cast<char>(std::toupper(c));
    });
    std::vector<std::string> differs;
    if (clave != query.clave) {
        differs.push_back("clave de rastreo " + cep.clave);
    }
    if (cep.beneficiary_account != query.cuenta) {
        differs.push_back("account " + cep.beneficiary_account);
    }
    if (cep.amount_cents != query.amount_cents) {
        differs.push_back("amount " + dialogs::FormatDecimalCents(cep.amount_cents));
    }
    // The receipt shows the day it was sent; the CEP the operation date, which is the next
    // banking day for a transfer after SPEI's cut-off or on a holiday.
    const auto asked = dialogs::ParseIsoDate(query.date);
    const auto operated = dialogs::ParseIsoDate(cep.date);
    const int days = asked && operated ? dialogs::DaysBetween(*asked, *operated) : -1;
    if (days < 0 || days > kOperationDaysAfter) {
        differs.push_back("date " + cep.date);
    }
    if (!differs.empty()) {
        v.outcome = "mismatch";
        v.detail = "Banxico's CEP names another transfer:";
        for (const std::string& d : differs) {
            v.detail += " " + d + ";";
        }
        return v;
    }
    v.confirmed = true;
    store::PaymentRecord& p = v.payment;
    // Keyed by the operation date, as STP and statements report the transfer.
    p.spei_key = channels::SpeiKey(query.clave, cep.date, query.emisor);
    p.payment_id = "cep:" + p.spei_key;
    if (plan.reference_from_clabe) {
        p.reference = plan.reference;
    } else if (const std::string in_cep = ReferenceIn(cep.payment_concept); !in_cep.empty()) {
        p.reference = in_cep;  // Banxico's own record of what the sender wrote
    } else {
        p.reference = plan.reference;
        v.reference_read = !p.reference.empty();
    }
    p.amount_cents = cep.amount_cents;
    p.currency = "MXN";
    // When the money moved; SPEI runs on Mexico City's time, UTC-6 all year since 2022.
    const bool settled = !cep.settled_date.empty() && !cep.settled_time.empty();
    const auto at = dialogs::ParseIso8601((settled ? cep.settled_date : cep.date) + "T" +
                                          (settled            ? cep.settled_time
                                           : cep.time.empty() ? "12:00:00"
                                                              : cep.time) +
                                          "-06:00");
    p.paid_at = at ? dialogs::FormatIsoInstant(*at) : cep.date + "T18:00:00Z";
    p.method = "spei";
    v.detail = "confirmed with Banxico's CEP";
    return v;
}

}  // namespace cobrador::bot
