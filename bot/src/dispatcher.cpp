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
#include "polling_loop.hpp"

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

    // Rows and jobs held by a replica known to be gone (this one before a restart, or a dead
    // process of this host) are freed at once rather than when their leases run out.
    net::awaitable<void> FreeLeasesOfTheGone() {
        const std::string now = Now();
        const std::string self = config.replica_id;
        auto freed = co_await ledger.Run([&](store::Ledger& l) -> store::Result<std::int64_t> {
            auto holders = l.LeaseHolders(now);
            if (!holders) {
                return holders.error();
            }
            std::int64_t total = 0;
            for (const std::string& holder : *holders) {
                if (!ReplicaGone(holder, self)) {
                    continue;
                }
                auto released = l.ReleaseLeasesOf(holder);
                if (!released) {
                    return released.error();
                }
                Log(LogLevel::kInfo,
                    "took over the leases of a replica that is gone",
                    {{"holder", holder}, {"leases", std::to_string(*released)}});
                total += *released;
            }
            return total;
        });
        if (!freed) {
            Log(LogLevel::kWarn,
                "leases of gone replicas not freed; they run out on their own",
                {{"error", freed.error().message()}});
        }
    }

    net::awaitable<void> Run() {
        auto self = shared_from_this();
        co_await FreeLeasesOfTheGone();
        while (!stopping) {
            woken = false;
            if (busy_recipients.size() >= kMaxRecipientsInFlight) {
                co_await Sleep(kPoll);
                continue;
            }
            const std::string now = Now();
            const std::string until = LeaseUntil();
            const std::string owner = config.replica_id;
            auto due = co_await ledger.Run(
                [&](store::Ledger& l) { return l.ClaimOutbox(owner, now, until, kBatch); });
            if (!due) {
                Log(LogLevel::kWarn, "outbox read failed", {{"error", due.error().message()}});
                co_await Sleep(kPoll);
                continue;
            }
            // One queue per recipient, in row order. The claim skipped recipients with a row
            // held by anyone, this replica's sends in flight included.
            std::map<std::string, std::vector<store::OutboxItem>> by_recipient;
            for (auto& item : *due) {
                by_recipient[item.channel + ":" + item.recipient].push_back(std::move(item));
            }
            if (by_recipient.empty()) {
                co_await Sleep(kPoll);
                continue;
            }
            const auto claimed_at = std::chrono::steady_clock::now();
            std::vector<std::pair<std::int64_t, std::int64_t>> spare;
            for (auto& [key, items] : by_recipient) {
                if (busy_recipients.size() >= kMaxRecipientsInFlight) {
                    AddLeases(items, 0, spare);
                    continue;
                }
                busy_recipients.insert(key);
                net::co_spawn(
                    strand,
                    SendAll(key, std::move(items), claimed_at),
                    [](const std::exception_ptr& failure) {
                        if (failure) {
                            try {
                                std::rethrow_exception(failure);
                            } catch (const std::exception& e) {
                                Log(LogLevel::kError, "outbox send failed", {{"error", e.what()}});
                            }
                        }
                    });
            }
            co_await Release(std::move(spare));
        }
    }

    // How long a claim holds its rows: a few sends' worth. A replica that dies mid-send leaves
    // them to the others after this long.
    std::chrono::seconds Lease() const {
        return config.send_timeout * 4 + std::chrono::seconds(30);
    }

    std::string LeaseUntil() const {
        return config.Now(std::chrono::system_clock::now() + Lease());
    }

    // The (row, lease) of items[from...], for Release.
    static void AddLeases(const std::vector<store::OutboxItem>& items,
                          std::size_t from,
                          std::vector<std::pair<std::int64_t, std::int64_t>>& out) {
        for (std::size_t i = from; i < items.size(); ++i) {
            out.emplace_back(items[i].id, items[i].lease);
        }
    }

    // Rows claimed but not tried go back at once, for whoever looks next.
    net::awaitable<void> Release(std::vector<std::pair<std::int64_t, std::int64_t>> leases) {
        if (leases.empty()) {
            co_return;
        }
        auto released =
            co_await ledger.Run([&](store::Ledger& l) { return l.ReleaseOutbox(leases); });
        if (!released) {
            // They come back when their lease runs out.
            Log(LogLevel::kWarn,
                "outbox rows not released",
                {{"rows", std::to_string(leases.size())}, {"error", released.error().message()}});
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
    // later message never overtakes an earlier one, and before a send that could outlast the
    // claim's lease. The rows not tried are released.
    net::awaitable<void> SendAll(std::string key,
                                 std::vector<store::OutboxItem> items,
                                 std::chrono::steady_clock::time_point claimed_at) {
        auto self = shared_from_this();
        const auto last_start = claimed_at + Lease() - config.send_timeout * 2;
        std::size_t tried = 0;
        while (tried < items.size() && !stopping && std::chrono::steady_clock::now() < last_start) {
            const bool done = co_await SendOne(items[tried++]);
            if (!done) {
                break;
            }
        }
        std::vector<std::pair<std::int64_t, std::int64_t>> rest;
        AddLeases(items, tried, rest);
        co_await Release(std::move(rest));
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
                const auto lease = item.lease;
                co_await ledger.Write(
                    [&](store::Ledger& l) { return l.DeferOutbox(id, lease, until); });
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
                const auto lease = item.lease;
                const std::string provider_id = outcome.provider_message_id;
                // The provider has it: a record that fails (the database blinked) is tried again
                // a few times before the row is left to be sent again.
                auto saved = co_await ledger.Write([&](store::Ledger& l) {
                    return l.MarkOutboxSent(id, lease, provider_id, now);
                });
                for (auto pause = std::chrono::milliseconds(250);
                     !saved && saved.error() != store::Errc::kLeaseLost &&
                     pause <= std::chrono::seconds(2);
                     pause *= 2) {
                    net::steady_timer wait(strand);
                    wait.expires_after(pause);
                    co_await wait.async_wait(net::as_tuple(net::use_awaitable));
                    saved = co_await ledger.Write([&](store::Ledger& l) {
                        return l.MarkOutboxSent(id, lease, provider_id, now);
                    });
                }
                if (!saved && saved.error() == store::Errc::kLeaseLost) {
                    // We took too long; another replica took the row over and sends it too
                    // (at least once), and its record stands.
                    Log(LogLevel::kWarn,
                        "sent after the lease ran out: another replica owns the row",
                        {{"outbox_id", std::to_string(id)}});
                    co_return false;
                }
                if (!saved) {
                    // The provider has it; the row stays pending and is sent again when its
                    // lease runs out. Rare (the database is gone for seconds), and a duplicate
                    // beats a lost reply.
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
                const auto lease = item.lease;
                co_await ledger.Write(
                    [&](store::Ledger& l) { return l.MarkOutboxRetry(id, lease, next, why, now); });
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
        const auto lease = item.lease;
        auto recorded = co_await ledger.Write(
            [&](store::Ledger& l) { return l.MarkOutboxFailed(id, lease, code, why, now); });
        if (!recorded && recorded.error() == store::Errc::kLeaseLost) {
            Log(LogLevel::kWarn,
                "failed after the lease ran out: another replica owns the row",
                {{"outbox_id", std::to_string(id)}});
            co_return false;
        }
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
        const auto lease = item.lease;
        const std::string provider_id = "sandbox-" + std::to_string(id);
        const std::string channel = item.channel;
        co_await ledger.Write([&](store::Ledger& l) {
            auto sent = l.MarkOutboxSent(id, lease, provider_id, now);
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
    SpawnLogged(impl_->strand, impl_->Run(), "outbox dispatcher");
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
