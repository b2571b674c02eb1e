// Two connections racing on the same rows (SQLite, or PostgreSQL for the pg.* tests). Every
// write method is one transaction: IMMEDIATE on SQLite; on PostgreSQL SERIALIZABLE and run again
// on a serialization failure, or READ COMMITTED under advisory locks for the webhook and send
// records (docs/architecture.md). However two server threads interleave, no update is lost,
// nothing happens twice and no busy error reaches the caller: payments on one account, the same
// payment delivered twice, two collectors claiming one conversation, inbound events of one
// phone, delivery statuses out of order and against the record of the send, one outbox row, an
// opt-out against a reminder, two reminder passes, and two people recording an agreement.
//
// Catch2 is not thread-safe: the racing threads only record what happened; the test's own
// thread checks it once they are done.

#include <algorithm>
#include <array>
#include <atomic>
#include <barrier>
#include <cstdio>
#include <functional>
#include <map>
#include <numeric>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

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
constexpr const char* kLeaseEnds = "2026-11-23T16:01:30Z";  // a claim's lease, from kNow
constexpr const char* kAfterLease = "2026-11-23T16:02:00Z";

// Runs step(side, i) for i in [0, steps) on two threads at once, side 0 and side 1. The threads
// meet before every step, so each pair of steps really overlaps.
void Race(int steps, const std::function<void(int side, int step)>& step) {
    std::barrier<> meet(2);
    const auto run = [&](int side) {
        for (int i = 0; i < steps; ++i) {
            meet.arrive_and_wait();
            step(side, i);
        }
    };
    std::thread other(run, 1);
    run(0);
    other.join();
}

// What a failed call said: the error the caller got and the connection's own words.
template <class T>
std::string Failure(const std::string& what, const Result<T>& result, const Ledger& ledger) {
    return what + ": " + result.error().message() + " (" + ledger.LastError() + ")";
}

std::int64_t Count(const std::string& target, const std::string& sql) {
    return Probe(target).Count(sql);
}

std::string Text(const std::string& target, const std::string& sql) {
    return Probe(target).Text(sql);
}

std::string Quoted(const std::string& text) {
    return "'" + text + "'";
}

PaymentRecord Payment(const std::string& id, const std::string& reference, std::int64_t cents) {
    PaymentRecord p;
    p.payment_id = id;
    p.reference = reference;
    p.amount_cents = cents;
    p.currency = "MXN";
    p.paid_at = "2026-11-23T15:00:00Z";
    p.method = "spei";
    return p;
}

// A bot that answers every message with one reply, "re:<the event's provider id>", so that
// each reply can be traced to the event it answers.
DecideFn Answer(const std::string& provider_event_id) {
    return [provider_event_id](const dialogs::ConversationView&) {
        DialogTurn turn;
        turn.dialog_state = "{}";
        const std::string body = "re:" + provider_event_id;
        turn.replies.push_back({body, "{\"text\":\"" + body + "\"}"});
        return turn;
    };
}

// A bot that hands every conversation to a person.
DialogTurn Escalate(const dialogs::ConversationView&) {
    DialogTurn turn;
    turn.dialog_state = "{}";
    turn.commands.emplace_back(dialogs::Escalated{"human"});
    return turn;
}

InboundRecord Incoming(const std::string& provider_event_id, const std::string& phone) {
    return {"whatsapp", provider_event_id, "text", phone, "{\"text\":\"hola\"}", "hola", "", ""};
}

// The phone of the i-th debtor of a test.
std::string Phone(int i) {
    const std::string digits = std::to_string(1000 + i);
    return "+5255200" + digits;
}

// A migrated ledger with one debtor, María (+525511111111), and her account A-1 of $1,000.00
// MXN, and two connections to it, as two server threads have.
struct Books {
    TempDir dir;
    std::string target = dir.Ledger();
    std::vector<Ledger> ledgers = Connect();

    std::vector<Ledger> Connect() {
        std::vector<Ledger> out;
        for (int i = 0; i < 2; ++i) {
            auto opened = Ledger::Open(target);
            REQUIRE(opened);
            out.push_back(std::move(*opened));
        }
        REQUIRE(out[0].Migrate());
        std::istringstream csv(
            "account_id,debtor_name,phone,birth_date,balance,currency,due_date\n"
            "A-1,María López,+525511111111,1985-03-15,1000.00,MXN,2026-11-01\n");
        const auto parsed = ParsePortfolioCsv(csv);
        REQUIRE(parsed.errors.empty());
        REQUIRE(out[0].ImportPortfolio(parsed.rows, "test", kNow));
        return out;
    }

    std::string Reference(const std::string& account_key) const {
        const auto id =
            Count(target, "SELECT id FROM accounts WHERE account_key = " + Quoted(account_key));
        return *dialogs::PaymentReference(id);
    }

    std::int64_t Balance(const std::string& account_key) const {
        return Count(
            target,
            "SELECT balance_cents FROM accounts WHERE account_key = " + Quoted(account_key));
    }

    // Records `events` and handles each on the first connection with `decide`; returns the
    // conversation each landed in, in order.
    std::vector<std::int64_t> Handle(const std::vector<InboundRecord>& events,
                                     const std::function<DecideFn(const PendingInbound&)>& decide) {
        REQUIRE(ledgers[0].RecordWebhook(events, {}, kNow));
        const auto pending = ledgers[0].PendingInboundEvents(events.size());
        REQUIRE(pending);
        REQUIRE(pending->size() == events.size());
        std::vector<std::int64_t> conversations;
        for (const PendingInbound& event : *pending) {
            const auto handled = ledgers[0].HandleInbound(event, "hola", decide(event), kNow);
            REQUIRE(handled);
            conversations.push_back(*handled);
        }
        return conversations;
    }
};

// What one side of a race saw.
struct Log {
    std::vector<std::string> errors;
    std::vector<PaymentOutcome> payments;
};

TEST_CASE("Race: payments to one account from two connections are all applied", "[store][race]") {
    Books books;
    const std::string reference = books.Reference("A-1");
    constexpr int kEach = 25;
    std::array<Log, 2> logs;
    Race(kEach, [&](int side, int i) {
        Ledger& ledger = books.ledgers[static_cast<std::size_t>(side)];
        Log& log = logs[static_cast<std::size_t>(side)];
        const std::string id = (side == 0 ? "A-" : "B-") + std::to_string(i);
        const auto applied = ledger.ApplyPayments({Payment(id, reference, 1000)}, "webhook", kNow);
        if (!applied) {
            log.errors.push_back(Failure(id, applied, ledger));
            return;
        }
        log.payments.insert(log.payments.end(), applied->outcomes.begin(), applied->outcomes.end());
    });
    CHECK(logs[0].errors == std::vector<std::string>{});
    CHECK(logs[1].errors == std::vector<std::string>{});

    // Each payment started from the balance the one before it left: every balance from $990 down
    // to $500 was reached exactly once.
    std::multiset<std::int64_t> balances;
    for (const Log& log : logs) {
        for (const PaymentOutcome& o : log.payments) {
            CHECK(o.status == "applied");
            CHECK(o.applied_cents == 1000);
            balances.insert(o.new_balance_cents);
        }
    }
    std::multiset<std::int64_t> expected;
    for (int n = 1; n <= 2 * kEach; ++n) {
        expected.insert(100000 - n * 1000);
    }
    CHECK(balances == expected);

    // $1,000 - 50 x $10 = $500, and every payment is on the books with its history row.
    CHECK(books.Balance("A-1") == 50000);
    const std::string& db = books.target;
    CHECK(Count(db, "SELECT count(*) FROM payments WHERE status = 'applied'") == 2 * kEach);
    CHECK(Count(db, "SELECT sum(applied_cents) FROM payments") == 2 * kEach * 1000);
    CHECK(Count(db, "SELECT count(*) FROM balance_history WHERE source = 'payment'") == 2 * kEach);
    CHECK(Count(db,
                "SELECT count(DISTINCT balance_cents) FROM balance_history WHERE source = "
                "'payment'") == 2 * kEach);
    CHECK(Count(db, "SELECT min(balance_cents) FROM balance_history") == 50000);
    CHECK(Count(db, "SELECT count(*) FROM audit_log WHERE kind = 'payment_applied'") == 2 * kEach);
}

