#include "bot/config.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <vector>

#include "channels/payment_providers.hpp"
#include "dialogs/calendar.hpp"
#include "dialogs/locale.hpp"
#include "dialogs/reference.hpp"
#include "store/ledger.hpp"

#include <unistd.h>

namespace cobrador::bot {

namespace {

// An error message for a person, as the error side of a result.
struct Failure {
    std::string message;

    explicit Failure(std::string m) : message(std::move(m)) {}

    template <class T>
    operator boost::system::result<T, std::string>() && {  // NOLINT(google-explicit-constructor)
        return {boost::system::in_place_error, std::move(message)};
    }
};

// Each setting: its environment variable and where it lands in Config.
struct Setting {
    const char* env;
    std::string Config::*field;
    bool secret;
};

const std::vector<Setting>& Settings() {
    static const std::vector<Setting> kSettings = {
        {"COBRADOR_DB", &Config::db_path, false},
        {"COBRADOR_PUBLIC_URL", &Config::public_url, false},
        {"COBRADOR_COMPANY_NAME", &Config::company_name, false},
        {"COBRADOR_TIMEZONE", &Config::timezone, false},
        {"COBRADOR_DAYS_OFF", &Config::days_off, false},
        {"COBRADOR_REPLICA_ID", &Config::replica_id, false},
        {"COBRADOR_CLABE", &Config::clabe, false},
        {"COBRADOR_PAYMENT_URL", &Config::payment_url, false},
        {"COBRADOR_CONTACT_PHONE", &Config::contact_phone, false},
        {"COBRADOR_CONTACT_HOURS", &Config::contact_hours, false},
        {"COBRADOR_POLICY_FILE", &Config::policy_file, false},
        {"COBRADOR_REPLIES_FILE", &Config::replies_file, false},
        {"COBRADOR_REMINDERS_FILE", &Config::reminders_file, false},
        {"COBRADOR_TLS_CERT", &Config::tls_cert, false},
        {"COBRADOR_TLS_KEY", &Config::tls_key, false},
        {"COBRADOR_WHATSAPP_APP_SECRET", &Config::whatsapp_app_secret, true},
        {"COBRADOR_WHATSAPP_VERIFY_TOKEN", &Config::whatsapp_verify_token, true},
        {"COBRADOR_WHATSAPP_ACCESS_TOKEN", &Config::whatsapp_access_token, true},
        {"COBRADOR_WHATSAPP_PHONE_NUMBER_ID", &Config::whatsapp_phone_number_id, false},
        {"COBRADOR_WHATSAPP_API_BASE", &Config::whatsapp_api_base, false},
        {"COBRADOR_TWILIO_ACCOUNT_SID", &Config::twilio_account_sid, false},
        {"COBRADOR_TWILIO_AUTH_TOKEN", &Config::twilio_auth_token, true},
        {"COBRADOR_TWILIO_FROM", &Config::twilio_from, false},
        {"COBRADOR_TWILIO_API_BASE", &Config::twilio_api_base, false},
        {"COBRADOR_PAYMENTS_SECRET", &Config::payments_secret, true},
        {"COBRADOR_PAYMENTS_PROVIDER", &Config::payments_provider, false},
        {"COBRADOR_STRIPE_SECRET_KEY", &Config::stripe_secret_key, true},
        {"COBRADOR_STRIPE_WEBHOOK_SECRET", &Config::stripe_webhook_secret, true},
        {"COBRADOR_STRIPE_API_BASE", &Config::stripe_api_base, false},
        {"COBRADOR_MERCADOPAGO_ACCESS_TOKEN", &Config::mercadopago_access_token, true},
        {"COBRADOR_MERCADOPAGO_WEBHOOK_SECRET", &Config::mercadopago_webhook_secret, true},
        {"COBRADOR_MERCADOPAGO_API_BASE", &Config::mercadopago_api_base, false},
        {"COBRADOR_OPENPAY_MERCHANT_ID", &Config::openpay_merchant_id, false},
        {"COBRADOR_OPENPAY_PRIVATE_KEY", &Config::openpay_private_key, true},
        {"COBRADOR_OPENPAY_WEBHOOK_USER", &Config::openpay_webhook_user, false},
        {"COBRADOR_OPENPAY_WEBHOOK_PASSWORD", &Config::openpay_webhook_password, true},
        {"COBRADOR_OPENPAY_API_BASE", &Config::openpay_api_base, false},
        {"COBRADOR_CONEKTA_API_KEY", &Config::conekta_api_key, true},
        {"COBRADOR_CONEKTA_WEBHOOK_KEY", &Config::conekta_webhook_key, false},
        {"COBRADOR_CONEKTA_API_BASE", &Config::conekta_api_base, false},
        {"COBRADOR_STP_EMPRESA", &Config::stp_empresa, false},
        {"COBRADOR_STP_CLABE_PREFIX", &Config::stp_clabe_prefix, false},
        {"COBRADOR_STP_WEBHOOK_TOKEN", &Config::stp_webhook_token, true},
        {"COBRADOR_STP_PRIVATE_KEY_FILE", &Config::stp_private_key_file, false},
        {"COBRADOR_STP_API_BASE", &Config::stp_api_base, false},
        {"COBRADOR_CEP_BASE", &Config::cep_base, false},
        {"COBRADOR_PRIVACY_URL", &Config::privacy_url, false},
    };
    return kSettings;
}

std::string Trim(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) {
        return {};
    }
    const auto last = text.find_last_not_of(" \t\r");
    return std::string(text.substr(first, last - first + 1));
}

std::string Upper(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) {
        return static_cast<char>(c == '.' || c == '-' ? '_' : std::toupper(c));
    });
    return text;
}

