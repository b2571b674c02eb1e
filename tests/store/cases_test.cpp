// Disputes, complaints and privacy requests against a real ledger (SQLite, or PostgreSQL for
// the pg.* tests): a case opened in the dialog's transaction gets the folio its reply names;
// while a complaint is open no reminders or broken-promise follow-ups go out about its account;
// closing needs a resolution, sends it once and keeps it; the month's report; and everything
// held about one debtor, for an access request.

#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "dialogs/dialog.hpp"
#include "store/ledger.hpp"

#include "support/catch_result.hpp"
#include "support/probe.hpp"
#include "support/temp_dir.hpp"

namespace cobrador::store {
namespace {

using testing::Probe;
using testing::TempDir;

constexpr const char* kNow = "2026-11-23T16:00:00Z";

// María (A-1 $1,000.00, A-2 $500.00) and Bob (B-1), one collector.
struct Books {
    TempDir dir;
    std::string path = dir.Ledger();
    Ledger ledger = Open();
    std::int64_t agent = *ledger.AddAgent("Ana", "collector", "hash-ana", kNow);

    Ledger Open() {
        auto opened = Ledger::Open(path);
        REQUIRE(opened);
        REQUIRE(opened->Migrate());
        std::istringstream csv(
            "account_id,debtor_id,debtor_name,phone,birth_date,balance,currency,due_date\n"
            "A-1,D-1,María López,+525511111111,1985-03-15,1000.00,MXN,2026-11-01\n"
            "A-2,D-1,María López,+525511111111,1985-03-15,500.00,MXN,2026-11-10\n"
            "B-1,D-2,Bob Smith,+12025550101,1990-01-01,300.00,USD,2026-11-01\n");
        const auto parsed = ParsePortfolioCsv(csv);
        REQUIRE(parsed.errors.empty());
        REQUIRE(opened->ImportPortfolio(parsed.rows, "test", kNow));
        return std::move(*opened);
    }

    std::int64_t AccountId(const std::string& key) {
        return Probe(path).Count("SELECT id FROM accounts WHERE account_key = '" + key + "'");
    }

    // María writes `text`; the dialog (here: the turn given) answers.
    std::int64_t Receive(const std::string& id,
                         const std::string& text,
                         const std::function<DialogTurn()>& turn) {
        REQUIRE(ledger.RecordWebhook(
            {{"sms", id, "text", "+525511111111", "{}", text, "", ""}}, {}, kNow));
        auto pending = ledger.PendingInboundEvents(10);
        REQUIRE(pending);
        REQUIRE(pending->size() == 1);
        const auto handled = ledger.HandleInbound(
            pending->front(), text, [&](const dialogs::ConversationView&) { return turn(); }, kNow);
        REQUIRE(handled);
        return *handled;
    }

