// The collection dialog. Step() reads the message (NLU, or the option chosen), turns it into
// one trigger, and runs the first row of the transition table (kTable, below) whose stage,
// trigger and guard match. Rows read as the specification: from, on, guard, action.
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
#include <functional>

#include <nlohmann/json.hpp>
#include <re2/re2.h>

#include "dialogs/entities.hpp"
#include "dialogs/reference.hpp"

namespace cobrador::dialogs {

namespace {

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
    kCannotPay,
    kHuman,
    kHelp,
    kGreeting,
    kThanks,
    kAffirm,
    kDeny,
    kInform,
    kUnknown,
};

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
    DialogState& st;  // = out.state

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
    const Date by_days = AddDays(t.clock.today, t.settings.policy.promise_horizon_days);
    const Date quincena = NextQuincena(t.clock.today);
    return std::max(by_days, quincena);
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

bool BirthDateMatches(const Turn& t) {
    const auto date = ParseBirthDate(t.event.text, t.locale());
    return date && *date == t.debtor().birth_date;
}

// A full date (with its year) that is not the debtor's: a failed check. "el viernes" or "15/03"
// is no attempt at a date of birth and does not count against the debtor.
bool WroteADate(const Turn& t) {
    return ParseBirthDate(t.event.text, t.locale()).has_value();
}

bool HasPromiseData(const Turn& t) {
    const Entities& e = t.understood.entities;
    return e.amount_cents || e.date || e.amount_is_everything;
}

bool HasCounterOffer(const Turn& t) {
    const Entities& e = t.understood.entities;
    return e.installments || e.amount_cents;
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
    t.st.stage = Stage::kEnded;
    t.st.verified_until.reset();
    t.Say("wrong_number");
}

void SayNeutral(Turn& t) {
    t.Say("unknown_phone", {{"company", t.settings.company}});
}

void SayLocked(Turn& t) {
    t.Say("verify_locked", {{"company", t.settings.company}});
}

void AskBirthDate(Turn& t) {
    t.st.stage = Stage::kVerifying;
    t.Say("greeting_verify", {{"company", t.settings.company}});
}

void AskBirthDateAgain(Turn& t) {
    t.Say("verify_ask_again");
}

void Verify(Turn& t) {
    t.st.stage = Stage::kReady;
    t.st.failed_verifications = 0;
    t.st.verified_until = t.clock.now + t.settings.verification_ttl;
    t.Command(dialogs::Verified{*t.st.verified_until});
    t.Say("verified", {{"name", FirstName(t.debtor().name)}});
    t.Offer({kOptBalance, kOptPay, kOptPromise, kOptPlan, kOptHuman});
}

void FailVerification(Turn& t) {
    ++t.st.failed_verifications;
    const int left = t.settings.max_verification_failures - t.st.failed_verifications;
    if (left > 0) {
        t.Command(VerificationFailed{t.st.failed_verifications});
        t.Say("verify_failed", {{"count", std::int64_t{left}}});
        return;
    }
    t.st.stage = Stage::kLocked;
    t.st.locked_until = t.clock.now + t.settings.lock_duration;
    t.Command(VerificationFailed{t.st.failed_verifications});
    t.Command(Locked{*t.st.locked_until});
    t.Command(Escalated{"verification_failed"});
    SayLocked(t);
}

void ShowBalance(Turn& t) {
    t.st.stage = Stage::kReady;
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

void IssueReferences(Turn& t) {
    t.st.stage = Stage::kReady;
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
        const std::string amount = FormatDecimalCents(a.balance.cents);
        t.Say("reference",
              {{"account", a.key},
               {"clabe", t.settings.clabe},
               {"reference", *reference},
               {"concept", SpeiConcept(*reference)},
               {"link", PaymentLink(t.settings.payment_url, *reference, amount)}});
    }
    if (!any) {
        t.Say("no_balance");
    }
}

void Escalate(Turn& t, std::string reason, std::string key = "escalated") {
    ClearPending(t.st);
    if (t.verified()) {
        t.st.stage = Stage::kReady;
    }
    t.Command(Escalated{std::move(reason)});
    t.Say(std::move(key), {{"company", t.settings.company}});
}

void EscalateAlreadyPaid(Turn& t) {
    Escalate(t, "already_paid");
}

void EscalateDispute(Turn& t) {
    Escalate(t, "dispute");
}

void EscalateHardship(Turn& t) {
    Escalate(t, "cannot_pay");
}

void EscalateHuman(Turn& t) {
    Escalate(t, "human");
}

// Promise: gathers amount and date over as many turns as it takes, checks them against the
// account and the policy, then asks for confirmation.
void TakePromise(Turn& t) {
    const AccountView* account = t.st.account_id != 0 ? AccountById(t, t.st.account_id) : Focus(t);
    if (account == nullptr) {
        ClearPending(t.st);
        t.st.stage = Stage::kReady;
        t.Say("no_balance");
        return;
    }
    if (account->open_promise) {
        ClearPending(t.st);
        t.st.stage = Stage::kReady;
        t.Say("promise_already_open",
              {{"amount", account->open_promise->amount}, {"date", account->open_promise->date}});
        return;
    }
    if (t.st.stage != Stage::kPromise && t.st.stage != Stage::kConfirmPromise) {
        ClearPending(t.st);
    }
    t.st.stage = Stage::kPromise;
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
    t.st.stage = Stage::kConfirmPromise;
    t.Say("promise_confirm",
          {{"amount", Cents(*account, *t.st.amount_cents)}, {"date", *t.st.date}});
    t.Offer({kOptYes, kOptNo});
}

void RecordPromise(Turn& t) {
    const AccountView* account = AccountById(t, t.st.account_id);
    if (account == nullptr || !t.st.amount_cents || !t.st.date) {
        ClearPending(t.st);
        ShowMenu(t);
        return;
    }
    const Money amount = Cents(*account, *t.st.amount_cents);
    t.Command(PromiseMade{account->id, amount, *t.st.date});
    t.Say("promise_recorded", {{"amount", amount}, {"date", *t.st.date}});
    ClearPending(t.st);
    t.st.stage = Stage::kReady;
}

void AskPromiseAgain(Turn& t) {
    t.st.amount_cents.reset();
    t.st.date.reset();
    t.st.stage = Stage::kPromise;
    t.Say("promise_ask");
}

// --- negotiation ---

std::optional<PendingPlan> InstallmentPlan(const AccountView& a,
                                           const PolicyBucket& bucket,
                                           int installments) {
    const std::int64_t balance = a.balance.cents;
    const std::int64_t down = PercentOf(balance, bucket.min_down_payment_bp).value_or(0);
    const std::int64_t rest = balance - down;
    if (installments < 2 || installments > bucket.max_installments || rest <= 0) {
        return std::nullopt;
    }
    const auto parts = SplitEvenly(rest, installments);
    if (parts.empty() || parts.back() < bucket.min_installment_cents) {
        return std::nullopt;
    }
    return PendingPlan{"installments", balance, 0, down, installments, parts.front()};
}

// The longest plan the policy allows whose instalments stay above its minimum.
std::optional<PendingPlan> BestInstallmentPlan(const AccountView& a, const PolicyBucket& bucket) {
    for (int n = bucket.max_installments; n >= 2; --n) {
        if (auto plan = InstallmentPlan(a, bucket, n)) {
            return plan;
        }
    }
    return std::nullopt;
}

std::optional<PendingPlan> Settlement(const AccountView& a,
                                      const PolicyBucket& bucket,
                                      std::int64_t pay_cents) {
    const std::int64_t balance = a.balance.cents;
    const std::int64_t floor = balance - PercentOf(balance, bucket.max_discount_bp).value_or(0);
    if (bucket.max_discount_bp <= 0 || pay_cents < floor || pay_cents >= balance) {
        return std::nullopt;
    }
    return PendingPlan{"settlement", pay_cents, balance - pay_cents, 0, 0, 0};
}

const PolicyBucket& BucketOf(const Turn& t, const AccountView& a) {
    return BucketFor(t.settings.policy, DaysPastDue(a.due_date, t.clock.today));
}

// One active plan per account: changing it is a person's decision.
void SayPlanActive(Turn& t) {
    ClearPending(t.st);
    t.st.stage = Stage::kReady;
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
        Escalate(t, "negotiation_approval", "escalated_offer");
        return nullptr;
    }
    return &bucket;
}