TEST_CASE("Race: the same payment on two connections at once is applied once", "[store][race]") {
    Books books;
    const std::string reference = books.Reference("A-1");
    // María has a conversation: each applied payment thanks her there, once.
    books.Handle({Incoming("wamid.IN-1", "+525511111111")},
                 [](const PendingInbound& e) { return Answer(e.provider_event_id); });
    const auto thank = [](const PaymentNotice&) -> std::optional<ProactiveMessage> {
        return ProactiveMessage{"gracias", "{\"text\":\"gracias\"}", "", ""};
    };

    constexpr int kRounds = 40;
    // Per side, what became of each payment: applied or duplicate.
    std::array<std::vector<std::string>, 2> status;
    std::array<Log, 2> logs;
    for (auto& s : status) {
        s.resize(kRounds);
    }
    Race(kRounds, [&](int side, int i) {
        Ledger& ledger = books.ledgers[static_cast<std::size_t>(side)];
        const std::string id = "P-" + std::to_string(i);
        const auto applied =
            ledger.ApplyPayments({Payment(id, reference, 1000)}, "webhook", kNow, thank);
        if (!applied) {
            logs[static_cast<std::size_t>(side)].errors.push_back(Failure(id, applied, ledger));
            return;
        }
        status[static_cast<std::size_t>(side)][static_cast<std::size_t>(i)] =
            applied->outcomes.at(0).status;
    });
    CHECK(logs[0].errors == std::vector<std::string>{});
    CHECK(logs[1].errors == std::vector<std::string>{});
    for (std::size_t i = 0; i < kRounds; ++i) {
        INFO("P-" << i);
        std::array<std::string, 2> both = {status[0][i], status[1][i]};
        std::sort(both.begin(), both.end());
        CHECK(both == std::array<std::string, 2>{"applied", "duplicate"});
    }

    const std::string& db = books.target;
    CHECK(Count(db,
                "SELECT count(*) FROM (SELECT payment_id FROM payments GROUP BY payment_id "
                "HAVING count(*) <> 1) repeated") == 0);
    CHECK(Count(db, "SELECT count(*) FROM payments") == kRounds);
    CHECK(books.Balance("A-1") == 100000 - kRounds * 1000);
    CHECK(Count(db, "SELECT count(*) FROM balance_history WHERE source = 'payment'") == kRounds);
    CHECK(Count(db, "SELECT count(*) FROM audit_log WHERE kind = 'payment_applied'") == kRounds);
    // One thank-you per payment, not two.
    CHECK(Count(db, "SELECT count(*) FROM messages WHERE body = 'gracias'") == kRounds);
    CHECK(Count(db,
                "SELECT count(*) FROM outbox o JOIN messages m ON m.id = o.message_id WHERE "
                "m.body = 'gracias'") == kRounds);
}

TEST_CASE("Race: two people matching one suspense payment at once, it is applied once",
          "[store][race]") {
    Books books;
    constexpr int kRounds = 30;
    std::vector<PaymentRecord> held;
    for (int i = 0; i < kRounds; ++i) {
        held.push_back(Payment("S-" + std::to_string(i), "9999999", 1000));
    }
    REQUIRE(books.ledgers[0].ApplyPayments(held, "import", kNow));
    std::array<std::vector<MatchResult>, 2> result;
    std::array<Log, 2> logs;
    for (auto& r : result) {
        r.resize(kRounds, MatchResult::kNoPayment);
    }
    Race(kRounds, [&](int side, int i) {
        Ledger& ledger = books.ledgers[static_cast<std::size_t>(side)];
        const std::string id = "S-" + std::to_string(i);
        // Alike payments are each other's possible twins: confirmed, as the person would.
        const auto matched = ledger.MatchSuspensePayment(id, "A-1", side + 1, true, kNow);
        if (!matched) {
            logs[static_cast<std::size_t>(side)].errors.push_back(Failure(id, matched, ledger));
            return;
        }
        result[static_cast<std::size_t>(side)][static_cast<std::size_t>(i)] = matched->result;
    });
    CHECK(logs[0].errors == std::vector<std::string>{});
    CHECK(logs[1].errors == std::vector<std::string>{});
    for (std::size_t i = 0; i < kRounds; ++i) {
        INFO("S-" << i);
        const std::array<MatchResult, 2> both = {result[0][i], result[1][i]};
        CHECK(std::count(both.begin(), both.end(), MatchResult::kMatched) == 1);
        CHECK(std::count(both.begin(), both.end(), MatchResult::kNotInSuspense) == 1);
    }
    const std::string& db = books.target;
    CHECK(books.Balance("A-1") == 100000 - kRounds * 1000);
    CHECK(Count(db, "SELECT count(*) FROM payments WHERE status = 'applied'") == kRounds);
    CHECK(Count(db, "SELECT count(*) FROM balance_history WHERE source = 'payment'") == kRounds);
    CHECK(Count(db, "SELECT count(*) FROM audit_log WHERE kind = 'payment_matched'") == kRounds);
    CHECK(Count(db, "SELECT count(*) FROM audit_log WHERE kind = 'payment_applied'") == kRounds);
}

TEST_CASE(
    "Race: one provider payment told by two connections at once, in parts and refunded, counts "
    "once",
    "[store][race]") {
    Books books;
    const std::string reference = books.Reference("A-1");
    const auto report =
        [&](const std::string& payment, ProviderReport::Kind kind, std::int64_t total) {
            ProviderReport r;
            r.kind = kind;
            r.provider = "stripe";
            r.payment = payment;
            r.total_cents = total;
            r.currency = "MXN";
            r.reference = reference;
            r.paid_at = "2026-11-23T15:00:00Z";
            r.reversal_kind = "refund";
            return r;
        };
    using Kind = ProviderReport::Kind;
    constexpr int kRounds = 20;
    std::array<Log, 2> logs;
    // Each round, one payment of $10.00: side 0 says $4.00 arrived, side 1 says all $10.00 did
    // (a bank transfer funded in parts, told out of order); then side 0 says $3.00 was refunded
    // while side 1 says $5.00 was (a refund told twice, growing). Every event has its own id.
    Race(kRounds * 2, [&](int side, int step) {
        Ledger& ledger = books.ledgers[static_cast<std::size_t>(side)];
        const int round = step / 2;
        const std::string payment = "pi_" + std::to_string(round);
        ProviderEvent e;
        e.provider = "stripe";
        e.event_id = "evt_" + std::to_string(step) + "_" + std::to_string(side);
        e.type = "test";
        e.body = "{}";
        if (step % 2 == 0) {
            e.reports = {report(payment, Kind::kReceived, side == 0 ? 400 : 1000)};
        } else {
            e.reports = {report(payment, Kind::kReversed, side == 0 ? 300 : 500)};
        }
        const auto done = ledger.RecordProviderEvent(e, kNow, {});
        if (!done) {
            logs[static_cast<std::size_t>(side)].errors.push_back(
                Failure(e.event_id, done, ledger));
        }
    });
    CHECK(logs[0].errors == std::vector<std::string>{});
    CHECK(logs[1].errors == std::vector<std::string>{});
    const std::string& db = books.target;
    // Each payment received $10.00 in all and gave back $5.00 in all, whatever the order.
    CHECK(Count(db,
                "SELECT count(*) FROM (SELECT provider_payment FROM payments GROUP BY "
                "provider_payment HAVING sum(amount_cents) <> 1000 OR sum(reversed_cents) <> "
                "500) wrong") == 0);
    CHECK(Count(db, "SELECT count(DISTINCT provider_payment) FROM payments") == kRounds);
    CHECK(Count(db,
                "SELECT count(*) FROM (SELECT provider_payment FROM payment_reversals GROUP BY "
                "provider_payment HAVING sum(amount_cents) <> 500) wrong") == 0);
    CHECK(books.Balance("A-1") == 100000 - kRounds * 500);
    CHECK(Count(db, "SELECT count(*) FROM provider_events") == kRounds * 4);
}

