// Webhook load benchmark (issue 7). Starts the real `cobrador serve` on a fresh SQLite file
// (WAL, synchronous=FULL) with a generated portfolio, points both channels at a fake provider
// in this process (Meta's Graph API and Twilio's REST API on loopback, answering at once with
// a message id), and sends correctly signed webhooks from many debtors: WhatsApp and SMS
// messages that drive real dialog turns, the status callbacks of the replies the provider
// handed out (sent, delivered, read), provider redeliveries (duplicates) and forged
// signatures.
//
// Prints, per phase: events/s acknowledged, ack latency p50/p99/p99.9 (from the moment each
// request was due, so a stalled server cannot hide its queue), inbound-to-reply latency (the
// webhook's send to the provider receiving the answer), the server's CPU per event, its peak
// RSS and memory per conversation; then the same load against a minimal Beast server that only
// answers 200, as a ratio.
//
//   build/bench/bench_webhooks [SECONDS_PER_PHASE] [DEBTORS] [RATES...]
//   (defaults: 10 s, 5000 debtors, fixed rates 1000 3000 5000 events/s)
//
// BENCH_MIX=messages gives the message-heavy mix (80% new messages, 20% status callbacks, no
// duplicates or forgeries) instead of the default status-heavy one (about three status
// callbacks per reply, 2% duplicates, 1% forgeries).

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "channels/signature.hpp"
#include "channels/twilio.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr const char* kAppSecret = "bench-app-secret";
constexpr const char* kTwilioToken = "bench-twilio-token";
constexpr const char* kTwilioSid = "ACbench0000000000000000000000000000";
constexpr const char* kPublicUrl = "https://bench.example.com";

std::string ReadFile(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

double Percentile(std::vector<double> values, double p) {
    if (values.empty()) {
        return 0;
    }
    std::sort(values.begin(), values.end());
    return values[static_cast<std::size_t>(p * static_cast<double>(values.size() - 1))];
}

std::string Phone(std::size_t debtor) {
    return "+52155" + std::to_string(10000000 + debtor);
}

// --- the fake provider: Graph API and Twilio REST on loopback, in this process ---

struct Provider {
    std::mutex mutex;
    std::deque<std::pair<std::string, bool>> handed_out;  // (provider id, whatsapp?) to report
    std::unordered_map<std::string, Clock::time_point> waiting;  // phone -> inbound sent at
    std::vector<double> reply_ms;
    std::atomic<std::size_t> sends{0};
    std::atomic<bool> stall{false};  // answers wait (sends hang in flight) while set

    // The phone a send goes to: WhatsApp's JSON "to" (digits) or Twilio's form "To".
    static std::string Recipient(const std::string& body, bool whatsapp) {
        if (whatsapp) {
            const auto at = body.find("\"to\":\"");
            if (at == std::string::npos) {
                return {};
            }
            const auto start = at + 6;
            return "+" + body.substr(start, body.find('"', start) - start);
        }
        const auto form = cobrador::channels::ParseForm(body);
        if (form) {
            for (const auto& [name, value] : *form) {
                if (name == "To") {
                    return value;
                }
            }
        }
        return {};
    }

    std::string Answer(const std::string& target, const std::string& body) {
        while (stall) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        const bool whatsapp = target.find("/messages") != std::string::npos;
        const std::size_t n = ++sends;
        const std::string id =
            whatsapp ? "wamid.OUT" + std::to_string(n) : "SMout" + std::to_string(100000000 + n);
        const std::string to = Recipient(body, whatsapp);
        {
            std::lock_guard lock(mutex);
            handed_out.emplace_back(id, whatsapp);
            // Mexican mobiles: WhatsApp reports +52 1 55..., the ledger keeps +52 55...
            for (const std::string& key :
                 {to, "+521" + to.substr(std::min<std::size_t>(3, to.size()))}) {
                auto found = waiting.find(key);
                if (found != waiting.end()) {
                    reply_ms.push_back(
                        std::chrono::duration<double, std::milli>(Clock::now() - found->second)
                            .count());
                    waiting.erase(found);
                    break;
                }
            }
        }
        return whatsapp
                   ? R"({"messaging_product":"whatsapp","contacts":[{"input":"x","wa_id":"x"}],"messages":[{"id":")" +
                         id + R"("}]})"
                   : R"({"sid":")" + id + R"(","status":"queued"})";
    }
};

