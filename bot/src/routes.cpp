#include "routes.hpp"

#include <array>

#include "store/ledger.hpp"

#include "console.hpp"

namespace cobrador::bot {

namespace net = boost::asio;

namespace {

using Handler = net::awaitable<Response> (*)(Routes&,
                                             const Request&,
                                             std::string_view path,
                                             std::string_view query);

struct Route {
    std::string_view path;   // exact, or every path under it when it ends in '/'
    std::string_view allow;  // the methods, as the Allow header says them; empty: the handler's
    std::string_view label;  // /metrics label; empty: the handler's own (the API's)
    bool demo_only;
    Handler handler;
};

net::awaitable<Response> Healthz(Routes&, const Request&, std::string_view, std::string_view) {
    co_return Json(http::status::ok, {{"status", "ok"}});
}

net::awaitable<Response> Readyz(Routes& r, const Request&, std::string_view, std::string_view) {
    auto ready = co_await r.services().ledger.Run([](store::Ledger& l) { return l.CheckReady(); });
    if (!ready) {
        co_return Json(http::status::service_unavailable,
                       {{"status", "not ready"}, {"reason", ready.error().message()}});
    }
    co_return Json(http::status::ok,
                   {{"status", "ready"}, {"schema_version", store::Ledger::LatestSchemaVersion()}});
}

net::awaitable<Response> MetricsRoute(Routes& r,
                                      const Request&,
                                      std::string_view,
                                      std::string_view) {
    co_return MakeResponse(
        http::status::ok, co_await r.MetricsText(), "text/plain; version=0.0.4; charset=utf-8");
}

net::awaitable<Response> WhatsApp(Routes& r,
                                  const Request& req,
                                  std::string_view,
                                  std::string_view query) {
    co_return co_await r.webhooks().WhatsApp(req, query);
}

net::awaitable<Response> Twilio(Routes& r, const Request& req, std::string_view, std::string_view) {
    co_return co_await r.webhooks().Twilio(req);
}

net::awaitable<Response> Payments(Routes& r,
                                  const Request& req,
                                  std::string_view,
                                  std::string_view) {
    co_return co_await r.webhooks().Payments(req);
}

net::awaitable<Response> ProviderPayments(Routes& r,
                                          const Request& req,
                                          std::string_view path,
                                          std::string_view query) {
    co_return co_await r.webhooks().ProviderPayments(
        req, path.substr(std::string_view("/webhooks/payments/").size()), query);
}

net::awaitable<Response> Sandbox(Routes& r,
                                 const Request& req,
                                 std::string_view,
                                 std::string_view query) {
    co_return co_await r.webhooks().Sandbox(req, query);
}

net::awaitable<Response> SandboxDebtors(Routes& r,
                                        const Request&,
                                        std::string_view,
                                        std::string_view) {
    co_return r.webhooks().SandboxDebtors();
}

net::awaitable<Response> SandboxPayment(Routes& r,
                                        const Request& req,
                                        std::string_view,
                                        std::string_view) {
    co_return co_await r.webhooks().SandboxPayment(req);
}

net::awaitable<Response> Api(Routes& r,
                             const Request& req,
                             std::string_view path,
                             std::string_view query) {
    co_return co_await HandleApi(r.api(), req, path, query);
}

net::awaitable<Response> ConsoleRedirect(Routes&,
                                         const Request&,
                                         std::string_view,
                                         std::string_view) {
    Response res = MakeResponse(http::status::moved_permanently, "", "text/plain");
    res.set(http::field::location, "/console/");
    co_return res;
}

net::awaitable<Response> ConsoleFiles(Routes& r,
                                      const Request&,
                                      std::string_view path,
                                      std::string_view) {
    const auto file =
        ConsoleFile(path.substr(std::string_view("/console/").size()), r.services().config.demo);
    if (!file) {
        co_return Error(http::status::not_found, "no such file");
    }
    Response res = MakeResponse(http::status::ok, std::string(file->body), file->content_type);
    res.set(http::field::cache_control, "no-cache");
    res.set("Content-Security-Policy",
            "default-src 'self'; img-src 'self' data: blob:; media-src blob:; style-src 'self'; "
            "script-src 'self'; "
            "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
    res.set("X-Content-Type-Options", "nosniff");
    res.set("Referrer-Policy", "no-referrer");
    res.set("X-Frame-Options", "DENY");
    co_return res;
}

// Where a provider's hosted payment page sends the debtor once they paid: a plain page, in both
// languages, that sends them back to the chat (the confirmation comes there).
net::awaitable<Response> PaymentDone(Routes&, const Request&, std::string_view, std::string_view) {
    Response res = MakeResponse(
        http::status::ok,
        "<!doctype html><html lang=\"es\"><head><meta charset=\"utf-8\"><meta "
        "name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Pago "
        "recibido</title></head><body><h1>Gracias</h1><p>Estamos procesando tu pago. Te "
        "confirmaremos por el chat en cuanto se acredite; ya puedes cerrar esta "
        "página.</p><p lang=\"en\">Thank you. Your payment is being processed; we will confirm "
        "it in the chat once it is credited. You can close this page.</p></body></html>",
        "text/html; charset=utf-8");
    res.set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
    res.set("X-Content-Type-Options", "nosniff");
    res.set("Referrer-Policy", "no-referrer");
    co_return res;
}

// The server's front door: what it is and where to go, for whoever opens its address.
net::awaitable<Response> Home(Routes& r, const Request&, std::string_view, std::string_view) {
    const bool demo = r.services().config.demo;
    std::string html =
        "<!doctype html><html lang=\"es-MX\"><head><meta charset=\"utf-8\"><meta "
        "name=\"viewport\" content=\"width=device-width, initial-scale=1\"><link rel=\"icon\" "
        "href=\"/console/favicon.svg\" type=\"image/svg+xml\"><title>cobrador</title></head>"
        "<body><h1>cobrador " COBRADOR_VERSION
        "</h1><p>Servidor de cobranza por chat (WhatsApp y SMS).</p><ul><li><a "
        "href=\"/console/\">Consola de cobranza</a> (con el token de un agente)</li>";
    if (demo) {
        html +=
            "<li><a href=\"/console/phone.html\">Teléfono del deudor (demo)</a>: escribe como "
            "uno de los deudores de la demo</li>";
    }
    html +=
        "<li><a href=\"/healthz\">/healthz</a>, <a href=\"/readyz\">/readyz</a>, <a "
        "href=\"/metrics\">/metrics</a></li></ul></body></html>";
    Response res = MakeResponse(http::status::ok, html, "text/html; charset=utf-8");
    res.set("Content-Security-Policy",
            "default-src 'none'; img-src 'self'; frame-ancestors 'none'");
    res.set("X-Content-Type-Options", "nosniff");
    co_return res;
}

// Browsers ask for /favicon.ico on their own.
net::awaitable<Response> Favicon(Routes& r, const Request&, std::string_view, std::string_view) {
    const auto file = ConsoleFile("favicon.svg", r.services().config.demo);
    Response res = MakeResponse(http::status::ok, std::string(file->body), file->content_type);
    res.set(http::field::cache_control, "max-age=86400");
    co_return res;
}

// clang-format off
constexpr std::array kRoutes = {
    // path                        allow          label                       demo   handler
    Route{"/healthz",                "GET, HEAD",   "/healthz",                 false, Healthz},
    Route{"/readyz",                 "GET, HEAD",   "/readyz",                  false, Readyz},
    Route{"/metrics",                "GET, HEAD",   "/metrics",                 false, MetricsRoute},
    Route{"/webhooks/whatsapp",      "GET, POST",   "/webhooks/whatsapp",       false, WhatsApp},
    Route{"/webhooks/payments",      "POST",        "/webhooks/payments",       false, Payments},
    Route{"/webhooks/payments/",     "POST",        "/webhooks/payments/",      false, ProviderPayments},
    Route{"/webhooks/twilio",        "POST",        "/webhooks/twilio",         false, Twilio},
    Route{"/payments/done",          "GET, HEAD",   "/payments/done",           false, PaymentDone},
    Route{"/webhooks/twilio/status", "POST",        "/webhooks/twilio/status",  false, Twilio},
    Route{"/api/v1/",                "",            "",                         false, Api},
    Route{"/console",                "",            "/console",                 false, ConsoleRedirect},
    Route{"/console/",               "GET, HEAD",   "/console",                 false, ConsoleFiles},
    Route{"/sandbox/messages",       "GET, POST",   "/sandbox/messages",        true,  Sandbox},
    Route{"/sandbox/debtors",        "GET, HEAD",   "/sandbox/debtors",         true,  SandboxDebtors},
    Route{"/sandbox/payments",       "POST",        "/sandbox/payments",        true,  SandboxPayment},
    Route{"/favicon.ico",            "GET, HEAD",   "/favicon.ico",             false, Favicon},
    Route{"/",                       "GET, HEAD",   "/",                        false, Home},
};

// clang-format on

bool Matches(const Route& route, std::string_view path) {
    // "/webhooks/payments/" is every path under it; "/" is the front door only.
    return route.path.size() > 1 && route.path.back() == '/' ? path.rfind(route.path, 0) == 0
                                                             : path == route.path;
}

// GET admits HEAD (the body is dropped on the way out).
bool Allows(std::string_view allow, http::verb method) {
    if (allow.empty()) {
        return true;
    }
    const bool get = method == http::verb::get || method == http::verb::head;
    return (get && allow.find("GET") != std::string_view::npos) ||
           (method == http::verb::post && allow.find("POST") != std::string_view::npos);
}

}  // namespace

Response NotAllowed(std::string_view allow) {
    Response res = Error(http::status::method_not_allowed, "use " + std::string(allow));
    res.set(http::field::allow, allow);
    return res;
}

net::awaitable<Response> Routes::Handle(const Request& req) {
    const std::string_view target = req.target();
    const auto question = target.find('?');
    const std::string_view path = target.substr(0, question);
    const std::string_view query =
        question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
    for (const Route& route : kRoutes) {
        if (!Matches(route, path) || (route.demo_only && !s_.config.demo)) {
            continue;
        }
        if (!Allows(route.allow, req.method())) {
            co_return NotAllowed(route.allow);
        }
        co_return co_await route.handler(*this, req, path, query);
    }
    co_return Error(http::status::not_found, "no such route");
}

std::string Routes::Label(std::string_view target) {
    const std::string_view path = target.substr(0, target.find('?'));
    for (const Route& route : kRoutes) {
        if (Matches(route, path)) {
            return route.label.empty() ? ApiRouteLabel(path) : std::string(route.label);
        }
    }
    return "other";
}

net::awaitable<std::string> Routes::MetricsText() {
    const std::string now = s_.Now();
    auto stats = co_await s_.ledger.Run([&](store::Ledger& l) { return l.GetOutboxStats(now); });
    Metrics& m = s_.metrics;
    if (stats) {
        // Read from the database: every replica reports the same value (take max, not sum).
        const std::string cluster = "scope=\"cluster\"";
        m.Set("cobrador_outbox_pending", cluster, static_cast<double>(stats->pending));
        m.Set("cobrador_outbox_failed", cluster, static_cast<double>(stats->failed));
        m.Set("cobrador_inbound_pending", cluster, static_cast<double>(stats->inbound_pending));
        m.Set("cobrador_outbox_oldest_pending_seconds", cluster, stats->oldest_pending_seconds);
    }
    if (extra_metrics_) {
        extra_metrics_(m);
    }
    m.Set("cobrador_replica_info", "replica=\"" + s_.config.replica_id + "\"", 1);
    m.Set("cobrador_event_streams", "", static_cast<double>(s_.events.Subscribers()));
    m.Set("cobrador_channel_enabled", "channel=\"whatsapp\"", s_.config.WhatsAppEnabled() ? 1 : 0);
    m.Set("cobrador_channel_enabled", "channel=\"sms\"", s_.config.SmsEnabled() ? 1 : 0);
    co_return m.Text();
}

void DescribeServerMetrics(Metrics& metrics) {
    struct Description {
        const char* name;
        const char* type;
        const char* help;
    };

    // clang-format off
    static constexpr std::array<Description, 21> kDescriptions = {{
        {"cobrador_http_requests_total", "counter", "HTTP requests answered, by route and status."},
        {"cobrador_inbound_total", "counter", "Webhook events by channel, kind (message, status) and result (new, duplicate)."},
        {"cobrador_inbound_processed_total", "counter", "Inbound messages handled by the dialog, by channel."},
        {"cobrador_dialog_turns_total", "counter", "Inbound messages the dialog read, by the intent it understood (while a collector holds a conversation only opt-outs and wrong numbers are acted on)."},
        {"cobrador_webhook_rejected_total", "counter", "Webhooks refused, by channel and reason (signature, malformed, busy)."},
        {"cobrador_outbox_pending", "gauge", "Outbox rows waiting to be sent (the database's: the same on every replica)."},
        {"cobrador_outbox_failed", "gauge", "Outbox rows that failed for good (the database's: the same on every replica)."},
        {"cobrador_inbound_pending", "gauge", "Messages acknowledged to a provider and not yet handled by the dialog (the database's: the same on every replica)."},
        {"cobrador_outbox_oldest_pending_seconds", "gauge", "Age of the oldest outbox row waiting to be sent (the database's: the same on every replica)."},
        {"cobrador_replica_info", "gauge", "This process's replica id (COBRADOR_REPLICA_ID), always 1."},
        {"cobrador_http_connections", "gauge", "Open HTTP connections."},
        {"cobrador_tls_handshake_failures_total", "counter", "Connections to the HTTPS port that failed the TLS handshake."},
        {"cobrador_payments_total", "counter", "Payments by result (applied, suspense, duplicate; reversed, waiting)."},
        {"cobrador_provider_events_total", "counter", "Payment providers' notifications by provider and result (applied, pending, ignored, duplicate)."},
        {"cobrador_provider_fetches_total", "counter", "Payments fetched for thin notifications by provider and result (ok, retry, failed)."},
        {"cobrador_instruments_total", "counter", "Payment instruments created for debtors by provider and result (created, retry, failed)."},
        {"cobrador_reminders_queued_total", "counter", "Reminders queued by the scheduler."},
        {"cobrador_event_streams", "gauge", "Open live-update streams (GET /api/v1/events) of the console."},
        {"cobrador_claims_expired_total", "counter", "Claimed conversations that went back to the queue after their collector was idle."},
        {"cobrador_jobs_run_total", "counter", "Periodic jobs (reminder-pass, claim-expiry) this replica ran; across replicas each runs once per interval."},
        {"cobrador_channel_enabled", "gauge", "Whether a channel has its credentials (1) or is off (0)."},
    }};
    // clang-format on
    for (const Description& d : kDescriptions) {
        metrics.Describe(d.name, d.type, d.help);
    }
}

}  // namespace cobrador::bot
