// Payment instruments against a real ledger (SQLite, or PostgreSQL for the pg.* tests): asked
// for in a debtor's turn, taken by one worker at a time, retried, stored once created, handed
// to the debtor who asked only while their identity check holds, and shown to the dialog.

#include <sstream>

#include <catch2/catch.hpp>

#include "dialogs/dialog.hpp"
#include "dialogs/reference.hpp"
#include "store/ledger.hpp"
#include "store/payments.hpp"

#include "support/catch_result.hpp"
#include "support/probe.hpp"
#include "support/temp_dir.hpp"

namespace cobrador::store {
namespace {

using testing::Probe;
using testing::TempDir;

constexpr const char* kNow = "2026-11-23T16:00:00Z";
constexpr const char* kPhone = "+525511111111";

struct Books {
    TempDir dir;
    std::string path = dir.Ledger();
    Ledger ledger = Open();
    int messages = 0;

    Ledger Open() {
        auto opened = Ledger::Open(path);
        REQUIRE(opened);
        REQUIRE(opened->Migrate());
        std::istringstream csv(
            "account_id,debtor_name,phone,birth_date,balance,currency,due_date,email\n"
            "A-1,María López,+525511111111,1985-03-15,1000.00,MXN,2026-11-01,maria@example.mx\n");
        const auto parsed = ParsePortfolioCsv(csv);
        REQUIRE(parsed.errors.empty());
        REQUIRE(opened->ImportPortfolio(parsed.rows, "test", kNow));
        return std::move(*opened);
    }

    std::int64_t Account() const { return Probe(path).Count("SELECT id FROM accounts"); }

    // María writes; the dialog's turn is `decide`, which also sees what the ledger shows it.
    std::int64_t Turn(const std::string& now,
                      const std::function<DialogTurn(const dialogs::ConversationView&)>& decide) {
        const std::string id = "m" + std::to_string(++messages);
        REQUIRE(ledger.RecordWebhook(
            {{"sandbox", id, "text", kPhone, "{\"text\":\"como pago\"}", "como pago", "", ""}},
            {},
            now));
        const auto pending = ledger.PendingInboundEvents(10);
        REQUIRE(pending);
        REQUIRE(pending->size() == 1);
        const auto handled = ledger.HandleInbound(pending->front(), "como pago", decide, now);
        REQUIRE(handled);
        return *handled;
    }

    // A turn that verifies María (until `until`) and asks for a page for `cents`.
    std::int64_t Ask(const std::string& now, std::int64_t cents, dialogs::Instant until) {
        const std::int64_t account = Account();
        return Turn(now, [&](const dialogs::ConversationView&) {
            DialogTurn turn;
            turn.dialog_state = "{}";
            turn.commands = {dialogs::Verified{until},
                             dialogs::ReferenceIssued{account, *dialogs::PaymentReference(account)},
                             dialogs::InstrumentRequested{account, "stripe", {cents, "MXN"}}};
            turn.replies.push_back({"datos", "{\"text\":\"datos\"}"});
            return turn;
        });
    }
};

dialogs::Instant At(const char* iso) {
    return *dialogs::ParseIso8601(iso);
}

CreatedInstrument Page() {
    return {"page", "https://checkout.stripe.com/c/pay/cs_1", "", "cs_1", "2026-11-24T15:00:00Z"};
}

InstrumentNoticeFn Notice(std::vector<InstrumentNotice>& seen) {
    return [&seen](const InstrumentNotice& n) -> std::optional<ProactiveMessage> {
        seen.push_back(n);
        return ProactiveMessage{"enlace " + n.instrument.url, "{\"text\":\"enlace\"}", "", ""};
    };
}

TEST_CASE("Instruments: asked for once per account, taken by one worker, created and handed over",
          "[store][instruments]") {
    Books b;
    b.Ask(kNow, 100000, At("2026-11-24T16:00:00Z"));
    // Asked again before it exists (the balance changed): still one request, its amount updated.
    b.Ask("2026-11-23T16:01:00Z", 90000, At("2026-11-24T16:00:00Z"));
    Probe probe(b.path);
    CHECK(probe.Count("SELECT count(*) FROM payment_instruments") == 1);
    CHECK(probe.Text("SELECT amount_cents FROM payment_instruments") == "90000");
    CHECK(probe.Count("SELECT count(*) FROM audit_log WHERE kind = 'instrument_requested'") == 2);

    // Taken and held: a second worker finds nothing until the hold runs out.
    const auto due = b.ledger.DueInstruments("2026-11-23T16:02:00Z", "2026-11-23T16:05:00Z", 10);
    REQUIRE(due);
    REQUIRE(due->size() == 1);
    const InstrumentJob& job = due->front();
    CHECK(job.provider == "stripe");
    CHECK(job.account_id == "A-1");
    CHECK(job.reference == *dialogs::PaymentReference(b.Account()));
    CHECK(job.amount_cents == 90000);
    CHECK(job.currency == "MXN");
    CHECK(job.debtor_name == "María López");
    CHECK(job.email == "maria@example.mx");
    CHECK(job.phone == kPhone);
    CHECK(b.ledger.DueInstruments("2026-11-23T16:03:00Z", "2026-11-23T16:06:00Z", 10)->empty());

    // The provider was down: tried again later, the error kept.
    REQUIRE(b.ledger.RetryProviderWork(
        ProviderWork::kCreate, job.id, "HTTP 503", "2026-11-23T16:10:00Z", false));
    CHECK(b.ledger.DueInstruments("2026-11-23T16:09:00Z", "2026-11-23T16:12:00Z", 10)->empty());
    const auto again = b.ledger.DueInstruments("2026-11-23T16:10:00Z", "2026-11-23T16:15:00Z", 10);
    REQUIRE(again->size() == 1);
    CHECK(again->front().attempts == 1);
    CHECK(probe.Text("SELECT last_error FROM payment_instruments") == "HTTP 503");

    // Created: stored, and María (still verified) gets it in her conversation.
    std::vector<InstrumentNotice> seen;
    const auto done =
        b.ledger.CompleteInstrument(job.id, Page(), "2026-11-23T16:11:00Z", Notice(seen));
    REQUIRE(done);
    CHECK(done->stored);
    CHECK(done->message_queued);
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].account_id == "A-1");
    CHECK(seen[0].amount_cents == 90000);
    CHECK(seen[0].to.channel == "sandbox");
    CHECK(seen[0].to.debtor_name == "María López");
    CHECK(probe.Text("SELECT status || ' ' || provider_id || ' ' || expires_at FROM "
                     "payment_instruments") == "ready cs_1 2026-11-24T15:00:00Z");
    CHECK(probe.Count("SELECT count(*) FROM outbox o JOIN messages m ON m.id = o.message_id "
                      "WHERE m.body = 'enlace https://checkout.stripe.com/c/pay/cs_1'") == 1);
    CHECK(probe.Count("SELECT count(*) FROM audit_log WHERE kind = 'instrument_created'") == 1);