// A flat subset of TOML: `key = "string"`, `key = 123`, `[section]`, `# comments`. The key
// `db` under no section is COBRADOR_DB; `app_secret` under `[whatsapp]` is
// COBRADOR_WHATSAPP_APP_SECRET.
boost::system::result<std::map<std::string, std::string>, std::string> ReadToml(
    const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        return Failure(path + ": cannot read the file");
    }
    std::map<std::string, std::string> values;
    std::string section;
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        const std::string where = path + ":" + std::to_string(number) + ": ";
        std::string text = Trim(line);
        if (text.empty() || text.front() == '#') {
            continue;
        }
        if (text.front() == '[') {
            if (text.back() != ']') {
                return Failure(where + "a section header must end with ']'");
            }
            section = Trim(std::string_view(text).substr(1, text.size() - 2));
            continue;
        }
        const auto eq = text.find('=');
        if (eq == std::string::npos) {
            return Failure(where + "expected 'key = value'");
        }
        const std::string key = Trim(std::string_view(text).substr(0, eq));
        std::string value = Trim(std::string_view(text).substr(eq + 1));
        if (key.empty()) {
            return Failure(where + "the key is empty");
        }
        if (!value.empty() && value.front() == '"') {
            std::string unquoted;
            std::size_t i = 1;
            for (; i < value.size() && value[i] != '"'; ++i) {
                if (value[i] == '\\' && i + 1 < value.size()) {
                    ++i;
                    const char c = value[i];
                    unquoted += c == 'n' ? '\n' : c == 't' ? '\t' : c;
                } else {
                    unquoted += value[i];
                }
            }
            if (i >= value.size()) {
                return Failure(where + "the string is never closed");
            }
            const std::string rest = Trim(std::string_view(value).substr(i + 1));
            if (!rest.empty() && rest.front() != '#') {
                return Failure(where + "unexpected text after the string");
            }
            value = unquoted;
        } else if (const auto hash = value.find('#'); hash != std::string::npos) {
            value = Trim(std::string_view(value).substr(0, hash));
        }
        values["COBRADOR_" + Upper(section.empty() ? key : section + "_" + key)] = value;
    }
    return values;
}

}  // namespace

bool Config::WhatsAppEnabled() const {
    return !whatsapp_app_secret.empty() && !whatsapp_verify_token.empty() &&
           !whatsapp_access_token.empty() && !whatsapp_phone_number_id.empty();
}

