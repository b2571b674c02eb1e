#include "bot/server.hpp"

#include <atomic>
#include <csignal>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <type_traits>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <nlohmann/json.hpp>

#include "bot/log.hpp"
#include "bot/offload.hpp"
#include "channels/signature.hpp"
#include "channels/twilio.hpp"
#include "channels/whatsapp.hpp"
#include "dialogs/calendar.hpp"
#include "dialogs/phone.hpp"
#include "store/ledger.hpp"

#include "api.hpp"
#include "console.hpp"
#include "conversation.hpp"
#include "dispatcher.hpp"
#include "events.hpp"
#include "group_commit.hpp"
#include "http_types.hpp"
#include "metrics.hpp"
#include "outbound_json.hpp"
#include "proactive.hpp"
#include "reminders.hpp"
#include "webhook_records.hpp"
#include <sys/stat.h>

namespace cobrador::bot {

namespace net = boost::asio;     // from <boost/asio.hpp>
namespace beast = boost::beast;  // from <boost/beast.hpp>
namespace http = beast::http;    // from <boost/beast/http.hpp>
using tcp = net::ip::tcp;

namespace {

constexpr std::size_t kBodyLimit = 1024 * 1024;  // CONTRACT.md: 413 over 1 MiB
constexpr std::uint32_t kHeaderLimit = 16 * 1024;
constexpr auto kReadTimeout = std::chrono::seconds(30);
constexpr auto kDrainTimeout = std::chrono::seconds(10);
constexpr auto kTlsTimeout = std::chrono::seconds(10);  // the handshake, the close_notify
// Webhook writes waiting for the ledger's thread; past this, providers get 503 and retry.
constexpr int kMaxPendingWrites = 512;
constexpr std::size_t kInboundBatch = 64;

using TlsStream = beast::ssl_stream<beast::tcp_stream>;
template <class Stream>
constexpr bool kIsTls = std::is_same_v<Stream, TlsStream>;

// Every connection's state that Stop() needs; touched only on the connection's strand.
struct Connection {
    beast::tcp_stream* stream = nullptr;  // the TCP layer, under TLS too
    bool idle = true;                     // waiting for the next request, nothing in flight
};

// The server's TLS: TLS 1.2 and 1.3 only, OpenSSL's default ciphers (Debian's policy), the
// certificate chain and key from PEM files. Errors name the file, never its content.
boost::system::result<net::ssl::context, std::string> TlsContext(const Config& config) {
    net::ssl::context context(net::ssl::context::tls_server);
    context.set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                        net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                        net::ssl::context::no_tlsv1_1 | net::ssl::context::single_dh_use);
    boost::system::error_code error;
    if (context.use_certificate_chain_file(config.tls_cert, error)) {
        return {boost::system::in_place_error,
                "cannot use the certificate " + config.tls_cert + ": " + error.message()};
    }
    if (context.use_private_key_file(config.tls_key, net::ssl::context::pem, error)) {
        if (error.category() == net::error::get_ssl_category() &&
            ERR_GET_REASON(static_cast<unsigned long>(error.value())) ==
                X509_R_KEY_VALUES_MISMATCH) {
            return {boost::system::in_place_error,
                    "the private key " + config.tls_key + " does not match the certificate " +
                        config.tls_cert};
        }
        return {boost::system::in_place_error,
                "cannot use the private key " + config.tls_key + ": " + error.message()};
    }
    if (SSL_CTX_check_private_key(context.native_handle()) != 1) {
        return {boost::system::in_place_error,
                "the private key " + config.tls_key + " does not match the certificate " +
                    config.tls_cert};
    }

    struct stat key_file {};

    if (::stat(config.tls_key.c_str(), &key_file) == 0 && (key_file.st_mode & S_IROTH) != 0) {
        Log(LogLevel::kWarn,
            "the TLS private key is readable by every user on this machine; chmod o-r it",
            {{"file", config.tls_key}});
    }
    return context;
}

}  // namespace

struct Server::Impl {
    Config config;
    net::io_context ioc;
    net::thread_pool db_pool{1};  // owns every use of `ledger`
    std::optional<store::Ledger> ledger;
    std::optional<GroupCommit> commits;                 // webhook and send records, many per fsync
    std::optional<dialogs::Settings> dialog;            // set by Start()
    std::optional<dialogs::ReminderStrategy> strategy;  // set by Start()
    // The acceptor, the signals and the drain deadline are only touched on this strand.
    net::strand<net::io_context::executor_type> control{net::make_strand(ioc)};
    tcp::acceptor acceptor{control};
    std::optional<net::ssl::context> tls;  // set by Start() when a certificate is configured
    net::signal_set signals{control, SIGINT, SIGTERM};
    net::steady_timer drain_deadline{control};
    std::atomic<bool> stopping{false};

    std::mutex connections_mutex;
    std::set<std::shared_ptr<Connection>> connections;  // guarded by connections_mutex