void ShowOffers(Turn& t) {
    const AccountView* account = Focus(t);
    if (account == nullptr) {
        ClearPending(t.st);
        t.st.stage = Stage::kReady;
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
    const std::int64_t balance = account->balance.cents;
    t.st.settlement = Settlement(
        *account, bucket, balance - PercentOf(balance, bucket.max_discount_bp).value_or(0));
    t.st.plan = BestInstallmentPlan(*account, bucket);
    if (!t.st.settlement && !t.st.plan) {
        t.st.stage = Stage::kReady;
        t.Say("offer_none", {{"date", PromiseHorizon(t)}});
        t.Offer({kOptPromise, kOptHuman});
        return;
    }
    t.st.stage = Stage::kNegotiating;
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
        t.Also("offer_plan",
               {{"count", std::int64_t{plan.installments}},
                {"amount", Cents(*account, plan.installment_cents)},
                {"down",
                 plan.down_cents > 0 ? ArgValue(Cents(*account, plan.down_cents))
                                     : ArgValue(std::string("none"))}});
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
    t.st.stage = Stage::kConfirmPlan;
    t.st.plan = plan;
    t.st.settlement.reset();
    if (plan.kind == "settlement") {
        t.Say("settlement_confirm",
              {{"amount", Cents(*account, plan.total_cents)}, {"date", schedule.front().due}});
    } else {
        t.Say("plan_confirm",
              {{"count", std::int64_t{plan.installments}},
               {"amount", Cents(*account, plan.installment_cents)},
               {"down",
                plan.down_cents > 0 ? ArgValue(Cents(*account, plan.down_cents))
                                    : ArgValue(std::string("none"))},
               {"date", schedule.front().due}});
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
        plan = InstallmentPlan(*account, bucket, *e.installments);
    } else if (e.amount_cents && SaysPerPeriod(t)) {
        const std::int64_t down =
            PercentOf(account->balance.cents, bucket.min_down_payment_bp).value_or(0);
        const std::int64_t rest = account->balance.cents - down;
        const auto n = static_cast<int>((rest + *e.amount_cents - 1) / *e.amount_cents);
        plan = InstallmentPlan(*account, bucket, n);
    } else if (e.amount_cents) {
        if (*e.amount_cents >= account->balance.cents) {
            TakePromise(t);  // the whole balance is a payment, not a negotiation
            return;
        }
        plan = Settlement(*account, bucket, *e.amount_cents);
    }
    if (!plan) {
        Escalate(t, "negotiation_outside_policy", "escalated_offer");
        return;
    }
    ConfirmPlan(t, *plan);
}

void Negotiate(Turn& t) {
    if (HasCounterOffer(t)) {
        CounterOffer(t);
        return;
    }
    ShowOffers(t);
}

void RecordPlan(Turn& t) {
    const AccountView* account = AccountById(t, t.st.account_id);
    if (account == nullptr || !t.st.plan) {
        ClearPending(t.st);
        ShowMenu(t);
        return;
    }
    const PendingPlan plan = *t.st.plan;
    const PolicyBucket& bucket = BucketOf(t, *account);
    const auto schedule = Schedule(plan, t.clock.today, bucket.settlement_days);
    t.Command(PlanAgreed{
        account->id, plan.kind, Cents(*account, plan.total_cents), plan.discount_cents, schedule});
    if (plan.kind == "settlement") {
        t.Say("settlement_recorded",
              {{"amount", Cents(*account, plan.total_cents)}, {"date", schedule.front().due}});
    } else {
        t.Say("plan_recorded",
              {{"count", std::int64_t{static_cast<std::int64_t>(schedule.size())}},
               {"amount", Cents(*account, schedule.front().cents)},
               {"date", schedule.front().due}});
    }
    ClearPending(t.st);
    t.st.stage = Stage::kReady;
}

void BackToOffers(Turn& t) {
    ShowOffers(t);
}

void SayWelcome(Turn& t) {
    t.Say("welcome");
    t.Offer({kOptBalance, kOptPay, kOptPromise, kOptPlan, kOptHuman});
}

void NotUnderstood(Turn& t) {
    ++t.st.misunderstood;
    if (t.st.misunderstood >= t.settings.max_misunderstood) {
        t.st.misunderstood = 0;
        Escalate(t, "not_understood");
        return;
    }
    t.Say("not_understood");
    t.Offer({kOptBalance, kOptPay, kOptPromise, kOptPlan, kOptHuman});
}

// --- the transition table ---

constexpr unsigned Bit(Stage s) {
    return 1U << static_cast<unsigned>(s);
}

constexpr unsigned kAnyStage = ~0U;
constexpr unsigned kInPromise = Bit(Stage::kPromise) | Bit(Stage::kConfirmPromise);
constexpr unsigned kInNegotiation = Bit(Stage::kNegotiating) | Bit(Stage::kConfirmPlan);

// kAnyTrigger matches every trigger.
constexpr int kAnyTrigger = -1;

struct Row {
    unsigned from;  // stages (bits)
    int on;         // a Trigger, or kAnyTrigger
    Guard guard;
    Action action;
};

constexpr int On(Trigger t) {
    return static_cast<int>(t);
}

// clang-format off
const std::array kTable = {
    // from                         on                               guard             action
    // Leaving works from anywhere and never needs the identity check.
    Row{kAnyStage,                  On(Trigger::kOptOut),            Always,           OptOut},
    Row{kAnyStage,                  On(Trigger::kOptIn),             Always,           OptIn},
    Row{kAnyStage,                  On(Trigger::kWrongNumber),       Always,           EndWrongNumber},
    Row{Bit(Stage::kEnded),         kAnyTrigger,                     Always,           SayNeutral},
    Row{kAnyStage,                  kAnyTrigger,                     UnknownPhone,     SayNeutral},
    Row{Bit(Stage::kLocked),        kAnyTrigger,                     StillLocked,      SayLocked},
    // The identity check: nothing about a debt before it passes.
    Row{Bit(Stage::kNew),           kAnyTrigger,                     Always,           AskBirthDate},
    Row{Bit(Stage::kVerifying),     kAnyTrigger,                     BirthDateMatches, Verify},
    Row{Bit(Stage::kVerifying),     kAnyTrigger,                     WroteADate,       FailVerification},
    Row{Bit(Stage::kVerifying),     On(Trigger::kHuman),             Always,           EscalateHuman},
    Row{Bit(Stage::kVerifying),     kAnyTrigger,                     Always,           AskBirthDateAgain},
    // Answers to a question the bot asked.
    Row{Bit(Stage::kConfirmPromise), On(Trigger::kAffirm),           IsVerified,       RecordPromise},
    Row{Bit(Stage::kConfirmPromise), On(Trigger::kDeny),             IsVerified,       AskPromiseAgain},
    Row{Bit(Stage::kConfirmPlan),   On(Trigger::kAffirm),            IsVerified,       RecordPlan},
    Row{Bit(Stage::kConfirmPlan),   On(Trigger::kDeny),              IsVerified,       BackToOffers},
    Row{Bit(Stage::kNegotiating),   On(Trigger::kAcceptSettlement),  IsVerified,       AcceptSettlement},
    Row{Bit(Stage::kNegotiating),   On(Trigger::kAcceptPlan),        IsVerified,       AcceptPlan},
    Row{kInNegotiation,             On(Trigger::kInform),            HasCounterOffer,  CounterOffer},
    Row{kInNegotiation,             On(Trigger::kNegotiate),         HasCounterOffer,  CounterOffer},
    Row{kInNegotiation,             On(Trigger::kPromise),           HasCounterOffer,  CounterOffer},
    Row{kInPromise,                 On(Trigger::kInform),            HasPromiseData,   TakePromise},
    Row{Bit(Stage::kReady),         On(Trigger::kInform),            HasPromiseData,   TakePromise},
    // What a verified debtor can ask for at any point.
    Row{kAnyStage,                  On(Trigger::kBalance),           IsVerified,       ShowBalance},
    Row{kAnyStage,                  On(Trigger::kReference),         IsVerified,       IssueReferences},
    Row{kAnyStage,                  On(Trigger::kPromise),           IsVerified,       TakePromise},
    Row{kAnyStage,                  On(Trigger::kNegotiate),         IsVerified,       Negotiate},
    Row{kAnyStage,                  On(Trigger::kAlreadyPaid),       IsVerified,       EscalateAlreadyPaid},
    Row{kAnyStage,                  On(Trigger::kDispute),           IsVerified,       EscalateDispute},
    Row{kAnyStage,                  On(Trigger::kCannotPay),         IsVerified,       EscalateHardship},
    Row{kAnyStage,                  On(Trigger::kHuman),             IsVerified,       EscalateHuman},
    Row{kAnyStage,                  On(Trigger::kHelp),              IsVerified,       ShowMenu},
    Row{kAnyStage,                  On(Trigger::kGreeting),          IsVerified,       ShowMenu},
    Row{kAnyStage,                  On(Trigger::kThanks),            IsVerified,       SayWelcome},
    Row{kAnyStage,                  On(Trigger::kAffirm),            IsVerified,       SayWelcome},
    Row{kAnyStage,                  On(Trigger::kDeny),              IsVerified,       SayWelcome},
    Row{kAnyStage,                  kAnyTrigger,                     IsVerified,       NotUnderstood},
    // Verification lapsed mid-conversation: check again.
    Row{kAnyStage,                  kAnyTrigger,                     Always,           AskBirthDate},
};

// clang-format on

// Time passing between messages: idleness, the end of a lock, the end of a verification.
void Expire(Turn& t) {
    DialogState& st = t.st;
    const Instant now = t.clock.now;
    if (st.stage == Stage::kLocked && st.locked_until && *st.locked_until <= now) {
        st.stage = Stage::kNew;
        st.locked_until.reset();
        st.failed_verifications = 0;
    }
    if (st.verified_until && *st.verified_until <= now) {
        st.verified_until.reset();
        if (st.stage != Stage::kLocked && st.stage != Stage::kEnded) {
            ClearPending(st);
            st.stage = Stage::kNew;
        }
    }
    const bool idle = st.last_activity && now - *st.last_activity > t.settings.idle_timeout;
    if (idle && st.stage != Stage::kLocked && st.stage != Stage::kEnded) {
        ClearPending(st);
        st.options.clear();
        st.misunderstood = 0;
        st.stage = t.verified() ? Stage::kReady : Stage::kNew;
    }
    st.last_activity = now;
}

Trigger Classify(const Turn& t) {
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

}  // namespace

std::string_view ToString(Stage stage) {
    static constexpr std::array<std::string_view, 9> kNames = {"new",
                                                               "verifying",
                                                               "locked",
                                                               "ready",
                                                               "promise",
                                                               "confirm_promise",
                                                               "negotiating",
                                                               "confirm_plan",
                                                               "ended"};
    return kNames.at(static_cast<std::size_t>(stage));
}

StepResult Step(const ConversationView& conversation,
                const Event& event,
                const Clock& clock,
                const Settings& settings) {
    Turn t(conversation, event, clock, settings);
    t.st = conversation.state;
    if (conversation.wrong_number && t.st.stage == Stage::kNew) {
        t.st.stage = Stage::kEnded;  // a new conversation from a number that said "no soy"
    }
    t.understood = Understand(event.text, t.locale(), clock.today);
    Expire(t);
    t.trigger = Classify(t);
    const int before = t.st.misunderstood;
    t.st.misunderstood = 0;
    for (const Row& row : kTable) {
        const bool stage_matches = (row.from & Bit(t.st.stage)) != 0;
        const bool trigger_matches = row.on == kAnyTrigger || row.on == On(t.trigger);
        if (stage_matches && trigger_matches && row.guard(t)) {
            if (row.action == NotUnderstood) {
                t.st.misunderstood = before;
            }
            row.action(t);
            break;
        }
    }
    t.out.understood = t.understood;
    return std::move(t.out);
}

std::vector<Installment> Schedule(const PendingPlan& plan, const Date& today, int settlement_days) {
    std::vector<Installment> out;
    if (plan.kind == "settlement") {
        out.push_back({AddDays(today, settlement_days), plan.total_cents});
        return out;
    }
    Date due = NextQuincena(today);
    if (plan.down_cents > 0) {
        out.push_back({due, plan.down_cents});
        due = NextQuincena(due);
    }
    const auto parts = SplitEvenly(plan.total_cents - plan.down_cents, plan.installments);
    for (const std::int64_t cents : parts) {
        out.push_back({due, cents});
        due = NextQuincena(due);
    }
    return out;
}

// --- the state as JSON ---

namespace {

std::optional<Instant> InstantFromJson(const nlohmann::json& j, const char* key) {
    if (!j.contains(key) || !j[key].is_number_integer()) {
        return std::nullopt;
    }
    return Instant{std::chrono::seconds{j[key].get<std::int64_t>()}};
}

nlohmann::json PlanToJson(const PendingPlan& p) {
    return {{"kind", p.kind},
            {"total", p.total_cents},
            {"discount", p.discount_cents},
            {"down", p.down_cents},
            {"installments", p.installments},
            {"installment", p.installment_cents}};
}

std::optional<PendingPlan> PlanFromJson(const nlohmann::json& j, const char* key) {
    if (!j.contains(key) || !j[key].is_object()) {
        return std::nullopt;
    }
    const auto& p = j[key];
    PendingPlan plan;
    plan.kind = p.value("kind", "");
    plan.total_cents = p.value("total", std::int64_t{0});
    plan.discount_cents = p.value("discount", std::int64_t{0});
    plan.down_cents = p.value("down", std::int64_t{0});
    plan.installments = p.value("installments", 0);
    plan.installment_cents = p.value("installment", std::int64_t{0});
    if (plan.kind != "settlement" && plan.kind != "installments") {
        return std::nullopt;
    }
    return plan;
}

}  // namespace

std::string ToJson(const DialogState& s) {
    nlohmann::json j = {{"stage", ToString(s.stage)},
                        {"failed_verifications", s.failed_verifications},
                        {"misunderstood", s.misunderstood},
                        {"options", s.options},
                        {"account_id", s.account_id}};
    auto put_instant = [&](const char* key, const std::optional<Instant>& value) {
        if (value) {
            j[key] = value->time_since_epoch().count();
        }
    };
    put_instant("verified_until", s.verified_until);
    put_instant("locked_until", s.locked_until);
    put_instant("last_activity", s.last_activity);
    if (s.amount_cents) {
        j["amount"] = *s.amount_cents;
    }
    if (s.date) {
        j["date"] = FormatIsoDate(*s.date);
    }
    if (s.plan) {
        j["plan"] = PlanToJson(*s.plan);
    }
    if (s.settlement) {
        j["settlement"] = PlanToJson(*s.settlement);
    }
    return j.dump();
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

DialogState HandBack(DialogState state) {
    switch (state.stage) {
        case Stage::kPromise:
        case Stage::kConfirmPromise:
        case Stage::kNegotiating:
        case Stage::kConfirmPlan:
            state.stage = Stage::kReady;
            break;
        default:
            break;
    }
    state.misunderstood = 0;
    state.options.clear();
    state.account_id = 0;
    state.amount_cents.reset();
    state.date.reset();
    state.plan.reset();
    state.settlement.reset();
    return state;
}

DialogState DialogStateFromJson(std::string_view json) {
    DialogState s;
    const auto j = nlohmann::json::parse(json, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return s;
    }
    try {
        const std::string stage = j.value("stage", "new");
        for (int i = 0; i <= static_cast<int>(Stage::kEnded); ++i) {
            if (ToString(static_cast<Stage>(i)) == stage) {
                s.stage = static_cast<Stage>(i);
            }
        }
        s.failed_verifications = j.value("failed_verifications", 0);
        s.misunderstood = j.value("misunderstood", 0);
        s.options = j.value("options", std::vector<std::string>{});
        s.account_id = j.value("account_id", std::int64_t{0});
        s.verified_until = InstantFromJson(j, "verified_until");
        s.locked_until = InstantFromJson(j, "locked_until");
        s.last_activity = InstantFromJson(j, "last_activity");
        if (j.contains("amount") && j["amount"].is_number_integer()) {
            s.amount_cents = j["amount"].get<std::int64_t>();
        }
        if (j.contains("date") && j["date"].is_string()) {
            s.date = ParseIsoDate(j["date"].get<std::string>());
        }
        s.plan = PlanFromJson(j, "plan");
        s.settlement = PlanFromJson(j, "settlement");
    } catch (const nlohmann::json::exception&) {
        return DialogState{};  // a state we cannot read starts over
    }
    return s;
}

}  // namespace cobrador::dialogs