bool Config::SmsEnabled() const {
    return !twilio_account_sid.empty() && !twilio_auth_token.empty() && !twilio_from.empty();
}

boost::system::result<std::string, std::string> ReadSettingFile(const std::string& path,
                                                                std::string_view what) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return {boost::system::in_place_error,
                "cannot read the " + std::string(what) + " file " + path};
    }
    std::ostringstream text;
    text << in.rdbuf();
    return {boost::system::in_place_value, text.str()};
}

std::string Config::Today(std::chrono::system_clock::time_point now) const {
    return today ? *today : dialogs::FormatIsoDate(dialogs::UtcDate(now));
}

std::chrono::sys_seconds Config::Instant(std::chrono::system_clock::time_point now) const {
    const auto seconds = std::chrono::floor<std::chrono::seconds>(now);
    if (!today) {
        return seconds;
    }
    const auto time_of_day = seconds - std::chrono::floor<std::chrono::days>(seconds);
    return std::chrono::sys_days(*dialogs::ParseIsoDate(*today)) + time_of_day;
}

std::string Config::Now(std::chrono::system_clock::time_point now) const {
    return dialogs::FormatIsoInstant(Instant(now));
}

bool Config::Tls() const {
    return !tls_cert.empty() && !tls_key.empty();
}

std::string Config::Describe() const {
    std::ostringstream out;
    out << "replica=" << replica_id << " db=" << store::Ledger::Describe(db_path)
        << " listen=" << listen_host << ":" << listen_port << " public_url=" << public_url
        << " io_threads=" << io_threads << " send_timeout=" << send_timeout.count() << "s"
        << " media_max_bytes=" << media_max_bytes << " today=" << (today ? *today : "real")
        << " policy=" << (policy_file.empty() ? "default" : policy_file)
        << " reminders=" << (reminders_file.empty() ? "default" : reminders_file)
        << " reminder_every=" << reminder_interval.count() << "min"
        << " idle_timeout=" << idle_timeout.count() << "min"
        << " verification_ttl=" << verification_ttl.count() << "h"
        << " claim_idle=" << claim_idle.count() << "min"
        << " tls=" << (Tls() ? tls_cert : std::string("off"));
    for (const Setting& s : Settings()) {
        if (s.secret) {
            out << " " << s.env << "=" << ((this->*s.field).empty() ? "unset" : "set");
        }
    }
    return out.str();
}

// What a replica id may hold: it lands in log fields and metric labels unescaped.
bool ReplicaIdChar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.' ||
           c == ':';
}

// The host's name and this process's id ("db-1:4242"), with what a replica id may hold.
std::string DefaultReplicaId() {
    std::array<char, 256> host{};
    std::string name = gethostname(host.data(), host.size() - 1) == 0 ? host.data() : "";
    std::erase_if(name, [](char c) { return !ReplicaIdChar(c) || c == ':'; });
    name = name.substr(0, 40);
    return (name.empty() ? std::string("cobrador") : name) + ":" + std::to_string(getpid());
}

bool ReplicaGone(std::string_view holder, std::string_view self) {
    if (holder == self) {
        return true;  // this replica's id, from before a restart: nothing of ours runs yet
    }
    const std::string mine = DefaultReplicaId();
    const auto colon = mine.rfind(':');
    const std::string_view host = std::string_view(mine).substr(0, colon + 1);  // "db-1:"
    if (holder.size() <= host.size() || holder.substr(0, host.size()) != host) {
        return false;  // another host: only its lease can tell
    }
    const std::string_view digits = holder.substr(host.size());
    pid_t pid = 0;
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), pid);
    if (error != std::errc() || end != digits.data() + digits.size() || pid <= 1 ||
        pid == getpid()) {
        return false;
    }
    return kill(pid, 0) != 0 && errno == ESRCH;
}

