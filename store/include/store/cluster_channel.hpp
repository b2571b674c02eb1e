#pragma once
// A channel between the replicas that share one PostgreSQL database: short text messages sent
// with NOTIFY and heard with LISTEN on a connection of its own, outside every business
// transaction (a NOTIFY inside one would make every commit in the cluster take turns on
// PostgreSQL's notification queue lock). What is sent is batched: everything queued within one
// beat goes out in as few notifications as fit PostgreSQL's 8,000-byte payload.
//
// Delivery is at most once: a message sent while the listening side is reconnecting is not
// heard there. Use it for hints that something changed (the console then reads the ledger),
// never for the records themselves.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cobrador::store {

class ClusterChannel {
public:
    // Heard messages, one at a time, on the thread that runs Run(); also the ones this process
    // sent (the caller tells its own apart).
    using OnMessage = std::function<void(std::string_view message)>;
    // The connection came up (true) or was lost (false, with libpq's reason; never a password).
    using OnState = std::function<void(bool connected, const std::string& detail)>;

    // For a PostgreSQL target only (Ledger::IsPostgres); connects on Run().
    ClusterChannel(std::string target, std::string channel);
    ~ClusterChannel();
    ClusterChannel(const ClusterChannel&) = delete;
    ClusterChannel& operator=(const ClusterChannel&) = delete;

    // Queues one message (no newline in it) for the next beat. Thread-safe; never blocks on
    // the network. Dropped when the queue is full (the database is out of reach).
    void Send(std::string message);

    // Connects (and reconnects, once a second, when the connection is lost), listens, and every
    // `beat` sends what was queued and delivers what was heard. Returns after Stop().
    void Run(const OnMessage& on_message,
             const OnState& on_state,
             std::chrono::milliseconds beat = std::chrono::milliseconds(100));

    // Thread-safe; Run() returns within one beat.
    void Stop();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// What the console-event traffic between replicas carries: which replica changed which
// conversation, and how (a word: "claimed", "message", ...). On the wire, one line
// "<replica>\t<conversation id or ->\t<change>".
struct ChangeNotice {
    std::string replica;
    std::optional<std::int64_t> conversation;
    std::string change;

    bool operator==(const ChangeNotice&) const = default;
};

std::string EncodeChange(const ChangeNotice& notice);

// Anything that is not exactly a notice as EncodeChange writes it (a replica id, a positive id
// or "-", a change of 1 to 32 lower-case letters and underscores) is nullopt: anyone who may
// LISTEN on the database may also NOTIFY.
std::optional<ChangeNotice> DecodeChange(std::string_view line);

}  // namespace cobrador::store
