// kill -9 under load, ten times: the real server is killed at a random moment while signed
// WhatsApp messages and payments pour in; providers redeliver whatever was not acknowledged
// (as Meta and payment processors do). At the end every acknowledged event has been handled
// exactly once, every reply was sent at least once and recorded once, and the balances add up.

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "dialogs/money.hpp"
#include "dialogs/reference.hpp"

#include "e2e_support.hpp"

namespace cobrador::testing {
namespace {

constexpr int kDebtors = 20;
constexpr std::int64_t kOpeningCents = 1000000;  // 10,000.00 each

struct Event {
    std::string id;
    bool payment = false;  // a payment notification; otherwise a WhatsApp message
    std::string body;
    std::string account;     // payments: the account it pays
    std::int64_t cents = 0;  // payments: the amount
};

std::string WaId(int debtor) {
    return "521552000" + std::to_string(1000 + debtor);
}

Event Message(int n, int debtor) {
    static const char* texts[] = {"hola", "15/03/1985", "cuanto debo", "como pago"};
    Event e;
    e.id = "wamid.CRASH" + std::to_string(n);
    e.body = WhatsAppText(e.id, WaId(debtor), texts[n % 4]);
    return e;
}

Event Payment(int n, int debtor, const std::string& reference) {
    Event e;
    e.id = "pay-" + std::to_string(n);
    e.payment = true;
    e.cents = 100 + (n * 37) % 4900;
    e.account = "A-" + std::to_string(debtor);
    e.body = PaymentBody(e.id, reference, dialogs::FormatDecimalCents(e.cents));
    return e;
}

TEST_CASE("kill -9 under load ten times: nothing acknowledged is lost or done twice",
          "[bot][crash][integration]") {
    std::atomic<int> handed_out{0};
    FakeProvider graph([&](const RecordedRequest&, std::size_t) {
        return GraphAccepted("wamid.OUT" + std::to_string(++handed_out));
    });
    Setup setup(&graph, nullptr);
    setup.env["COBRADOR_PAYMENTS_SECRET"] = kPaymentsSecret;
    {
        const std::string csv = setup.dir.File("portfolio.csv");
        std::ofstream out(csv);
        out << "account_id,debtor_name,phone,birth_date,balance,currency,due_date\n";
        for (int d = 0; d < kDebtors; ++d) {
            out << "A-" << d << ",Deudor " << d << ",+" << WaId(d)
                << ",1985-03-15,10000.00,MXN,2026-10-01\n";
        }
        out.close();
        REQUIRE(RunCobrador({"import", "portfolio", "--db", setup.db, csv}).exit_code == 0);
    }
    std::vector<std::string> references;
    for (int d = 0; d < kDebtors; ++d) {
        references.push_back(*dialogs::PaymentReference(std::stoll(setup.Query(
            "SELECT id FROM accounts WHERE account_key = 'A-" + std::to_string(d) + "'"))));
    }

    std::mutex mutex;
    std::map<std::string, Event> acknowledged;  // by id
    std::map<std::string, Event> unanswered;    // sent, no 200 seen: the provider retries
    std::atomic<int> next{0};
    std::mt19937 random(20261123);

    // Sends `e`; true when the server acknowledged it.
    const auto send = [&](const Event& e, std::uint16_t port) {
        try {
            const auto answer = e.payment ? PostPayment(port, e.body) : PostWhatsApp(port, e.body);
            return answer.status == 200;
        } catch (const std::exception&) {
            return false;  // the server died under us
        }
    };
    const auto record = [&](const Event& e, bool ok) {
        const std::lock_guard lock(mutex);
        if (ok) {
            acknowledged[e.id] = e;
            unanswered.erase(e.id);
        } else if (acknowledged.count(e.id) == 0) {
            unanswered[e.id] = e;
        }
    };

    for (int round = 0; round < 10; ++round) {
        auto server = setup.Start("round-" + std::to_string(round));
        const std::uint16_t port = setup.port;
        // Redeliveries first, as a provider does once the endpoint answers again.
        std::map<std::string, Event> retry;
        {
            const std::lock_guard lock(mutex);
            retry = unanswered;
        }
        std::atomic<bool> stop{false};
        std::vector<std::thread> senders;
        for (int t = 0; t < 4; ++t) {
            senders.emplace_back([&, t] {
                if (t == 0) {
                    for (const auto& [id, e] : retry) {
                        if (stop) {
                            return;
                        }
                        record(e, send(e, port));
                    }
                }
                while (!stop) {
                    const int n = next++;
                    const int debtor = n % kDebtors;
                    const Event e =
                        n % 3 == 0 ? Payment(n, debtor, references[debtor]) : Message(n, debtor);
                    record(e, send(e, port));
                    // Now and then the provider redelivers something already acknowledged.
                    if (n % 17 == 0) {
                        record(e, send(e, port));
                    }
                }
            });
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200 + random() % 800));
        server->Signal(SIGKILL);
        stop = true;
        for (auto& s : senders) {
            s.join();
        }
        CHECK(server->Wait() == -1);  // killed, not exited
    }

