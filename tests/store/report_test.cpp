#include <sstream>

#include <catch2/catch.hpp>

#include "dialogs/reference.hpp"
#include "store/ledger.hpp"

#include "inbound.hpp"
#include "support/catch_result.hpp"
#include "support/probe.hpp"
#include "support/temp_dir.hpp"

namespace cobrador::store {
namespace {

using testing::TempDir;

const Kpis& Split(const std::vector<std::pair<std::string, Kpis>>& split, const std::string& key) {
    for (const auto& [name, kpis] : split) {
        if (name == key) {
            return kpis;
        }
    }
    FAIL("no split named " << key);
    throw std::logic_error("unreachable");
}

// A ledger built by hand, with every figure in the tests below counted on paper from it.
class HandBuiltLedger {
public:
    HandBuiltLedger() : path_(dir_.Ledger("report.db")) {
        auto ledger = Ledger::Open(path_);
        REQUIRE(ledger);
        REQUIRE(ledger->Migrate());
        std::istringstream csv(
            "account_id,debtor_name,phone,birth_date,balance,currency,due_date\n"
            "A1,Ana,+525500000001,1980-01-01,1000.00,MXN,2026-11-30\n"   // current
            "A2,Beto,+525500000002,1980-01-01,500.00,MXN,2026-11-02\n"   // 20 days: 1-30
            "A3,Caro,+525500000003,1980-01-01,0.00,MXN,2026-08-01\n"     // settled: current
            "A4,Dani,+525500000004,1980-01-01,2000.00,MXN,2026-07-01\n"  // 144 days: 90+
            "U1,Eve,+12125550101,1980-01-01,300.00,USD,2026-10-01\n");   // another currency
        const auto parsed = ParsePortfolioCsv(csv);
        REQUIRE(parsed.errors.empty());
        REQUIRE(ledger->ImportPortfolio(parsed.rows, "hand.csv", "2026-06-01T00:00:00Z"));
        ledger_.emplace(std::move(*ledger));

        testing::Probe(path_).Exec(R"sql(
INSERT INTO payments (payment_id, reference, account_id, amount_cents, currency, paid_at, status,
                      source, received_at) VALUES
  ('P1', 'R2', (SELECT id FROM accounts WHERE account_key = 'A2'), 20000, 'MXN',
   '2026-11-10T15:00:00Z', 'applied', 'webhook', 'x'),
  ('P2', 'R3', (SELECT id FROM accounts WHERE account_key = 'A3'), 75000, 'MXN',
   '2026-08-20T15:00:00Z', 'applied', 'import', 'x'),
  ('P3', 'BAD', NULL, 10000, 'MXN', '2026-11-11T15:00:00Z', 'suspense', 'webhook', 'x'),
  ('P4', 'R4', (SELECT id FROM accounts WHERE account_key = 'A4'), 5000, 'MXN',
   '2026-06-15T15:00:00Z', 'applied', 'webhook', 'x');

INSERT INTO conversations (id, debtor_id, phone, channel, state, verified_at, last_activity_at,
                           created_at) VALUES
  (1, (SELECT id FROM debtors WHERE name = 'Beto'), '+525500000002', 'whatsapp', 'bot',
   '2026-11-10T10:05:00Z', 'x', '2026-11-10T10:00:00Z'),
  (2, (SELECT id FROM debtors WHERE name = 'Dani'), '+525500000004', 'sms', 'escalated',
   NULL, 'x', '2026-11-15T10:00:00Z'),
  (3, NULL, '+525599999999', 'whatsapp', 'closed', NULL, 'x', '2026-11-16T10:00:00Z');

INSERT INTO promises (account_id, conversation_id, amount_cents, currency, due_date, status,
                      created_at, resolved_at) VALUES
  ((SELECT id FROM accounts WHERE account_key = 'A2'), 1, 20000, 'MXN', '2026-11-10', 'kept',
   '2026-11-10T10:10:00Z', '2026-11-10T15:00:00Z'),
  ((SELECT id FROM accounts WHERE account_key = 'A4'), 2, 50000, 'MXN', '2026-11-17', 'broken',
   '2026-11-15T10:10:00Z', '2026-11-20T09:00:00Z'),
  ((SELECT id FROM accounts WHERE account_key = 'A4'), 2, 50000, 'MXN', '2026-11-28', 'open',
   '2026-11-21T10:10:00Z', NULL);

INSERT INTO payment_plans (account_id, conversation_id, kind, total_cents, currency, status,
                           created_at) VALUES
  ((SELECT id FROM accounts WHERE account_key = 'A4'), 2, 'installments', 200000, 'MXN',
   'active', '2026-11-21T10:20:00Z');

INSERT INTO audit_log (at, actor, kind, channel, debtor_id, account_id, conversation_id) VALUES
  ('2026-11-10T10:06:00Z', 'bot', 'reference_issued', 'whatsapp', NULL,
   (SELECT id FROM accounts WHERE account_key = 'A2'), 1),
  ('2026-11-15T10:30:00Z', 'bot', 'escalated', 'sms',
   (SELECT id FROM debtors WHERE name = 'Dani'), NULL, 2),
  ('2026-11-18T09:00:00Z', 'bot', 'escalated', 'sms',
   (SELECT id FROM debtors WHERE name = 'Dani'), NULL, 2),
  ('2026-11-16T10:01:00Z', 'bot', 'opted_out', 'whatsapp', NULL, NULL, 3),
  ('2026-06-01T10:00:00Z', 'bot', 'escalated', 'sms', NULL,
   (SELECT id FROM accounts WHERE account_key = 'A4'), NULL);
)sql");
    }