    Metrics metrics;
    EventHub events;
    std::optional<ApiContext> api;  // set by Start(), with the ledger
    net::steady_timer claim_timer{control};
    net::steady_timer reminder_timer{control};
    std::unique_ptr<Dispatcher> dispatcher;
    std::atomic<bool> inbound_scheduled{false};
    std::atomic<int> pending_writes{0};
    net::steady_timer inbound_retry{control};

    explicit Impl(Config c) : config(std::move(c)), ioc(config.io_threads) {
        metrics.Describe("cobrador_http_requests_total",
                         "counter",
                         "HTTP requests answered, by route and status.");
        metrics.Describe("cobrador_inbound_total",
                         "counter",
                         "Webhook events by channel, kind (message, status) and result (new, "
                         "duplicate).");
        metrics.Describe("cobrador_inbound_processed_total",
                         "counter",
                         "Inbound messages handled by the dialog, by channel.");
        metrics.Describe("cobrador_dialog_turns_total",
                         "counter",
                         "Inbound messages the dialog read, by the intent it understood (while a "
                         "collector holds a conversation only opt-outs and wrong numbers are "
                         "acted on).");
        metrics.Describe("cobrador_webhook_rejected_total",
                         "counter",
                         "Webhooks refused, by channel and reason (signature, malformed, busy).");
        metrics.Describe("cobrador_outbox_pending", "gauge", "Outbox rows waiting to be sent.");
        metrics.Describe("cobrador_outbox_failed", "gauge", "Outbox rows that failed for good.");
        metrics.Describe("cobrador_inbound_pending",
                         "gauge",
                         "Messages acknowledged to a provider and not yet handled by the dialog.");
        metrics.Describe("cobrador_outbox_oldest_pending_seconds",
                         "gauge",
                         "Age of the oldest outbox row waiting to be sent.");
        metrics.Describe("cobrador_http_connections", "gauge", "Open HTTP connections.");
        metrics.Describe("cobrador_tls_handshake_failures_total",
                         "counter",
                         "Connections to the HTTPS port that failed the TLS handshake.");
        metrics.Describe("cobrador_payments_total",
                         "counter",
                         "Payment notifications by result (applied, suspense, duplicate).");
        metrics.Describe(
            "cobrador_reminders_queued_total", "counter", "Reminders queued by the scheduler.");
        metrics.Describe("cobrador_event_streams",
                         "gauge",
                         "Open live-update streams (GET /api/v1/events) of the console.");
        metrics.Describe("cobrador_claims_expired_total",
                         "counter",
                         "Claimed conversations that went back to the queue after their collector "
                         "was idle.");
        metrics.Describe("cobrador_channel_enabled",
                         "gauge",
                         "Whether a channel has its credentials (1) or is off (0).");
    }

    std::string Now() const { return config.Now(std::chrono::system_clock::now()); }

    net::awaitable<std::string> MetricsText() {
        const std::string now = Now();
        auto stats =
            co_await Offload(db_pool.get_executor(), [&] { return ledger->GetOutboxStats(now); });
        if (stats) {
            metrics.Set("cobrador_outbox_pending", "", static_cast<double>(stats->pending));
            metrics.Set("cobrador_outbox_failed", "", static_cast<double>(stats->failed));
            metrics.Set(
                "cobrador_inbound_pending", "", static_cast<double>(stats->inbound_pending));
            metrics.Set(
                "cobrador_outbox_oldest_pending_seconds", "", stats->oldest_pending_seconds);
        }
        {
            const std::lock_guard lock(connections_mutex);
            metrics.Set("cobrador_http_connections", "", static_cast<double>(connections.size()));
        }
        metrics.Set("cobrador_event_streams", "", static_cast<double>(events.Subscribers()));
        metrics.Set(
            "cobrador_channel_enabled", "channel=\"whatsapp\"", config.WhatsAppEnabled() ? 1 : 0);
        metrics.Set("cobrador_channel_enabled", "channel=\"sms\"", config.SmsEnabled() ? 1 : 0);
        co_return metrics.Text();
    }

    // --- the inbound worker: runs on the ledger's thread ---

    void ScheduleInbound() {
        if (!inbound_scheduled.exchange(true)) {
            net::post(db_pool, [this] { DrainInbound(); });
        }
    }

