#include "dialogs/policy.hpp"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "dialogs/money.hpp"

namespace cobrador::dialogs {

namespace data {
extern const std::string_view kPolicy;
}  // namespace data

namespace {

// A percentage in the file ("15", "12.5") as basis points; nullopt outside 0..100.
std::optional<int> BasisPoints(const nlohmann::json& value) {
    if (!value.is_number()) {
        return std::nullopt;
    }
    const double pct = value.get<double>();
    if (!(pct >= 0 && pct <= 100)) {
        return std::nullopt;
    }
    return static_cast<int>(std::lround(pct * 100));
}

std::optional<int> WholeNumber(const nlohmann::json& value, int low, int high) {
    if (!value.is_number_integer()) {
        return std::nullopt;
    }
    const auto n = value.get<std::int64_t>();
    if (n < low || n > high) {
        return std::nullopt;
    }
    return static_cast<int>(n);
}

}  // namespace

const PolicyBucket& BucketFor(const Policy& policy, int days_past_due) {
    const PolicyBucket* found = &policy.buckets.front();
    for (const PolicyBucket& bucket : policy.buckets) {
        if (bucket.min_days_past_due <= days_past_due) {
            found = &bucket;
        }
    }
    return *found;
}

std::optional<Policy> ParsePolicy(std::string_view json, std::string& error) {
    const auto root = nlohmann::json::parse(json, nullptr, false);
    if (root.is_discarded() || !root.is_object()) {
        error = "the policy is not a JSON object";
        return std::nullopt;
    }
    Policy policy;
    if (root.contains("promise_horizon_days")) {
        const auto days = WholeNumber(root["promise_horizon_days"], 1, 90);
        if (!days) {
            error = "promise_horizon_days must be a whole number from 1 to 90";
            return std::nullopt;
        }
        policy.promise_horizon_days = *days;
    }
    if (!root.contains("buckets") || !root["buckets"].is_array() || root["buckets"].empty()) {
        error = "buckets must be a non-empty array";
        return std::nullopt;
    }
    for (const auto& item : root["buckets"]) {
        const std::string where = "bucket " + std::to_string(policy.buckets.size() + 1) + ": ";
        if (!item.is_object()) {
            error = where + "not an object";
            return std::nullopt;
        }
        PolicyBucket bucket;
        bucket.name = item.value("name", "");
        const auto min_dpd =
            WholeNumber(item.value("min_days_past_due", nlohmann::json()), 0, 100000);
        if (!min_dpd) {
            error = where + "min_days_past_due must be a whole number of days, 0 or more";
            return std::nullopt;
        }
        bucket.min_days_past_due = *min_dpd;
        const auto discount = BasisPoints(item.value("max_discount_pct", nlohmann::json(0)));
        const auto down = BasisPoints(item.value("min_down_payment_pct", nlohmann::json(0)));
        if (!discount || !down) {
            error = where + "max_discount_pct and min_down_payment_pct are percentages, 0 to 100";
            return std::nullopt;
        }
        bucket.max_discount_bp = *discount;
        bucket.min_down_payment_bp = *down;
        const auto installments =
            WholeNumber(item.value("max_installments", nlohmann::json(0)), 0, 120);
        const auto settlement_days =
            WholeNumber(item.value("settlement_days", nlohmann::json(7)), 1, 90);
        if (!installments || !settlement_days) {
            error = where + "max_installments (0-120) and settlement_days (1-90) are whole numbers";
            return std::nullopt;
        }
        bucket.max_installments = *installments;
        bucket.settlement_days = *settlement_days;
        const auto min_installment = item.value("min_installment", nlohmann::json("0"));
        const auto cents = min_installment.is_string()
                               ? ParseDecimalCents(min_installment.get<std::string>())
                               : std::nullopt;
        if (!cents || *cents < 0) {
            error = where + "min_installment is a decimal string like \"200.00\"";
            return std::nullopt;
        }
        bucket.min_installment_cents = *cents;
        const auto approves = item.value("bot_approves", nlohmann::json(true));
        if (!approves.is_boolean()) {
            error = where + "bot_approves is true or false";
            return std::nullopt;
        }
        bucket.bot_approves = approves.get<bool>();
        policy.buckets.push_back(std::move(bucket));
    }
    std::sort(policy.buckets.begin(), policy.buckets.end(), [](const auto& a, const auto& b) {
        return a.min_days_past_due < b.min_days_past_due;
    });
    if (policy.buckets.front().min_days_past_due != 0) {
        error = "one bucket must start at min_days_past_due 0";
        return std::nullopt;
    }
    for (std::size_t i = 1; i < policy.buckets.size(); ++i) {
        if (policy.buckets[i].min_days_past_due == policy.buckets[i - 1].min_days_past_due) {
            error = "two buckets start at the same min_days_past_due";
            return std::nullopt;
        }
    }
    return policy;
}

const Policy& DefaultPolicy() {
    static const Policy kDefault = [] {
        std::string error;
        auto policy = ParsePolicy(data::kPolicy, error);
        if (!policy) {
            std::abort();  // our own embedded file; the policy tests parse it
        }
        return *policy;
    }();
    return kDefault;
}

}  // namespace cobrador::dialogs
