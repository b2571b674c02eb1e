// A month of reminders over a generated portfolio of 1,200 debtors in six time zones, with a
// fake clock: the real scheduler pass (the one `cobrador remind` and `serve` run) every hour,
// against a real ledger. Checked independently of the scheduler's own code: nothing is
// ever queued outside 08:00-21:00 Monday to Friday in the debtor's zone or on a Mexican holiday,
// to an opted-out channel, a wrong number or a conversation a person holds, about an account
// under an open complaint, or beyond one a day and three a week per phone (two debtors share
// some phones: the caps hold between them).

#include <map>
#include <random>
#include <set>

#include <catch2/catch.hpp>

#include "dialogs/contact.hpp"
#include "dialogs/reference.hpp"
#include "store/ledger.hpp"

#include "reminders.hpp"
#include "support/catch_result.hpp"
#include "support/probe.hpp"
#include "support/temp_dir.hpp"

namespace cobrador::bot {
namespace {

using namespace std::chrono;
using testing::Probe;
using testing::TempDir;

constexpr int kDebtors = 1200;
constexpr std::array<const char*, 6> kZones = {"America/Mexico_City",
                                               "America/Tijuana",
                                               "America/Cancun",
                                               "America/Hermosillo",
                                               "America/Mazatlan",
                                               "America/New_York"};

sys_seconds At(const std::string& iso) {
    return *dialogs::ParseIsoInstant(iso);
}

std::string Phone(int i) {
    return "+5255" + std::to_string(10000000 + i);
}

TEST_CASE("a simulated month of reminders never breaks the contact rules or the caps",
          "[bot][reminders][simulation][integration]") {
    TempDir dir;
    const std::string path = dir.Ledger("month.db");
    auto opened = store::Ledger::Open(path);
    REQUIRE(opened);
    store::Ledger& ledger = *opened;
    REQUIRE(ledger.Migrate());

    // The portfolio: due dates from 2026-10-20 to 2026-12-19, every zone, a few segments.
    std::mt19937 random(20261101);
    std::vector<store::PortfolioRow> rows;
    for (int i = 0; i < kDebtors; ++i) {
        store::PortfolioRow row;
        row.account_id = "ACC-" + std::to_string(i);
        row.debtor_id = "D-" + std::to_string(i);
        row.debtor_name = "Deudor " + std::to_string(i);
        // Every fiftieth debtor shares the previous one's phone (and so its zone).
        const bool shares = i % 50 == 6;
        row.phone = Phone(shares ? i - 1 : i);
        row.birth_date = "1980-01-01";
        row.balance_cents = 50000 + static_cast<std::int64_t>(random() % 2000000);
        row.currency = "MXN";
        row.due_date = dialogs::FormatIsoDate(
            dialogs::AddDays(*dialogs::ParseIsoDate("2026-10-20"), static_cast<int>(i % 60)));
        row.timezone = kZones[static_cast<std::size_t>(shares ? i - 1 : i) % kZones.size()];
        row.locale = i % 6 == 5 ? "en-US" : "es-MX";
        row.segment = i % 2 == 0 ? "consumo" : "telefonía";
        rows.push_back(row);
    }
    REQUIRE(ledger.ImportPortfolio(rows, "simulation", "2026-11-01T00:00:00Z"));

    // Who may not be reminded, from the start: opted out of WhatsApp (they get SMS), opted out
    // of everything, wrong numbers, conversations a collector holds. Some have promises and
    // plans.
    {
        Probe db(path);
        for (int i = 0; i < kDebtors; ++i) {
            const std::string phone = Phone(i);
            const std::string id = std::to_string(i + 1);
            if (i % 20 == 1) {
                db.Exec(
                    "INSERT INTO contact_preferences (phone, channel, kind, recorded_at, "
                    "source) VALUES ('" +
                    phone + "', 'whatsapp', 'opt_out', 'x', 'debtor')");
            } else if (i % 20 == 2) {
                db.Exec(
                    "INSERT INTO contact_preferences (phone, channel, kind, recorded_at, "
                    "source) VALUES ('" +
                    phone + "', 'all', 'opt_out', 'x', 'debtor')");
                db.Exec(
                    "INSERT INTO contact_preferences (phone, channel, kind, recorded_at, "
                    "source) VALUES ('" +
                    phone + "', 'sms', 'opt_out', 'x', 'debtor')");
            } else if (i % 50 == 3) {
                db.Exec(
                    "INSERT INTO contact_preferences (phone, channel, kind, recorded_at, "
                    "source) VALUES ('" +
                    phone + "', 'all', 'wrong_number', 'x', 'debtor')");
            } else if (i % 50 == 4) {
                db.Exec(
                    "INSERT INTO agents (id, name, role, token_sha256, created_at) SELECT 1, "
                    "'Ana', 'collector', 'h', 'x' WHERE NOT EXISTS (SELECT 1 FROM agents)");
                db.Exec(
                    "INSERT INTO conversations (debtor_id, phone, channel, state, "
                    "assigned_agent_id, last_activity_at, created_at) VALUES (" +
                    id + ", '" + phone +
                    "', 'whatsapp', 'claimed', 1, 'x', '2026-10-30T00:00:00Z')");
            } else if (i % 10 == 5) {
                db.Exec(
                    "INSERT INTO promises (account_id, amount_cents, currency, due_date, "
                    "status, created_at) VALUES (" +
                    id + ", 10000, 'MXN', '2026-11-" + std::to_string(5 + i % 20) +
                    "', 'open', 'x')");
            } else if (i % 10 == 7) {
                const std::string plan = std::to_string(
                    db.Count("INSERT INTO payment_plans (account_id, kind, total_cents, currency, "
                             "status, created_at) VALUES (" +
                             id + ", 'installments', 30000, 'MXN', 'active', 'x') RETURNING id"));
                db.Exec(
                    "INSERT INTO plan_installments (plan_id, seq, due_date, amount_cents, "
                    "status) VALUES (" +
                    plan + ", 1, '2026-11-13', 10000, 'pending'), (" + plan +
                    ", 2, '2026-11-27', 20000, 'pending')");
            }
        }
    }

    Config config;
    config.company_name = "Financiera Simulada";
    config.whatsapp_app_secret = "s";
    config.whatsapp_verify_token = "v";
    config.whatsapp_access_token = "t";
    config.whatsapp_phone_number_id = "1";
    config.twilio_account_sid = "AC1";
    config.twilio_auth_token = "t";
    config.twilio_from = "+15005550006";
    const dialogs::ReminderStrategy& strategy = dialogs::DefaultReminderStrategy();

    std::set<std::string> late_opt_outs;  // phones that opt out on day 10
    std::set<std::int64_t> paid_off;      // debtors whose account is paid on day 12
    // Debtors with a complaint open from day 5 (i % 50 == 8: for good; i % 50 == 9: closed on
    // day 20), and when each is open.
    std::map<std::int64_t, std::pair<sys_seconds, sys_seconds>> disputed;
    std::int64_t last_seen = 0;
    std::size_t passes = 0;
    std::size_t broken_total = 0;
    for (sys_seconds now = At("2026-11-01T00:17:00Z"); now < At("2026-12-01T00:00:00Z");
         now += hours(1)) {
        if (now == At("2026-11-10T15:17:00Z")) {
            Probe db(path);
            for (int i = 100; i < 1200; i += 37) {
                db.Exec(
                    "INSERT INTO contact_preferences (phone, channel, kind, recorded_at, "
                    "source) VALUES ('" +
                    Phone(i) +
                    "', 'all', 'opt_out', 'x', 'debtor') "
                    "ON CONFLICT DO NOTHING");
                late_opt_outs.insert(Phone(i));
            }
        }
        if (now == At("2026-11-05T15:17:00Z")) {
            for (int i = 8; i < kDebtors; i += 50) {
                for (const int k : {i, i + 1}) {
                    store::NewCase c;
                    c.debtor_key = "D-" + std::to_string(k);
                    c.category = "wrong_amount";
                    c.description = "simulated";
                    c.agent_id = 1;
                    c.due_date = "2026-12-17";
                    const auto filed = ledger.OpenCase(c, dialogs::FormatIsoInstant(now));
                    REQUIRE(filed);
                    REQUIRE(filed->record);
                    disputed[k + 1] = {
                        now, k == i ? At("2027-01-01T00:00:00Z") : At("2026-11-20T15:17:00Z")};
                }
            }
        }
        if (now == At("2026-11-20T15:17:00Z")) {
            for (const auto& [debtor, span] : disputed) {
                if (span.second == now) {
                    const auto id = Probe(path).Count("SELECT id FROM cases WHERE debtor_id = " +
                                                      std::to_string(debtor));
                    REQUIRE(ledger
                                .CloseCase({id, 1, "unfavorable", "El saldo es correcto."},
                                           dialogs::FormatIsoInstant(now),
                                           {})
                                ->record);
                }
            }
        }
        if (now == At("2026-11-12T15:17:00Z")) {
            std::vector<store::PaymentRecord> payments;
            for (int i = 60; i < 1200; i += 41) {
                store::PaymentRecord p;
                p.payment_id = "SIM-" + std::to_string(i);
                p.reference = *dialogs::PaymentReference(i + 1);
                p.amount_cents = 5'000'000;  // more than any balance
                p.currency = "MXN";
                p.paid_at = "2026-11-12T15:00:00Z";
                payments.push_back(p);
                paid_off.insert(i + 1);
            }
            REQUIRE(ledger.ApplyPayments(payments, "import", "2026-11-12T15:17:00Z"));
        }
        auto pass = RunReminderPass(ledger, config, strategy, now, false);
        REQUIRE(pass);
        broken_total += pass->promises_broken;
        ++passes;

        // Everything this pass queued, checked on its own terms.
        Probe db(path);
        auto fresh = db.db().Query(
            "SELECT r.id, d.phone, d.timezone, r.channel, r.created_at, "
            "o.next_attempt_at, m.body, r.debtor_id FROM reminders r JOIN debtors d ON "
            "d.id = r.debtor_id JOIN outbox o ON o.message_id = r.message_id "
            "JOIN messages m ON m.id = r.message_id WHERE r.id > ? AND r.rule NOT IN "
            "('promise_broken', 'plan_broken') ORDER BY r.id",
            last_seen);
        while (fresh->Step()) {
            last_seen = fresh->Int64(0);
            const std::string phone = fresh->Text(1);
            const std::string zone = fresh->Text(2);
            const std::string channel = fresh->Text(3);
            const int i = std::stoi(phone.substr(5)) - 10000000;
            INFO("debtor " << i << " at " << dialogs::FormatIsoInstant(now) << " in " << zone);
            CHECK(fresh->Text(4) == dialogs::FormatIsoInstant(now));
            CHECK(fresh->Text(5) == dialogs::FormatIsoInstant(now));
            const dialogs::LocalTime local = dialogs::ToLocal(now, zone);
            CHECK(local.minute_of_day >= 8 * 60);
            CHECK(local.minute_of_day < 21 * 60);
            CHECK(local.weekday >= 1);
            CHECK(local.weekday <= 5);
            CHECK(dialogs::FormatIsoDate(local.date) != "2026-11-16");  // Revolution Day
            CHECK(i % 20 != 2);                                         // opted out of everything
            CHECK(i % 50 != 3);                                         // wrong number
            CHECK(i % 50 != 4);                                         // a collector holds it
            if (i % 20 == 1) {
                CHECK(channel == "sms");  // opted out of WhatsApp only
            }
            if (now > At("2026-11-10T15:17:00Z")) {
                CHECK(late_opt_outs.count(phone) == 0);
            }
            const std::int64_t debtor = fresh->Int64(7);
            if (now > At("2026-11-12T15:17:00Z")) {
                CHECK(paid_off.count(debtor) == 0);
            }
            if (const auto d = disputed.find(debtor); d != disputed.end()) {
                CHECK_FALSE((now >= d->second.first && now < d->second.second));
            }
            const std::string body = fresh->Text(6);
            CHECK(
                (body.find("BAJA") != std::string::npos || body.find("STOP") != std::string::npos));
            CHECK(body.find('$') == std::string::npos);  // never an amount to an unverified phone
        }
    }
    CHECK(passes == 720);

    // The caps, over the whole month: one a local day, three in any seven days, per phone.
    Probe db(path);
    auto all = db.db().Query(
        "SELECT d.phone, d.timezone, r.created_at, r.rule, r.debtor_id FROM reminders r "
        "JOIN debtors d ON d.id = r.debtor_id WHERE r.rule NOT IN ('promise_broken', "
        "'plan_broken') ORDER BY d.phone, r.created_at");
    std::map<std::string, std::vector<sys_seconds>> by_phone;
    std::set<std::int64_t> sharing_reminded;  // debtors on a shared phone who were reminded
    std::map<std::string, std::size_t> by_rule;
    std::size_t total = 0;
    while (all->Step()) {
        const std::string phone = all->Text(0);
        const std::string zone = all->Text(1);
        const sys_seconds at = At(all->Text(2));
        const std::int64_t debtor = all->Int64(4);
        if ((debtor - 1) % 50 == 5 || (debtor - 1) % 50 == 6) {
            sharing_reminded.insert(debtor);
        }
        auto& times = by_phone[phone];
        for (const sys_seconds earlier : times) {
            INFO("phone " << phone);
            CHECK(dialogs::ToLocal(earlier, zone).date != dialogs::ToLocal(at, zone).date);
        }
        times.push_back(at);
        std::size_t in_week = 0;
        for (const sys_seconds t : times) {
            in_week += t > at - days(7) ? 1 : 0;
        }
        CHECK(in_week <= 3);
        ++by_rule[all->Text(3)];
        ++total;
    }
    // Not vacuous: most debtors were reminded, by every kind of rule.
    CHECK(total > 1500);
    CHECK(by_phone.size() > 800);
    CHECK(sharing_reminded.size() > 10);  // both debtors of shared phones were reminded
    for (const char* rule : {"before_due_3",
                             "due_today",
                             "overdue_3",
                             "overdue_7",
                             "overdue_15",
                             "promise_eve",
                             "promise_day",
                             "installment_eve"}) {
        INFO(rule);
        CHECK(by_rule[rule] > 0);
    }
    CHECK(broken_total > 0);  // unpaid promises broke and were followed up
    // Those follow-ups are recorded beside the reminders (a complaint cancels one still waiting)
    // and, like them, go only inside the debtor's contact hours.
    auto follow_ups = db.db().Query(
        "SELECT d.timezone, o.next_attempt_at, m.body FROM reminders r JOIN debtors d ON d.id = "
        "r.debtor_id JOIN outbox o ON o.message_id = r.message_id JOIN messages m ON m.id = "
        "r.message_id WHERE r.rule IN ('promise_broken', 'plan_broken')");
    std::size_t followed = 0;
    while (follow_ups->Step()) {
        const dialogs::LocalTime local =
            dialogs::ToLocal(At(follow_ups->Text(1)), follow_ups->Text(0));
        INFO("a follow-up due " << follow_ups->Text(1) << " in " << follow_ups->Text(0));
        CHECK(local.minute_of_day >= 8 * 60);
        CHECK(local.minute_of_day < 21 * 60);
        CHECK(local.weekday >= 1);
        CHECK(local.weekday <= 5);
        const std::string body = follow_ups->Text(2);
        CHECK((body.find("BAJA") != std::string::npos || body.find("STOP") != std::string::npos));
        ++followed;
    }
    CHECK(followed > 0);
    // A second pass at the same instant queues nothing more.
    auto again = RunReminderPass(ledger, config, strategy, At("2026-11-30T17:17:00Z"), false);
    REQUIRE(again);
    CHECK(again->queued.empty());
}

}  // namespace
}  // namespace cobrador::bot
