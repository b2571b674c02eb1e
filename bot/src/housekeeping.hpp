#pragma once
// Timers that keep the ledger tidy while the server runs: every minute, claims idle past
// COBRADOR_CLAIM_IDLE_MINUTES go back to the queue; every COBRADOR_REMINDER_MINUTES, a reminder
// pass (broken promises first). Each runs on the ledger's thread and is idempotent.

#include <chrono>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "services.hpp"

namespace cobrador::bot {

class Housekeeping {
public:
    Housekeeping(Services& services, boost::asio::io_context& ioc);

    void Start();  // the first reminder pass two seconds from now
    void Stop();   // thread-safe

private:
    void ScheduleClaimExpiry();                          // on strand_
    void ScheduleReminders(std::chrono::seconds after);  // on strand_

    Services& s_;
    boost::asio::strand<boost::asio::io_context::executor_type> strand_;
    boost::asio::steady_timer claim_timer_;
    boost::asio::steady_timer reminder_timer_;
};

}  // namespace cobrador::bot
