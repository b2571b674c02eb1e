#pragma once
// Live console events across replicas (PostgreSQL only). Every change this process publishes
// (EventHub::Publish) also goes to the other replicas over the cluster channel, batched outside
// every business transaction; the changes they publish come to this process's open streams. A
// collector's console connected to any replica sees what was done through any other.
//
// At most once, like the channel: a change sent while a replica is reconnecting is not heard
// there, and its consoles see it on their next read (the stream says what changed, never the
// data, so nothing is lost that cannot be re-read).

#include <memory>
#include <thread>

#include "bot/config.hpp"
#include "store/cluster_channel.hpp"

#include "events.hpp"
#include "metrics.hpp"

namespace cobrador::bot {

class ClusterEvents {
public:
    ClusterEvents(const Config& config, EventHub& hub, Metrics& metrics);
    ~ClusterEvents();
    ClusterEvents(const ClusterEvents&) = delete;
    ClusterEvents& operator=(const ClusterEvents&) = delete;

    // Starts forwarding and listening, on a thread of its own.
    void Start();
    // Stops and joins that thread (within a tenth of a second).
    void Stop();

private:
    const Config& config_;
    EventHub& hub_;
    Metrics& metrics_;
    store::ClusterChannel channel_;
    std::thread thread_;
};

}  // namespace cobrador::bot