    Report Build(const std::string& from, const std::string& to) {
        auto report = ledger_->BuildReport({from, to, "2026-11-22", ""});
        REQUIRE(report);
        return *report;
    }

private:
    TempDir dir_;
    std::string path_;
    std::optional<Ledger> ledger_;
};

TEST_CASE("Report: every figure over the whole history", "[store][report]") {
    HandBuiltLedger ledger;
    const Report r = ledger.Build("", "");
    CHECK(r.currency == "MXN");  // the most common currency
    CHECK(r.query.to == "2026-11-22");
    const Kpis& t = r.total;
    CHECK(t.accounts == 4);
    CHECK(t.balance_outstanding_cents == 350000);
    CHECK(t.collected_cents == 100000);  // P1 + P2 + P4; the suspense payment is not collected
    CHECK(t.RecoveryRate() == Approx(100000.0 / 450000.0));
    CHECK(t.promises_made == 3);
    CHECK(t.promises_kept == 1);
    CHECK(t.promises_broken == 1);
    CHECK(t.PromiseKeptRate() == Approx(0.5));
    CHECK(t.plans_created == 1);
    CHECK(t.references_issued == 1);
    CHECK(t.escalations == 3);              // events: conversation 2 twice, and one in June
    CHECK(t.escalated_conversations == 1);  // conversations: 2 (the June one had none)
    CHECK(t.opt_outs == 1);
    CHECK(t.conversations == 3);
    CHECK(t.verified_conversations == 1);

    const Kpis& whatsapp = Split(r.by_channel, "whatsapp");
    CHECK(whatsapp.conversations == 2);
    CHECK(whatsapp.verified_conversations == 1);
    CHECK(whatsapp.promises_made == 1);
    CHECK(whatsapp.promises_kept == 1);
    CHECK(whatsapp.references_issued == 1);
    CHECK(whatsapp.opt_outs == 1);
    const Kpis& sms = Split(r.by_channel, "sms");
    CHECK(sms.conversations == 1);
    CHECK(sms.promises_made == 2);
    CHECK(sms.promises_broken == 1);
    CHECK(sms.plans_created == 1);
    CHECK(sms.escalations == 3);
    CHECK(sms.escalated_conversations == 1);
    CHECK(Split(r.by_channel, "sandbox").conversations == 0);

    const Kpis& current = Split(r.by_bucket, "current");
    CHECK(current.accounts == 2);  // A1 not due yet, A3 settled
    CHECK(current.balance_outstanding_cents == 100000);
    CHECK(current.collected_cents == 5000);  // P4, paid before A4 fell due
    CHECK(current.escalations == 1);         // the June one, before A4 fell due
    const Kpis& early = Split(r.by_bucket, "1-30");
    CHECK(early.accounts == 1);
    CHECK(early.balance_outstanding_cents == 50000);
    CHECK(early.collected_cents == 95000);  // P1 (8 days late) + P2 (19 days late)
    CHECK(early.promises_made == 1);
    CHECK(early.references_issued == 1);
    CHECK(early.conversations == 1);
    CHECK(early.verified_conversations == 1);
    const Kpis& late = Split(r.by_bucket, "90+");
    CHECK(late.accounts == 1);
    CHECK(late.balance_outstanding_cents == 200000);
    CHECK(late.promises_made == 2);
    CHECK(late.promises_broken == 1);
    CHECK(late.plans_created == 1);
    CHECK(late.escalations == 2);  // tied to Dani, whose A4 is 137 days late those days
    CHECK(late.escalated_conversations == 1);
    CHECK(late.conversations == 1);
    CHECK(Split(r.by_bucket, "31-60").accounts == 0);
    CHECK(Split(r.by_bucket, "61-90").accounts == 0);
}

TEST_CASE("Report: a period counts only what happened inside it", "[store][report]") {
    HandBuiltLedger ledger;
    const Report r = ledger.Build("2026-11-01", "2026-11-22");
    CHECK(r.total.collected_cents == 20000);             // only P1
    CHECK(r.total.escalations == 2);                     // the June escalation is outside
    CHECK(r.total.escalated_conversations == 1);         // conversation 2, escalated twice
    CHECK(r.total.balance_outstanding_cents == 350000);  // balances are as they stand
    CHECK(r.total.promises_made == 3);
    const Report none = ledger.Build("2026-11-23", "2026-11-30");
    CHECK(none.total.collected_cents == 0);
    CHECK(none.total.promises_made == 0);
    CHECK(none.total.conversations == 0);
    CHECK(none.total.RecoveryRate() == 0.0);
}

TEST_CASE("Report: another currency is reported on its own", "[store][report]") {
    TempDir dir;
    auto ledger = Ledger::Open(dir.Ledger("usd.db"));
    REQUIRE(ledger);
    REQUIRE(ledger->Migrate());
    std::istringstream csv(
        "account_id,debtor_name,phone,birth_date,balance,currency,due_date\n"
        "A1,Ana,+525500000001,1980-01-01,10.00,MXN,2026-11-30\n"
        "U1,Eve,+12125550101,1980-01-01,300.00,USD,2026-10-01\n");
    REQUIRE(ledger->ImportPortfolio(ParsePortfolioCsv(csv).rows, "x.csv", "2026-11-01T00:00:00Z"));
    const auto usd = ledger->BuildReport({"", "", "2026-11-22", "USD"});
    REQUIRE(usd);
    CHECK(usd->currency == "USD");
    CHECK(usd->total.accounts == 1);
    CHECK(usd->total.balance_outstanding_cents == 30000);
    CHECK(Split(usd->by_bucket, "31-60").accounts == 1);
}

TEST_CASE("Report: an empty ledger reports zeros", "[store][report]") {
    TempDir dir;
    auto ledger = Ledger::Open(dir.Ledger("empty.db"));
    REQUIRE(ledger);
    REQUIRE(ledger->Migrate());
    const auto r = ledger->BuildReport({"", "", "2026-11-22", ""});
    REQUIRE(r);
    CHECK(r->currency == "MXN");
    CHECK(r->total.accounts == 0);
    CHECK(r->total.RecoveryRate() == 0.0);
    CHECK(r->total.PromiseKeptRate() == 0.0);
    CHECK(r->by_bucket.size() == 5);
    CHECK(r->by_channel.size() == 3);
}

TEST_CASE("Report: each agent's work, and what the promises they obtained brought in",
          "[store][report]") {
    TempDir dir;
    const std::string path = dir.Ledger("agents.db");
    auto opened = Ledger::Open(path);
    REQUIRE(opened);
    Ledger& ledger = *opened;
    REQUIRE(ledger.Migrate());
    std::istringstream csv(
        "account_id,debtor_name,phone,birth_date,balance,currency,due_date\n"
        "A1,Ana Pérez,+525500000001,1980-01-01,1000.00,MXN,2026-11-10\n"
        "A2,Beto Ruiz,+525500000002,1980-01-01,800.00,MXN,2026-11-10\n");
    const auto parsed = ParsePortfolioCsv(csv);
    REQUIRE(parsed.errors.empty());
    REQUIRE(ledger.ImportPortfolio(parsed.rows, "test", "2026-11-01T00:00:00Z"));
    const auto agent = [&](const std::string& name, const char* role, char token) {
        const auto id = ledger.AddAgent(name, role, std::string(64, token), "2026-11-01T00:00:00Z");
        REQUIRE(id);
        return Agent{*id,
                     name,
                     std::string(role) == "supervisor" ? dialogs::Role::kSupervisor
                                                       : dialogs::Role::kCollector,
                     "2026-11-01T00:00:00Z",
                     false,
                     std::nullopt,
                     std::nullopt};
    };
    const Agent lucia = agent("Lucía", "collector", 'l');
    const Agent mario = agent("Mario", "collector", 'm');
    const Agent sofia = agent("Sofía", "supervisor", 's');
    // Two debtors write; both conversations escalate.
    const auto conversation = [&](const std::string& phone, const std::string& event) {
        return testing::ReceiveText(
            ledger,
            event,
            phone,
            [](const dialogs::ConversationView&) {
                DialogTurn turn;
                turn.dialog_state = "{}";
                turn.commands.emplace_back(dialogs::Escalated{"human"});
                return turn;
            },
            "2026-11-20T15:00:00Z");
    };
    const std::int64_t ana = conversation("+525500000001", "in-1");
    const std::int64_t beto = conversation("+525500000002", "in-2");
    const auto promise = [](std::int64_t cents, const char* date) {
        return AgentAgreement{
            std::nullopt,
            {dialogs::AgreementKind::kPromise, cents, dialogs::ParseIsoDate(date), 0}};
    };
    // Lucía takes Ana's, writes to her, records a promise of $400 and closes; Ana pays it.
    REQUIRE(ledger.ClaimConversation(ana, lucia, std::nullopt, "2026-11-20T16:00:00Z")->ok());
    REQUIRE(ledger
                .SendAgentMessage(
                    ana, lucia, {"hola", "{\"text\":\"hola\"}", false}, "2026-11-20T16:01:00Z")
                ->ok());
    REQUIRE(ledger
                .RecordAgreement(ana,
                                 lucia,
                                 promise(40000, "2026-11-25"),
                                 dialogs::DefaultPolicy(),
                                 std::string("2026-11-20"),
                                 "2026-11-20T16:05:00Z")
                ->ok());
    REQUIRE(
        ledger.CloseConversation(ana, lucia, "promise_to_pay", "", "2026-11-20T16:06:00Z")->ok());
    const std::string reference = *dialogs::PaymentReference(
        testing::Probe(path).Count("SELECT id FROM accounts WHERE account_key = 'A1'"));
    REQUIRE(ledger.ApplyPayments(
        {{0, "PAY-1", reference, 40000, "MXN", "2026-11-24T15:00:00Z", "spei", ""}},
        "webhook",
        "2026-11-24T15:00:01Z"));
    // Sofía records a promise on Beto's without taking it; Beto does not pay it.
    REQUIRE(ledger
                .RecordAgreement(beto,
                                 sofia,
                                 promise(30000, "2026-11-21"),
                                 dialogs::DefaultPolicy(),
                                 std::string("2026-11-20"),
                                 "2026-11-20T17:00:00Z")
                ->ok());
    testing::Probe(path).Exec(
        "UPDATE promises SET status = 'broken', resolved_at = '2026-11-23T06:00:00Z' WHERE "
        "amount_cents = 30000");

    const auto report = ledger.BuildReport({"2026-11-01", "2026-11-30", "2026-11-30", ""});
    REQUIRE(report);
    REQUIRE(report->by_agent.size() == 3);  // by name: Lucía, Mario, Sofía
    const AgentFigures& l = report->by_agent[0];
    CHECK(l.name == "Lucía");
    CHECK(l.role == "collector");
    CHECK(l.claimed == 1);
    CHECK(l.closed == 1);
    CHECK(l.messages_sent == 1);
    CHECK(l.promises_made == 1);
    CHECK(l.promises_kept == 1);
    CHECK(l.promises_broken == 0);
    CHECK(l.recovered_cents == 40000);
    const AgentFigures& m = report->by_agent[1];
    CHECK(m.agent_id == mario.id);
    CHECK(m.claimed + m.closed + m.promises_made + m.recovered_cents == 0);
    const AgentFigures& s = report->by_agent[2];
    CHECK(s.role == "supervisor");
    CHECK(s.promises_made == 1);
    CHECK(s.promises_broken == 1);
    CHECK(s.recovered_cents == 0);
    // A period before any of it: everyone listed, with nothing.
    const auto october = ledger.BuildReport({"2026-10-01", "2026-10-31", "2026-10-31", ""});
    REQUIRE(october);
    REQUIRE(october->by_agent.size() == 3);
    for (const AgentFigures& a : october->by_agent) {
        CHECK(a.claimed + a.closed + a.promises_made + a.promises_kept + a.recovered_cents == 0);
    }
}

TEST_CASE("DpdBucket edges", "[store][report]") {
    CHECK(DpdBucket(-3) == "current");
    CHECK(DpdBucket(0) == "current");
    CHECK(DpdBucket(1) == "1-30");
    CHECK(DpdBucket(30) == "1-30");
    CHECK(DpdBucket(31) == "31-60");
    CHECK(DpdBucket(60) == "31-60");
    CHECK(DpdBucket(61) == "61-90");
    CHECK(DpdBucket(90) == "61-90");
    CHECK(DpdBucket(91) == "90+");
}

}  // namespace
}  // namespace cobrador::store
