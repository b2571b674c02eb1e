#include "dispatcher.hpp"

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "bot/log.hpp"
#include "channels/twilio.hpp"
#include "channels/whatsapp.hpp"
#include "dialogs/calendar.hpp"
#include "dialogs/contact_policy.hpp"
#include "dialogs/phone.hpp"

#include "http_client.hpp"
#include "outbound_json.hpp"

namespace cobrador::bot {

namespace net = boost::asio;

namespace {

constexpr std::size_t kBatch = 64;
constexpr std::size_t kMaxRecipientsInFlight = 32;
constexpr int kMaxAttempts = 12;
constexpr auto kPoll = std::chrono::milliseconds(500);
constexpr auto kFirstRetry = std::chrono::seconds(1);
constexpr auto kLongestRetry = std::chrono::seconds(300);

}  // namespace

const char* const kNotOnWhatsApp = "131026";

std::string SmsPayload(const std::string& text) {
    channels::OutboundMessage message;
    message.text = text;
    return OutboundToJson(message);
}

struct Dispatcher::Impl : std::enable_shared_from_this<Impl> {
    net::strand<net::io_context::executor_type> strand;
    LedgerThread& ledger;
    const Config& config;
    Metrics& metrics;
    bool sandbox_when_off;
    dialogs::ContactHours hours;
    std::function<void(std::int64_t)> on_status;
    HttpClient client;
    net::steady_timer timer;
    bool stopping = false;                  // on strand
    bool woken = false;                     // on strand: something changed since we last looked
    std::set<std::string> busy_recipients;  // on strand: a send to them is in flight
    std::set<std::int64_t> busy_rows;       // on strand
    std::mt19937_64 random{std::random_device{}()};

    Impl(net::io_context& ioc,
         LedgerThread& l,
         const Config& c,
         Metrics& m,
         bool sandbox,
         dialogs::ContactHours contact_hours,
         std::function<void(std::int64_t)> status_changed)
        : strand(net::make_strand(ioc)),
          ledger(l),
          config(c),
          metrics(m),
          sandbox_when_off(sandbox),
          hours(std::move(contact_hours)),
          on_status(std::move(status_changed)),
          client(ioc.get_executor()),
          timer(strand) {}

    std::string Now() const { return config.Now(std::chrono::system_clock::now()); }

    std::chrono::seconds Backoff(int attempts, std::optional<std::chrono::seconds> retry_after) {
        auto delay = kFirstRetry * (1LL << std::min(attempts, 10));
        delay = std::min<std::chrono::seconds>(delay, kLongestRetry);
        // Full jitter over the upper half: retries from many rows do not arrive together.
        std::uniform_int_distribution<long long> pick(delay.count() / 2, delay.count());
        std::chrono::seconds chosen{pick(random)};
        if (retry_after && *retry_after > chosen) {
            chosen = std::min<std::chrono::seconds>(*retry_after, kLongestRetry);
        }
        return chosen;
    }

    net::awaitable<void> Run() {
        auto self = shared_from_this();
        while (!stopping) {
            woken = false;
            if (busy_recipients.size() >= kMaxRecipientsInFlight) {
                co_await Sleep(kPoll);
                continue;
            }
            std::vector<std::int64_t> exclude(busy_rows.begin(), busy_rows.end());
            const std::string now = Now();
            auto due = co_await ledger.Run(
                [&](store::Ledger& l) { return l.DueOutbox(now, kBatch, exclude); });
            if (!due) {
                Log(LogLevel::kWarn, "outbox read failed", {{"error", due.error().message()}});
                co_await Sleep(kPoll);
                continue;
            }
            // One queue per recipient, in row order; skip recipients with a send in flight.
            std::map<std::string, std::vector<store::OutboxItem>> by_recipient;
            for (auto& item : *due) {
                const std::string key = item.channel + ":" + item.recipient;
                if (busy_recipients.count(key) == 0) {
                    by_recipient[key].push_back(std::move(item));
                }
            }
            if (by_recipient.empty()) {
                co_await Sleep(kPoll);
                continue;
            }
            for (auto& [key, items] : by_recipient) {
                if (busy_recipients.size() >= kMaxRecipientsInFlight) {
                    break;
                }
                busy_recipients.insert(key);
                for (const auto& item : items) {
                    busy_rows.insert(item.id);
                }
                net::co_spawn(
                    strand, SendAll(key, std::move(items)), [](const std::exception_ptr& failure) {
                        if (failure) {
                            try {
                                std::rethrow_exception(failure);
                            } catch (const std::exception& e) {
                                Log(LogLevel::kError, "outbox send failed", {{"error", e.what()}});
                            }
                        }
                    });
            }
        }
    }

    net::awaitable<void> Sleep(std::chrono::milliseconds duration) {
        if (std::exchange(woken, false)) {
            co_return;  // a wake-up came while we were busy: look again at once
        }
        timer.expires_after(duration);
        co_await timer.async_wait(net::as_tuple(net::use_awaitable));
    }

