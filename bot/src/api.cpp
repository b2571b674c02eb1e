#include "api.hpp"

#include <charconv>
#include <sstream>

#include "bot/log.hpp"
#include "channels/signature.hpp"
#include "channels/twilio.hpp"
#include "dialogs/agreement.hpp"
#include "dialogs/calendar.hpp"
#include "dialogs/contact.hpp"
#include "dialogs/contact_policy.hpp"
#include "dialogs/dialog.hpp"
#include "dialogs/json_text.hpp"
#include "dialogs/money.hpp"
#include "dialogs/phone.hpp"
#include "dialogs/vocabulary.hpp"
#include "store/csv.hpp"

#include "canned_replies.hpp"
#include "conversation.hpp"
#include "outbound_json.hpp"
#include "proactive.hpp"
#include "report_format.hpp"

namespace cobrador::bot {

namespace net = boost::asio;
using json = nlohmann::json;

namespace {

constexpr std::size_t kMaxMessageChars = 4096;  // WhatsApp's text body limit
constexpr std::size_t kMaxSmsChars = 1600;      // Twilio's body limit
constexpr std::size_t kMaxNoteChars = 4000;
constexpr std::string_view kMediaPrefix = "/api/v1/media/";
using dialogs::kWhatsAppWindow;
using State = dialogs::ConversationState;

// A ledger error: 503 when it was only busy (try again), 500 otherwise; logged either way.
Response LedgerFailed(const boost::system::error_code& error) {
    Log(LogLevel::kError, "collector API: ledger error", {{"error", error.message()}});
    if (error == store::Errc::kBusy) {
        return ApiError(http::status::service_unavailable,
                        "busy",
                        "the ledger could not take this right now; nothing changed, try again");
    }
    return ApiError(http::status::internal_server_error,
                    "internal",
                    "the ledger failed; nothing changed. The server log has the details");
}

Response BadRequest(std::string_view message) {
    return ApiError(http::status::bad_request, "bad_request", message);
}

Response NotAllowed(const char* allow) {
    Response res = ApiError(
        http::status::method_not_allowed, "method_not_allowed", std::string("use ") + allow);
    res.set(http::field::allow, allow);
    return res;
}

// A report as a CSV download.
Response CsvAttachment(const std::string& body, const std::string& filename) {
    Response res = MakeResponse(http::status::ok, body, "text/csv; charset=utf-8");
    res.set(http::field::content_disposition, "attachment; filename=\"" + filename + "\"");
    return res;
}

Response NotFound() {
    return ApiError(http::status::not_found, "not_found", "no such conversation");
}

json Nullable(const std::optional<std::string>& value) {
    return value ? json(*value) : json(nullptr);
}

std::string Decimal(std::int64_t cents) {
    return dialogs::FormatDecimalCents(cents);
}

using dialogs::CodePoints;

bool Blank(std::string_view text) {
    return text.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

// The instant `iso` plus `by`, as ISO 8601 UTC (empty when `iso` does not parse).
std::string PlusHours(const std::string& iso, std::chrono::hours by) {
    const auto at = dialogs::ParseIsoInstant(iso);
    return at ? dialogs::FormatIsoInstant(*at + by) : std::string();
}

json SummaryJson(const store::ConversationSummary& c, std::chrono::sys_seconds now) {
    json holder = nullptr;
    if (c.holder && c.state == State::kClaimed) {
        holder = {{"id", c.holder->id}, {"name", c.holder->name}};
    }
    json waiting = nullptr;
    if (c.escalated_at && c.state != State::kBot && c.state != State::kClosed) {
        if (const auto at = dialogs::ParseIsoInstant(*c.escalated_at)) {
            waiting = std::max<std::int64_t>(0, (now - *at).count());
        }
    }
    return {{"id", c.id},
            {"state", dialogs::ToString(c.state)},
            {"channel", dialogs::ToString(c.channel)},
            {"phone", c.phone},
            {"debtor_name", Nullable(c.debtor_name)},
            {"verified", c.verified},
            {"escalation_reason", Nullable(c.escalation_reason)},
            {"earlier_reasons", c.earlier_reasons},
            {"escalated_at", Nullable(c.escalated_at)},
            {"waiting_seconds", waiting},
            {"holder", holder},
            {"last_message", Nullable(c.last_message)},
            {"last_inbound_at", Nullable(c.last_inbound_at)},
            {"last_activity_at", c.last_activity_at},
            {"created_at", c.created_at},
            {"disposition", Nullable(c.disposition)},
            {"closed_at", Nullable(c.closed_at)}};
}

// A stored file, for a collector's browser: only the types the media worker sniffed and kept
// (images, PDF, audio, video: never HTML), never sniffed again by the browser, never cached,
// under a name we make (the debtor's file name is shown in the transcript, not trusted here).
Response MediaResponse(const std::optional<store::MediaFile>& file, std::int64_t id) {
    if (!file) {
        return ApiError(http::status::not_found, "not_found", "no such file");
    }
    if (file->status != "stored") {
        return ApiError(http::status::conflict,
                        "media_" + file->status,
                        file->status == "pending" ? "the file is still being fetched"
                                                  : "the file was not stored: " + file->status);
    }
    const std::string& type = file->content_type;
    const auto slash = type.find('/');
    std::string extension = slash == std::string::npos ? "bin" : type.substr(slash + 1);
    if (extension == "jpeg") {
        extension = "jpg";
    }
    Response res = MakeResponse(http::status::ok, file->content, type);
    res.set("X-Content-Type-Options", "nosniff");
    res.set(http::field::cache_control, "private, no-store");
    res.set(http::field::content_disposition,
            "inline; filename=\"cobrador-media-" + std::to_string(id) + "." + extension + "\"");
    res.set("Content-Security-Policy", "default-src 'none'; sandbox");
    return res;
}

json DetailJson(const store::ConversationDetail& d, std::chrono::sys_seconds now) {
    json out = SummaryJson(d.summary, now);
    out["debtor"] = nullptr;
    out["accounts"] = json::array();
    if (d.debtor) {
        out["debtor"] = {{"id", d.debtor->id},
                         {"name", d.debtor->name},
                         {"phone", d.debtor->phone},
                         {"locale", d.debtor->locale},
                         {"timezone", d.debtor->timezone}};
        const dialogs::Date today = LocalDate(now, d.debtor->timezone);
        for (const auto& a : d.accounts) {
            const auto due = dialogs::ParseIsoDate(a.due_date);
            out["accounts"].push_back(
                {{"account_id", a.account_id},
                 {"balance", Decimal(a.balance_cents)},
                 {"currency", a.currency},
                 {"due_date", a.due_date},
                 {"days_past_due", due ? json(dialogs::DaysPastDue(*due, today)) : json(nullptr)},
                 {"min_payment",
                  a.min_payment_cents ? json(Decimal(*a.min_payment_cents)) : json(nullptr)},
                 {"segment", a.segment},
                 {"product", a.product},
                 {"reference", Nullable(a.reference)}});
        }
    }
    out["promises"] = json::array();
    for (const auto& p : d.promises) {
        out["promises"].push_back({{"id", p.id},
                                   {"account_id", p.account_id},
                                   {"amount", Decimal(p.amount_cents)},
                                   {"currency", p.currency},
                                   {"due_date", p.due_date},
                                   {"status", p.status},
                                   {"created_at", p.created_at}});
    }
    out["plans"] = json::array();
    for (const auto& p : d.plans) {
        json installments = json::array();
        for (const auto& i : p.installments) {
            installments.push_back({{"seq", i.seq},
                                    {"due_date", i.due_date},
                                    {"amount", Decimal(i.amount_cents)},
                                    {"status", i.status}});
        }
        out["plans"].push_back({{"id", p.id},
                                {"account_id", p.account_id},
                                {"kind", p.kind},
                                {"total", Decimal(p.total_cents)},
                                {"discount", Decimal(p.discount_cents)},
                                {"currency", p.currency},
                                {"status", p.status},
                                {"created_at", p.created_at},
                                {"installments", installments}});
    }
    out["messages"] = json::array();
    for (const auto& m : d.messages) {
        json media = json::array();
        for (const store::MediaItem& f : m.media) {
            json receipt = nullptr;
            if (f.receipt) {
                const store::ReceiptReading& r = *f.receipt;
                const auto text = [](const std::string& value) {
                    return value.empty() ? json(nullptr) : json(value);
                };
                receipt = {
                    {"status", r.read ? "read" : "unreadable"},
                    {"engine", text(r.engine)},
                    {"error", text(r.error)},
                    {"text", r.text},
                    {"fields",
                     {{"clave_rastreo", text(r.clave_rastreo)},
                      {"amount", r.amount_cents ? json(Decimal(*r.amount_cents)) : json(nullptr)},
                      {"date", text(r.operation_date)},
                      {"sending_bank", text(r.sending_bank)},
                      {"beneficiary_account", text(r.beneficiary_account)},
                      {"reference", text(r.reference)},
                      {"concept", text(r.payment_concept)},
                      {"beneficiary_name", text(r.beneficiary_name)}}},
                    {"check",
                     r.check ? json{{"status", r.check->status},
                                    {"outcome", text(r.check->outcome)},
                                    {"detail", text(r.check->detail)},
                                    {"payment_id", text(r.check->payment_id)}}
                             : json(nullptr)}};
            }
            media.push_back({{"id", f.id},
                             {"kind", f.kind},
                             {"voice", f.voice},
                             {"status", f.status},
                             {"content_type", f.content_type},
                             {"filename", f.filename},
                             {"size", f.size_bytes},
                             {"detail", f.detail.empty() ? json(nullptr) : json(f.detail)},
                             {"url", std::string(kMediaPrefix) + std::to_string(f.id)},
                             {"receipt", std::move(receipt)}});
        }
        out["messages"].push_back(
            {{"id", m.message_id},
             {"direction", m.direction},
             {"author", m.author},
             {"text", m.body},
             {"status", m.status},
             {"error_code", m.error_code.empty() ? json(nullptr) : json(m.error_code)},
             {"at", m.created_at},
             {"media", std::move(media)}});
    }
    out["notes"] = json::array();
    for (const auto& n : d.notes) {
        out["notes"].push_back({{"id", n.id},
                                {"agent", {{"id", n.agent.id}, {"name", n.agent.name}}},
                                {"text", n.text},
                                {"at", n.at}});
    }
    out["agent_names"] = json::object();
    for (const auto& a : d.agents) {
        out["agent_names"][std::to_string(a.id)] = a.name;
    }
    out["events"] = json::array();
    for (const auto& e : d.events) {
        const auto detail = json::parse(e.detail, nullptr, false);
        out["events"].push_back({{"at", e.at},
                                 {"actor", e.actor},
                                 {"kind", e.kind},
                                 {"detail", detail.is_discarded() ? json::object() : detail}});
    }
    // The contact policy's answer, the same one SendAgentMessage enforces.
    const auto may = dialogs::MayWrite(dialogs::WritePurpose::kAgentReply,
                                       store::AgentReplyRecipient(d.summary, d.reach),
                                       now,
                                       nullptr);
    if (!may.allowed()) {
        out["can_send"] = {{"ok", false},
                           {"code", dialogs::Code(may.block)},
                           {"error", dialogs::Explain(may.block)}};
    } else {
        out["can_send"] = {{"ok", true}};
    }
    out["whatsapp_window_closes_at"] = nullptr;
    if (d.summary.channel == dialogs::Channel::kWhatsApp && d.summary.last_inbound_at) {
        out["whatsapp_window_closes_at"] = PlusHours(*d.summary.last_inbound_at, kWhatsAppWindow);
    }
    return out;
}

// The answer to an action the ledger refused (docs/api.md's table).
Response Refused(const store::ActionOutcome& outcome) {
    using store::Refusal;
    switch (outcome.refusal) {
        case Refusal::kNone:
            break;
        case Refusal::kNotFound:
            return NotFound();
        case Refusal::kForbidden:
            return ApiError(http::status::forbidden,
                            "forbidden",
                            "only a supervisor may assign a conversation to someone else");
        case Refusal::kHeldByOther: {
            json body = {{"error", "another agent holds this conversation"},
                         {"code", "held_by_other"}};
            if (outcome.holder) {
                body["holder"] = {{"id", outcome.holder->id}, {"name", outcome.holder->name}};
                body["error"] = outcome.holder->name + " holds this conversation";
            }
            return Json(http::status::conflict, body);
        }
        case Refusal::kNotHeld:
            return ApiError(http::status::conflict,
                            "not_held",
                            "you do not hold this conversation: claim it first");
        case Refusal::kClosed:
            return ApiError(http::status::conflict, "closed", "the conversation is closed");
        case Refusal::kOutsideWindow: {
            json body = {{"error", dialogs::Explain(dialogs::WriteBlock::kOutsideWindow)},
                         {"code", dialogs::Code(dialogs::WriteBlock::kOutsideWindow)},
                         {"window_closed_at", nullptr}};
            if (outcome.last_inbound_at) {
                body["window_closed_at"] = PlusHours(*outcome.last_inbound_at, kWhatsAppWindow);
            }
            return Json(http::status::conflict, body);
        }
        case Refusal::kOptedOut:
            return ApiError(http::status::conflict,
                            dialogs::Code(dialogs::WriteBlock::kOptedOut),
                            dialogs::Explain(dialogs::WriteBlock::kOptedOut));
        case Refusal::kTooLongForSms:
            return BadRequest("on SMS a message is at most 1600 characters");
        case Refusal::kNoAccount:
            return ApiError(http::status::unprocessable_entity,
                            "no_account",
                            "account_id is not one of the debtor's accounts (name one when the "
                            "debtor has several with a balance)");
        case Refusal::kWrongNumber:
            return ApiError(http::status::conflict,
                            dialogs::Code(dialogs::WriteBlock::kWrongNumber),
                            dialogs::Explain(dialogs::WriteBlock::kWrongNumber));
        case Refusal::kNotAgreed: {
            if (!outcome.agreement) {
                break;
            }
            const dialogs::AgreementProblem problem = outcome.agreement->problem;
            // The policy forbids it to this agent: 403; the account does not allow it: 409;
            // the ask itself is wrong: 422.
            const http::status status = problem == dialogs::AgreementProblem::kOutsidePolicy
                                            ? http::status::forbidden
                                        : problem == dialogs::AgreementProblem::kPromiseOpen ||
                                                problem == dialogs::AgreementProblem::kPlanActive ||
                                                problem == dialogs::AgreementProblem::kNoBalance
                                            ? http::status::conflict
                                            : http::status::unprocessable_entity;
            json body = {
                {"error", outcome.agreement->why + " (account " + outcome.account_key + ")"},
                {"code", std::string(dialogs::Code(problem))},
                {"account_id", outcome.account_key}};
            if (!outcome.agreement->limit_kind.empty()) {
                body["limit"] = {{"kind", outcome.agreement->limit_kind}};
                if (!outcome.agreement->limit.empty()) {
                    body["limit"]["value"] = outcome.agreement->limit;
                }
            }
            return Json(status, body);
        }
    }
    return ApiError(http::status::internal_server_error, "internal", "unexpected refusal");
}

// An agreement's body: {"kind": "promise", "amount": "1500.00", "date": "YYYY-MM-DD"},
// {"kind": "settlement", "amount": "3000.00"} or {"kind": "installments", "installments": 3};
// "account_id" names the account when the debtor owes on several. Or the 400 to answer.
std::variant<store::AgentAgreement, Response> ReadAgreement(const json& body) {
    constexpr const char* kShape =
        "an agreement is {\"kind\": \"promise\", \"amount\": \"1500.00\", \"date\": "
        "\"YYYY-MM-DD\"}, {\"kind\": \"settlement\", \"amount\": \"3000.00\"} or "
        "{\"kind\": \"installments\", \"installments\": 3}, with \"account_id\" when the "
        "debtor owes on several accounts";
    if (!body.is_object() || !body.contains("kind") || !body["kind"].is_string()) {
        return BadRequest(kShape);
    }
    const auto kind = dialogs::ParseAgreementKind(body["kind"].get<std::string>());
    if (!kind) {
        return BadRequest(kShape);
    }
    store::AgentAgreement out;
    out.ask.kind = *kind;
    if (body.contains("account_id")) {
        if (!body["account_id"].is_string() ||
            CodePoints(body["account_id"].get<std::string>()) > 200) {
            return BadRequest("account_id is the portfolio's account_id");
        }
        out.account_key = body["account_id"].get<std::string>();
    }
    if (*kind != dialogs::AgreementKind::kInstallments) {
        const auto cents = body.contains("amount") && body["amount"].is_string()
                               ? dialogs::ParseDecimalCents(body["amount"].get<std::string>())
                               : std::nullopt;
        if (!cents || *cents <= 0) {
            return BadRequest("amount is a positive decimal string such as \"1500.00\"; " +
                              std::string(kShape));
        }
        out.ask.amount_cents = *cents;
    }
    if (*kind == dialogs::AgreementKind::kPromise) {
        out.ask.date = body.contains("date") && body["date"].is_string()
                           ? dialogs::ParseIsoDate(body["date"].get<std::string>())
                           : std::nullopt;
        if (!out.ask.date) {
            return BadRequest("date is YYYY-MM-DD; " + std::string(kShape));
        }
    }
    if (*kind == dialogs::AgreementKind::kInstallments) {
        if (!body.contains("installments") || !body["installments"].is_number_integer() ||
            body["installments"].get<std::int64_t>() < 2 ||
            body["installments"].get<std::int64_t>() > 120) {
            return BadRequest("installments is a whole number from 2 to 120");
        }
        out.ask.installments = static_cast<int>(body["installments"].get<std::int64_t>());
    }
    return out;
}

// What RecordAgreement recorded, for the API: the promise or the plan with its schedule.
json AgreementJson(const store::ActionOutcome& outcome,
                   const dialogs::AgreementAsk& ask,
                   std::chrono::sys_seconds now) {
    const dialogs::AgreementVerdict& v = *outcome.agreement;
    json out = {{"id", outcome.created_id},
                {"kind", std::string(dialogs::ToString(ask.kind))},
                {"account_id", outcome.account_key},
                {"beyond_policy", v.beyond_policy}};
    if (ask.kind == dialogs::AgreementKind::kPromise) {
        out["amount"] = dialogs::FormatDecimalCents(ask.amount_cents);
        out["date"] = dialogs::FormatIsoDate(*ask.date);
    } else {
        out["total"] = dialogs::FormatDecimalCents(v.plan.total_cents);
        out["discount"] = dialogs::FormatDecimalCents(v.plan.discount_cents);
        json schedule = json::array();
        for (const dialogs::Installment& i : v.schedule) {
            schedule.push_back({{"date", dialogs::FormatIsoDate(i.due)},
                                {"amount", dialogs::FormatDecimalCents(i.cents)}});
        }
        out["schedule"] = std::move(schedule);
    }
    out["conversation"] = SummaryJson(*outcome.conversation, now);
    return out;
}

// Whether any text in `value` (keys included) holds a NUL character (\u0000): no channel
// carries one, and PostgreSQL's text would end there while SQLite kept the rest.
bool HoldsNul(const json& value) {
    if (value.is_string()) {
        return dialogs::HasNul(value.get_ref<const std::string&>());
    }
    if (value.is_object()) {
        for (const auto& [key, item] : value.items()) {
            if (dialogs::HasNul(key) || HoldsNul(item)) {
                return true;
            }
        }
    }
    if (value.is_array()) {
        for (const json& item : value) {
            if (HoldsNul(item)) {
                return true;
            }
        }
    }
    return false;
}

// The body as a JSON object; an empty body is an empty object. Refused (nullopt) when it is not
// one, or any of its text holds a NUL character.
std::optional<json> BodyObject(const Request& req) {
    if (Blank(req.body())) {
        return json::object();
    }
    auto body = dialogs::ParseJsonText(req.body());
    if (body.is_discarded() || !body.is_object() || HoldsNul(body)) {
        return std::nullopt;
    }
    return body;
}

// A required text field, 1..max characters and not only blanks.
std::variant<std::string, Response> TextField(const json& body, const char* name, std::size_t max) {
    if (!body.contains(name) || !body[name].is_string()) {
        return BadRequest(std::string("expected a JSON object with a string \"") + name + "\"");
    }
    std::string text = body[name].get<std::string>();
    if (Blank(text)) {
        return BadRequest(std::string("\"") + name + "\" is empty");
    }
    if (dialogs::HasNul(text)) {
        // \u0000: no channel carries it, and PostgreSQL's text would end there.
        return BadRequest(std::string("\"") + name + "\" holds a NUL character");
    }
    if (CodePoints(text) > max) {
        return BadRequest(std::string("\"") + name + "\" is over " + std::to_string(max) +
                          " characters");
    }
    return text;
}

std::optional<std::int64_t> ParseId(std::string_view text) {
    std::int64_t id = 0;
    const char* end = text.data() + text.size();
    if (text.empty() || text.size() > 18 || std::from_chars(text.data(), end, id).ptr != end ||
        id <= 0) {
        return std::nullopt;
    }
    return id;
}

std::optional<std::string> QueryValue(
    const std::vector<std::pair<std::string, std::string>>& params, std::string_view key) {
    for (const auto& [k, v] : params) {
        if (k == key) {
            return v;
        }
    }
    return std::nullopt;
}

json CaseJson(const store::CaseRecord& c,
              const dialogs::Date& today,
              const std::vector<dialogs::Date>& days_off) {
    json out = {{"id", c.id},
                {"folio", c.folio},
                {"kind", c.kind},
                {"category", c.category},
                {"debtor", {{"id", c.debtor_id}, {"name", c.debtor_name}, {"phone", c.phone}}},
                {"account_id", Nullable(c.account_id)},
                {"conversation_id", c.conversation_id ? json(*c.conversation_id) : json(nullptr)},
                {"opened_by_agent", c.opened_by_agent ? json(*c.opened_by_agent) : json(nullptr)},
                {"opened_by_name", Nullable(c.opened_by_name)},
                {"description", c.description},
                {"opened_at", c.opened_at},
                {"due_date", c.due_date},
                {"business_days_left", nullptr},
                {"status", c.status},
                {"outcome", Nullable(c.outcome)},
                {"resolution", Nullable(c.resolution)},
                {"closed_at", Nullable(c.closed_at)},
                {"closed_by", c.closed_by ? json(*c.closed_by) : json(nullptr)},
                {"closed_by_name", Nullable(c.closed_by_name)}};
    if (const auto due = dialogs::ParseIsoDate(c.due_date); due && c.status == "open") {
        out["business_days_left"] = dialogs::BusinessDaysLeft(today, *due, days_off);
    }
    return out;
}

Response CaseRefused(const store::CaseAction& action) {
    if (action.refused == "closed") {
        return ApiError(http::status::conflict, "closed", "the case is closed already");
    }
    if (action.refused == "no_debtor") {
        return ApiError(http::status::unprocessable_entity,
                        "no_debtor",
                        "no debtor with that debtor_id (or the conversation has no debtor)");
    }
    if (action.refused == "no_account") {
        return ApiError(http::status::unprocessable_entity,
                        "no_account",
                        "account_id is not one of the debtor's accounts");
    }
    return ApiError(http::status::not_found, "not_found", "no such case or conversation");
}

// Disputes, complaints and privacy requests (docs/cases.md); nullopt: not a cases route.
net::awaitable<std::optional<Response>> HandleCases(ApiContext& api,
                                                    const Request& req,
                                                    std::string_view path,
                                                    std::string_view query,
                                                    const store::Agent& agent,
                                                    std::chrono::system_clock::time_point clock) {
    const bool get = req.method() == http::verb::get || req.method() == http::verb::head;
    const bool post = req.method() == http::verb::post;
    const auto not_allowed = NotAllowed;
    const std::string today_iso = api.config.Today(clock);
    const dialogs::Date today = *dialogs::ParseIsoDate(today_iso);
    const std::string now_iso = api.config.Now(clock);

    if (path == "/api/v1/reports/complaints") {
        if (!get) {
            co_return not_allowed("GET");
        }
        const auto params = channels::ParseForm(query);
        if (!params) {
            co_return BadRequest("the query string does not parse");
        }
        const std::string month = QueryValue(*params, "month").value_or(today_iso.substr(0, 7));
        const std::string format = QueryValue(*params, "format").value_or("json");
        if (!ComplaintsMonthValid(month)) {
            co_return BadRequest("month is YYYY-MM");
        }
        if (format != "json" && format != "csv") {
            co_return BadRequest("format is json or csv");
        }
        const std::string lang = QueryValue(*params, "lang").value_or("en-US");
        if (!IsReportLanguage(lang)) {
            co_return BadRequest("lang is en-US or es-MX");
        }
        auto report = co_await api.ledger.Run(
            [&](store::Ledger& l) { return l.ComplaintsForMonth(month, api.config.timezone); });
        if (!report) {
            co_return LedgerFailed(report.error());
        }
        if (format == "csv") {
            std::ostringstream csv;
            WriteComplaintsCsv(*report, csv, lang);
            co_return CsvAttachment(csv.str(), "cobrador-complaints-" + month + ".csv");
        }
        co_return MakeResponse(
            http::status::ok, ComplaintsJson(*report).dump() + "\n", "application/json");
    }

    if (path == "/api/v1/cases") {
        if (get) {
            const auto params = channels::ParseForm(query);
            if (!params) {
                co_return BadRequest("the query string does not parse");
            }
            store::CaseFilter filter;
            const std::string status = QueryValue(*params, "status").value_or("open");
            if (status != "open" && status != "closed" && status != "all") {
                co_return BadRequest("status is open, closed or all");
            }
            filter.status = status == "all" ? std::nullopt : std::optional<std::string>(status);
            if (auto kind = QueryValue(*params, "kind")) {
                if (*kind != "complaint" && *kind != "privacy") {
                    co_return BadRequest("kind is complaint or privacy");
                }
                filter.kind = *kind;
            }
            if (auto debtor = QueryValue(*params, "debtor")) {
                const auto debtor_id = ParseId(*debtor);
                if (!debtor_id) {
                    co_return BadRequest("debtor is a debtor's id, as a case's debtor.id");
                }
                filter.debtor_id = *debtor_id;
            }
            auto rows =
                co_await api.ledger.Run([&](store::Ledger& l) { return l.ListCases(filter); });
            if (!rows) {
                co_return LedgerFailed(rows.error());
            }
            json out = {{"cases", json::array()}};
            for (const auto& c : *rows) {
                out["cases"].push_back(CaseJson(c, today, api.config.days_off_dates));
            }
            co_return Json(http::status::ok, out);
        }
        if (!post) {
            co_return not_allowed("GET, POST");
        }
        const auto body = BodyObject(req);
        if (!body) {
            co_return BadRequest("expected a JSON object");
        }
        store::NewCase request;
        request.agent_id = agent.id;
        if (body->contains("kind") && !(*body)["kind"].is_string()) {
            co_return BadRequest("kind is complaint or privacy");
        }
        request.kind = body->value("kind", "complaint");
        if (request.kind != "complaint" && request.kind != "privacy") {
            co_return BadRequest("kind is complaint or privacy");
        }
        if (!body->contains("category") || !(*body)["category"].is_string() ||
            !store::IsCaseCategory(request.kind, (*body)["category"].get<std::string>())) {
            co_return BadRequest(request.kind == "complaint"
                                     ? "category is one of not_mine, identity_theft, "
                                       "wrong_amount, already_paid, treatment, other"
                                     : "category is one of access, rectification, "
                                       "cancellation, opposition");
        }
        request.category = (*body)["category"].get<std::string>();
        auto description = TextField(*body, "description", 2000);
        if (auto* bad = std::get_if<Response>(&description)) {
            co_return std::move(*bad);
        }
        request.description = std::get<std::string>(description);
        if (body->contains("conversation_id") && (*body)["conversation_id"].is_number_integer()) {
            request.conversation_id = (*body)["conversation_id"].get<std::int64_t>();
        } else if (body->contains("debtor_id") && (*body)["debtor_id"].is_string()) {
            request.debtor_key = (*body)["debtor_id"].get<std::string>();
        } else {
            co_return BadRequest(
                "give conversation_id (a number) or debtor_id (the portfolio's, a string)");
        }
        if (body->contains("account_id")) {
            if (!(*body)["account_id"].is_string()) {
                co_return BadRequest("account_id is the portfolio's account_id, a string");
            }
            request.account_key = (*body)["account_id"].get<std::string>();
        }
        request.due_date = dialogs::FormatIsoDate(
            dialogs::AddBusinessDays(today,
                                     request.kind == "complaint" ? dialogs::kComplaintBusinessDays
                                                                 : dialogs::kPrivacyBusinessDays,
                                     api.config.days_off_dates));
        auto opened =
            co_await api.ledger.Run([&](store::Ledger& l) { return l.OpenCase(request, now_iso); });
        if (!opened) {
            co_return LedgerFailed(opened.error());
        }
        if (!opened->record) {
            co_return CaseRefused(*opened);
        }
        api.events.Publish(opened->record->conversation_id, "case");
        co_return Json(http::status::created,
                       CaseJson(*opened->record, today, api.config.days_off_dates));
    }

    constexpr std::string_view kCasePrefix = "/api/v1/cases/";
    if (path.rfind(kCasePrefix, 0) != 0) {
        co_return std::nullopt;
    }
    std::string_view rest = path.substr(kCasePrefix.size());
    const auto slash = rest.find('/');
    const auto id = ParseId(rest.substr(0, slash));
    const std::string_view action =
        slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (!id || (!action.empty() && action != "close")) {
        co_return ApiError(http::status::not_found, "not_found", "no such route");
    }
    if (action.empty()) {
        if (!get) {
            co_return not_allowed("GET");
        }
        auto found = co_await api.ledger.Run([&](store::Ledger& l) { return l.GetCase(*id); });
        if (!found) {
            co_return LedgerFailed(found.error());
        }
        if (!*found) {
            co_return ApiError(http::status::not_found, "not_found", "no such case");
        }
        co_return Json(http::status::ok, CaseJson(**found, today, api.config.days_off_dates));
    }
    if (!post) {
        co_return not_allowed("POST");
    }
    const auto body = BodyObject(req);
    if (!body) {
        co_return BadRequest("expected a JSON object");
    }
    // It goes to the debtor as one message: an SMS takes at most 1,600 characters with the
    // greeting and folio around it.
    auto resolution = TextField(*body, "resolution", 1000);
    if (auto* bad = std::get_if<Response>(&resolution)) {
        co_return std::move(*bad);
    }
    if (!body->contains("outcome") || !(*body)["outcome"].is_string() ||
        !store::IsCaseOutcome((*body)["outcome"].get<std::string>())) {
        co_return BadRequest("outcome is favorable, partial or unfavorable (for the debtor)");
    }
    const store::CaseClosing closing{
        *id, agent.id, (*body)["outcome"].get<std::string>(), std::get<std::string>(resolution)};
    const auto instant = api.config.Instant(clock);
    const Config& config = api.config;
    const dialogs::ReminderStrategy& strategy = api.strategy;
    auto closed = co_await api.ledger.Run([&](store::Ledger& l) {
        return l.CloseCase(
            closing, now_iso, [&](const store::Addressee& to, const store::CaseRecord& record) {
                return CaseResolution(to, record, config, strategy, instant);
            });
    });
    if (!closed) {
        co_return LedgerFailed(closed.error());
    }
    if (!closed->refused.empty()) {
        co_return CaseRefused(*closed);
    }
    if (closed->message_queued) {
        api.wake_dispatcher();
    }
    api.events.Publish(closed->record->conversation_id, "case");
    json out = CaseJson(*closed->record, today, api.config.days_off_dates);
    out["message_queued"] = closed->message_queued;
    co_return Json(http::status::ok, out);
}

}  // namespace

std::string ApiRouteLabel(std::string_view path) {
    if (path.rfind(kMediaPrefix, 0) == 0) {
        return "/api/v1/media/{id}";
    }
    constexpr std::string_view kConversations = "/api/v1/conversations/";
    if (path.rfind(kConversations, 0) == 0) {
        const std::string_view rest = path.substr(kConversations.size());
        const auto slash = rest.find('/');
        if (slash == std::string_view::npos) {
            return "/api/v1/conversations/{id}";
        }
        // Only known actions become labels: a label is never text from the request.
        const std::string_view action = rest.substr(slash + 1);
        for (const char* known :
             {"claim", "release", "close", "messages", "notes", "agreements", "replies"}) {
            if (action == known) {
                return "/api/v1/conversations/{id}/" + std::string(known);
            }
        }
        return "/api/v1/other";
    }
    if (path.starts_with("/api/v1/agents/") && path.ends_with("/disable")) {
        return "/api/v1/agents/{id}/disable";
    }
    if (path.starts_with("/api/v1/agents/") && path.ends_with("/shift")) {
        return "/api/v1/agents/{id}/shift";
    }
    constexpr std::string_view kCases = "/api/v1/cases/";
    if (path.rfind(kCases, 0) == 0) {
        return path.ends_with("/close") ? "/api/v1/cases/{id}/close" : "/api/v1/cases/{id}";
    }
    for (const char* known : {"/api/v1/me",
                              "/api/v1/cases",
                              "/api/v1/reports/complaints",
                              "/api/v1/conversations",
                              "/api/v1/agents",
                              "/api/v1/events",
                              "/api/v1/reports",
                              "/api/v1/payments/suspense",
                              "/api/v1/payments/match"}) {
        if (path == known) {
            return known;
        }
    }
    return "/api/v1/other";
}

net::awaitable<std::variant<store::Agent, Response>> Authenticate(ApiContext& api,
                                                                  const Request& req) {
    Response unauthorized = ApiError(http::status::unauthorized,
                                     "unauthorized",
                                     "give an agent token: Authorization: Bearer cbr_...");
    unauthorized.set(http::field::www_authenticate, "Bearer realm=\"cobrador\"");
    const std::string_view header = req[http::field::authorization];
    constexpr std::string_view kScheme = "bearer ";
    if (header.size() <= kScheme.size()) {
        co_return unauthorized;
    }
    for (std::size_t i = 0; i < kScheme.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(header[i])) != kScheme[i]) {
            co_return unauthorized;
        }
    }
    std::string_view token = header.substr(kScheme.size());
    while (!token.empty() && token.front() == ' ') {
        token.remove_prefix(1);
    }
    // Only the digest is looked up: the token itself goes nowhere, not even into the ledger.
    const std::string digest = channels::Sha256Hex(token);
    const std::string now = api.config.Now(std::chrono::system_clock::now());
    auto agent =
        co_await api.ledger.Run([&](store::Ledger& l) { return l.AgentByToken(digest, now); });
    if (!agent) {
        co_return LedgerFailed(agent.error());
    }
    if (!*agent) {
        co_return unauthorized;
    }
    co_return std::move(**agent);
}

