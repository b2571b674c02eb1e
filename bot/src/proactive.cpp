#include "proactive.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "bot/log.hpp"
#include "channels/message.hpp"
#include "dialogs/calendar.hpp"
#include "dialogs/contact.hpp"
#include "dialogs/dialog.hpp"

#include "outbound_json.hpp"

namespace cobrador::bot {

std::optional<store::ProactiveMessage> RenderProactive(const ProactiveRequest& request,
                                                       const dialogs::ReminderStrategy& strategy,
                                                       std::chrono::sys_seconds now) {
    const auto body = templates::Render(request.locale, request.key, request.args);
    if (!body) {
        Log(LogLevel::kError, "a proactive message does not render", {{"key", request.key}});
        return std::nullopt;
    }
    const auto at = request.receipt
                        ? std::optional<std::chrono::sys_seconds>(now)
                        : dialogs::NextContactTime(strategy.hours, now, request.timezone);
    if (!at) {
        return std::nullopt;
    }
    channels::OutboundMessage message;
    message.text = *body;
    // A message that waits for the contact hours may find the window closed by then.
    if (request.channel == "whatsapp" && (!request.whatsapp_window_open || *at != now)) {
        // Outside the 24-hour window WhatsApp takes only an approved template.
        const auto found = strategy.whatsapp_templates.find(request.key);
        if (found == strategy.whatsapp_templates.end()) {
            return std::nullopt;
        }
        channels::TemplateCall call;
        call.name = found->second.name;
        call.language = request.locale == "en-US" ? "en_US" : "es_MX";
        for (const std::string& name : found->second.parameters) {
            std::string value;
            for (const auto& [arg, v] : request.args) {
                if (arg == name && std::holds_alternative<std::string>(v)) {
                    value = std::get<std::string>(v);
                }
            }
            if (value.empty()) {
                Log(LogLevel::kError,
                    "a WhatsApp template parameter has no value",
                    {{"key", request.key}, {"parameter", name}});
                return std::nullopt;
            }
            call.parameters.push_back(value);
        }
        message.template_call = std::move(call);
    }
    store::ProactiveMessage out;
    out.body = *body;
    out.payload = OutboundToJson(message);
    out.send_at = *at == now ? std::string() : dialogs::FormatIsoInstant(*at);
    if (!request.receipt) {
        out.contact_timezone = request.timezone;
    }
    return out;
}

std::optional<store::ProactiveMessage> PaymentThanks(const store::PaymentNotice& notice,
                                                     const Config& config,
                                                     const dialogs::ReminderStrategy& strategy,
                                                     std::chrono::sys_seconds now,
                                                     bool at_once) {
    ProactiveRequest request;
    request.locale = notice.locale;
    request.channel = notice.channel;
    request.whatsapp_window_open = notice.whatsapp_window_open;
    request.timezone = notice.timezone;
    request.receipt = at_once;
    request.args = {{"name", dialogs::FirstName(notice.debtor_name)},
                    {"company", config.company_name}};
    // Amounts only while the identity check holds, and never in a WhatsApp template (what a
    // template says was approved once, for everyone).
    if (!notice.verified || (notice.channel == "whatsapp" && !notice.whatsapp_window_open)) {
        request.key = "payment_received_private";
    } else {
        request.args.emplace_back("amount", dialogs::Money{notice.amount_cents, notice.currency});
        request.args.emplace_back("account", notice.account_id);
        request.args.emplace_back("balance", dialogs::Money{notice.balance_cents, notice.currency});
        request.key = notice.balance_cents == 0 ? "payment_received_paid_off" : "payment_received";
    }
    return RenderProactive(request, strategy, now);
}

namespace {

// A message with catalog `key` for the debtor `to` addresses.
ProactiveRequest RequestTo(const store::Addressee& to, std::string key) {
    ProactiveRequest request;
    request.key = std::move(key);
    request.locale = to.locale;
    request.channel = to.channel;
    request.whatsapp_window_open = to.whatsapp_window_open;
    request.timezone = to.timezone;
    return request;
}

}  // namespace

std::optional<store::ProactiveMessage> InstrumentReady(const store::InstrumentNotice& notice,
                                                       const Config& config,
                                                       const dialogs::ReminderStrategy& strategy,
                                                       std::chrono::sys_seconds now) {
    const auto expires = dialogs::ParseIso8601(notice.instrument.expires_at);
    if (!expires) {
        return std::nullopt;
    }
    ProactiveRequest request = RequestTo(
        notice.to, notice.instrument.kind == "cash" ? "instrument_cash" : "instrument_page");
    request.receipt = true;
    request.args = {{"name", dialogs::FirstName(notice.to.debtor_name)},
                    {"company", config.company_name},
                    {"account", notice.account_id},
                    {"amount", dialogs::Money{notice.amount_cents, notice.currency}},
                    {"link", notice.instrument.url},
                    {"store_reference", notice.instrument.reference},
                    {"date", dialogs::ToLocal(*expires, notice.to.timezone).date}};
    return RenderProactive(request, strategy, now);
}

std::optional<store::ProactiveMessage> ReceiptReply(const store::Addressee& to,
                                                    const std::string& kind,
                                                    const Config& config,
                                                    const dialogs::ReminderStrategy& strategy,
                                                    std::chrono::sys_seconds now) {
    ProactiveRequest request = RequestTo(to, "receipt_" + kind);
    request.receipt = true;
    request.args = {{"name", dialogs::FirstName(to.debtor_name)}, {"company", config.company_name}};
    return RenderProactive(request, strategy, now);
}

std::optional<store::ProactiveMessage> CaseResolution(const store::Addressee& to,
                                                      const store::CaseRecord& record,
                                                      const Config& config,
                                                      const dialogs::ReminderStrategy& strategy,
                                                      std::chrono::sys_seconds now) {
    ProactiveRequest request = RequestTo(to, "case_resolved");
    // One paragraph: WhatsApp's template parameters take no line breaks.
    std::string resolution = record.resolution.value_or("");
    std::replace(resolution.begin(), resolution.end(), '\n', ' ');
    std::replace(resolution.begin(), resolution.end(), '\r', ' ');
    request.args = {
        {"company", config.company_name}, {"folio", record.folio}, {"resolution", resolution}};
    return RenderProactive(request, strategy, now);
}

std::optional<store::ProactiveMessage> BrokenPromiseFollowUp(
    const store::FollowUp& follow_up,
    const Config& config,
    const dialogs::ReminderStrategy& strategy,
    std::chrono::sys_seconds now) {
    ProactiveRequest request;
    request.key = "promise_broken";
    request.locale = follow_up.locale;
    request.channel = follow_up.channel;
    request.whatsapp_window_open = follow_up.whatsapp_window_open;
    request.timezone = follow_up.timezone;
    request.args = {{"name", dialogs::FirstName(follow_up.debtor_name)},
                    {"company", config.company_name}};
    return RenderProactive(request, strategy, now);
}

boost::system::result<dialogs::ReminderStrategy, std::string> LoadReminderStrategy(
    const Config& config) {
    if (config.reminders_file.empty()) {
        return dialogs::DefaultReminderStrategy();
    }
    const auto text = ReadSettingFile(config.reminders_file, "reminders");
    if (!text) {
        return {boost::system::in_place_error, text.error()};
    }
    std::string error;
    auto strategy = dialogs::ParseReminderStrategy(*text, error);
    if (!strategy) {
        return {boost::system::in_place_error, config.reminders_file + ": " + error};
    }
    return std::move(*strategy);
}

}  // namespace cobrador::bot
