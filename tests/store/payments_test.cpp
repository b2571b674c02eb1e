// Payments against a real ledger (SQLite, or PostgreSQL for the pg.* tests): parsing both sources,
// reconciliation (exact, partial, over, unknown, mistyped, duplicate, other currency), promises
// kept and broken, plan instalments, and the messages that go with them.

#include "store/payments.hpp"

#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "dialogs/reference.hpp"
#include "store/ledger.hpp"

#include "inbound.hpp"
#include "support/catch_result.hpp"
#include "support/probe.hpp"
#include "support/temp_dir.hpp"

namespace cobrador::store {
namespace {

using testing::Probe;
using testing::TempDir;

constexpr const char* kNow = "2026-11-23T16:00:00Z";

std::string Query(const std::string& path, const std::string& sql) {
    return Probe(path).Text(sql);
}

// Every row's first column, joined with commas.
std::string Joined(const std::string& path, const std::string& sql) {
    return Probe(path).Joined(sql);
}

PaymentRecord Payment(const std::string& id,
                      const std::string& reference,
                      std::int64_t cents,
                      const std::string& currency = "MXN") {
    PaymentRecord p;
    p.payment_id = id;
    p.reference = reference;
    p.amount_cents = cents;
    p.currency = currency;
    p.paid_at = "2026-11-23T15:00:00Z";
    p.method = "spei";
    return p;
}

// Two debtors: María (A-1, $1,000.00 and A-2, $500.00 in MXN) and Bob (B-1, $300.00 in USD).
struct Books {
    TempDir dir;
    std::string path = dir.Ledger();
    Ledger ledger = Open();

    Ledger Open() {
        auto opened = Ledger::Open(path);
        REQUIRE(opened);
        REQUIRE(opened->Migrate());
        std::istringstream csv(
            "account_id,debtor_name,phone,birth_date,balance,currency,due_date\n"
            "A-1,María López,+525511111111,1985-03-15,1000.00,MXN,2026-11-01\n"
            "A-2,María López,+525511111111,1985-03-15,500.00,MXN,2026-12-01\n"
            "B-1,Bob Smith,+12025550101,1990-01-01,300.00,USD,2026-11-01\n");
        const auto parsed = ParsePortfolioCsv(csv);
        REQUIRE(parsed.errors.empty());
        REQUIRE(opened->ImportPortfolio(parsed.rows, "test", kNow));
        return std::move(*opened);
    }

    std::string Reference(const std::string& account_key) const {
        const auto id = std::stoll(
            Query(path, "SELECT id FROM accounts WHERE account_key = '" + account_key + "'"));
        return *dialogs::PaymentReference(id);
    }

    std::string Balance(const std::string& account_key) const {
        return Query(
            path, "SELECT balance_cents FROM accounts WHERE account_key = '" + account_key + "'");
    }

