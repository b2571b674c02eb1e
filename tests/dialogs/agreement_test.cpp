// What a collector may record from the console: the policy's limits for a collector, beyond
// them for a supervisor, and what nobody may record.

#include "dialogs/agreement.hpp"

#include <catch2/catch.hpp>

#include "dialogs/calendar.hpp"

namespace {

using namespace cobrador::dialogs;

Date Day(const char* iso) {
    return *ParseIsoDate(iso);
}

// $10,000.00 due on 1 September: 97 days late on 7 December, the policy's 91-180 bucket (30%
// discount at most, up to 24 instalments of at least $200.00 after a 20% down payment).
AccountView Late() {
    AccountView a;
    a.id = 7;
    a.key = "A-7";
    a.balance = {1000000, "MXN"};
    a.due_date = Day("2026-09-01");
    return a;
}

const Date kToday = Day("2026-12-07");

AgreementAsk Promise(std::int64_t cents, const char* date) {
    return {AgreementKind::kPromise, cents, Day(date), 0};
}

AgreementAsk Settle(std::int64_t cents) {
    return {AgreementKind::kSettlement, cents, std::nullopt, 0};
}

AgreementAsk Installments(int n) {
    return {AgreementKind::kInstallments, 0, std::nullopt, n};
}

AgreementVerdict Collector(const AgreementAsk& ask, const AccountView& a = Late()) {
    return JudgeAgreement(ask, a, DefaultPolicy(), kToday, false);
}

AgreementVerdict Supervisor(const AgreementAsk& ask, const AccountView& a = Late()) {
    return JudgeAgreement(ask, a, DefaultPolicy(), kToday, true);
}

std::int64_t Sum(const AgreementVerdict& v) {
    std::int64_t total = 0;
    for (const Installment& i : v.schedule) {
        total += i.cents;
    }
    return total;
}

}  // namespace

TEST_CASE("Agreement: a promise inside the horizon and the minimum, beyond them a supervisor's",
          "[dialogs][agreement]") {
    // The horizon: 15 days (22 December), later than the next quincena (15 December).
    CHECK(PromiseHorizon(DefaultPolicy(), kToday) == Day("2026-12-22"));
    const auto inside = Collector(Promise(200000, "2026-12-22"));
    CHECK(inside.ok());
    CHECK_FALSE(inside.beyond_policy);
    CHECK(inside.schedule.empty());

    const auto late = Collector(Promise(200000, "2026-12-23"));
    CHECK(late.problem == AgreementProblem::kOutsidePolicy);
    CHECK(Code(late.problem) == "outside_policy");
    CHECK(late.why.find("2026-12-22") != std::string::npos);
    CHECK(late.limit_kind == "latest_date");
    CHECK(late.limit == "2026-12-22");
    const auto allowed = Supervisor(Promise(200000, "2026-12-23"));
    CHECK(allowed.ok());
    CHECK(allowed.beyond_policy);

    AccountView with_minimum = Late();
    with_minimum.min_payment_cents = 150000;
    const auto small = Collector(Promise(100000, "2026-12-10"), with_minimum);
    CHECK(small.problem == AgreementProblem::kOutsidePolicy);
    CHECK(small.why.find("$1500.00") != std::string::npos);
    CHECK(small.limit_kind == "min_amount");
    CHECK(small.limit == "1500.00");
    CHECK(Supervisor(Promise(100000, "2026-12-10"), with_minimum).beyond_policy);
    CHECK_FALSE(Collector(Promise(150000, "2026-12-10"), with_minimum).beyond_policy);
}

