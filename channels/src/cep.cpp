#include "channels/cep.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "common.hpp"

namespace cobrador::channels {

namespace {

bool AllDigits(std::string_view text) {
    return !text.empty() &&
           std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string Lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

std::string Trimmed(std::string_view base) {
    while (!base.empty() && base.back() == '/') {
        base.remove_suffix(1);
    }
    return std::string(base);
}

// "1500.00" from cents, as the portal's form takes pesos.
std::string Pesos(std::int64_t cents) {
    std::string frac = std::to_string(cents % 100);
    return std::to_string(cents / 100) + "." + (frac.size() == 1 ? "0" + frac : frac);
}

// "000000000000008.17" (or "8.1", "8") as cents; nullopt for anything else.
std::optional<std::int64_t> CepCents(std::string_view text) {
    const auto dot = text.find('.');
    std::string_view whole = text.substr(0, dot);
    std::string_view frac =
        dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
    while (whole.size() > 1 && whole.front() == '0') {
        whole.remove_prefix(1);
    }
    if (!AllDigits(whole) || whole.size() > 13 || frac.size() > 2 ||
        (!frac.empty() && !AllDigits(frac)) || (dot != std::string_view::npos && frac.empty())) {
        return std::nullopt;
    }
    const auto pesos = detail::ParseInt(whole);
    std::int64_t cents = 0;
    for (std::size_t i = 0; i < 2; ++i) {
        cents = cents * 10 + (i < frac.size() ? frac[i] - '0' : 0);
    }
    if (!pesos) {
        return std::nullopt;
    }
    return *pesos * 100 + cents;
}

void AppendUtf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// An attribute value with XML's five entities and character references undone; anything
// else that starts with '&' is kept as written.
std::string Unescape(std::string_view value) {
    static constexpr std::array<std::pair<std::string_view, char>, 5> kNamed = {
        {{"amp;", '&'}, {"lt;", '<'}, {"gt;", '>'}, {"quot;", '"'}, {"apos;", '\''}}};
    std::string out;
    for (std::size_t i = 0; i < value.size(); ++i) {
        if (value[i] != '&') {
            out += value[i];
            continue;
        }
        const std::string_view rest = value.substr(i + 1);
        bool done = false;
        for (const auto& [name, c] : kNamed) {
            if (rest.substr(0, name.size()) == name) {
                out += c;
                i += name.size();
                done = true;
                break;
            }
        }
        const auto semi = rest.find(';');
        if (!done && rest.size() > 1 && rest[0] == '#' && semi != std::string_view::npos &&
            semi <= 9) {
            const bool hex = rest[1] == 'x' || rest[1] == 'X';
            const std::string_view digits = rest.substr(hex ? 2 : 1, semi - (hex ? 2 : 1));
            std::uint32_t cp = 0;
            bool ok = !digits.empty();
            for (const char d : digits) {
                const int v = std::isdigit(static_cast<unsigned char>(d)) ? d - '0'
                              : hex && std::isxdigit(static_cast<unsigned char>(d))
                                  ? std::tolower(static_cast<unsigned char>(d)) - 'a' + 10
                                  : -1;
                ok = ok && v >= 0;
                cp = cp * (hex ? 16 : 10) + static_cast<std::uint32_t>(std::max(v, 0));
            }
            if (ok && cp > 0 && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF)) {
                AppendUtf8(out, cp);
                i += semi + 1;
                done = true;
            }
        }
        if (!done) {
            out += '&';
        }
    }
    return out;
}

// The attributes of the first element named `tag`: nullopt when there is none.
std::optional<std::vector<std::pair<std::string, std::string>>> Attributes(std::string_view xml,
                                                                           std::string_view tag) {
    std::size_t at = 0;
    while ((at = xml.find(tag, at)) != std::string_view::npos) {
        const std::size_t end = at + tag.size();
        if (at > 0 && xml[at - 1] == '<' && end < xml.size() &&
            (xml[end] == ' ' || xml[end] == '\t' || xml[end] == '\r' || xml[end] == '\n' ||
             xml[end] == '>' || xml[end] == '/')) {
            break;
        }
        at = end;
    }
    if (at == std::string_view::npos) {
        return std::nullopt;
    }
    std::vector<std::pair<std::string, std::string>> out;
    std::size_t i = at + tag.size();
    while (i < xml.size()) {
        while (i < xml.size() && std::isspace(static_cast<unsigned char>(xml[i]))) {
            ++i;
        }
        if (i >= xml.size() || xml[i] == '>' || xml[i] == '/') {
            return out;
        }
        const std::size_t name_start = i;
        while (i < xml.size() && xml[i] != '=' && xml[i] != '>' &&
               !std::isspace(static_cast<unsigned char>(xml[i]))) {
            ++i;
        }
        const std::string name(xml.substr(name_start, i - name_start));
        while (i < xml.size() && std::isspace(static_cast<unsigned char>(xml[i]))) {
            ++i;
        }
        if (i >= xml.size() || xml[i] != '=') {
            return std::nullopt;  // an attribute without a value: not the XML we know
        }
        ++i;
        while (i < xml.size() && std::isspace(static_cast<unsigned char>(xml[i]))) {
            ++i;
        }
        if (i >= xml.size() || (xml[i] != '"' && xml[i] != '\'')) {
            return std::nullopt;
        }
        const char quote = xml[i++];
        const std::size_t close = xml.find(quote, i);
        if (close == std::string_view::npos) {
            return std::nullopt;
        }
        out.emplace_back(name, Unescape(xml.substr(i, close - i)));
        i = close + 1;
    }
    return std::nullopt;  // the tag never closed
}

std::string Attribute(const std::vector<std::pair<std::string, std::string>>& attributes,
                      std::string_view name) {
    for (const auto& [key, value] : attributes) {
        if (key == name) {
            return value;
        }
    }
    return {};
}

}  // namespace

HttpCall CepValidateCall(std::string_view base, const CepQuery& query) {
    HttpCall call;
    call.method = "POST";
    call.url = Trimmed(base) + "/valida.do";
    call.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
    // DD-MM-YYYY from YYYY-MM-DD.
    const std::string fecha = query.date.size() == 10
                                  ? query.date.substr(8, 2) + "-" + query.date.substr(5, 2) + "-" +
                                        query.date.substr(0, 4)
                                  : query.date;
    const std::pair<const char*, std::string> fields[] = {
        {"tipoCriterio", "T"},
        {"captcha", "c"},
        {"tipoConsulta", "1"},
        {"fecha", fecha},
        {"criterio", query.clave},
        {"emisor", query.emisor},
        {"receptor", query.receptor},
        {"cuenta", query.cuenta},
        {"monto", Pesos(query.amount_cents)},
        {"receptorParticipante", "0"},
    };
    for (const auto& [name, value] : fields) {
        if (!call.body.empty()) {
            call.body += '&';
        }
        call.body += name;
        call.body += '=';
        call.body += detail::FormEscape(value);
    }
    call.max_response_bytes = 1024 * 1024;
    return call;
}

HttpCall CepDownloadCall(std::string_view base, const std::vector<std::string>& cookies) {
    HttpCall call;
    call.method = "GET";
    call.url = Trimmed(base) + "/descarga.do?formato=XML";
    std::string cookie;
    for (const std::string& pair : cookies) {
        if (!pair.empty()) {
            cookie += (cookie.empty() ? "" : "; ") + pair;
        }
    }
    if (!cookie.empty()) {
        call.headers.emplace_back("Cookie", cookie);
    }
    call.max_response_bytes = 1024 * 1024;
    return call;
}

std::string CookiePair(std::string_view set_cookie) {
    const std::string_view pair = set_cookie.substr(0, set_cookie.find(';'));
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos || eq == 0) {
        return {};
    }
    for (const char c : pair) {
        // A cookie we send back must not be able to add headers or cookies of its own.
        if (static_cast<unsigned char>(c) < 0x21 || c == 0x7F || c == ';' || c == ',') {
            return {};
        }
    }
    return std::string(pair);
}

