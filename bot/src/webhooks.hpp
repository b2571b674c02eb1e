#pragma once
// The providers' doors: WhatsApp and Twilio webhooks (verified, parsed, committed before the
// answer, idempotent on the provider's ids), the payments webhooks (ours and the payment
// providers', applied at once or fetched later), and with
// --demo the sandbox phone. Every handler is a plain coroutine over Services, tested over HTTP.

#include <atomic>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "channels/message.hpp"

#include "http_types.hpp"
#include "inbound_worker.hpp"
#include "provider_worker.hpp"
#include "services.hpp"

namespace cobrador::bot {

class Webhooks {
public:
    Webhooks(Services& services, InboundWorker& inbound, ProviderWorker& provider_worker)
        : s_(services), inbound_(inbound), provider_worker_(provider_worker) {}

    boost::asio::awaitable<Response> WhatsApp(const Request& req, std::string_view query);
    boost::asio::awaitable<Response> Twilio(const Request& req);
    boost::asio::awaitable<Response> Payments(const Request& req);
    // POST /webhooks/payments/{stripe|mercadopago|openpay|conekta|stp}: verified as each provider
    // specifies, stored once per (provider, event id), applied or fetched later, answered 200.
    boost::asio::awaitable<Response> ProviderPayments(const Request& req,
                                                      std::string_view provider,
                                                      std::string_view query);
    // --demo only: the debtor's phone without any provider. GET ?phone= its transcript and who
    // the number belongs to; POST {"from", "text"} a message from it.
    boost::asio::awaitable<Response> Sandbox(const Request& req, std::string_view query);
    // --demo only: GET, the demo's debtors to play.
    Response SandboxDebtors();
    // --demo only: POST {"phone", "amount"?}, a payment to the number's most overdue account
    // (all of its balance unless an amount is given), applied exactly as the payments webhook
    // applies a signed one.
    boost::asio::awaitable<Response> SandboxPayment(const Request& req);

private:
    // Commits a parsed webhook before answering; 503 when the ledger cannot take it now.
    boost::asio::awaitable<http::status> Store(const channels::WebhookBatch& batch);
    Response Rejected(const std::string& channel, channels::WebhookError error);
    // The payments webhook after its signature: parse, apply, count, answer.
    boost::asio::awaitable<Response> ApplyPayment(const std::string& body);
    // Takes one of the writes that may wait for the ledger; false (answer 503) when full.
    bool Admit(const std::string& channel);

    Services& s_;
    InboundWorker& inbound_;
    ProviderWorker& provider_worker_;
    std::atomic<int> pending_writes_{0};
};

}  // namespace cobrador::bot
