#pragma once
// Payments from the processor: the webhook's JSON body and the statement CSV (CONTRACT.md),
// parsed and checked before anything touches the ledger, and what applying them did.

#include <cstdint>
#include <functional>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/csv.hpp"
#include "store/import_format.hpp"

namespace cobrador::store {

struct PaymentRecord {
    std::size_t line = 0;  // the CSV line; 0 for a webhook
    std::string payment_id;
    std::string reference;  // as the processor wrote it
    std::int64_t amount_cents = 0;
    std::string currency;
    std::string paid_at;  // normalized to ISO 8601 UTC ("2026-11-23T16:05:00Z")
    std::string method;
    // A SPEI transfer's key (channels::SpeiKey): the same transfer is credited once, whoever
    // reports it. Empty when not known.
    std::string spei_key;
};

// The webhook's body: {"payment_id", "reference", "amount", "currency", "paid_at", "method"}.
// `amount` is a decimal string ("1500.00") or a JSON number with at most two decimals.
// nullopt with `error` set for anything else.
std::optional<PaymentRecord> ParsePaymentJson(std::string_view body, std::string& error);

struct ParsedPayments {
    std::vector<PaymentRecord> rows;
    std::vector<RowError> errors;  // empty when the file may be applied
    std::size_t records = 0;
    std::size_t duplicate_rows = 0;  // the same payment_id with the same data again (ignored)
};

// Reads and checks a whole payments CSV: payment_id, reference, amount, currency, paid_at,
// optional method. The same payment_id twice with different data is an error. `format` says
// how the file is written (ChoosePaymentsFormat); with it amounts may carry "$" and thousands
// separators, and paid_at may be a date (and time) in Mexico City as banks write it.
ParsedPayments ParsePaymentsCsv(std::istream& in, const CsvFormat& format = {});

// The format of a statement, from its first bytes and what the operator asked.
FormatChoice ChoosePaymentsFormat(std::string_view sample, const FormatRequest& asked);

// What became of one payment.
struct PaymentOutcome {
    std::string payment_id;
    // applied, suspense, duplicate; for a provider's reversal: reversed, or waiting (its
    // payment has not arrived yet)
    std::string status;
    std::string reason;      // for suspense: unknown_reference, bad_check_digit, currency_mismatch
    std::string account_id;  // the creditor's account, when applied
    std::int64_t applied_cents = 0;   // what reduced the balance
    std::int64_t overpaid_cents = 0;  // beyond the balance
    std::int64_t new_balance_cents = 0;
    std::int64_t restored_cents = 0;  // a reversal: what went back on the balance
    bool promise_kept = false;
    bool message_queued = false;  // a thank-you went to the outbox
};

struct PaymentsSummary {
    std::vector<PaymentOutcome> outcomes;  // in input order
    std::size_t applied = 0;
    std::size_t suspense = 0;
    std::size_t duplicates = 0;
};

// What the bot needs to write a thank-you: the debtor, the channel of their latest
// conversation, and the figures.
struct PaymentNotice {
    std::string debtor_name;
    std::string locale;
    std::string timezone;
    std::string phone;
    std::string channel;                // whatsapp, sms, sandbox
    bool whatsapp_window_open = false;  // the debtor wrote in the last 24 hours
    std::string account_id;
    std::int64_t amount_cents = 0;
    std::int64_t balance_cents = 0;
    std::string currency;
    bool promise_kept = false;
    bool verified = false;  // the identity check still holds: amounts may be said
};

// What a payment provider says about one of its payments (docs/payments.md), with the
// provider's ids but in our units. Reports are cumulative where the provider's are, so that
// duplicates and events out of order count once: "payment P has received T so far".
struct ProviderReport {
    enum class Kind {
        kReceived,  // money in: total_cents is everything received for `payment` so far
        kReversed,  // money taken back (refund, chargeback)
    };
    Kind kind = Kind::kReceived;
    std::string provider;  // stripe, mercadopago, openpay, conekta, stp
    std::string payment;   // the provider's id of the payment: pi_…, 1234567890, tr…
    // kReceived: received so far. kReversed without reversal_id: taken back so far; with one
    // (a refund or a dispute with an id of its own): that reversal's amount.
    std::int64_t total_cents = 0;
    std::string reversal_id;
    std::string reversal_kind;  // refund, chargeback
    std::string currency;       // ISO 4217, upper case
    std::string reference;      // our payment reference, as cobrador attached it; may be empty
    std::string clabe;          // STP: the per-debtor CLABE it was paid into (bot maps it)
    std::string paid_at;        // ISO 8601 UTC
    std::string method;         // oxxo, spei, card, …
    std::string spei_key;       // a SPEI transfer's key (channels::SpeiKey), when known
};

// One verified provider notification, as the webhook stores it.
struct ProviderEvent {
    std::string provider;
    std::string event_id;  // the provider's delivery id: a second delivery changes nothing
    std::string type;      // the provider's event type
    std::string body;      // as received
    std::vector<ProviderReport> reports;  // what it says about money (often nothing)
    // A thin notification (Mercado Pago's): the payment to fetch before anything is known.
    // Stored as pending; reports then come from CompleteProviderEvent.
    std::string fetch_payment;
};

struct ProviderEventOutcome {
    bool duplicate = false;                // this (provider, event_id) was already stored
    bool pending = false;                  // stored; the payment is fetched later
    std::vector<PaymentOutcome> outcomes;  // one per report
};

// A stored thin notification whose payment must be fetched.
struct PendingProviderEvent {
    std::int64_t id = 0;
    std::string provider;
    std::string event_id;
    std::string type;  // the provider's event type
    std::string fetch_payment;
    int attempts = 0;
};

// A message the bot decided to send on its own: the transcript's text and the outbox payload.
struct ProactiveMessage {
    std::string body;
    std::string payload;
    std::string send_at;  // ISO 8601 UTC: not before (the next contact window); empty: now
    // The debtor's zone when the message must go inside contact hours (the dispatcher checks
    // again when it sends); empty for a receipt that goes whenever.
    std::string contact_timezone;
};

// Called inside the transaction for each applied payment whose debtor can be written to (a
// conversation exists, the channel is not opted out, the phone is not a wrong number).
using PaymentNoticeFn = std::function<std::optional<ProactiveMessage>(const PaymentNotice&)>;

// A payment instrument (docs/payments.md "Creating instruments"): what a provider created so
// that a debtor can pay one account.
struct CreatedInstrument {
    std::string kind;         // "page" (a hosted payment page) or "cash" (a store reference)
    std::string url;          // the page, or the store voucher's barcode
    std::string reference;    // the store reference to quote at the till ("cash")
    std::string provider_id;  // the session, preference, link or charge id
    std::string expires_at;   // ISO 8601 UTC
};

// The two queues of work for providers.
enum class ProviderWork {
    kFetch,   // provider_events: a payment to fetch (PendingProviderEvent)
    kCreate,  // payment_instruments: an instrument to create (InstrumentJob)
};

// An instrument a debtor asked for that the provider has yet to create.
struct InstrumentJob {
    std::int64_t id = 0;
    std::string provider;
    std::int64_t account_row = 0;
    std::string account_id;  // the creditor's
    std::string reference;   // our payment reference for the account
    std::int64_t amount_cents = 0;
    std::string currency;
    std::string debtor_name;
    std::string email;
    std::string phone;
    int attempts = 0;
};

// Whom a message cobrador starts goes to, as the bot needs it to write one.
struct Addressee {
    std::string debtor_name;
    std::string locale;
    std::string timezone;
    std::string channel;                // whatsapp, sms, sandbox
    bool whatsapp_window_open = false;  // the debtor wrote in the last 24 hours
};

// What the bot needs to hand a created instrument to the debtor who asked for it.
struct InstrumentNotice {
    Addressee to;
    std::string account_id;
    std::int64_t amount_cents = 0;
    std::string currency;
    CreatedInstrument instrument;
};

using InstrumentNoticeFn = std::function<std::optional<ProactiveMessage>(const InstrumentNotice&)>;

struct InstrumentOutcome {
    bool stored = false;          // false: it was no longer pending (another worker did it)
    bool message_queued = false;  // the debtor is told now
};

// What looking a receipt up with Banxico's CEP came to (docs/media.md).
struct ReceiptVerdict {
    bool confirmed = false;
    // Not confirmed: not_found, incomplete, not_ours, unreadable, mismatch, cep_unavailable.
    std::string outcome;
    std::string detail;  // for the person who checks it
    // Confirmed: the transfer as the CEP shows it (payment_id, spei_key, reference, amount,
    // currency, paid_at, method).
    PaymentRecord payment;
    // The reference was only read from the image (not in the CEP, not a per-debtor CLABE): it
    // is used only when it names an account of the debtor who sent the receipt; otherwise the
    // payment waits in suspense for a person.
    bool reference_read = false;
};

struct ReceiptCheckOutcome {
    bool settled = false;  // false: it was no longer pending (another worker did it)
    std::string status;    // confirmed, unconfirmed
    std::string outcome;   // applied, suspense, duplicate, or the verdict's outcome
    PaymentOutcome payment;
    bool escalated = false;       // a person will look at it
    bool message_queued = false;  // the debtor is told (the thank-you, or that a person checks)
};

// The message to the debtor whose receipt went to a person ("to_person") or named a transfer
// credited already ("duplicate").
using ReceiptReplyFn =
    std::function<std::optional<ProactiveMessage>(const Addressee&, const std::string& kind)>;

// Payment references moved from Luhn's check digit to Damm's (docs/references.md): the
// accounts up to `last_legacy_account` had a Luhn reference, which is accepted on the days up to
// `ends_on` (none: until someone ends the transition).
struct ReferenceTransition {
    std::int64_t last_legacy_account = 0;
    std::optional<std::string> ends_on;  // YYYY-MM-DD
};

// A payment that matched no account.
struct SuspensePayment {
    std::string payment_id;
    std::string reference;
    std::int64_t amount_cents = 0;
    std::string currency;
    std::string paid_at;
    std::string method;
    std::string reason;
    std::string source;
    std::string received_at;
    bool refunded_in_part = false;  // the provider took part of it back: it cannot be matched
};

// What became of a person's match of a suspense payment to an account.
enum class MatchResult {
    kMatched,           // applied to the account, as if its reference had named it
    kNoPayment,         // no payment has that id
    kNotInSuspense,     // it is applied already (perhaps matched by someone else just now)
    kRefunded,          // the provider took part or all of it back: it cannot be matched
    kNoAccount,         // no account has that key
    kCurrencyMismatch,  // the account is kept in another currency
    kPossibleTwin,      // another payment of the same reference, amount and currency within two
                        // days may be the same money: matched only when the person confirms
};

struct SuspenseMatch {
    MatchResult result = MatchResult::kNoPayment;
    PaymentOutcome payment;  // when matched: the figures, and whether a thank-you was queued
    std::string twin;        // kPossibleTwin: the other payment's payment_id
};

// A promise that went unpaid past its date and the grace period.
// A promise, or an instalment plan (plan_id set), found broken.
struct BrokenPromise {
    std::int64_t promise_id = 0;
    std::int64_t plan_id = 0;
    std::int64_t installment_id = 0;  // a plan's: the instalment it missed
    std::int64_t account_row = 0;
    std::string account_id;
    std::int64_t debtor_id = 0;
    std::int64_t amount_cents = 0;
    std::int64_t paid_cents = 0;
    std::string currency;
    std::string due_date;
    int broken_recently = 0;  // this debtor's broken promises in the last 30 days (plans: ever)
    bool escalated = false;   // the second one: handed to a person
    bool message_queued = false;
};

// What the bot needs to write the follow-up of a broken promise.
struct FollowUp {
    std::string debtor_name;
    std::string locale;
    std::string timezone;
    std::string channel;
    bool whatsapp_window_open = false;
    std::string account_id;
    std::int64_t missing_cents = 0;
    std::string currency;
    std::string due_date;
};

using FollowUpFn = std::function<std::optional<ProactiveMessage>(const FollowUp&)>;

}  // namespace cobrador::store