CepAnswer ReadCepAnswer(std::string_view html) {
    const std::string page = Lower(html);
    if (page.find("excedido") != std::string::npos) {
        return CepAnswer::kBusy;
    }
    if (page.find("no encontrada") != std::string::npos ||
        page.find("no se encontr") != std::string::npos ||
        page.find("no ha recibido una orden") != std::string::npos) {
        return CepAnswer::kNotFound;
    }
    if (page.find("descarga.do?formato=xml") != std::string::npos) {
        return CepAnswer::kFound;
    }
    if (page.find("se identific") != std::string::npos) {
        // The payment's state in its own row (the page also describes every state).
        static constexpr std::string_view kState = "estado del pago en banxico</td>";
        const auto row = page.find(kState);
        if (row != std::string::npos) {
            const auto open = page.find("<td>", row + kState.size());
            const auto close = open == std::string::npos ? open : page.find('<', open + 4);
            const std::string state =
                close == std::string::npos ? "" : page.substr(open + 4, close - open - 4);
            for (const char* undone : {"devuelto", "devoluci", "cancelado", "rechazado"}) {
                if (state.find(undone) != std::string::npos) {
                    return CepAnswer::kNotSettled;
                }
            }
        }
        return CepAnswer::kNotYet;
    }
    return CepAnswer::kUnknown;
}

