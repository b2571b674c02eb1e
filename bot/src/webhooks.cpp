#include "webhooks.hpp"

#include <nlohmann/json.hpp>

#include "bot/demo.hpp"
#include "bot/log.hpp"
#include "channels/payment_providers.hpp"
#include "channels/signature.hpp"
#include "channels/twilio.hpp"
#include "channels/whatsapp.hpp"
#include "dialogs/json_text.hpp"
#include "dialogs/money.hpp"
#include "dialogs/phone.hpp"
#include "dialogs/reference.hpp"
#include "store/payments.hpp"

#include "dispatcher.hpp"
#include "proactive.hpp"
#include "webhook_records.hpp"

namespace cobrador::bot {

namespace net = boost::asio;

namespace {
// Webhook writes waiting for the ledger's thread; past this, providers get 503 and retry.
constexpr int kMaxPendingWrites = 512;

}  // namespace

bool Webhooks::Admit(const std::string& channel) {
    if (pending_writes_.fetch_add(1) >= kMaxPendingWrites) {
        pending_writes_.fetch_sub(1);
        s_.metrics.Count("cobrador_webhook_rejected_total",
                         "channel=\"" + channel + "\",reason=\"busy\"");
        return false;
    }
    return true;
}

net::awaitable<http::status> Webhooks::Store(const channels::WebhookBatch& batch) {
    const std::string channel =
        batch.messages.empty()
            ? (batch.statuses.empty() ? std::string("unknown")
                                      : std::string(channels::ToString(batch.statuses[0].channel)))
            : std::string(channels::ToString(batch.messages[0].channel));
    if (!Admit(channel)) {
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
    const std::string now = s_.Now();
    auto stored = co_await s_.ledger.Write(
        [&](store::Ledger& l) { return l.RecordWebhook(messages, statuses, now); });
    pending_writes_.fetch_sub(1);
    if (!stored) {
        Log(LogLevel::kError,
            "webhook not stored",
            {{"error", stored.error().message()}, {"channel", channel}});
        co_return http::status::service_unavailable;
    }
    const std::string labels = "channel=\"" + channel + "\"";
    s_.metrics.Count("cobrador_inbound_total",
                     labels + ",kind=\"message\",result=\"new\"",
                     stored->messages_new);
    s_.metrics.Count("cobrador_inbound_total",
                     labels + ",kind=\"message\",result=\"duplicate\"",
                     stored->messages_duplicate);
    s_.metrics.Count(
        "cobrador_inbound_total", labels + ",kind=\"status\",result=\"new\"", stored->statuses_new);
    s_.metrics.Count("cobrador_inbound_total",
                     labels + ",kind=\"status\",result=\"duplicate\"",
                     stored->statuses_duplicate);
    if (stored->messages_new > 0) {
        inbound_.Schedule();
    }
    if (stored->statuses_new > 0) {
        s_.events.Publish(std::nullopt, "status");  // which conversation: not worth a lookup
    }
    // WhatsApp says the number cannot receive: the same text goes by SMS.
    for (const auto& s : batch.statuses) {
        if (s.channel == channels::Channel::kWhatsApp && s.status == "failed" &&
            s.error_code == kNotOnWhatsApp && s_.config.SmsEnabled()) {
            const std::string provider_id = s.provider_message_id;
            auto fallback = co_await s_.ledger.Run(
                [&](store::Ledger& l) { return l.FallBackToSms(0, provider_id, SmsPayload, now); });
            if (fallback && *fallback) {
                s_.wake_dispatcher();
            }
        }
    }
    co_return http::status::ok;
}

net::awaitable<Response> Webhooks::WhatsApp(const Request& req, std::string_view query) {
    if (req.method() == http::verb::get) {
        if (auto challenge = channels::WhatsAppHandshake(query, s_.config.whatsapp_verify_token)) {
            co_return MakeResponse(http::status::ok, *challenge, "text/plain");
        }
        co_return Error(http::status::forbidden, "verification failed");
    }
    if (s_.config.whatsapp_app_secret.empty()) {
        co_return Error(http::status::not_found, "WhatsApp is off: no app secret configured");
    }
    const std::string_view signature = req["X-Hub-Signature-256"];
    auto parsed =
        channels::ParseWhatsAppWebhook(req.body(), signature, s_.config.whatsapp_app_secret);
    if (!parsed) {
        co_return Rejected("whatsapp", parsed.error());
    }
    const auto status = co_await Store(*parsed);
    if (status != http::status::ok) {
        co_return Error(status, "busy; try again");
    }
    co_return MakeResponse(http::status::ok, "", "text/plain");
}

net::awaitable<Response> Webhooks::Twilio(const Request& req) {
    if (s_.config.twilio_auth_token.empty()) {
        co_return Error(http::status::not_found, "SMS is off: no Twilio auth token configured");
    }
    std::string url = s_.config.public_url;
    while (!url.empty() && url.back() == '/') {
        url.pop_back();
    }
    url += std::string(req.target());
    auto parsed = channels::ParseTwilioWebhook(
        req.body(), req["X-Twilio-Signature"], url, s_.config.twilio_auth_token);
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
net::awaitable<Response> Webhooks::Payments(const Request& req) {
    if (s_.config.payments_secret.empty()) {
        co_return Error(http::status::not_found,
                        "payments are off: no COBRADOR_PAYMENTS_SECRET configured");
    }
    if (!channels::VerifySha256Header(s_.config.payments_secret, req.body(), req["X-Signature"])) {
        co_return Rejected("payments", channels::WebhookError::kBadSignature);
    }
    co_return co_await ApplyPayment(req.body());
}

net::awaitable<Response> Webhooks::ApplyPayment(const std::string& body_text) {
    std::string problem;
    const auto payment = store::ParsePaymentJson(body_text, problem);
    if (!payment) {
        s_.metrics.Count("cobrador_webhook_rejected_total",
                         "channel=\"payments\",reason=\"malformed\"");
        co_return Error(http::status::bad_request, problem);
    }
    if (!Admit("payments")) {
        co_return Error(http::status::service_unavailable, "busy; try again");
    }
    const auto clock = std::chrono::system_clock::now();
    const auto instant = s_.config.Instant(clock);
    const std::string now = s_.config.Now(clock);
    const std::vector<store::PaymentRecord> batch = {*payment};
    auto applied = co_await s_.ledger.Run([&](store::Ledger& l) {
        return l.ApplyPayments(batch, "webhook", now, [&](const store::PaymentNotice& notice) {
            return PaymentThanks(notice, s_.config, s_.strategy, instant, true);
        });
    });
    pending_writes_.fetch_sub(1);
    if (!applied) {
        Log(LogLevel::kError, "payment not stored", {{"error", applied.error().message()}});
        co_return Error(http::status::service_unavailable, "busy; try again");
    }
    const store::PaymentOutcome& outcome = applied->outcomes.front();
    s_.metrics.Count("cobrador_payments_total", "result=\"" + outcome.status + "\"");
    Log(LogLevel::kInfo,
        "payment",
        {{"payment_id", outcome.payment_id},
         {"status", outcome.status},
         {"reason", outcome.reason}});
    if (outcome.message_queued) {
        s_.wake_dispatcher();
    }
    nlohmann::json body = {{"payment_id", outcome.payment_id}, {"status", outcome.status}};
    if (outcome.status == "suspense") {
        body["reason"] = outcome.reason;
    }
    co_return Json(http::status::ok, body);
}

net::awaitable<Response> Webhooks::ProviderPayments(const Request& req,
                                                    std::string_view provider,
                                                    std::string_view query) {
    const Config& c = s_.config;
    channels::Verdict verdict;
    if (provider == "stripe" && !c.stripe_webhook_secret.empty()) {
        const auto real_now = std::chrono::duration_cast<std::chrono::seconds>(
            std::chrono::system_clock::now().time_since_epoch());  // not COBRADOR_TODAY's
        verdict = channels::ParseStripe(
            req.body(), req["Stripe-Signature"], c.stripe_webhook_secret, real_now.count());
    } else if (provider == "mercadopago" && !c.mercadopago_webhook_secret.empty()) {
        verdict = channels::ParseMercadoPago(req.body(),
                                             query,
                                             req["x-signature"],
                                             req["x-request-id"],
                                             c.mercadopago_webhook_secret);
    } else if (provider == "conekta" && !c.conekta_api_key.empty()) {
        verdict = channels::ParseConekta(req.body(), req["digest"], c.conekta_webhook_key_pem);
    } else if (provider == "stp" && !c.stp_clabe_prefix.empty() && !c.stp_webhook_token.empty()) {
        // STP signs nothing: the URL registered with STP carries a token only it knows.
        if (!channels::ConstantTimeEquals(channels::QueryParameter(query, "token").value_or(""),
                                          c.stp_webhook_token)) {
            verdict.refusal = channels::Refusal::kBadSignature;
            verdict.why = "missing or wrong token";
        } else {
            verdict = channels::ParseStpAbono(req.body(), s_.Now());
        }
    } else if (provider == "openpay" && !c.openpay_webhook_password.empty()) {
        verdict = channels::ParseOpenpay(
            req.body(),
            req[http::field::authorization],
            c.openpay_webhook_user,
            c.openpay_webhook_password,
            !c.openpay_private_key.empty() && !c.openpay_merchant_id.empty());
    } else {
        co_return Error(http::status::not_found,
                        "no such payment provider, or its webhook settings are not set");
    }
    const std::string channel = "payments/" + std::string(provider);
    if (!verdict.ok()) {
        const bool malformed = *verdict.refusal == channels::Refusal::kMalformed;
        const char* reason = malformed                                       ? "malformed"
                             : *verdict.refusal == channels::Refusal::kStale ? "stale"
                                                                             : "signature";
        s_.metrics.Count("cobrador_webhook_rejected_total",
                         "channel=\"" + channel + "\",reason=\"" + reason + "\"");
        Log(LogLevel::kWarn,
            "payment notification refused",
            {{"provider", std::string(provider)}, {"why", verdict.why}});
        co_return Error(malformed ? http::status::bad_request : http::status::unauthorized,
                        verdict.why);
    }
    if (provider == "openpay") {
        if (const auto code = channels::OpenpayVerificationCode(req.body())) {
            // The operator types this code into Openpay's dashboard to verify the webhook.
            Log(LogLevel::kInfo, "Openpay webhook verification", {{"verification_code", *code}});
        }
    }
    if (!Admit(channel)) {
        co_return Error(http::status::service_unavailable, "busy; try again");
    }
    const auto clock = std::chrono::system_clock::now();
    const auto instant = c.Instant(clock);
    const std::string now = c.Now(clock);
    // STP: money into a per-debtor CLABE is credited only when the CLABE is one of our range
    // and names an account; anything else goes back to the sender ("devolver").
    bool ours = true;
    auto stored =
        co_await s_.ledger.Run([&](store::Ledger& l) -> store::Result<store::ProviderEventOutcome> {
            for (store::ProviderReport& r : verdict.event.reports) {
                if (r.clabe.empty() || r.clabe == c.clabe) {
                    continue;  // the creditor's own CLABE: matched by the quoted reference
                }
                const auto account = dialogs::AccountFromClabe(c.stp_clabe_prefix, r.clabe);
                const auto exists =
                    account ? l.AccountExists(*account) : store::Result<bool>(false);
                if (!exists) {
                    return exists.error();
                }
                ours = ours && *exists;
                r.reference = *exists ? *dialogs::PaymentReference(*account) : std::string();
            }
            if (!ours) {
                return store::ProviderEventOutcome{};
            }
            return l.RecordProviderEvent(
                verdict.event, now, [&](const store::PaymentNotice& notice) {
                    return PaymentThanks(notice, s_.config, s_.strategy, instant, true);
                });
        });
    pending_writes_.fetch_sub(1);
    if (!stored) {
        Log(LogLevel::kError,
            "payment notification not stored",
            {{"provider", std::string(provider)}, {"error", stored.error().message()}});
        co_return Error(http::status::service_unavailable, "busy; try again");
    }
    if (provider == "stp") {
        // STP's own answer: keep the money, or send it back (cause 1, "cuenta inexistente").
        const char* result = !ours ? "returned" : stored->duplicate ? "duplicate" : "recorded";
        s_.metrics.Count("cobrador_provider_events_total",
                         std::string("provider=\"stp\",result=\"") + result + "\"");
        Log(ours ? LogLevel::kInfo : LogLevel::kWarn,
            ours ? "payment notification"
                 : "abono to a CLABE that names none of our accounts: returned",
            {{"provider", "stp"}, {"event_id", verdict.event.event_id}, {"result", result}});
        CountPaymentOutcomes(s_, provider, stored->outcomes);
        co_return Json(http::status::ok,
                       ours ? nlohmann::json{{"mensaje", "confirmar"}}
                            : nlohmann::json{{"mensaje", "devolver"}, {"id", 1}});
    }
    // The notification: seen before, waiting for its payment to be fetched, about nothing we
    // act on, or recorded (each payment's own result is in `payments`).
    const char* result = stored->duplicate               ? "duplicate"
                         : stored->pending               ? "pending"
                         : verdict.event.reports.empty() ? "ignored"
                                                         : "recorded";
    s_.metrics.Count("cobrador_provider_events_total",
                     "provider=\"" + std::string(provider) + "\",result=\"" + result + "\"");
    Log(LogLevel::kInfo,
        "payment notification",
        {{"provider", std::string(provider)},
         {"event_id", verdict.event.event_id},
         {"type", verdict.event.type},
         {"result", result}});
    CountPaymentOutcomes(s_, provider, stored->outcomes);
    if (stored->pending) {
        provider_worker_.Wake();
    }
    nlohmann::json answer = {
        {"received", true}, {"result", result}, {"payments", nlohmann::json::array()}};
    for (const store::PaymentOutcome& outcome : stored->outcomes) {
        answer["payments"].push_back({{"payment_id", outcome.payment_id},
                                      {"status", outcome.status},
                                      {"account_id", outcome.account_id}});
    }
    co_return Json(http::status::ok, answer);
}

Response Webhooks::Rejected(const std::string& channel, channels::WebhookError error) {
    const bool signature = error == channels::WebhookError::kBadSignature;
    s_.metrics.Count(
        "cobrador_webhook_rejected_total",
        "channel=\"" + channel + "\",reason=\"" + (signature ? "signature" : "malformed") + "\"");
    Log(LogLevel::kWarn,
        signature ? "webhook with a missing or wrong signature" : "webhook body does not parse",
        {{"channel", channel}});
    return signature ? Error(http::status::unauthorized, "missing or wrong signature")
                     : Error(http::status::bad_request, "the body does not parse");
}

namespace {

// The sandbox answers the demo's phone page, in Spanish like the demo's debtors.
Response SandboxError(http::status status, const std::string& text) {
    return Json(status, {{"error", text}});
}

constexpr const char* kNotAPhone =
    "Escribe el número con su código de país, por ejemplo +52 1 555 000 1001.";

// The sandbox speaks for the demo's own people only: a real debtor in the same ledger file is
// neither shown (name, birth date, balances) nor paid for.
bool IsDemoPhone(const std::string& phone) {
    for (const DemoDebtor& d : DemoDebtors()) {
        if (d.phone == phone) {
            return true;
        }
    }
    return false;
}

// ?phone= as a browser sends it (encodeURIComponent), or typed in the address bar, where the
// "+" arrives as a space.
std::optional<std::string> SandboxPhone(std::string_view query) {
    std::string raw = channels::QueryParameter(query, "phone").value_or("");
    if (!raw.empty() && raw.front() == ' ') {
        raw.front() = '+';
    }
    return dialogs::NormalizePhone(raw);
}

}  // namespace

net::awaitable<Response> Webhooks::Sandbox(const Request& req, std::string_view query) {
    if (req.method() == http::verb::post) {
        const auto body = dialogs::ParseJsonText(req.body());
        if (body.is_discarded() || !body.is_object() || !body.contains("from") ||
            !body["from"].is_string() || !body.contains("text") || !body["text"].is_string()) {
            co_return Error(http::status::bad_request,
                            "expected {\"from\": \"+52...\", \"text\": \"...\"}");
        }
        const auto phone = dialogs::NormalizePhone(body["from"].get<std::string>());
        if (!phone) {
            co_return SandboxError(http::status::bad_request, kNotAPhone);
        }
        channels::InboundMessage message;
        message.channel = channels::Channel::kSandbox;
        message.provider_message_id =
            "sandbox-in-" +
            channels::Sha256Hex(
                *phone + body["text"].get<std::string>() + s_.Now() +
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
        co_return Json(http::status::ok, {{"stored", true}, {"id", message.provider_message_id}});
    }
    const auto phone = SandboxPhone(query);
    if (!phone) {
        co_return SandboxError(http::status::bad_request, kNotAPhone);
    }

    struct Seen {
        std::int64_t conversation = 0;
        std::vector<store::TranscriptLine> lines;
        std::vector<store::PhoneAccount> accounts;
    };

    const bool demo_person = IsDemoPhone(*phone);
    const Seen seen = co_await s_.ledger.Run([&](store::Ledger& l) {
        Seen out;
        if (demo_person) {
            if (auto accounts = l.AccountsOfPhone(*phone)) {
                out.accounts = std::move(*accounts);
            }
        }
        auto found = l.FindConversation(*phone, "sandbox");
        if (found && *found) {
            out.conversation = **found;
            if (auto lines = l.Transcript(**found)) {
                out.lines = std::move(*lines);
            }
        }
        return out;
    });
    nlohmann::json out = {{"phone", *phone}, {"messages", nlohmann::json::array()}};
    if (seen.conversation != 0) {
        out["conversation_id"] = seen.conversation;
    }
    // Who the number belongs to, so that the page can say whom the newcomer is playing.
    out["debtor"] = nullptr;
    if (!seen.accounts.empty()) {
        const store::PhoneAccount& first = seen.accounts.front();
        nlohmann::json accounts = nlohmann::json::array();
        for (const auto& a : seen.accounts) {
            accounts.push_back({{"account_id", a.account_key},
                                {"balance", dialogs::FormatDecimalCents(a.balance_cents)},
                                {"currency", a.currency},
                                {"due_date", a.due_date}});
        }
        out["debtor"] = {{"name", first.debtor_name},
                         {"birth_date", first.birth_date},
                         {"locale", first.locale},
                         {"accounts", accounts}};
    }
    for (const auto& line : seen.lines) {
        out["messages"].push_back({{"direction", line.direction},
                                   {"author", line.author},
                                   {"text", line.body},
                                   {"status", line.status},
                                   {"at", line.created_at}});
    }
    co_return Json(http::status::ok, out);
}

Response Webhooks::SandboxDebtors() {
    nlohmann::json list = nlohmann::json::array();
    for (const DemoDebtor& d : DemoDebtors()) {
        list.push_back({{"name", d.name},
                        {"phone", d.phone},
                        {"phone_shown", d.phone_shown},
                        {"birth_date", d.birth_date},
                        {"situation", d.situation}});
    }
    return Json(http::status::ok, {{"debtors", list}});
}

net::awaitable<Response> Webhooks::SandboxPayment(const Request& req) {
    // JSON only: a plain form another site posts cannot pay.
    if (req[http::field::content_type].find("application/json") == std::string_view::npos) {
        co_return Error(http::status::unsupported_media_type,
                        "send Content-Type: application/json");
    }
    const auto body = dialogs::ParseJsonText(req.body());
    if (body.is_discarded() || !body.is_object() || !body.contains("phone") ||
        !body["phone"].is_string() || (body.contains("amount") && !body["amount"].is_string())) {
        co_return Error(http::status::bad_request,
                        "expected {\"phone\": \"+52...\", \"amount\": \"500.00\"}");
    }
    const auto phone = dialogs::NormalizePhone(body["phone"].get<std::string>());
    if (!phone) {
        co_return SandboxError(http::status::bad_request, kNotAPhone);
    }
    if (!IsDemoPhone(*phone)) {
        co_return SandboxError(http::status::not_found,
                               "Ese número no es de ningún deudor de la demo.");
    }
    const auto accounts =
        co_await s_.ledger.Run([&](store::Ledger& l) { return l.AccountsOfPhone(*phone); });
    if (!accounts) {
        co_return Error(http::status::service_unavailable, "busy; try again");
    }
    const store::PhoneAccount* owing = nullptr;
    for (const auto& a : *accounts) {
        if (a.balance_cents > 0) {
            owing = &a;
            break;
        }
    }
    if (accounts->empty()) {
        co_return SandboxError(http::status::not_found,
                               "Ese número no es de ningún deudor de la demo.");
    }
    if (owing == nullptr) {
        co_return SandboxError(http::status::conflict,
                               "Las cuentas de ese número ya están pagadas.");
    }
    std::string amount = dialogs::FormatDecimalCents(owing->balance_cents);
    if (body.contains("amount") && !body["amount"].get<std::string>().empty()) {
        const auto cents = dialogs::ParseDecimalCents(body["amount"].get<std::string>());
        if (!cents || *cents <= 0) {
            co_return SandboxError(http::status::bad_request,
                                   "Escribe un monto mayor que cero, por ejemplo 500.00.");
        }
        amount = dialogs::FormatDecimalCents(*cents);
    }
    const std::string now = s_.Now();
    const nlohmann::json payment = {
        {"payment_id",
         "demo-" + channels::Sha256Hex(
                       *phone + now +
                       std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()))
                       .substr(0, 16)},
        {"reference", *dialogs::PaymentReference(owing->id)},
        {"amount", amount},
        {"currency", owing->currency},
        {"paid_at", now},
        {"method", "demo"}};
    Response res = co_await ApplyPayment(payment.dump());
    co_return res;
}

}  // namespace cobrador::bot