    // A second worker finishing the same job late changes nothing and sends nothing.
    const auto late =
        b.ledger.CompleteInstrument(job.id, Page(), "2026-11-23T16:12:00Z", Notice(seen));
    REQUIRE(late);
    CHECK_FALSE(late->stored);
    CHECK(seen.size() == 1);

    // The dialog now sees it on the account.
    std::optional<dialogs::InstrumentView> shown;
    b.Turn("2026-11-23T16:20:00Z", [&](const dialogs::ConversationView& view) {
        shown = view.debtor->accounts.at(0).instrument;
        DialogTurn turn;
        turn.dialog_state = "{}";
        return turn;
    });
    REQUIRE(shown);
    CHECK(shown->url == "https://checkout.stripe.com/c/pay/cs_1");
    CHECK(shown->provider == "stripe");
    CHECK(shown->amount == dialogs::Money{90000, "MXN"});
    CHECK(shown->expires_at == At("2026-11-24T15:00:00Z"));
}

TEST_CASE(
    "Instruments: not handed to a debtor whose identity check has lapsed, nor given up "
    "silently",
    "[store][instruments]") {
    Books b;
    // Verified for ten minutes only.
    b.Ask(kNow, 100000, At("2026-11-23T16:10:00Z"));
    const auto due = b.ledger.DueInstruments("2026-11-23T16:00:00Z", "2026-11-23T16:01:00Z", 10);
    REQUIRE(due->size() == 1);
    std::vector<InstrumentNotice> seen;
    const auto done =
        b.ledger.CompleteInstrument(due->front().id, Page(), "2026-11-23T17:00:00Z", Notice(seen));
    REQUIRE(done);
    CHECK(done->stored);
    CHECK_FALSE(done->message_queued);
    CHECK(seen.empty());

    // Another request that fails for a day is marked failed and leaves the queue.
    b.Ask("2026-11-23T17:05:00Z", 100000, At("2026-11-24T17:00:00Z"));
    const auto next = b.ledger.DueInstruments("2026-11-23T17:05:00Z", "2026-11-23T17:06:00Z", 10);
    REQUIRE(next->size() == 1);
    REQUIRE(b.ledger.RetryProviderWork(
        ProviderWork::kCreate, next->front().id, "HTTP 401", "2026-11-23T18:00:00Z", true));
    Probe probe(b.path);
    CHECK(probe.Text("SELECT status FROM payment_instruments WHERE id = " +
                     std::to_string(next->front().id)) == "failed");
    CHECK(b.ledger.DueInstruments("2026-11-30T00:00:00Z", "2026-11-30T00:01:00Z", 10)->empty());
}

}  // namespace
}  // namespace cobrador::store
