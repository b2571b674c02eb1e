// `cobrador nlu`, `cobrador chat` and `cobrador read-receipt`: the bot's understanding, the
// dialog and its reading of receipts, in the terminal.

#include <chrono>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "bot/log.hpp"
#include "channels/media.hpp"
#include "channels/signature.hpp"
#include "channels/twilio.hpp"
#include "dialogs/calendar.hpp"
#include "dialogs/locale.hpp"
#include "dialogs/money.hpp"
#include "dialogs/nlu.hpp"
#include "dialogs/phone.hpp"
#include "dialogs/receipt.hpp"
#include "store/ledger.hpp"
#include "store/portfolio.hpp"

#include "cli_support.hpp"
#include "conversation.hpp"
#include "outbound_json.hpp"
#include "proactive.hpp"
#include "receipt_reader.hpp"
#include "reminders.hpp"
#include "report_format.hpp"

namespace cobrador::bot::cli {

int Nlu(Invocation& inv) {
    std::ostream& out = inv.out;
    std::ostream& err = inv.err;
    const Config& config = *inv.config;
    auto* options = &inv.options;
    const std::string locale =
        options->values.count("--locale") ? options->values["--locale"] : "es-MX";
    if (!dialogs::IsSupportedLocale(locale)) {
        return Usage(err, "nlu", "--locale is es-MX or en-US");
    }
    const std::string today_text = options->values.count("--today")
                                       ? options->values["--today"]
                                       : config.Today(std::chrono::system_clock::now());
    const auto today = dialogs::ParseIsoDate(today_text);
    if (!today) {
        return Usage(err, "nlu", "'" + today_text + "' is not a date written YYYY-MM-DD");
    }
    std::string text;
    for (const std::string& word : options->positional) {
        text += text.empty() ? word : " " + word;
    }
    out << dialogs::ToJson(dialogs::Understand(text, locale, *today)) << "\n";
    return kOk;
}

int ReadReceiptFile(Invocation& inv) {
    constexpr std::size_t kMaxFile = 100 * 1024 * 1024;
    const std::string& path = inv.options.positional.front();
    std::string bytes;
    {
        std::ifstream file;
        std::istream* in = &inv.in;
        if (path != "-") {
            file.open(path, std::ios::binary);
            if (!file) {
                inv.err << "cobrador read-receipt: cannot read " << path << "\n";
                return kFailed;
            }
            in = &file;
        }
        std::ostringstream all;
        all << in->rdbuf();
        bytes = all.str();
    }
    if (bytes.size() > kMaxFile) {
        inv.err << "cobrador read-receipt: the file is larger than 100 MiB\n";
        return kFailed;
    }
    std::string type = inv.options.values.count("--type") ? inv.options.values["--type"]
                                                          : channels::SniffContentType(bytes);
    const ReceiptText reading = ReadReceiptText(bytes, type);
    const dialogs::ReceiptFields fields = dialogs::ReadReceipt(reading.text);
    inv.out << ReadingJson(reading, fields)
                   .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
            << "\n";
    return reading.ok ? kOk : kFailed;
}

namespace {

// How a message looks on the channel: WhatsApp shows buttons or a list under the text; SMS
// numbers the options inside the text and costs segments.
std::string Shown(const channels::OutboundMessage& message, const std::string& channel) {
    if (channel == "sms") {
        const std::string text = channels::SmsText(message);
        return text + "\n  (SMS, " + std::to_string(channels::SmsSegments(text)) + " segment" +
               (channels::SmsSegments(text) == 1 ? "" : "s") + ")";
    }
    std::string text = message.text;
    for (const auto& b : message.buttons) {
        text += "\n  [ " + b.title + " ]";
    }
    if (!message.list.empty()) {
        text += "\n  [ " + message.list_button + " \u25BE ]";
        for (const auto& r : message.list) {
            text += "\n    - " + r.title;
        }
    }
    return text;
}

}  // namespace

int Chat(Invocation& inv) {
    std::istream& in = inv.in;
    std::ostream& out = inv.out;
    std::ostream& err = inv.err;
    const Config& config = *inv.config;
    auto& v = inv.options.values;
    const auto phone = dialogs::NormalizePhone(v["--phone"]);
    if (!phone) {
        return Usage(err, "chat", "'" + v["--phone"] + "' is not a phone number in E.164 (+52...)");
    }
    const std::string channel = v.count("--channel") ? v["--channel"] : "whatsapp";
    if (channel != "whatsapp" && channel != "sms") {
        return Usage(err, "chat", "--channel is whatsapp or sms");
    }
    auto settings = DialogSettings(config);
    if (!settings) {
        err << "cobrador chat: " << settings.error() << "\n";
        return kFailed;
    }
    auto ledger = OpenReady(inv);
    if (!ledger) {
        return kFailed;
    }
    out << "chat with the bot as " << dialogs::RedactPhone(*phone) << " on " << channel
        << "; one line per message, Ctrl-D to end\n";
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
        if (line.empty()) {
            continue;
        }
        const auto now = std::chrono::system_clock::now();
        const std::string id =
            "chat-" + std::to_string(now.time_since_epoch().count()) + "-" + std::to_string(++n);
        const nlohmann::json payload = {{"text", line}};
        store::InboundRecord record{"sandbox", id, "text", *phone, payload.dump(), line, "", ""};
        if (auto stored = ledger->RecordWebhook({record}, {}, config.Now(now)); !stored) {
            ReportLedgerError(err, v["--db"], stored.error());
            return kFailed;
        }
        auto pending = ledger->PendingInboundEvents(1000);
        if (!pending) {
            ReportLedgerError(err, v["--db"], pending.error());
            return kFailed;
        }
        for (const store::PendingInbound& event : *pending) {
            if (event.provider_event_id != id) {
                continue;
            }
            std::vector<store::Reply> replies;
            auto handled = ledger->HandleInbound(
                event,
                line,
                [&](const dialogs::ConversationView& view) {
                    return Decide(view, {line, "", ""}, *settings, config, now);
                },
                config.Now(now),
                &replies);
            if (!handled) {
                ReportLedgerError(err, v["--db"], handled.error());
                return kFailed;
            }
            for (const store::Reply& reply : replies) {
                const auto message = OutboundFromJson(reply.payload);
                out << "bot> " << (message ? Shown(*message, channel) : reply.body) << "\n";
            }
        }
        out << std::flush;
    }
    return kOk;
}

}  // namespace cobrador::bot::cli