    // The last start: redeliver what never got a 200, then let everything settle.
    auto server = setup.Start("final");
    std::map<std::string, Event> retry;
    {
        const std::lock_guard lock(mutex);
        retry = unanswered;
    }
    for (const auto& [id, e] : retry) {
        record(e, send(e, setup.port));
    }
    REQUIRE(unanswered.empty());
    setup.WaitFor("SELECT count(*) FROM inbound_events WHERE processed_at IS NULL", "0", 60s);
    // Replies (not the thank-yous for payments, which wait for the debtor's contact hours).
    const std::string replies_only = "coalesce(contact_timezone, '') = ''";
    setup.WaitFor(
        "SELECT count(*) FROM outbox WHERE status = 'pending' AND " + replies_only, "0", 60s);

    std::size_t messages = 0;
    std::size_t payments = 0;
    for (const auto& [id, e] : acknowledged) {
        (e.payment ? payments : messages)++;
    }
    INFO(messages << " messages and " << payments << " payments acknowledged over 10 kills");
    REQUIRE(messages > 100);
    REQUIRE(payments > 50);

    // Every acknowledged message: stored once, handled once (one transcript line).
    CHECK(setup.Query("SELECT count(*) FROM inbound_events") == std::to_string(messages));
    CHECK(setup.Query("SELECT count(*) FROM messages WHERE direction = 'in'") ==
          std::to_string(messages));
    for (const auto& [id, e] : acknowledged) {
        if (!e.payment) {
            REQUIRE(setup.Query("SELECT count(*) FROM messages WHERE direction = 'in' AND "
                                "provider_message_id = '" +
                                id + "'") == "1");
        }
    }
    // Every reply: recorded once (one outbox row, one provider id) and sent at least once.
    CHECK(setup.Query("SELECT count(*) FROM outbox WHERE status <> 'sent' AND " + replies_only) ==
          "0");
    CHECK(setup.Query("SELECT count(*) FROM messages m JOIN outbox o ON o.message_id = m.id "
                      "WHERE m.provider_message_id IS NULL AND " +
                      replies_only) == "0");
    const std::size_t replies =
        std::stoul(setup.Query("SELECT count(*) FROM outbox WHERE " + replies_only));
    CHECK(replies >= messages);
    CHECK(graph.Requests().size() >= replies);
    // No conversation was left with a message unanswered.
    CHECK(setup.Query("SELECT count(*) FROM conversations c WHERE (SELECT direction FROM "
                      "messages m WHERE m.conversation_id = c.id ORDER BY m.id DESC LIMIT 1) "
                      "= 'in'") == "0");

    // Money: every acknowledged payment applied exactly once, and each balance is the opening
    // balance less what was applied to it.
    CHECK(setup.Query("SELECT count(*) FROM payments") == std::to_string(payments));
    std::map<std::string, std::int64_t> paid;
    for (const auto& [id, e] : acknowledged) {
        if (e.payment) {
            paid[e.account] += e.cents;
            REQUIRE(setup.Query("SELECT status || ':' || amount_cents FROM payments WHERE "
                                "payment_id = '" +
                                id + "'") == "applied:" + std::to_string(e.cents));
        }
    }
    for (int d = 0; d < kDebtors; ++d) {
        const std::string account = "A-" + std::to_string(d);
        INFO(account);
        CHECK(setup.Query("SELECT balance_cents FROM accounts WHERE account_key = '" + account +
                          "'") == std::to_string(kOpeningCents - paid[account]));
    }
    if (!OnPostgres()) {  // PostgreSQL checks both itself, always
        CHECK(setup.Query("PRAGMA integrity_check") == "ok");
        CHECK(setup.Query("SELECT count(*) FROM pragma_foreign_key_check") == "0");
    }
    server->Signal(SIGTERM);
    CHECK(server->Wait() == 0);
}

}  // namespace
}  // namespace cobrador::testing