TEST_CASE("Race: one SPEI transfer told by STP and confirmed from a receipt at once is paid once",
          "[store][race][receipts]") {
    Books books;
    const std::string reference = books.Reference("A-1");
    constexpr int kRounds = 12;
    // Each round, a receipt of a $10.00 transfer waits for its confirmation.
    std::vector<std::int64_t> checks;
    for (int round = 0; round < kRounds; ++round) {
        ReceiptReading reading;
        reading.read = true;
        reading.clave_rastreo = "MBAN0100" + std::to_string(round);
        reading.amount_cents = 1000;
        reading.operation_date = "2026-11-23";
        checks.push_back(testing::ReceiptToCheck(
            books.ledgers[0], "wamid." + std::to_string(round), "+525511111111", reading, kNow));
    }
    const auto key = [](int round) {
        return "MBAN0100" + std::to_string(round) + ":20261123:40012";
    };
    std::array<Log, 2> logs;
    // What each side made of each round, by round: a failed round stays empty.
    std::array<std::vector<std::string>, 2> status;
    for (auto& side : status) {
        side.resize(kRounds);
    }
    // Side 0 is STP's abono of the transfer, side 1 the CEP's confirmation of the receipt.
    Race(kRounds, [&](int side, int round) {
        Ledger& ledger = books.ledgers[static_cast<std::size_t>(side)];
        Log& log = logs[static_cast<std::size_t>(side)];
        if (side == 0) {
            ProviderEvent e;
            e.provider = "stp";
            e.event_id = "abono-" + std::to_string(round);
            e.type = "abono";
            e.body = "{}";
            ProviderReport r;
            r.provider = "stp";
            r.payment = key(round);
            r.total_cents = 1000;
            r.currency = "MXN";
            r.reference = reference;
            r.paid_at = "2026-11-23T15:00:00Z";
            r.method = "spei";
            r.spei_key = key(round);
            e.reports = {r};
            const auto done = ledger.RecordProviderEvent(e, kNow, {});
            if (!done) {
                log.errors.push_back(Failure(e.event_id, done, ledger));
                return;
            }
            REQUIRE(done->outcomes.size() == 1);
            status[0][static_cast<std::size_t>(round)] = done->outcomes.front().status;
            return;
        }
        ReceiptVerdict v;
        v.confirmed = true;
        v.payment = Payment("cep:" + key(round), reference, 1000);
        v.payment.spei_key = key(round);
        const auto done =
            ledger.SettleReceiptCheck(checks[static_cast<std::size_t>(round)], v, kNow, {}, {});
        if (!done) {
            log.errors.push_back(Failure("check " + std::to_string(round), done, ledger));
            return;
        }
        status[1][static_cast<std::size_t>(round)] = done->payment.status;
    });
    CHECK(logs[0].errors == std::vector<std::string>{});
    CHECK(logs[1].errors == std::vector<std::string>{});
    // Each round: one side applied it, the other found it applied.
    for (int round = 0; round < kRounds; ++round) {
        const auto i = static_cast<std::size_t>(round);
        INFO("round " << round);
        std::multiset<std::string> statuses = {status[0][i], status[1][i]};
        CHECK(statuses == std::multiset<std::string>{"applied", "duplicate"});
    }
    const std::string& db = books.target;
    CHECK(Count(db, "SELECT count(*) FROM payments") == kRounds);
    CHECK(Count(db, "SELECT count(DISTINCT spei_key) FROM payments") == kRounds);
    CHECK(books.Balance("A-1") == 100000 - kRounds * 1000);
    CHECK(Count(db, "SELECT count(*) FROM receipt_checks WHERE status = 'confirmed'") == kRounds);
}

TEST_CASE("Race: two collectors claiming one conversation, exactly one gets it", "[store][race]") {
    Books books;
    const auto agent = [&](const std::string& name, char token) {
        const auto id = books.ledgers[0].AddAgent(name, "collector", std::string(64, token), kNow);
        REQUIRE(id);
        return Agent{*id, name, dialogs::Role::kCollector, kNow, false, std::nullopt, std::nullopt};
    };
    const std::array<Agent, 2> collectors = {agent("Ana", 'a'), agent("Beto", 'b')};

    // One escalated conversation per round, each waiting in the queue.
    constexpr int kRounds = 30;
    std::vector<InboundRecord> events;
    for (int i = 0; i < kRounds; ++i) {
        events.push_back(Incoming("wamid.IN-" + std::to_string(i), Phone(i)));
    }
    const std::vector<std::int64_t> conversations =
        books.Handle(events, [](const PendingInbound&) { return DecideFn(Escalate); });
    REQUIRE(Count(books.target, "SELECT count(*) FROM conversations WHERE state = 'escalated'") ==
            kRounds);

    std::array<std::vector<std::optional<ActionOutcome>>, 2> outcomes;
    std::array<Log, 2> logs;
    for (auto& o : outcomes) {
        o.resize(kRounds);
    }
    Race(kRounds, [&](int side, int i) {
        const auto s = static_cast<std::size_t>(side);
        Ledger& ledger = books.ledgers[s];
        const std::int64_t id = conversations[static_cast<std::size_t>(i)];
        const auto claimed = ledger.ClaimConversation(id, collectors[s], std::nullopt, kNow);
        if (!claimed) {
            logs[s].errors.push_back(Failure(
                "claim of " + std::to_string(id) + " by " + collectors[s].name, claimed, ledger));
            return;
        }
        outcomes[s][static_cast<std::size_t>(i)] = *claimed;
    });
    CHECK(logs[0].errors == std::vector<std::string>{});
    CHECK(logs[1].errors == std::vector<std::string>{});

    for (std::size_t i = 0; i < kRounds; ++i) {
        const std::string id = std::to_string(conversations[i]);
        INFO("conversation " << id);
        if (!outcomes[0][i] || !outcomes[1][i]) {
            continue;  // an error, reported above
        }
        // One claim went through; the other was told who holds the conversation.
        REQUIRE(outcomes[0][i]->ok() != outcomes[1][i]->ok());
        const std::size_t winner = outcomes[0][i]->ok() ? 0 : 1;
        const ActionOutcome& won = *outcomes[winner][i];
        const ActionOutcome& lost = *outcomes[1 - winner][i];
        CHECK(lost.refusal == Refusal::kHeldByOther);
        REQUIRE(lost.holder);
        CHECK(lost.holder->id == collectors[winner].id);
        REQUIRE(won.conversation);
        REQUIRE(won.conversation->holder);
        CHECK(won.conversation->holder->id == collectors[winner].id);
        // The ledger agrees: claimed by the winner, with one audit row.
        CHECK(Text(books.target, "SELECT state FROM conversations WHERE id = " + id) == "claimed");
        CHECK(Count(books.target, "SELECT assigned_agent_id FROM conversations WHERE id = " + id) ==
              collectors[winner].id);
        CHECK(Count(books.target,
                    "SELECT count(*) FROM audit_log WHERE kind = 'claimed' AND conversation_id = " +
                        id) == 1);
        CHECK(Text(books.target,
                   "SELECT actor FROM audit_log WHERE kind = 'claimed' AND conversation_id = " +
                       id) == "agent:" + std::to_string(collectors[winner].id));
    }
    CHECK(Count(books.target, "SELECT count(*) FROM audit_log WHERE kind = 'claimed'") == kRounds);
}

TEST_CASE("Race: escalations handled on two connections at once are handed out strictly in turn",
          "[store][race]") {
    Books books;
    std::vector<std::int64_t> people;
    for (const char* name : {"Ana", "Beto", "Carla"}) {
        const auto id =
            books.ledgers[0].AddAgent(name, "collector", std::string(64, name[0]), kNow);
        REQUIRE(id);
        REQUIRE(books.ledgers[0].SetShift(*id, true, *id, kNow).value());
        people.push_back(*id);
    }
    // Thirty new escalations, two at a time, one on each connection.
    constexpr int kEscalations = 30;
    std::vector<InboundRecord> events;
    for (int i = 0; i < kEscalations; ++i) {
        events.push_back(Incoming("wamid.IN-" + std::to_string(i), Phone(i)));
    }
    REQUIRE(books.ledgers[0].RecordWebhook(events, {}, kNow));
    const auto pending = books.ledgers[0].PendingInboundEvents(events.size());
    REQUIRE(pending);
    REQUIRE(pending->size() == events.size());
    std::array<Log, 2> logs;
    Race(kEscalations / 2, [&](int side, int step) {
        const auto s = static_cast<std::size_t>(side);
        const PendingInbound& e = pending->at(static_cast<std::size_t>(step * 2 + side));
        Ledger& ledger = books.ledgers[s];
        const auto handled = ledger.HandleInbound(e, "hola", Escalate, kNow);
        if (!handled) {
            logs[s].errors.push_back(Failure(e.provider_event_id, handled, ledger));
        }
    });
    CHECK(logs[0].errors == std::vector<std::string>{});
    CHECK(logs[1].errors == std::vector<std::string>{});
    // Every one was handed out once, and each person got exactly a third: no race skipped
    // anyone's turn or gave someone two in a row.
    CHECK(Count(books.target, "SELECT count(*) FROM conversations WHERE state = 'claimed'") ==
          kEscalations);
    CHECK(Count(books.target, "SELECT count(*) FROM audit_log WHERE kind = 'handed_out'") ==
          kEscalations);
    for (const std::int64_t person : people) {
        INFO("agent " << person);
        CHECK(Count(books.target,
                    "SELECT count(*) FROM conversations WHERE assigned_agent_id = " +
                        std::to_string(person)) == kEscalations / 3);
    }
    CHECK(Count(books.target, "SELECT count(DISTINCT hand_out_turn) FROM agents") == 3);
    CHECK(Count(books.target, "SELECT max(hand_out_turn) FROM agents") == kEscalations);
}

