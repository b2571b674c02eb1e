#include "provider_worker.hpp"

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "bot/log.hpp"
#include "channels/payment_instruments.hpp"
#include "channels/payment_providers.hpp"
#include "dialogs/calendar.hpp"

#include "polling_loop.hpp"
#include "proactive.hpp"

namespace cobrador::bot {

namespace net = boost::asio;

namespace {

constexpr std::size_t kBatch = 20;
constexpr auto kLookEvery = std::chrono::seconds(5);
constexpr auto kHold = std::chrono::seconds(30);  // beyond the fetches themselves

// The provider's API for creating instruments, from the configuration.
channels::InstrumentApi InstrumentApiOf(const Config& config, std::string_view provider) {
    channels::InstrumentApi api;
    api.provider = std::string(provider);
    api.return_url = config.public_url + "/payments/done";
    if (provider == "stripe") {
        api.base = config.stripe_api_base;
        api.key = config.stripe_secret_key;
    } else if (provider == "mercadopago") {
        api.base = config.mercadopago_api_base;
        api.key = config.mercadopago_access_token;
    } else if (provider == "conekta") {
        api.base = config.conekta_api_base;
        api.key = config.conekta_api_key;
    } else if (provider == "openpay") {
        api.base = config.openpay_api_base;
        api.key = config.openpay_private_key;
        api.merchant_id = config.openpay_merchant_id;
    }
    return api;
}

}  // namespace

std::chrono::seconds RetryDelay(int attempts) {
    return std::chrono::seconds(
        std::min<std::int64_t>(3600, std::int64_t{5} << std::clamp(attempts, 0, 10)));
}

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
    : s_(services),
      loop_(ioc, services.stopping, kLookEvery, "payment notifications worker"),
      client_(loop_.strand()) {}

void ProviderWorker::Start() {
    loop_.Start([this] { return Pass(); });
}

void ProviderWorker::Wake() {
    loop_.Wake();
}

void ProviderWorker::Stop() {
    loop_.Stop();
}

net::awaitable<bool> ProviderWorker::Pass() {
    const auto now = s_.Instant();
    const std::string at = dialogs::FormatIsoInstant(now);
    // Held long enough for the whole batch to be handled one after another.
    const std::string hold =
        dialogs::FormatIsoInstant(now + kHold + s_.config.send_timeout * kBatch);
    const bool more_events = co_await HandleDue(
        s_,
        kBatch,
        "pending payment notifications not read",
        [&](store::Ledger& l) { return l.DueProviderEvents(at, hold, kBatch); },
        [this](const store::PendingProviderEvent& event) { return Fetch(event); });
    const bool more_instruments = co_await HandleDue(
        s_,
        kBatch,
        "payment instruments to create not read",
        [&](store::Ledger& l) { return l.DueInstruments(at, hold, kBatch); },
        [this](const store::InstrumentJob& job) { return Create(job); });
    co_return more_events || more_instruments;
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
    } else if (event.provider == "openpay" && !c.openpay_private_key.empty()) {
        call = channels::OpenpayFetch(
            c.openpay_api_base, c.openpay_merchant_id, c.openpay_private_key, event.fetch_payment);
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
        } else if (event.provider == "openpay") {
            reports = channels::ParseOpenpayCharge(event.type, response.body, error);
        } else {
            reports = channels::ParseMercadoPagoPayment(response.body, error);
        }
    }
    if (reports) {
        for (const store::ProviderReport& r : *reports) {
            if (r.payment != event.fetch_payment) {
                // Money is only moved for the payment the notification named.
                error = "the provider answered about another payment";
                reports.reset();
                break;
            }
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
    Failed failed;
    failed.kind = store::ProviderWork::kFetch;
    failed.id = event.id;
    failed.attempts = event.attempts;
    failed.provider = event.provider;
    failed.metric = "cobrador_provider_fetches_total";
    failed.what = "payment notification: fetch failed";
    failed.details = {{"event_id", event.event_id}, {"payment", event.fetch_payment}};
    co_await Later(failed, error, instant);
}

net::awaitable<void> ProviderWorker::Later(const Failed& work,
                                           const std::string& error,
                                           std::chrono::sys_seconds now) {
    const auto delay = RetryDelay(work.attempts);
    const bool give_up = work.attempts + 1 >= kGiveUpAfterAttempts;
    const std::string next = dialogs::FormatIsoInstant(now + delay);
    co_await s_.ledger.Run([&](store::Ledger& l) {
        return l.RetryProviderWork(work.kind, work.id, error, next, give_up);
    });
    s_.metrics.Count(
        work.metric,
        "provider=\"" + work.provider + "\",result=\"" + (give_up ? "failed" : "retry") + "\"");
    std::vector<std::pair<std::string_view, std::string>> fields = {
        {"provider", work.provider}, {"id", std::to_string(work.id)}};
    fields.insert(fields.end(), work.details.begin(), work.details.end());
    fields.emplace_back("error", error);
    if (!give_up) {
        fields.emplace_back("next_attempt_at", next);
    }
    Log(give_up ? LogLevel::kError : LogLevel::kWarn,
        std::string(work.what) + (give_up ? "; given up after a day" : "; trying again later"),
        fields);
}

net::awaitable<void> ProviderWorker::Create(const store::InstrumentJob& job) {
    const Config& c = s_.config;
    const auto clock = std::chrono::system_clock::now();
    const auto instant = c.Instant(clock);
    const channels::InstrumentApi api = InstrumentApiOf(c, job.provider);
    channels::InstrumentOrder order;
    order.instrument_id = job.id;
    order.reference = job.reference;
    order.account_key = job.account_id;
    order.amount_cents = job.amount_cents;
    order.currency = job.currency;
    order.company = c.company_name;
    order.debtor_name = job.debtor_name;
    order.email = job.email;
    order.phone = job.phone;
    // The provider's clock is the real one, whatever COBRADOR_TODAY pins.
    order.now_unix = std::chrono::floor<std::chrono::seconds>(clock).time_since_epoch().count();
    std::string error;
    std::optional<store::CreatedInstrument> created;
    auto call = api.key.empty() ? std::nullopt : channels::CreateInstrumentCall(api, order);
    if (!call) {
        error = "no credentials to create a payment instrument at " + job.provider;
    } else {
        const ClientResponse response = co_await client_.Send(std::move(*call), c.send_timeout);
        if (response.error) {
            error = "creating the instrument: " + response.error.message();
        } else if (response.status != 200 && response.status != 201) {
            // The provider's own words help the operator; they carry no secret of ours.
            error = "creating the instrument: HTTP " + std::to_string(response.status) + ": " +
                    response.body.substr(0, 300);
        } else {
            created = channels::ParseCreatedInstrument(
                job.provider, response.body, order.now_unix, error);
        }
    }
    const std::string now = c.Now(clock);
    if (created) {
        auto done = co_await s_.ledger.Run([&](store::Ledger& l) {
            return l.CompleteInstrument(
                job.id, *created, now, [&](const store::InstrumentNotice& notice) {
                    return InstrumentReady(notice, c, s_.strategy, instant);
                });
        });
        if (done) {
            s_.metrics.Count("cobrador_instruments_total",
                             "provider=\"" + job.provider + "\",result=\"created\"");
            Log(LogLevel::kInfo,
                "payment instrument created",
                {{"provider", job.provider},
                 {"instrument_id", std::to_string(job.id)},
                 {"kind", created->kind},
                 {"account", job.account_id},
                 {"sent", done->message_queued ? "yes" : "no"}});
            if (done->message_queued) {
                s_.wake_dispatcher();
            }
            co_return;
        }
        error = "storing the instrument: " + done.error().message();
    }
    Failed failed;
    failed.kind = store::ProviderWork::kCreate;
    failed.id = job.id;
    failed.attempts = job.attempts;
    failed.provider = job.provider;
    failed.metric = "cobrador_instruments_total";
    failed.what = "payment instrument: creation failed";
    failed.details = {{"account", job.account_id}};
    co_await Later(failed, error, instant);
}

}  // namespace cobrador::bot