// A minimal HTTP/1.1 server: every request gets `answer(target, body)` with 200 (or an empty
// 200 when `answer` is empty: the baseline).
using AnswerFn = std::function<std::string(const std::string&, const std::string&)>;

net::awaitable<void> ServeOne(tcp::socket socket, AnswerFn answer) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    for (;;) {
        http::request<http::string_body> req;
        auto [read_error, n] =
            co_await http::async_read(stream, buffer, req, net::as_tuple(net::use_awaitable));
        if (read_error) {
            break;
        }
        http::response<http::string_body> res{http::status::ok, 11};
        res.set(http::field::content_type, "application/json");
        if (answer) {
            res.body() = answer(std::string(req.target()), req.body());
        }
        res.keep_alive(req.keep_alive());
        res.prepare_payload();
        auto [write_error, m] =
            co_await http::async_write(stream, res, net::as_tuple(net::use_awaitable));
        if (write_error || !req.keep_alive()) {
            break;
        }
    }
}

net::awaitable<void> AcceptAll(tcp::acceptor& acceptor, AnswerFn answer) {
    for (;;) {
        auto [error, socket] = co_await acceptor.async_accept(net::as_tuple(net::use_awaitable));
        if (error) {
            co_return;
        }
        auto executor = socket.get_executor();
        net::co_spawn(executor, ServeOne(std::move(socket), answer), net::detached);
    }
}

// --- the load ---

enum Kind { kWhatsAppMessage, kSmsMessage, kWhatsAppStatus, kSmsStatus, kDuplicate, kForged };

constexpr const char* kKindNames[] = {
    "whatsapp message", "sms message", "whatsapp status", "sms status", "duplicate", "forged"};

struct Job {
    Kind kind;
    std::string target;
    std::string body;
    std::string content_type;
    std::string signature_header;
    std::string signature;
    std::string phone;  // messages: the sender
};

// What debtors say, in order, so that conversations move through the dialog.
const std::vector<std::string> kScript = {
    "hola", "15/03/1985", "cuanto debo", "como pago", "te pago mil el viernes", "si", "gracias"};

