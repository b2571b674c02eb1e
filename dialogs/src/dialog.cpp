// The collection dialog. Step() first runs, in order, every rule of kBeforeEveryMessage whose
// stage and condition hold (time passing: a lock or a verification running out, idleness);
// then it reads the message (NLU, or the option chosen), turns it into one trigger, and runs
// the first row of the transition table (kTable) whose stage, trigger and guard match. Both
// tables read as the specification: from, on, guard, action, to. After the action, Step()
// moves the conversation to the row's `to`; only a row that lists several stages lets its
// action pick one of them (Turn::GoTo), and debug builds check the pick against the list.
// docs/dialog.md shows both tables (Transitions(); tests/dialogs/dialog_table_test.cpp fails
// when the document and the tables differ).
//
// Rules that hold across rows:
// - Leaving comes first: opt-out, opt-in and wrong number work from any stage, verified or not,
//   known phone or not, and say nothing about a debt.
// - Before the identity check passes nothing about a debt is said: not its existence, not an
//   amount, not a reference (the property test in tests/dialogs/dialog_test.cpp checks it).
// - Every reply's first line is neutral (lock-screen previews); the catalog keeps money off
//   first lines.

#include "dialogs/dialog.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <utility>

#include <re2/re2.h>

#include "dialogs/agreement.hpp"
#include "dialogs/contact.hpp"
#include "dialogs/entities.hpp"
#include "dialogs/reference.hpp"

#include "negotiation.hpp"

namespace cobrador::dialogs {

namespace {

// A provider's instrument is handed out while it has at least this long to run.
constexpr std::chrono::hours kInstrumentMargin{1};

// What a message amounts to, once the NLU or the chosen option has spoken.
enum class Trigger {
    kOptOut,
    kOptIn,
    kWrongNumber,
    kBalance,
    kReference,
    kPromise,
    kNegotiate,
    kAcceptSettlement,
    kAcceptPlan,
    kAlreadyPaid,
    kDispute,
    kPrivacy,
    kCannotPay,
    kHuman,
    kHelp,
    kGreeting,
    kThanks,
    kAffirm,
    kDeny,
    kInform,
    kReceipt,    // an image or document: a receipt, as debtors send them
    kVoiceNote,  // audio or video
    kNoText,     // a sticker, reaction, location, contact card or unsupported message
    kUnknown,
};

// The triggers' names in docs/dialog.md, in the enum's order: the NLU's intents' names, and
// the two offers' buttons.
// clang-format off
constexpr auto kTriggerNames = std::to_array<std::string_view>({
    "opt_out", "opt_in", "wrong_number", "balance", "payment_reference", "promise_to_pay",
    "negotiate", "accept_settlement", "accept_plan", "already_paid", "dispute", "privacy", "cannot_pay",
    "human", "help", "greeting", "thanks", "affirm", "deny", "inform", "receipt", "voice_note",
    "no_text", "unknown"});
// clang-format on
static_assert(kTriggerNames.size() == static_cast<std::size_t>(Trigger::kUnknown) + 1);

// Options offered in menus; the id is what comes back.
const Option kOptBalance{"balance", "menu_balance"};
const Option kOptPay{"pay", "menu_pay"};
const Option kOptPromise{"promise", "menu_promise"};
const Option kOptPlan{"plan", "menu_plan"};
const Option kOptHuman{"human", "menu_human"};
const Option kOptYes{"yes", "option_yes"};
const Option kOptNo{"no", "option_no"};
const Option kOptSettle{"accept_settlement", "offer_accept_settlement"};
const Option kOptInstallments{"accept_plan", "offer_accept_plan"};

std::optional<Trigger> TriggerForOption(std::string_view id) {
    static const std::array<std::pair<std::string_view, Trigger>, 9> kOptions = {{
        {"balance", Trigger::kBalance},
        {"pay", Trigger::kReference},
        {"promise", Trigger::kPromise},
        {"plan", Trigger::kNegotiate},
        {"human", Trigger::kHuman},
        {"yes", Trigger::kAffirm},
        {"no", Trigger::kDeny},
        {"accept_settlement", Trigger::kAcceptSettlement},
        {"accept_plan", Trigger::kAcceptPlan},
    }};
    for (const auto& [name, trigger] : kOptions) {
        if (name == id) {
            return trigger;
        }
    }
    return std::nullopt;
}

Trigger TriggerForIntent(Intent intent) {
    switch (intent) {
        case Intent::kOptOut:
            return Trigger::kOptOut;
        case Intent::kOptIn:
            return Trigger::kOptIn;
        case Intent::kWrongNumber:
            return Trigger::kWrongNumber;
        case Intent::kBalance:
            return Trigger::kBalance;
        case Intent::kPaymentReference:
            return Trigger::kReference;
        case Intent::kPromiseToPay:
            return Trigger::kPromise;
        case Intent::kNegotiate:
            return Trigger::kNegotiate;
        case Intent::kAlreadyPaid:
            return Trigger::kAlreadyPaid;
        case Intent::kDispute:
            return Trigger::kDispute;
        case Intent::kPrivacy:
            return Trigger::kPrivacy;
        case Intent::kCannotPay:
            return Trigger::kCannotPay;
        case Intent::kHuman:
            return Trigger::kHuman;
        case Intent::kHelp:
            return Trigger::kHelp;
        case Intent::kGreeting:
            return Trigger::kGreeting;
        case Intent::kThanks:
            return Trigger::kThanks;
        case Intent::kAffirm:
            return Trigger::kAffirm;
        case Intent::kDeny:
            return Trigger::kDeny;
        case Intent::kInform:
            return Trigger::kInform;
        case Intent::kUnknown:
            return Trigger::kUnknown;
    }
    return Trigger::kUnknown;
}

// Everything a row may read or write while handling one message.
struct Turn {
    const ConversationView& view;
    const Event& event;
    const Clock& clock;
    const Settings& settings;
    Understanding understood;
    Trigger trigger = Trigger::kUnknown;
    StepResult out;
    DialogState& st;            // = out.state
    std::optional<Stage> next;  // the stage the action picked, among its row's `to`

    Turn(const ConversationView& v, const Event& e, const Clock& c, const Settings& s)
        : view(v), event(e), clock(c), settings(s), st(out.state) {}

    const DebtorView& debtor() const { return *view.debtor; }

    const std::string& locale() const { return view.debtor ? view.debtor->locale : kSpanish; }

    bool verified() const { return st.verified_until && *st.verified_until > clock.now; }

    static inline const std::string kSpanish = "es-MX";

    Reply& Say(std::string key, Args args = {}) {
        out.replies.push_back({{{std::move(key), std::move(args)}}, {}});
        return out.replies.back();
    }

    void Also(std::string key, Args args = {}) {
        out.replies.back().lines.push_back({std::move(key), std::move(args)});
    }

    void Offer(std::vector<Option> options) {
        st.options.clear();
        for (const Option& o : options) {
            st.options.push_back(o.id);
        }
        out.replies.back().options = std::move(options);
    }

    template <class T>
    void Command(T command) {
        out.commands.emplace_back(std::in_place_type<T>, std::move(command));
    }