    // Handles what webhooks stored, a group of events per transaction (one fsync for the
    // group); each event keeps its own all-or-nothing inside it. Nothing is announced (live
    // events, metrics, the dispatcher) before the group is durable.
    void DrainInbound() {
        inbound_scheduled = false;
        auto pending = ledger->PendingInboundEvents(kInboundBatch);
        if (!pending) {
            RetryInboundLater(pending.error());
            return;
        }

        struct Handled {
            std::int64_t conversation;
            std::string channel;
            std::string intent;
        };

        std::vector<Handled> handled;
        boost::system::error_code failed;
        auto committed = ledger->InOneTransaction([&] {
            for (const store::PendingInbound& event : *pending) {
                // On WhatsApp the answer quotes the message it answers.
                const TurnInput input{PayloadText(event.payload),
                                      PayloadReplyId(event.payload),
                                      event.channel == "whatsapp" ? event.provider_event_id : ""};
                const auto now = std::chrono::system_clock::now();
                // The dialog reads every message, also while a collector holds the
                // conversation (then only an opt-out, opt-in or wrong number is acted on).
                std::string intent = "none";
                auto conversation = ledger->HandleInbound(
                    event,
                    input.text,
                    [&](const dialogs::ConversationView& view) {
                        store::DialogTurn turn = Decide(view, input, *dialog, config, now);
                        intent = turn.intent;
                        return turn;
                    },
                    config.Now(now));
                if (!conversation) {
                    // The ones before it are kept; this one and the rest wait for a retry.
                    failed = conversation.error();
                    return;
                }
                handled.push_back({*conversation, event.channel, intent});
            }
        });
        if (!committed) {
            RetryInboundLater(committed.error());
            return;
        }
        for (const Handled& h : handled) {
            events.Publish(h.conversation, "message");
            metrics.Count("cobrador_inbound_processed_total", "channel=\"" + h.channel + "\"");
            metrics.Count("cobrador_dialog_turns_total", "intent=\"" + h.intent + "\"");
        }
        if (!handled.empty() && dispatcher) {
            dispatcher->Wake();
        }
        if (failed) {
            RetryInboundLater(failed);
            return;
        }
        if (pending->size() == kInboundBatch) {
            // More are waiting: queue behind whatever else waits for the ledger's thread
            // (webhooks to acknowledge above all) rather than holding it batch after batch.
            ScheduleInbound();
        }
    }

    void RetryInboundLater(const boost::system::error_code& error) {
        Log(LogLevel::kError,
            "inbound processing failed; retrying in 1 s",
            {{"error", error.message()}, {"detail", ledger->LastError()}});
        net::post(control, [this] {
            inbound_retry.expires_after(std::chrono::seconds(1));
            inbound_retry.async_wait([this](const boost::system::error_code& e) {
                if (!e && !stopping) {
                    ScheduleInbound();
                }
            });
        });
    }

    // --- webhooks ---

    // Commits a parsed webhook before answering; 503 when the ledger cannot take it now.
    net::awaitable<http::status> Store(const channels::WebhookBatch& batch) {
        const std::string channel =
            batch.messages.empty()
                ? (batch.statuses.empty()
                       ? std::string("unknown")
                       : std::string(channels::ToString(batch.statuses[0].channel)))
                : std::string(channels::ToString(batch.messages[0].channel));
        if (pending_writes.fetch_add(1) >= kMaxPendingWrites) {
            pending_writes.fetch_sub(1);
            metrics.Count("cobrador_webhook_rejected_total",
                          "channel=\"" + channel + "\",reason=\"busy\"");
            co_return http::status::service_unavailable;
        }
        std::vector<store::InboundRecord> messages;
        std::vector<store::StatusRecord> statuses;
        for (const auto& m : batch.messages) {
            messages.push_back(ToRecord(m));
        }
        for (const auto& s : batch.statuses) {
            statuses.push_back(ToRecord(s));
        }
        const std::string now = Now();
        auto stored =
            co_await commits->Write([&] { return ledger->RecordWebhook(messages, statuses, now); });
        pending_writes.fetch_sub(1);
        if (!stored) {
            Log(LogLevel::kError,
                "webhook not stored",
                {{"error", stored.error().message()}, {"channel", channel}});
            co_return http::status::service_unavailable;
        }
        const std::string labels = "channel=\"" + channel + "\"";
        metrics.Count("cobrador_inbound_total",
                      labels + ",kind=\"message\",result=\"new\"",
                      stored->messages_new);
        metrics.Count("cobrador_inbound_total",
                      labels + ",kind=\"message\",result=\"duplicate\"",
                      stored->messages_duplicate);
        metrics.Count("cobrador_inbound_total",
                      labels + ",kind=\"status\",result=\"new\"",
                      stored->statuses_new);
        metrics.Count("cobrador_inbound_total",
                      labels + ",kind=\"status\",result=\"duplicate\"",
                      stored->statuses_duplicate);
        if (stored->messages_new > 0) {
            ScheduleInbound();
        }
        if (stored->statuses_new > 0) {
            events.Publish(std::nullopt, "status");  // which conversation: not worth a lookup
        }
        // WhatsApp says the number cannot receive: the same text goes by SMS.
        for (const auto& s : batch.statuses) {
            if (s.channel == channels::Channel::kWhatsApp && s.status == "failed" &&
                s.error_code == kNotOnWhatsApp && config.SmsEnabled()) {
                const std::string provider_id = s.provider_message_id;
                auto fallback = co_await Offload(db_pool.get_executor(), [&] {
                    return ledger->FallBackToSms(0, provider_id, SmsPayload, now);
                });
                if (fallback && *fallback && dispatcher) {
                    dispatcher->Wake();
                }
            }
        }
        co_return http::status::ok;
    }