net::awaitable<Response> HandleApi(ApiContext& api,
                                   const Request& req,
                                   std::string_view path,
                                   std::string_view query) {
    auto auth = co_await Authenticate(api, req);
    if (auto* refused = std::get_if<Response>(&auth)) {
        co_return std::move(*refused);
    }
    const store::Agent agent = std::get<store::Agent>(auth);
    const auto clock = std::chrono::system_clock::now();
    const std::chrono::sys_seconds now = api.config.Instant(clock);
    const std::string now_iso = api.config.Now(clock);
    const bool get = req.method() == http::verb::get || req.method() == http::verb::head;
    const bool post = req.method() == http::verb::post;
    const auto not_allowed = NotAllowed;

    if (auto cases = co_await HandleCases(api, req, path, query, agent, clock)) {
        co_return std::move(*cases);
    }

    if (path == "/api/v1/me") {
        if (!get) {
            co_return not_allowed("GET");
        }
        co_return Json(http::status::ok,
                       {{"id", agent.id},
                        {"name", agent.name},
                        {"role", dialogs::ToString(agent.role)},
                        {"on_shift", agent.on_shift_since.has_value()},
                        {"on_shift_since", Nullable(agent.on_shift_since)},
                        {"timezone", api.config.timezone}});
    }

    // On shift or off: oneself, or anyone for a supervisor (someone who went home on shift).
    if (path.starts_with("/api/v1/agents/") && path.ends_with("/shift")) {
        if (!post) {
            co_return not_allowed("POST");
        }
        constexpr std::string_view kPrefix = "/api/v1/agents/";
        const auto target = ParseId(path.substr(
            kPrefix.size(), path.size() - kPrefix.size() - std::string_view("/shift").size()));
        if (!target) {
            co_return ApiError(http::status::not_found, "not_found", "no such agent");
        }
        if (*target != agent.id && !agent.supervisor()) {
            co_return ApiError(http::status::forbidden,
                               "forbidden",
                               "only a supervisor may start or end someone else's shift");
        }
        const auto body = BodyObject(req);
        if (!body || !body->contains("on_shift") || !body->at("on_shift").is_boolean()) {
            co_return BadRequest("expected a JSON object: {\"on_shift\": true} or false");
        }
        const bool on = body->at("on_shift").get<bool>();
        auto changed = co_await api.ledger.Run(
            [&](store::Ledger& l) { return l.SetShift(*target, on, agent.id, now_iso); });
        if (!changed) {
            co_return LedgerFailed(changed.error());
        }
        if (!*changed) {
            co_return ApiError(http::status::not_found, "not_found", "no such active agent");
        }
        Log(LogLevel::kInfo,
            on ? "shift started" : "shift ended",
            {{"agent_id", std::to_string(*target)}, {"by", std::to_string(agent.id)}});
        api.events.Publish(std::nullopt, "agents");
        co_return Json(http::status::ok,
                       {{"id", (*changed)->id},
                        {"name", (*changed)->name},
                        {"on_shift", (*changed)->on_shift_since.has_value()},
                        {"on_shift_since", Nullable((*changed)->on_shift_since)}});
    }

    if (path == "/api/v1/agents" && post) {
        if (!agent.supervisor()) {
            co_return ApiError(
                http::status::forbidden, "forbidden", "only a supervisor may add an agent");
        }
        const auto body = BodyObject(req);
        if (!body) {
            co_return BadRequest(
                "expected a JSON object: {\"name\": \"...\", \"role\": \"collector\"}");
        }
        auto name = TextField(*body, "name", 200);
        if (auto* bad = std::get_if<Response>(&name)) {
            co_return std::move(*bad);
        }
        const std::string role = body->contains("role") && body->at("role").is_string()
                                     ? body->at("role").get<std::string>()
                                     : std::string();
        if (!dialogs::FromString<dialogs::Role>(role)) {
            co_return BadRequest("\"role\" is collector or supervisor");
        }
        std::optional<std::string> expires;
        if (body->contains("expires") && !body->at("expires").is_null()) {
            const json& day = body->at("expires");
            if (!day.is_string() || !dialogs::ParseIsoDate(day.get<std::string>())) {
                co_return BadRequest("\"expires\" is a date, YYYY-MM-DD");
            }
            if (day.get<std::string>() < now_iso.substr(0, 10)) {
                co_return BadRequest("\"expires\" is in the past");
            }
            expires = day.get<std::string>();
        }
        // Someone whose own access ends may not make access that outlives it.
        if (agent.expires_on &&
            (role == "supervisor" || !expires || *expires > *agent.expires_on)) {
            co_return ApiError(http::status::forbidden,
                               "expiring_access",
                               "your access ends on " + *agent.expires_on +
                                   ": you may add collectors whose access ends by then");
        }
        const std::string token = channels::NewToken();
        if (token.empty()) {
            co_return ApiError(http::status::internal_server_error,
                               "internal",
                               "cannot read random bytes for the token");
        }
        auto id = co_await api.ledger.Run([&](store::Ledger& l) {
            return l.AddAgent(std::get<std::string>(name),
                              role,
                              channels::Sha256Hex(token),
                              now_iso,
                              expires,
                              agent.id);
        });
        if (!id) {
            co_return LedgerFailed(id.error());
        }
        Log(LogLevel::kInfo,
            "agent added",
            {{"agent_id", std::to_string(*id)}, {"role", role}, {"by", std::to_string(agent.id)}});
        api.events.Publish(std::nullopt, "agents");
        // The token is in this answer only: the ledger keeps its digest.
        co_return Json(http::status::created,
                       {{"id", *id},
                        {"name", std::get<std::string>(name)},
                        {"role", role},
                        {"expires", expires ? json(*expires) : json(nullptr)},
                        {"token", token}});
    }

    if (path.starts_with("/api/v1/agents/") && path.ends_with("/disable")) {
        if (!post) {
            co_return not_allowed("POST");
        }
        if (!agent.supervisor()) {
            co_return ApiError(
                http::status::forbidden, "forbidden", "only a supervisor may disable an agent");
        }
        constexpr std::string_view kPrefix = "/api/v1/agents/";
        const auto target = ParseId(path.substr(
            kPrefix.size(), path.size() - kPrefix.size() - std::string_view("/disable").size()));
        if (!target) {
            co_return ApiError(http::status::not_found, "not_found", "no such agent");
        }
        if (*target == agent.id) {
            co_return ApiError(http::status::conflict,
                               "self",
                               "you cannot disable yourself; ask another supervisor");
        }
        auto disabled = co_await api.ledger.Run(
            [&](store::Ledger& l) { return l.DisableAgent(*target, now_iso, agent.id); });
        if (!disabled) {
            co_return LedgerFailed(disabled.error());
        }
        switch (disabled->result) {
            case store::DisableResult::kNoActiveAgent:
                co_return ApiError(http::status::not_found, "not_found", "no such active agent");
            case store::DisableResult::kLastSupervisor:
                co_return ApiError(
                    http::status::conflict,
                    "last_supervisor",
                    "that is the last supervisor whose access does not expire: add another first");
            case store::DisableResult::kActorGone:
                co_return ApiError(
                    http::status::forbidden, "forbidden", "you were disabled meanwhile");
            case store::DisableResult::kDisabled:
                break;
        }
        Log(LogLevel::kInfo,
            "agent disabled",
            {{"agent_id", std::to_string(*target)}, {"by", std::to_string(agent.id)}});
        api.events.Publish(std::nullopt, "agents");
        co_return Json(
            http::status::ok,
            {{"id", *target}, {"conversations_returned", disabled->conversations_returned}});
    }

    if (path == "/api/v1/agents") {
        if (!get) {
            co_return not_allowed("GET, POST");
        }
        if (!agent.supervisor()) {
            co_return ApiError(
                http::status::forbidden, "forbidden", "only a supervisor may list the agents");
        }
        auto agents = co_await api.ledger.Run([&](store::Ledger& l) { return l.ListAgents(); });
        if (!agents) {
            co_return LedgerFailed(agents.error());
        }
        json out = {{"agents", json::array()}};
        for (const auto& a : *agents) {
            out["agents"].push_back({{"id", a.id},
                                     {"name", a.name},
                                     {"role", dialogs::ToString(a.role)},
                                     {"created_at", a.created_at},
                                     {"disabled", a.disabled},
                                     {"on_shift", a.on_shift_since.has_value()},
                                     {"on_shift_since", Nullable(a.on_shift_since)}});
        }
        co_return Json(http::status::ok, out);
    }

    if (path == "/api/v1/conversations") {
        if (!get) {
            co_return not_allowed("GET");
        }
        const auto params = channels::ParseForm(query);
        if (!params) {
            co_return BadRequest("the query string does not parse");
        }
        store::ConversationFilter filter;
        if (auto state = QueryValue(*params, "state")) {
            const auto known = dialogs::FromString<State>(*state);
            if (!known && *state != "all") {
                co_return BadRequest("state is one of bot, escalated, claimed, closed, all");
            }
            filter.state = known;
        }
        if (auto phone = QueryValue(*params, "phone")) {
            // An unescaped "+" in a query reads as a space.
            if (!phone->empty() && phone->front() == ' ') {
                phone->front() = '+';
            }
            const auto normalized = dialogs::NormalizePhone(*phone);
            if (!normalized) {
                co_return BadRequest("phone is not an E.164 number (+52...)");
            }
            filter.phone = *normalized;
        }
        if (auto q = QueryValue(*params, "q")) {
            if (!store::IsValidUtf8(*q) || store::HasControlCharacters(*q)) {
                co_return BadRequest("q is not text");
            }
            if (CodePoints(*q) > 100) {
                co_return BadRequest("q is at most 100 characters");
            }
            filter.search = store::Trimmed(*q);
            if (!filter.search.empty() && !QueryValue(*params, "state")) {
                filter.state.reset();  // a search looks in every state
            }
        }
        if (auto due = QueryValue(*params, "promise_due")) {
            if (*due == "today") {
                *due = api.config.Today(clock);
            }
            if (!dialogs::ParseIsoDate(*due)) {
                co_return BadRequest("promise_due is a date (YYYY-MM-DD) or today");
            }
            filter.promise_due = *due;
            if (!QueryValue(*params, "state")) {
                filter.state.reset();
            }
        }
        if (auto mine = QueryValue(*params, "mine"); mine && (*mine == "1" || *mine == "true")) {
            filter.holder = agent.id;
            if (!QueryValue(*params, "state")) {
                filter.state = State::kClaimed;  // what one holds is claimed
            }
        }
        if (auto limit = QueryValue(*params, "limit")) {
            const auto n = ParseId(*limit);
            if (!n || *n > 500) {
                co_return BadRequest("limit is a whole number from 1 to 500");
            }
            filter.limit = static_cast<std::size_t>(*n);
        }
        auto rows =
            co_await api.ledger.Run([&](store::Ledger& l) { return l.ListConversations(filter); });
        if (!rows) {
            co_return LedgerFailed(rows.error());
        }
        json out = {{"conversations", json::array()}};
        for (const auto& c : *rows) {
            out["conversations"].push_back(SummaryJson(c, now));
        }
        co_return Json(http::status::ok, out);
    }

    if (path == "/api/v1/reports") {
        if (!get) {
            co_return not_allowed("GET");
        }
        const auto params = channels::ParseForm(query);
        if (!params) {
            co_return BadRequest("the query string does not parse");
        }
        store::ReportQuery report_query;
        report_query.from = QueryValue(*params, "from").value_or("");
        report_query.to = QueryValue(*params, "to").value_or("");
        report_query.currency = QueryValue(*params, "currency").value_or("");
        const std::string format = QueryValue(*params, "format").value_or("json");
        const std::string lang = QueryValue(*params, "lang").value_or("en-US");
        if (const auto wrong = ReportQueryProblem(report_query)) {
            co_return BadRequest(*wrong);
        }
        if (format != "json" && format != "csv") {
            co_return BadRequest("format is json or csv");
        }
        if (!IsReportLanguage(lang)) {
            co_return BadRequest("lang is en-US or es-MX");
        }
        report_query.as_of = report_query.to.empty() ? api.config.Today(clock) : report_query.to;
        auto report =
            co_await api.ledger.Run([&](store::Ledger& l) { return l.BuildReport(report_query); });
        if (!report) {
            co_return LedgerFailed(report.error());
        }
        if (!agent.supervisor()) {
            report->by_agent.clear();  // each person's figures are for supervisors
        }
        if (format == "csv") {
            std::ostringstream csv;
            WriteReportCsv(*report, csv, lang);
            co_return CsvAttachment(csv.str(), "cobrador-report.csv");
        }
        auto body = ReportJson(*report);
        if (!agent.supervisor()) {
            body.erase("agents");
        }
        co_return MakeResponse(http::status::ok, body.dump() + "\n", "application/json");
    }

    if (path == "/api/v1/payments/match") {
        if (!post) {
            co_return not_allowed("POST");
        }
        if (!agent.supervisor()) {
            co_return ApiError(http::status::forbidden,
                               "forbidden",
                               "only a supervisor may match a payment to an account");
        }
        const auto body = BodyObject(req);
        if (!body) {
            co_return BadRequest(
                "expected a JSON object: {\"payment_id\": \"...\", \"account_id\": \"...\"}");
        }
        auto payment_id = TextField(*body, "payment_id", 200);
        if (auto* bad = std::get_if<Response>(&payment_id)) {
            co_return std::move(*bad);
        }
        auto account_id = TextField(*body, "account_id", 200);
        if (auto* bad = std::get_if<Response>(&account_id)) {
            co_return std::move(*bad);
        }
        if (body->contains("confirm") && !(*body)["confirm"].is_boolean()) {
            co_return BadRequest("\"confirm\" is true or false");
        }
        const bool confirmed = body->value("confirm", false);
        auto matched = co_await api.ledger.Run([&](store::Ledger& l) {
            return l.MatchSuspensePayment(std::get<std::string>(payment_id),
                                          std::get<std::string>(account_id),
                                          agent.id,
                                          confirmed,
                                          now_iso,
                                          [&](const store::PaymentNotice& notice) {
                                              return PaymentThanks(
                                                  notice, api.config, api.strategy, now, true);
                                          });
        });
        if (!matched) {
            co_return LedgerFailed(matched.error());
        }
        using store::MatchResult;
        switch (matched->result) {
            case MatchResult::kNoPayment:
                co_return ApiError(http::status::not_found, "not_found", "no such payment");
            case MatchResult::kNoAccount:
                co_return ApiError(http::status::not_found, "not_found", "no such account");
            case MatchResult::kNotInSuspense:
                co_return ApiError(http::status::conflict,
                                   "not_in_suspense",
                                   "the payment is not in suspense: it is applied already");
            case MatchResult::kRefunded:
                co_return ApiError(http::status::conflict,
                                   "refunded",
                                   "the payment was refunded in part or in full; it cannot be "
                                   "matched");
            case MatchResult::kCurrencyMismatch:
                co_return ApiError(http::status::unprocessable_entity,
                                   "currency_mismatch",
                                   "the account is kept in another currency");
            case MatchResult::kPossibleTwin:
                co_return Json(http::status::conflict,
                               {{"error",
                                 "another payment of the same reference, amount and currency "
                                 "within two days may be the same money; send \"confirm\": true "
                                 "to apply this one anyway"},
                                {"code", "possible_duplicate"},
                                {"twin", matched->twin}});
            case MatchResult::kMatched:
                break;
        }
        const store::PaymentOutcome& out = matched->payment;
        api.metrics.Count("cobrador_payments_total", "result=\"matched\"");
        Log(LogLevel::kInfo,
            "payment matched",
            {{"payment_id", out.payment_id},
             {"account_id", out.account_id},
             {"agent_id", std::to_string(agent.id)}});
        if (out.message_queued) {
            api.wake_dispatcher();
        }
        api.events.Publish(std::nullopt, "payment_matched");
        co_return Json(http::status::ok,
                       {{"payment_id", out.payment_id},
                        {"status", out.status},
                        {"account_id", out.account_id},
                        {"applied", Decimal(out.applied_cents)},
                        {"overpaid", Decimal(out.overpaid_cents)},
                        {"balance", Decimal(out.new_balance_cents)},
                        {"promise_kept", out.promise_kept},
                        {"debtor_told", out.message_queued}});
    }

    if (path == "/api/v1/payments/suspense") {
        if (!get) {
            co_return not_allowed("GET");
        }
        auto rows =
            co_await api.ledger.Run([&](store::Ledger& l) { return l.SuspensePayments(500); });
        if (!rows) {
            co_return LedgerFailed(rows.error());
        }
        json out = {{"payments", json::array()}};
        for (const auto& p : *rows) {
            out["payments"].push_back({{"payment_id", p.payment_id},
                                       {"reference", p.reference},
                                       {"amount", Decimal(p.amount_cents)},
                                       {"currency", p.currency},
                                       {"paid_at", p.paid_at},
                                       {"method", p.method},
                                       {"reason", p.reason},
                                       {"source", p.source},
                                       {"received_at", p.received_at},
                                       {"refunded_in_part", p.refunded_in_part}});
        }
        co_return Json(http::status::ok, out);
    }

    if (path.rfind(kMediaPrefix, 0) == 0) {
        if (!get) {
            co_return not_allowed("GET");
        }
        const auto media_id = ParseId(path.substr(kMediaPrefix.size()));
        if (!media_id) {
            co_return ApiError(http::status::not_found, "not_found", "no such file");
        }
        auto file = co_await api.ledger.Run([&](store::Ledger& l) { return l.Media(*media_id); });
        if (!file) {
            co_return LedgerFailed(file.error());
        }
        co_return MediaResponse(*file, *media_id);
    }

    constexpr std::string_view kPrefix = "/api/v1/conversations/";
    if (path.rfind(kPrefix, 0) != 0) {
        co_return ApiError(http::status::not_found, "not_found", "no such route");
    }
    std::string_view rest = path.substr(kPrefix.size());
    const auto slash = rest.find('/');
    const auto id = ParseId(rest.substr(0, slash));
    const std::string_view action =
        slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (!id) {
        co_return NotFound();
    }

    if (action.empty() || action == "replies") {
        if (!get) {
            co_return not_allowed("GET");
        }
        auto detail =
            co_await api.ledger.Run([&](store::Ledger& l) { return l.GetConversation(*id); });
        if (!detail) {
            co_return LedgerFailed(detail.error());
        }
        if (!*detail) {
            co_return NotFound();
        }
        if (action.empty()) {
            co_return Json(http::status::ok, DetailJson(**detail, now));
        }
        // The canned replies for this conversation, filled in (canned_replies.hpp).
        json replies = json::array();
        for (const CannedReply& r :
             CannedReplies(**detail,
                           {agent.name, api.config.company_name, api.config.clabe, now_iso},
                           api.replies)) {
            replies.push_back({{"id", r.id}, {"title", r.title}, {"text", r.text}});
        }
        co_return Json(http::status::ok,
                       {{"locale", CannedLocale(**detail)}, {"replies", std::move(replies)}});
    }
    if (action != "claim" && action != "release" && action != "close" && action != "messages" &&
        action != "notes" && action != "agreements") {
        co_return ApiError(http::status::not_found, "not_found", "no such route");
    }
    if (!post) {
        co_return not_allowed("POST");
    }
    const auto body = BodyObject(req);
    if (!body) {
        co_return BadRequest("the body is not a JSON object, or its text holds a NUL character");
    }

    store::Result<store::ActionOutcome> outcome = store::ActionOutcome{};
    std::optional<store::AgentAgreement> agreement;  // the agreements action's
    http::status success = http::status::ok;
    std::string change;
    if (action == "claim") {
        std::optional<std::int64_t> assignee;
        if (body->contains("agent_id")) {
            if (!(*body)["agent_id"].is_number_integer()) {
                co_return BadRequest("agent_id is a whole number");
            }
            assignee = (*body)["agent_id"].get<std::int64_t>();
        }
        outcome = co_await api.ledger.Run(
            [&](store::Ledger& l) { return l.ClaimConversation(*id, agent, assignee, now_iso); });
        change = "claimed";
    } else if (action == "release") {
        outcome = co_await api.ledger.Run(
            [&](store::Ledger& l) { return l.ReleaseConversation(*id, agent, now_iso); });
        change = "released";
    } else if (action == "close") {
        if (!body->contains("disposition") || !(*body)["disposition"].is_string() ||
            !store::IsDisposition((*body)["disposition"].get<std::string>())) {
            std::string known;
            for (const char* d : store::kDispositions) {
                known += known.empty() ? d : std::string(", ") + d;
            }
            co_return BadRequest("disposition is one of " + known);
        }
        const std::string disposition = (*body)["disposition"].get<std::string>();
        std::string note;
        if (body->contains("note")) {
            if (!(*body)["note"].is_string() ||
                CodePoints((*body)["note"].get<std::string>()) > kMaxNoteChars) {
                co_return BadRequest("note is a string of at most 4000 characters");
            }
            note = (*body)["note"].get<std::string>();
        }
        // promise_to_pay may record the promise itself: {"amount": "1500.00", "date":
        // "YYYY-MM-DD", "account_id": "A-1" (optional with one account)}, judged as an
        // agreement is.
        std::optional<store::AgentAgreement> promise;
        if (disposition == "promise_to_pay" && body->contains("promise")) {
            json p = body->value("promise", json());
            if (p.is_object()) {
                p["kind"] = "promise";
            }
            auto read = ReadAgreement(p);
            if (auto* bad = std::get_if<Response>(&read)) {
                co_return std::move(*bad);
            }
            promise = std::get<store::AgentAgreement>(read);
        }
        outcome = co_await api.ledger.Run([&](store::Ledger& l) {
            return l.CloseConversation(*id,
                                       agent,
                                       disposition,
                                       note,
                                       now_iso,
                                       promise,
                                       api.dialog.policy,
                                       api.config.today);
        });
        change = "closed";
    } else if (action == "agreements") {
        auto read = ReadAgreement(*body);
        if (auto* bad = std::get_if<Response>(&read)) {
            co_return std::move(*bad);
        }
        agreement = std::get<store::AgentAgreement>(read);
        outcome = co_await api.ledger.Run([&](store::Ledger& l) {
            return l.RecordAgreement(
                *id, agent, *agreement, api.dialog.policy, api.config.today, now_iso);
        });
        success = http::status::created;
        change = "agreement";
    } else if (action == "notes") {
        auto text = TextField(*body, "text", kMaxNoteChars);
        if (auto* bad = std::get_if<Response>(&text)) {
            co_return std::move(*bad);
        }
        const std::string& note = std::get<std::string>(text);
        outcome = co_await api.ledger.Run(
            [&](store::Ledger& l) { return l.AddNote(*id, agent, note, now_iso); });
        success = http::status::created;
        change = "note";
    } else {  // messages
        auto text = TextField(*body, "text", kMaxMessageChars);
        if (auto* bad = std::get_if<Response>(&text)) {
            co_return std::move(*bad);
        }
        store::AgentMessage message;
        message.text = std::get<std::string>(text);
        channels::OutboundMessage outbound;
        outbound.text = message.text;
        message.payload = OutboundToJson(outbound);
        message.too_long_for_sms = CodePoints(message.text) > kMaxSmsChars;
        outcome = co_await api.ledger.Run(
            [&](store::Ledger& l) { return l.SendAgentMessage(*id, agent, message, now_iso); });
        success = http::status::accepted;
        change = "message";
    }
    if (!outcome) {
        co_return LedgerFailed(outcome.error());
    }
    if (!outcome->ok()) {
        co_return Refused(*outcome);
    }
    api.events.Publish(*id, change);
    Log(LogLevel::kInfo,
        "collector action",
        {{"action", std::string(action)},
         {"conversation", std::to_string(*id)},
         {"agent", std::to_string(agent.id)}});
    if (action == "messages") {
        if (api.wake_dispatcher) {
            api.wake_dispatcher();
        }
        co_return Json(success, {{"message_id", outcome->created_id}, {"status", "queued"}});
    }
    if (action == "notes") {
        co_return Json(success, {{"id", outcome->created_id}});
    }
    if (action == "agreements") {
        co_return Json(success, AgreementJson(*outcome, agreement->ask, now));
    }
    co_return Json(success, SummaryJson(*outcome->conversation, now));
}

}  // namespace cobrador::bot