    void Exec(const std::string& sql) { Probe(path).Exec(sql); }
};

TEST_CASE("Payments CSV: every bad row with its line, repeats of the same payment are fine",
          "[store][payments]") {
    std::istringstream good(
        "payment_id,reference,amount,currency,paid_at,method\n"
        "P-1,0000018,1500.00,MXN,2026-11-23T10:05:00-06:00,spei\n"
        "P-2,000002-6,20,MXN,2026-11-23,oxxo\n"
        "P-1,0000018,1500.00,MXN,2026-11-23T16:05:00Z,spei\n");
    const auto parsed = ParsePaymentsCsv(good);
    REQUIRE(parsed.errors.empty());
    REQUIRE(parsed.rows.size() == 2);
    CHECK(parsed.duplicate_rows == 1);
    CHECK(parsed.rows[0].paid_at == "2026-11-23T16:05:00Z");  // -06:00 made UTC
    CHECK(parsed.rows[0].amount_cents == 150000);
    CHECK(parsed.rows[1].paid_at == "2026-11-23T12:00:00Z");  // a bare date: noon UTC

    std::istringstream bad(
        "payment_id,reference,amount,currency,paid_at\n"
        "P-1,0000018,1500.00,MXN,2026-11-23T10:05:00Z\n"
        "P-2,0000026,-5,MXN,2026-11-23T10:05:00Z\n"
        "P-3,0000034,1.005,MXN,2026-11-23T10:05:00Z\n"
        "P-4,0000042,10,XXY,2026-11-23T10:05:00Z\n"
        "P-5,0000059,10,MXN,2026-11-23T10:05:00\n"
        ",0000067,10,MXN,2026-11-23T10:05:00Z\n"
        "P-1,0000018,999.00,MXN,2026-11-23T10:05:00Z\n"
        "P-8,1,2\n");
    const auto broken = ParsePaymentsCsv(bad);
    REQUIRE(broken.errors.size() == 7);
    CHECK(broken.errors[0].line == 3);
    CHECK(broken.errors[0].message.find("amount") == 0);
    CHECK(broken.errors[1].message.find("amount") == 0);
    CHECK(broken.errors[2].message.find("currency") == 0);
    CHECK(broken.errors[3].message.find("paid_at") == 0);  // no zone: refused
    CHECK(broken.errors[4].message.find("payment_id") == 0);
    CHECK(broken.errors[5].message.find("already appears on line 2") != std::string::npos);
    CHECK(broken.errors[6].message.find("expected 5 fields") != std::string::npos);

    std::istringstream no_header("payment_id,amount\n");
    const auto missing = ParsePaymentsCsv(no_header).errors;
    REQUIRE(missing.size() == 1);  // one line for the header, not one per column
    CHECK(missing[0].message ==
          "header: missing required columns 'reference', 'currency', 'paid_at'");
}

TEST_CASE("Suspense: a supervisor matches a payment to an account, once, and nothing else moves",
          "[store][payments]") {
    Books books;
    // Two payments whose references name no account, and one in dollars.
    const auto held = books.ledger.ApplyPayments({Payment("P-1", "9999999", 30000),
                                                  Payment("P-2", "0000000", 120000),
                                                  Payment("P-3", "12345", 5000, "USD")},
                                                 "import",
                                                 kNow);
    REQUIRE(held);
    REQUIRE(held->suspense == 3);
    // María talks to the bot and promised $300.00 on A-1.
    books.Exec(
        "INSERT INTO conversations (debtor_id, phone, channel, state, verified_until, "
        "last_inbound_at, last_activity_at, created_at) VALUES (1, '+525511111111', 'whatsapp', "
        "'bot', '2026-11-24T00:00:00Z', '2026-11-23T12:00:00Z', 'x', 'x');"
        "INSERT INTO promises (account_id, conversation_id, amount_cents, currency, due_date, "
        "status, created_at) VALUES (1, 1, 30000, 'MXN', '2026-11-27', 'open', 'x');");
    int thanked = 0;
    const auto thank = [&](const PaymentNotice& n) -> std::optional<ProactiveMessage> {
        ++thanked;
        CHECK(n.account_id == "A-1");
        return std::nullopt;
    };
    const auto snapshot = [&] {
        return Joined(books.path,
                      "SELECT account_key || '=' || balance_cents FROM accounts ORDER BY id") +
               "|" +
               Joined(books.path,
                      "SELECT payment_id || ':' || status || ':' || coalesce(account_id, 0) FROM "
                      "payments ORDER BY id") +
               "|" + Query(books.path, "SELECT count(*) FROM audit_log");
    };
    const std::string before = snapshot();

    // What cannot be matched says why and changes nothing.
    const auto result = [&](const char* payment, const char* account) {
        const auto m = books.ledger.MatchSuspensePayment(payment, account, 7, false, kNow, thank);
        REQUIRE(m);
        return m->result;
    };
    CHECK(result("P-404", "A-1") == MatchResult::kNoPayment);
    CHECK(result("P-1", "A-404") == MatchResult::kNoAccount);
    CHECK(result("P-1", "B-1") == MatchResult::kCurrencyMismatch);  // MXN into a USD account
    CHECK(result("P-3", "A-1") == MatchResult::kCurrencyMismatch);
    CHECK(snapshot() == before);
    CHECK(thanked == 0);

    // Matched: applied as if the reference had named A-1.
    const auto matched = books.ledger.MatchSuspensePayment("P-1", " a-1 ", 7, false, kNow, thank);
    REQUIRE(matched);
    REQUIRE(matched->result == MatchResult::kMatched);
    CHECK(matched->payment.status == "applied");
    CHECK(matched->payment.account_id == "A-1");
    CHECK(matched->payment.applied_cents == 30000);
    CHECK(matched->payment.new_balance_cents == 70000);
    CHECK(matched->payment.promise_kept);
    CHECK(Query(books.path, "SELECT status FROM promises") == "kept");
    CHECK(thanked == 1);
    CHECK(books.Balance("A-1") == "70000");
    CHECK(books.Balance("A-2") == "50000");
    // The reference it came with is kept.
    CHECK(Query(books.path,
                "SELECT status || ':' || a.account_key || ':' || applied_cents || ':' || "
                "coalesce(suspense_reason, '-') || ':' || reference FROM payments p JOIN accounts "
                "a ON a.id = p.account_id WHERE payment_id = 'P-1'") ==
          "applied:A-1:30000:-:9999999");
    CHECK(Query(books.path,
                "SELECT actor || ' ' || detail FROM audit_log WHERE kind = 'payment_matched'") ==
          R"(agent:7 {"payment_id":1,"payment":"P-1","reference":"9999999",)"
          R"("held_because":"bad_check_digit","agent_id":7,"confirmed_twin":false})");
    CHECK(Query(books.path,
                "SELECT count(*) FROM balance_history WHERE source = 'payment' AND source_id = "
                "1") == "1");
    // Once: a second match, to any account, is refused.
    CHECK(result("P-1", "A-1") == MatchResult::kNotInSuspense);
    CHECK(result("P-1", "A-2") == MatchResult::kNotInSuspense);
    CHECK(books.Balance("A-1") == "70000");
    // More than the balance: the rest is recorded as overpaid, the balance stops at zero.
    const auto over = books.ledger.MatchSuspensePayment("P-2", "A-2", 7, false, kNow);
    REQUIRE(over);
    CHECK(over->payment.applied_cents == 50000);
    CHECK(over->payment.overpaid_cents == 70000);
    CHECK(books.Balance("A-2") == "0");
    // The suspense list keeps only the one in dollars.
    const auto left = books.ledger.SuspensePayments(10);
    REQUIRE(left);
    REQUIRE(left->size() == 1);
    CHECK(left->front().payment_id == "P-3");
    CHECK_FALSE(left->front().refunded_in_part);
}

TEST_CASE(
    "Suspense: the same money told twice is matched only when confirmed, a refunded one not at all",
    "[store][payments]") {
    Books books;
    // One transfer, told by a bank statement and by the bank's own notice a day apart, both
    // with a reference that names no account.
    PaymentRecord statement = Payment("ST-1", "7777777", 25000);
    PaymentRecord notice = Payment("STP-1", "7777777", 25000);
    notice.paid_at = "2026-11-24T09:00:00Z";
    PaymentRecord refunded = Payment("R-1", "5555555", 10000);
    REQUIRE(books.ledger.ApplyPayments({statement, notice, refunded}, "import", kNow));
    books.Exec("UPDATE payments SET reversed_cents = 4000 WHERE payment_id = 'R-1'");

    const auto first = books.ledger.MatchSuspensePayment("ST-1", "A-1", 7, false, kNow);
    REQUIRE(first);
    CHECK(first->result == MatchResult::kPossibleTwin);
    CHECK(first->twin == "STP-1");
    CHECK(books.Balance("A-1") == "100000");
    // Confirmed by the person: applied, and the twin now asks again (it is applied money's
    // twin).
    const auto confirmed = books.ledger.MatchSuspensePayment("ST-1", "A-1", 7, true, kNow);
    REQUIRE(confirmed);
    CHECK(confirmed->result == MatchResult::kMatched);
    CHECK(books.Balance("A-1") == "75000");
    const auto twin = books.ledger.MatchSuspensePayment("STP-1", "A-1", 7, false, kNow);
    REQUIRE(twin);
    CHECK(twin->result == MatchResult::kPossibleTwin);
    CHECK(twin->twin == "ST-1");
    CHECK(books.Balance("A-1") == "75000");
    CHECK(Query(books.path,
                "SELECT detail LIKE '%\"confirmed_twin\":true}' FROM audit_log WHERE kind = "
                "'payment_matched'") == "1");

    // Partly refunded by its provider: listed as such, and never matched.
    const auto listed = books.ledger.SuspensePayments(10);
    REQUIRE(listed);
    bool seen = false;
    for (const auto& p : *listed) {
        if (p.payment_id == "R-1") {
            seen = true;
            CHECK(p.refunded_in_part);
            CHECK(p.amount_cents == 6000);
        }
    }
    CHECK(seen);
    const auto refused = books.ledger.MatchSuspensePayment("R-1", "A-1", 7, true, kNow);
    REQUIRE(refused);
    CHECK(refused->result == MatchResult::kRefunded);
    CHECK(books.Balance("A-1") == "75000");
}

TEST_CASE("Payments JSON: the webhook's body, checked field by field", "[store][payments]") {
    std::string error;
    auto p = ParsePaymentJson(R"({"payment_id":"pay_1","reference":"0000018","amount":"1500.50",)"
                              R"("currency":"MXN","paid_at":"2026-11-23T10:05:00.250Z"})",
                              error);
    REQUIRE(p);
    CHECK(p->amount_cents == 150050);
    CHECK(p->paid_at == "2026-11-23T10:05:00Z");
    CHECK(p->method.empty());
    p = ParsePaymentJson(R"({"payment_id":7,"reference":"0000018","amount":1500.5,)"
                         R"("currency":"MXN","paid_at":"2026-11-23T10:05:00Z","method":"oxxo"})",
                         error);
    REQUIRE(p);
    CHECK(p->payment_id == "7");
    CHECK(p->amount_cents == 150050);
    for (
        const char* body : {
            "",
            "[]",
            "{\"payment_id\":\"x\"}",
            R"({"payment_id":"x","reference":"1","amount":"0","currency":"MXN","paid_at":"2026-11-23T10:05:00Z"})",
            R"({"payment_id":"x","reference":"1","amount":"1.001","currency":"MXN","paid_at":"2026-11-23T10:05:00Z"})",
            R"({"payment_id":"x","reference":"1","amount":"10","currency":"MXN","paid_at":"yesterday"})",
            R"({"payment_id":"x","reference":{"a":1},"amount":"10","currency":"MXN","paid_at":"2026-11-23T10:05:00Z"})",
            R"({"payment_id":"x\u0000y","reference":"1","amount":"10","currency":"MXN","paid_at":"2026-11-23T10:05:00Z"})",
        }) {
        error.clear();
        INFO(body);
        CHECK_FALSE(ParsePaymentJson(body, error));
        CHECK_FALSE(error.empty());
    }
    // A NUL byte ends nothing: what follows it is part of the body, so the body is not JSON.
    std::string nul_then_more =
        R"({"payment_id":"x","reference":"1","amount":"10","currency":"MXN","paid_at":"2026-11-23T10:05:00Z"})";
    nul_then_more += '\0';
    nul_then_more += R"({"amount":"99"})";
    CHECK_FALSE(ParsePaymentJson(nul_then_more, error));
}

TEST_CASE("Reconciliation: exact, partial, over, unknown, mistyped, duplicate, wrong currency",
          "[store][payments]") {
    Books books;
    const std::string a1 = books.Reference("A-1");
    const std::string a2 = books.Reference("A-2");
    std::string mistyped = a1;
    mistyped.back() = mistyped.back() == '9' ? '0' : static_cast<char>(mistyped.back() + 1);
    // A well-formed reference of no account of ours.
    const std::string foreign = *dialogs::PaymentReference(987654321);

    const auto summary = books.ledger.ApplyPayments(
        {
            Payment("P-partial", a1, 40000),       // $400 of $1,000
            Payment("P-exact", a2, 50000),         // all of A-2
            Payment("P-over", a1, 70000),          // $700 of the $600 left
            Payment("P-unknown", foreign, 10000),  // not ours
            Payment("P-typo", mistyped, 10000),    // a digit off
            Payment("P-usd", a1, 10000, "USD"),    // A-1 is in pesos
        },
        "import",
        kNow);
    REQUIRE(summary);
    CHECK(summary->applied == 3);
    CHECK(summary->suspense == 3);
    CHECK(books.Balance("A-1") == "0");
    CHECK(books.Balance("A-2") == "0");
    const auto& o = summary->outcomes;
    CHECK(o[0].new_balance_cents == 60000);
    CHECK(o[2].applied_cents == 60000);
    CHECK(o[2].overpaid_cents == 10000);
    CHECK(o[3].reason == "unknown_reference");
    CHECK(o[4].reason == "bad_check_digit");
    CHECK(o[5].reason == "currency_mismatch");
    CHECK(Query(books.path, "SELECT overpaid_cents FROM payments WHERE payment_id = 'P-over'") ==
          "10000");
    CHECK(Joined(books.path,
                 "SELECT balance_cents FROM balance_history WHERE source = 'payment' ORDER BY "
                 "id") == "60000,0,0");
    // Nothing is dropped: the suspense list has every unmatched payment, newest first.
    const auto suspense = books.ledger.SuspensePayments(10);
    REQUIRE(suspense);
    REQUIRE(suspense->size() == 3);
    CHECK((*suspense)[0].payment_id == "P-usd");
    CHECK((*suspense)[2].reason == "unknown_reference");

    // The same statement again changes nothing.
    const std::string history = Query(books.path, "SELECT count(*) FROM balance_history");
    const auto again = books.ledger.ApplyPayments(
        {Payment("P-partial", a1, 40000), Payment("P-unknown", foreign, 10000)}, "webhook", kNow);
    REQUIRE(again);
    CHECK(again->duplicates == 2);
    CHECK(Query(books.path, "SELECT count(*) FROM payments") == "6");
    CHECK(Query(books.path, "SELECT count(*) FROM balance_history") == history);
}

TEST_CASE(
    "References: an old (Luhn) reference counts for the accounts that had one until the "
    "transition ends, and a new ledger has none",
    "[store][payments]") {
    Books books;
    // Migrated before any account existed: nobody had a Luhn reference.
    CHECK(Query(books.path, "SELECT last_legacy_account FROM reference_transition") == "0");
    const auto legacy_a1 = *dialogs::LegacyPaymentReference(1);
    REQUIRE(legacy_a1 != books.Reference("A-1"));
    auto none = books.ledger.ApplyPayments({Payment("P-0", legacy_a1, 100)}, "import", kNow);
    REQUIRE(none);
    CHECK(none->outcomes[0].reason == "bad_check_digit");

    // The upgrade of a ledger that had accounts: migration 15 runs with them in it.
    books.Exec("DROP TABLE reference_transition; DELETE FROM schema_migrations WHERE version = 15");
    {
        auto reopened = Ledger::Open(books.path);
        REQUIRE(reopened);
        REQUIRE(reopened->Migrate());
    }
    CHECK(Query(books.path,
                "SELECT last_legacy_account || ' ' || coalesce(ends_on, '-') FROM "
                "reference_transition") == "3 -");
    // A-2's old reference is applied to A-2, and so is its new one.
    const auto legacy_a2 = *dialogs::LegacyPaymentReference(2);
    auto paid = books.ledger.ApplyPayments(
        {Payment("P-1", legacy_a2, 10000), Payment("P-2", books.Reference("A-2"), 5000)},
        "import",
        kNow);
    REQUIRE(paid);
    CHECK(paid->applied == 2);
    CHECK(books.Balance("A-2") == "35000");
    // An account added after the upgrade never had one: its Luhn digits are just a typo.
    books.Exec("UPDATE reference_transition SET last_legacy_account = 1");
    auto newer = books.ledger.ApplyPayments({Payment("P-3", legacy_a2, 100)}, "import", kNow);
    REQUIRE(newer);
    CHECK(newer->outcomes[0].reason == "bad_check_digit");
    books.Exec("UPDATE reference_transition SET last_legacy_account = 3");

    // The operator ends the transition: received on its last day still counts, the next day
    // it waits in suspense for a person, with its own reason.
    auto ended = books.ledger.LegacyReferences(std::string("2026-11-23"));
    REQUIRE(ended);
    CHECK(ended->last_legacy_account == 3);
    CHECK(ended->ends_on == std::optional<std::string>("2026-11-23"));
    auto last_day = books.ledger.ApplyPayments({Payment("P-4", legacy_a1, 100)}, "import", kNow);
    REQUIRE(last_day);
    CHECK(last_day->applied == 1);
    // Paid on the last day and imported the next: the day it was paid counts.
    auto told_late = books.ledger.ApplyPayments(
        {Payment("P-4b", legacy_a1, 100)}, "import", "2026-11-24T09:00:00Z");
    REQUIRE(told_late);
    CHECK(told_late->applied == 1);
    PaymentRecord next_day = Payment("P-5", legacy_a1, 100);
    next_day.paid_at = "2026-11-24T00:00:01Z";
    auto after = books.ledger.ApplyPayments({next_day}, "import", "2026-11-24T00:00:01Z");
    REQUIRE(after);
    CHECK(after->outcomes[0].reason == "old_reference");
    // A person can still match it by hand.
    CHECK(Query(books.path, "SELECT status FROM payments WHERE payment_id = 'P-5'") == "suspense");
    // Opened again.
    auto reopened = books.ledger.LegacyReferences(std::string());
    REQUIRE(reopened);
    CHECK_FALSE(reopened->ends_on);
    next_day.payment_id = "P-6";
    auto again = books.ledger.ApplyPayments({next_day}, "import", "2026-11-24T00:00:01Z");
    REQUIRE(again);
    CHECK(again->applied == 1);
}

TEST_CASE("A payment keeps the promise it covers, pays plan instalments, and says thank you",
          "[store][payments]") {
    Books books;
    const std::string a1 = books.Reference("A-1");
    books.Exec(
        "INSERT INTO conversations (debtor_id, phone, channel, state, verified_until, "
        "last_inbound_at, last_activity_at, created_at) VALUES (1, '+525511111111', 'whatsapp', "
        "'bot', '2026-11-24T00:00:00Z', '2026-11-23T12:00:00Z', 'x', 'x');"
        "INSERT INTO promises (account_id, conversation_id, amount_cents, currency, due_date, "
        "status, created_at) VALUES (1, 1, 30000, 'MXN', '2026-11-27', 'open', 'x'), (1, 1, "
        "20000, 'MXN', '2026-12-04', 'open', 'x');"
        "INSERT INTO payment_plans (account_id, kind, total_cents, currency, status, created_at) "
        "VALUES (1, 'installments', 100000, 'MXN', 'active', 'x');"
        "INSERT INTO plan_installments (plan_id, seq, due_date, amount_cents, status) VALUES "
        "(1, 1, '2026-11-30', 25000, 'pending'), (1, 2, '2026-12-15', 75000, 'pending');");

    std::vector<PaymentNotice> notices;
    const auto thank = [&](const PaymentNotice& n) -> std::optional<ProactiveMessage> {
        notices.push_back(n);
        return ProactiveMessage{"gracias", "{\"text\":\"gracias\"}", "", ""};
    };
    // $200 first: not enough for the first promise ($300), pays the first instalment part-way.
    REQUIRE(books.ledger.ApplyPayments({Payment("P-1", a1, 20000)}, "webhook", kNow, thank));
    CHECK(Joined(books.path, "SELECT status || ':' || paid_cents FROM promises ORDER BY id") ==
          "open:20000,open:0");
    CHECK(Joined(books.path,
                 "SELECT status || ':' || paid_cents FROM plan_installments ORDER BY id") ==
          "pending:20000,pending:0");
    // $150 more: the first promise is kept ($350 >= $300), the rest counts toward the second.
    const auto second =
        books.ledger.ApplyPayments({Payment("P-2", a1, 15000)}, "webhook", kNow, thank);
    REQUIRE(second);
    CHECK(second->outcomes[0].promise_kept);
    CHECK(Joined(books.path, "SELECT status || ':' || paid_cents FROM promises ORDER BY id") ==
          "kept:30000,open:5000");
    CHECK(Joined(books.path, "SELECT status FROM plan_installments ORDER BY id") == "paid,pending");
    CHECK(Query(books.path, "SELECT count(*) FROM audit_log WHERE kind = 'promise_kept'") == "1");

    // The thank-you went to María's WhatsApp conversation, with her figures, verified.
    REQUIRE(notices.size() == 2);
    CHECK(notices[1].channel == "whatsapp");
    CHECK(notices[1].verified);
    CHECK(notices[1].whatsapp_window_open);
    CHECK(notices[1].balance_cents == 65000);
    CHECK(Query(books.path,
                "SELECT count(*) FROM outbox o JOIN messages m ON m.id = o.message_id "
                "WHERE m.body = 'gracias' AND o.recipient = '+525511111111'") == "2");

    // Paying everything keeps every open promise and completes the plan.
    REQUIRE(books.ledger.ApplyPayments({Payment("P-3", a1, 65000)}, "webhook", kNow, thank));
    CHECK(Joined(books.path, "SELECT status FROM promises ORDER BY id") == "kept,kept");
    CHECK(Query(books.path, "SELECT status FROM payment_plans") == "completed");

    // An opted-out channel gets no thank-you.
    books.Exec(
        "INSERT INTO contact_preferences (phone, channel, kind, recorded_at, source) VALUES "
        "('+525511111111', 'whatsapp', 'opt_out', 'x', 'debtor')");
    const auto quiet = books.ledger.ApplyPayments(
        {Payment("P-4", books.Reference("A-2"), 100)}, "webhook", kNow, thank);
    REQUIRE(quiet);
    CHECK_FALSE(quiet->outcomes[0].message_queued);
    CHECK(notices.size() == 3);
}

TEST_CASE("A settlement paid in full forgives the rest of the balance", "[store][payments]") {
    Books books;
    // $1,000 owed; a settlement of $700 in one payment.
    books.Exec(
        "INSERT INTO payment_plans (account_id, kind, total_cents, discount_cents, currency, "
        "status, created_at) VALUES (1, 'settlement', 70000, 30000, 'MXN', 'active', 'x');"
        "INSERT INTO plan_installments (plan_id, seq, due_date, amount_cents, status) VALUES "
        "(1, 1, '2026-11-30', 70000, 'pending');");
    const auto paid =
        books.ledger.ApplyPayments({Payment("P-1", books.Reference("A-1"), 70000)}, "import", kNow);
    REQUIRE(paid);
    CHECK(paid->outcomes[0].new_balance_cents == 0);
    CHECK(books.Balance("A-1") == "0");
    CHECK(Query(books.path, "SELECT status FROM payment_plans") == "completed");
    CHECK(Joined(books.path,
                 "SELECT source || ':' || balance_cents FROM balance_history WHERE source <> "
                 "'import' ORDER BY id") == "payment:30000,adjustment:0");
    CHECK(nlohmann::json::parse(Query(books.path,
                                      "SELECT detail FROM audit_log WHERE kind = "
                                      "'settlement_forgiven'"))["forgiven_cents"] == 30000);
    // An instalment plan completed early forgives nothing.
    books.Exec(
        "INSERT INTO payment_plans (account_id, kind, total_cents, currency, status, created_at) "
        "VALUES (2, 'installments', 20000, 'MXN', 'active', 'x');"
        "INSERT INTO plan_installments (plan_id, seq, due_date, amount_cents, status) VALUES "
        "(2, 1, '2026-11-30', 20000, 'pending');");
    REQUIRE(books.ledger.ApplyPayments(
        {Payment("P-2", books.Reference("A-2"), 20000)}, "import", kNow));
    CHECK(books.Balance("A-2") == "30000");
}

TEST_CASE("Broken promises: a follow-up the first time, a person the second time in 30 days",
          "[store][payments]") {
    Books books;
    books.Exec(
        "INSERT INTO conversations (debtor_id, phone, channel, state, last_activity_at, "
        "created_at) VALUES (1, '+525511111111', 'sms', 'bot', 'x', 'x');"
        "INSERT INTO promises (account_id, conversation_id, amount_cents, currency, due_date, "
        "status, created_at) VALUES (1, 1, 30000, 'MXN', '2026-11-10', 'open', 'x'), (2, 1, "
        "10000, 'MXN', '2026-11-25', 'open', 'x');");
    std::vector<FollowUp> asked;
    const auto follow = [&](const FollowUp& f) -> std::optional<ProactiveMessage> {
        asked.push_back(f);
        return ProactiveMessage{"¿qué pasó?", "{\"text\":\"?\"}", "2026-11-20T14:00:00Z", ""};
    };
    // Today minus three days of grace: the promise of the 10th is broken, the 25th's is not.
    auto broken = books.ledger.BreakOverduePromises(3, "2026-11-20T10:00:00Z", follow);
    REQUIRE(broken);
    REQUIRE(broken->size() == 1);
    CHECK((*broken)[0].message_queued);
    CHECK_FALSE((*broken)[0].escalated);
    REQUIRE(asked.size() == 1);
    CHECK(asked[0].missing_cents == 30000);
    CHECK(Joined(books.path, "SELECT status FROM promises ORDER BY id") == "broken,open");
    // Queued for the contact window, not before.
    CHECK(Query(books.path, "SELECT next_attempt_at FROM outbox") == "2026-11-20T14:00:00Z");

    // The second broken promise within 30 days escalates instead.
    broken = books.ledger.BreakOverduePromises(2, "2026-12-01T10:00:00Z", follow);
    REQUIRE(broken);
    REQUIRE(broken->size() == 1);
    CHECK((*broken)[0].escalated);
    CHECK(asked.size() == 1);
    CHECK(Query(books.path, "SELECT state || ' ' || escalation_reason FROM conversations") ==
          "escalated promises_broken");
    CHECK(Query(books.path, "SELECT count(*) FROM audit_log WHERE kind = 'promise_broken'") == "2");
    // Running it again finds nothing more.
    CHECK(books.ledger.BreakOverduePromises(2, "2026-12-01T11:00:00Z", follow)->empty());
}

TEST_CASE(
    "Broken promises paid in full afterwards are kept late, and missed instalments break plans",
    "[store][payments]") {
    Books books;
    books.Exec(
        "INSERT INTO conversations (debtor_id, phone, channel, state, last_activity_at, "
        "created_at) VALUES (1, '+525511111111', 'sms', 'bot', 'x', 'x');"
        "INSERT INTO promises (account_id, conversation_id, amount_cents, currency, due_date, "
        "status, created_at) VALUES (1, 1, 30000, 'MXN', '2026-11-10', 'open', 'x');"
        "INSERT INTO payment_plans (account_id, kind, total_cents, currency, status, created_at) "
        "VALUES (2, 'installments', 30000, 'MXN', 'active', 'x');"
        "INSERT INTO plan_installments (plan_id, seq, due_date, amount_cents, status) VALUES "
        "(1, 1, '2026-11-05', 10000, 'pending'), (1, 2, '2026-11-19', 20000, 'pending');");
    std::size_t follow_ups = 0;
    const auto follow = [&](const FollowUp&) -> std::optional<ProactiveMessage> {
        ++follow_ups;
        return ProactiveMessage{"¿Pasó algo?", "{}", "", ""};
    };
    auto broken = books.ledger.BreakOverduePromises(3, "2026-11-20T18:00:00Z", follow);
    REQUIRE(broken);
    REQUIRE(broken->size() == 2);
    CHECK((*broken)[0].promise_id == 1);
    CHECK((*broken)[1].plan_id == 1);
    CHECK((*broken)[1].account_id == "A-2");
    CHECK((*broken)[1].due_date == "2026-11-05");  // the first instalment missed
    CHECK(follow_ups == 2);
    CHECK(Query(books.path, "SELECT status FROM payment_plans") == "broken");
    CHECK(Joined(books.path, "SELECT status FROM plan_installments ORDER BY seq") ==
          "late,pending");
    CHECK(Query(books.path, "SELECT count(*) FROM audit_log WHERE kind = 'plan_broken'") == "1");

    // $200.00 towards the broken promise of $300.00: not yet; $100.00 more: kept late.
    REQUIRE(books.ledger.ApplyPayments(
        {Payment("P-1", books.Reference("A-1"), 20000)}, "import", "2026-11-21T15:00:00Z"));
    CHECK(Query(books.path,
                "SELECT paid_cents || ' ' || coalesce(kept_late_at, '-') FROM "
                "promises") == "20000 -");
    REQUIRE(books.ledger.ApplyPayments(
        {Payment("P-2", books.Reference("A-1"), 10000)}, "import", "2026-11-22T15:00:00Z"));
    CHECK(Query(books.path, "SELECT status || ' ' || kept_late_at FROM promises") ==
          "broken 2026-11-22T15:00:00Z");
    CHECK(Query(books.path, "SELECT count(*) FROM audit_log WHERE kind = 'promise_kept_late'") ==
          "1");

    // A second broken plan escalates.
    books.Exec(
        "INSERT INTO payment_plans (account_id, kind, total_cents, currency, status, created_at) "
        "VALUES (2, 'installments', 20000, 'MXN', 'active', 'x');"
        "INSERT INTO plan_installments (plan_id, seq, due_date, amount_cents, status) VALUES "
        "(2, 1, '2026-11-24', 20000, 'pending');");
    broken = books.ledger.BreakOverduePromises(3, "2026-11-28T18:00:00Z", follow);
    REQUIRE(broken);
    REQUIRE(broken->size() == 1);
    CHECK((*broken)[0].escalated);
    CHECK(Query(books.path, "SELECT state || ' ' || escalation_reason FROM conversations") ==
          "escalated plans_broken");

    // The report counts both.
    ReportQuery q;
    q.from = "2026-11-01";
    q.to = "2026-11-30";
    q.as_of = "2026-11-30";
    const auto report = books.ledger.BuildReport(q);
    REQUIRE(report);
    CHECK(report->total.promises_kept_late == 1);
    CHECK(report->total.plans_broken == 2);
    CHECK(report->total.promises_broken == 1);
    // The report is in MXN (most accounts), and still lists Bob's USD account.
    CHECK(report->currency == "MXN");
    REQUIRE(report->currencies.size() == 2);
    CHECK(report->currencies[0].currency == "MXN");
    CHECK(report->currencies[0].accounts == 2);
    CHECK(report->currencies[0].collected_cents == 30000);
    CHECK(report->currencies[1].currency == "USD");
    CHECK(report->currencies[1].accounts == 1);
    CHECK(report->currencies[1].balance_outstanding_cents == 30000);
}

TEST_CASE("Broken promises: the grace days are counted in the debtor's own calendar",
          "[store][payments]") {
    Books books;
    // María lives in Mexico City (UTC-6), Bob in New York (UTC-5 in November).
    books.Exec(
        "UPDATE debtors SET timezone = 'America/New_York' WHERE name = 'Bob Smith';"
        "INSERT INTO promises (account_id, amount_cents, currency, due_date, status, created_at) "
        "VALUES (1, 30000, 'MXN', '2026-11-20', 'open', 'x'), (3, 10000, 'USD', '2026-11-20', "
        "'open', 'x');");
    // 2026-11-24 at 05:30 UTC: 23:30 on the 23rd in Mexico City, 00:30 on the 24th in New York.
    // Three days of grace after the 20th: María's ends with her 23rd, Bob's has ended.
    auto broken = books.ledger.BreakOverduePromises(3, "2026-11-24T05:30:00Z", {});
    REQUIRE(broken);
    REQUIRE(broken->size() == 1);
    CHECK((*broken)[0].account_id == "B-1");
    // An hour later it is the 24th in Mexico City too.
    broken = books.ledger.BreakOverduePromises(3, "2026-11-24T06:30:00Z", {});
    REQUIRE(broken);
    REQUIRE(broken->size() == 1);
    CHECK((*broken)[0].account_id == "A-1");
}

}  // namespace
}  // namespace cobrador::store

