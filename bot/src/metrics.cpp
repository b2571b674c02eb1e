#include "metrics.hpp"

#include <sstream>

namespace cobrador::bot {

void Metrics::Describe(const std::string& name, const std::string& type, const std::string& help) {
    const std::lock_guard lock(mutex_);
    help_[name] = {type, help};
}

void Metrics::Count(const std::string& name, const std::string& labels, std::uint64_t by) {
    const std::lock_guard lock(mutex_);
    counters_[name][labels] += by;
}

void Metrics::Set(const std::string& name, const std::string& labels, double value) {
    const std::lock_guard lock(mutex_);
    gauges_[name][labels] = value;
}

void Metrics::Observe(const std::string& name, const std::string& labels, double seconds) {
    const std::lock_guard lock(mutex_);
    Histogram& h = histograms_[name][labels];
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
        if (seconds <= kBuckets[i]) {
            ++h.counts[i];
        }
    }
    ++h.total;
    h.sum += seconds;
}

std::uint64_t Metrics::CounterValue(const std::string& name, const std::string& labels) const {
    const std::lock_guard lock(mutex_);
    const auto it = counters_.find(name);
    if (it == counters_.end()) {
        return 0;
    }
    const auto value = it->second.find(labels);
    return value == it->second.end() ? 0 : value->second;
}

std::string Metrics::Text() const {
    const std::lock_guard lock(mutex_);
    std::ostringstream out;
    const auto header = [&](const std::string& name) {
        if (auto it = help_.find(name); it != help_.end()) {
            out << "# HELP " << name << " " << it->second.second << "\n"
                << "# TYPE " << name << " " << it->second.first << "\n";
        }
    };
    const auto braces = [](const std::string& labels) {
        return labels.empty() ? std::string() : "{" + labels + "}";
    };
    for (const auto& [name, series] : counters_) {
        header(name);
        for (const auto& [labels, value] : series) {
            out << name << braces(labels) << " " << value << "\n";
        }
    }
    for (const auto& [name, series] : gauges_) {
        header(name);
        for (const auto& [labels, value] : series) {
            out << name << braces(labels) << " " << value << "\n";
        }
    }
    for (const auto& [name, series] : histograms_) {
        header(name);
        for (const auto& [labels, h] : series) {
            const std::string prefix = labels.empty() ? "" : labels + ",";
            for (std::size_t i = 0; i < kBuckets.size(); ++i) {
                out << name << "_bucket{" << prefix << "le=\"" << kBuckets[i] << "\"} "
                    << h.counts[i] << "\n";
            }
            out << name << "_bucket{" << prefix << "le=\"+Inf\"} " << h.total << "\n";
            out << name << "_sum" << braces(labels) << " " << h.sum << "\n";
            out << name << "_count" << braces(labels) << " " << h.total << "\n";
        }
    }
    return out.str();
}

}  // namespace cobrador::bot