// The settings that are not plain strings (Settings() lists those): numbers, durations,
// addresses and dates, each checked below.
constexpr const char* kTypedNames[] = {"COBRADOR_LISTEN",
                                       "COBRADOR_TODAY",
                                       "COBRADOR_IO_THREADS",
                                       "COBRADOR_DB_CONNECTIONS",
                                       "COBRADOR_SEND_TIMEOUT",
                                       "COBRADOR_MEDIA_MAX_BYTES",
                                       "COBRADOR_IDLE_MINUTES",
                                       "COBRADOR_VERIFICATION_HOURS",
                                       "COBRADOR_CLAIM_IDLE_MINUTES",
                                       "COBRADOR_REMINDER_MINUTES"};

// Every setting, by its environment name.
std::vector<std::string> AllNames() {
    std::vector<std::string> names(std::begin(kTypedNames), std::end(kTypedNames));
    for (const Setting& s : Settings()) {
        names.emplace_back(s.env);
    }
    return names;
}

boost::system::result<Config, std::string> LoadConfig(const std::optional<std::string>& file,
                                                      const GetEnv& getenv) {
    std::map<std::string, std::string> values;
    if (file) {
        auto toml = ReadToml(*file);
        if (!toml) {
            return Failure(toml.error());
        }
        values = std::move(*toml);
    }
    const std::vector<std::string> known = AllNames();
    for (const auto& [name, value] : values) {
        // Every key in the file is one we know: a typo or a key under the wrong [section]
        // would otherwise be ignored without a word.
        if (std::find(known.begin(), known.end(), name) == known.end()) {
            std::string key = name.substr(std::string_view("COBRADOR_").size());
            std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) {
                return static_cast<char>(std::tolower(c));
            });
            return Failure(*file + ": unknown setting '" + key +
                           "' (see deploy/cobrador.example.toml)");
        }
    }
    for (const std::string& name : known) {
        if (const char* value = getenv(name.c_str())) {
            values[name] = value;
        }
    }

    Config config;
    for (const Setting& s : Settings()) {
        if (auto it = values.find(s.env); it != values.end()) {
            config.*s.field = it->second;
        }
    }
    if (auto it = values.find("COBRADOR_LISTEN"); it != values.end()) {
        const std::string& listen = it->second;
        const auto colon = listen.rfind(':');
        unsigned port = 0;
        const char* end = listen.data() + listen.size();
        if (colon == std::string::npos || colon == 0 ||
            std::from_chars(listen.data() + colon + 1, end, port).ptr != end || port > 65535) {
            return Failure("COBRADOR_LISTEN must be host:port (like 127.0.0.1:8080), not '" +
                           listen + "'");
        }
        config.listen_host = listen.substr(0, colon);
        if (config.listen_host.size() > 2 && config.listen_host.front() == '[') {
            config.listen_host = config.listen_host.substr(1, config.listen_host.size() - 2);
        }
        config.listen_port = static_cast<std::uint16_t>(port);
    }
    if (auto it = values.find("COBRADOR_TODAY"); it != values.end() && !it->second.empty()) {
        if (!dialogs::ParseIsoDate(it->second)) {
            return Failure("COBRADOR_TODAY must be a date written YYYY-MM-DD, not '" + it->second +
                           "'");
        }
        config.today = it->second;
    }
    // Whole numbers within bounds; nullopt when the setting is absent.
    const auto whole = [&](const char* name, int low, int high) -> std::optional<int> {
        const auto it = values.find(name);
        if (it == values.end()) {
            return std::nullopt;
        }
        int number = 0;
        const char* end = it->second.data() + it->second.size();
        if (std::from_chars(it->second.data(), end, number).ptr != end || number < low ||
            number > high) {
            return -1;
        }
        return number;
    };
    if (const auto threads = whole("COBRADOR_IO_THREADS", 1, 64)) {
        if (*threads < 0) {
            return Failure("COBRADOR_IO_THREADS must be a whole number from 1 to 64");
        }
        config.io_threads = *threads;
    }
    if (config.replica_id.empty()) {
        config.replica_id = DefaultReplicaId();
    } else if (config.replica_id.size() > 64 ||
               !std::all_of(config.replica_id.begin(), config.replica_id.end(), ReplicaIdChar)) {
        return Failure(
            "COBRADOR_REPLICA_ID must be 1 to 64 letters, digits, '-', '_', '.' or ':', not '" +
            config.replica_id + "'");
    }
    if (const auto connections = whole("COBRADOR_DB_CONNECTIONS", 1, 64)) {
        if (*connections < 0) {
            return Failure("COBRADOR_DB_CONNECTIONS must be a whole number from 1 to 64");
        }
        config.db_connections = *connections;
    }
    if (const auto seconds = whole("COBRADOR_SEND_TIMEOUT", 1, 300)) {
        if (*seconds < 0) {
            return Failure("COBRADOR_SEND_TIMEOUT must be a whole number of seconds from 1 to 300");
        }
        config.send_timeout = std::chrono::seconds(*seconds);
    }
    if (const auto bytes = whole("COBRADOR_MEDIA_MAX_BYTES", 1024, 100 * 1024 * 1024)) {
        if (*bytes < 0) {
            return Failure(
                "COBRADOR_MEDIA_MAX_BYTES must be a whole number of bytes from 1024 to 104857600");
        }
        config.media_max_bytes = *bytes;
    }
    if (const auto minutes = whole("COBRADOR_IDLE_MINUTES", 1, 1440)) {
        if (*minutes < 0) {
            return Failure(
                "COBRADOR_IDLE_MINUTES must be a whole number of minutes from 1 to 1440");
        }
        config.idle_timeout = std::chrono::minutes(*minutes);
    }
    if (const auto minutes = whole("COBRADOR_REMINDER_MINUTES", 0, 1440)) {
        if (*minutes < 0) {
            return Failure(
                "COBRADOR_REMINDER_MINUTES must be a whole number of minutes from 0 (off) to 1440");
        }
        config.reminder_interval = std::chrono::minutes(*minutes);
    }
    if (const auto minutes = whole("COBRADOR_CLAIM_IDLE_MINUTES", 1, 10080)) {
        if (*minutes < 0) {
            return Failure(
                "COBRADOR_CLAIM_IDLE_MINUTES must be a whole number of minutes from 1 to "
                "10080");
        }
        config.claim_idle = std::chrono::minutes(*minutes);
    }
    if (const auto hours = whole("COBRADOR_VERIFICATION_HOURS", 1, 720)) {
        if (*hours < 0) {
            return Failure(
                "COBRADOR_VERIFICATION_HOURS must be a whole number of hours from 1 to 720");
        }
        config.verification_ttl = std::chrono::hours(*hours);
    }
    if (!dialogs::IsKnownTimeZone(config.timezone)) {
        return Failure(
            "COBRADOR_TIMEZONE must be an IANA time zone like America/Mexico_City, not '" +
            config.timezone + "'");
    }
    config.days_off_dates.clear();
    for (std::string_view rest = config.days_off; !rest.empty();) {
        const auto end = rest.find_first_of(", \t");
        const std::string_view word = rest.substr(0, end);
        rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
        if (word.empty()) {
            continue;
        }
        const auto date = dialogs::ParseIsoDate(word);
        if (!date) {
            return Failure(
                "COBRADOR_DAYS_OFF must be dates like 2026-12-24, separated by commas, "
                "not '" +
                std::string(word) + "'");
        }
        config.days_off_dates.push_back(*date);
    }
    if (!dialogs::IsValidClabe(config.clabe)) {
        return Failure("COBRADOR_CLABE must be 18 digits with a valid CLABE check digit");
    }
    if (config.payment_url.find("{reference}") == std::string::npos) {
        return Failure("COBRADOR_PAYMENT_URL must contain {reference}");
    }
    if (!config.payments_provider.empty() && config.payments_provider != "stripe" &&
        config.payments_provider != "mercadopago" && config.payments_provider != "openpay" &&
        config.payments_provider != "conekta" && config.payments_provider != "stp") {
        return Failure(
            "COBRADOR_PAYMENTS_PROVIDER must be stripe, mercadopago, openpay, conekta or stp, not "
            "'" +
            config.payments_provider + "'");
    }
    // The provider that creates instruments needs its API credentials.
    const std::string& creator = config.payments_provider;
    if ((creator == "stripe" && config.stripe_secret_key.empty()) ||
        (creator == "mercadopago" && config.mercadopago_access_token.empty()) ||
        (creator == "conekta" && config.conekta_api_key.empty()) ||
        (creator == "openpay" &&
         (config.openpay_private_key.empty() || config.openpay_merchant_id.empty()))) {
        return Failure("COBRADOR_PAYMENTS_PROVIDER=" + creator +
                       " needs that provider's API credentials (" +
                       (creator == "stripe"        ? "COBRADOR_STRIPE_SECRET_KEY"
                        : creator == "mercadopago" ? "COBRADOR_MERCADOPAGO_ACCESS_TOKEN"
                        : creator == "conekta"     ? "COBRADOR_CONEKTA_API_KEY"
                                                   : "COBRADOR_OPENPAY_MERCHANT_ID and "
                                                     "COBRADOR_OPENPAY_PRIVATE_KEY") +
                       ")");
    }
    if (!std::all_of(config.openpay_merchant_id.begin(),
                     config.openpay_merchant_id.end(),
                     [](unsigned char ch) { return std::isalnum(ch) != 0; })) {
        return Failure("COBRADOR_OPENPAY_MERCHANT_ID must be letters and digits");
    }
    if (!config.conekta_webhook_key.empty()) {
        std::string pem = config.conekta_webhook_key;
        if (pem.rfind("-----BEGIN", 0) != 0) {
            std::ifstream in(pem);
            pem.assign(std::istreambuf_iterator<char>(in), {});
            if (!in.good() && !in.eof()) {
                pem.clear();
            }
        }
        if (!channels::ConektaKeyReadable(pem)) {
            return Failure(
                "COBRADOR_CONEKTA_WEBHOOK_KEY must be the PEM public key of Conekta's webhook key "
                "pair, or the path of a file holding it");
        }
        config.conekta_webhook_key_pem = pem;
    }
    if (!config.stp_webhook_token.empty() && config.stp_webhook_token.size() < 24) {
        return Failure(
            "COBRADOR_STP_WEBHOOK_TOKEN must be at least 24 characters (openssl rand -hex 16)");
    }
    if (!config.stp_clabe_prefix.empty() && !dialogs::AccountClabe(config.stp_clabe_prefix, 1)) {
        return Failure(
            "COBRADOR_STP_CLABE_PREFIX must be the digits that begin every CLABE of the creditor's "
            "range at STP (3 to 16 digits, like 6461801570)");
    }
    // Nothing but TLS proves a CEP answer (its seal is not checked): plain http only on loopback.
    const auto loopback = [](std::string_view url) {
        for (const std::string_view host :
             {"http://127.0.0.1", "http://localhost", "http://[::1]"}) {
            if (url.rfind(host, 0) == 0 &&
                (url.size() == host.size() || url[host.size()] == ':' || url[host.size()] == '/')) {
                return true;
            }
        }
        return false;
    };
    if (!config.cep_base.empty() && config.cep_base.rfind("https://", 0) != 0 &&
        !loopback(config.cep_base)) {
        return Failure(
            "COBRADOR_CEP_BASE must be an https URL (Banxico's is https://www.banxico.org.mx/cep), "
            "or empty to send every receipt to a person");
    }
    if (!config.privacy_url.empty() &&
        ((config.privacy_url.rfind("https://", 0) != 0 &&
          config.privacy_url.rfind("http://", 0) != 0) ||
         config.privacy_url.find_first_of(" \t\r\n") != std::string::npos)) {
        return Failure(
            "COBRADOR_PRIVACY_URL must be the http(s) address of the creditor's privacy notice, "
            "without spaces");
    }
    if (config.db_path.empty()) {
        return Failure("COBRADOR_DB must not be empty");
    }
    if (config.tls_cert.empty() != config.tls_key.empty()) {
        return Failure("COBRADOR_TLS_CERT and COBRADOR_TLS_KEY go together: give both or neither");
    }
    return config;
}

}  // namespace cobrador::bot
