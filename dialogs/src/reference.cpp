#include "dialogs/reference.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

namespace cobrador::dialogs {

namespace {

bool AllDigits(std::string_view text) {
    if (text.empty()) {
        return false;
    }
    for (const char c : text) {
        if (c < '0' || c > '9') {
            return false;
        }
    }
    return true;
}

}  // namespace

std::optional<int> LuhnCheckDigit(std::string_view digits) {
    if (!AllDigits(digits)) {
        return std::nullopt;
    }
    // From the rightmost payload digit leftwards, double every other one, starting with it.
    int sum = 0;
    bool doubled = true;
    for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
        int d = *it - '0';
        if (doubled) {
            d *= 2;
            if (d > 9) {
                d -= 9;
            }
        }
        sum += d;
        doubled = !doubled;
    }
    return (10 - sum % 10) % 10;
}

std::optional<int> DammCheckDigit(std::string_view digits) {
    if (!AllDigits(digits)) {
        return std::nullopt;
    }
    // Damm's totally anti-symmetric quasigroup of order 10 (H. M. Damm, 2004), with zeros on
    // its diagonal: the check digit is the interim digit after the whole payload, so that the
    // reference with it ends at interim 0.
    static constexpr std::array<std::array<int, 10>, 10> kTable = {{
        {0, 3, 1, 7, 5, 9, 8, 6, 4, 2},
        {7, 0, 9, 2, 1, 5, 4, 8, 6, 3},
        {4, 2, 0, 6, 8, 7, 1, 3, 5, 9},
        {1, 7, 5, 0, 9, 8, 3, 4, 2, 6},
        {6, 1, 2, 3, 0, 4, 5, 9, 7, 8},
        {3, 6, 7, 4, 2, 0, 9, 5, 8, 1},
        {5, 8, 6, 9, 7, 2, 0, 1, 3, 4},
        {8, 9, 4, 5, 3, 6, 2, 0, 1, 7},
        {9, 4, 3, 8, 6, 1, 7, 2, 0, 5},
        {2, 5, 8, 1, 4, 3, 6, 7, 9, 0},
    }};
    int interim = 0;
    for (const char c : digits) {
        interim = kTable[static_cast<std::size_t>(interim)][static_cast<std::size_t>(c - '0')];
    }
    return interim;
}

namespace {

using CheckDigitFn = std::optional<int> (*)(std::string_view);

// The account id zero-padded to six digits, then `check`'s digit of those.
std::optional<std::string> ReferenceWith(std::int64_t account_id, CheckDigitFn check) {
    if (account_id < 1) {
        return std::nullopt;
    }
    std::string payload = std::to_string(account_id);
    if (payload.size() < 6) {
        payload.insert(0, 6 - payload.size(), '0');
    }
    return payload + static_cast<char>('0' + *check(payload));
}

// The account a reference names under `check`: the inverse of ReferenceWith.
std::optional<std::int64_t> AccountWith(std::string_view reference, CheckDigitFn check) {
    std::string digits;
    for (const char c : reference) {
        if (c == ' ' || c == '-') {
            continue;
        }
        digits += c;
    }
    if (digits.size() < 7 || digits.size() > 19 || !AllDigits(digits)) {
        return std::nullopt;
    }
    const std::string_view payload(digits.data(), digits.size() - 1);
    if (check(payload) != digits.back() - '0') {
        return std::nullopt;
    }
    std::int64_t id = 0;
    std::from_chars(payload.data(), payload.data() + payload.size(), id);
    // Only the canonical form: "0042177" names account 4217, "00042177" names nothing.
    if (id < 1 || ReferenceWith(id, check) != digits) {
        return std::nullopt;
    }
    return id;
}

}  // namespace

std::optional<std::string> PaymentReference(std::int64_t account_id) {
    return ReferenceWith(account_id, DammCheckDigit);
}

std::optional<std::string> LegacyPaymentReference(std::int64_t account_id) {
    return ReferenceWith(account_id, LuhnCheckDigit);
}

std::optional<std::int64_t> AccountFromReference(std::string_view reference) {
    return AccountWith(reference, DammCheckDigit);
}

std::optional<std::int64_t> AccountFromLegacyReference(std::string_view reference) {
    return AccountWith(reference, LuhnCheckDigit);
}

