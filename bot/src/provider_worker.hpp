#pragma once
// Thin payment notifications (Mercado Pago's carry only ids) stored by the webhook as pending:
// this worker fetches each payment from the provider with its access token, off the webhook's
// path, and applies what the answer says. A failed fetch is tried again later (5 s, doubling,
// at most an hour apart); after a day of failures the notification is marked failed, logged
// and counted, never dropped silently. With several replicas each pending row is held by the
// replica that took it for a minute (Ledger::DueProviderEvents); applying is idempotent anyway.
//
// It also creates the payment instruments debtors asked for (COBRADOR_PAYMENTS_PROVIDER's
// page or store reference, docs/payments.md "Creating instruments"), the same way: off the
// dialog's path, retried on the same schedule while the provider is down, and handed to the
// debtor as soon as it exists.

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "http_client.hpp"
#include "polling_loop.hpp"
#include "services.hpp"

namespace cobrador::bot {

// Work against a provider that failed is tried again 5 s later, doubling, at most an hour
// apart, and given up after about a day (this many attempts). Shared by the provider and media
// workers.
constexpr int kGiveUpAfterAttempts = 30;
std::chrono::seconds RetryDelay(int attempts);

// Counts and logs what became of each payment a notification reported, and wakes the
// dispatcher when a thank-you was queued.
void CountPaymentOutcomes(Services& s,
                          std::string_view provider,
                          const std::vector<store::PaymentOutcome>& outcomes);

class ProviderWorker {
public:
    ProviderWorker(Services& services, boost::asio::io_context& ioc);

    void Start();
    void Wake();  // something was stored: look now (thread-safe)
    void Stop();  // thread-safe

private:
    boost::asio::awaitable<bool> Pass();
    boost::asio::awaitable<void> Fetch(const store::PendingProviderEvent& event);
    boost::asio::awaitable<void> Create(const store::InstrumentJob& job);

    // Work that failed: tried again 5 s later, doubling, at most an hour apart; given up after
    // about a day (30 attempts), counted in `metric` and logged either way.
    struct Failed {
        store::ProviderWork kind;
        std::int64_t id = 0;
        int attempts = 0;
        std::string provider;
        const char* metric = "";
        const char* what = "";
        std::vector<std::pair<std::string_view, std::string>> details;
    };

    boost::asio::awaitable<void> Later(const Failed& work,
                                       const std::string& error,
                                       std::chrono::sys_seconds now);

    Services& s_;
    PollingLoop loop_;
    HttpClient client_;
};

}  // namespace cobrador::bot