namespace cobrador::store {
namespace {

ProviderReport Received(const std::string& payment,
                        std::int64_t total,
                        const std::string& reference) {
    ProviderReport r;
    r.provider = "stripe";
    r.payment = payment;
    r.total_cents = total;
    r.currency = "MXN";
    r.reference = reference;
    r.paid_at = "2026-11-23T15:00:00Z";
    r.method = "oxxo";
    return r;
}

ProviderReport Reversed(const std::string& payment,
                        std::int64_t total,
                        const std::string& reversal_id = "") {
    ProviderReport r;
    r.kind = ProviderReport::Kind::kReversed;
    r.provider = "stripe";
    r.payment = payment;
    r.total_cents = total;
    r.reversal_id = reversal_id;
    r.reversal_kind = reversal_id.empty() ? "refund" : "chargeback";
    r.currency = "MXN";
    return r;
}

int event_counter = 0;

// One notification carrying `reports`, under a fresh event id unless one is given.
Result<ProviderEventOutcome> Notify(Ledger& ledger,
                                    std::vector<ProviderReport> reports,
                                    std::string event_id = "",
                                    const PaymentNoticeFn& notice = {}) {
    ProviderEvent e;
    e.provider = "stripe";
    e.event_id = event_id.empty() ? "evt_" + std::to_string(++event_counter) : event_id;
    e.type = "test";
    e.body = "{}";
    e.reports = std::move(reports);
    return ledger.RecordProviderEvent(e, kNow, notice);
}

TEST_CASE("Provider payments: one payment however many events report it, parts as they come",
          "[store][payments][providers]") {
    Books books;
    const std::string a1 = books.Reference("A-1");
    // Two events for one payment (Checkout's and the PaymentIntent's), then a redelivery.
    const auto first = Notify(books.ledger, {Received("pi_1", 30000, a1)}, "evt_a");
    REQUIRE(first);
    CHECK(first->outcomes.at(0).status == "applied");
    CHECK(Notify(books.ledger, {Received("pi_1", 30000, a1)}, "evt_b")->outcomes.at(0).status ==
          "duplicate");
    const auto again = Notify(books.ledger, {Received("pi_1", 30000, a1)}, "evt_a");
    REQUIRE(again);
    CHECK(again->duplicate);
    CHECK(again->outcomes.empty());
    CHECK(books.Balance("A-1") == "70000");

    // A bank transfer funded in parts: $200 so far, then $500 in all; the late report of the
    // first part changes nothing.
    REQUIRE(Notify(books.ledger, {Received("pi_2", 20000, a1)}));
    REQUIRE(Notify(books.ledger, {Received("pi_2", 50000, a1)}));
    CHECK(Notify(books.ledger, {Received("pi_2", 20000, a1)})->outcomes.at(0).status ==
          "duplicate");
    CHECK(books.Balance("A-1") == "20000");
    CHECK(Joined(books.path,
                 "SELECT payment_id || ':' || amount_cents FROM payments WHERE provider_payment = "
                 "'pi_2' ORDER BY id") == "stripe:pi_2:20000,stripe:pi_2#50000:30000");
    CHECK(Query(books.path, "SELECT count(*) FROM provider_events") == "5");

    // Nothing attached that names an account: suspense, not lost.
    const auto unknown = Notify(books.ledger, {Received("pi_3", 1000, "")});
    CHECK(unknown->outcomes.at(0).status == "suspense");
    CHECK(unknown->outcomes.at(0).reason == "unknown_reference");

    // A pending notification is stored, applied once fetched, and only once.
    ProviderEvent thin;
    thin.provider = "mercadopago";
    thin.event_id = "n-1";
    thin.type = "payment";
    thin.body = "{}";
    thin.fetch_payment = "999";
    const auto stored = books.ledger.RecordProviderEvent(thin, kNow, {});
    REQUIRE(stored);
    CHECK(stored->pending);
    const auto due = books.ledger.DueProviderEvents(kNow, "2026-11-23T16:01:00Z", 10);
    REQUIRE(due);
    REQUIRE(due->size() == 1);
    CHECK(due->at(0).fetch_payment == "999");
    // Held: a second worker finds nothing until the hold ends.
    CHECK(books.ledger.DueProviderEvents(kNow, "2026-11-23T16:01:00Z", 10)->empty());
    ProviderReport mp = Received("999", 10000, books.Reference("A-2"));
    mp.provider = "mercadopago";
    const auto done = books.ledger.CompleteProviderEvent(due->at(0).id, {mp}, kNow, {});
    REQUIRE(done);
    CHECK(done->outcomes.at(0).status == "applied");
    CHECK(books.ledger.CompleteProviderEvent(due->at(0).id, {mp}, kNow, {})->duplicate);
    CHECK(books.Balance("A-2") == "40000");
    CHECK(Query(books.path, "SELECT status FROM provider_events WHERE event_id = 'n-1'") == "done");
}

TEST_CASE("Provider refunds: the balance back up, promises and plans re-opened, never twice",
          "[store][payments][providers]") {
    Books books;
    const std::string a1 = books.Reference("A-1");
    books.Exec(
        "INSERT INTO promises (account_id, amount_cents, currency, due_date, status, created_at) "
        "VALUES (1, 40000, 'MXN', '2026-11-27', 'open', 'x');"
        "INSERT INTO payment_plans (account_id, kind, total_cents, currency, status, created_at) "
        "VALUES (1, 'installments', 40000, 'MXN', 'active', 'x');"
        "INSERT INTO plan_installments (plan_id, seq, due_date, amount_cents, status) VALUES "
        "(1, 1, '2026-11-30', 40000, 'pending');");
    // $1,200 on a $1,000 balance: $200 overpaid, the promise kept, the plan completed.
    REQUIRE(Notify(books.ledger, {Received("pi_1", 120000, a1)}));
    CHECK(books.Balance("A-1") == "0");
    CHECK(Query(books.path, "SELECT status FROM promises") == "kept");
    CHECK(Query(books.path, "SELECT status FROM payment_plans") == "completed");

    // $150 refunded: all of it from what was overpaid; nothing owed again.
    const auto small = Notify(books.ledger, {Reversed("pi_1", 15000)});
    REQUIRE(small);
    CHECK(small->outcomes.at(0).status == "reversed");
    CHECK(small->outcomes.at(0).restored_cents == 0);
    CHECK(books.Balance("A-1") == "0");
    // $700 refunded in all: $50 more overpaid, then $500 back on the balance.
    const auto more = Notify(books.ledger, {Reversed("pi_1", 70000)});
    REQUIRE(more);
    CHECK(more->outcomes.at(0).restored_cents == 50000);
    CHECK(books.Balance("A-1") == "50000");
    CHECK(Query(books.path, "SELECT status || ':' || paid_cents FROM promises") == "open:0");
    CHECK(Query(books.path, "SELECT status FROM payment_plans") == "active");
    CHECK(Query(books.path, "SELECT status || ':' || paid_cents FROM plan_installments") ==
          "pending:0");
    CHECK(Query(books.path, "SELECT count(*) FROM audit_log WHERE kind = 'payment_reversed'") ==
          "1");
    // The same refund again, or an older total: nothing.
    CHECK(Notify(books.ledger, {Reversed("pi_1", 70000)})->outcomes.at(0).status == "duplicate");
    CHECK(Notify(books.ledger, {Reversed("pi_1", 15000)})->outcomes.at(0).status == "duplicate");
    // A chargeback of more than is left never takes the balance past what was paid.
    REQUIRE(Notify(books.ledger, {Reversed("pi_1", 999999, "dp_1")}));
    CHECK(books.Balance("A-1") == "100000");
    CHECK(Notify(books.ledger, {Reversed("pi_1", 999999, "dp_1")})->outcomes.at(0).status ==
          "duplicate");
    CHECK(books.Balance("A-1") == "100000");
    CHECK(Query(books.path, "SELECT reversed_cents FROM payments") == "120000");
}

TEST_CASE("Provider refunds before their payment wait for it, and it is not thanked for",
          "[store][payments][providers]") {
    Books books;
    const std::string a1 = books.Reference("A-1");
    books.Exec(
        "INSERT INTO conversations (debtor_id, phone, channel, state, verified_until, "
        "last_inbound_at, last_activity_at, created_at) VALUES (1, '+525511111111', 'whatsapp', "
        "'bot', '2026-11-24T00:00:00Z', '2026-11-23T12:00:00Z', 'x', 'x')");
    int thanked = 0;
    const auto thank = [&](const PaymentNotice&) -> std::optional<ProactiveMessage> {
        ++thanked;
        return ProactiveMessage{"gracias", "{}", "", ""};
    };
    const auto early = Notify(books.ledger, {Reversed("pi_9", 30000)});
    REQUIRE(early);
    CHECK(early->outcomes.at(0).status == "waiting");
    CHECK(books.Balance("A-1") == "100000");
    const auto paid = Notify(books.ledger, {Received("pi_9", 30000, a1)}, "", thank);
    REQUIRE(paid);
    CHECK(paid->outcomes.at(0).status == "applied");
    CHECK(paid->outcomes.at(0).restored_cents == 30000);
    CHECK(books.Balance("A-1") == "100000");
    CHECK(thanked == 0);
    CHECK(Query(books.path, "SELECT status FROM payment_reversals") == "applied");
    // A settlement completed by a payment that is then refunded is owed again in full.
    books.Exec(
        "INSERT INTO payment_plans (account_id, kind, total_cents, discount_cents, currency, "
        "status, created_at) VALUES (1, 'settlement', 70000, 30000, 'MXN', 'active', 'x');"
        "INSERT INTO plan_installments (plan_id, seq, due_date, amount_cents, status) VALUES "
        "(1, 1, '2026-11-30', 70000, 'pending');");
    REQUIRE(Notify(books.ledger, {Received("pi_10", 70000, a1)}, "", thank));
    CHECK(books.Balance("A-1") == "0");
    CHECK(thanked == 1);
    REQUIRE(Notify(books.ledger, {Reversed("pi_10", 70000)}));
    CHECK(books.Balance("A-1") == "100000");
    CHECK(Query(books.path, "SELECT status FROM payment_plans") == "active");
}

}  // namespace
}  // namespace cobrador::store