std::string PercentEncode(const std::string& text) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (const unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

std::string FormBody(const std::vector<std::pair<std::string, std::string>>& fields) {
    std::string out;
    for (const auto& [name, value] : fields) {
        out += (out.empty() ? "" : "&") + PercentEncode(name) + "=" + PercentEncode(value);
    }
    return out;
}

class Load {
public:
    // `first`: the first debtor's number; `only_messages`: no statuses, duplicates or forgeries
    // (the memory phase, where every event opens a conversation).
    // `message_heavy`: 80% messages and 20% status callbacks, no duplicates or forgeries.
    Load(Provider& provider,
         std::size_t debtors,
         std::size_t first = 0,
         bool only_messages = false,
         bool message_heavy = false)
        : provider_(provider),
          debtors_(debtors),
          first_(first),
          only_messages_(only_messages),
          message_heavy_(message_heavy) {}

    Job Next() {
        ++made_;
        std::uint64_t roll = only_messages_ ? 99 : random_() % 100;
        if (message_heavy_) {
            roll = roll < 20 ? 3 : 99;  // 20% statuses (when there are replies to report on)
        }
        if (roll < 2 && !sent_.empty()) {  // a provider redelivers a message
            Job job = sent_[random_() % sent_.size()];
            job.kind = kDuplicate;
            return job;
        }
        if (roll < 3) {  // someone forges a webhook
            Job job = WhatsAppMessage(debtor_++ % debtors_, "hola");
            job.kind = kForged;
            job.signature = "sha256=" + std::string(64, '0');
            return job;
        }
        // About three status callbacks for every reply the provider handed out.
        std::optional<std::pair<std::string, bool>> status;
        {
            std::lock_guard lock(provider_.mutex);
            if (!provider_.handed_out.empty() && roll < 75) {
                status = provider_.handed_out.front();
                if (++status_step_ >= 3) {
                    provider_.handed_out.pop_front();
                    status_step_ = 0;
                }
            }
        }
        if (status) {
            return status->second ? WhatsAppStatus(status->first, status_step_)
                                  : SmsStatus(status->first, status_step_);
        }
        const std::size_t debtor = first_ + debtor_++ % debtors_;
        const std::string& text = kScript[(turn_[debtor]++) % kScript.size()];
        Job job = random_() % 10 < 7 ? WhatsAppMessage(debtor, text) : SmsMessage(debtor, text);
        if (sent_.size() < 10000) {
            sent_.push_back(job);
        } else {
            sent_[random_() % sent_.size()] = job;
        }
        return job;
    }

    std::size_t Made() const { return made_; }

private:
    Job WhatsAppMessage(std::size_t debtor, const std::string& text) {
        const std::string wa_id = Phone(debtor).substr(1);
        std::string body =
            R"({"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"1065"},"contacts":[{"profile":{"name":"Bench"},"wa_id":")" +
            wa_id + R"("}],"messages":[{"from":")" + wa_id + R"(","id":"wamid.IN)" +
            std::to_string(++ids_) +
            R"(","timestamp":"1795000000","type":"text","text":{"body":")" + text + R"("}}]}}]}]})";
        std::string signature = "sha256=" + cobrador::channels::HmacSha256Hex(kAppSecret, body);
        return {kWhatsAppMessage,
                "/webhooks/whatsapp",
                std::move(body),
                "application/json",
                "X-Hub-Signature-256",
                std::move(signature),
                "+" + wa_id};
    }

    Job WhatsAppStatus(const std::string& id, int step) {
        static const char* statuses[] = {"sent", "delivered", "read"};
        std::string body =
            R"({"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"1065"},"statuses":[{"id":")" +
            id + R"(","status":")" + statuses[step % 3] +
            R"(","timestamp":"1795000001","recipient_id":"5215510000000"}]}}]}]})";
        std::string signature = "sha256=" + cobrador::channels::HmacSha256Hex(kAppSecret, body);
        return {kWhatsAppStatus,
                "/webhooks/whatsapp",
                std::move(body),
                "application/json",
                "X-Hub-Signature-256",
                std::move(signature),
                {}};
    }

    Job Twilio(Kind kind,
               const std::string& path,
               const std::vector<std::pair<std::string, std::string>>& fields,
               const std::string& phone) {
        std::string signature = cobrador::channels::TwilioSignature(
            std::string(kPublicUrl) + path, fields, kTwilioToken);
        return {kind,
                path,
                FormBody(fields),
                "application/x-www-form-urlencoded",
                "X-Twilio-Signature",
                std::move(signature),
                phone};
    }

    Job SmsMessage(std::size_t debtor, const std::string& text) {
        const std::string sid = "SMin" + std::to_string(100000000 + ++ids_);
        const std::string phone = Phone(debtor);
        return Twilio(kSmsMessage,
                      "/webhooks/twilio",
                      {{"MessageSid", sid},
                       {"AccountSid", kTwilioSid},
                       {"From", phone},
                       {"To", "+15005550006"},
                       {"Body", text},
                       {"NumMedia", "0"}},
                      phone);
    }

    Job SmsStatus(const std::string& sid, int step) {
        static const char* statuses[] = {"queued", "sent", "delivered"};
        return Twilio(kSmsStatus,
                      "/webhooks/twilio/status",
                      {{"MessageSid", sid},
                       {"MessageStatus", statuses[step % 3]},
                       {"AccountSid", kTwilioSid},
                       {"From", "+15005550006"},
                       {"To", "+5215510000000"}},
                      {});
    }

    Provider& provider_;
    std::size_t debtors_;
    std::size_t first_;
    bool only_messages_;
    bool message_heavy_;
    std::size_t debtor_ = 0;
    std::size_t ids_ = 0;
    std::size_t made_ = 0;
    int status_step_ = 0;
    std::unordered_map<std::size_t, std::size_t> turn_;
    std::vector<Job> sent_;
    std::mt19937_64 random_{42};
};

