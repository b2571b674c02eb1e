// Reading a SPEI receipt's text (dialogs/receipt.hpp).

#include "dialogs/receipt.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include <re2/re2.h>

#include "dialogs/money.hpp"

namespace cobrador::dialogs {

namespace {

constexpr std::size_t kMaxText = 64 * 1024;  // a receipt is a page, not a book
constexpr std::size_t kMaxLines = 400;

// A line folded for matching labels: ASCII lower case, Spanish accents dropped, each byte of
// `folded` knowing where it came from in the original line (a two-byte letter folds to one).
struct Line {
    std::string original;
    std::string folded;
    std::vector<std::size_t> origin;  // folded[i] came from original[origin[i]]
};

Line Fold(std::string_view text) {
    Line line;
    line.original = std::string(text);
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        char out = static_cast<char>(std::tolower(c));
        std::size_t width = 1;
        if (c == 0xC3 && i + 1 < text.size()) {
            // Latin-1 supplement: the accented vowels and ñ of Spanish.
            const auto next = static_cast<unsigned char>(text[i + 1]) | 0x20;  // lower case
            static constexpr std::array<std::pair<unsigned char, char>, 6> kFold = {
                {{0xA1, 'a'}, {0xA9, 'e'}, {0xAD, 'i'}, {0xB3, 'o'}, {0xBA, 'u'}, {0xBC, 'u'}}};
            out = '?';
            for (const auto& [byte, ascii] : kFold) {
                if (next == byte) {
                    out = ascii;
                }
            }
            if (next == 0xB1) {
                out = 'n';
            }
            width = 2;
        } else if (c >= 0x80) {
            out = '?';
        }
        line.folded.push_back(out);
        line.origin.push_back(i);
        i += width - 1;
    }
    line.origin.push_back(text.size());
    return line;
}

std::string Trim(std::string_view text) {
    const auto not_space = [](unsigned char c) {
        return !std::isspace(c) && c != ':';
    };
    const auto first = std::find_if(text.begin(), text.end(), not_space);
    const auto last = std::find_if(text.rbegin(), text.rend(), not_space).base();
    return first < last ? std::string(first, last) : std::string();
}

// What follows `label` on the line where it is found (after ':' and spaces), or the next line
// that has anything, for receipts laid out as a label above its value. Empty when no line has
// the label. `stop` ends the value at another label on the same line ("Fecha: ... Hora: ...").
std::string ValueAfter(const std::vector<Line>& lines, const RE2& label) {
    for (std::size_t i = 0; i < lines.size(); ++i) {
        re2::StringPiece found;
        if (!RE2::PartialMatch(lines[i].folded, label, &found)) {
            continue;
        }
        const auto end =
            static_cast<std::size_t>(found.data() + found.size() - lines[i].folded.data());
        std::string value = Trim(std::string_view(lines[i].original).substr(lines[i].origin[end]));
        for (std::size_t j = i + 1; value.empty() && j < lines.size() && j <= i + 2; ++j) {
            value = Trim(lines[j].original);
        }
        if (!value.empty()) {
            return value;
        }
    }
    return {};
}

std::string Upper(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) {
        return static_cast<char>(std::toupper(c));
    });
    return text;
}

// Labels, matched on folded lines. The label is the first group.
const RE2& ClaveLabel() {
    static const RE2 re(
        "((?:clave|cve\\.?|numero|num\\.?|no\\.?|folio)\\s*(?:de\\s*)?rastreo|^\\s*rastreo|"
        "tracking\\s*(?:key|number)?)\\s*[:#.]?");
    return re;
}

const RE2& AmountLabel() {
    static const RE2 re(
        "((?:importe|monto|cantidad)(?:\\s+(?:transferido|de\\s+la\\s+operacion|enviado|total))?"
        "|total(?:\\s+(?:transferido|enviado))?|amount)\\s*[:.]?");
    return re;
}

const RE2& DateLabel() {
    static const RE2 re(
        "(fecha\\s*(?:y\\s*hora\\s*)?(?:de\\s*)?(?:la\\s*)?(?:operacion|aplicacion|envio|"
        "transferencia|movimiento|abono)?|date)\\s*[:.]?");
    return re;
}

const RE2& SendingBankLabel() {
    static const RE2 re(
        "((?:banco|institucion|entidad)\\s*(?:emisor[a]?|de\\s*origen|origen|ordenante)|"
        "from\\s*bank)\\s*[:.]?");
    return re;
}

const RE2& AccountLabel() {
    static const RE2 re(
        "((?:cuenta|clabe)\\s*(?:clabe\\s*)?(?:de\\s*)?(?:destino|beneficiari[oa]|del\\s*"
        "beneficiario|receptora|abono)|clabe\\s*interbancaria|a\\s*la\\s*cuenta|to\\s*account)"
        "\\s*[:.]?");
    return re;
}

