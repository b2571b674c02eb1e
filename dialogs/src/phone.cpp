#include "dialogs/phone.hpp"

namespace cobrador::dialogs {

std::optional<std::string> NormalizePhone(std::string_view text, PhoneSource source) {
    std::string digits;
    bool plus = false;
    bool any = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '\t') {
            continue;
        }
        if (c == '+') {
            if (any || plus) {
                return std::nullopt;  // a "+" anywhere but first
            }
            plus = true;
            continue;
        }
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        any = true;
        digits += c;
    }
    if (!plus) {
        // "00" is the international prefix in Mexico and most of the world.
        if (digits.size() > 2 && digits.compare(0, 2, "00") == 0) {
            digits.erase(0, 2);
        } else if (source != PhoneSource::kProvider) {
            return std::nullopt;
        }
    }
    if (digits.size() < 8 || digits.size() > 15 || digits.front() == '0') {
        return std::nullopt;
    }
    if (digits.compare(0, 2, "52") == 0) {
        // Mexico: 10 national digits since 2019; WhatsApp still reports mobiles as 52 1 + 10.
        if (digits.size() == 13 && digits[2] == '1') {
            digits.erase(2, 1);
        }
        if (digits.size() != 12) {
            return std::nullopt;
        }
    } else if (digits.front() == '1') {
        // North American Numbering Plan: area code and exchange never start with 0 or 1.
        if (digits.size() != 11 || digits[1] < '2' || digits[4] < '2') {
            return std::nullopt;
        }
    }
    return "+" + digits;
}

std::string RedactPhone(std::string_view e164) {
    if (e164.size() < 6) {
        return "***";
    }
    const std::size_t country = e164.compare(0, 3, "+52") == 0 ? 3 : 2;
    std::string out(e164.substr(0, country));
    out.append(e164.size() - country - 2, '*');
    out.append(e164.substr(e164.size() - 2));
    return out;
}

}  // namespace cobrador::dialogs