std::optional<std::int64_t> AccountFromAnyReference(std::string_view reference) {
    if (auto id = AccountFromReference(reference)) {
        return id;
    }
    return AccountFromLegacyReference(reference);
}

std::optional<int> ClabeCheckDigit(std::string_view first_17_digits) {
    if (first_17_digits.size() != 17 || !AllDigits(first_17_digits)) {
        return std::nullopt;
    }
    static constexpr int kWeights[3] = {3, 7, 1};
    int sum = 0;
    for (std::size_t i = 0; i < 17; ++i) {
        sum += ((first_17_digits[i] - '0') * kWeights[i % 3]) % 10;
    }
    return (10 - sum % 10) % 10;
}

bool IsValidClabe(std::string_view clabe) {
    if (clabe.size() != 18 || !AllDigits(clabe)) {
        return false;
    }
    return ClabeCheckDigit(clabe.substr(0, 17)) == clabe[17] - '0';
}

std::optional<std::string> AccountClabe(std::string_view prefix, std::int64_t account_id) {
    if (prefix.size() < 3 || prefix.size() > 16 || !AllDigits(prefix) || account_id < 1) {
        return std::nullopt;
    }
    std::string id = std::to_string(account_id);
    const std::size_t room = 17 - prefix.size();
    if (id.size() > room) {
        return std::nullopt;
    }
    std::string clabe = std::string(prefix) + std::string(room - id.size(), '0') + id;
    clabe += static_cast<char>('0' + *ClabeCheckDigit(clabe));
    return clabe;
}

std::optional<std::int64_t> AccountFromClabe(std::string_view prefix, std::string_view clabe) {
    if (prefix.size() < 3 || prefix.size() > 16 || !IsValidClabe(clabe) ||
        clabe.substr(0, prefix.size()) != prefix) {
        return std::nullopt;
    }
    std::int64_t id = 0;
    for (const char c : clabe.substr(prefix.size(), 17 - prefix.size())) {
        id = id * 10 + (c - '0');
    }
    return id > 0 ? std::optional(id) : std::nullopt;
}

std::string SpeiConcept(std::string_view reference) {
    return "PAGO REF " + std::string(reference.substr(0, 31));
}

std::string PaymentLink(std::string_view url_template,
                        std::string_view reference,
                        std::string_view amount) {
    std::string out;
    std::size_t i = 0;
    while (i < url_template.size()) {
        if (url_template.substr(i, 11) == "{reference}") {
            out += reference;
            i += 11;
        } else if (url_template.substr(i, 8) == "{amount}") {
            out += amount;
            i += 8;
        } else {
            out += url_template[i++];
        }
    }
    return out;
}

std::optional<std::string> ParticipantOfBankCode(std::string_view abm_code) {
    if (abm_code.size() != 3 || !AllDigits(abm_code)) {
        return std::nullopt;
    }
    // Banca de desarrollo: Bancomext, Banobras, Banjército, Nafin, Banco del Bienestar and
    // Hipotecaria Federal.
    static constexpr std::array<std::string_view, 6> kDevelopment = {
        "006", "009", "019", "135", "166", "168"};
    if (std::find(kDevelopment.begin(), kDevelopment.end(), abm_code) != kDevelopment.end()) {
        return "37" + std::string(abm_code);
    }
    return (abm_code[0] >= '6' ? "90" : "40") + std::string(abm_code);
}

std::string SpeiKey(std::string_view clave, std::string_view date, std::string_view sender) {
    std::string key;
    for (const char c : clave) {
        if (!std::isalnum(static_cast<unsigned char>(c))) {
            return {};
        }
        key += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    std::string day;
    for (const char c : date) {
        if (c >= '0' && c <= '9') {
            day += c;
        }
    }
    const bool date_ok = (date.size() == 8 && AllDigits(date)) ||
                         (date.size() == 10 && date[4] == '-' && date[7] == '-' && day.size() == 8);
    std::optional<std::string> participant;
    if (sender.size() == 5 && AllDigits(sender)) {
        participant = std::string(sender);
    } else {
        participant = ParticipantOfBankCode(sender);
    }
    if (key.empty() || key.size() > 30 || !date_ok || !participant) {
        return {};
    }
    return key + ":" + day + ":" + *participant;
}

}  // namespace cobrador::dialogs