namespace cobrador::store {
namespace {

TEST_CASE("Provider refunds told between the parts of a payment, and what they leave alone",
          "[store][payments][providers]") {
    Books books;
    const std::string a1 = books.Reference("A-1");
    int thanked = 0;
    const auto thank = [&](const PaymentNotice&) -> std::optional<ProactiveMessage> {
        ++thanked;
        return ProactiveMessage{"gracias", "{}", "", ""};
    };
    books.Exec(
        "INSERT INTO conversations (debtor_id, phone, channel, state, verified_until, "
        "last_inbound_at, last_activity_at, created_at) VALUES (1, '+525511111111', 'whatsapp', "
        "'bot', '2026-11-24T00:00:00Z', '2026-11-23T12:00:00Z', 'x', 'x');"
        // A promise of January paid in full long ago by another payment.
        "INSERT INTO promises (account_id, amount_cents, paid_cents, currency, due_date, status, "
        "created_at, resolved_at) VALUES (1, 5000, 5000, 'MXN', '2026-01-10', 'kept', "
        "'2026-01-02T10:00:00Z', '2026-01-09T10:00:00Z')");
    // $40 of a $100 transfer, then all of it refunded, then the rest of the transfer: the
    // whole payment went back, so nothing is owed less and nobody is thanked for the rest.
    REQUIRE(Notify(books.ledger, {Received("pi_1", 4000, a1)}, "", thank));
    CHECK(books.Balance("A-1") == "96000");
    REQUIRE(Notify(books.ledger, {Reversed("pi_1", 10000)}, "", thank));
    CHECK(books.Balance("A-1") == "100000");
    const auto rest = Notify(books.ledger, {Received("pi_1", 10000, a1)}, "", thank);
    REQUIRE(rest);
    CHECK(rest->outcomes.at(0).restored_cents == 6000);
    CHECK(books.Balance("A-1") == "100000");
    CHECK(thanked == 1);  // the first part only
    CHECK(Query(books.path, "SELECT sum(reversed_cents) FROM payments") == "10000");
    // The January promise, paid in full by another payment, stays kept.
    CHECK(Query(books.path, "SELECT status FROM promises") == "kept");

    // A payment fetched when it was already refunded: applied and reversed, never thanked.
    REQUIRE(Notify(books.ledger, {Received("pi_2", 3000, a1), Reversed("pi_2", 3000)}, "", thank));
    CHECK(books.Balance("A-1") == "100000");
    CHECK(thanked == 1);
}

TEST_CASE("Undoing a settlement unpays only what the refunded payment paid",
          "[store][payments][providers]") {
    Books books;
    const std::string a1 = books.Reference("A-1");
    // $1,000 owed; a settlement of $600 in two instalments of $300.
    books.Exec(
        "INSERT INTO payment_plans (account_id, kind, total_cents, discount_cents, currency, "
        "status, created_at) VALUES (1, 'settlement', 60000, 40000, 'MXN', 'active', 'x');"
        "INSERT INTO plan_installments (plan_id, seq, due_date, amount_cents, status) VALUES "
        "(1, 1, '2026-11-30', 30000, 'pending'), (1, 2, '2026-12-30', 30000, 'pending');");
    REQUIRE(books.ledger.ApplyPayments({Payment("bank-1", a1, 30000)}, "import", kNow));
    REQUIRE(Notify(books.ledger, {Received("pi_1", 30000, a1)}));
    CHECK(books.Balance("A-1") == "0");  // the rest forgiven
    REQUIRE(Notify(books.ledger, {Reversed("pi_1", 30000)}));
    // Owed again: the refunded $300 and the $400 forgiven; the first instalment stays paid.
    CHECK(books.Balance("A-1") == "70000");
    CHECK(Joined(books.path,
                 "SELECT status || ':' || paid_cents FROM plan_installments ORDER BY seq") ==
          "paid:30000,pending:0");
    CHECK(Query(books.path, "SELECT status FROM payment_plans") == "active");
    // Paying the second instalment again completes the settlement once more.
    REQUIRE(Notify(books.ledger, {Received("pi_2", 30000, a1)}));
    CHECK(books.Balance("A-1") == "0");
}

}  // namespace
}  // namespace cobrador::store