// The checks every inbound race ends with: each event handled once, into the one conversation
// of its phone, with exactly one reply.
void CheckInboundHandledOnce(const std::string& db, int phones, int events) {
    // One conversation per phone and channel.
    CHECK(Count(db, "SELECT count(*) FROM conversations") == phones);
    CHECK(Count(db,
                "SELECT count(*) FROM (SELECT phone FROM conversations WHERE state <> 'closed' "
                "GROUP BY phone, channel HAVING count(*) <> 1) repeated") == 0);
    // Every event handled, stored once in the transcript of its phone's conversation.
    CHECK(Count(db, "SELECT count(*) FROM inbound_events") == events);
    CHECK(Count(db, "SELECT count(*) FROM inbound_events WHERE processed_at IS NULL") == 0);
    CHECK(Count(db, "SELECT count(*) FROM messages WHERE direction = 'in'") == events);
    CHECK(Count(db,
                "SELECT count(*) FROM inbound_events e WHERE (SELECT count(*) FROM messages m "
                "JOIN conversations c ON c.id = m.conversation_id WHERE m.direction = 'in' AND "
                "m.provider_message_id = e.provider_event_id AND c.phone = e.phone AND "
                "c.channel = e.channel) <> 1") == 0);
    // One reply per event, queued once, in the same conversation.
    CHECK(Count(db, "SELECT count(*) FROM messages WHERE direction = 'out'") == events);
    CHECK(Count(db, "SELECT count(*) FROM outbox") == events);
    CHECK(Count(db,
                "SELECT count(*) FROM inbound_events e WHERE (SELECT count(*) FROM messages m "
                "JOIN conversations c ON c.id = m.conversation_id WHERE m.direction = 'out' AND "
                "m.body = 're:' || e.provider_event_id AND c.phone = e.phone) <> 1") == 0);
}

TEST_CASE("Race: one phone's events handled on two connections land in one conversation",
          "[store][race]") {
    Books books;
    // Four events from each phone; per phone, each connection handles two of them, both
    // connections working on the same phone at the same time (the first two also race to open
    // its conversation).
    constexpr int kPhones = 10;
    constexpr int kPerPhone = 4;
    std::vector<InboundRecord> events;
    for (int p = 0; p < kPhones; ++p) {
        for (int e = 0; e < kPerPhone; ++e) {
            events.push_back(
                Incoming("wamid.IN-" + std::to_string(p) + "-" + std::to_string(e), Phone(p)));
        }
    }
    REQUIRE(books.ledgers[0].RecordWebhook(events, {}, kNow));
    const auto pending = books.ledgers[0].PendingInboundEvents(events.size());
    REQUIRE(pending);
    REQUIRE(pending->size() == events.size());
    std::map<std::string, const PendingInbound*> by_id;
    for (const PendingInbound& e : *pending) {
        by_id[e.provider_event_id] = &e;
    }

    // Per side, the conversation of each event handled.
    std::array<std::map<std::string, std::int64_t>, 2> handled;
    std::array<Log, 2> logs;
    Race(kPhones * kPerPhone / 2, [&](int side, int step) {
        const auto s = static_cast<std::size_t>(side);
        const int phone = step / (kPerPhone / 2);
        const int event = (step % (kPerPhone / 2)) * 2 + side;
        const std::string id = "wamid.IN-" + std::to_string(phone) + "-" + std::to_string(event);
        const PendingInbound& e = *by_id.at(id);
        Ledger& ledger = books.ledgers[s];
        const auto conversation = ledger.HandleInbound(e, "hola", Answer(id), kNow);
        if (!conversation) {
            logs[s].errors.push_back(Failure(id, conversation, ledger));
            return;
        }
        handled[s][id] = *conversation;
    });
    CHECK(logs[0].errors == std::vector<std::string>{});
    CHECK(logs[1].errors == std::vector<std::string>{});

    // Both connections put a phone's events in the same conversation.
    for (int p = 0; p < kPhones; ++p) {
        std::set<std::int64_t> conversations;
        for (const auto& side : handled) {
            for (const auto& [id, conversation] : side) {
                if (id.rfind("wamid.IN-" + std::to_string(p) + "-", 0) == 0) {
                    conversations.insert(conversation);
                }
            }
        }
        INFO("phone " << Phone(p));
        CHECK(conversations.size() == 1);
    }
    CheckInboundHandledOnce(books.target, kPhones, kPhones * kPerPhone);
}

TEST_CASE("Race: the same inbound event on two connections is handled once", "[store][race]") {
    Books books;
    // Each round a new phone writes once, and both connections handle that event at the same
    // moment (a replay, a second worker): both race to open the conversation and to answer.
    constexpr int kRounds = 30;
    std::vector<InboundRecord> events;
    for (int i = 0; i < kRounds; ++i) {
        events.push_back(Incoming("wamid.IN-" + std::to_string(i), Phone(i)));
    }
    REQUIRE(books.ledgers[0].RecordWebhook(events, {}, kNow));
    const auto pending = books.ledgers[0].PendingInboundEvents(events.size());
    REQUIRE(pending);
    REQUIRE(pending->size() == events.size());

    std::array<std::vector<std::int64_t>, 2> handled;
    std::array<Log, 2> logs;
    for (auto& h : handled) {
        h.resize(kRounds);
    }
    Race(kRounds, [&](int side, int i) {
        const auto s = static_cast<std::size_t>(side);
        const PendingInbound& e = pending->at(static_cast<std::size_t>(i));
        Ledger& ledger = books.ledgers[s];
        const auto conversation =
            ledger.HandleInbound(e, "hola", Answer(e.provider_event_id), kNow);
        if (!conversation) {
            logs[s].errors.push_back(Failure(e.provider_event_id, conversation, ledger));
            return;
        }
        handled[s][static_cast<std::size_t>(i)] = *conversation;
    });
    CHECK(logs[0].errors == std::vector<std::string>{});
    CHECK(logs[1].errors == std::vector<std::string>{});
    // Both were told the same conversation.
    CHECK(handled[0] == handled[1]);
    CheckInboundHandledOnce(books.target, kRounds, kRounds);
}

// `count` conversations, each with one bot reply in the outbox (not sent yet); returns the
// outbox rows, oldest first.
std::vector<OutboxItem> Replies(Books& books, int count) {
    std::vector<InboundRecord> events;
    for (int i = 0; i < count; ++i) {
        events.push_back(Incoming("wamid.IN-" + std::to_string(i), Phone(i)));
    }
    books.Handle(events, [](const PendingInbound& e) { return Answer(e.provider_event_id); });
    const auto due =
        books.ledgers[0].ClaimOutbox("test", kNow, kLeaseEnds, static_cast<std::size_t>(count));
    REQUIRE(due);
    REQUIRE(due->size() == static_cast<std::size_t>(count));
    return *due;
}

StatusRecord Status(const std::string& provider_message_id, const std::string& status) {
    return {"whatsapp", provider_message_id, status, "", "", kNow};
}

std::string OutId(std::size_t i) {
    return "wamid.OUT-" + std::to_string(i);
}

// Every outbound message ended at "read".
void CheckAllRead(const std::string& db, std::size_t messages) {
    for (std::size_t i = 0; i < messages; ++i) {
        INFO(OutId(i));
        CHECK(Text(db,
                   "SELECT status FROM messages WHERE direction = 'out' AND "
                   "provider_message_id = " +
                       Quoted(OutId(i))) == "read");
    }
    CHECK(Count(db, "SELECT count(*) FROM messages WHERE direction = 'out' AND status <> 'read'") ==
          0);
}

