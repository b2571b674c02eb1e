#pragma once
// The outbox dispatcher: takes due rows from the ledger, renders them for their channel, sends
// them, and records what the provider said. Transient failures (network, timeouts, 429, 5xx,
// the providers' rate-limit codes) are retried with exponential backoff and jitter, honouring
// Retry-After; permanent ones are recorded with the provider's error code and not retried.
// Messages to one recipient go out one at a time, in the order they were queued; different
// recipients in parallel.
//
// Runs on its own strand of the server's io_context; every ledger call goes to the ledger's
// thread (LedgerThread: reads with Run, the records of what was sent with Write, in groups).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include "bot/config.hpp"
#include "dialogs/contact.hpp"
#include "store/ledger.hpp"

#include "ledger_thread.hpp"
#include "metrics.hpp"

namespace cobrador::bot {

// Meta's code for a number that cannot receive WhatsApp messages: the message goes by SMS.
extern const char* const kNotOnWhatsApp;

// The outbox payload of a plain SMS text.
std::string SmsPayload(const std::string& text);

class Dispatcher {
public:
    // `sandbox_when_off`: a message on a channel without credentials goes to the sandbox (--demo)
    // instead of failing. `status_changed` is told the conversation of each message that was sent
    // or failed (from any thread). A message we started (a reminder, a follow-up) goes only inside
    // `hours` in the debtor's zone, checked when it is sent, so a retry or a restart never sends
    // one at night.
    Dispatcher(boost::asio::io_context& ioc,
               LedgerThread& ledger,
               const Config& config,
               Metrics& metrics,
               bool sandbox_when_off,
               dialogs::ContactHours hours,
               std::function<void(std::int64_t)> status_changed = {});
    ~Dispatcher();
    Dispatcher(const Dispatcher&) = delete;
    Dispatcher& operator=(const Dispatcher&) = delete;

    void Start();
    // New rows may be due; look now rather than at the next poll. Thread-safe.
    void Wake();
    // Stop taking rows; sends in flight finish. Thread-safe.
    void Stop();

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace cobrador::bot
