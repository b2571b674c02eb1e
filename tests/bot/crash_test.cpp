// kill -9 under load, ten times: the real server is killed at a random moment while signed
// WhatsApp and SMS messages and payments pour in; providers redeliver whatever was not
// acknowledged (as Meta and payment processors do). At the end every acknowledged event has been
// handled exactly once and in arrival order per debtor, every reply was sent at least once and
// recorded once, and the balances add up. Once with one server, and once (PostgreSQL) with three
// replicas behind the test's own round-robin, one of them killed each time and restarted, and
// some events delivered to two replicas at the same moment.

#include <algorithm>
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
    bool payment = false;  // a payment notification; otherwise a WhatsApp or SMS message
    bool sms = false;
    std::string body;                                         // WhatsApp, payments
    std::vector<std::pair<std::string, std::string>> fields;  // SMS
    std::string account;                                      // payments: the account it pays
    std::int64_t cents = 0;                                   // payments: the amount
};

std::string WaId(int debtor) {
    return "521552000" + std::to_string(1000 + debtor);
}

// Every fourth debtor writes by SMS.
bool BySms(int debtor) {
    return debtor % 4 == 3;
}

Event Message(int n, int debtor) {
    static const char* texts[] = {"hola", "15/03/1985", "cuanto debo", "como pago"};
    Event e;
    if (BySms(debtor)) {
        e.sms = true;
        e.id = "SM" + std::to_string(100000000 + n) + "0123456789abcdef0123456789ab";
        e.fields = {{"MessageSid", e.id},
                    {"SmsMessageSid", e.id},
                    {"AccountSid", kTwilioSid},
                    {"From", "+" + WaId(debtor)},
                    {"To", "+15005550006"},
                    {"Body", texts[n % 4]},
                    {"NumMedia", "0"},
                    {"NumSegments", "1"},
                    {"ApiVersion", "2010-04-01"}};
        return e;
    }
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

// `replicas` servers on one ledger; each of ten rounds kills one of them at a random moment.
void KillUnderLoad(int replicas) {
    std::atomic<int> handed_out{0};
    FakeProvider graph([&](const RecordedRequest&, std::size_t) {
        return GraphAccepted("wamid.OUT" + std::to_string(++handed_out));
    });
    FakeProvider twilio([&](const RecordedRequest&, std::size_t) {
        return TwilioAccepted("SMOUT" + std::to_string(++handed_out));
    });
    Setup setup(&graph, &twilio);
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
    std::map<std::string, Event> acknowledged;    // by id
    std::map<std::string, Event> unanswered;      // sent, no 200 seen: the provider retries
    std::map<std::string, std::string> refusals;  // unanswered: what the last try got
    std::atomic<int> next{0};
    std::mt19937 random(20261123);

    // Sends `e`; "" when the server acknowledged it, else what it got instead.
    const auto send = [&](const Event& e, std::uint16_t port) -> std::string {
        try {
            const auto answer = e.payment ? PostPayment(port, e.body)
                                : e.sms   ? PostTwilio(port, "/webhooks/twilio", e.fields)
                                          : PostWhatsApp(port, e.body);
            return answer.status == 200
                       ? ""
                       : std::to_string(answer.status) + " " + answer.body.substr(0, 200);
        } catch (const std::exception& error) {
            return error.what();  // the server died under us
        }
    };
    const auto record = [&](const Event& e, const std::string& refused) {
        const std::lock_guard lock(mutex);
        if (refused.empty()) {
            acknowledged[e.id] = e;
            unanswered.erase(e.id);
            refusals.erase(e.id);
        } else if (acknowledged.count(e.id) == 0) {
            unanswered[e.id] = e;
            refusals[e.id] = refused;
        }
    };

    // The replicas, by slot; a slot's server is restarted after it is killed. With several,
    // each has a fixed id, as the systemd template gives them; a lone server keeps its default
    // id (host and pid), so its next life finds the dead process's leases by that.
    std::vector<std::unique_ptr<Child>> servers(static_cast<std::size_t>(replicas));
    std::vector<std::uint16_t> ports(static_cast<std::size_t>(replicas));
    int starts = 0;
    const auto start_missing = [&] {
        for (std::size_t r = 0; r < servers.size(); ++r) {
            if (!servers[r]) {
                if (replicas > 1) {
                    setup.env["COBRADOR_REPLICA_ID"] = "replica-" + std::to_string(r);
                }
                servers[r] = setup.Start("start-" + std::to_string(++starts));
                ports[r] = setup.port;
            }
        }
    };
    // Redeliveries, as a provider does once the endpoint answers again.
    const auto redeliver = [&] {
        std::map<std::string, Event> retry;
        {
            const std::lock_guard lock(mutex);
            retry = unanswered;
        }
        std::size_t i = 0;
        for (const auto& [id, e] : retry) {
            record(e, send(e, ports[i++ % ports.size()]));
        }
    };

    for (int round = 0; round < 10; ++round) {
        start_missing();
        std::atomic<bool> stop{false};
        std::vector<std::thread> senders;
        for (int t = 0; t < 4; ++t) {
            senders.emplace_back([&, t] {
                if (t == 0) {
                    redeliver();
                }
                while (!stop) {
                    const int n = next++;
                    const int debtor = n % kDebtors;
                    const Event e =
                        n % 3 == 0 ? Payment(n, debtor, references[debtor]) : Message(n, debtor);
                    const std::uint16_t port = ports[static_cast<std::size_t>(n) % ports.size()];
                    if (replicas > 1 && n % 7 == 1) {
                        // The same event to two replicas at the same moment.
                        const std::uint16_t other =
                            ports[static_cast<std::size_t>(n + 1) % ports.size()];
                        std::thread twin([&, e, other] { record(e, send(e, other)); });
                        record(e, send(e, port));
                        twin.join();
                        continue;
                    }
                    record(e, send(e, port));
                    // Now and then the provider redelivers something already acknowledged.
                    if (n % 17 == 0) {
                        record(e, send(e, port));
                    }
                }
            });
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200 + random() % 800));
        const std::size_t victim = random() % servers.size();
        servers[victim]->Signal(SIGKILL);
        std::this_thread::sleep_for(std::chrono::milliseconds(replicas > 1 ? 300 : 0));
        stop = true;
        for (auto& s : senders) {
            s.join();
        }
        CHECK(servers[victim]->Wait() == -1);  // killed, not exited
        servers[victim].reset();
    }

    // All up again: redeliver what never got a 200, as providers do, backing off between
    // tries for up to a minute (a 503 while a restarted server's ledger is busy is an answer to
    // retry), then let everything settle. What is still refused at the end is printed.
    start_missing();
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (int attempt = 0;; ++attempt) {
        redeliver();
        if (unanswered.empty() || std::chrono::steady_clock::now() > give_up) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(std::min(250 * (attempt + 1), 2000)));
    }
    for (const auto& [id, why] : refusals) {
        WARN("still refused after a minute of redeliveries: " << id << ": " << why);
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
    CHECK(graph.Requests().size() + twilio.Requests().size() >= replies);
    // Each debtor's messages were handled in the order they arrived: in every conversation the
    // transcript's inbound lines follow the order in which their events were stored.
    CHECK(setup.Query("SELECT count(*) FROM messages m1 JOIN messages m2 ON m2.conversation_id = "
                      "m1.conversation_id AND m2.id > m1.id AND m2.direction = 'in' "
                      "JOIN inbound_events e1 ON e1.provider_event_id = m1.provider_message_id "
                      "JOIN inbound_events e2 ON e2.provider_event_id = m2.provider_message_id "
                      "WHERE m1.direction = 'in' AND e1.id > e2.id") == "0");
    CHECK(setup.Query("SELECT count(*) FROM conversations WHERE channel = 'sms'") != "0");
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
    for (auto& server : servers) {
        server->Signal(SIGTERM);
        CHECK(server->Wait() == 0);
    }
}

TEST_CASE("kill -9 under load ten times: nothing acknowledged is lost or done twice",
          "[bot][crash][integration]") {
    KillUnderLoad(1);
}

TEST_CASE("kill -9 under load, three replicas: nothing acknowledged is lost or done twice",
          "[bot][crash][replicas][integration][postgres]") {
    KillUnderLoad(3);
}

}  // namespace
}  // namespace cobrador::testing