TEST_CASE("Agreement: what nobody records, a supervisor included", "[dialogs][agreement]") {
    for (const bool supervisor : {false, true}) {
        INFO(supervisor);
        const auto judge = [&](const AgreementAsk& ask, const AccountView& a) {
            return JudgeAgreement(ask, a, DefaultPolicy(), kToday, supervisor).problem;
        };
        CHECK(judge(Promise(100, "2026-12-06"), Late()) == AgreementProblem::kPastDate);
        CHECK(judge(Promise(100, "2027-12-09"), Late()) == AgreementProblem::kTooFar);
        CHECK(judge(Promise(1000001, "2026-12-08"), Late()) == AgreementProblem::kAboveBalance);
        CHECK(judge(Promise(1000000, "2026-12-07"), Late()) == AgreementProblem::kNone);
        AccountView promised = Late();
        promised.open_promise = PromiseView{{50000, "MXN"}, Day("2026-12-10")};
        CHECK(judge(Promise(100, "2026-12-08"), promised) == AgreementProblem::kPromiseOpen);
        AccountView planned = Late();
        planned.active_plan = true;
        CHECK(judge(Installments(3), planned) == AgreementProblem::kPlanActive);
        CHECK(judge(Settle(800000), planned) == AgreementProblem::kPlanActive);
        AccountView paid = Late();
        paid.balance.cents = 0;
        CHECK(judge(Promise(100, "2026-12-08"), paid) == AgreementProblem::kNoBalance);
        CHECK(judge(Settle(1000000), Late()) == AgreementProblem::kAboveBalance);
        CHECK(judge(Settle(0), Late()) == AgreementProblem::kAboveBalance);
        CHECK(judge(Installments(1), Late()) == AgreementProblem::kBadCount);
        CHECK(judge(Installments(121), Late()) == AgreementProblem::kBadCount);
    }
}

TEST_CASE("Agreement: settlements down to the bucket's discount, below it a supervisor's",
          "[dialogs][agreement]") {
    const auto best = Collector(Settle(700000));  // 30% off
    REQUIRE(best.ok());
    CHECK(best.plan.kind == "settlement");
    CHECK(best.plan.discount_cents == 300000);
    REQUIRE(best.schedule.size() == 1);
    CHECK(best.schedule[0].due == Day("2026-12-14"));  // the bucket's 7 days
    CHECK(best.schedule[0].cents == 700000);

    const auto deeper = Collector(Settle(699999));
    CHECK(deeper.problem == AgreementProblem::kOutsidePolicy);
    CHECK(deeper.why.find("$7000.00") != std::string::npos);
    CHECK(deeper.limit_kind == "min_settlement");
    CHECK(deeper.limit == "7000.00");
    const auto granted = Supervisor(Settle(699999));
    REQUIRE(granted.ok());
    CHECK(granted.beyond_policy);
    CHECK(granted.plan.discount_cents == 300001);

    // An account not yet due: its bucket gives no discount at all.
    AccountView current = Late();
    current.due_date = Day("2026-12-20");
    const auto none = Collector(Settle(900000), current);
    CHECK(none.problem == AgreementProblem::kOutsidePolicy);
    CHECK(none.why.find("no discount") != std::string::npos);
    CHECK(none.limit_kind == "no_discount");
    CHECK(Collector(Installments(2), current).limit_kind == "no_plans");
}

TEST_CASE("Agreement: instalment plans as the bucket shapes them, longer ones a supervisor's",
          "[dialogs][agreement]") {
    const auto four = Collector(Installments(4));
    REQUIRE(four.ok());
    CHECK(four.plan.kind == "installments");
    CHECK(four.plan.down_cents == 200000);  // 20% first
    REQUIRE(four.schedule.size() == 5);
    CHECK(four.schedule[0].due == Day("2026-12-15"));  // the next quincena, then each one
    CHECK(four.schedule[1].due == Day("2026-12-31"));
    CHECK(four.schedule[4].due == Day("2027-02-15"));
    CHECK(four.schedule[1].cents == 200000);
    CHECK(Sum(four) == 1000000);

    // 30 instalments: more than the bucket's 24.
    const auto refused = Collector(Installments(30));
    CHECK(refused.problem == AgreementProblem::kOutsidePolicy);
    CHECK(refused.limit_kind == "max_installments");
    CHECK(refused.limit == "24");
    const auto thirty = Supervisor(Installments(30));
    REQUIRE(thirty.ok());
    CHECK(thirty.beyond_policy);
    CHECK(thirty.schedule.size() == 31);
    CHECK(Sum(thirty) == 1000000);

    // A small balance: 24 instalments would fall below the $200.00 minimum.
    AccountView small = Late();
    small.balance.cents = 300000;
    const auto many = Collector(Installments(24), small);
    CHECK(many.problem == AgreementProblem::kOutsidePolicy);
    CHECK(many.why.find("$200.00") != std::string::npos);
    CHECK(many.limit_kind == "min_installment");
    CHECK(many.limit == "200.00");
    CHECK(Sum(Supervisor(Installments(24), small)) == 300000);
}
