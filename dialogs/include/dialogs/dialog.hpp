#pragma once
// The collection dialog: a pure state machine. Step(conversation, event, clock, settings)
// returns the next state, the ledger commands and the replies; it does no I/O and reads no
// clock, so `serve`, `cobrador chat` and the tests drive it identically. Its transition tables
// in dialogs/src/dialog.cpp are the specification; docs/dialog.md shows them (Transitions()),
// and tests/dialogs/dialog_table_test.cpp fails when the two differ.
//
// Replies are message keys with arguments (templates/ renders them per locale and channel),
// so nothing here holds a sentence. Value types; safe from any thread.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "dialogs/calendar.hpp"
#include "dialogs/money.hpp"
#include "dialogs/nlu.hpp"
#include "dialogs/policy.hpp"

namespace cobrador::dialogs {

using Instant = std::chrono::sys_seconds;

// --- what the bot says: message keys of templates/data/*.msg with their arguments ---

using ArgValue = std::variant<std::string, std::int64_t, Money, Date>;
using Args = std::vector<std::pair<std::string, ArgValue>>;

struct Line {
    std::string key;
    Args args;
};

// A choice offered as a button, a list row or a numbered SMS option. `id` comes back as the
// WhatsApp reply id; `key` names the title in the catalog.
struct Option {
    std::string id;
    std::string key;
};

struct Reply {
    std::vector<Line> lines;  // joined with line breaks into one message
    std::vector<Option> options;
};

// --- the state the dialog keeps between messages (conversations.dialog_state, JSON) ---

enum class Stage {
    kNew,             // nothing said yet, or the conversation went idle before verification
    kVerifying,       // asked for the date of birth
    kLocked,          // too many failed checks: nothing until locked_until
    kReady,           // verified; the menu
    kPromise,         // collecting a promise's amount and date
    kConfirmPromise,  // asked "¿es correcto?" about a promise
    kNegotiating,     // offers shown
    kConfirmPlan,     // asked to confirm a settlement or plan
    kEnded,           // wrong number: no further contact
};

std::string_view ToString(Stage stage);

struct PendingPlan {
    std::string kind;  // "settlement" or "installments"
    std::int64_t total_cents = 0;
    std::int64_t discount_cents = 0;
    std::int64_t down_cents = 0;         // first payment, 0 for none
    int installments = 0;                // after the down payment
    std::int64_t installment_cents = 0;  // the first (largest) of them

    friend bool operator==(const PendingPlan&, const PendingPlan&) = default;
};

struct DialogState {
    Stage stage = Stage::kNew;
    int failed_verifications = 0;
    int misunderstood = 0;  // in a row
    std::optional<Instant> verified_until;
    std::optional<Instant> locked_until;
    std::optional<Instant> last_activity;
    std::vector<std::string> options;  // the option ids last offered, in order ("2" = second)
    std::int64_t account_id = 0;       // the account a promise or negotiation is about
    std::optional<std::int64_t> amount_cents;
    std::optional<Date> date;
    std::optional<PendingPlan> plan;        // offered or being confirmed
    std::optional<PendingPlan> settlement;  // offered
    // What the debtor asked before the identity check ("balance", "reference", "receipt",
    // "dispute:<category>", "privacy:<right>"), answered as soon as it passes instead of the
    // menu.
    std::string asked;
    std::string asked_text;     // a dispute's or a privacy request's own words, kept likewise
    bool told_unknown = false;  // a phone we do not know was told how to reach the creditor
    int voice_notes = 0;        // audio and video messages in this conversation

