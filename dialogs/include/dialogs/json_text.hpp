#pragma once

// JSON text from outside (webhooks, API bodies): parsed without exceptions, and refused when it
// holds a NUL byte. nlohmann's parser takes a NUL for the end of the input, so `{"a":1}` followed
// by a NUL and anything at all would otherwise be accepted as if the rest were not there. JSON
// has no place for a raw NUL: inside a string it must be written \u0000.

#include <string_view>

#include <nlohmann/json.hpp>

namespace cobrador::dialogs {

inline bool HasNul(std::string_view text) {
    return text.find('\0') != std::string_view::npos;
}

// The parsed value, or a discarded one (is_discarded()) when `text` is not one JSON value.
inline nlohmann::json ParseJsonText(std::string_view text) {
    if (HasNul(text)) {
        return nlohmann::json(nlohmann::json::value_t::discarded);
    }
    return nlohmann::json::parse(text, nullptr, false);
}

}  // namespace cobrador::dialogs