std::optional<CepTransfer> ParseCepXml(std::string_view xml, std::string& why) {
    const auto root = Attributes(xml, "SPEI_Tercero");
    const auto beneficiary = Attributes(xml, "Beneficiario");
    if (!root || !beneficiary) {
        why = "not a CEP (no SPEI_Tercero with a Beneficiario)";
        return std::nullopt;
    }
    const auto sender = Attributes(xml, "Ordenante");
    CepTransfer out;
    out.date = Attribute(*root, "FechaOperacion");
    out.clave = Attribute(*root, "claveRastreo");
    out.time = Attribute(*root, "Hora");
    if (out.time.size() != 8 || out.time[2] != ':' || out.time[5] != ':' ||
        !AllDigits(out.time.substr(0, 2)) || !AllDigits(out.time.substr(3, 2)) ||
        !AllDigits(out.time.substr(6, 2))) {
        out.time.clear();
    }
    // cadenaCDA: "||type|operation date|settlement date|settlement time|…", dates DDMMYYYY.
    const std::string chain = Attribute(*root, "cadenaCDA");
    std::vector<std::string> parts;
    for (std::size_t at = 0; at <= chain.size() && parts.size() < 8;) {
        const auto bar = std::min(chain.find('|', at), chain.size());
        if (bar > at) {
            parts.push_back(chain.substr(at, bar - at));
        }
        at = bar + 1;
    }
    if (parts.size() >= 4 && parts[2].size() == 8 && AllDigits(parts[2]) && parts[3].size() == 6 &&
        AllDigits(parts[3])) {
        out.settled_date =
            parts[2].substr(4, 4) + "-" + parts[2].substr(2, 2) + "-" + parts[2].substr(0, 2);
        out.settled_time =
            parts[3].substr(0, 2) + ":" + parts[3].substr(2, 2) + ":" + parts[3].substr(4, 2);
    }
    out.receptor = Attribute(*root, "ClaveSPEI");
    out.beneficiary_account = Attribute(*beneficiary, "Cuenta");
    out.beneficiary_name = Attribute(*beneficiary, "Nombre");
    out.payment_concept = Attribute(*beneficiary, "Concepto");
    if (sender) {
        out.sending_bank = Attribute(*sender, "BancoEmisor");
        out.sending_account = Attribute(*sender, "Cuenta");
    }
    const auto cents = CepCents(Attribute(*beneficiary, "MontoPago"));
    const bool date_ok = out.date.size() == 10 && out.date[4] == '-' && out.date[7] == '-' &&
                         AllDigits(out.date.substr(0, 4)) && AllDigits(out.date.substr(5, 2)) &&
                         AllDigits(out.date.substr(8, 2));
    if (!date_ok || out.clave.empty() || !AllDigits(out.beneficiary_account) || !cents ||
        *cents <= 0) {
        why = "the CEP lacks its date, clave de rastreo, beneficiary account or amount";
        return std::nullopt;
    }
    out.amount_cents = *cents;
    return out;
}

std::optional<std::string> ParticipantOfClabe(std::string_view clabe) {
    if (clabe.size() != 18 || !AllDigits(clabe)) {
        return std::nullopt;
    }
    return dialogs::ParticipantOfBankCode(clabe.substr(0, 3));
}

std::optional<std::string> BankCodeOfName(std::string_view name) {
    // Letters only, upper case, accents dropped: "NU MÉXICO" and "Nu Mexico" read alike.
    std::string folded;
    for (std::size_t i = 0; i < name.size(); ++i) {
        const auto c = static_cast<unsigned char>(name[i]);
        if (std::isalpha(c)) {
            folded += static_cast<char>(std::toupper(c));
        } else if (c == 0xC3 && i + 1 < name.size()) {
            // é É á Á í Í ó Ó ú Ú ñ Ñ in UTF-8: their base letter.
            static constexpr std::string_view kFrom =
                "\xA9\x89\xA1\x81\xAD\x8D\xB3\x93\xBA\x9A\xB1\x91";
            static constexpr std::string_view kTo = "EEAAIIOOUUNN";
            const auto at = kFrom.find(name[i + 1]);
            if (at != std::string_view::npos) {
                folded += kTo[at];
                ++i;
            }
        }
    }
    // A name that begins with one of these is that bank.
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 22> kBanks = {{
        {"CITIBANAMEX", "002"},
        {"BANAMEX", "002"},
        {"BANCOMER", "012"},
        {"BBVA", "012"},
        {"SANTANDER", "014"},
        {"HSBC", "021"},
        {"BAJIO", "030"},
        {"INBURSA", "036"},
        {"SCOTIABANK", "044"},
        {"SCOTIA", "044"},
        {"BANREGIO", "058"},
        {"AFIRME", "062"},
        {"BANORTE", "072"},
        {"AZTECA", "127"},
        {"BANCOPPEL", "137"},
        {"BIENESTAR", "166"},
        {"HEYBANCO", "167"},
        {"STP", "646"},
        {"TRANSFERENCIASYPAGOS", "646"},
        {"NUMEXICO", "638"},
        {"MERCADOPAGO", "722"},
        {"NU", "638"},
    }};
    for (const auto& [bank, code] : kBanks) {
        // The name must begin with the bank's (BBVA MEXICO, BANORTE IXE) or be it exactly
        // (NU): a short name inside a longer word counts for nothing.
        if (folded == bank || (bank.size() >= 3 && folded.rfind(bank, 0) == 0)) {
            return std::string(code);
        }
    }
    // "BANCO SANTANDER MEXICO", "BANCO DEL BAJIO": the name after "BANCO" (and "DEL").
    if (folded.rfind("BANCO", 0) == 0 && folded.size() > 5) {
        std::string_view rest = std::string_view(folded).substr(5);
        if (rest.rfind("DEL", 0) == 0 && rest.size() > 3) {
            rest.remove_prefix(3);
        }
        return BankCodeOfName(rest);
    }
    return std::nullopt;
}

}  // namespace cobrador::channels
