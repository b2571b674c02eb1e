#pragma once
// Counters and histograms for /metrics, in Prometheus' text format. Thread-safe.

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace cobrador::bot {

class Metrics {
public:
    // Adds `by` to the counter `name` with `labels` ("route=\"/healthz\",status=\"200\"").
    void Count(const std::string& name, const std::string& labels, std::uint64_t by = 1);

    // Records one observation (seconds) in the histogram `name` with `labels`.
    void Observe(const std::string& name, const std::string& labels, double seconds);

    // Sets the gauge `name` with `labels`.
    void Set(const std::string& name, const std::string& labels, double value);

    // Everything, with HELP and TYPE lines for the names `Describe` was told about.
    std::string Text() const;

    void Describe(const std::string& name, const std::string& type, const std::string& help);

    // The value of a counter (0 when never counted), for tests and logs.
    std::uint64_t CounterValue(const std::string& name, const std::string& labels) const;

private:
    static constexpr std::array<double, 10> kBuckets = {
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10};

    struct Histogram {
        std::array<std::uint64_t, kBuckets.size()> counts{};
        std::uint64_t total = 0;
        double sum = 0;
    };

    mutable std::mutex mutex_;
    std::map<std::string, std::pair<std::string, std::string>> help_;  // name -> (type, help)
    std::map<std::string, std::map<std::string, std::uint64_t>> counters_;
    std::map<std::string, std::map<std::string, double>> gauges_;
    std::map<std::string, std::map<std::string, Histogram>> histograms_;
};

}  // namespace cobrador::bot
