#include "media_worker.hpp"

#include <algorithm>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/error.hpp>

#include "bot/log.hpp"
#include "channels/media.hpp"
#include "channels/signature.hpp"
#include "dialogs/calendar.hpp"
#include "dialogs/receipt.hpp"

#include "polling_loop.hpp"
#include "proactive.hpp"
#include "provider_worker.hpp"
#include "receipt_check.hpp"
#include "receipt_reader.hpp"

namespace cobrador::bot {

namespace net = boost::asio;

namespace {

constexpr std::size_t kBatch = 10;
constexpr std::size_t kReadBatch = 4;
constexpr std::size_t kCheckBatch = 4;
constexpr auto kLookEvery = std::chrono::seconds(5);
// A download may take longer than an API call: at least this long.
constexpr auto kDownloadTimeout = std::chrono::seconds(60);

store::FetchedMedia Settled(std::string status, std::string detail) {
    store::FetchedMedia out;
    out.status = std::move(status);
    out.detail = std::move(detail);
    return out;
}

std::string Describe(const ClientResponse& response) {
    return response.error ? response.error.message() : "HTTP " + std::to_string(response.status);
}

// What the bytes are, and whether they may be kept as the file the message said it carried.
store::FetchedMedia Check(const store::MediaJob& job,
                          std::string bytes,
                          std::string_view declared_sha256) {
    const std::string sniffed = channels::SniffContentType(bytes);
    if (!channels::ContentFitsKind(job.kind, sniffed)) {
        store::FetchedMedia refused = Settled(
            "refused",
            sniffed.empty()
                ? "the bytes are not a known image, PDF, audio or video format"
                : "the bytes are " + sniffed + ", not the " + job.kind + " the message said");
        refused.size_bytes = static_cast<std::int64_t>(bytes.size());
        return refused;
    }
    if (!channels::Sha256Matches(bytes, declared_sha256)) {
        store::FetchedMedia refused =
            Settled("refused", "the bytes do not match the provider's SHA-256");
        refused.size_bytes = static_cast<std::int64_t>(bytes.size());
        return refused;
    }
    store::FetchedMedia stored;
    stored.status = "stored";
    stored.content_type = sniffed;
    stored.sha256 = channels::Sha256Hex(bytes);
    stored.size_bytes = static_cast<std::int64_t>(bytes.size());
    stored.content = std::move(bytes);
    return stored;
}

}  // namespace

MediaWorker::MediaWorker(Services& services, net::io_context& ioc)
    : s_(services),
      loop_(ioc, services.stopping, kLookEvery, "media worker"),
      client_(loop_.strand()),
      binary_("/proc/self/exe") {}

MediaWorker::~MediaWorker() {
    reader_.join();
}

void MediaWorker::Start() {
    loop_.Start([this] { return Pass(); });
}

void MediaWorker::Wake() {
    loop_.Wake();
}

void MediaWorker::Stop() {
    loop_.Stop();
}

net::awaitable<bool> MediaWorker::Pass() {
    const auto now = s_.Instant();
    const std::string at = dialogs::FormatIsoInstant(now);
    // Held long enough for the whole batch to be fetched one after another: per file, the
    // Graph API's answer, then the download and, for Twilio, the redirect's.
    const auto per_file =
        s_.config.send_timeout +
        2 * std::max<std::chrono::seconds>(s_.config.send_timeout, kDownloadTimeout);
    const std::string hold = dialogs::FormatIsoInstant(now + per_file * kBatch);
    const bool more_files = co_await HandleDue(
        s_,
        kBatch,
        "media to fetch not read",
        [&](store::Ledger& l) { return l.DueMedia(at, hold, kBatch); },
        [this](const store::MediaJob& job) { return Fetch(job); });
    unrecorded_ = false;
    const bool more_receipts = co_await HandleDue(
        s_,
        kReadBatch,
        "receipts to read not listed",
        [](store::Ledger& l) { return l.UnreadReceipts(kReadBatch); },
        [this](const store::UnreadReceipt& receipt) { return Read(receipt); });
    bool more_checks = false;
    if (!s_.config.cep_base.empty()) {
        // Per receipt, every reading of its clave de rastreo may be looked up, with the XML;
        // held from now, not from the pass's start (the fetches and readings took time).
        const auto checked = s_.Instant();
        const auto per_check = 2 * kCepReadings * s_.config.send_timeout;
        const std::string check_at = dialogs::FormatIsoInstant(checked);
        const std::string check_hold = dialogs::FormatIsoInstant(checked + per_check * kCheckBatch);
        more_checks = co_await HandleDue(
            s_,
            kCheckBatch,
            "receipts to confirm not read",
            [&](store::Ledger& l) { return l.DueReceiptChecks(check_at, check_hold, kCheckBatch); },
            [this](const store::ReceiptCheckJob& job) { return Confirm(job); });
    }
    co_return more_files || (more_receipts && !unrecorded_) || more_checks;
}

net::awaitable<void> MediaWorker::Confirm(const store::ReceiptCheckJob& job) {
    const Config& c = s_.config;
    const CepPlan plan = PlanCepLookup(job.reading, {c.clabe, c.stp_clabe_prefix});
    store::ReceiptVerdict verdict;
    verdict.outcome = plan.outcome;
    verdict.detail = plan.detail;
    std::string again;  // why the lookup must be tried again later
    bool decided = !plan.outcome.empty();
    for (const channels::CepQuery& query : plan.queries) {
        const ClientResponse answer =
            co_await client_.Send(channels::CepValidateCall(c.cep_base, query), c.send_timeout);
        if (answer.error || answer.status != 200) {
            again = "Banxico's CEP: " + Describe(answer);
            break;
        }
        const channels::CepAnswer said = channels::ReadCepAnswer(answer.body);
        if (said == channels::CepAnswer::kNotFound) {
            continue;
        }
        if (said == channels::CepAnswer::kNotSettled) {
            verdict.outcome = "not_settled";
            verdict.detail = "Banxico's CEP shows the transfer returned, cancelled or rejected";
            decided = true;
            break;
        }
        if (said != channels::CepAnswer::kFound) {
            again = said == channels::CepAnswer::kBusy     ? "Banxico's CEP: too many lookups"
                    : said == channels::CepAnswer::kNotYet ? "Banxico's CEP: the transfer is "
                                                             "found, its CEP is not ready yet"
                                                           : "Banxico's CEP: an answer not "
                                                             "recognised";
            break;
        }
        std::vector<std::string> cookies;
        for (const std::string& set_cookie : answer.set_cookies) {
            cookies.push_back(channels::CookiePair(set_cookie));
        }
        const ClientResponse xml =
            co_await client_.Send(channels::CepDownloadCall(c.cep_base, cookies), c.send_timeout);
        if (xml.error || xml.status != 200) {
            again = "Banxico's CEP download: " + Describe(xml);
            break;
        }
        std::string why;
        const auto cep = channels::ParseCepXml(xml.body, why);
        if (!cep) {
            again = "Banxico's CEP download: " + why;
            break;
        }
        verdict = VerdictFromCep(query, *cep, plan);
        decided = true;
        break;
    }
    if (!decided && again.empty()) {
        verdict.outcome = "not_found";
        verdict.detail = "Banxico's CEP knows no transfer with this clave de rastreo (" +
                         std::to_string(plan.queries.size()) +
                         " readings tried), date, banks, account and amount";
    }
    const auto clock = std::chrono::system_clock::now();
    const auto instant = c.Instant(clock);
    if (!again.empty()) {
        if (job.attempts + 1 < kGiveUpAfterAttempts) {
            const std::string next = dialogs::FormatIsoInstant(instant + RetryDelay(job.attempts));
            co_await s_.ledger.Run(
                [&](store::Ledger& l) { return l.RetryReceiptCheck(job.id, again, next); });
            s_.metrics.Count("cobrador_receipt_checks_total", "result=\"retry\"");
            Log(LogLevel::kWarn,
                "receipt not confirmed yet; trying again later",
                {{"media_id", std::to_string(job.media_id)},
                 {"error", again},
                 {"next_attempt_at", next}});
            co_return;
        }
        verdict = {};
        verdict.outcome = "cep_unavailable";
        verdict.detail = again + " (given up after a day)";
    }
    const std::string now = c.Now(clock);
    auto settled = co_await s_.ledger.Run([&](store::Ledger& l) {
        return l.SettleReceiptCheck(
            job.id,
            verdict,
            now,
            [&](const store::PaymentNotice& notice) {
                return PaymentThanks(notice, c, s_.strategy, instant, true);
            },
            [&](const store::Addressee& to, const std::string& kind) {
                return ReceiptReply(to, kind, c, s_.strategy, instant);
            });
    });
    if (!settled) {
        unrecorded_ = true;
        Log(LogLevel::kError,
            "receipt confirmation not kept; tried again later",
            {{"media_id", std::to_string(job.media_id)}, {"error", settled.error().message()}});
        co_return;
    }
    if (!settled->settled) {
        co_return;
    }
    s_.metrics.Count("cobrador_receipt_checks_total", "result=\"" + settled->outcome + "\"");
    Log(verdict.confirmed ? LogLevel::kInfo : LogLevel::kWarn,
        verdict.confirmed ? "receipt confirmed with Banxico's CEP" : "receipt not confirmed",
        {{"media_id", std::to_string(job.media_id)},
         {"conversation", std::to_string(job.conversation_id)},
         {"status", settled->status},
         {"outcome", settled->outcome},
         {"detail", verdict.detail},
         {"account", settled->payment.account_id}});
    if (settled->message_queued) {
        s_.wake_dispatcher();
    }
    s_.events.Publish(job.conversation_id, "media");
}

net::awaitable<void> MediaWorker::Unfetched(const store::MediaJob& job) {
    if (s_.config.cep_base.empty() || (job.kind != "image" && job.kind != "document")) {
        co_return;
    }
    const auto clock = std::chrono::system_clock::now();
    const auto instant = s_.config.Instant(clock);
    const std::string now = s_.config.Now(clock);
    auto told = co_await s_.ledger.Run([&](store::Ledger& l) {
        return l.ReceiptToPerson(
            job.conversation_id, now, [&](const store::Addressee& to, const std::string& kind) {
                return ReceiptReply(to, kind, s_.config, s_.strategy, instant);
            });
    });
    if (told && *told) {
        s_.wake_dispatcher();
    }
}

net::awaitable<void> MediaWorker::Read(const store::UnreadReceipt& receipt) {
    const auto started = std::chrono::steady_clock::now();
    // On the reader's own thread, so that the I/O threads never wait for a reading; then back.
    co_await net::post(net::bind_executor(reader_, net::use_awaitable));
    const ReceiptText text = ReadIsolated(binary_, receipt.content, receipt.content_type);
    co_await net::post(net::bind_executor(loop_.strand(), net::use_awaitable));
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const dialogs::ReceiptFields fields = dialogs::ReadReceipt(text.text);
    store::ReceiptReading reading;
    reading.read = text.ok;
    reading.engine = text.engine;
    reading.text = text.text;
    reading.error = text.error;
    reading.clave_rastreo = fields.clave_rastreo;
    reading.amount_cents = fields.amount_cents;
    reading.operation_date = fields.date ? dialogs::FormatIsoDate(*fields.date) : "";
    reading.sending_bank = fields.sending_bank;
    reading.beneficiary_account = fields.beneficiary_account;
    reading.reference = fields.reference;
    reading.payment_concept = fields.payment_concept;
    reading.beneficiary_name = fields.beneficiary_name;
    const std::string now = s_.Now();
    const bool check = !s_.config.cep_base.empty();
    auto recorded = co_await s_.ledger.Run(
        [&](store::Ledger& l) { return l.RecordReceipt(receipt.media_id, reading, now, check); });
    if (!recorded) {
        unrecorded_ = true;  // not read again at once, in a loop
        Log(LogLevel::kError,
            "receipt reading not kept; read again later",
            {{"media_id", std::to_string(receipt.media_id)},
             {"error", recorded.error().message()}});
        co_return;
    }
    const std::string result = !text.ok ? "unreadable" : fields.Empty() ? "no_fields" : "read";
    s_.metrics.Count("cobrador_receipts_read_total",
                     "engine=\"" + (text.engine.empty() ? std::string("none") : text.engine) +
                         "\",result=\"" + result + "\"");
    s_.metrics.Observe("cobrador_receipt_read_seconds", "", seconds);
    Log(text.ok ? LogLevel::kInfo : LogLevel::kWarn,
        "receipt read",
        {{"media_id", std::to_string(receipt.media_id)},
         {"conversation", std::to_string(receipt.conversation_id)},
         {"engine", text.engine},
         {"result", result},
         {"error", text.error},
         {"seconds", std::to_string(seconds)},
         {"clave_rastreo", fields.clave_rastreo.empty() ? "no" : "yes"},
         {"amount", fields.amount_cents ? "yes" : "no"}});
    s_.events.Publish(receipt.conversation_id, "media");
}

net::awaitable<std::optional<store::FetchedMedia>> MediaWorker::Download(const store::MediaJob& job,
                                                                         std::string& error) {
    const Config& c = s_.config;
    const auto max = static_cast<std::size_t>(c.media_max_bytes);
    const auto download_timeout =
        std::max<std::chrono::milliseconds>(c.send_timeout, kDownloadTimeout);
    const std::string too_large =
        "the file is larger than COBRADOR_MEDIA_MAX_BYTES (" + std::to_string(max) + " bytes)";
    channels::HttpCall download;
    std::string declared_sha256;
    if (job.channel == "whatsapp") {
        if (c.whatsapp_access_token.empty()) {
            error = "no WhatsApp access token to fetch media with";
            co_return std::nullopt;
        }
        auto info_call = channels::WhatsAppMediaInfoCall(
            c.whatsapp_api_base, c.whatsapp_access_token, job.source);
        if (!info_call) {
            co_return Settled("refused", "the media id is not a Graph API id");
        }
        const ClientResponse info = co_await client_.Send(std::move(*info_call), c.send_timeout);
        if (!info.error && (info.status == 404 || info.status == 400 || info.status == 410)) {
            // Media ids in webhooks last 7 days; an unknown one will not come back.
            co_return Settled("expired",
                              "WhatsApp no longer has this file (" + Describe(info) + ")");
        }
        if (info.error || info.status != 200) {
            error = "asking WhatsApp for the file's URL: " + Describe(info);
            co_return std::nullopt;
        }
        std::string why;
        const auto parsed = channels::ParseWhatsAppMediaInfo(info.body, why);
        if (!parsed) {
            error = "asking WhatsApp for the file's URL: " + why;
            co_return std::nullopt;
        }
        if (parsed->size && *parsed->size > static_cast<std::int64_t>(max)) {
            store::FetchedMedia large = Settled("too_large", too_large);
            large.size_bytes = *parsed->size;
            co_return large;
        }
        if (parsed->url.rfind("http://", 0) == 0 && c.whatsapp_api_base.rfind("https://", 0) == 0) {
            co_return Settled("refused", "the Graph API answered a plain-http URL for the file");
        }
        declared_sha256 = parsed->sha256;
        download = channels::WhatsAppMediaDownloadCall(parsed->url, c.whatsapp_access_token);
    } else if (job.channel == "sms") {
        if (c.twilio_account_sid.empty() || c.twilio_auth_token.empty()) {
            error = "no Twilio credentials to fetch media with";
            co_return std::nullopt;
        }
        std::string why;
        auto call = channels::TwilioMediaCall(
            c.twilio_api_base, c.twilio_account_sid, c.twilio_auth_token, job.source, why);
        if (!call) {
            co_return Settled("refused", why);
        }
        download = std::move(*call);
    } else {
        co_return Settled("refused", "no provider to fetch files from on " + job.channel);
    }

    download.max_response_bytes = max;
    const std::string first_url = download.url;
    ClientResponse got = co_await client_.Send(download, download_timeout);
    // Twilio answers with a redirect to its storage: followed once, without our credentials,
    // to an https URL (or, for a local fake, one with the scheme the request had).
    if (!got.error && got.status >= 301 && got.status <= 308 && !got.location.empty()) {
        std::string target = got.location;
        if (target.front() == '/') {
            const auto scheme_end = first_url.find("://");
            const auto path_start = first_url.find('/', scheme_end + 3);
            target = first_url.substr(0, path_start) + target;
        }
        const bool https = target.rfind("https://", 0) == 0;
        const bool same_scheme =
            target.substr(0, target.find(':')) == first_url.substr(0, first_url.find(':'));
        if (!https && !same_scheme) {
            co_return Settled("refused", "the provider redirected the download off https");
        }
        channels::HttpCall follow;
        follow.method = "GET";
        follow.url = target;
        follow.max_response_bytes = max;
        got = co_await client_.Send(std::move(follow), download_timeout);
    }
    if (got.error == boost::beast::http::error::body_limit) {
        co_return Settled("too_large", too_large);
    }
    if (!got.error && job.channel == "sms" && (got.status == 404 || got.status == 410)) {
        co_return Settled("expired", "Twilio no longer has this file (" + Describe(got) + ")");
    }
    if (got.error || got.status != 200) {
        // WhatsApp's URL lasts about five minutes: the next attempt asks for a new one.
        error = "downloading the file: " + Describe(got);
        co_return std::nullopt;
    }
    co_return Check(job, std::move(got.body), declared_sha256);
}

net::awaitable<void> MediaWorker::Fetch(const store::MediaJob& job) {
    std::string error;
    std::optional<store::FetchedMedia> fetched = co_await Download(job, error);
    const auto clock = std::chrono::system_clock::now();
    const std::string labels = "channel=\"" + job.channel + "\",result=\"";
    if (fetched) {
        const std::string now = s_.config.Now(clock);
        auto done = co_await s_.ledger.Run(
            [&](store::Ledger& l) { return l.CompleteMedia(job.id, *fetched, now); });
        if (done) {
            s_.metrics.Count("cobrador_media_total", labels + fetched->status + "\"");
            Log(fetched->status == "stored" ? LogLevel::kInfo : LogLevel::kWarn,
                "media fetched",
                {{"media_id", std::to_string(job.id)},
                 {"conversation", std::to_string(job.conversation_id)},
                 {"channel", job.channel},
                 {"kind", job.kind},
                 {"status", fetched->status},
                 {"content_type", fetched->content_type},
                 {"bytes", std::to_string(fetched->size_bytes)},
                 {"detail", fetched->detail}});
            s_.events.Publish(job.conversation_id, "media");
            if (*done && fetched->status != "stored") {
                co_await Unfetched(job);
            }
            co_return;
        }
        error = "storing the file: " + done.error().message();
    }
    const bool give_up = job.attempts + 1 >= kGiveUpAfterAttempts;
    const std::string next =
        dialogs::FormatIsoInstant(s_.config.Instant(clock) + RetryDelay(job.attempts));
    co_await s_.ledger.Run(
        [&](store::Ledger& l) { return l.RetryMedia(job.id, error, next, give_up); });
    s_.metrics.Count("cobrador_media_total", labels + (give_up ? "failed" : "retry") + "\"");
    Log(give_up ? LogLevel::kError : LogLevel::kWarn,
        give_up ? "media fetch failed; given up after a day"
                : "media fetch failed; trying again later",
        {{"media_id", std::to_string(job.id)},
         {"conversation", std::to_string(job.conversation_id)},
         {"channel", job.channel},
         {"error", error},
         {"next_attempt_at", give_up ? std::string() : next}});
    if (give_up) {
        s_.events.Publish(job.conversation_id, "media");
        co_await Unfetched(job);
    }
}

}  // namespace cobrador::bot