namespace cobrador::store {
namespace {

// María sends a receipt on WhatsApp; it is kept and read, and waits to be confirmed. Returns
// the check's id.
std::int64_t ReceiptToCheck(Books& books, const std::string& wamid, const std::string& clave) {
    ReceiptReading reading;
    reading.read = true;
    reading.engine = "ocr";
    reading.clave_rastreo = clave;
    reading.amount_cents = 40000;
    reading.operation_date = "2026-11-23";
    return testing::ReceiptToCheck(books.ledger, wamid, "+525511111111", reading, kNow);
}

ReceiptVerdict Confirmed(const std::string& reference, const std::string& key) {
    ReceiptVerdict v;
    v.confirmed = true;
    v.detail = "confirmed with Banxico's CEP";
    v.payment = Payment("cep:" + key, reference, 40000);
    v.payment.spei_key = key;
    return v;
}

TEST_CASE("Payments CSV: a SPEI transfer's clave de rastreo gives its key, or says why not",
          "[store][payments][receipts]") {
    std::istringstream good(
        "payment_id,reference,amount,currency,paid_at,method,clave_rastreo,sending_bank,"
        "operation_date\n"
        "BANK-1,0000018,400.00,MXN,2026-11-23T16:42:17Z,spei,mban01002611230012345678,012,\n"
        "BANK-2,0000018,400.00,MXN,2026-11-24T02:00:00Z,spei,BNET0001,40072,\n"
        "BANK-3,0000018,400.00,MXN,2026-11-24T02:00:00Z,spei,BNET0002,072,2026-11-24\n"
        "BANK-4,0000018,400.00,MXN,2026-11-24T02:00:00Z,oxxo,,,\n");
    const auto parsed = ParsePaymentsCsv(good);
    REQUIRE(parsed.errors.empty());
    REQUIRE(parsed.rows.size() == 4);
    CHECK(parsed.rows[0].spei_key == "MBAN01002611230012345678:20261123:40012");
    // 02:00 UTC is still the 23rd in Mexico City, unless the statement says otherwise.
    CHECK(parsed.rows[1].spei_key == "BNET0001:20261123:40072");
    CHECK(parsed.rows[2].spei_key == "BNET0002:20261124:40072");
    CHECK(parsed.rows[3].spei_key.empty());

    std::istringstream bad(
        "payment_id,reference,amount,currency,paid_at,clave_rastreo,sending_bank,operation_date\n"
        "P-1,0000018,1.00,MXN,2026-11-23T10:05:00Z,MBAN01,,\n"
        "P-2,0000018,1.00,MXN,2026-11-23T10:05:00Z,MBAN01,12,\n"
        "P-3,0000018,1.00,MXN,2026-11-23T10:05:00Z,MBAN 01,012,\n"
        "P-4,0000018,1.00,MXN,2026-11-23T10:05:00Z,MBAN01,012,23/11/2026\n"
        "P-5,0000018,1.00,MXN,2026-11-23T10:05:00Z,,012,\n");
    const auto broken = ParsePaymentsCsv(bad);
    REQUIRE(broken.errors.size() == 5);
    CHECK(broken.errors[0].message.find("sending_bank") == 0);
    CHECK(broken.errors[1].message.find("sending_bank") == 0);
    CHECK(broken.errors[2].message.find("clave_rastreo") == 0);
    CHECK(broken.errors[3].message.find("operation_date") == 0);
    CHECK(broken.errors[4].message.find("clave_rastreo") == 0);
    CHECK(broken.rows.empty());

    std::string error;
    const auto json = ParsePaymentJson(
        R"({"payment_id":"P-9","reference":"0000018","amount":"400.00","currency":"MXN",)"
        R"("paid_at":"2026-11-23T16:42:17Z","clave_rastreo":"MBAN01","sending_bank":"40012"})",
        error);
    REQUIRE(json);
    CHECK(json->spei_key == "MBAN01:20261123:40012");
}

TEST_CASE(
    "Receipt checks: a confirmed transfer is paid once whoever reports it, and what is not "
    "confirmed "
    "goes to a person",
    "[store][payments][receipts]") {
    Books books;
    const std::string a1 = books.Reference("A-1");
    const std::string key = "MBAN01002611230012345678:20261123:40012";
    std::vector<std::string> told;
    const ReceiptReplyFn reply = [&](const Addressee& to, const std::string& kind) {
        told.push_back(kind + ":" + to.debtor_name);
        ProactiveMessage m;
        m.body = kind;
        m.payload = "{}";
        return std::optional(m);
    };
    int thanked = 0;
    const PaymentNoticeFn thanks = [&](const PaymentNotice&) {
        ++thanked;
        ProactiveMessage m;
        m.body = "gracias";
        m.payload = "{}";
        return std::optional(m);
    };

    // Confirmed: applied to A-1, thanked, kept with its key; the conversation stays the bot's.
    const std::int64_t first = ReceiptToCheck(books, "wamid.1", "MBAN01002611230012345678");
    const auto done =
        books.ledger.SettleReceiptCheck(first, Confirmed(a1, key), kNow, thanks, reply);
    REQUIRE(done);
    CHECK(done->settled);
    CHECK(done->status == "confirmed");
    CHECK(done->outcome == "applied");
    CHECK(done->payment.account_id == "A-1");
    CHECK(books.Balance("A-1") == "60000");
    CHECK(thanked == 1);
    CHECK(told.empty());
    CHECK(Query(books.path, "SELECT spei_key FROM payments") == key);
    CHECK(Query(books.path,
                "SELECT payment_id FROM receipt_checks WHERE id = " + std::to_string(first)) ==
          "cep:" + key);
    CHECK(Query(books.path, "SELECT state FROM conversations") == "bot");
    // Settled once: a second worker's verdict changes nothing.
    const auto again =
        books.ledger.SettleReceiptCheck(first, Confirmed(a1, key), kNow, thanks, reply);
    REQUIRE(again);
    CHECK_FALSE(again->settled);

    // The same transfer in a second receipt: a duplicate, said so, not paid again.
    const std::int64_t second = ReceiptToCheck(books, "wamid.2", "MBAN01002611230012345678");
    const auto twice =
        books.ledger.SettleReceiptCheck(second, Confirmed(a1, key), kNow, thanks, reply);
    REQUIRE(twice);
    CHECK(twice->outcome == "duplicate");
    CHECK(twice->payment.payment_id == "cep:" + key);
    CHECK(books.Balance("A-1") == "60000");
    CHECK(told == std::vector<std::string>{"duplicate:María López"});

    // STP's abono of the same transfer (its own ids, the same key): counted once.
    ProviderReport abono;
    abono.provider = "stp";
    abono.payment = "MBAN01002611230012345678:20261123:40012";
    abono.total_cents = 40000;
    abono.currency = "MXN";
    abono.reference = a1;
    abono.paid_at = "2026-11-23T16:42:17Z";
    abono.method = "spei";
    abono.spei_key = key;
    const auto stp = Notify(books.ledger, {abono});
    REQUIRE(stp);
    REQUIRE(stp->outcomes.size() == 1);
    CHECK(stp->outcomes[0].status == "duplicate");
    CHECK(books.Balance("A-1") == "60000");
    CHECK(Query(books.path, "SELECT count(*) FROM payments") == "1");

    // A statement row naming the same transfer: counted once too.
    PaymentRecord row = Payment("BANK-77", a1, 40000);
    row.spei_key = key;
    const auto statement = books.ledger.ApplyPayments({row}, "import", kNow);
    REQUIRE(statement);
    CHECK(statement->duplicates == 1);
    CHECK(books.Balance("A-1") == "60000");

    // Not confirmed: the conversation goes to a person, who sees why; the debtor is told.
    const std::int64_t third = ReceiptToCheck(books, "wamid.3", "XYZ123456");
    ReceiptVerdict no;
    no.outcome = "not_found";
    no.detail = "Banxico's CEP knows no such transfer";
    const auto unconfirmed = books.ledger.SettleReceiptCheck(third, no, kNow, thanks, reply);
    REQUIRE(unconfirmed);
    CHECK(unconfirmed->status == "unconfirmed");
    CHECK(unconfirmed->escalated);
    CHECK(unconfirmed->message_queued);
    CHECK(told.back() == "to_person:María López");
    CHECK(Query(books.path, "SELECT state FROM conversations") == "escalated");
    CHECK(Query(books.path, "SELECT escalation_reason FROM conversations") == "receipt_review");
    CHECK(Query(books.path,
                "SELECT detail FROM receipt_checks WHERE id = " + std::to_string(third)) ==
          "Banxico's CEP knows no such transfer");
    CHECK(Query(books.path, "SELECT count(*) FROM payments") == "1");
    CHECK(Query(books.path,
                "SELECT count(*) FROM audit_log WHERE kind IN ('receipt_confirmed', "
                "'receipt_unconfirmed')") == "3");

    // The transcript shows each receipt with its check.
    const auto conversation =
        std::stoll(Query(books.path, "SELECT id FROM conversations ORDER BY id LIMIT 1"));
    const auto lines = books.ledger.Transcript(conversation);
    REQUIRE(lines);
    std::vector<std::string> outcomes;
    for (const auto& line : *lines) {
        for (const auto& item : line.media) {
            REQUIRE(item.receipt);
            REQUIRE(item.receipt->check);
            outcomes.push_back(item.receipt->check->status + "/" + item.receipt->check->outcome);
        }
    }
    CHECK(outcomes == std::vector<std::string>{
                          "confirmed/applied", "confirmed/duplicate", "unconfirmed/not_found"});
}

}  // namespace
}  // namespace cobrador::store

