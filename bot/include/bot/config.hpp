#pragma once
// cobrador's configuration: environment variables (CONTRACT.md "Configuration"), optionally a
// TOML file (`--config`) underneath them. Secrets are kept here and nowhere else; Describe()
// says only whether each is set.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/system/result.hpp>

namespace cobrador::bot {

// Looks up an environment variable; returns nullptr when unset. Injected so tests can give a
// made-up environment.
using GetEnv = std::function<const char*(const char*)>;

struct Config {
    std::string db_path = "./cobrador.db";
    std::string listen_host = "127.0.0.1";
    std::uint16_t listen_port = 8080;
    std::string public_url = "http://127.0.0.1:8080";
    std::string company_name = "Demo Financiera";
    // The creditor's own time zone (COBRADOR_TIMEZONE, IANA): the console's times and days, and
    // the month of the complaints report. Each debtor keeps their own for contact hours.
    std::string timezone = "America/Mexico_City";
    // The creditor's own days off besides the banks' (COBRADOR_DAYS_OFF: YYYY-MM-DD, separated
    // by commas or spaces): not business days for a case's due date (docs/cases.md).
    std::string days_off;
    std::vector<std::chrono::year_month_day> days_off_dates;  // days_off, read
    std::optional<std::string> today;  // YYYY-MM-DD when pinned (COBRADOR_TODAY)
    int io_threads = 2;
    // PostgreSQL only: connections (each on its own thread) for webhook writes and reads; the
    // inbound worker and the timers keep one more of their own. SQLite has one writer.
    int db_connections = 16;
    // This process's name in logs and metrics (COBRADOR_REPLICA_ID; default host name + pid).
    std::string replica_id;
    std::chrono::seconds send_timeout{15};  // one provider call, connect to answer
    // The largest file fetched from a provider (COBRADOR_MEDIA_MAX_BYTES); a larger one is
    // recorded as too large, never read into memory.
    std::int64_t media_max_bytes = 16 * 1024 * 1024;
    bool demo = false;  // serve --demo: channels without credentials reply to the sandbox

    // The dialog (docs/dialog.md).
    std::string clabe = "646180110400000007";  // the creditor's CLABE for SPEI (demo value)
    std::string payment_url = "https://pagos.example.com/r/{reference}?monto={amount}";
    std::string contact_phone;  // how a person of the creditor is reached (said when escalating)
    std::string contact_hours;  // and when ("lunes a viernes de 9 a 18 h")
    std::string policy_file;    // negotiation policy JSON; empty: the embedded default
    std::string replies_file;   // the creditor's own canned replies (JSON); empty: none
    std::chrono::minutes idle_timeout{30};
    std::chrono::hours verification_ttl{24};
    // A claimed conversation whose collector does nothing this long goes back to the queue.
    std::chrono::minutes claim_idle{30};
    // Reminders and messages we start (docs/reminders.md); empty: the embedded default.
    std::string reminders_file;
    // serve runs a reminder pass this often; 0: never (run `cobrador remind` from cron).
    std::chrono::minutes reminder_interval{5};

    // HTTPS served directly: a PEM certificate chain and its private key (both or neither).
    std::string tls_cert;
    std::string tls_key;

    std::string whatsapp_app_secret;
    std::string whatsapp_verify_token;
    std::string whatsapp_access_token;
    std::string whatsapp_phone_number_id;
    std::string whatsapp_api_base = "https://graph.facebook.com/v21.0";
    std::string twilio_account_sid;
    std::string twilio_auth_token;
    std::string twilio_from;
    std::string twilio_api_base = "https://api.twilio.com";
    std::string payments_secret;
    // Payment providers (docs/payments.md): each one's webhook is on when its secrets are set.
    std::string payments_provider;  // which one creates payment instruments; empty: none
    std::string stripe_secret_key;
    std::string stripe_webhook_secret;
    std::string stripe_api_base = "https://api.stripe.com";
    std::string mercadopago_access_token;
    std::string mercadopago_webhook_secret;
    std::string mercadopago_api_base = "https://api.mercadopago.com";
    std::string openpay_merchant_id;
    std::string openpay_private_key;
    std::string openpay_webhook_user;
    std::string openpay_webhook_password;
    std::string openpay_api_base = "https://api.openpay.mx";
    std::string conekta_api_key;
    // The public key of Conekta's webhook key pair: PEM text, or the path of a PEM file (read
    // into conekta_webhook_key_pem when the settings are loaded).
    std::string conekta_webhook_key;
    std::string conekta_webhook_key_pem;
    std::string conekta_api_base = "https://api.conekta.io";
    std::string stp_empresa;
    std::string stp_clabe_prefix;   // the creditor's CLABE range at STP, 3 to 16 digits
    std::string stp_webhook_token;  // in the URL registered with STP: ?token=…
    std::string stp_private_key_file;
    std::string stp_api_base;
    // Banxico's CEP portal, where SPEI receipts are confirmed (docs/media.md); empty: every
    // receipt goes to a person.
    std::string cep_base = "https://www.banxico.org.mx/cep";
    // The creditor's privacy notice, linked in first contact and when asked for.
    std::string privacy_url;

    bool WhatsAppEnabled() const;
    bool Tls() const;
    bool SmsEnabled() const;

    // Today's date (YYYY-MM-DD): the pinned one, or the UTC date of `now`.
    std::string Today(std::chrono::system_clock::time_point now) const;
    // `now` to the second, moved to the pinned day (same time of day) when there is one.
    std::chrono::sys_seconds Instant(std::chrono::system_clock::time_point now) const;
    // Instant(now) as ISO 8601 UTC, as the ledger records it.
    std::string Now(std::chrono::system_clock::time_point now) const;

    // One line per setting for the start-up log; secrets appear as "set" or "unset".
    std::string Describe() const;
};

// Whether the replica `holder` of a lease is known to be gone, seen from the replica `self`:
// `self` itself (its previous life, restarted under the same COBRADOR_REPLICA_ID), or a default
// id of this host ("db-1:4242") whose process no longer exists. A replica on another host is
// never known gone: its leases run out instead.
bool ReplicaGone(std::string_view holder, std::string_view self);

// The whole of a file a setting names (the policy, the reminders, the replies), or "cannot read
// the <what> file <path>".
boost::system::result<std::string, std::string> ReadSettingFile(const std::string& path,
                                                                std::string_view what);

// Reads `file` (when given) and then the environment, which wins. Errors are messages for a
// person: an unreadable file, a malformed line, a bad COBRADOR_LISTEN or COBRADOR_TODAY.
boost::system::result<Config, std::string> LoadConfig(const std::optional<std::string>& file,
                                                      const GetEnv& getenv);

}  // namespace cobrador::bot
