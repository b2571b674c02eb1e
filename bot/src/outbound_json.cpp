#include "outbound_json.hpp"

#include <nlohmann/json.hpp>

namespace cobrador::bot {

std::string OutboundToJson(const channels::OutboundMessage& message) {
    nlohmann::json j = {{"text", message.text}};
    for (const auto& b : message.buttons) {
        j["buttons"].push_back({{"id", b.id}, {"title", b.title}});
    }
    for (const auto& r : message.list) {
        j["list"].push_back({{"id", r.id}, {"title", r.title}, {"description", r.description}});
    }
    if (!message.list_button.empty()) {
        j["list_button"] = message.list_button;
    }
    if (message.template_call) {
        j["template"] = {{"name", message.template_call->name},
                         {"language", message.template_call->language},
                         {"parameters", message.template_call->parameters}};
    }
    if (!message.reply_to.empty()) {
        j["reply_to"] = message.reply_to;
    }
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<channels::OutboundMessage> OutboundFromJson(const std::string& json) {
    const auto j = nlohmann::json::parse(json, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("text") || !j["text"].is_string()) {
        return std::nullopt;
    }
    channels::OutboundMessage m;
    m.text = j["text"].get<std::string>();
    const auto text_of = [](const nlohmann::json& o, const char* key) {
        return o.contains(key) && o[key].is_string() ? o[key].get<std::string>() : std::string();
    };
    if (j.contains("buttons") && j["buttons"].is_array()) {
        for (const auto& b : j["buttons"]) {
            m.buttons.push_back({text_of(b, "id"), text_of(b, "title")});
        }
    }
    if (j.contains("list") && j["list"].is_array()) {
        for (const auto& r : j["list"]) {
            m.list.push_back({text_of(r, "id"), text_of(r, "title"), text_of(r, "description")});
        }
    }
    m.list_button = text_of(j, "list_button");
    if (j.contains("template") && j["template"].is_object()) {
        const auto& t = j["template"];
        channels::TemplateCall call{text_of(t, "name"), text_of(t, "language"), {}};
        if (t.contains("parameters") && t["parameters"].is_array()) {
            for (const auto& p : t["parameters"]) {
                if (p.is_string()) {
                    call.parameters.push_back(p.get<std::string>());
                }
            }
        }
        m.template_call = std::move(call);
    }
    m.reply_to = text_of(j, "reply_to");
    return m;
}

}  // namespace cobrador::bot