    friend bool operator==(const DialogState&, const DialogState&) = default;
};

std::string ToJson(const DialogState& state);
// A state stored by any version; what cannot be read starts over (kNew), never throws.
DialogState DialogStateFromJson(std::string_view json);

// What the bot remembers when a collector hands a conversation back: verification and a lock
// stand, a half-collected promise or offer does not (the collector may have settled it
// otherwise), so the debtor's next message is read from the menu.
DialogState HandBack(DialogState state);

// The name to greet someone by: "María Fernanda López" and "López, María Fernanda" -> "María".
std::string FirstName(std::string_view name);

// --- what the dialog sees ---

struct PromiseView {
    Money amount;
    Date date;
};

// The newest payment instrument a provider created for an account (docs/payments.md).
struct InstrumentView {
    std::string provider;
    std::string kind;       // "page" or "cash"
    std::string url;        // the page, or the store voucher
    std::string reference;  // the store reference ("cash")
    Money amount;
    Instant expires_at;
};

struct AccountView {
    std::int64_t id = 0;  // ledger id (the payment reference is derived from it)
    std::string key;      // the creditor's account_id, shown to the debtor
    Money balance;
    Date due_date;
    std::optional<std::int64_t> min_payment_cents;
    std::optional<PromiseView> open_promise;
    bool active_plan = false;
    std::optional<Money> next_installment;  // what is left of the active plan's next one
    std::optional<InstrumentView> instrument;
};

struct DebtorView {
    std::int64_t id = 0;
    std::string name;
    Date birth_date;
    std::string locale = "es-MX";
    std::string timezone = "America/Mexico_City";
    std::vector<AccountView> accounts;
};

// A case (docs/cases.md) still open for the debtor: asked again, the bot names it instead of
// opening another.
struct OpenCaseView {
    std::string kind;      // complaint, privacy
    std::string category;  // for privacy: the right
    std::string folio;
    Date due;
};

struct ConversationView {
    std::string channel;  // whatsapp, sms, sandbox
    std::vector<OpenCaseView> open_cases;
    std::optional<DebtorView> debtor;  // nullopt: a phone we do not know
    bool wrong_number = false;         // the phone told us before that it is not the debtor's
    DialogState state;
};

struct Event {
    std::string text;      // the message's text, or a file's caption
    std::string reply_id;  // the WhatsApp button or list row chosen, if any
    // What the message is: "text" (or empty), "interactive", "button", or one that is not
    // words: image, document (a receipt, as debtors send them), audio, video (a voice note),
    // sticker, reaction, location, contacts, unsupported.
    std::string kind = {};
};

struct Clock {
    Instant now;
    Date today;  // in the debtor's time zone
};

struct Settings {
    std::string company = "Demo Financiera";
    std::string clabe;  // the creditor's CLABE for SPEI (validated at start-up)
    std::string payment_url = "https://pagos.example.com/r/{reference}?monto={amount}";
    // The provider that creates payment pages and store references (COBRADOR_PAYMENTS_PROVIDER);
    // empty: the link is payment_url's.
    std::string payments_provider;
    // How and when a person of the creditor can be reached (COBRADOR_CONTACT_PHONE, _HOURS),
    // said when escalating and to a phone we do not know; empty: not said.
    std::string contact_phone;
    std::string contact_hours;
    // Receipts are confirmed with Banxico's CEP by the media worker (COBRADOR_CEP_BASE set):
    // the turn only says so, and only what cannot be confirmed goes to a person. Otherwise
    // every receipt goes to a person at once.
    bool confirm_receipts = false;
    // The creditor's privacy notice (COBRADOR_PRIVACY_URL): linked in the first message and
    // when asked for; empty: not linked.
    std::string privacy_url;
    // The creditor's own days off besides the banks' (COBRADOR_DAYS_OFF): not business days
    // when a case's answer is due.
    std::vector<Date> days_off;
    Policy policy = DefaultPolicy();
    std::chrono::seconds idle_timeout{30 * 60};
    std::chrono::seconds verification_ttl{24 * 60 * 60};
    std::chrono::seconds lock_duration{24 * 60 * 60};
    int max_verification_failures = 3;
    int max_misunderstood = 3;
};

// --- what the ledger must record, in the same transaction as the state and the replies ---

struct Verified {
    Instant until;
};

struct VerificationFailed {
    int failures = 0;
};

struct Locked {
    Instant until;
};

struct Escalated {
    std::string reason;  // verification_failed, already_paid, dispute, cannot_pay, human,
                         // not_understood, negotiation_outside_policy, negotiation_approval,
                         // receipt_review, voice_notes, privacy
};

struct PromiseMade {
    std::int64_t account_id = 0;
    Money amount;
    Date date;
};

struct Installment {
    Date due;
    std::int64_t cents = 0;
};

struct PlanAgreed {
    std::int64_t account_id = 0;
    std::string kind;  // settlement, installments
    Money total;
    std::int64_t discount_cents = 0;
    std::vector<Installment> schedule;
};

struct ReferenceIssued {
    std::int64_t account_id = 0;
    std::string reference;
};

// A payment instrument for an amount of the account (what is due now: the open promise, the
// plan's next instalment, or the balance), to be created by the provider off the turn's path
// and sent to the debtor when it is ready.
struct InstrumentRequested {
    std::int64_t account_id = 0;
    std::string provider;
    Money amount;
};

// A dispute or complaint (kind "complaint", 30 business days to answer) or a privacy request
// (kind "privacy", 20 business days) registered for a person to answer. The store gives it its
// folio: a reply that names the folio carries kFolioArg as the argument's value, which the store
// replaces with the folio it assigned, in the same transaction.
struct CaseOpened {
    std::string kind;      // complaint, privacy
    std::string category;  // complaint: not_mine, identity_theft, wrong_amount, already_paid,
                           // treatment, other; privacy: access, rectification, cancellation,
                           // opposition
    std::int64_t account_id = 0;  // 0: every account of the debtor
    Date due;                     // the answer is due by this day
    std::string description;      // the debtor's own words
};

inline constexpr std::string_view kFolioArg = "\u27e6folio\u27e7";  // ⟦folio⟧

// Business days a case has to be answered in (collections-mexico.md §1.8, market.md part 3).
inline constexpr int kComplaintBusinessDays = 30;
inline constexpr int kPrivacyBusinessDays = 20;

struct OptedOut {};

struct OptedIn {};

struct WrongNumber {};

using Command = std::variant<Verified,
                             VerificationFailed,
                             Locked,
                             Escalated,
                             PromiseMade,
                             PlanAgreed,
                             ReferenceIssued,
                             InstrumentRequested,
                             CaseOpened,
                             OptedOut,
                             OptedIn,
                             WrongNumber>;

struct StepResult {
    DialogState state;
    std::vector<Command> commands;
    std::vector<Reply> replies;
    Understanding understood;  // for logs and metrics
};

StepResult Step(const ConversationView& conversation,
                const Event& event,
                const Clock& clock,
                const Settings& settings);

// --- the transition tables, by name, for docs/dialog.md ---

struct TransitionDoc {
    std::string from;    // "any", "any but locked, ended", or stages: "promise, confirm_promise"
    std::string on;      // a trigger ("opt_out") or "any"; empty before every message
    std::string guard;   // the guard's (condition's) function in dialog.cpp; "Always" for none
    std::string action;  // the action's (effect's) function; "Nothing" for none
    std::string to;      // a stage; "(same)", the stage it was in; or the stages the action picks
                         // from: "ready or negotiating"
    bool keeps_misunderstood_count = false;  // every other row resets the count in a row
};

// What Step() does before reading a message: every rule whose stage and condition hold, in
// order (time passing: idleness, a lock or a verification running out).
std::vector<TransitionDoc> BeforeEveryMessage();

// Then the first row whose stage, trigger and guard match.
std::vector<TransitionDoc> Transitions();

// The instalment schedule of a plan agreed on `today`: the down payment (if any) on the next
// quincena payday, then one instalment every quincena after it; a settlement is one payment
// within the bucket's settlement days.
std::vector<Installment> Schedule(const PendingPlan& plan, const Date& today, int settlement_days);

}  // namespace cobrador::dialogs
