#include "conversation.hpp"

#include <fstream>
#include <memory>
#include <sstream>

#include "channels/payment_instruments.hpp"
#include "channels/twilio.hpp"
#include "dialogs/contact.hpp"
#include "dialogs/vocabulary.hpp"

#include "outbound_json.hpp"

namespace cobrador::bot {

namespace {

constexpr std::size_t kMaxButtons = 3;
constexpr std::size_t kMaxButtonTitle = 20;
constexpr std::size_t kMaxRows = 10;
constexpr std::size_t kMaxRowTitle = 24;

using dialogs::CodePoints;

// The first `limit` characters of UTF-8 `text`, never cutting one in half.
std::string Prefix(const std::string& text, std::size_t limit) {
    std::size_t chars = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80 && chars++ == limit) {
            return text.substr(0, i);
        }
    }
    return text;
}

}  // namespace

boost::system::result<dialogs::Settings, std::string> DialogSettings(const Config& config) {
    dialogs::Settings settings;
    settings.company = config.company_name;
    settings.clabe = config.clabe;
    settings.payment_url = config.payment_url;
    settings.contact_phone = config.contact_phone;
    settings.contact_hours = config.contact_hours;
    settings.confirm_receipts = !config.cep_base.empty();
    settings.privacy_url = config.privacy_url;
    settings.days_off = config.days_off_dates;
    if (channels::CreatesInstruments(config.payments_provider)) {
        settings.payments_provider = config.payments_provider;
    }
    settings.idle_timeout = config.idle_timeout;
    settings.verification_ttl = config.verification_ttl;
    if (!config.policy_file.empty()) {
        const auto text = ReadSettingFile(config.policy_file, "policy");
        if (!text) {
            return {boost::system::in_place_error, text.error()};
        }
        std::string error;
        auto policy = dialogs::ParsePolicy(*text, error);
        if (!policy) {
            return {boost::system::in_place_error, config.policy_file + ": " + error};
        }
        settings.policy = std::move(*policy);
    }
    return settings;
}

dialogs::Date LocalDate(std::chrono::system_clock::time_point instant,
                        const std::string& timezone) {
    return dialogs::ToLocal(std::chrono::floor<std::chrono::seconds>(instant), timezone).date;
}

channels::OutboundMessage ToOutbound(const templates::RenderedReply& reply) {
    channels::OutboundMessage message;
    message.text = reply.text;
    bool buttons = reply.options.size() <= kMaxButtons;
    for (const auto& option : reply.options) {
        buttons = buttons && CodePoints(option.title) <= kMaxButtonTitle;
    }
    for (const auto& option : reply.options) {
        if (buttons) {
            message.buttons.push_back({option.id, option.title});
        } else if (message.list.size() < kMaxRows) {
            message.list.push_back({option.id, Prefix(option.title, kMaxRowTitle), ""});
        }
    }
    if (!message.list.empty()) {
        message.list_button = reply.list_button;
    }
    return message;
}

store::DialogTurn Decide(const dialogs::ConversationView& view,
                         const TurnInput& input,
                         const dialogs::Settings& settings,
                         const Config& config,
                         std::chrono::system_clock::time_point now) {
    const std::string timezone = view.debtor ? view.debtor->timezone : "America/Mexico_City";
    // A pinned day (tests, demos) is the debtor's day too.
    const dialogs::Clock clock{
        config.Instant(now),
        config.today ? *dialogs::ParseIsoDate(*config.today) : LocalDate(now, timezone)};
    const dialogs::StepResult step =
        dialogs::Step(view, {input.text, input.reply_id, input.kind}, clock, settings);
    const std::string locale = view.debtor ? view.debtor->locale : "es-MX";
    store::DialogTurn turn;
    turn.dialog_state = dialogs::ToJson(step.state);
    turn.commands = step.commands;
    turn.intent = std::string(dialogs::ToString(step.understood.intent));
    for (const dialogs::Reply& reply : step.replies) {
        channels::OutboundMessage message = ToOutbound(templates::RenderReply(reply, locale));
        if (turn.replies.empty()) {
            message.reply_to = input.reply_to;
        }
        turn.replies.push_back({channels::SmsText(message), OutboundToJson(message)});
    }
    return turn;
}

}  // namespace cobrador::bot