    net::awaitable<Response> WhatsAppWebhook(const Request& req, std::string_view query) {
        if (req.method() == http::verb::get) {
            if (auto challenge = channels::WhatsAppHandshake(query, config.whatsapp_verify_token)) {
                co_return MakeResponse(http::status::ok, *challenge, "text/plain");
            }
            co_return Error(http::status::forbidden, "verification failed");
        }
        if (config.whatsapp_app_secret.empty()) {
            co_return Error(http::status::not_found, "WhatsApp is off: no app secret configured");
        }
        const std::string_view signature = req["X-Hub-Signature-256"];
        auto parsed =
            channels::ParseWhatsAppWebhook(req.body(), signature, config.whatsapp_app_secret);
        if (!parsed) {
            co_return Rejected("whatsapp", parsed.error());
        }
        const auto status = co_await Store(*parsed);
        if (status != http::status::ok) {
            co_return Error(status, "busy; try again");
        }
        co_return MakeResponse(http::status::ok, "", "text/plain");
    }

    net::awaitable<Response> TwilioWebhook(const Request& req) {
        if (config.twilio_auth_token.empty()) {
            co_return Error(http::status::not_found, "SMS is off: no Twilio auth token configured");
        }
        std::string url = config.public_url;
        while (!url.empty() && url.back() == '/') {
            url.pop_back();
        }
        url += std::string(req.target());
        auto parsed = channels::ParseTwilioWebhook(
            req.body(), req["X-Twilio-Signature"], url, config.twilio_auth_token);
        if (!parsed) {
            co_return Rejected("sms", parsed.error());
        }
        const auto status = co_await Store(*parsed);
        if (status != http::status::ok) {
            co_return Error(status, "busy; try again");
        }
        // Replies go out through the REST API from the outbox, never inline.
        co_return MakeResponse(
            http::status::ok, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>", "text/xml");
    }

    // POST /webhooks/payments: signed JSON from the processor, applied at once (one small
    // transaction) and answered with what became of it.
    net::awaitable<Response> PaymentsWebhook(const Request& req) {
        if (config.payments_secret.empty()) {
            co_return Error(http::status::not_found,
                            "payments are off: no COBRADOR_PAYMENTS_SECRET configured");
        }
        if (!channels::VerifySha256Header(config.payments_secret, req.body(), req["X-Signature"])) {
            co_return Rejected("payments", channels::WebhookError::kBadSignature);
        }
        std::string problem;
        const auto payment = store::ParsePaymentJson(req.body(), problem);
        if (!payment) {
            metrics.Count("cobrador_webhook_rejected_total",
                          "channel=\"payments\",reason=\"malformed\"");
            co_return Error(http::status::bad_request, problem);
        }
        if (pending_writes.fetch_add(1) >= kMaxPendingWrites) {
            pending_writes.fetch_sub(1);
            metrics.Count("cobrador_webhook_rejected_total",
                          "channel=\"payments\",reason=\"busy\"");
            co_return Error(http::status::service_unavailable, "busy; try again");
        }
        const auto clock = std::chrono::system_clock::now();
        const auto instant = config.Instant(clock);
        const std::string now = config.Now(clock);
        const std::vector<store::PaymentRecord> batch = {*payment};
        auto applied = co_await Offload(db_pool.get_executor(), [&] {
            return ledger->ApplyPayments(
                batch, "webhook", now, [&](const store::PaymentNotice& notice) {
                    return PaymentThanks(notice, config, *strategy, instant, true);
                });
        });
        pending_writes.fetch_sub(1);
        if (!applied) {
            Log(LogLevel::kError,
                "payment not stored",
                {{"error", applied.error().message()}, {"detail", ledger->LastError()}});
            co_return Error(http::status::service_unavailable, "busy; try again");
        }
        const store::PaymentOutcome& outcome = applied->outcomes.front();
        metrics.Count("cobrador_payments_total", "result=\"" + outcome.status + "\"");
        Log(LogLevel::kInfo,
            "payment",
            {{"payment_id", outcome.payment_id},
             {"status", outcome.status},
             {"reason", outcome.reason}});
        if (outcome.message_queued && dispatcher) {
            dispatcher->Wake();
        }
        nlohmann::json body = {{"payment_id", outcome.payment_id}, {"status", outcome.status}};
        if (outcome.status == "suspense") {
            body["reason"] = outcome.reason;
        }
        co_return Json(http::status::ok, body);
    }

    Response Rejected(const std::string& channel, channels::WebhookError error) {
        const bool signature = error == channels::WebhookError::kBadSignature;
        metrics.Count("cobrador_webhook_rejected_total",
                      "channel=\"" + channel + "\",reason=\"" +
                          (signature ? "signature" : "malformed") + "\"");
        Log(LogLevel::kWarn,
            signature ? "webhook with a missing or wrong signature" : "webhook body does not parse",
            {{"channel", channel}});
        return signature ? Error(http::status::unauthorized, "missing or wrong signature")
                         : Error(http::status::bad_request, "the body does not parse");
    }

    // --demo only: play the debtor's phone without any provider.
    net::awaitable<Response> Sandbox(const Request& req, std::string_view query) {
        if (req.method() == http::verb::post) {
            const auto body = nlohmann::json::parse(req.body(), nullptr, false);
            if (body.is_discarded() || !body.is_object() || !body.contains("from") ||
                !body["from"].is_string() || !body.contains("text") || !body["text"].is_string()) {
                co_return Error(http::status::bad_request,
                                "expected {\"from\": \"+52...\", \"text\": \"...\"}");
            }
            const auto phone = dialogs::NormalizePhone(body["from"].get<std::string>());
            if (!phone) {
                co_return Error(http::status::bad_request, "from is not an E.164 phone number");
            }
            channels::InboundMessage message;
            message.channel = channels::Channel::kSandbox;
            message.provider_message_id =
                "sandbox-in-" +
                channels::Sha256Hex(
                    *phone + body["text"].get<std::string>() + Now() +
                    std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
            message.from = *phone;
            message.kind = "text";
            message.text = body["text"].get<std::string>();
            channels::WebhookBatch batch;
            batch.messages.push_back(message);
            const auto status = co_await Store(batch);
            if (status != http::status::ok) {
                co_return Error(status, "busy; try again");
            }
            co_return Json(http::status::ok,
                           {{"stored", true}, {"id", message.provider_message_id}});
        }
        const std::string key = "phone=";
        const auto at = query.find(key);
        std::string raw_phone;
        if (at != std::string_view::npos) {
            raw_phone =
                std::string(query.substr(at + key.size(), query.find('&', at) - at - key.size()));
            for (auto& c : raw_phone) {
                c = c == '+' ? ' ' : c;
            }
            if (raw_phone.rfind("%2B", 0) == 0) {
                raw_phone = "+" + raw_phone.substr(3);
            } else if (!raw_phone.empty() && raw_phone.front() == ' ') {
                raw_phone.front() = '+';
            }
        }
        const auto phone = dialogs::NormalizePhone(raw_phone);
        if (!phone) {
            co_return Error(http::status::bad_request, "give ?phone=+52... (E.164)");
        }
        auto transcript = co_await Offload(db_pool.get_executor(), [&] {
            auto found = ledger->FindConversation(*phone, "sandbox");
            if (!found || !*found) {
                return std::make_pair(std::int64_t{0}, std::vector<store::TranscriptLine>{});
            }
            auto lines = ledger->Transcript(**found);
            return std::make_pair(**found, lines ? *lines : std::vector<store::TranscriptLine>{});
        });
        nlohmann::json out = {{"phone", *phone}, {"messages", nlohmann::json::array()}};
        if (transcript.first != 0) {
            out["conversation_id"] = transcript.first;
        }
        for (const auto& line : transcript.second) {
            out["messages"].push_back({{"direction", line.direction},
                                       {"author", line.author},
                                       {"text", line.body},
                                       {"status", line.status},
                                       {"at", line.created_at}});
        }
        co_return Json(http::status::ok, out);
    }

    Response Console(std::string_view name) const {
        const auto file = ConsoleFile(name, config.demo);
        if (!file) {
            return Error(http::status::not_found, "no such file");
        }
        Response res = MakeResponse(http::status::ok, std::string(file->body), file->content_type);
        res.set(http::field::cache_control, "no-cache");
        res.set("Content-Security-Policy",
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
        res.set("X-Content-Type-Options", "nosniff");
        res.set("Referrer-Policy", "no-referrer");
        res.set("X-Frame-Options", "DENY");
        return res;
    }

    // GET /api/v1/events: authenticated like the rest of the API, then the connection becomes
    // the event stream until the client leaves or the server stops.
    template <class Stream>
    net::awaitable<std::optional<Response>> EventStream(Stream& stream, const Request& req) {
        if (req.method() != http::verb::get) {
            co_return NotAllowed("GET");
        }
        auto auth = co_await Authenticate(*api, req);
        if (auto* refused = std::get_if<Response>(&auth)) {
            co_return std::move(*refused);
        }
        metrics.Count("cobrador_http_requests_total", "route=\"/api/v1/events\",status=\"200\"");
        co_await StreamEvents(stream, events);
        co_return std::nullopt;
    }

    // Every minute: claims idle past COBRADOR_CLAIM_IDLE_MINUTES go back to the queue.
    void ScheduleClaimExpiry() {
        if (stopping) {
            return;
        }
        claim_timer.expires_after(std::chrono::seconds(
            std::min<std::int64_t>(60, std::chrono::seconds(config.claim_idle).count() / 2 + 1)));
        claim_timer.async_wait([this](const boost::system::error_code& error) {
            if (error || stopping) {
                return;
            }
            net::post(db_pool, [this] {
                const auto clock = std::chrono::system_clock::now();
                const std::string now = config.Now(clock);
                const std::string idle_since =
                    dialogs::FormatIsoInstant(config.Instant(clock) - config.claim_idle);
                auto expired = ledger->ExpireIdleClaims(idle_since, now);
                if (!expired) {
                    Log(LogLevel::kError,
                        "idle claims not expired",
                        {{"error", expired.error().message()}});
                } else {
                    for (const std::int64_t id : *expired) {
                        events.Publish(id, "expired");
                        Log(LogLevel::kInfo,
                            "idle claim went back to the queue",
                            {{"conversation", std::to_string(id)}});
                    }
                    metrics.Count("cobrador_claims_expired_total", "", expired->size());
                }
                net::post(control, [this] { ScheduleClaimExpiry(); });
            });
        });
    }

    // The reminder scheduler: a pass now and every COBRADOR_REMINDER_MINUTES (each pass is
    // idempotent; the ledger's UNIQUE key keeps a reminder from going twice).
    void ScheduleReminders(std::chrono::seconds after) {
        if (stopping || config.reminder_interval.count() == 0) {
            return;
        }
        reminder_timer.expires_after(after);
        reminder_timer.async_wait([this](const boost::system::error_code& error) {
            if (error || stopping) {
                return;
            }
            net::post(db_pool, [this] {
                const auto now = config.Instant(std::chrono::system_clock::now());
                auto pass = RunReminderPass(*ledger, config, *strategy, now, false);
                if (!pass) {
                    Log(LogLevel::kError,
                        "reminder pass failed; next in 5 minutes",
                        {{"error", pass.error().message()}, {"detail", ledger->LastError()}});
                } else {
                    metrics.Count("cobrador_reminders_queued_total", "", pass->queued.size());
                    if (!pass->queued.empty() || pass->promises_broken > 0) {
                        Log(LogLevel::kInfo,
                            "reminder pass",
                            {{"queued", std::to_string(pass->queued.size())},
                             {"promises_broken", std::to_string(pass->promises_broken)}});
                        if (dispatcher) {
                            dispatcher->Wake();
                        }
                    }
                }
                net::post(control, [this] { ScheduleReminders(config.reminder_interval); });
            });
        });
    }

    static Response NotAllowed(const char* allow) {
        Response res = Error(http::status::method_not_allowed, std::string("use ") + allow);
        res.set(http::field::allow, allow);
        return res;
    }

    static std::string RouteLabel(std::string_view target) {
        const std::string_view path = target.substr(0, target.find('?'));
        for (const char* known : {"/healthz",
                                  "/readyz",
                                  "/metrics",
                                  "/webhooks/whatsapp",
                                  "/webhooks/twilio",
                                  "/webhooks/twilio/status",
                                  "/webhooks/payments",
                                  "/sandbox/messages"}) {
            if (path == known) {
                return known;
            }
        }
        if (path.rfind("/api/v1/", 0) == 0) {
            return ApiRouteLabel(path);
        }
        if (path == "/console" || path.rfind("/console/", 0) == 0) {
            return "/console";
        }
        return "other";
    }

    net::awaitable<Response> Handle(const Request& req) {
        const std::string_view target = req.target();
        const std::string_view path = target.substr(0, target.find('?'));
        const bool get = req.method() == http::verb::get || req.method() == http::verb::head;
        if (path == "/healthz" || path == "/readyz" || path == "/metrics") {
            if (!get) {
                co_return NotAllowed("GET, HEAD");
            }
        }
        if (path == "/healthz") {
            co_return Json(http::status::ok, {{"status", "ok"}});
        }
        if (path == "/readyz") {
            auto ready = co_await Offload(db_pool.get_executor(), [&] {
                auto result = ledger->CheckReady();
                return std::make_pair(
                    result.has_error() ? result.error() : boost::system::error_code{},
                    ledger->LastError());
            });
            if (ready.first) {
                co_return Json(http::status::service_unavailable,
                               {{"status", "not ready"}, {"reason", ready.first.message()}});
            }
            co_return Json(
                http::status::ok,
                {{"status", "ready"}, {"schema_version", store::Ledger::LatestSchemaVersion()}});
        }
        if (path == "/metrics") {
            co_return MakeResponse(http::status::ok,
                                   co_await MetricsText(),
                                   "text/plain; version=0.0.4; charset=utf-8");
        }
        const std::string_view query = target.find('?') == std::string_view::npos
                                           ? std::string_view()
                                           : target.substr(target.find('?') + 1);
        const bool post = req.method() == http::verb::post;
        if (path == "/webhooks/whatsapp") {
            if (!get && !post) {
                co_return NotAllowed("GET, POST");
            }
            co_return co_await WhatsAppWebhook(req, query);
        }
        if (path == "/webhooks/payments") {
            if (!post) {
                co_return NotAllowed("POST");
            }
            co_return co_await PaymentsWebhook(req);
        }
        if (path == "/webhooks/twilio" || path == "/webhooks/twilio/status") {
            if (!post) {
                co_return NotAllowed("POST");
            }
            co_return co_await TwilioWebhook(req);
        }
        if (path.rfind("/api/v1/", 0) == 0) {
            co_return co_await HandleApi(*api, req, path, query);
        }
        if (path == "/console") {
            Response res = MakeResponse(http::status::moved_permanently, "", "text/plain");
            res.set(http::field::location, "/console/");
            co_return res;
        }
        if (path.rfind("/console/", 0) == 0) {
            if (!get) {
                co_return NotAllowed("GET, HEAD");
            }
            co_return Console(path.substr(std::string_view("/console/").size()));
        }
        if (path == "/sandbox/messages" && config.demo) {
            if (!get && !post) {
                co_return NotAllowed("GET, POST");
            }
            co_return co_await Sandbox(req, query);
        }
        co_return Error(http::status::not_found, "no such route");
    }

    template <class Stream>
    net::awaitable<void> Serve(Stream stream) {
        auto& tcp_layer = beast::get_lowest_layer(stream);
        if constexpr (kIsTls<Stream>) {
            tcp_layer.expires_after(kTlsTimeout);
            auto [handshake_error] = co_await stream.async_handshake(
                net::ssl::stream_base::server, net::as_tuple(net::use_awaitable));
            if (handshake_error) {
                // Plain HTTP to the HTTPS port, an old client, a scanner: nothing to answer.
                metrics.Count("cobrador_tls_handshake_failures_total", "");
                co_return;
            }
        }
        auto connection = std::make_shared<Connection>();
        connection->stream = &tcp_layer;
        {
            const std::lock_guard lock(connections_mutex);
            connections.insert(connection);
        }
        beast::flat_buffer buffer;
        for (;;) {
            if (stopping) {
                break;
            }
            http::request_parser<http::string_body> parser;
            parser.header_limit(kHeaderLimit);
            parser.body_limit(kBodyLimit);
            connection->idle = true;
            tcp_layer.expires_after(kReadTimeout);
            auto [read_error, read_bytes] = co_await http::async_read(
                stream, buffer, parser, net::as_tuple(net::use_awaitable));
            connection->idle = false;
            std::optional<Response> response;
            bool keep_alive = false;
            if (read_error == http::error::body_limit) {
                response = Error(http::status::payload_too_large, "the body is over 1 MiB");
                metrics.Count("cobrador_http_requests_total", "route=\"other\",status=\"413\"");
            } else if (read_error == http::error::end_of_stream || read_error == net::error::eof ||
                       read_error == net::error::operation_aborted ||
                       read_error == beast::error::timeout ||
                       read_error == net::error::connection_reset) {
                break;
            } else if (read_error) {
                response = Error(http::status::bad_request, "malformed HTTP request");
                metrics.Count("cobrador_http_requests_total", "route=\"other\",status=\"400\"");
            } else {
                Request req = parser.release();
                if (req.target().substr(0, req.target().find('?')) == "/api/v1/events") {
                    auto answer = co_await EventStream(stream, req);
                    if (!answer) {
                        break;  // the stream ran and ended with the connection
                    }
                    response = std::move(*answer);
                } else {
                    response = co_await Handle(req);
                }
                metrics.Count("cobrador_http_requests_total",
                              "route=\"" + RouteLabel(req.target()) + "\",status=\"" +
                                  std::to_string(response->result_int()) + "\"");
                keep_alive = req.keep_alive() && !stopping;
                if (req.method() == http::verb::head) {
                    response->body().clear();
                }
            }
            response->keep_alive(keep_alive);
            tcp_layer.expires_after(kReadTimeout);
            auto [write_error, written] =
                co_await http::async_write(stream, *response, net::as_tuple(net::use_awaitable));
            if (write_error || !keep_alive) {
                break;
            }
        }
        {
            const std::lock_guard lock(connections_mutex);
            connections.erase(connection);
        }
        if constexpr (kIsTls<Stream>) {
            tcp_layer.expires_after(kTlsTimeout);
            co_await stream.async_shutdown(net::as_tuple(net::use_awaitable));
        } else {
            beast::error_code ignored;
            stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
        }
        if (stopping) {
            net::post(control, [this] { FinishDrainIfDone(); });
        }
    }

    // On `control`: once the last connection is gone, nothing holds the io_context any more.
    void FinishDrainIfDone() {
        const std::lock_guard lock(connections_mutex);
        if (connections.empty()) {
            drain_deadline.cancel();
        }
    }

    net::awaitable<void> Listen() {
        for (;;) {
            auto [error, socket] = co_await acceptor.async_accept(
                net::make_strand(ioc), net::as_tuple(net::use_awaitable));
            if (error) {
                if (stopping || !acceptor.is_open()) {
                    co_return;
                }
                Log(LogLevel::kWarn, "accept failed", {{"error", error.message()}});
                continue;
            }
            auto executor = socket.get_executor();
            if (tls) {
                net::co_spawn(executor, Serve(TlsStream(std::move(socket), *tls)), LogFailure);
            } else {
                net::co_spawn(executor, Serve(beast::tcp_stream(std::move(socket))), LogFailure);
            }
        }
    }

    static void LogFailure(const std::exception_ptr& failure) {
        if (!failure) {
            return;
        }
        try {
            std::rethrow_exception(failure);
        } catch (const std::exception& e) {
            Log(LogLevel::kError, "connection failed", {{"error", e.what()}});
        }
    }

    // Runs on `control`.
    void BeginShutdown() {
        if (stopping.exchange(true)) {
            return;
        }
        Log(LogLevel::kInfo, "shutting down: no new connections, finishing requests in flight");
        beast::error_code ignored;
        acceptor.close(ignored);
        signals.cancel();
        inbound_retry.cancel();
        claim_timer.cancel();
        reminder_timer.cancel();
        events.Close();
        if (dispatcher) {
            dispatcher->Stop();
        }
        std::vector<std::shared_ptr<Connection>> open;
        {
            const std::lock_guard lock(connections_mutex);
            open.assign(connections.begin(), connections.end());
        }
        for (const auto& connection : open) {
            // Each connection's fields belong to its strand: close only the idle ones there.
            net::post(connection->stream->get_executor(), [connection] {
                if (connection->idle) {
                    connection->stream->cancel();
                }
            });
        }
        if (open.empty()) {
            return;
        }
        drain_deadline.expires_after(kDrainTimeout);
        drain_deadline.async_wait([this](const boost::system::error_code& error) {
            if (!error) {
                Log(LogLevel::kWarn, "requests still in flight after the drain timeout");
                ioc.stop();
            }
        });
        FinishDrainIfDone();
    }
};

Server::Server(Config config) : impl_(std::make_unique<Impl>(std::move(config))) {}

Server::~Server() {
    impl_->db_pool.join();
}

boost::system::result<std::uint16_t, std::string> Server::Start() {
    auto dialog = DialogSettings(impl_->config);
    if (!dialog) {
        return {boost::system::in_place_error, dialog.error()};
    }
    impl_->dialog.emplace(std::move(*dialog));
    auto strategy = LoadReminderStrategy(impl_->config);
    if (!strategy) {
        return {boost::system::in_place_error, strategy.error()};
    }
    impl_->strategy.emplace(std::move(*strategy));
    auto ledger = store::Ledger::Open(impl_->config.db_path);
    if (!ledger) {
        return {
            boost::system::in_place_error,
            "cannot open the ledger " + impl_->config.db_path + ": " + ledger.error().message()};
    }
    if (auto ready = ledger->CheckReady(); !ready) {
        Log(LogLevel::kWarn,
            "the ledger is not ready; /readyz answers 503 until it is",
            {{"reason", ready.error().message()}});
    }
    if (impl_->config.Tls()) {
        auto context = TlsContext(impl_->config);
        if (!context) {
            return {boost::system::in_place_error, context.error()};
        }
        impl_->tls.emplace(std::move(*context));
    }
    impl_->ledger.emplace(std::move(*ledger));
    impl_->commits.emplace(impl_->db_pool, *impl_->ledger);
    impl_->api.emplace(ApiContext{
        impl_->config, *impl_->ledger, impl_->db_pool, impl_->events, [impl = impl_.get()] {
            if (impl->dispatcher) {
                impl->dispatcher->Wake();
            }
        }});

    beast::error_code error;
    tcp::resolver resolver(impl_->ioc);
    const auto endpoints = resolver.resolve(impl_->config.listen_host,
                                            std::to_string(impl_->config.listen_port),
                                            tcp::resolver::passive,
                                            error);
    if (error || endpoints.empty()) {
        return {boost::system::in_place_error,
                "cannot resolve " + impl_->config.listen_host + ": " + error.message()};
    }
    const tcp::endpoint endpoint = endpoints.begin()->endpoint();
    auto& acceptor = impl_->acceptor;
    if (acceptor.open(endpoint.protocol(), error) ||
        acceptor.set_option(net::socket_base::reuse_address(true), error) ||
        acceptor.bind(endpoint, error) ||
        acceptor.listen(net::socket_base::max_listen_connections, error)) {
        return {boost::system::in_place_error,
                "cannot listen on " + impl_->config.listen_host + ":" +
                    std::to_string(impl_->config.listen_port) + ": " + error.message()};
    }
    const std::uint16_t port = acceptor.local_endpoint().port();
    Log(LogLevel::kInfo,
        "listening",
        {{"address", endpoint.address().to_string()}, {"port", std::to_string(port)}});
    return port;
}

void Server::Run() {
    Impl& impl = *impl_;
    impl.signals.async_wait([&impl](const boost::system::error_code& error, int signal) {
        if (!error) {
            Log(LogLevel::kInfo, "signal received", {{"signal", std::to_string(signal)}});
            impl.BeginShutdown();
        }
    });
    net::co_spawn(impl.control, impl.Listen(), Impl::LogFailure);
    impl.dispatcher = std::make_unique<Dispatcher>(
        impl.ioc,
        impl.db_pool,
        *impl.ledger,
        *impl.commits,
        impl.config,
        impl.metrics,
        impl.config.demo,
        impl.strategy->hours,
        [&impl](std::int64_t conversation) { impl.events.Publish(conversation, "status"); });
    impl.dispatcher->Start();
    impl.ScheduleInbound();  // events acknowledged before a crash or a stop
    net::post(impl.control, [&impl] {
        impl.ScheduleClaimExpiry();
        impl.ScheduleReminders(std::chrono::seconds(2));
    });
    std::vector<std::thread> threads;
    for (int i = 1; i < impl.config.io_threads; ++i) {
        threads.emplace_back([&impl] { impl.ioc.run(); });
    }
    impl.ioc.run();
    for (auto& t : threads) {
        t.join();
    }
    impl.db_pool.join();
    Log(LogLevel::kInfo, "stopped");
}

void Server::Stop() {
    net::post(impl_->control, [impl = impl_.get()] { impl->BeginShutdown(); });
}

}  // namespace cobrador::bot
