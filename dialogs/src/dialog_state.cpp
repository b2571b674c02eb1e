// The dialog state between messages: the stages' names, what stays when a collector hands a
// conversation back (HandBack), and the JSON kept in conversations.dialog_state.

#include <algorithm>
#include <array>
#include <set>

#include <nlohmann/json.hpp>

#include "dialogs/calendar.hpp"
#include "dialogs/dialog.hpp"

namespace cobrador::dialogs {

std::string_view ToString(Stage stage) {
    static constexpr std::array<std::string_view, 9> kNames = {"new",
                                                               "verifying",
                                                               "locked",
                                                               "ready",
                                                               "promise",
                                                               "confirm_promise",
                                                               "negotiating",
                                                               "confirm_plan",
                                                               "ended"};
    return kNames.at(static_cast<std::size_t>(stage));
}

DialogState HandBack(DialogState state) {
    switch (state.stage) {
        case Stage::kPromise:
        case Stage::kConfirmPromise:
        case Stage::kNegotiating:
        case Stage::kConfirmPlan:
            state.stage = Stage::kReady;
            break;
        default:
            break;
    }
    state.misunderstood = 0;
    state.options.clear();
    state.account_id = 0;
    state.amount_cents.reset();
    state.date.reset();
    state.plan.reset();
    state.settlement.reset();
    return state;
}

// --- the state as JSON ---

namespace {

std::optional<Instant> InstantFromJson(const nlohmann::json& j, const char* key) {
    if (!j.contains(key) || !j[key].is_number_integer()) {
        return std::nullopt;
    }
    return Instant{std::chrono::seconds{j[key].get<std::int64_t>()}};
}

nlohmann::json PlanToJson(const PendingPlan& p) {
    return {{"kind", p.kind},
            {"total", p.total_cents},
            {"discount", p.discount_cents},
            {"down", p.down_cents},
            {"installments", p.installments},
            {"installment", p.installment_cents}};
}

std::optional<PendingPlan> PlanFromJson(const nlohmann::json& j, const char* key) {
    if (!j.contains(key) || !j[key].is_object()) {
        return std::nullopt;
    }
    const auto& p = j[key];
    PendingPlan plan;
    plan.kind = p.value("kind", "");
    plan.total_cents = p.value("total", std::int64_t{0});
    plan.discount_cents = p.value("discount", std::int64_t{0});
    plan.down_cents = p.value("down", std::int64_t{0});
    plan.installments = p.value("installments", 0);
    plan.installment_cents = p.value("installment", std::int64_t{0});
    if (plan.kind != "settlement" && plan.kind != "installments") {
        return std::nullopt;
    }
    return plan;
}

}  // namespace

std::string ToJson(const DialogState& s) {
    nlohmann::json j = {{"stage", ToString(s.stage)},
                        {"failed_verifications", s.failed_verifications},
                        {"misunderstood", s.misunderstood},
                        {"options", s.options},
                        {"account_id", s.account_id}};
    auto put_instant = [&](const char* key, const std::optional<Instant>& value) {
        if (value) {
            j[key] = value->time_since_epoch().count();
        }
    };
    put_instant("verified_until", s.verified_until);
    put_instant("locked_until", s.locked_until);
    put_instant("last_activity", s.last_activity);
    if (s.amount_cents) {
        j["amount"] = *s.amount_cents;
    }
    if (s.date) {
        j["date"] = FormatIsoDate(*s.date);
    }
    if (s.plan) {
        j["plan"] = PlanToJson(*s.plan);
    }
    if (s.settlement) {
        j["settlement"] = PlanToJson(*s.settlement);
    }
    if (!s.asked.empty()) {
        j["asked"] = s.asked;
    }
    if (!s.asked_text.empty()) {
        j["asked_text"] = s.asked_text;
    }
    if (s.told_unknown) {
        j["told_unknown"] = true;
    }
    if (s.voice_notes > 0) {
        j["voice_notes"] = s.voice_notes;
    }
    return j.dump();
}

DialogState DialogStateFromJson(std::string_view json) {
    DialogState s;
    const auto j = nlohmann::json::parse(json, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return s;
    }
    try {
        const std::string stage = j.value("stage", "new");
        for (int i = 0; i <= static_cast<int>(Stage::kEnded); ++i) {
            if (ToString(static_cast<Stage>(i)) == stage) {
                s.stage = static_cast<Stage>(i);
            }
        }
        s.failed_verifications = j.value("failed_verifications", 0);
        s.misunderstood = j.value("misunderstood", 0);
        s.options = j.value("options", std::vector<std::string>{});
        s.account_id = j.value("account_id", std::int64_t{0});
        s.told_unknown = j.value("told_unknown", false);
        s.voice_notes = std::max(0, j.value("voice_notes", 0));
        static const std::set<std::string, std::less<>> kAsked = {
            "balance",
            "reference",
            "receipt",
            "dispute:not_mine",
            "dispute:identity_theft",
            "dispute:wrong_amount",
            "dispute:already_paid",
            "dispute:treatment",
            "dispute:other",
            "privacy:access",
            "privacy:rectification",
            "privacy:cancellation",
            "privacy:opposition",
        };
        if (const std::string asked = j.value("asked", ""); kAsked.count(asked) > 0) {
            s.asked = asked;
            s.asked_text = j.value("asked_text", "").substr(0, 4096);
        }
        s.verified_until = InstantFromJson(j, "verified_until");
        s.locked_until = InstantFromJson(j, "locked_until");
        s.last_activity = InstantFromJson(j, "last_activity");
        if (j.contains("amount") && j["amount"].is_number_integer()) {
            s.amount_cents = j["amount"].get<std::int64_t>();
        }
        if (j.contains("date") && j["date"].is_string()) {
            s.date = ParseIsoDate(j["date"].get<std::string>());
        }
        s.plan = PlanFromJson(j, "plan");
        s.settlement = PlanFromJson(j, "settlement");
    } catch (const nlohmann::json::exception&) {
        return DialogState{};  // a state we cannot read starts over
    }
    return s;
}

}  // namespace cobrador::dialogs