    // For the actions of rows whose `to` lists several stages: which one this turn goes to.
    // The stage itself changes after the action, so the action still reads the stage the row
    // matched in.
    void GoTo(Stage stage) { next = stage; }
};

// The account a promise or a negotiation is about: the most overdue one that has a balance.
const AccountView* Focus(const Turn& t) {
    const AccountView* best = nullptr;
    for (const AccountView& a : t.debtor().accounts) {
        if (a.balance.cents > 0 && (best == nullptr || a.due_date < best->due_date)) {
            best = &a;
        }
    }
    return best;
}

const AccountView* AccountById(const Turn& t, std::int64_t id) {
    for (const AccountView& a : t.debtor().accounts) {
        if (a.id == id) {
            return &a;
        }
    }
    return nullptr;
}

Money Cents(const AccountView& a, std::int64_t cents) {
    return Money{cents, a.balance.currency};
}

Date PromiseHorizon(const Turn& t) {
    return PromiseHorizon(t.settings.policy, t.clock.today);
}

void ClearPending(DialogState& st) {
    st.account_id = 0;
    st.amount_cents.reset();
    st.date.reset();
    st.plan.reset();
    st.settlement.reset();
}

// --- guards ---

using Guard = bool (*)(const Turn&);

bool Always(const Turn&) {
    return true;
}

bool UnknownPhone(const Turn& t) {
    return !t.view.debtor.has_value();
}

bool StillLocked(const Turn& t) {
    return t.st.locked_until && *t.st.locked_until > t.clock.now;
}

bool IsVerified(const Turn& t) {
    return t.verified();
}

bool NotVerified(const Turn& t) {
    return !t.verified();
}

bool BirthDateMatches(const Turn& t) {
    const auto date = ParseBirthDate(t.event.text, t.locale());
    return date && *date == t.debtor().birth_date;
}

// The date of birth typed again once verified: not a payment date.
bool RepeatsBirthDate(const Turn& t) {
    return t.verified() && BirthDateMatches(t);
}

// A full date (with its year) that is not the debtor's: a failed check. "el viernes" or "15/03"
// is no attempt at a date of birth and does not count against the debtor.
bool WroteADate(const Turn& t) {
    return ParseBirthDate(t.event.text, t.locale()).has_value();
}

// A wrong date of birth that leaves no attempt.
bool LastWrongDate(const Turn& t) {
    const int left = t.settings.max_verification_failures - (t.st.failed_verifications + 1);
    return WroteADate(t) && left <= 0;
}

// Verified, and the promise being confirmed has its account, amount and date.
bool PromiseComplete(const Turn& t) {
    return t.verified() && AccountById(t, t.st.account_id) != nullptr && t.st.amount_cents &&
           t.st.date;
}

// Verified, and the plan being confirmed has its account.
bool PlanComplete(const Turn& t) {
    return t.verified() && AccountById(t, t.st.account_id) != nullptr && t.st.plan;
}

// The promise being confirmed is for an account that got one meanwhile (a collector recorded
// it from the console while the debtor was answering).
bool PromiseOpenMeanwhile(const Turn& t) {
    const AccountView* a = t.verified() ? AccountById(t, t.st.account_id) : nullptr;
    return a != nullptr && a->open_promise.has_value();
}

// The same for a plan.
bool PlanActiveMeanwhile(const Turn& t) {
    const AccountView* a = t.verified() ? AccountById(t, t.st.account_id) : nullptr;
    return a != nullptr && a->active_plan;
}

bool HasPromiseData(const Turn& t) {
    const Entities& e = t.understood.entities;
    return e.amount_cents || e.date || e.amount_is_everything;
}

bool HasCounterOffer(const Turn& t) {
    const Entities& e = t.understood.entities;
    return e.installments || e.amount_cents;
}

bool VerifiedCounterOffer(const Turn& t) {
    return t.verified() && HasCounterOffer(t);
}

// Verified, and this message would be one misunderstood too many in a row.
bool MisunderstoodTooOften(const Turn& t) {
    return t.verified() && t.st.misunderstood + 1 >= t.settings.max_misunderstood;
}

// --- actions ---

using Action = void (*)(Turn&);

void ShowMenu(Turn& t) {
    t.Say("menu_prompt");
    t.Offer({kOptBalance, kOptPay, kOptPromise, kOptPlan, kOptHuman});
}

void OptOut(Turn& t) {
    t.Command(OptedOut{});
    t.Say("optout_confirm");
}

void OptIn(Turn& t) {
    t.Command(OptedIn{});
    t.Say("optin_confirm");
}

void EndWrongNumber(Turn& t) {
    t.Command(WrongNumber{});
    ClearPending(t.st);
    t.st.verified_until.reset();
    t.Say("wrong_number");
}

// How and when a person can be reached, as the catalog's "none" when not configured.
Args ContactArgs(const Turn& t) {
    return {{"company", t.settings.company},
            {"phone", t.settings.contact_phone.empty() ? "none" : t.settings.contact_phone},
            {"hours", t.settings.contact_hours.empty() ? "none" : t.settings.contact_hours}};
}

// Said in full once; after that, a short line instead of the same paragraph to every message.
void SayNeutral(Turn& t) {
    if (t.st.told_unknown) {
        t.Say("unknown_phone_again", {{"company", t.settings.company}});
        return;
    }
    t.st.told_unknown = true;
    t.Say("unknown_phone", ContactArgs(t));
}

void SayLocked(Turn& t) {
    t.Say("verify_locked", {{"company", t.settings.company}});
}

void AskBirthDate(Turn& t) {
    // A question asked before the check is kept, to be answered once it passes.
    if (t.trigger == Trigger::kBalance) {
        t.st.asked = "balance";
    } else if (t.trigger == Trigger::kReference) {
        t.st.asked = "reference";
    } else if (t.trigger == Trigger::kReceipt) {
        t.st.asked = "receipt";
    } else if (t.trigger == Trigger::kDispute) {
        t.st.asked = "dispute:" + t.understood.entities.category;
        t.st.asked_text = t.event.text;
    } else if (t.trigger == Trigger::kPrivacy) {
        t.st.asked = "privacy:" + t.understood.entities.right;
        t.st.asked_text = t.event.text;
    }
    // The privacy notice is the creditor's, about no one's debt: linked from the first message.
    t.Say("greeting_verify",
          {{"company", t.settings.company},
           {"privacy", t.settings.privacy_url.empty() ? "none" : t.settings.privacy_url}});
}

void AskBirthDateAgain(Turn& t) {
    if (t.trigger == Trigger::kReceipt) {
        // The receipt is kept; it goes to a person once the check passes.
        t.st.asked = "receipt";
        t.Say("receipt_verify_first");
        return;
    }
    t.Say("verify_ask_again");
}

void ShowBalance(Turn& t);
void IssueReferences(Turn& t);
void ReviewReceipt(Turn& t);
void OpenComplaint(Turn& t, const std::string& category, const std::string& said);
void OpenPrivacyRequest(Turn& t, const std::string& right, const std::string& said);

// The date of birth again, after the check passed: say so, and show the menu.
void SayAlreadyVerified(Turn& t) {
    ClearPending(t.st);
    t.Say("already_verified", {{"name", FirstName(t.debtor().name)}});
    t.Offer({kOptBalance, kOptPay, kOptPromise, kOptPlan, kOptHuman});
}

void Verify(Turn& t) {
    t.st.failed_verifications = 0;
    t.st.verified_until = t.clock.now + t.settings.verification_ttl;
    t.Command(dialogs::Verified{*t.st.verified_until});
    const std::string asked = std::exchange(t.st.asked, {});
    const std::string asked_text = std::exchange(t.st.asked_text, {});
    if (asked == "balance" || asked == "reference") {
        // What they asked before the check, answered now.
        t.Say("verified_answer", {{"name", FirstName(t.debtor().name)}});
        asked == "balance" ? ShowBalance(t) : IssueReferences(t);
        return;
    }
    if (asked == "receipt") {
        t.Say("verified_answer", {{"name", FirstName(t.debtor().name)}});
        ReviewReceipt(t);
        return;
    }
    if (asked.starts_with("dispute:") || asked.starts_with("privacy:")) {
        t.Say("verified_answer", {{"name", FirstName(t.debtor().name)}});
        const std::string what = asked.substr(asked.find(':') + 1);
        asked.starts_with("dispute:") ? OpenComplaint(t, what, asked_text)
                                      : OpenPrivacyRequest(t, what, asked_text);
        return;
    }
    t.Say("verified", {{"name", FirstName(t.debtor().name)}});
    t.Offer({kOptBalance, kOptPay, kOptPromise, kOptPlan, kOptHuman});
}

// A wrong date of birth with attempts left (LastWrongDate is the last one).
void FailVerification(Turn& t) {
    ++t.st.failed_verifications;
    const int left = t.settings.max_verification_failures - t.st.failed_verifications;
    t.Command(VerificationFailed{t.st.failed_verifications});
    t.Say("verify_failed", {{"count", std::int64_t{left}}});
}

void LockOut(Turn& t) {
    ++t.st.failed_verifications;
    t.st.locked_until = t.clock.now + t.settings.lock_duration;
    t.Command(VerificationFailed{t.st.failed_verifications});
    t.Command(Locked{*t.st.locked_until});
    t.Command(Escalated{"verification_failed"});
    SayLocked(t);
}

void ShowBalance(Turn& t) {
    bool any = false;
    for (const AccountView& a : t.debtor().accounts) {
        if (a.balance.cents <= 0) {
            continue;
        }
        if (!any) {
            t.Say("balance_header");
            any = true;
        }
        const int days = DaysPastDue(a.due_date, t.clock.today);
        if (days > 0) {
            t.Also("balance_line",
                   {{"account", a.key},
                    {"amount", a.balance},
                    {"date", a.due_date},
                    {"days", std::int64_t{days}}});
        } else {
            t.Also("balance_line_current",
                   {{"account", a.key}, {"amount", a.balance}, {"date", a.due_date}});
        }
    }
    if (!any) {
        t.Say("no_balance");
    }
}

// What a payment page is for: the open promise, else the plan's next instalment, else the
// balance (never more than the balance).
Money DueNow(const AccountView& a) {
    Money due = a.balance;
    if (a.open_promise) {
        due.cents = std::min(a.open_promise->amount.cents, a.balance.cents);
    } else if (a.next_installment) {
        due.cents = std::min(a.next_installment->cents, a.balance.cents);
    }
    return due;
}

// With a payments provider, a page for `amount` is asked for, and the debtor told it follows.
void RequestPage(Turn& t, const AccountView& account, Money amount) {
    if (t.settings.payments_provider.empty() || amount.cents <= 0) {
        return;
    }
    t.Command(InstrumentRequested{account.id, t.settings.payments_provider, amount});
    t.Also("link_soon", {{"amount", amount}});
}

void IssueReferences(Turn& t) {
    bool any = false;
    for (const AccountView& a : t.debtor().accounts) {
        if (a.balance.cents <= 0) {
            continue;
        }
        const auto reference = PaymentReference(a.id);
        if (!reference) {
            continue;
        }
        any = true;
        t.Command(ReferenceIssued{a.id, *reference});
        Args args = {{"account", a.key},
                     {"clabe", t.settings.clabe},
                     {"reference", *reference},
                     {"concept", SpeiConcept(*reference)}};
        std::string key = "reference";
        if (t.settings.payments_provider.empty()) {
            args.emplace_back(
                "link",
                PaymentLink(
                    t.settings.payment_url, *reference, FormatDecimalCents(a.balance.cents)));
        } else if (const Money due = DueNow(a);
                   a.instrument && a.instrument->provider == t.settings.payments_provider &&
                   a.instrument->amount == due &&
                   a.instrument->expires_at > t.clock.now + kInstrumentMargin) {
            // The provider's page or store reference for what is due now, still good for an
            // hour.
            args.emplace_back("link", a.instrument->url);
            if (a.instrument->kind == "cash") {
                key = "reference_store";
                args.emplace_back("store_reference", a.instrument->reference);
            }
        } else {
            // Asked for now; it follows in a moment.
            t.Command(InstrumentRequested{a.id, t.settings.payments_provider, due});
            key = "reference_link_soon";
        }
        t.Say(std::move(key), std::move(args));
    }
    if (!any) {
        t.Say("no_balance");
    }
}

// Leaves the stage to the row: a verified debtor's escalation goes back to the menu (ready).
void Escalate(Turn& t, std::string reason, std::string key = "escalated") {
    ClearPending(t.st);
    t.Command(Escalated{std::move(reason)});
    t.Say(std::move(key), ContactArgs(t));
}

void EscalateAlreadyPaid(Turn& t) {
    Escalate(t, "already_paid");
}

// The account a case is about: the one the conversation is on, else the debtor's only account
// with a balance, else all of them (0).
std::int64_t CaseAccount(const Turn& t) {
    std::int64_t only = 0;
    int owing = 0;
    for (const AccountView& a : t.debtor().accounts) {
        if (a.id == t.st.account_id) {
            return a.id;
        }
        if (a.balance.cents > 0) {
            only = a.id;
            ++owing;
        }
    }
    return owing == 1 ? only : 0;
}

std::string CaseAccountKey(const Turn& t, std::int64_t account_id) {
    for (const AccountView& a : t.debtor().accounts) {
        if (a.id == account_id) {
            return a.key;
        }
    }
    return "all";
}

// A dispute or complaint: a case with a folio and the day the creditor must answer by (30
// business days), reminders about the account stop while it is open, and a person takes the
// conversation.
// A case of `kind` (and, for privacy, `category`) still open for the debtor.
const OpenCaseView* AlreadyOpen(const Turn& t, std::string_view kind, std::string_view category) {
    for (const OpenCaseView& c : t.view.open_cases) {
        if (c.kind == kind && (kind == "complaint" || c.category == category)) {
            return &c;
        }
    }
    return nullptr;
}

// Asked again while a case is open: the same folio and due date, and a person is told again.
void SayStillOpen(Turn& t, const OpenCaseView& open, const std::string& reason) {
    ClearPending(t.st);
    t.Command(Escalated{reason});
    t.Say("case_still_open",
          {{"company", t.settings.company}, {"folio", open.folio}, {"due", open.due}});
}

void OpenComplaint(Turn& t, const std::string& category, const std::string& said) {
    if (const OpenCaseView* open = AlreadyOpen(t, "complaint", "")) {
        SayStillOpen(t, *open, "dispute");
        return;
    }
    const std::int64_t account = CaseAccount(t);
    const Date due = AddBusinessDays(t.clock.today, kComplaintBusinessDays, t.settings.days_off);
    t.Command(CaseOpened{"complaint", category.empty() ? "other" : category, account, due, said});
    ClearPending(t.st);
    t.Command(Escalated{"dispute"});
    Args args = ContactArgs(t);
    args.emplace_back("folio", std::string(kFolioArg));
    args.emplace_back("due", due);
    args.emplace_back("account", CaseAccountKey(t, account));
    args.emplace_back("category", category.empty() ? "other" : category);
    t.Say("case_opened", std::move(args));
}

void OpenDispute(Turn& t) {
    OpenComplaint(t, t.understood.entities.category, t.event.text);
}

// A privacy (ARCO) request: a case for the person in charge of personal data, answered within 20
// business days. Opposing the use of one's data, or asking for it to be deleted, also stops our
// messages on this channel at once.
void OpenPrivacyRequest(Turn& t, const std::string& right, const std::string& said) {
    if (right == "notice") {
        t.Say("privacy_notice",
              {{"company", t.settings.company},
               {"url", t.settings.privacy_url.empty() ? "none" : t.settings.privacy_url}});
        return;
    }
    const std::string what = right.empty() ? "access" : right;
    const bool stops = what == "opposition" || what == "cancellation";
    if (const OpenCaseView* open = AlreadyOpen(t, "privacy", what)) {
        if (stops) {
            t.Command(OptedOut{});
        }
        SayStillOpen(t, *open, "privacy");
        return;
    }
    const Date due = AddBusinessDays(t.clock.today, kPrivacyBusinessDays, t.settings.days_off);
    t.Command(CaseOpened{"privacy", what, 0, due, said});
    ClearPending(t.st);
    t.Command(Escalated{"privacy"});
    if (stops) {
        t.Command(OptedOut{});
    }
    t.Say("privacy_request",
          {{"company", t.settings.company},
           {"folio", std::string(kFolioArg)},
           {"due", due},
           {"right", what},
           {"stopped", stops ? "yes" : "no"},
           {"url", t.settings.privacy_url.empty() ? "none" : t.settings.privacy_url}});
}

void TakePrivacyRequest(Turn& t) {
    OpenPrivacyRequest(t, t.understood.entities.right, t.event.text);
}

// Before the identity check nothing is registered about anyone's data, but the notice is the
// creditor's (no one's debt) and an opposition stops the messages at once, like BAJA.
bool AsksForNotice(const Turn& t) {
    return t.understood.entities.right == "notice";
}

bool OpposesUnverified(const Turn& t) {
    const std::string& right = t.understood.entities.right;
    return !t.verified() && (right == "opposition" || right == "cancellation");
}

void SayPrivacyNotice(Turn& t) {
    OpenPrivacyRequest(t, "notice", "");
}

void EscalateHardship(Turn& t) {
    Escalate(t, "cannot_pay");
}

void EscalateHuman(Turn& t) {
    Escalate(t, "human");
}

// A receipt (an image or a PDF) is checked against the bank before any payment is recorded:
// by the media worker with Banxico's CEP when it is on (it thanks the debtor, or hands the
// receipt to a person), else by a person at once. The file itself is fetched and kept by the
// media worker.
void ReviewReceipt(Turn& t) {
    if (t.settings.confirm_receipts) {
        t.Say("receipt_checking");
        return;
    }
    Escalate(t, "receipt_review", "receipt_received");
}

// Audio and video cannot be listened to: said once, with what the debtor can do instead; the
// third goes to a person, who can; the others are kept for the collector without a word.
void AnswerVoiceNote(Turn& t) {
    ++t.st.voice_notes;
    const bool first = t.st.voice_notes == 1;
    if (first) {
        t.Say("voice_note");
    }
    if (t.st.stage == Stage::kNew) {
        t.Say("greeting_verify", {{"company", t.settings.company}});
        t.GoTo(Stage::kVerifying);
    } else if (first && t.verified()) {
        t.Offer({kOptBalance, kOptPay, kOptPromise, kOptPlan, kOptHuman});
    } else if (first) {
        t.Say("verify_ask_again");
    } else if (t.st.voice_notes == 3 && t.verified()) {
        Escalate(t, "voice_notes", "escalated_voice");
        t.GoTo(Stage::kReady);
    }
}

// The negotiation actions pick their stage: an escalation leaves a verified debtor at the menu.
void EscalateOffer(Turn& t, std::string reason) {
    Escalate(t, std::move(reason), "escalated_offer");
    if (t.verified()) {
        t.GoTo(Stage::kReady);
    }
}

// Promise: gathers amount and date over as many turns as it takes, checks them against the
// account and the policy, then asks for confirmation.
void TakePromise(Turn& t) {
    const AccountView* account = t.st.account_id != 0 ? AccountById(t, t.st.account_id) : Focus(t);
    if (account == nullptr) {
        ClearPending(t.st);
        t.GoTo(Stage::kReady);
        t.Say("no_balance");
        return;
    }
    if (account->open_promise) {
        ClearPending(t.st);
        t.GoTo(Stage::kReady);
        t.Say("promise_already_open",
              {{"amount", account->open_promise->amount}, {"date", account->open_promise->date}});
        return;
    }
    if (t.st.stage != Stage::kPromise && t.st.stage != Stage::kConfirmPromise) {
        ClearPending(t.st);
    }
    t.GoTo(Stage::kPromise);
    t.st.account_id = account->id;
    const Entities& e = t.understood.entities;
    if (e.amount_is_everything && !e.amount_cents) {
        t.st.amount_cents = account->balance.cents;
    }
    if (e.amount_cents) {
        t.st.amount_cents = std::min(*e.amount_cents, account->balance.cents);
    }
    if (e.date) {
        t.st.date = e.date;
    }
    if (t.st.date && *t.st.date < t.clock.today) {
        t.st.date.reset();
        t.Say("promise_refused_past");
        return;
    }
    const Date horizon = PromiseHorizon(t);
    if (t.st.date && *t.st.date > horizon) {
        t.st.date.reset();
        t.Say("promise_refused_horizon", {{"date", horizon}});
        t.Offer({kOptPlan, kOptHuman});
        return;
    }
    const std::int64_t minimum =
        std::min(account->min_payment_cents.value_or(0), account->balance.cents);
    if (t.st.amount_cents && *t.st.amount_cents < minimum) {
        t.st.amount_cents.reset();
        t.Say("promise_refused_minimum", {{"amount", Cents(*account, minimum)}});
        return;
    }
    if (!t.st.amount_cents && !t.st.date) {
        t.Say("promise_ask");
        return;
    }
    if (!t.st.amount_cents) {
        t.Say("promise_ask_amount", {{"balance", account->balance}});
        return;
    }
    if (!t.st.date) {
        t.Say("promise_ask_date", {{"date", horizon}});
        return;
    }
    t.GoTo(Stage::kConfirmPromise);
    t.Say("promise_confirm",
          {{"amount", Cents(*account, *t.st.amount_cents)}, {"date", *t.st.date}});
    t.Offer({kOptYes, kOptNo});
}

// The account has an open promise already: say which, record nothing.
void SayPromiseOpen(Turn& t) {
    const AccountView* account = AccountById(t, t.st.account_id);
    ClearPending(t.st);
    t.GoTo(Stage::kReady);
    t.Say("promise_already_open",
          {{"amount", account->open_promise->amount}, {"date", account->open_promise->date}});
}

// Its row's guard (PromiseComplete) has found the account, the amount and the date.
void RecordPromise(Turn& t) {
    const AccountView& account = *AccountById(t, t.st.account_id);
    const Money amount = Cents(account, *t.st.amount_cents);
    t.Command(PromiseMade{account.id, amount, *t.st.date});
    t.Say("promise_recorded", {{"amount", amount}, {"date", *t.st.date}});
    if (const auto reference = PaymentReference(account.id)) {
        // How to pay it, in the same answer: SPEI with the reference, and the link (the
        // provider's page follows when there is a provider).
        t.Command(ReferenceIssued{account.id, *reference});
        t.Also("promise_how_to_pay",
               {{"clabe", t.settings.clabe},
                {"reference", *reference},
                {"concept", SpeiConcept(*reference)}});
        if (t.settings.payments_provider.empty()) {
            t.Also("promise_link",
                   {{"link",
                     PaymentLink(
                         t.settings.payment_url, *reference, FormatDecimalCents(amount.cents))}});
        }
    }
    RequestPage(t, account, amount);
    ClearPending(t.st);
}

// A "yes" to a promise or plan that is no longer all there (the account has gone).
void ForgetAndShowMenu(Turn& t) {
    ClearPending(t.st);
    ShowMenu(t);
}

void AskPromiseAgain(Turn& t) {
    t.st.amount_cents.reset();
    t.st.date.reset();
    t.Say("promise_ask");
}

// --- negotiation ---

const PolicyBucket& BucketOf(const Turn& t, const AccountView& a) {
    return BucketFor(t.settings.policy, DaysPastDue(a.due_date, t.clock.today));
}

// One active plan per account: changing it is a person's decision.
void SayPlanActive(Turn& t) {
    ClearPending(t.st);
    t.GoTo(Stage::kReady);
    t.Say("plan_already_active");
    t.Offer({kOptPay, kOptHuman});
}

// The account's bucket when the bot may negotiate it; otherwise says why (a plan is already
// active, or the bucket needs a collector's approval) and returns nullptr.
const PolicyBucket* NegotiableBucket(Turn& t, const AccountView& account) {
    if (account.active_plan) {
        SayPlanActive(t);
        return nullptr;
    }
    const PolicyBucket& bucket = BucketOf(t, account);
    if (!bucket.bot_approves) {
        EscalateOffer(t, "negotiation_approval");
        return nullptr;
    }
    return &bucket;
}

// An instalment plan said exactly as it will be recorded: how many payments after the down
// payment, each amount to the cent (an uneven split says both amounts and how many of each),
// the down payment, and the first and last dates (every quincena).
Args PlanArgs(const AccountView& account, const PendingPlan& plan, const Date& today) {
    const auto parts = SplitEvenly(plan.total_cents - plan.down_cents, plan.installments);
    const std::int64_t big = parts.empty() ? 0 : parts.front();
    const std::int64_t small = parts.empty() ? 0 : parts.back();
    const auto big_count = static_cast<std::int64_t>(std::count(parts.begin(), parts.end(), big));
    const auto schedule = Schedule(plan, today, 0);
    return {{"count", std::int64_t{plan.installments}},
            {"amount", Cents(account, big)},
            {"split", std::string(big == small ? "even" : "uneven")},
            {"big_count", big_count},
            {"small", Cents(account, small)},
            {"small_count", std::int64_t{plan.installments} - big_count},
            {"down",
             plan.down_cents > 0 ? ArgValue(Cents(account, plan.down_cents))
                                 : ArgValue(std::string("none"))},
            {"date", schedule.front().due},
            {"last", schedule.back().due}};
}

void ShowOffers(Turn& t) {
    const AccountView* account = Focus(t);
    if (account == nullptr) {
        ClearPending(t.st);
        t.GoTo(Stage::kReady);
        t.Say("no_balance");
        return;
    }
    const PolicyBucket* negotiable = NegotiableBucket(t, *account);
    if (negotiable == nullptr) {
        return;
    }
    const PolicyBucket& bucket = *negotiable;
    ClearPending(t.st);
    t.st.account_id = account->id;
    t.st.settlement = negotiation::BestSettlement(*account, bucket);
    t.st.plan = negotiation::BestInstallmentPlan(*account, bucket);
    if (!t.st.settlement && !t.st.plan) {
        t.GoTo(Stage::kReady);
        t.Say("offer_none", {{"date", PromiseHorizon(t)}});
        t.Offer({kOptPromise, kOptHuman});
        return;
    }
    t.GoTo(Stage::kNegotiating);
    t.Say("offer_header", {{"account", account->key}});
    std::vector<Option> options;
    if (t.st.settlement) {
        t.Also("offer_discount",
               {{"date", AddDays(t.clock.today, bucket.settlement_days)},
                {"amount", Cents(*account, t.st.settlement->total_cents)},
                {"balance", account->balance}});
        options.push_back(kOptSettle);
    }
    if (t.st.plan) {
        const PendingPlan& plan = *t.st.plan;
        t.Also("offer_plan", PlanArgs(*account, plan, t.clock.today));
        options.push_back(kOptInstallments);
    }
    options.push_back(kOptHuman);
    t.Offer(std::move(options));
}

void ConfirmPlan(Turn& t, const PendingPlan& plan) {
    const AccountView* account = AccountById(t, t.st.account_id);
    if (account == nullptr) {
        ShowOffers(t);
        return;
    }
    const PolicyBucket& bucket = BucketOf(t, *account);
    const auto schedule = Schedule(plan, t.clock.today, bucket.settlement_days);
    t.GoTo(Stage::kConfirmPlan);
    t.st.plan = plan;
    t.st.settlement.reset();
    if (plan.kind == "settlement") {
        t.Say("settlement_confirm",
              {{"amount", Cents(*account, plan.total_cents)}, {"date", schedule.front().due}});
    } else {
        t.Say("plan_confirm", PlanArgs(*account, plan, t.clock.today));
    }
    t.Offer({kOptYes, kOptNo});
}

void AcceptSettlement(Turn& t) {
    if (!t.st.settlement) {
        ShowOffers(t);
        return;
    }
    ConfirmPlan(t, *t.st.settlement);
}

void AcceptPlan(Turn& t) {
    if (!t.st.plan) {
        ShowOffers(t);
        return;
    }
    ConfirmPlan(t, *t.st.plan);
}

bool SaysPerPeriod(const Turn& t) {
    static const RE2 kPerPeriod(
        R"(\b(cada|por|al|a la|per|every|a)\s+(quincena|mes|semana|month|week|two weeks|payday)\b|\b(mensual|mensuales|quincenal|quincenales|semanal|semanales|monthly|biweekly|weekly)\b)");
    return RE2::PartialMatch(Normalize(t.event.text, t.locale()), kPerPeriod);
}

// A counter-offer: a number of instalments, an instalment amount ("300 cada quincena") or a
// lump sum ("te ofrezco 2 mil y quedamos a mano"). Inside the policy it goes to confirmation;
// outside it goes to a collector.
void CounterOffer(Turn& t) {
    const AccountView* account = t.st.account_id != 0 ? AccountById(t, t.st.account_id) : Focus(t);
    if (account == nullptr) {
        ShowOffers(t);
        return;
    }
    const PolicyBucket* negotiable = NegotiableBucket(t, *account);
    if (negotiable == nullptr) {
        return;
    }
    const PolicyBucket& bucket = *negotiable;
    t.st.account_id = account->id;
    const Entities& e = t.understood.entities;
    std::optional<PendingPlan> plan;
    if (e.installments) {
        plan = negotiation::InstallmentPlan(*account, bucket, *e.installments);
    } else if (e.amount_cents && SaysPerPeriod(t)) {
        plan = negotiation::PlanPaying(*account, bucket, *e.amount_cents);
    } else if (e.amount_cents) {
        if (*e.amount_cents >= account->balance.cents) {
            TakePromise(t);  // the whole balance is a payment, not a negotiation
            return;
        }
        plan = negotiation::Settlement(*account, bucket, *e.amount_cents);
    }
    if (!plan) {
        EscalateOffer(t, "negotiation_outside_policy");
        return;
    }
    ConfirmPlan(t, *plan);
}

// Its row's guard (PlanComplete) has found the account and the plan.
void RecordPlan(Turn& t) {
    const AccountView& account = *AccountById(t, t.st.account_id);
    const PendingPlan plan = *t.st.plan;
    const PolicyBucket& bucket = BucketOf(t, account);
    const auto schedule = Schedule(plan, t.clock.today, bucket.settlement_days);
    t.Command(PlanAgreed{
        account.id, plan.kind, Cents(account, plan.total_cents), plan.discount_cents, schedule});
    if (plan.kind == "settlement") {
        t.Say("settlement_recorded",
              {{"amount", Cents(account, plan.total_cents)}, {"date", schedule.front().due}});
    } else {
        t.Say("plan_recorded", PlanArgs(account, plan, t.clock.today));
    }
    RequestPage(t, account, Cents(account, schedule.front().cents));
    ClearPending(t.st);
}

void SayWelcome(Turn& t) {
    t.Say("welcome");
    t.Offer({kOptBalance, kOptPay, kOptPromise, kOptPlan, kOptHuman});
}

// Its row keeps the count of misunderstood messages in a row, which every other row resets.
void NotUnderstood(Turn& t) {
    ++t.st.misunderstood;
    t.Say("not_understood");
    t.Offer({kOptBalance, kOptPay, kOptPromise, kOptPlan, kOptHuman});
}

void EscalateNotUnderstood(Turn& t) {
    Escalate(t, "not_understood");
}

// --- the transition tables ---

using enum Stage;

constexpr unsigned Bit(Stage s) {
    return 1U << static_cast<unsigned>(s);
}

constexpr unsigned kAnyStage = ~0U;
constexpr unsigned kInPromise = Bit(kPromise) | Bit(kConfirmPromise);
constexpr unsigned kInNegotiation = Bit(kNegotiating) | Bit(kConfirmPlan);
constexpr unsigned kTalking = kAnyStage & ~(Bit(kLocked) | Bit(kEnded));

// Where a row leaves the conversation: one stage (Go(kReady)); kSame, the stage it was in; or,
// for an action that picks by what it finds (Turn::GoTo), every stage it may pick. When such an
// action picks nothing, the stage stays, which must then be one of them.
struct To {
    unsigned stages;  // Bit()s
    bool same;        // the stage it was in
};

constexpr To kSame{0, true};

template <class... S>
constexpr To Go(S... stages) {
    return To{(Bit(stages) | ...), false};
}

// kAnyTrigger matches every trigger.
constexpr int kAnyTrigger = -1;

constexpr int On(Trigger t) {
    return static_cast<int>(t);
}

struct Row {
    unsigned from;  // stages (bits)
    int on;         // a Trigger, or kAnyTrigger
    Guard guard;
    Action action;
    std::string_view guard_name;  // the functions' own names, for Transitions()
    std::string_view action_name;
    To to;
    bool keeps_misunderstood_count = false;  // every other row resets the count of
                                             // misunderstood messages in a row
};

constexpr bool kKeepsCount = true;

// ROW(from, on, guard, action, to[, kKeepsCount]). A RULE of kBeforeEveryMessage is a row
// without a trigger: from, condition, effect, to.
// clang-format off
#define ROW(from, on, guard, action, ...) Row{from, on, guard, action, #guard, #action, __VA_ARGS__}
#define RULE(from, cond, effect, to) Row{from, kAnyTrigger, cond, effect, #cond, #effect, to}

// clang-format on

// Before every message: time passing between messages, and a number already marked wrong.
bool MarkedWrongNumber(const Turn& t) {
    return t.view.wrong_number;
}

bool LockRanOut(const Turn& t) {
    return t.st.locked_until && *t.st.locked_until <= t.clock.now;
}

bool VerificationRanOut(const Turn& t) {
    return t.st.verified_until && *t.st.verified_until <= t.clock.now;
}

bool Idle(const Turn& t) {
    return t.st.last_activity && t.clock.now - *t.st.last_activity > t.settings.idle_timeout;
}

bool IdleAndVerified(const Turn& t) {
    return Idle(t) && t.verified();
}

bool IdleNotVerified(const Turn& t) {
    return Idle(t) && !t.verified();
}

void Nothing(Turn&) {}

void Unlock(Turn& t) {
    t.st.locked_until.reset();
    t.st.failed_verifications = 0;
}

void ForgetPending(Turn& t) {
    ClearPending(t.st);
}

void ForgetVerification(Turn& t) {
    t.st.verified_until.reset();
}

void StartOver(Turn& t) {
    ClearPending(t.st);
    t.st.options.clear();
    t.st.misunderstood = 0;
}

void NoteActivity(Turn& t) {
    t.st.last_activity = t.clock.now;
}

// What the transition table's actions may pick from.
constexpr To kPromiseStages = Go(kReady, kPromise, kConfirmPromise);
constexpr To kOfferStages = Go(kReady, kNegotiating);
constexpr To kAcceptStages = Go(kReady, kNegotiating, kConfirmPlan);
constexpr To kCounterStages = Go(kReady, kPromise, kConfirmPromise, kNegotiating, kConfirmPlan);
constexpr To kVoiceStages{Bit(kVerifying) | Bit(kReady), true};
constexpr unsigned kAnyButNew = kAnyStage & ~Bit(kNew);

// clang-format off

// Every rule whose stage and condition hold runs, in order; each sees what the ones before it
// did (a lock that ran out leaves `new`, which the idle rules then match).
const std::array kBeforeEveryMessage = {
    // from            condition           effect              to
    // A new conversation from a number that said "no soy" before.
    RULE(Bit(kNew),    MarkedWrongNumber,  Nothing,            Go(kEnded)),
    RULE(Bit(kLocked), LockRanOut,         Unlock,             Go(kNew)),
    RULE(kTalking,     VerificationRanOut, ForgetPending,      Go(kNew)),
    RULE(kAnyStage,    VerificationRanOut, ForgetVerification, kSame),
    RULE(kTalking,     IdleAndVerified,    StartOver,          Go(kReady)),
    RULE(kTalking,     IdleNotVerified,    StartOver,          Go(kNew)),
    RULE(kAnyStage,    Always,             NoteActivity,       kSame),
};

// The first row whose stage, trigger and guard match runs.
const std::array kTable = {
    // from                   on                              guard                  action                 to
    // Leaving works from anywhere and never needs the identity check.
    ROW(kAnyStage,            On(Trigger::kOptOut),           Always,                OptOut,                kSame),
    ROW(kAnyStage,            On(Trigger::kOptIn),            Always,                OptIn,                 kSame),
    ROW(kAnyStage,            On(Trigger::kWrongNumber),      Always,                EndWrongNumber,        Go(kEnded)),
    ROW(kAnyStage,            On(Trigger::kPrivacy),          OpposesUnverified,     OptOut,                kSame),
    ROW(kAnyStage,            On(Trigger::kPrivacy),          AsksForNotice,         SayPrivacyNotice,      kSame),
    // Stickers, reactions and the like are not words: no answer, and no misunderstanding.
    ROW(kAnyButNew,           On(Trigger::kNoText),           Always,                Nothing,               kSame,                  kKeepsCount),
    ROW(Bit(kEnded),          kAnyTrigger,                    Always,                SayNeutral,            kSame),
    ROW(kAnyStage,            kAnyTrigger,                    UnknownPhone,          SayNeutral,            kSame),
    ROW(Bit(kLocked),         kAnyTrigger,                    StillLocked,           SayLocked,             kSame),
    // Voice notes: said once that they cannot be listened to; the third goes to a person.
    ROW(kAnyStage,            On(Trigger::kVoiceNote),        Always,                AnswerVoiceNote,       kVoiceStages,           kKeepsCount),
    // The identity check: nothing about a debt before it passes.
    ROW(Bit(kNew),            kAnyTrigger,                    Always,                AskBirthDate,          Go(kVerifying)),
    ROW(Bit(kVerifying),      kAnyTrigger,                    BirthDateMatches,      Verify,                Go(kReady)),
    ROW(Bit(kVerifying),      kAnyTrigger,                    LastWrongDate,         LockOut,               Go(kLocked)),
    ROW(Bit(kVerifying),      kAnyTrigger,                    WroteADate,            FailVerification,      kSame),
    ROW(Bit(kVerifying),      On(Trigger::kHuman),            NotVerified,           EscalateHuman,         kSame),
    // (Verifying and verified: no state Step() leaves, but a stored one may say so.)
    ROW(Bit(kVerifying),      On(Trigger::kHuman),            IsVerified,            EscalateHuman,         Go(kReady)),
    ROW(Bit(kVerifying),      kAnyTrigger,                    Always,                AskBirthDateAgain,     kSame),
    // The date of birth typed again once verified is not a payment date.
    ROW(kTalking,             kAnyTrigger,                    RepeatsBirthDate,      SayAlreadyVerified,    Go(kReady)),
    // Answers to a question the bot asked.
    ROW(Bit(kConfirmPromise), On(Trigger::kAffirm),           PromiseOpenMeanwhile,  SayPromiseOpen,        Go(kReady)),
    ROW(Bit(kConfirmPromise), On(Trigger::kAffirm),           PromiseComplete,       RecordPromise,         Go(kReady)),
    ROW(Bit(kConfirmPromise), On(Trigger::kAffirm),           IsVerified,            ForgetAndShowMenu,     kSame),
    ROW(Bit(kConfirmPromise), On(Trigger::kDeny),             IsVerified,            AskPromiseAgain,       Go(kPromise)),
    ROW(Bit(kConfirmPlan),    On(Trigger::kAffirm),           PlanActiveMeanwhile,   SayPlanActive,         Go(kReady)),
    ROW(Bit(kConfirmPlan),    On(Trigger::kAffirm),           PlanComplete,          RecordPlan,            Go(kReady)),
    ROW(Bit(kConfirmPlan),    On(Trigger::kAffirm),           IsVerified,            ForgetAndShowMenu,     kSame),
    ROW(Bit(kConfirmPlan),    On(Trigger::kDeny),             IsVerified,            ShowOffers,            kOfferStages),
    ROW(Bit(kNegotiating),    On(Trigger::kAcceptSettlement), IsVerified,            AcceptSettlement,      kAcceptStages),
    ROW(Bit(kNegotiating),    On(Trigger::kAcceptPlan),       IsVerified,            AcceptPlan,            kAcceptStages),
    ROW(kInNegotiation,       On(Trigger::kInform),           HasCounterOffer,       CounterOffer,          kCounterStages),
    ROW(kInNegotiation,       On(Trigger::kNegotiate),        HasCounterOffer,       CounterOffer,          kCounterStages),
    ROW(kInNegotiation,       On(Trigger::kPromise),          HasCounterOffer,       CounterOffer,          kCounterStages),
    ROW(kInPromise,           On(Trigger::kInform),           HasPromiseData,        TakePromise,           kPromiseStages),
    ROW(Bit(kReady),          On(Trigger::kInform),           HasPromiseData,        TakePromise,           kPromiseStages),
    // What a verified debtor can ask for at any point.
    ROW(kAnyStage,            On(Trigger::kBalance),          IsVerified,            ShowBalance,           Go(kReady)),
    ROW(kAnyStage,            On(Trigger::kReference),        IsVerified,            IssueReferences,       Go(kReady)),
    ROW(kAnyStage,            On(Trigger::kPromise),          IsVerified,            TakePromise,           kPromiseStages),
    ROW(kAnyStage,            On(Trigger::kNegotiate),        VerifiedCounterOffer,  CounterOffer,          kCounterStages),
    ROW(kAnyStage,            On(Trigger::kNegotiate),        IsVerified,            ShowOffers,            kOfferStages),
    ROW(kAnyStage,            On(Trigger::kReceipt),          IsVerified,            ReviewReceipt,         Go(kReady)),
    ROW(kAnyStage,            On(Trigger::kAlreadyPaid),      IsVerified,            EscalateAlreadyPaid,   Go(kReady)),
    ROW(kAnyStage,            On(Trigger::kDispute),          IsVerified,            OpenDispute,           Go(kReady)),
    ROW(kAnyStage,            On(Trigger::kPrivacy),          IsVerified,            TakePrivacyRequest,    Go(kReady)),
    ROW(kAnyStage,            On(Trigger::kCannotPay),        IsVerified,            EscalateHardship,      Go(kReady)),
    ROW(kAnyStage,            On(Trigger::kHuman),            IsVerified,            EscalateHuman,         Go(kReady)),
    ROW(kAnyStage,            On(Trigger::kHelp),             IsVerified,            ShowMenu,              kSame),
    ROW(kAnyStage,            On(Trigger::kGreeting),         IsVerified,            ShowMenu,              kSame),
    ROW(kAnyStage,            On(Trigger::kThanks),           IsVerified,            SayWelcome,            kSame),
    ROW(kAnyStage,            On(Trigger::kAffirm),           IsVerified,            SayWelcome,            kSame),
    ROW(kAnyStage,            On(Trigger::kDeny),             IsVerified,            SayWelcome,            kSame),
    ROW(kAnyStage,            kAnyTrigger,                    MisunderstoodTooOften, EscalateNotUnderstood, Go(kReady)),
    ROW(kAnyStage,            kAnyTrigger,                    IsVerified,            NotUnderstood,         kSame, kKeepsCount),
    // Verification lapsed mid-conversation: check again.
    ROW(kAnyStage,            kAnyTrigger,                    Always,                AskBirthDate,          Go(kVerifying)),
};

// clang-format on

#undef ROW
#undef RULE

Trigger Classify(const Turn& t) {
    // A file's caption may still say the debtor is leaving; otherwise the file is what counts.
    const Trigger said = TriggerForIntent(t.understood.intent);
    const std::string& kind = t.event.kind;
    const bool leaving =
        said == Trigger::kOptOut || said == Trigger::kOptIn || said == Trigger::kWrongNumber;
    if (!leaving) {
        if (kind == "image" || kind == "document") {
            return Trigger::kReceipt;
        }
        if (kind == "audio" || kind == "video") {
            return Trigger::kVoiceNote;
        }
        if (kind == "sticker" || kind == "reaction" || kind == "location" || kind == "contacts" ||
            kind == "unsupported") {
            return Trigger::kNoText;
        }
    }
    if (!t.event.reply_id.empty()) {
        if (const auto trigger = TriggerForOption(t.event.reply_id)) {
            return *trigger;
        }
    }
    if (const auto choice = t.understood.entities.menu_choice) {
        const auto index = static_cast<std::size_t>(*choice);
        if (index >= 1 && index <= t.st.options.size()) {
            if (const auto trigger = TriggerForOption(t.st.options[index - 1])) {
                return *trigger;
            }
        }
    }
    return TriggerForIntent(t.understood.intent);
}

bool Matches(const Row& row, const Turn& t) {
    const bool stage_matches = (row.from & Bit(t.st.stage)) != 0;
    const bool trigger_matches = row.on == kAnyTrigger || row.on == On(t.trigger);
    return stage_matches && trigger_matches && row.guard(t);
}

// Runs the row's action, then moves to the row's `to`: the stage the action picked, else the
// one stage the row names, else the stage it was in.
void Run(const Row& row, Turn& t) {
    const Stage from = t.st.stage;
    t.next.reset();
    row.action(t);
    Stage to = from;
    if (t.next) {
        to = *t.next;
    } else if (!row.to.same && std::has_single_bit(row.to.stages)) {
        to = static_cast<Stage>(std::countr_zero(row.to.stages));
    }
    assert(((row.to.stages & Bit(to)) != 0 || (row.to.same && to == from)) &&
           "the row went to a stage its `to` does not list");
    t.st.stage = to;
}

}  // namespace

StepResult Step(const ConversationView& conversation,
                const Event& event,
                const Clock& clock,
                const Settings& settings) {
    Turn t(conversation, event, clock, settings);
    t.st = conversation.state;
    for (const Row& rule : kBeforeEveryMessage) {
        if (Matches(rule, t)) {
            Run(rule, t);
        }
    }
    t.understood = Understand(event.text, t.locale(), clock.today);
    t.trigger = Classify(t);
    const auto row = std::find_if(
        kTable.begin(), kTable.end(), [&](const Row& candidate) { return Matches(candidate, t); });
    if (row == kTable.end() || !row->keeps_misunderstood_count) {
        t.st.misunderstood = 0;
    }
    if (row != kTable.end()) {
        Run(*row, t);
    }
    t.out.understood = t.understood;
    return std::move(t.out);
}

// --- the tables, as docs/dialog.md shows them ---

namespace {

constexpr int kStageCount = static_cast<int>(Stage::kEnded) + 1;

std::string JoinNames(const std::vector<std::string_view>& names, std::string_view last) {
    std::string out;
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i > 0) {
            out += i + 1 == names.size() ? last : ", ";
        }
        out += names[i];
    }
    return out;
}