    // Sends one recipient's rows in order; stops at the first that is not done, so that a
    // later message never overtakes an earlier one.
    net::awaitable<void> SendAll(std::string key, std::vector<store::OutboxItem> items) {
        auto self = shared_from_this();
        for (const auto& item : items) {
            const bool done = co_await SendOne(item);
            if (!done) {
                break;
            }
        }
        for (const auto& item : items) {
            busy_rows.erase(item.id);
        }
        busy_recipients.erase(key);
        Poke();  // a slot is free: look for more
    }

    // Returns true when the row is finished (sent or failed for good).
    net::awaitable<bool> SendOne(const store::OutboxItem& item) {
        const std::string channel = item.channel;
        if (!item.contact_timezone.empty()) {
            // A message we started: only inside the contact hours, whenever it falls due.
            const auto now = config.Instant(std::chrono::system_clock::now());
            dialogs::Recipient recipient;
            recipient.timezone = item.contact_timezone;
            const auto may =
                dialogs::MayWrite(dialogs::WritePurpose::kWeStart, recipient, now, &hours);
            if (may.block == dialogs::WriteBlock::kOutsideHours) {
                const std::string until = dialogs::FormatIsoInstant(
                    may.not_before ? *may.not_before : now + std::chrono::hours(24));
                const auto id = item.id;
                co_await ledger.Write([&](store::Ledger& l) { return l.DeferOutbox(id, until); });
                metrics.Count("cobrador_outbound_total",
                              "channel=\"" + channel + "\",result=\"deferred\"");
                co_return false;
            }
        }
        const std::string labels = "channel=\"" + channel + "\"";
        auto message = OutboundFromJson(item.payload);
        if (!message) {
            const std::string code = "payload";
            const std::string why = "the outbox row is not a message";
            co_return co_await Fail(item, code, why);
        }
        message->to = item.recipient;
        const bool whatsapp_on =
            !config.whatsapp_access_token.empty() && !config.whatsapp_phone_number_id.empty();
        const bool sms_on = config.SmsEnabled();
        const bool off = (channel == "whatsapp" && !whatsapp_on) || (channel == "sms" && !sms_on);
        if (channel == "sandbox" || (off && sandbox_when_off)) {
            co_return co_await Sandbox(item);
        }
        if (off) {
            const std::string code = "channel_off";
            const std::string why = channel + " has no credentials";
            co_return co_await Fail(item, code, why);
        }
        boost::system::result<channels::HttpCall, std::string> call =
            channel == "whatsapp" ? channels::RenderWhatsApp(*message,
                                                             {config.whatsapp_api_base,
                                                              config.whatsapp_access_token,
                                                              config.whatsapp_phone_number_id})
                                  : channels::RenderTwilio(*message,
                                                           {config.twilio_api_base,
                                                            config.twilio_account_sid,
                                                            config.twilio_auth_token,
                                                            config.twilio_from,
                                                            StatusCallbackUrl()});
        if (!call) {
            const std::string code = "render";
            const std::string why = call.error();
            co_return co_await Fail(item, code, why);
        }
        const auto started = std::chrono::steady_clock::now();
        const ClientResponse response = co_await client.Send(std::move(*call), config.send_timeout);
        metrics.Observe(
            "cobrador_send_seconds",
            labels,
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
        channels::SendOutcome outcome;
        if (response.error) {
            outcome.kind = channels::SendOutcome::Kind::kRetry;
            outcome.error_message = response.error.message();
        } else if (channel == "whatsapp") {
            outcome = channels::InterpretWhatsAppResponse(
                response.status, response.body, response.retry_after);
        } else {
            outcome = channels::InterpretTwilioResponse(
                response.status, response.body, response.retry_after);
        }
        switch (outcome.kind) {
            case channels::SendOutcome::Kind::kSent: {
                const std::string now = Now();
                const auto id = item.id;
                const std::string provider_id = outcome.provider_message_id;
                auto saved = co_await ledger.Write(
                    [&](store::Ledger& l) { return l.MarkOutboxSent(id, provider_id, now); });
                if (!saved) {
                    // The provider has it; the row stays pending and may be sent again. Rare
                    // (the disk failed just now), and a duplicate beats a lost reply.
                    Log(LogLevel::kError,
                        "sent but not recorded",
                        {{"outbox_id", std::to_string(id)}, {"error", saved.error().message()}});
                    co_return false;
                }
                metrics.Count("cobrador_outbound_total", labels + ",result=\"sent\"");
                Notify(item);
                Log(LogLevel::kInfo,
                    "message sent",
                    {{"channel", channel},
                     {"outbox_id", std::to_string(id)},
                     {"to", dialogs::RedactPhone(item.recipient)}});
                co_return true;
            }
            case channels::SendOutcome::Kind::kRetry: {
                if (item.attempts + 1 >= kMaxAttempts) {
                    const std::string code = "gave_up";
                    const std::string why = "no success after " + std::to_string(kMaxAttempts) +
                                            " attempts: " + outcome.error_message;
                    co_return co_await Fail(item, code, why);
                }
                const auto delay = Backoff(item.attempts, outcome.retry_after);
                // Records keep whole seconds: round up, so a row is never due before its delay.
                const std::string next = config.Now(std::chrono::system_clock::now() + delay +
                                                    std::chrono::milliseconds(999));
                const std::string why =
                    (outcome.error_code.empty() ? std::string() : outcome.error_code + ": ") +
                    outcome.error_message;
                const std::string now = Now();
                const auto id = item.id;
                co_await ledger.Write(
                    [&](store::Ledger& l) { return l.MarkOutboxRetry(id, next, why, now); });
                metrics.Count("cobrador_outbound_total", labels + ",result=\"retry\"");
                Log(LogLevel::kWarn,
                    "send will be retried",
                    {{"channel", channel},
                     {"outbox_id", std::to_string(id)},
                     {"in_seconds", std::to_string(delay.count())},
                     {"error", why}});
                co_return false;
            }
            case channels::SendOutcome::Kind::kPermanent: {
                const std::string code =
                    outcome.error_code.empty() ? std::string("rejected") : outcome.error_code;
                const std::string why = outcome.error_message;
                co_return co_await Fail(item, code, why);
            }
        }
        co_return false;
    }

    // By reference: GCC 12 destroys temporaries of a co_await full-expression twice, so callers
    // pass named strings that outlive the call (bot/include/bot/offload.hpp).
    net::awaitable<bool> Fail(const store::OutboxItem& item,
                              const std::string& code,
                              const std::string& why) {
        const std::string now = Now();
        const auto id = item.id;
        co_await ledger.Write(
            [&](store::Ledger& l) { return l.MarkOutboxFailed(id, code, why, now); });
        metrics.Count("cobrador_outbound_total",
                      "channel=\"" + item.channel + "\",result=\"failed\"");
        Notify(item);
        Log(LogLevel::kWarn,
            "send failed for good",
            {{"channel", item.channel},
             {"outbox_id", std::to_string(id)},
             {"error_code", code},
             {"error", why}});
        if (item.channel == "whatsapp" && code == kNotOnWhatsApp && config.SmsEnabled()) {
            const auto message = item.message_id;
            auto fallback = co_await ledger.Write(
                [&](store::Ledger& l) { return l.FallBackToSms(message, "", SmsPayload, now); });
            if (fallback && *fallback) {
                Log(LogLevel::kInfo,
                    "not a WhatsApp number: sent by SMS instead",
                    {{"outbox_id", std::to_string(id)}});
                Poke();
            }
        }
        co_return true;
    }

    // --demo without credentials: the message is "delivered" to the sandbox, where the console
    // and `chat` show it. Nothing leaves the machine.
    net::awaitable<bool> Sandbox(const store::OutboxItem& item) {
        const std::string now = Now();
        const auto id = item.id;
        const std::string provider_id = "sandbox-" + std::to_string(id);
        const std::string channel = item.channel;
        co_await ledger.Write([&](store::Ledger& l) {
            auto sent = l.MarkOutboxSent(id, provider_id, now);
            if (!sent) {
                return sent;
            }
            store::StatusRecord delivered{channel, provider_id, "delivered", "", "", now};
            auto recorded = l.RecordWebhook({}, {delivered}, now);
            return recorded ? store::Result<void>{} : store::Result<void>{recorded.error()};
        });
        metrics.Count("cobrador_outbound_total",
                      "channel=\"" + item.channel + "\",result=\"sandbox\"");
        Notify(item);
        co_return true;
    }

    void Notify(const store::OutboxItem& item) const {
        if (on_status) {
            on_status(item.conversation_id);
        }
    }

    // On strand.
    void Poke() {
        woken = true;
        timer.cancel();
    }

    std::string StatusCallbackUrl() const {
        std::string base = config.public_url;
        while (!base.empty() && base.back() == '/') {
            base.pop_back();
        }
        return base + "/webhooks/twilio/status";
    }
};

Dispatcher::Dispatcher(net::io_context& ioc,
                       LedgerThread& ledger,
                       const Config& config,
                       Metrics& metrics,
                       bool sandbox_when_off,
                       dialogs::ContactHours hours,
                       std::function<void(std::int64_t)> status_changed)
    : impl_(std::make_shared<Impl>(ioc,
                                   ledger,
                                   config,
                                   metrics,
                                   sandbox_when_off,
                                   std::move(hours),
                                   std::move(status_changed))) {
    metrics.Describe(
        "cobrador_outbound_total",
        "counter",
        "Outbound send attempts by channel and result (sent, retry, failed, sandbox).");
    metrics.Describe("cobrador_send_seconds", "histogram", "Provider send latency by channel.");
}

Dispatcher::~Dispatcher() = default;

void Dispatcher::Start() {
    net::co_spawn(impl_->strand, impl_->Run(), [](const std::exception_ptr& failure) {
        if (failure) {
            try {
                std::rethrow_exception(failure);
            } catch (const std::exception& e) {
                Log(LogLevel::kError, "outbox dispatcher stopped", {{"error", e.what()}});
            }
        }
    });
}

void Dispatcher::Wake() {
    net::post(impl_->strand, [impl = impl_] { impl->Poke(); });
}

void Dispatcher::Stop() {
    net::post(impl_->strand, [impl = impl_] {
        impl->stopping = true;
        impl->timer.cancel();
    });
}

}  // namespace cobrador::bot
