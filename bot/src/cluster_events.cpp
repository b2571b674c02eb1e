#include "cluster_events.hpp"

#include <string>

#include "bot/log.hpp"

namespace cobrador::bot {

namespace {

constexpr const char* kChannel = "cobrador_events";

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
        channel_.Send(store::EncodeChange({config_.replica_id, conversation, std::string(change)}));
        metrics_.Count("cobrador_cluster_events_total", "direction=\"sent\"");
    });
    thread_ = std::thread([this] {
        channel_.Run(
            [this](std::string_view line) {
                const auto heard = store::DecodeChange(line);
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