namespace cobrador::store {
namespace {

TEST_CASE(
    "Receipt checks: a statement without the clave and a receipt of the same transfer count "
    "once, either order",
    "[store][payments][receipts]") {
    Books books;
    const std::string a1 = books.Reference("A-1");
    const std::string a2 = books.Reference("A-2");
    // A receipt confirmed first, then the bank's statement row for it (no clave_rastreo).
    const std::int64_t first = ReceiptToCheck(books, "wamid.1", "MBAN01");
    REQUIRE(books.ledger.SettleReceiptCheck(
        first, Confirmed(a1, "MBAN01:20261123:40012"), kNow, {}, {}));
    CHECK(books.Balance("A-1") == "60000");
    PaymentRecord row = Payment("BANK-1", a1, 40000);
    row.paid_at = "2026-11-24T12:00:00Z";  // booked the next day
    const auto statement = books.ledger.ApplyPayments({row}, "import", kNow);
    REQUIRE(statement);
    CHECK(statement->duplicates == 1);
    CHECK(books.Balance("A-1") == "60000");
    // Imported again: still once. A second transfer of the same amount is a payment.
    PaymentRecord other = Payment("BANK-2", a1, 40000);
    const auto again = books.ledger.ApplyPayments({row, other}, "import", kNow);
    REQUIRE(again);
    CHECK(again->duplicates == 1);
    CHECK(again->applied == 1);
    CHECK(books.Balance("A-1") == "20000");

    // The other order, on A-2: the statement first, then the receipt.
    PaymentRecord early = Payment("BANK-3", a2, 40000);
    REQUIRE(books.ledger.ApplyPayments({early}, "import", kNow));
    CHECK(books.Balance("A-2") == "10000");
    const std::int64_t second = ReceiptToCheck(books, "wamid.2", "MBAN02");
    const auto twin = books.ledger.SettleReceiptCheck(
        second, Confirmed(a2, "MBAN02:20261123:40012"), kNow, {}, {});
    REQUIRE(twin);
    CHECK(twin->outcome == "duplicate");
    CHECK(twin->payment.payment_id == "BANK-3");
    CHECK(books.Balance("A-2") == "10000");
    // The statement's payment took the transfer's key: STP's abono of it counts once too.
    CHECK(Query(books.path, "SELECT spei_key FROM payments WHERE payment_id = 'BANK-3'") ==
          "MBAN02:20261123:40012");
}

TEST_CASE(
    "Receipt checks: a reference only read from the image pays only the sender's account, and a "
    "closed conversation is not left unattended",
    "[store][payments][receipts]") {
    Books books;
    const std::string bob = books.Reference("B-1");
    std::vector<std::string> told;
    const ReceiptReplyFn reply = [&](const Addressee&, const std::string& kind) {
        told.push_back(kind);
        ProactiveMessage m;
        m.body = kind;
        m.payload = "{}";
        return std::optional(m);
    };
    // María's receipt whose OCR'd reference names Bob's account: confirmed money, in suspense.
    const std::int64_t check = ReceiptToCheck(books, "wamid.1", "MBAN01");
    ReceiptVerdict read = Confirmed(bob, "MBAN01:20261123:40012");
    read.payment.currency = "USD";
    read.reference_read = true;
    const auto held = books.ledger.SettleReceiptCheck(check, read, kNow, {}, reply);
    REQUIRE(held);
    CHECK(held->outcome == "suspense");
    CHECK(held->escalated);
    CHECK(books.Balance("B-1") == "30000");
    CHECK(told == std::vector<std::string>{"confirmed_to_person"});
    CHECK(Query(books.path, "SELECT detail FROM receipt_checks")
              .find("names no account of the "
                    "sender") != std::string::npos);
    // Read from her own account's reference, it pays it.
    const std::int64_t own = ReceiptToCheck(books, "wamid.2", "MBAN02");
    ReceiptVerdict mine = Confirmed(books.Reference("A-2"), "MBAN02:20261123:40012");
    mine.reference_read = true;
    const auto paid = books.ledger.SettleReceiptCheck(own, mine, kNow, {}, reply);
    REQUIRE(paid);
    CHECK(paid->outcome == "applied");
    CHECK(books.Balance("A-2") == "10000");

    // A collector closes the conversation before the CEP answers: the debtor is told in a new
    // conversation, and that one waits for a person.
    const std::int64_t late = ReceiptToCheck(books, "wamid.3", "XYZ123");
    books.Exec("UPDATE conversations SET state = 'closed'");
    ReceiptVerdict no;
    no.outcome = "not_found";
    no.detail = "not found";
    const auto unconfirmed = books.ledger.SettleReceiptCheck(late, no, kNow, {}, reply);
    REQUIRE(unconfirmed);
    CHECK(unconfirmed->escalated);
    CHECK(unconfirmed->message_queued);
    CHECK(Query(books.path, "SELECT count(*) FROM conversations") == "2");
    CHECK(Query(books.path,
                "SELECT state || ':' || escalation_reason FROM conversations WHERE "
                "state <> 'closed'") == "escalated:receipt_review");
}

}  // namespace
}  // namespace cobrador::store