struct PhaseResult {
    double seconds = 0;
    std::size_t replies = 0;  // messages the provider was asked to send during the phase
    std::size_t done = 0;
    std::size_t unexpected = 0;  // an answer other than 200 (401 for forged)
    std::vector<double> ack_ms;
    std::map<int, std::size_t> by_kind;
};

// Sends jobs over `connections` keep-alive connections: as fast as answers come (rate 0), or
// at `rate` events/s with each request's latency counted from when it was due.
PhaseResult RunPhase(const std::vector<std::uint16_t>& ports,
                     Load& load,
                     Provider* provider,
                     std::size_t connections,
                     double rate,
                     std::chrono::duration<double> length,
                     std::size_t max_events) {
    net::io_context ioc(1);
    PhaseResult result;
    const auto started = Clock::now();
    const auto until = started + std::chrono::duration_cast<Clock::duration>(length);
    std::size_t index = 0;
    // Connection c goes to replica c % ports.size(): the round-robin of a load balancer.
    auto worker = [&](std::uint16_t port) -> net::awaitable<void> {
        beast::tcp_stream stream(co_await net::this_coro::executor);
        const tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), port);
        co_await stream.async_connect(endpoint, net::use_awaitable);
        net::steady_timer timer(co_await net::this_coro::executor);
        beast::flat_buffer buffer;
        for (;;) {
            const std::size_t n = index++;
            Clock::time_point due = Clock::now();
            if (rate > 0) {
                due = started + std::chrono::duration_cast<Clock::duration>(
                                    std::chrono::duration<double>(static_cast<double>(n) / rate));
                if (due >= until) {
                    co_return;
                }
                timer.expires_at(due);
                co_await timer.async_wait(net::as_tuple(net::use_awaitable));
            } else if (n >= max_events || Clock::now() >= until) {
                co_return;
            }
            Job job = load.Next();
            http::request<http::string_body> req{http::verb::post, job.target, 11};
            req.set(http::field::host, "bench.example.com");
            req.set(http::field::content_type, job.content_type);
            req.set(job.signature_header, job.signature);
            req.body() = job.body;
            req.prepare_payload();
            if (provider != nullptr && (job.kind == kWhatsAppMessage || job.kind == kSmsMessage)) {
                std::lock_guard lock(provider->mutex);
                provider->waiting[job.phone] = Clock::now();
            }
            co_await http::async_write(stream, req, net::use_awaitable);
            http::response<http::string_body> res;
            co_await http::async_read(stream, buffer, res, net::use_awaitable);
            result.ack_ms.push_back(
                std::chrono::duration<double, std::milli>(Clock::now() - due).count());
            ++result.done;
            ++result.by_kind[job.kind];
            const unsigned expected = job.kind == kForged && provider != nullptr ? 401 : 200;
            if (res.result_int() != expected) {
                ++result.unexpected;
            }
        }
    };
    for (std::size_t c = 0; c < connections; ++c) {
        net::co_spawn(ioc, worker(ports[c % ports.size()]), [](const std::exception_ptr& e) {
            if (e) {
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& failure) {
                    std::fprintf(stderr, "client connection failed: %s\n", failure.what());
                }
            }
        });
    }
    const std::size_t sends_before = provider != nullptr ? provider->sends.load() : 0;
    ioc.run();
    result.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    result.replies = provider != nullptr ? provider->sends.load() - sends_before : 0;
    return result;
}

