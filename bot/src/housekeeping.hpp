#pragma once
// Timers that keep the ledger tidy while the server runs: every minute, claims idle past
// COBRADOR_CLAIM_IDLE_MINUTES go back to the queue; every COBRADOR_REMINDER_MINUTES, a reminder
// pass (broken promises first). Each runs on the ledger's thread and is idempotent.
//
// With several replicas on one PostgreSQL each job runs once per interval across the cluster:
// every replica looks often (Ledger::TakeJob), and the one that finds the job due and free runs
// it, holding it for one interval. A runner that dies is replaced when that lease runs out.

#include <chrono>
#include <functional>
#include <string>

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
    struct Job {
        std::string name;
        std::chrono::seconds every;
        std::function<void(store::Ledger&)> run;  // on the ledger's thread
        boost::asio::steady_timer timer;
    };

    void Schedule(Job& job, std::chrono::seconds after);  // on strand_
    void RunIfMine(Job& job, store::Ledger& ledger);      // on the ledger's thread
    void ExpireClaims(store::Ledger& ledger);
    void RemindersPass(store::Ledger& ledger);

    Services& s_;
    boost::asio::strand<boost::asio::io_context::executor_type> strand_;
    Job claims_;
    Job reminders_;
};

}  // namespace cobrador::bot
