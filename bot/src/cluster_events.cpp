#include "cluster_events.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string>

#include "bot/log.hpp"

namespace cobrador::bot {

namespace {

constexpr const char* kChannel = "cobrador_events";

// One change on the wire: "<replica>\t<conversation or ->\t<change>".
std::string Encode(const std::string& replica,
                   std::optional<std::int64_t> conversation,
                   std::string_view change) {
    return replica + "\t" + (conversation ? std::to_string(*conversation) : std::string("-")) +
           "\t" + std::string(change);
}

struct Heard {
    std::string_view replica;
    std::optional<std::int64_t> conversation;
    std::string_view change;
};

// Anything that is not exactly a change as Encode writes it is ignored: the channel is open to
// anyone who may LISTEN on the database.
std::optional<Heard> Decode(std::string_view line) {
    const auto first = line.find('\t');
    const auto second = first == std::string_view::npos ? first : line.find('\t', first + 1);
    if (second == std::string_view::npos) {
        return std::nullopt;
    }
    Heard heard{line.substr(0, first), std::nullopt, line.substr(second + 1)};
    const std::string_view id = line.substr(first + 1, second - first - 1);
    if (id != "-") {
        std::int64_t value = 0;
        const auto [end, error] = std::from_chars(id.data(), id.data() + id.size(), value);
        if (error != std::errc() || end != id.data() + id.size() || value <= 0) {
            return std::nullopt;
        }
        heard.conversation = value;
    }
    const bool word = !heard.change.empty() && heard.change.size() <= 32 &&
                      std::all_of(heard.change.begin(), heard.change.end(), [](char c) {
                          return std::islower(static_cast<unsigned char>(c)) != 0 || c == '_';
                      });
    if (heard.replica.empty() || !word) {
        return std::nullopt;
    }
    return heard;
}

}  // namespace

ClusterEvents::ClusterEvents(const Config& config, EventHub& hub, Metrics& metrics)
    : config_(config), hub_(hub), metrics_(metrics), channel_(config.db_path, kChannel) {
    metrics_.Describe("cobrador_cluster_events_total",
                      "counter",
                      "Console events sent to and heard from the other replicas.");
    metrics_.Describe("cobrador_cluster_channel_up",
                      "gauge",
                      "Whether this replica is connected to the cluster's event channel (1) or "
                      "reconnecting (0).");
}

ClusterEvents::~ClusterEvents() {
    Stop();
}

void ClusterEvents::Start() {
    hub_.SetForward([this](std::optional<std::int64_t> conversation, std::string_view change) {
        channel_.Send(Encode(config_.replica_id, conversation, change));
        metrics_.Count("cobrador_cluster_events_total", "direction=\"sent\"");
    });
    thread_ = std::thread([this] {
        channel_.Run(
            [this](std::string_view line) {
                const auto heard = Decode(line);
                if (!heard || heard->replica == config_.replica_id) {
                    return;  // ours (already delivered here) or not a change
                }
                hub_.Deliver(heard->conversation, heard->change);
                metrics_.Count("cobrador_cluster_events_total", "direction=\"heard\"");
            },
            [this](bool connected, const std::string& detail) {
                metrics_.Set("cobrador_cluster_channel_up", "", connected ? 1 : 0);
                if (connected) {
                    Log(LogLevel::kInfo, "listening to the other replicas' console events");
                } else {
                    Log(LogLevel::kWarn,
                        "cluster event channel lost; reconnecting",
                        {{"error", detail}});
                }
            });
    });
}

void ClusterEvents::Stop() {
    channel_.Stop();
    if (thread_.joinable()) {
        thread_.join();
    }
}

}  // namespace cobrador::bot