// Waits (up to `limit`) until the server has handled every message and sent every reply, so
// that one phase's backlog does not count against the next; false when it did not.
bool WaitForDrain(std::uint16_t port, std::chrono::seconds limit = std::chrono::seconds(60)) {
    const auto until = Clock::now() + limit;
    while (Clock::now() < until) {
        net::io_context ioc;
        beast::tcp_stream stream(ioc);
        stream.connect({net::ip::make_address("127.0.0.1"), port});
        http::request<http::string_body> req{http::verb::get, "/metrics", 11};
        req.set(http::field::host, "127.0.0.1");
        http::write(stream, req);
        beast::flat_buffer buffer;
        http::response<http::string_body> res;
        http::read(stream, buffer, res);
        if (res.body().find("\ncobrador_outbox_pending{scope=\"cluster\"} 0\n") !=
                std::string::npos &&
            res.body().find("\ncobrador_inbound_pending{scope=\"cluster\"} 0\n") !=
                std::string::npos) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
}

// utime + stime of a process, in seconds.
double CpuSeconds(pid_t pid) {
    std::istringstream stat(ReadFile("/proc/" + std::to_string(pid) + "/stat"));
    std::string field;
    std::vector<std::string> fields;
    while (stat >> field) {
        fields.push_back(field);
    }
    if (fields.size() < 15) {
        return 0;
    }
    return static_cast<double>(std::stoll(fields[13]) + std::stoll(fields[14])) /
           static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::string StatusField(pid_t pid, const std::string& name) {
    const std::string status = ReadFile("/proc/" + std::to_string(pid) + "/status");
    std::smatch match;
    if (std::regex_search(status, match, std::regex(name + R"(:\s+(\d+) kB)"))) {
        return match[1];
    }
    return "0";
}

void Report(const char* title, const PhaseResult& r, double cpu_seconds, Provider* provider) {
    std::printf("%s\n", title);
    std::printf("  %zu events in %.2f s: %.0f events/s acknowledged, %zu unexpected answers\n",
                r.done,
                r.seconds,
                static_cast<double>(r.done) / r.seconds,
                r.unexpected);
    std::printf("  ack latency: p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms\n",
                Percentile(r.ack_ms, 0.5),
                Percentile(r.ack_ms, 0.99),
                Percentile(r.ack_ms, 0.999));
    if (cpu_seconds > 0) {
        std::printf("  server CPU: %.0f µs per event (%.0f%% of one core)\n",
                    cpu_seconds * 1e6 / static_cast<double>(r.done),
                    cpu_seconds * 100 / r.seconds);
    }
    std::string mix;
    for (const auto& [kind, count] : r.by_kind) {
        mix += std::string(mix.empty() ? "" : ", ") + kKindNames[kind] + " " +
               std::to_string(count * 100 / r.done) + "%";
    }
    std::printf("  mix: %s\n", mix.c_str());
    if (provider != nullptr) {
        std::vector<double> replies;
        {
            std::lock_guard lock(provider->mutex);
            replies.swap(provider->reply_ms);
        }
        std::printf("  inbound to reply at the provider: p50 %.1f ms, p99 %.1f ms (%zu timed)\n",
                    Percentile(replies, 0.5),
                    Percentile(replies, 0.99),
                    replies.size());
        std::printf("  replies sent during the phase: %zu, %.0f/s (dialog turns completed)\n",
                    r.replies,
                    static_cast<double>(r.replies) / r.seconds);
    }
}

// Replica `replica` (named bench-<replica>), its output in out-<replica>.txt and err-<...>.txt.
pid_t StartServer(const std::filesystem::path& dir,
                  const std::string& db,
                  std::uint16_t provider_port,
                  int replica,
                  std::uint16_t& port) {
    const std::string suffix = "-" + std::to_string(replica) + ".txt";
    const std::string out_path = (dir / ("out" + suffix)).string();
    const pid_t server = fork();
    if (server == 0) {
        if (std::freopen(out_path.c_str(), "w", stdout) == nullptr ||
            std::freopen((dir / ("err" + suffix)).c_str(), "w", stderr) == nullptr) {
            _exit(127);
        }
        setenv("COBRADOR_REPLICA_ID", ("bench-" + std::to_string(replica)).c_str(), 1);
        const std::string fake = "http://127.0.0.1:" + std::to_string(provider_port);
        setenv("COBRADOR_LISTEN", "127.0.0.1:0", 1);
        setenv("COBRADOR_DB", db.c_str(), 1);
        setenv("COBRADOR_PUBLIC_URL", kPublicUrl, 1);
        setenv("COBRADOR_REMINDER_MINUTES", "0", 1);
        setenv("COBRADOR_WHATSAPP_APP_SECRET", kAppSecret, 1);
        setenv("COBRADOR_WHATSAPP_ACCESS_TOKEN", "bench-access-token", 1);
        setenv("COBRADOR_WHATSAPP_PHONE_NUMBER_ID", "1065", 1);
        setenv("COBRADOR_WHATSAPP_API_BASE", (fake + "/v21.0").c_str(), 1);
        setenv("COBRADOR_TWILIO_ACCOUNT_SID", kTwilioSid, 1);
        setenv("COBRADOR_TWILIO_AUTH_TOKEN", kTwilioToken, 1);
        setenv("COBRADOR_TWILIO_FROM", "+15005550006", 1);
        setenv("COBRADOR_TWILIO_API_BASE", fake.c_str(), 1);
        execl(COBRADOR_BINARY, COBRADOR_BINARY, "serve", static_cast<char*>(nullptr));
        _exit(127);
    }
    for (int i = 0; i < 400 && port == 0; ++i) {
        std::smatch match;
        const std::string out = ReadFile(out_path);
        if (std::regex_search(
                out, match, std::regex(R"(listening on http://127\.0\.0\.1:(\d+))"))) {
            port = static_cast<std::uint16_t>(std::stoi(match[1]));
        } else {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }
    return server;
}

int Run(const std::string& command) {
    const int status = std::system(command.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

}  // namespace

int main(int argc, char** argv) {
    const double phase_seconds = argc > 1 ? std::stod(argv[1]) : 10;
    const std::size_t debtors = argc > 2 ? std::stoul(argv[2]) : 5000;
    std::vector<double> rates;
    for (int i = 3; i < argc; ++i) {
        rates.push_back(std::stod(argv[i]));
    }
    if (rates.empty()) {
        rates = {1000, 3000, 5000};
    }
    const auto dir =
        std::filesystem::temp_directory_path() / ("cobrador-bench-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    // BENCH_DB: an empty PostgreSQL database (a libpq connection string) instead of an SQLite
    // file in the temporary folder.
    const char* bench_db = std::getenv("BENCH_DB");
    const bool postgres = bench_db != nullptr && *bench_db != '\0';
    const std::string db = postgres ? std::string(bench_db) : (dir / "bench.db").string();
    const std::string quoted_db = "'" + db + "'";

    // A portfolio: every debtor born 15/03/1985, one account each.
    {
        std::ofstream csv(dir / "portfolio.csv");
        csv << "account_id,debtor_name,phone,birth_date,balance,currency,due_date\n";
        for (std::size_t d = 0; d < debtors; ++d) {
            csv << "B-" << d << ",Deudor " << d << "," << Phone(d) << ",1985-03-15,"
                << 1000 + d % 9000 << ".50,MXN,2026-10-01\n";
        }
    }
    if (Run(std::string(COBRADOR_BINARY) + " migrate --db " + quoted_db + " > /dev/null") != 0 ||
        Run(std::string(COBRADOR_BINARY) + " import portfolio --db " + quoted_db + " " +
            (dir / "portfolio.csv").string() + " > /dev/null 2>&1") != 0) {
        std::fprintf(stderr, "could not prepare the ledger\n");
        return 1;
    }

    // The fake provider, on its own thread.
    Provider provider;
    net::io_context provider_ioc(1);
    tcp::acceptor provider_acceptor(provider_ioc, {net::ip::make_address("127.0.0.1"), 0});
    const std::uint16_t provider_port = provider_acceptor.local_endpoint().port();
    net::co_spawn(provider_ioc,
                  AcceptAll(provider_acceptor,
                            [&provider](const std::string& target, const std::string& body) {
                                return provider.Answer(target, body);
                            }),
                  net::detached);
    std::thread provider_thread([&] { provider_ioc.run(); });

    // BENCH_REPLICAS: several `cobrador serve` on the one PostgreSQL database, the load spread
    // over them round-robin (PostgreSQL only: SQLite is one process).
    const char* replicas_env = std::getenv("BENCH_REPLICAS");
    const int replicas =
        postgres && replicas_env != nullptr ? std::max(1, std::atoi(replicas_env)) : 1;
    std::vector<pid_t> servers;
    std::vector<std::uint16_t> ports;
    for (int r = 0; r < replicas; ++r) {
        std::uint16_t port = 0;
        servers.push_back(StartServer(dir, db, provider_port, r, port));
        if (port == 0) {
            std::fprintf(stderr,
                         "the server did not start:\n%s\n",
                         ReadFile((dir / ("err-" + std::to_string(r) + ".txt")).string()).c_str());
            for (const pid_t server : servers) {
                kill(server, SIGKILL);
            }
            return 1;
        }
        ports.push_back(port);
    }
    const pid_t server = servers.front();
    const std::uint16_t port = ports.front();
    // The servers' CPU time together.
    const auto cpu_seconds = [&] {
        double total = 0;
        for (const pid_t s : servers) {
            total += CpuSeconds(s);
        }
        return total;
    };
    std::printf("cobrador serve on %s, %d replica%s, %zu debtors, fake providers on loopback\n\n",
                postgres ? "PostgreSQL (synchronous_commit as the server has it)"
                         : "SQLite (synchronous=FULL)",
                replicas,
                replicas == 1 ? ""
                              : "s (on the same 2 cores: this shows what coordination costs, "
                                "not how it scales)",
                debtors);
    const char* mix_env = std::getenv("BENCH_MIX");
    const bool message_heavy = mix_env != nullptr && std::string(mix_env) == "messages";
    std::printf("mix: %s\n",
                message_heavy ? "message-heavy (80% messages, 20% status callbacks)"
                              : "status-heavy (about three status callbacks per reply)");
    Load load(provider, debtors, 0, false, message_heavy);
    const auto length = std::chrono::duration<double>(phase_seconds);
    RunPhase(ports, load, &provider, 32, 0, std::chrono::seconds(3), 5000);  // warm-up
    {
        std::lock_guard lock(provider.mutex);
        provider.reply_ms.clear();
    }
    const double rss_start = std::stod(StatusField(server, "VmRSS"));

    double cpu = cpu_seconds();
    const PhaseResult sustained = RunPhase(ports, load, &provider, 64, 0, length, SIZE_MAX);
    Report("sustained (64 connections, as fast as acknowledged):",
           sustained,
           cpu_seconds() - cpu,
           &provider);
    bool ok = sustained.unexpected == 0;
    for (const double rate : rates) {
        WaitForDrain(port);  // the backlog of the phase before
        {
            std::lock_guard lock(provider.mutex);
            provider.reply_ms.clear();
        }
        cpu = cpu_seconds();
        const PhaseResult fixed = RunPhase(ports, load, &provider, 256, rate, length, SIZE_MAX);
        const std::string title =
            "fixed rate " + std::to_string(static_cast<int>(rate)) + " events/s (256 connections):";
        Report(title.c_str(), fixed, cpu_seconds() - cpu, &provider);
        ok = ok && fixed.unexpected == 0;
    }
    // Memory: once the caches are warm, new debtors open conversations one message each; the
    // growth of the server's RSS over them is what a conversation costs in memory.
    WaitForDrain(port);
    const auto conversation_count = [&] {
        const std::string count_file = (dir / "count.txt").string();
        Run((postgres ? "psql -Atc 'SELECT count(*) FROM conversations' " + quoted_db
                      : "sqlite3 " + db + " 'SELECT count(*) FROM conversations'") +
            " > " + count_file);
        const std::string text = ReadFile(count_file);
        return text.empty() ? 0.0 : std::stod(text);
    };
    const double rss_before = std::stod(StatusField(server, "VmRSS"));
    const double conversations_before = conversation_count();
    Load newcomers(provider, 20000, debtors + 1000000, true);
    RunPhase({port}, newcomers, nullptr, 32, 2000, std::chrono::seconds(10), SIZE_MAX);
    std::this_thread::sleep_for(std::chrono::seconds(3));
    const double rss_after = std::stod(StatusField(server, "VmRSS"));
    const double opened = conversation_count() - conversations_before;
    const std::string peak = StatusField(server, "VmHWM");
    int wstatus = 0;
    if (replicas > 1) {
        // A replica dies with sends in flight: how long until the others have sent what it
        // held. The provider stops answering for a moment, so that every replica holds rows;
        // the dead one's wait for their lease (4 × send timeout + 30 s) to run out.
        WaitForDrain(port);
        Load more(provider, debtors);
        std::thread load_thread(
            [&] { RunPhase(ports, more, &provider, 64, 500, std::chrono::seconds(3), SIZE_MAX); });
        std::this_thread::sleep_for(std::chrono::seconds(1));
        provider.stall = true;
        std::this_thread::sleep_for(std::chrono::seconds(1));
        kill(servers.front(), SIGKILL);
        const auto killed = Clock::now();
        waitpid(servers.front(), &wstatus, 0);
        provider.stall = false;
        load_thread.join();
        const std::string held_file = (dir / "held.txt").string();
        Run("psql -Atc \"SELECT count(*) FROM outbox WHERE status = 'pending' AND lease_owner = "
            "'bench-0' AND lease_until IS NOT NULL\" " +
            quoted_db + " > " + held_file);
        const std::string held = ReadFile(held_file);
        const bool drained = WaitForDrain(ports[1], std::chrono::seconds(300));
        std::printf(
            "\nreplica bench-0 killed under load holding %s outbox rows: the others %s "
            "%.1f s after the kill\n",
            held.empty() ? "?" : held.substr(0, held.find('\n')).c_str(),
            drained ? "had sent everything" : "had NOT drained the outbox",
            std::chrono::duration<double>(Clock::now() - killed).count());
        servers.erase(servers.begin());
    }
    for (const pid_t s : servers) {
        kill(s, SIGTERM);
        waitpid(s, &wstatus, 0);
    }
    std::printf(
        "\nmemory: peak RSS %s KiB (%.0f KiB after warm-up); %.0f new conversations "
        "took RSS from %.0f to %.0f KiB: %.2f KiB per conversation\n",
        peak.c_str(),
        rss_start,
        opened,
        rss_before,
        rss_after,
        opened > 0 ? (rss_after - rss_before) / opened : 0.0);
    std::printf("provider: %zu replies sent\n", provider.sends.load());

    // The same load against a Beast server that only answers 200: what HTTP alone costs here.
    {
        const pid_t baseline = fork();
        if (baseline == 0) {
            net::io_context ioc(1);
            tcp::acceptor acceptor(ioc, {net::ip::make_address("127.0.0.1"), 0});
            std::ofstream((dir / "baseline-port.txt").string())
                << acceptor.local_endpoint().port() << std::endl;
            net::co_spawn(ioc, AcceptAll(acceptor, {}), net::detached);
            std::thread second([&] { ioc.run(); });  // two threads, as serve's default
            ioc.run();
            second.join();
            _exit(0);
        }
        std::uint16_t baseline_port = 0;
        for (int i = 0; i < 100 && baseline_port == 0; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            const std::string text = ReadFile((dir / "baseline-port.txt").string());
            if (!text.empty() && text.back() == '\n') {
                baseline_port = static_cast<std::uint16_t>(std::stoi(text));
            }
        }
        Load baseline_load(provider, debtors);
        const double baseline_cpu = CpuSeconds(baseline);
        const PhaseResult minimal =
            RunPhase({baseline_port}, baseline_load, nullptr, 64, 0, length, SIZE_MAX);
        Report("\nbaseline: a Beast server that only answers 200, same load:",
               minimal,
               CpuSeconds(baseline) - baseline_cpu,
               nullptr);
        std::printf("cobrador sustains %.0f%% of the bare server's rate\n",
                    100.0 * (static_cast<double>(sustained.done) / sustained.seconds) /
                        (static_cast<double>(minimal.done) / minimal.seconds));
        kill(baseline, SIGKILL);
        waitpid(baseline, &wstatus, 0);
    }

    provider_ioc.stop();
    provider_thread.join();
    {
        // The server's warnings and errors (why some answers were not 200, retries), the first
        // ten and how many; forged signatures are the benchmark's own doing.
        std::string logs;
        for (int r = 0; r < replicas; ++r) {
            logs += ReadFile((dir / ("err-" + std::to_string(r) + ".txt")).string());
        }
        std::istringstream log(logs);
        std::size_t count = 0;
        for (std::string line; std::getline(log, line);) {
            if (line.find("\"level\":\"info\"") == std::string::npos &&
                line.find("wrong signature") == std::string::npos &&
                line.find("credentials are missing") == std::string::npos) {
                if (++count <= 10) {
                    std::printf("server: %s\n", line.c_str());
                }
            }
        }
        std::printf("server: %zu warnings and errors logged\n", count);
    }
    std::filesystem::remove_all(dir);
    return ok ? 0 : 1;
}
