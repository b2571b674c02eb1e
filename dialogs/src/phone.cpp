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

std::string RedactPhonesIn(std::string_view text) {
    const auto digit = [](char c) {
        return c >= '0' && c <= '9';
    };
    const auto word = [&](char c) {
        return digit(c) || c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    };
    std::string out;
    std::size_t i = 0;
    while (i < text.size()) {
        const bool starts = i == 0 || !word(text[i - 1]);
        if (starts && text[i] == '+' && i + 1 < text.size() && digit(text[i + 1])) {
            // "+52 1 55 1234 5678": digits with single separators between them.
            std::string digits;
            std::size_t end = i + 1;
            while (end < text.size()) {
                if (digit(text[end])) {
                    digits += text[end++];
                } else if ((text[end] == ' ' || text[end] == '-' || text[end] == '.') &&
                           end + 1 < text.size() && digit(text[end + 1])) {
                    ++end;
                } else {
                    break;
                }
            }
            if (digits.size() >= 8 && digits.size() <= 15 &&
                (end == text.size() || !word(text[end]))) {
                out += RedactPhone("+" + digits);
                i = end;
                continue;
            }
        }
        if (starts && digit(text[i])) {
            std::size_t end = i;
            while (end < text.size() && digit(text[end])) {
                ++end;
            }
            const std::string_view run = text.substr(i, end - i);
            const bool whole = end == text.size() || !word(text[end]);
            if (whole && (((run.size() == 12 || run.size() == 13) && run.substr(0, 2) == "52") ||
                          (run.size() == 11 && run[0] == '1'))) {
                out += RedactPhone("+" + std::string(run));
                i = end;
                continue;
            }
            out += run;
            i = end;
            continue;
        }
        out += text[i++];
    }
    return out;
}

}  // namespace cobrador::dialogs
