#pragma once
// Confirming a SPEI receipt with Banxico's CEP (docs/media.md "Confirming a receipt"), the
// pure part: which lookups a reading allows, and what a CEP the portal answered proves. The
// media worker sends the lookups.

#include <string>
#include <string_view>
#include <vector>

#include "channels/cep.hpp"
#include "store/messaging.hpp"
#include "store/payments.hpp"

namespace cobrador::bot {

// The creditor's accounts a transfer may be paid into.
struct OurAccounts {
    std::string clabe;             // COBRADOR_CLABE: quoted with one of our references
    std::string stp_clabe_prefix;  // COBRADOR_STP_CLABE_PREFIX: one CLABE per account
};

struct CepPlan {
    // The lookups to try in turn, one per plausible reading of the clave de rastreo; empty
    // when the receipt cannot be looked up (`outcome` says why).
    std::vector<channels::CepQuery> queries;
    std::string reference;  // our payment reference the transfer pays; empty: none read
    // The reference is the one the CLABE names (a per-debtor CLABE the CEP confirms), not
    // one read from the image.
    bool reference_from_clabe = false;
    std::string outcome;  // unreadable, incomplete, not_ours
    std::string detail;   // for the person who checks it
};

// At most this many readings of a clave de rastreo are looked up.
inline constexpr std::size_t kCepReadings = 8;
// The CEP's operation date may follow the day the receipt shows by this many days (a transfer
// after the daily cut-off on a Friday before a long weekend).
inline constexpr int kOperationDaysAfter = 4;

CepPlan PlanCepLookup(const store::ReceiptReading& reading, const OurAccounts& ours);

// What the CEP answered for `query` proves: the payment to apply (confirmed), or "mismatch"
// when the CEP names another transfer than the receipt (another account, amount, date or
// clave).
// The reference is the CLABE's, else one in the CEP's own concept, else the one read from the
// image, which then must name an account of the debtor who sent it (the store checks).
store::ReceiptVerdict VerdictFromCep(const channels::CepQuery& query,
                                     const channels::CepTransfer& cep,
                                     const CepPlan& plan);

}  // namespace cobrador::bot