TEST_CASE("Race: delivery statuses in opposite orders on two connections end at the furthest",
          "[store][race]") {
    Books books;
    constexpr int kMessages = 20;
    const std::vector<OutboxItem> replies = Replies(books, kMessages);
    for (std::size_t i = 0; i < replies.size(); ++i) {
        REQUIRE(books.ledgers[0].MarkOutboxSent(replies[i].id, replies[i].lease, OutId(i), kNow));
    }

    // For each message, one connection gets sent, delivered, read and the other read,
    // delivered, sent, one status per webhook, both at the same time. After each webhook, the
    // connection reads the message's status back from the transcript.
    const std::array<std::string, 3> order = {"sent", "delivered", "read"};
    std::array<WebhookOutcome, 2> totals;
    std::array<Log, 2> logs;
    // Per side and message, the statuses read back, in order.
    std::array<std::vector<std::vector<std::string>>, 2> seen;
    for (auto& s : seen) {
        s.resize(replies.size());
    }
    Race(kMessages * 3, [&](int side, int step) {
        const auto s = static_cast<std::size_t>(side);
        const auto i = static_cast<std::size_t>(step / 3);
        const auto k = static_cast<std::size_t>(step % 3);
        const std::string status = order[side == 0 ? k : 2 - k];
        Ledger& ledger = books.ledgers[s];
        const auto recorded = ledger.RecordWebhook({}, {Status(OutId(i), status)}, kNow);
        if (!recorded) {
            logs[s].errors.push_back(Failure(OutId(i) + " " + status, recorded, ledger));
            return;
        }
        totals[s].statuses_new += recorded->statuses_new;
        totals[s].statuses_duplicate += recorded->statuses_duplicate;
        const auto transcript = ledger.Transcript(replies[i].conversation_id);
        if (!transcript) {
            logs[s].errors.push_back(Failure("transcript of " + OutId(i), transcript, ledger));
            return;
        }
        for (const TranscriptLine& line : *transcript) {
            if (line.direction == "out") {
                seen[s][i].push_back(line.status);
            }
        }
    });
    CHECK(logs[0].errors == std::vector<std::string>{});
    CHECK(logs[1].errors == std::vector<std::string>{});

    // Neither connection ever saw a message's status go back.
    const auto rank = [&](const std::string& status) {
        return std::find(order.begin(), order.end(), status) - order.begin();
    };
    for (std::size_t s = 0; s < seen.size(); ++s) {
        for (std::size_t i = 0; i < replies.size(); ++i) {
            INFO("side " << s << ", " << OutId(i) << ": " << Catch::Detail::stringify(seen[s][i]));
            CHECK(seen[s][i].size() == order.size());
            CHECK(std::is_sorted(seen[s][i].begin(),
                                 seen[s][i].end(),
                                 [&](const auto& a, const auto& b) { return rank(a) < rank(b); }));
        }
    }
    // Each status logged once (the other connection's copy was a duplicate), and every
    // message ends at "read".
    CHECK(totals[0].statuses_new + totals[1].statuses_new == kMessages * 3);
    CHECK(totals[0].statuses_duplicate + totals[1].statuses_duplicate == kMessages * 3);
    CHECK(Count(books.target, "SELECT count(*) FROM delivery_statuses") == kMessages * 3);
    CHECK(Count(books.target,
                "SELECT count(*) FROM (SELECT provider_message_id FROM delivery_statuses GROUP BY "
                "provider_message_id HAVING count(*) <> 3) wrong") == 0);
    CheckAllRead(books.target, replies.size());
}

TEST_CASE("Race: statuses arriving while the send is recorded are not lost", "[store][race]") {
    Books books;
    constexpr int kMessages = 20;
    const std::vector<OutboxItem> replies = Replies(books, kMessages);

    // The provider's "delivered" and "read" come in on one connection while the other is still
    // recording that the provider accepted the message (its id is not stored yet).
    std::array<Log, 2> logs;
    Race(kMessages, [&](int side, int step) {
        const auto s = static_cast<std::size_t>(side);
        const auto i = static_cast<std::size_t>(step);
        Ledger& ledger = books.ledgers[s];
        if (side == 0) {
            const auto sent =
                ledger.MarkOutboxSent(replies[i].id, replies[i].lease, OutId(i), kNow);
            if (!sent) {
                logs[s].errors.push_back(Failure("sent " + OutId(i), sent, ledger));
            }
            return;
        }
        // Both in one webhook, or (odd messages) one webhook each.
        std::vector<std::vector<StatusRecord>> webhooks = {
            {Status(OutId(i), "delivered"), Status(OutId(i), "read")}};
        if (i % 2 == 1) {
            webhooks = {{Status(OutId(i), "delivered")}, {Status(OutId(i), "read")}};
        }
        for (const auto& statuses : webhooks) {
            const auto recorded = ledger.RecordWebhook({}, statuses, kNow);
            if (!recorded) {
                logs[s].errors.push_back(Failure("statuses of " + OutId(i), recorded, ledger));
            }
        }
    });
    CHECK(logs[0].errors == std::vector<std::string>{});
    CHECK(logs[1].errors == std::vector<std::string>{});

    CHECK(Count(books.target, "SELECT count(*) FROM outbox WHERE status = 'sent'") == kMessages);
    CHECK(Count(books.target, "SELECT count(*) FROM delivery_statuses") == kMessages * 2);
    CheckAllRead(books.target, replies.size());
}

}  // namespace
}  // namespace cobrador::store

