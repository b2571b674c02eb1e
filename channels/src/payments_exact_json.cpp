#include <vector>

#include "dialogs/json_text.hpp"

#include "payments_common.hpp"

namespace cobrador::channels::provider {

namespace {

using json = nlohmann::json;

constexpr std::size_t kMaxDepth = 64;

// Builds the document as nlohmann's own DOM parser does, but keeps fractions as text.
class ExactSax : public nlohmann::json_sax<json> {
public:
    explicit ExactSax(json& root) : root_(root) {}

    bool null() override { return Put(json(nullptr)); }

    bool boolean(bool value) override { return Put(json(value)); }

    bool number_integer(number_integer_t value) override { return Put(json(value)); }

    bool number_unsigned(number_unsigned_t value) override { return Put(json(value)); }

    bool number_float(number_float_t, const string_t& text) override { return Put(json(text)); }

    bool string(string_t& value) override { return Put(json(std::move(value))); }

    bool binary(binary_t&) override { return false; }

    bool start_object(std::size_t) override { return Open(json::object()); }

    bool key(string_t& value) override {
        key_ = std::move(value);
        return true;
    }

    bool end_object() override { return Close(); }

    bool start_array(std::size_t) override { return Open(json::array()); }

    bool end_array() override { return Close(); }

    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
        return false;
    }

private:
    json* Place(json value) {
        if (stack_.empty()) {
            root_ = std::move(value);
            return &root_;
        }
        json& parent = *stack_.back();
        if (parent.is_array()) {
            parent.push_back(std::move(value));
            return &parent.back();
        }
        json& slot = parent[key_];
        slot = std::move(value);
        return &slot;
    }

    bool Put(json value) {
        Place(std::move(value));
        return true;
    }

    bool Open(json value) {
        if (stack_.size() >= kMaxDepth) {
            return false;
        }
        stack_.push_back(Place(std::move(value)));
        return true;
    }

    bool Close() {
        stack_.pop_back();
        return true;
    }

    json& root_;
    std::vector<json*> stack_;
    std::string key_;
};

}  // namespace

nlohmann::json ParseExact(std::string_view text) {
    json root;
    ExactSax sax(root);
    if (dialogs::HasNul(text) || !json::sax_parse(text, &sax)) {
        return json(json::value_t::discarded);
    }
    return root;
}

}  // namespace cobrador::channels::provider