const RE2& ReferenceLabel() {
    static const RE2 re("(referencia(?:\\s*numerica)?|ref\\.?\\s*numerica|reference)\\s*[:.#]?");
    return re;
}

const RE2& ConceptLabel() {
    static const RE2 re("(concepto(?:\\s*de\\s*pago)?|motivo(?:\\s*de\\s*pago)?|concept)\\s*[:.]?");
    return re;
}

const RE2& BeneficiaryLabel() {
    static const RE2 re(
        "((?:nombre\\s*del\\s*)?beneficiario|titular\\s*de\\s*la\\s*cuenta\\s*destino|"
        "beneficiary)\\s*[:.]?");
    return re;
}

// "$1,500.00", "1 500.00 MXN", "MXN 1500.5": two decimals at most, and a decimal point or a
// currency mark, so that a reference or a date is never read as money.
std::optional<std::int64_t> AmountIn(std::string_view text) {
    static const RE2 money(
        "(?:\\$|mxn|mn)?\\s*([0-9]{1,3}(?:[, ][0-9]{3})+|[0-9]+)(?:\\.([0-9]{1,2}))?");
    static const RE2 marked("\\$|mxn|m\\.n\\.|pesos|\\.[0-9]{2}\\b");
    std::string lower(text);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) {
        return static_cast<char>(std::tolower(c));
    });
    if (!RE2::PartialMatch(lower, marked)) {
        return std::nullopt;
    }
    std::string whole;
    std::string cents;
    if (!RE2::PartialMatch(lower, money, &whole, &cents)) {
        return std::nullopt;
    }
    whole.erase(
        std::remove_if(whole.begin(), whole.end(), [](char c) { return c == ',' || c == ' '; }),
        whole.end());
    if (whole.size() > 12) {
        return std::nullopt;
    }
    return ParseDecimalCents(cents.empty() ? whole : whole + "." + cents);
}

// dd/mm/yyyy, dd-mm-yyyy, yyyy-mm-dd, "23 nov 2026", "23/Nov/2026", "23 de noviembre de 2026".
std::optional<Date> DateIn(std::string_view text) {
    std::string lower(text);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) {
        return static_cast<char>(std::tolower(c));
    });
    const auto make = [](int y, int m, int d) -> std::optional<Date> {
        if (y < 100) {
            y += 2000;
        }
        const Date date{std::chrono::year(y),
                        std::chrono::month(static_cast<unsigned>(m)),
                        std::chrono::day(static_cast<unsigned>(d))};
        if (!date.ok() || y < 2000 || y > 2100) {
            return std::nullopt;
        }
        return date;
    };
    int y = 0;
    int m = 0;
    int d = 0;
    static const RE2 iso("\\b(20[0-9]{2})[-/](1[0-2]|0?[1-9])[-/](3[01]|[12][0-9]|0?[1-9])\\b");
    if (RE2::PartialMatch(lower, iso, &y, &m, &d)) {
        return make(y, m, d);
    }
    static const RE2 dmy(
        "\\b(3[01]|[12][0-9]|0?[1-9])[-/.](1[0-2]|0?[1-9])[-/.]((?:20)?[0-9]{2})\\b");
    if (RE2::PartialMatch(lower, dmy, &d, &m, &y)) {
        return make(y, m, d);
    }
    static const RE2 words(
        "\\b(3[01]|[12][0-9]|0?[1-9])(?:\\s*de)?[\\s/.-]*([a-z]{3,10})\\.?(?:\\s*del?)?"
        "[\\s/.-]*((?:20)?[0-9]{2})\\b");
    std::string month;
    if (RE2::PartialMatch(lower, words, &d, &month, &y)) {
        static constexpr std::array<const char*, 12> kMonths = {
            "ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"};
        static constexpr std::array<const char*, 12> kEnglish = {
            "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
        for (int i = 0; i < 12; ++i) {
            const auto index = static_cast<std::size_t>(i);
            if (month.rfind(kMonths[index], 0) == 0 || month.rfind(kEnglish[index], 0) == 0 ||
                (i == 8 && month.rfind("set", 0) == 0)) {
                return make(y, i + 1, d);
            }
        }
    }
    return std::nullopt;
}

// The first run of 6 to 30 letters and digits (OCR may split it with a space or two: joined
// while the pieces are short).
std::string ClaveIn(std::string_view text) {
    std::string out;
    std::string piece;
    const auto flush = [&] {
        out += piece;
        piece.clear();
    };
    for (const char c : text) {
        if (std::isalnum(static_cast<unsigned char>(c)) != 0) {
            piece.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
        } else if (c == ' ' && !piece.empty() && out.size() + piece.size() < 30) {
            flush();
        } else if (!piece.empty() || !out.empty()) {
            break;
        }
    }
    flush();
    if (out.size() < 6 || out.size() > 30) {
        return {};
    }
    return out;
}

