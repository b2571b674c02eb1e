#pragma once
// The inbound worker: hands what webhooks stored to the dialog, oldest first, a group of events
// per transaction on the ledger's thread (one commit for the group). On PostgreSQL the group is
// one SERIALIZABLE transaction and the only dialog writer of this process, so turns never
// conflict with each other (several writers of turns, each a transaction, failed serialization
// against each other under load). A group that fails is done again at once one event per
// transaction; an event that still fails is tried again a second later, with the ones after
// it. Nothing is announced (live events, metrics, the dispatcher) before it is durable.

#include <atomic>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/system/error_code.hpp>

#include "services.hpp"

namespace cobrador::bot {

class InboundWorker {
public:
    InboundWorker(Services& services, boost::asio::io_context& ioc);

    // Something was stored: look soon (thread-safe; at most one look is queued).
    void Schedule();
    // No more retries (on stop).
    void Stop();

private:
    void Drain(store::Ledger& ledger);  // on the ledger's thread
    void RetryLater(const boost::system::error_code& error, const std::string& detail);

    Services& s_;
    boost::asio::strand<boost::asio::io_context::executor_type> strand_;
    boost::asio::steady_timer retry_;  // on strand_
    std::atomic<bool> scheduled_{false};
};

}  // namespace cobrador::bot
