#include "provider_worker.hpp"

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "bot/log.hpp"
#include "channels/payment_providers.hpp"
#include "dialogs/calendar.hpp"

#include "proactive.hpp"

namespace cobrador::bot {

namespace net = boost::asio;

namespace {

constexpr std::size_t kBatch = 20;
constexpr auto kLookEvery = std::chrono::seconds(5);
constexpr auto kHold = std::chrono::seconds(30);  // beyond the fetches themselves
constexpr int kGiveUpAfter = 30;                  // attempts: about a day

}  // namespace

void CountPaymentOutcomes(Services& s,
                          std::string_view provider,
                          const std::vector<store::PaymentOutcome>& outcomes) {
    bool queued = false;
    for (const store::PaymentOutcome& outcome : outcomes) {
        s.metrics.Count("cobrador_payments_total", "result=\"" + outcome.status + "\"");
        Log(LogLevel::kInfo,
            "payment",
            {{"provider", std::string(provider)},
             {"payment_id", outcome.payment_id},
             {"status", outcome.status},
             {"reason", outcome.reason},
             {"account", outcome.account_id}});
        queued = queued || outcome.message_queued;
    }
    if (queued) {
        s.wake_dispatcher();
    }
}

ProviderWorker::ProviderWorker(Services& services, net::io_context& ioc)
    : s_(services), strand_(net::make_strand(ioc)), timer_(strand_), client_(strand_) {}

void ProviderWorker::Start() {
    net::co_spawn(strand_, Loop(), [](const std::exception_ptr& failure) {
        if (failure) {
            try {
                std::rethrow_exception(failure);
            } catch (const std::exception& e) {
                Log(LogLevel::kError,
                    "payment notifications worker stopped",
                    {{"error", e.what()}});
            }
        }
    });
}

void ProviderWorker::Wake() {
    woken_ = true;
    net::post(strand_, [this] { timer_.cancel(); });
}

void ProviderWorker::Stop() {
    net::post(strand_, [this] { timer_.cancel(); });
}

net::awaitable<void> ProviderWorker::Loop() {
    while (!s_.stopping) {
        woken_ = false;
        const auto now = s_.Instant();
        const std::string at = dialogs::FormatIsoInstant(now);
        // Held long enough for the whole batch to be fetched one after another.
        const std::string hold =
            dialogs::FormatIsoInstant(now + kHold + s_.config.send_timeout * kBatch);
        auto due = co_await s_.ledger.Run(
            [&](store::Ledger& l) { return l.DueProviderEvents(at, hold, kBatch); });
        if (!due) {
            Log(LogLevel::kError,
                "pending payment notifications not read",
                {{"error", due.error().message()}});
        } else {
            for (const store::PendingProviderEvent& event : *due) {
                if (s_.stopping) {
                    break;
                }
                co_await Fetch(event);
            }
        }
        if (s_.stopping) {
            break;
        }
        if (woken_ || (due && due->size() == kBatch)) {
            continue;
        }
        timer_.expires_after(kLookEvery);
        co_await timer_.async_wait(net::as_tuple(net::use_awaitable));
    }
}

net::awaitable<void> ProviderWorker::Fetch(const store::PendingProviderEvent& event) {
    std::string error;
    std::optional<std::vector<store::ProviderReport>> reports;
    const Config& c = s_.config;
    std::optional<channels::HttpCall> call;
    if (event.provider == "mercadopago" && !c.mercadopago_access_token.empty()) {
        call = channels::MercadoPagoFetch(
            c.mercadopago_api_base, c.mercadopago_access_token, event.fetch_payment);
    } else if (event.provider == "conekta" && !c.conekta_api_key.empty()) {
        call = channels::ConektaFetch(c.conekta_api_base, c.conekta_api_key, event.fetch_payment);
    } else {
        error = "no credentials to fetch a payment from " + event.provider;
    }
    if (call) {
        const ClientResponse response = co_await client_.Send(std::move(*call), c.send_timeout);
        if (response.error) {
            error = "fetching the payment: " + response.error.message();
        } else if (response.status != 200) {
            error = "fetching the payment: HTTP " + std::to_string(response.status);
        } else if (event.provider == "conekta") {
            reports = channels::ParseConektaOrder(response.body, error);
        } else {
            reports = channels::ParseMercadoPagoPayment(response.body, error);
        }
    }
    const auto clock = std::chrono::system_clock::now();
    const auto instant = s_.config.Instant(clock);
    const std::string now = s_.config.Now(clock);
    if (reports) {
        auto done = co_await s_.ledger.Run([&](store::Ledger& l) {
            return l.CompleteProviderEvent(
                event.id, *reports, now, [&](const store::PaymentNotice& notice) {
                    return PaymentThanks(notice, s_.config, s_.strategy, instant, true);
                });
        });
        if (done) {
            s_.metrics.Count("cobrador_provider_fetches_total",
                             "provider=\"" + event.provider + "\",result=\"ok\"");
            CountPaymentOutcomes(s_, event.provider, done->outcomes);
            co_return;
        }
        error = "applying the payment: " + done.error().message();
    }
    const bool give_up = event.attempts + 1 >= kGiveUpAfter;
    const auto delay = std::chrono::seconds(
        std::min<std::int64_t>(3600, std::int64_t{5} << std::min(event.attempts, 10)));
    const std::string next = dialogs::FormatIsoInstant(instant + delay);
    co_await s_.ledger.Run(
        [&](store::Ledger& l) { return l.RetryProviderEvent(event.id, error, next, give_up); });
    s_.metrics.Count(
        "cobrador_provider_fetches_total",
        "provider=\"" + event.provider + "\",result=\"" + (give_up ? "failed" : "retry") + "\"");
    Log(give_up ? LogLevel::kError : LogLevel::kWarn,
        give_up ? "payment notification given up: fetch failed for a day"
                : "payment notification: fetch failed, trying again later",
        {{"provider", event.provider},
         {"event_id", event.event_id},
         {"payment", event.fetch_payment},
         {"error", error},
         {"next_attempt_at", give_up ? std::string() : next}});
}

}  // namespace cobrador::bot