// Digits and asterisks (masked digits), spaces and dashes dropped: "6461 8011 0400 0000 07",
// "****0007", "xxxx 0007".
std::string AccountIn(std::string_view text) {
    std::string out;
    for (const char c : text) {
        if (std::isdigit(static_cast<unsigned char>(c)) != 0) {
            out.push_back(c);
        } else if (c == '*' || c == 'x' || c == 'X' || c == '#') {
            out.push_back('*');
        } else if (c != ' ' && c != '-' && c != '.') {
            if (!out.empty()) {
                break;
            }
        }
    }
    const bool has_digit = std::any_of(out.begin(), out.end(), [](char c) { return c != '*'; });
    if (!has_digit || out.size() < 4 || out.size() > 20) {
        return {};
    }
    return out;
}

std::string DigitsIn(std::string_view text) {
    std::string out;
    for (const char c : text) {
        if (std::isdigit(static_cast<unsigned char>(c)) != 0) {
            out.push_back(c);
        } else if (!out.empty() && c != ' ') {
            break;
        }
    }
    return out.size() <= 20 ? out : std::string();
}

std::string Clip(std::string text, std::size_t limit) {
    if (text.size() <= limit) {
        return text;
    }
    std::size_t cut = limit;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) {
        --cut;  // never half a character
    }
    return text.substr(0, cut);
}

}  // namespace

bool ReceiptFields::Empty() const {
    return clave_rastreo.empty() && !amount_cents && !date && sending_bank.empty() &&
           beneficiary_account.empty() && reference.empty() && payment_concept.empty() &&
           beneficiary_name.empty();
}

ReceiptFields ReadReceipt(std::string_view text) {
    text = text.substr(0, kMaxText);
    std::vector<Line> lines;
    std::size_t start = 0;
    while (start <= text.size() && lines.size() < kMaxLines) {
        const std::size_t end = std::min(text.find('\n', start), text.size());
        std::string_view raw = text.substr(start, end - start);
        if (!raw.empty() && raw.back() == '\r') {
            raw.remove_suffix(1);
        }
        if (!Trim(raw).empty()) {
            lines.push_back(Fold(raw));
        }
        start = end + 1;
    }

    ReceiptFields out;
    out.clave_rastreo = ClaveIn(ValueAfter(lines, ClaveLabel()));
    out.amount_cents = AmountIn(ValueAfter(lines, AmountLabel()));
    out.date = DateIn(ValueAfter(lines, DateLabel()));
    out.sending_bank = Upper(Clip(ValueAfter(lines, SendingBankLabel()), 40));
    out.beneficiary_account = AccountIn(ValueAfter(lines, AccountLabel()));
    out.reference = DigitsIn(ValueAfter(lines, ReferenceLabel()));
    out.payment_concept = Clip(ValueAfter(lines, ConceptLabel()), 80);
    out.beneficiary_name = Clip(ValueAfter(lines, BeneficiaryLabel()), 80);
    return out;
}

std::vector<std::string> ClaveReadings(std::string_view clave, std::size_t limit) {
    std::vector<std::string> out;
    if (clave.size() < 6 || clave.size() > 30 || limit == 0 ||
        !std::all_of(clave.begin(), clave.end(), [](unsigned char c) {
            return std::isdigit(c) != 0 || (c >= 'A' && c <= 'Z');
        })) {
        return out;
    }
    const auto other = [](char c) -> char {
        switch (c) {
            case 'O':
                return '0';
            case '0':
                return 'O';
            case 'I':
                return '1';
            case '1':
                return 'I';
            case 'S':
                return '5';
            case '5':
                return 'S';
            case 'B':
                return '8';
            case '8':
                return 'B';
            default:
                return '\0';
        }
    };
    std::vector<std::size_t> doubtful;
    for (std::size_t i = 0; i < clave.size(); ++i) {
        if (other(clave[i]) != '\0') {
            doubtful.push_back(i);
        }
    }
    out.emplace_back(clave);
    // Breadth first: every reading with one change, then with two, ... (bounded by `limit`).
    std::vector<std::vector<std::size_t>> level = {{}};
    while (out.size() < limit && !level.empty()) {
        std::vector<std::vector<std::size_t>> next;
        for (const auto& changed : level) {
            const std::size_t from = changed.empty() ? 0 : changed.back() + 1;
            for (std::size_t k = from; k < doubtful.size() && out.size() < limit; ++k) {
                std::vector<std::size_t> more = changed;
                more.push_back(k);
                std::string reading(clave);
                for (const std::size_t index : more) {
                    reading[doubtful[index]] = other(reading[doubtful[index]]);
                }
                out.push_back(std::move(reading));
                next.push_back(std::move(more));
            }
        }
        level = std::move(next);
    }
    return out;
}

}  // namespace cobrador::dialogs