namespace cobrador::store {
namespace {

TEST_CASE("Race: one outbox row recorded from two connections at once is recorded once",
          "[store][race]") {
    Books books;
    constexpr int kMessages = 20;
    const std::vector<OutboxItem> replies = Replies(books, kMessages);

    // Even rows: both connections record that the provider took the message (a dispatcher
    // recording again after losing the answer). Odd rows: one records the send while the other
    // records that the provider refused it.
    std::array<Log, 2> logs;
    Race(kMessages, [&](int side, int step) {
        const auto s = static_cast<std::size_t>(side);
        const auto i = static_cast<std::size_t>(step);
        Ledger& ledger = books.ledgers[s];
        const bool fail = step % 2 == 1 && side == 1;
        const auto recorded =
            fail ? ledger.MarkOutboxFailed(
                       replies[i].id, replies[i].lease, "131026", "undeliverable", kNow)
                 : ledger.MarkOutboxSent(replies[i].id, replies[i].lease, OutId(i), kNow);
        if (!recorded) {
            logs[s].errors.push_back(Failure(OutId(i), recorded, ledger));
        }
    });
    CHECK(logs[0].errors == std::vector<std::string>{});
    CHECK(logs[1].errors == std::vector<std::string>{});

    // One attempt each, and the message says what its outbox row says.
    CHECK(Count(books.target, "SELECT count(*) FROM outbox WHERE attempts <> 1") == 0);
    CHECK(Count(books.target,
                "SELECT count(*) FROM outbox o JOIN messages m ON m.id = o.message_id "
                "WHERE o.status <> m.status") == 0);
    for (std::size_t i = 0; i < replies.size(); i += 2) {
        INFO(OutId(i));
        CHECK(Text(books.target,
                   "SELECT status FROM outbox WHERE id = " + std::to_string(replies[i].id)) ==
              "sent");
    }
    CHECK(Count(books.target,
                "SELECT count(*) FROM outbox WHERE status NOT IN ('sent', 'failed')") == 0);
}

// Ids of outbox rows, in order.
std::vector<std::int64_t> Ids(const std::vector<OutboxItem>& rows) {
    std::vector<std::int64_t> out;
    for (const auto& row : rows) {
        out.push_back(row.id);
    }
    return out;
}

TEST_CASE("Race: two senders claiming the outbox at once send each row once, in order per phone",
          "[store][race]") {
    Books books;
    constexpr int kPhones = 12;
    constexpr int kPerPhone = 3;
    std::vector<InboundRecord> events;
    for (int k = 0; k < kPerPhone; ++k) {
        for (int i = 0; i < kPhones; ++i) {
            events.push_back(
                Incoming("wamid.IN-" + std::to_string(i) + "-" + std::to_string(k), Phone(i)));
        }
    }
    books.Handle(events, [](const PendingInbound& e) { return Answer(e.provider_event_id); });

    // Two replicas' dispatchers, a few rows per claim, each recording what it took as sent
    // before it claims again, until neither finds anything. Each side notes, per row, how many
    // older rows of the same phone were still unsent when it claimed it.
    std::array<Log, 2> logs;
    std::array<std::vector<std::int64_t>, 2> claimed;
    std::array<int, 2> overtook = {0, 0};
    std::array<std::atomic<bool>, 2> idle{};  // each side reads the other's
    Race(kPhones * kPerPhone, [&](int side, int step) {
        const auto s = static_cast<std::size_t>(side);
        if (idle[0] && idle[1]) {
            return;
        }
        Ledger& ledger = books.ledgers[s];
        const std::string owner = side == 0 ? "replica-a" : "replica-b";
        const auto rows = ledger.ClaimOutbox(owner, kNow, kLeaseEnds, 4);
        if (!rows) {
            logs[s].errors.push_back(Failure("claim " + std::to_string(step), rows, ledger));
            return;
        }
        idle[s] = rows->empty();
        for (const OutboxItem& row : *rows) {
            claimed[s].push_back(row.id);
            overtook[s] += static_cast<int>(
                Count(books.target,
                      "SELECT count(*) FROM outbox WHERE status = 'pending' AND recipient = " +
                          Quoted(row.recipient) + " AND id < " + std::to_string(row.id) +
                          " AND (lease_owner IS NULL OR lease_owner <> " + Quoted(owner) + ")"));
            const auto sent = ledger.MarkOutboxSent(
                row.id, row.lease, "wamid.OUT-" + std::to_string(row.id), kNow);
            if (!sent) {
                logs[s].errors.push_back(Failure("sent " + std::to_string(row.id), sent, ledger));
            }
        }
    });
    CHECK(logs[0].errors == std::vector<std::string>{});
    CHECK(logs[1].errors == std::vector<std::string>{});
    // Both took a share, no row was taken twice, none was left, none overtook an older one.
    CHECK_FALSE(claimed[0].empty());
    CHECK_FALSE(claimed[1].empty());
    std::vector<std::int64_t> all = claimed[0];
    all.insert(all.end(), claimed[1].begin(), claimed[1].end());
    std::sort(all.begin(), all.end());
    CHECK(std::adjacent_find(all.begin(), all.end()) == all.end());
    CHECK(all.size() == static_cast<std::size_t>(kPhones * kPerPhone));
    CHECK(overtook == std::array<int, 2>{0, 0});
    CHECK(
        Count(books.target, "SELECT count(*) FROM outbox WHERE status = 'sent' AND attempts = 1") ==
        kPhones * kPerPhone);
}

TEST_CASE(
    "Outbox leases: a held phone is skipped, a dead sender's rows are taken over, and a "
    "late record cannot overwrite the new sender's",
    "[store][race]") {
    Books books;
    // Phone 0 has two replies queued, phone 1 one.
    books.Handle({Incoming("wamid.IN-0a", Phone(0)),
                  Incoming("wamid.IN-0b", Phone(0)),
                  Incoming("wamid.IN-1", Phone(1))},
                 [](const PendingInbound& e) { return Answer(e.provider_event_id); });
    Ledger& a = books.ledgers[0];
    Ledger& b = books.ledgers[1];

    // Replica A takes the first row only; B may not take phone 0's second row meanwhile (it
    // would overtake the first), only phone 1's.
    const auto first = a.ClaimOutbox("replica-a", kNow, kLeaseEnds, 1);
    REQUIRE(first);
    REQUIRE(first->size() == 1);
    CHECK(first->at(0).recipient == Phone(0));
    const auto other = b.ClaimOutbox("replica-b", kNow, kLeaseEnds, 10);
    REQUIRE(other);
    REQUIRE(other->size() == 1);
    CHECK(other->at(0).recipient == Phone(1));
    REQUIRE(b.MarkOutboxSent(other->at(0).id, other->at(0).lease, "wamid.B-1", kNow));

    // A releases nothing and dies. Before its lease runs out nobody takes phone 0's rows; after,
    // B takes both, in order, with new tokens.
    CHECK(b.ClaimOutbox("replica-b", kNow, kLeaseEnds, 10)->empty());
    const auto taken = b.ClaimOutbox("replica-b", kAfterLease, "2026-11-23T16:03:30Z", 10);
    REQUIRE(taken);
    REQUIRE(taken->size() == 2);
    CHECK(taken->at(0).id == first->at(0).id);
    CHECK(taken->at(0).lease != first->at(0).lease);
    CHECK(taken->at(0).attempts == 0);

    // A comes back from a long pause and records its send: refused, nothing changed. B's
    // record stands, and A's late failure cannot overwrite it either.
    const auto late = a.MarkOutboxSent(first->at(0).id, first->at(0).lease, "wamid.A-0", kNow);
    REQUIRE_FALSE(late);
    CHECK(late.error() == Errc::kLeaseLost);
    CHECK(Text(books.target,
               "SELECT status FROM outbox WHERE id = " + std::to_string(first->at(0).id)) ==
          "pending");
    REQUIRE(b.MarkOutboxSent(taken->at(0).id, taken->at(0).lease, "wamid.B-0", kAfterLease));
    const auto late_failure =
        a.MarkOutboxFailed(first->at(0).id, first->at(0).lease, "131026", "x", kNow);
    REQUIRE_FALSE(late_failure);
    CHECK(late_failure.error() == Errc::kLeaseLost);
    CHECK(Count(books.target,
                "SELECT count(*) FROM messages WHERE provider_message_id = 'wamid.A-0'") == 0);
    CHECK(Text(books.target,
               "SELECT status FROM messages WHERE provider_message_id = 'wamid.B-0'") == "sent");
    // Recording the same send again with the same lease is harmless.
    REQUIRE(b.MarkOutboxSent(taken->at(0).id, taken->at(0).lease, "wamid.B-0", kAfterLease));
    CHECK(Count(books.target,
                "SELECT attempts FROM outbox WHERE id = " + std::to_string(taken->at(0).id)) == 1);

    // B releases the second row without trying it: A takes it at once, before B's lease ends.
    REQUIRE(b.ReleaseOutbox({{taken->at(1).id, taken->at(1).lease}}));
    const auto again = a.ClaimOutbox("replica-a", kAfterLease, "2026-11-23T16:03:30Z", 10);
    REQUIRE(again);
    CHECK(Ids(*again) == std::vector<std::int64_t>{taken->at(1).id});
    // A retry releases the row until it is due again.
    REQUIRE(a.MarkOutboxRetry(
        again->at(0).id, again->at(0).lease, "2026-11-23T16:05:00Z", "429", kAfterLease));
    CHECK(b.ClaimOutbox("replica-b", "2026-11-23T16:04:00Z", "2026-11-23T16:06:00Z", 10)->empty());
    CHECK(Ids(*b.ClaimOutbox("replica-b", "2026-11-23T16:05:00Z", "2026-11-23T16:06:30Z", 10)) ==
          std::vector<std::int64_t>{taken->at(1).id});
}

TEST_CASE("Race: two workers taking payment instruments at once create each one once",
          "[store][race][instruments]") {
    Books books;
    constexpr int kRequests = 30;
    {
        Probe probe(books.target);
        for (int i = 0; i < kRequests; ++i) {
            probe.Exec(
                "INSERT INTO payment_instruments (account_id, provider, amount_cents, currency, "
                "status, next_attempt_at, requested_at) SELECT id, 'stripe', 100000, 'MXN', "
                "'pending', '2026-11-23T15:59:00Z', '2026-11-23T15:59:00Z' FROM accounts");
        }
    }
    // Both take three at a time, create them and store the answer, until none are left.
    std::array<std::vector<std::int64_t>, 2> taken;
    std::array<Log, 2> logs;
    std::array<int, 2> sent{0, 0};
    Race(kRequests, [&](int side, int) {
        const auto s = static_cast<std::size_t>(side);
        Ledger& ledger = books.ledgers[s];
        const auto due = ledger.DueInstruments(kNow, kLeaseEnds, 3);
        if (!due) {
            logs[s].errors.push_back(Failure("due", due, ledger));
            return;
        }
        for (const InstrumentJob& job : *due) {
            taken[s].push_back(job.id);
            const auto done = ledger.CompleteInstrument(
                job.id,
                {"page",
                 "https://checkout.stripe.com/c/pay/cs_" + std::to_string(job.id),
                 "",
                 "cs_" + std::to_string(job.id),
                 "2026-11-24T15:00:00Z"},
                kNow,
                [&](const InstrumentNotice&) { return std::nullopt; });
            if (!done) {
                logs[s].errors.push_back(Failure("complete", done, ledger));
            } else if (done->stored) {
                ++sent[s];
            }
        }
    });
    CHECK(logs[0].errors == std::vector<std::string>{});
    CHECK(logs[1].errors == std::vector<std::string>{});
    std::vector<std::int64_t> all = taken[0];
    all.insert(all.end(), taken[1].begin(), taken[1].end());
    std::sort(all.begin(), all.end());
    CHECK(std::adjacent_find(all.begin(), all.end()) == all.end());  // none taken twice
    CHECK(all.size() == kRequests);
    CHECK(sent[0] + sent[1] == kRequests);
    CHECK(Count(books.target, "SELECT count(*) FROM payment_instruments WHERE status = 'ready'") ==
          kRequests);
}

TEST_CASE("Race: a periodic job asked for by two replicas at once runs once per interval",
          "[store][race]") {
    Books books;
    // Every minute for ten minutes both replicas ask at the same moment; exactly one is told
    // to run, and it finishes before the next minute.
    constexpr int kMinutes = 10;
    std::array<std::vector<int>, 2> ran;
    std::array<Log, 2> logs;
    const auto minute = [](int m) {
        return "2026-11-23T16:" + std::string(m < 10 ? "0" : "") + std::to_string(m) + ":00Z";
    };
    Race(kMinutes, [&](int side, int m) {
        const auto s = static_cast<std::size_t>(side);
        Ledger& ledger = books.ledgers[s];
        const std::string owner = side == 0 ? "replica-a" : "replica-b";
        const auto taken =
            ledger.TakeJob("reminder-pass", owner, minute(m), minute(m + 1), minute(m + 1));
        if (!taken) {
            logs[s].errors.push_back(Failure("take " + minute(m), taken, ledger));
            return;
        }
        if (*taken) {
            ran[s].push_back(m);
            const auto finished = ledger.FinishJob("reminder-pass", owner, minute(m + 1));
            if (!finished) {
                logs[s].errors.push_back(Failure("finish " + minute(m), finished, ledger));
            }
        }
    });
    CHECK(logs[0].errors == std::vector<std::string>{});
    CHECK(logs[1].errors == std::vector<std::string>{});
    std::vector<int> all = ran[0];
    all.insert(all.end(), ran[1].begin(), ran[1].end());
    std::sort(all.begin(), all.end());
    std::vector<int> every(kMinutes);
    std::iota(every.begin(), every.end(), 0);
    CHECK(all == every);
    CHECK(Count(books.target, "SELECT runs FROM jobs WHERE name = 'reminder-pass'") == kMinutes);
}

TEST_CASE(
    "Jobs: not before it is due, not while its runner holds it, and a dead runner is "
    "replaced when its lease runs out",
    "[store][race]") {
    Books books;
    Ledger& a = books.ledgers[0];
    Ledger& b = books.ledgers[1];
    // A runs the pass at 16:00, due again at 16:05, and holds it until 16:10 (a long pass).
    CHECK(*a.TakeJob("reminder-pass",
                     "a",
                     "2026-11-23T16:00:00Z",
                     "2026-11-23T16:10:00Z",
                     "2026-11-23T16:05:00Z"));
    CHECK_FALSE(*b.TakeJob("reminder-pass",
                           "b",
                           "2026-11-23T16:01:00Z",
                           "2026-11-23T16:11:00Z",
                           "2026-11-23T16:06:00Z"));  // not due
    CHECK_FALSE(*b.TakeJob("reminder-pass",
                           "b",
                           "2026-11-23T16:06:00Z",
                           "2026-11-23T16:16:00Z",
                           "2026-11-23T16:11:00Z"));  // due, but A still holds it
    // Another job is its own.
    CHECK(*b.TakeJob("claim-expiry",
                     "b",
                     "2026-11-23T16:06:00Z",
                     "2026-11-23T16:07:00Z",
                     "2026-11-23T16:07:00Z"));
    // A died mid-pass: at 16:10 its lease has run out and B takes over.
    CHECK(*b.TakeJob("reminder-pass",
                     "b",
                     "2026-11-23T16:10:00Z",
                     "2026-11-23T16:20:00Z",
                     "2026-11-23T16:15:00Z"));
    // A's late finish does not free B's run.
    REQUIRE(a.FinishJob("reminder-pass", "a", "2026-11-23T16:10:00Z"));
    CHECK(Text(books.target, "SELECT owner FROM jobs WHERE name = 'reminder-pass'") == "b");
    CHECK_FALSE(*a.TakeJob("reminder-pass",
                           "a",
                           "2026-11-23T16:16:00Z",
                           "2026-11-23T16:26:00Z",
                           "2026-11-23T16:21:00Z"));
    // B's leases are freed when B is known gone (a restart): A takes the job at once.
    const auto holders = a.LeaseHolders("2026-11-23T16:16:00Z");
    REQUIRE(holders);
    CHECK(*holders == std::vector<std::string>{"b"});
    CHECK(*a.ReleaseLeasesOf("b") == 2);  // the pass and its claim-expiry job
    CHECK(*a.TakeJob("reminder-pass",
                     "a",
                     "2026-11-23T16:16:00Z",
                     "2026-11-23T16:26:00Z",
                     "2026-11-23T16:21:00Z"));
}

// A debtor's phone: +52 and ten digits.
std::string DebtorPhone(int i) {
    return "+5255300" + std::to_string(10000 + i);
}

// Imports `count` more debtors, R-<i> of $500.00 each, with DebtorPhone(i).
void ImportDebtors(Books& books, int count) {
    std::string csv = "account_id,debtor_name,phone,birth_date,balance,currency,due_date\n";
    for (int i = 0; i < count; ++i) {
        csv += "R-" + std::to_string(i) + ",Deudor " + std::to_string(i) + "," + DebtorPhone(i) +
               ",1985-03-15,500.00,MXN,2026-11-26\n";
    }
    std::istringstream in(csv);
    const auto parsed = ParsePortfolioCsv(in);
    REQUIRE(parsed.errors.empty());
    REQUIRE(books.ledgers[0].ImportPortfolio(parsed.rows, "test", kNow));
}

// The scheduler's reminder for debtor i (ImportDebtors) before R-<i> falls due.
ReminderToQueue Reminder(const Books& books, int i) {
    ReminderToQueue reminder;
    reminder.debtor_id =
        Count(books.target, "SELECT id FROM debtors WHERE phone = " + Quoted(DebtorPhone(i)));
    reminder.rule = "before_due";
    reminder.subject = "R-" + std::to_string(i);
    reminder.local_date = "2026-11-23";
    reminder.channel = "whatsapp";
    reminder.phone = DebtorPhone(i);
    reminder.message = {"Tu pago vence pronto", "{\"text\":\"Tu pago vence pronto\"}", "", ""};
    return reminder;
}

TEST_CASE("Race: a reminder queued while its debtor opts out never goes out", "[store][race]") {
    Books books;
    constexpr int kDebtors = 20;
    ImportDebtors(books, kDebtors);

    // For each debtor at once: one connection queues a reminder (the scheduler's pass), the
    // other stores and handles "BAJA" from the debtor (the dialog's opt-out).
    std::array<Log, 2> logs;
    std::array<std::size_t, 2> done{};
    Race(kDebtors, [&](int side, int step) {
        const auto s = static_cast<std::size_t>(side);
        Ledger& ledger = books.ledgers[s];
        const std::string phone = DebtorPhone(step);
        if (side == 0) {
            const ReminderToQueue reminder = Reminder(books, step);
            const auto queued = ledger.QueueReminders({reminder}, kNow);
            if (!queued) {
                logs[s].errors.push_back(Failure("reminder to " + phone, queued, ledger));
            } else {
                done[s] += queued->size();
            }
            return;
        }
        const std::string event_id = "wamid.BAJA-" + std::to_string(step);
        if (const auto stored = ledger.RecordWebhook({Incoming(event_id, phone)}, {}, kNow);
            !stored) {
            logs[s].errors.push_back(Failure("BAJA from " + phone, stored, ledger));
            return;
        }
        const auto pending = ledger.PendingInboundEvents(kDebtors);
        if (!pending) {
            logs[s].errors.push_back(Failure("pending", pending, ledger));
            return;
        }
        for (const PendingInbound& event : *pending) {
            if (event.provider_event_id != event_id) {
                continue;
            }
            const auto handled = ledger.HandleInbound(
                event,
                "BAJA",
                [](const dialogs::ConversationView&) {
                    DialogTurn turn;
                    turn.dialog_state = "{}";
                    turn.commands.emplace_back(dialogs::OptedOut{});
                    turn.replies.push_back({"Listo, no te escribiremos más.",
                                            "{\"text\":\"Listo, no te escribiremos más.\"}"});
                    return turn;
                },
                kNow);
            if (!handled) {
                logs[s].errors.push_back(Failure("BAJA from " + phone, handled, ledger));
            } else {
                ++done[s];
            }
        }
    });
    CHECK(logs[0].errors == std::vector<std::string>{});
    CHECK(logs[1].errors == std::vector<std::string>{});
    CHECK(done[1] == kDebtors);

    // Every debtor opted out; whichever came first, no reminder is left to send, and every
    // confirmation is.
    CHECK(Count(books.target,
                "SELECT count(*) FROM contact_preferences WHERE kind = 'opt_out' AND active = 1") ==
          kDebtors);
    CHECK(Count(books.target,
                "SELECT count(*) FROM reminders r JOIN outbox o ON o.message_id = r.message_id "
                "WHERE o.status = 'pending'") == 0);
    CHECK(Count(books.target,
                "SELECT count(*) FROM outbox o JOIN messages m ON m.id = o.message_id WHERE "
                "o.status = 'pending' AND m.body LIKE 'Listo%'") == kDebtors);
    INFO("reminders queued before the opt-out: " << done[0]);
}

TEST_CASE("Race: two reminder passes at once queue each reminder once", "[store][race]") {
    Books books;
    constexpr int kDebtors = 20;
    ImportDebtors(books, kDebtors);
    // Both passes hold the same batch, in opposite orders (their locks are taken sorted, so they
    // cannot deadlock), three times over.
    std::vector<ReminderToQueue> batch;
    for (int i = 0; i < kDebtors; ++i) {
        batch.push_back(Reminder(books, i));
    }
    std::array<Log, 2> logs;
    std::array<std::size_t, 2> queued{};
    Race(3, [&](int side, int) {
        const auto s = static_cast<std::size_t>(side);
        std::vector<ReminderToQueue> mine = batch;
        if (side == 1) {
            std::reverse(mine.begin(), mine.end());
        }
        const auto done = books.ledgers[s].QueueReminders(mine, kNow);
        if (!done) {
            logs[s].errors.push_back(Failure("pass", done, books.ledgers[s]));
            return;
        }
        queued[s] += done->size();
    });
    CHECK(logs[0].errors == std::vector<std::string>{});
    CHECK(logs[1].errors == std::vector<std::string>{});
    CHECK(queued[0] + queued[1] == kDebtors);
    CHECK(Count(books.target, "SELECT count(*) FROM reminders") == kDebtors);
    CHECK(Count(books.target,
                "SELECT count(*) FROM outbox o JOIN reminders r ON r.message_id = o.message_id") ==
          kDebtors);
    CHECK(Count(books.target, "SELECT count(*) FROM outbox") == kDebtors);
}

TEST_CASE(
    "Race: two supervisors recording a promise, then a plan, for one account at once: one "
    "of each",
    "[store][race]") {
    Books books;
    constexpr int kRounds = 20;
    // Ten-digit Mexican numbers, one debtor each.
    const auto phone = [](int n) {
        return "+52553" + std::to_string(1000000 + n);
    };
    std::ostringstream csv;
    csv << "account_id,debtor_name,phone,birth_date,balance,currency,due_date\n";
    for (int i = 0; i < kRounds; ++i) {
        csv << "R-" << i << ",Deudor " << i << "," << phone(i) << ",1980-01-01,1000.00,MXN,"
            << "2026-11-01\n";
    }
    std::istringstream in(csv.str());
    const auto parsed = ParsePortfolioCsv(in);
    REQUIRE(parsed.errors.empty());
    REQUIRE(books.ledgers[0].ImportPortfolio(parsed.rows, "test", kNow));
    const auto supervisor = [&](const std::string& name, char token) {
        const auto id = books.ledgers[0].AddAgent(name, "supervisor", std::string(64, token), kNow);
        REQUIRE(id);
        return Agent{
            *id, name, dialogs::Role::kSupervisor, kNow, false, std::nullopt, std::nullopt};
    };
    const std::array<Agent, 2> people = {supervisor("Sofía", 's'), supervisor("Sara", 't')};
    std::vector<InboundRecord> events;
    for (int i = 0; i < kRounds; ++i) {
        events.push_back(Incoming("wamid.AG-" + std::to_string(i), phone(i)));
    }
    const std::vector<std::int64_t> conversations =
        books.Handle(events, [](const PendingInbound&) { return DecideFn(Escalate); });

    // Step 2i: both record a promise for debtor i; step 2i+1: both record a plan.
    std::array<std::vector<std::optional<ActionOutcome>>, 2> outcomes;
    std::array<Log, 2> logs;
    for (auto& o : outcomes) {
        o.resize(kRounds * 2);
    }
    Race(kRounds * 2, [&](int side, int step) {
        const auto s = static_cast<std::size_t>(side);
        AgentAgreement agreement;
        if (step % 2 == 0) {
            agreement.ask = {dialogs::AgreementKind::kPromise,
                             10000 * (side + 1),
                             dialogs::ParseIsoDate("2026-11-30"),
                             0};
        } else {
            agreement.ask = {dialogs::AgreementKind::kInstallments, 0, std::nullopt, 2};
        }
        const std::int64_t id = conversations[static_cast<std::size_t>(step / 2)];
        const auto recorded = books.ledgers[s].RecordAgreement(
            id, people[s], agreement, dialogs::DefaultPolicy(), "2026-11-23", kNow);
        if (!recorded) {
            logs[s].errors.push_back(
                Failure("agreement " + std::to_string(step) + " by " + people[s].name,
                        recorded,
                        books.ledgers[s]));
            return;
        }
        outcomes[s][static_cast<std::size_t>(step)] = *recorded;
    });
    CHECK(logs[0].errors == std::vector<std::string>{});
    CHECK(logs[1].errors == std::vector<std::string>{});
    for (std::size_t step = 0; step < kRounds * 2; ++step) {
        INFO("step " << step);
        if (!outcomes[0][step] || !outcomes[1][step]) {
            continue;  // an error, reported above
        }
        REQUIRE(outcomes[0][step]->ok() != outcomes[1][step]->ok());
        const ActionOutcome& lost =
            outcomes[0][step]->ok() ? *outcomes[1][step] : *outcomes[0][step];
        CHECK(lost.refusal == Refusal::kNotAgreed);
        REQUIRE(lost.agreement);
        CHECK(lost.agreement->problem == (step % 2 == 0 ? dialogs::AgreementProblem::kPromiseOpen
                                                        : dialogs::AgreementProblem::kPlanActive));
    }
    const std::string& db = books.target;
    CHECK(Count(db, "SELECT count(*) FROM promises WHERE status = 'open'") == kRounds);
    CHECK(Count(db, "SELECT count(DISTINCT account_id) FROM promises") == kRounds);
    CHECK(Count(db, "SELECT count(*) FROM payment_plans WHERE status = 'active'") == kRounds);
    CHECK(Count(db, "SELECT count(DISTINCT account_id) FROM payment_plans") == kRounds);
    CHECK(Count(db, "SELECT count(*) FROM plan_installments") == kRounds * 2);
    CHECK(Count(db, "SELECT count(*) FROM audit_log WHERE kind = 'promise_made'") == kRounds);
    CHECK(Count(db, "SELECT count(*) FROM audit_log WHERE kind = 'plan_created'") == kRounds);
}

TEST_CASE("Race: cases opened on two connections at once get consecutive folios, none twice",
          "[store][race]") {
    Books books;
    const auto agent = books.ledgers[0].AddAgent("Ana", "collector", std::string(64, 'a'), kNow);
    REQUIRE(agent);
    constexpr int kRounds = 20;
    std::array<std::vector<std::string>, 2> folios;
    std::array<Log, 2> logs;
    Race(kRounds, [&](int side, int i) {
        const auto s = static_cast<std::size_t>(side);
        NewCase request;
        request.debtor_key = "+525511111111";
        request.kind = i % 2 == 0 ? "complaint" : "privacy";
        request.category = i % 2 == 0 ? "wrong_amount" : "access";
        request.description = "caso " + std::to_string(i) + " de " + std::to_string(side);
        request.agent_id = *agent;
        request.due_date = "2027-01-06";
        const auto opened = books.ledgers[s].OpenCase(request, kNow);
        if (!opened || !opened->record) {
            logs[s].errors.push_back(
                opened ? "case " + std::to_string(i) + " refused"
                       : Failure("case " + std::to_string(i), opened, books.ledgers[s]));
            return;
        }
        folios[s].push_back(opened->record->folio);
    });
    CHECK(logs[0].errors == std::vector<std::string>{});
    CHECK(logs[1].errors == std::vector<std::string>{});
    std::set<std::string> all(folios[0].begin(), folios[0].end());
    all.insert(folios[1].begin(), folios[1].end());
    CHECK(all.size() == folios[0].size() + folios[1].size());
    // Each kind numbered from 1 without a gap, whatever the retries.
    std::set<std::string> expected;
    for (int n = 1; n <= kRounds; ++n) {
        char number[8];
        std::snprintf(number, sizeof number, "%06d", n);
        expected.insert(std::string("Q-2026-") + number);
        expected.insert(std::string("P-2026-") + number);
    }
    CHECK(all == expected);
    CHECK(Count(books.target, "SELECT count(*) FROM cases") == 2 * kRounds);
}

}  // namespace
}  // namespace cobrador::store