// "any", "any but locked, ended" or "promise, confirm_promise".
std::string StagesText(unsigned stages) {
    std::vector<std::string_view> in;
    std::vector<std::string_view> out;
    for (int i = 0; i < kStageCount; ++i) {
        const auto stage = static_cast<Stage>(i);
        ((stages & Bit(stage)) != 0 ? in : out).push_back(ToString(stage));
    }
    if (out.empty()) {
        return "any";
    }
    if (out.size() < in.size()) {
        return "any but " + JoinNames(out, ", ");
    }
    return JoinNames(in, ", ");
}

// "ready", "(same)" or "ready or negotiating".
std::string ToText(const To& to) {
    std::vector<std::string_view> names;
    for (int i = 0; i < kStageCount; ++i) {
        const auto stage = static_cast<Stage>(i);
        if ((to.stages & Bit(stage)) != 0) {
            names.push_back(ToString(stage));
        }
    }
    if (to.same) {
        names.push_back("(same)");
    }
    return JoinNames(names, " or ");
}

template <std::size_t N>
std::vector<TransitionDoc> Describe(const std::array<Row, N>& rows, bool with_trigger) {
    std::vector<TransitionDoc> out;
    for (const Row& row : rows) {
        TransitionDoc doc;
        doc.from = StagesText(row.from);
        if (with_trigger) {
            doc.on =
                row.on == kAnyTrigger ? "any" : kTriggerNames.at(static_cast<std::size_t>(row.on));
        }
        doc.guard = row.guard_name;
        doc.action = row.action_name;
        doc.to = ToText(row.to);
        doc.keeps_misunderstood_count = row.keeps_misunderstood_count;
        out.push_back(std::move(doc));
    }
    return out;
}

}  // namespace

std::vector<TransitionDoc> BeforeEveryMessage() {
    return Describe(kBeforeEveryMessage, false);
}

std::vector<TransitionDoc> Transitions() {
    return Describe(kTable, true);
}

// "María Fernanda López" and "López, María Fernanda" both greet "María".
std::string FirstName(std::string_view name) {
    if (const auto comma = name.find(','); comma != std::string_view::npos) {
        name.remove_prefix(comma + 1);
    }
    while (!name.empty() && name.front() == ' ') {
        name.remove_prefix(1);
    }
    return std::string(name.substr(0, name.find(' ')));
}

}  // namespace cobrador::dialogs
