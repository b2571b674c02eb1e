#include "store/cluster_channel.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <deque>
#include <thread>

#include <libpq-fe.h>
#include <poll.h>

namespace cobrador::store {

namespace {

// PostgreSQL refuses a NOTIFY payload of 8,000 bytes or more.
constexpr std::size_t kMaxPayload = 7900;
// Past this many queued messages (the database is out of reach) new ones are dropped.
constexpr std::size_t kMaxQueued = 10000;

std::string OneLine(const char* text) {
    std::string out = text != nullptr ? text : "";
    for (char& c : out) {
        if (c == '\n' || c == '\r' || c == '\t') {
            c = ' ';
        }
    }
    while (!out.empty() && out.back() == ' ') {
        out.pop_back();
    }
    return out;
}

struct ConnDeleter {
    void operator()(PGconn* conn) const { PQfinish(conn); }
};

struct ResultDeleter {
    void operator()(PGresult* result) const { PQclear(result); }
};

using Conn = std::unique_ptr<PGconn, ConnDeleter>;
using Result = std::unique_ptr<PGresult, ResultDeleter>;

}  // namespace

struct ClusterChannel::Impl {
    std::string target;
    std::string channel;
    std::mutex mutex;
    std::deque<std::string> queue;  // guarded by mutex
    std::atomic<bool> stopping{false};

    // Joins queued messages with newlines into payloads that fit.
    std::vector<std::string> TakeBatches() {
        std::deque<std::string> taken;
        {
            const std::lock_guard lock(mutex);
            taken.swap(queue);
        }
        std::vector<std::string> out;
        for (std::string& message : taken) {
            if (message.size() > kMaxPayload) {
                continue;  // not a hint any more; nothing we send is this long
            }
            if (out.empty() || out.back().size() + 1 + message.size() > kMaxPayload) {
                out.push_back(std::move(message));
            } else {
                out.back() += '\n';
                out.back() += message;
            }
        }
        return out;
    }

    // The messages of one notification, one per line.
    static void Deliver(const char* payload, const OnMessage& on_message) {
        std::string_view rest(payload != nullptr ? payload : "");
        while (!rest.empty()) {
            const auto end = rest.find('\n');
            const std::string_view line = rest.substr(0, end);
            if (!line.empty()) {
                on_message(line);
            }
            if (end == std::string_view::npos) {
                break;
            }
            rest.remove_prefix(end + 1);
        }
    }

    Conn Connect(const OnState& on_state) {
        Conn conn(PQconnectdb(target.c_str()));
        if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
            on_state(false, conn ? OneLine(PQerrorMessage(conn.get())) : "out of memory");
            return nullptr;
        }
        char* quoted = PQescapeIdentifier(conn.get(), channel.c_str(), channel.size());
        const std::string sql = "LISTEN " + std::string(quoted != nullptr ? quoted : "\"\"");
        PQfreemem(quoted);
        const Result result(PQexec(conn.get(), sql.c_str()));
        if (PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
            on_state(false, OneLine(PQerrorMessage(conn.get())));
            return nullptr;
        }
        on_state(true, "");
        return conn;
    }

    // Sends the batches; false when the connection failed (the rest are dropped).
    bool SendAll(PGconn* conn, const std::vector<std::string>& batches) {
        for (const std::string& payload : batches) {
            const char* values[2] = {channel.c_str(), payload.c_str()};
            const Result result(PQexecParams(
                conn, "SELECT pg_notify($1, $2)", 2, nullptr, values, nullptr, nullptr, 0));
            if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
                return false;
            }
        }
        return true;
    }

    // Reads whatever has arrived and delivers it; false when the connection failed.
    static bool Hear(PGconn* conn, const OnMessage& on_message) {
        if (PQconsumeInput(conn) == 0) {
            return false;
        }
        while (PGnotify* notify = PQnotifies(conn)) {
            Deliver(notify->extra, on_message);
            PQfreemem(notify);
        }
        return true;
    }
};

std::string EncodeChange(const ChangeNotice& notice) {
    return notice.replica + "\t" +
           (notice.conversation ? std::to_string(*notice.conversation) : std::string("-")) + "\t" +
           notice.change;
}

std::optional<ChangeNotice> DecodeChange(std::string_view line) {
    const auto first = line.find('\t');
    const auto second = first == std::string_view::npos ? first : line.find('\t', first + 1);
    if (second == std::string_view::npos) {
        return std::nullopt;
    }
    const std::string_view replica = line.substr(0, first);
    const std::string_view id = line.substr(first + 1, second - first - 1);
    const std::string_view change = line.substr(second + 1);
    const bool replica_ok = !replica.empty() && replica.size() <= 64 &&
                            std::all_of(replica.begin(), replica.end(), [](char c) {
                                return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
                                       c == '-' || c == '_' || c == '.' || c == ':';
                            });
    const bool change_ok = !change.empty() && change.size() <= 32 &&
                           std::all_of(change.begin(), change.end(), [](char c) {
                               return (c >= 'a' && c <= 'z') || c == '_';
                           });
    if (!replica_ok || !change_ok) {
        return std::nullopt;
    }
    ChangeNotice notice{std::string(replica), std::nullopt, std::string(change)};
    if (id != "-") {
        std::int64_t value = 0;
        const auto [end, error] = std::from_chars(id.data(), id.data() + id.size(), value);
        if (id.empty() || id[0] == '0' || error != std::errc() || end != id.data() + id.size() ||
            value <= 0) {
            return std::nullopt;
        }
        notice.conversation = value;
    }
    return notice;
}

ClusterChannel::ClusterChannel(std::string target, std::string channel)
    : impl_(std::make_unique<Impl>()) {
    impl_->target = std::move(target);
    impl_->channel = std::move(channel);
}

ClusterChannel::~ClusterChannel() = default;

void ClusterChannel::Send(std::string message) {
    const std::lock_guard lock(impl_->mutex);
    if (impl_->queue.size() < kMaxQueued) {
        impl_->queue.push_back(std::move(message));
    }
}

void ClusterChannel::Stop() {
    impl_->stopping = true;
}

void ClusterChannel::Run(const OnMessage& on_message,
                         const OnState& on_state,
                         std::chrono::milliseconds beat) {
    Impl& impl = *impl_;
    Conn conn;
    auto next_try = std::chrono::steady_clock::now();
    while (!impl.stopping) {
        if (!conn) {
            if (std::chrono::steady_clock::now() < next_try) {
                std::this_thread::sleep_for(beat);
                continue;
            }
            conn = impl.Connect(on_state);
            next_try = std::chrono::steady_clock::now() + std::chrono::seconds(1);
            if (!conn) {
                continue;
            }
        }
        // Wait for something to hear, at most one beat.
        pollfd fd{PQsocket(conn.get()), POLLIN, 0};
        ::poll(&fd, 1, static_cast<int>(beat.count()));
        bool ok = Impl::Hear(conn.get(), on_message);
        if (ok) {
            ok = impl.SendAll(conn.get(), impl.TakeBatches());
        }
        if (ok) {
            ok = Impl::Hear(conn.get(), on_message);  // what arrived with our own answers
        }
        if (!ok || PQstatus(conn.get()) != CONNECTION_OK) {
            on_state(false, OneLine(PQerrorMessage(conn.get())));
            conn.reset();
        }
    }
}

}  // namespace cobrador::store