    std::vector<std::string> CandidateAccounts(const std::string& now = kNow) {
        const auto candidates = ledger.ReminderCandidates(now, "2026-11-15T00:00:00Z");
        REQUIRE(candidates);
        std::vector<std::string> out;
        for (const ReminderDebtor& d : *candidates) {
            for (const ReminderAccount& a : d.accounts) {
                out.push_back(a.key);
            }
        }
        return out;
    }
};

// María's conversation on SMS, with the bot.
constexpr const char* kMariaOnSms =
    "INSERT INTO conversations (debtor_id, phone, channel, state, last_activity_at, created_at) "
    "VALUES (1, '+525511111111', 'sms', 'bot', 'x', 'x');";

// A complaint Ana registers for María (D-1) about `account_key`.
NewCase AnaRegisters(const Books& books, const std::string& account_key) {
    NewCase request;
    request.debtor_key = "D-1";
    request.category = "wrong_amount";
    request.account_key = account_key;
    request.description = "llamó: el saldo no incluye su pago de octubre";
    request.agent_id = books.agent;
    request.due_date = "2027-01-06";
    return request;
}

DialogTurn DisputeTurn(std::int64_t account) {
    DialogTurn turn;
    turn.dialog_state = "{}";
    turn.commands.push_back(dialogs::CaseOpened{"complaint",
                                                "not_mine",
                                                account,
                                                *dialogs::ParseIsoDate("2027-01-06"),
                                                "no reconozco esa deuda"});
    turn.commands.push_back(dialogs::Escalated{"dispute"});
    const std::string folio(dialogs::kFolioArg);
    turn.replies.push_back({"Registramos tu aclaración con el folio " + folio + ".",
                            "{\"text\":\"folio " + folio + "\"}"});
    return turn;
}

TEST_CASE("Cases: a dispute in the chat opens a case, and the reply names the folio it got",
          "[store][cases]") {
    Books books;
    const std::int64_t a1 = books.AccountId("A-1");
    const std::int64_t conversation =
        books.Receive("SM1", "no reconozco esa deuda", [&] { return DisputeTurn(a1); });
    Probe probe(books.path);
    CHECK(probe.Text("SELECT folio FROM cases") == "Q-2026-000001");
    CHECK(probe.Text("SELECT kind || ' ' || category || ' ' || status || ' ' || due_date || ' ' "
                     "|| description FROM cases") ==
          "complaint not_mine open 2027-01-06 no reconozco esa deuda");
    CHECK(probe.Count("SELECT account_id FROM cases") == a1);
    CHECK(probe.Count("SELECT conversation_id FROM cases") == conversation);
    CHECK(probe.Text("SELECT body FROM messages WHERE direction = 'out'") ==
          "Registramos tu aclaración con el folio Q-2026-000001.");
    CHECK(probe.Text("SELECT payload FROM outbox") == "{\"text\":\"folio Q-2026-000001\"}");
    CHECK(probe.Text("SELECT state || ' ' || escalation_reason FROM conversations") ==
          "escalated dispute");
    CHECK(probe.Count("SELECT count(*) FROM audit_log WHERE kind = 'case_opened'") == 1);

    // A second case gets the next folio; the first is untouched.
    books.Receive("SM2", "tampoco reconozco la otra", [&] { return DisputeTurn(0); });
    CHECK(probe.Joined("SELECT folio FROM cases ORDER BY id") == "Q-2026-000001,Q-2026-000002");
    CHECK(probe.Text("SELECT coalesce(account_id, 0) FROM cases WHERE id = 2") == "0");
}

TEST_CASE(
    "Cases: a broken promise's or plan's follow-up waiting for contact hours is cancelled by a "
    "complaint about its account",
    "[store][cases]") {
    Books books;
    Probe probe(books.path);
    // María: a promise on A-1 and a plan on A-2, each due 10 November, unpaid on the 23rd.
    probe.Exec(
        std::string(kMariaOnSms) +
        "INSERT INTO promises (account_id, conversation_id, amount_cents, currency, due_date, "
        "status, created_at) VALUES (1, 1, 30000, 'MXN', '2026-11-10', 'open', 'x');"
        "INSERT INTO payment_plans (account_id, kind, total_cents, currency, status, created_at) "
        "VALUES (2, 'installments', 50000, 'MXN', 'active', 'x');"
        "INSERT INTO plan_installments (plan_id, seq, due_date, amount_cents, status) VALUES "
        "(1, 1, '2026-11-10', 25000, 'pending'), (1, 2, '2026-12-10', 25000, 'pending');");
    // The follow-ups wait for tomorrow's contact hours.
    const auto follow_up = [](const FollowUp& f) -> std::optional<ProactiveMessage> {
        return ProactiveMessage{"seguimiento " + f.account_id,
                                "{\"text\":\"seguimiento\"}",
                                "2026-11-24T15:00:00Z",
                                f.timezone};
    };
    const auto broken = books.ledger.BreakOverduePromises(3, kNow, follow_up);
    REQUIRE(broken);
    REQUIRE(broken->size() == 2);
    CHECK((*broken)[0].message_queued);
    CHECK((*broken)[1].message_queued);
    CHECK((*broken)[1].installment_id == 1);
    // Each is recorded as what it is about, on María's day.
    CHECK(probe.Joined("SELECT rule || ' ' || subject || ' ' || local_date || ' ' || message_id "
                       "FROM reminders ORDER BY id") ==
          "promise_broken promise:1 2026-11-23 1,plan_broken installment:1 2026-11-23 2");
    CHECK(probe.Joined("SELECT status FROM outbox ORDER BY message_id") == "pending,pending");

    // A complaint about A-2 stops the plan's follow-up only; one about A-1, the promise's.
    NewCase request = AnaRegisters(books, "A-2");
    REQUIRE(books.ledger.OpenCase(request, kNow)->record);
    CHECK(probe.Joined("SELECT status FROM outbox ORDER BY message_id") == "pending,failed");
    request.account_key = "A-1";
    REQUIRE(books.ledger.OpenCase(request, kNow)->record);
    CHECK(probe.Joined("SELECT status FROM outbox ORDER BY message_id") == "failed,failed");
    CHECK(probe.Joined("SELECT coalesce(error_code, '-') FROM messages ORDER BY id") ==
          "case_open,case_open");
}

TEST_CASE("Cases: while a complaint is open, no reminders or follow-ups about its account",
          "[store][cases]") {
    Books books;
    // A reminder already queued for María, waiting for contact hours.
    Probe probe(books.path);
    probe.Exec(
        std::string(kMariaOnSms) +
        "INSERT INTO messages (conversation_id, direction, channel, author, body, status, "
        "created_at, status_at) VALUES (1, 'out', 'sms', 'bot', 'recordatorio', 'queued', 'x', "
        "'x');"
        "INSERT INTO outbox (message_id, channel, recipient, payload, status, next_attempt_at, "
        "created_at) VALUES (1, 'sms', '+525511111111', '{}', 'pending', '2026-11-24T14:00:00Z', "
        "'x');"
        "INSERT INTO reminders (debtor_id, rule, subject, local_date, channel, message_id, "
        "created_at) VALUES (1, 'due_day', 'account:1@2026-11-01', '2026-11-24', 'sms', 1, 'x');"
        "INSERT INTO promises (account_id, conversation_id, amount_cents, currency, due_date, "
        "status, created_at) VALUES (1, 1, 30000, 'MXN', '2026-11-10', 'open', 'x'), (2, 1, "
        "10000, 'MXN', '2026-11-10', 'open', 'x');");
    // And three more: about A-2's due date, about A-1's promise, about A-2's promise.
    const std::vector<std::string> subjects = {"account:2@2026-11-10", "promise:1", "promise:2"};
    for (std::size_t i = 0; i < subjects.size(); ++i) {
        const std::string id = std::to_string(i + 2);
        probe.Exec(
            "INSERT INTO messages (conversation_id, direction, channel, author, body, status, "
            "created_at, status_at) VALUES (1, 'out', 'sms', 'bot', 'recordatorio', 'queued', "
            "'x', 'x');"
            "INSERT INTO outbox (message_id, channel, recipient, payload, status, "
            "next_attempt_at, created_at) VALUES (" +
            id +
            ", 'sms', '+525511111111', '{}', 'pending', '2026-11-24T14:00:00Z', 'x');"
            "INSERT INTO reminders (debtor_id, rule, subject, local_date, channel, message_id, "
            "created_at) VALUES (1, 'r" +
            id + "', '" + subjects[i] + "', '2026-11-24', 'sms', " + id + ", 'x');");
    }
    CHECK(books.CandidateAccounts() == std::vector<std::string>{"A-1", "A-2", "B-1"});

    // A collector registers María's complaint about A-1.
    NewCase request = AnaRegisters(books, "A-1");
    const auto opened = books.ledger.OpenCase(request, kNow);
    REQUIRE(opened);
    REQUIRE(opened->record);
    CHECK(opened->refused.empty());
    CHECK(opened->record->folio == "Q-2026-000001");
    CHECK(opened->record->opened_by_agent == books.agent);
    CHECK(opened->record->account_id == "A-1");

    // The queued reminder does not go out; A-1 is no subject of reminders; its broken promise
    // waits for the case, A-2's breaks as usual.
    // Only those about A-1 (its due date, its promise); A-2's still wait for the hours.
    CHECK(probe.Joined("SELECT status FROM outbox ORDER BY message_id") ==
          "failed,pending,failed,pending");
    CHECK(probe.Joined("SELECT status || ' ' || coalesce(error_code, '-') FROM messages ORDER "
                       "BY id") == "failed case_open,queued -,failed case_open,queued -");
    CHECK(probe.Text("SELECT last_error FROM outbox WHERE message_id = 1") ==
          "cancelled: a complaint is open");
    CHECK(books.CandidateAccounts() == std::vector<std::string>{"A-2", "B-1"});
    auto broken = books.ledger.BreakOverduePromises(3, kNow, {});
    REQUIRE(broken);
    REQUIRE(broken->size() == 1);
    CHECK((*broken)[0].account_id == "A-2");

    // A case about every account of the debtor: María gets no reminders at all.
    request.account_key.reset();
    request.category = "treatment";
    REQUIRE(books.ledger.OpenCase(request, kNow)->record);
    CHECK(books.CandidateAccounts() == std::vector<std::string>{"B-1"});
    CHECK(probe.Joined("SELECT status FROM outbox ORDER BY message_id") ==
          "failed,failed,failed,failed");

    // Closed: the reminders and the promise's judgement resume.
    for (const std::int64_t id : {1, 2}) {
        const auto closed = books.ledger.CloseCase(
            {id, books.agent, "unfavorable", "Revisamos tu caso: el saldo es correcto."},
            "2026-11-24T16:00:00Z",
            {});
        REQUIRE(closed);
        CHECK(closed->refused.empty());
    }
    CHECK(books.CandidateAccounts() == std::vector<std::string>{"A-1", "A-2", "B-1"});
    broken = books.ledger.BreakOverduePromises(4, "2026-11-24T16:00:00Z", {});
    REQUIRE(broken);
    REQUIRE(broken->size() == 1);
    CHECK((*broken)[0].account_id == "A-1");

    // A privacy request stops nothing by itself.
    request.kind = "privacy";
    request.category = "access";
    REQUIRE(books.ledger.OpenCase(request, kNow)->record);
    CHECK(books.CandidateAccounts() == std::vector<std::string>{"A-1", "A-2", "B-1"});
    CHECK(probe.Count("SELECT count(*) FROM contact_preferences") == 0);

    // An opposition a collector registers (a phone call, a letter) stops our messages on every
    // channel at once, as the same words in the chat stop them on that channel.
    request.category = "opposition";
    REQUIRE(books.ledger.OpenCase(request, kNow)->record);
    CHECK(probe.Text("SELECT phone || ' ' || channel || ' ' || source FROM contact_preferences "
                     "WHERE kind = 'opt_out' AND active = 1") == "+525511111111 all agent");
    CHECK(probe.Text("SELECT actor || ' ' || detail FROM audit_log WHERE kind = 'opted_out'") ==
          "agent:" + std::to_string(books.agent) +
              R"( {"folio":"P-2026-000002","reason":"privacy_opposition"})");
}

TEST_CASE("Cases: folios go on from the highest of the year, numbered before by id too",
          "[store][cases]") {
    Books books;
    NewCase request;
    request.debtor_key = "D-1";
    request.kind = "privacy";
    request.category = "access";
    request.agent_id = books.agent;
    request.due_date = "2027-01-06";
    // An older release numbered folios by row id: P-2026-000003 may exist with no 1 or 2.
    REQUIRE(books.ledger.OpenCase(request, kNow)->record);
    Probe(books.path).Exec("UPDATE cases SET folio = 'P-2026-000003'");
    request.category = "rectification";
    const auto next = books.ledger.OpenCase(request, kNow);
    REQUIRE(next);
    REQUIRE(next->record);
    CHECK(next->record->folio == "P-2026-000004");
    // Complaints have their own series; the year is Mexico City's: 19:00 there on 31 December
    // is still 2026, though UTC is in 2027.
    request.kind = "complaint";
    request.category = "other";
    const auto late = books.ledger.OpenCase(request, "2027-01-01T01:00:00Z");
    REQUIRE(late);
    REQUIRE(late->record);
    CHECK(late->record->folio == "Q-2026-000001");
}

TEST_CASE("Cases: closing sends the written resolution once and keeps it", "[store][cases]") {
    Books books;
    books.Receive("SM1", "no reconozco esa deuda", [&] { return DisputeTurn(0); });
    std::vector<std::string> rendered;
    const CaseResolutionFn message = [&](const Addressee& to, const CaseRecord& c) {
        rendered.push_back(to.channel + " " + to.locale + " " + c.folio + " " + *c.resolution);
        return std::optional<ProactiveMessage>(
            ProactiveMessage{"Sobre tu folio " + c.folio + ": " + *c.resolution, "{}", "", ""});
    };
    const auto closed = books.ledger.CloseCase(
        {1, books.agent, "favorable", "Corregimos el saldo de tu cuenta."}, kNow, message);
    REQUIRE(closed);
    CHECK(closed->refused.empty());
    CHECK(closed->message_queued);
    REQUIRE(closed->record);
    CHECK(closed->record->status == "closed");
    CHECK(closed->record->outcome == "favorable");
    CHECK(closed->record->closed_by == books.agent);
    CHECK(rendered ==
          std::vector<std::string>{"sms es-MX Q-2026-000001 Corregimos el saldo de tu cuenta."});
    Probe probe(books.path);
    CHECK(probe.Count("SELECT count(*) FROM messages WHERE body = 'Sobre tu folio Q-2026-000001: "
                      "Corregimos el saldo de tu cuenta.'") == 1);

    // Closing again is refused and sends nothing; so is a case that does not exist.
    const auto again =
        books.ledger.CloseCase({1, books.agent, "unfavorable", "otra cosa"}, kNow, message);
    REQUIRE(again);
    CHECK(again->refused == "closed");
    CHECK(rendered.size() == 1);
    CHECK(probe.Text("SELECT resolution FROM cases") == "Corregimos el saldo de tu cuenta.");
    CHECK(books.ledger.CloseCase({99, books.agent, "favorable", "x"}, kNow, message)->refused ==
          "not_found");

    // Bad requests change nothing: an account that is not the debtor's, a debtor we do not know.
    NewCase request;
    request.debtor_key = "D-1";
    request.account_key = "B-1";
    request.agent_id = books.agent;
    request.due_date = "2027-01-06";
    CHECK(books.ledger.OpenCase(request, kNow)->refused == "no_account");
    request.debtor_key = "D-404";
    CHECK(books.ledger.OpenCase(request, kNow)->refused == "no_debtor");
    CHECK(probe.Count("SELECT count(*) FROM cases") == 1);
}

TEST_CASE("Cases: the month's report counts by category and outcome, an empty month too",
          "[store][cases]") {
    Books books;
    NewCase request;
    request.debtor_key = "D-1";
    request.agent_id = books.agent;
    request.due_date = "2026-12-04";
    for (const char* category : {"not_mine", "not_mine", "treatment"}) {
        request.category = category;
        REQUIRE(books.ledger.OpenCase(request, "2026-11-10T12:00:00Z")->record);
    }
    request.kind = "privacy";
    request.category = "cancellation";
    REQUIRE(books.ledger.OpenCase(request, "2026-11-11T12:00:00Z")->record);
    // One closed in November in time, one in December after its due date.
    REQUIRE(books.ledger.CloseCase({1, books.agent, "favorable", "ok"}, "2026-11-20T12:00:00Z", {})
                ->record);
    REQUIRE(
        books.ledger.CloseCase({3, books.agent, "unfavorable", "no"}, "2026-12-07T12:00:00Z", {})
            ->record);

    const auto november = books.ledger.ComplaintsForMonth("2026-11");
    REQUIRE(november);
    const CaseCounts& not_mine = november->counts.at("complaint").at("not_mine");
    CHECK(not_mine.opened == 2);
    CHECK(not_mine.closed == 1);
    CHECK(not_mine.by_outcome.at("favorable") == 1);
    CHECK(not_mine.open_at_month_end == 1);
    const CaseCounts& treatment = november->counts.at("complaint").at("treatment");
    CHECK(treatment.opened == 1);
    CHECK(treatment.open_at_month_end == 1);                                   // closed in December
    CHECK(november->counts.at("complaint").at("identity_theft").opened == 0);  // listed, zero
    CHECK(november->counts.at("privacy").at("cancellation").opened == 1);
    CHECK(november->cases.size() == 4);

    const auto december = books.ledger.ComplaintsForMonth("2026-12");
    REQUIRE(december);
    CHECK(december->counts.at("complaint").at("treatment").closed == 1);
    CHECK(december->counts.at("complaint").at("treatment").answered_late == 1);
    CHECK(december->counts.at("complaint").at("treatment").opened == 0);

    const auto empty = books.ledger.ComplaintsForMonth("2027-02");
    REQUIRE(empty);
    CHECK(empty->cases.empty());
    CHECK(empty->counts.at("complaint").size() == 6);
    CHECK(empty->counts.at("privacy").size() == 4);
}

TEST_CASE("Export: everything held about one debtor, nothing about another", "[store][cases]") {
    Books books;
    books.Receive("SM1", "no reconozco esa deuda", [&] { return DisputeTurn(0); });
    const auto json = books.ledger.ExportDebtor("D-1", kNow);
    REQUIRE(json);
    REQUIRE(json->has_value());
    const auto doc = nlohmann::json::parse(**json);
    CHECK(doc.at("debtor_id") == "D-1");
    const auto& data = doc.at("data");
    REQUIRE(data.at("debtors").size() == 1);
    CHECK(data.at("debtors")[0].at("name") == "María López");
    CHECK(data.at("debtors")[0].at("birth_date") == "1985-03-15");
    CHECK(data.at("accounts").size() == 2);
    CHECK(data.at("accounts")[0].at("balance_cents") == 100000);  // a number, exact
    CHECK(data.at("messages").size() == 2);                       // hers and our reply
    CHECK(data.at("messages")[0].at("body") == "no reconozco esa deuda");
    CHECK(data.at("cases").size() == 1);
    CHECK(data.at("audit_log").size() >= 2);
    CHECK(data.at("media").empty());
    // Nothing of Bob's.
    CHECK((**json).find("Bob") == std::string::npos);
    CHECK((**json).find("B-1") == std::string::npos);

    const auto none = books.ledger.ExportDebtor("D-404", kNow);
    REQUIRE(none);
    CHECK_FALSE(none->has_value());
}

}  // namespace
}  // namespace cobrador::store
