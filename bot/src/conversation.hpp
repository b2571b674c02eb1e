#pragma once
// One dialog turn as the server and `cobrador chat` run it: the clock in the debtor's time
// zone, dialogs::Step, the replies rendered in the debtor's language for the channel. The
// store calls Decide() inside HandleInbound's transaction.

#include <chrono>
#include <string>
#include <string_view>

#include <boost/system/result.hpp>

#include "bot/config.hpp"
#include "channels/message.hpp"
#include "dialogs/dialog.hpp"
#include "store/messaging.hpp"
#include "templates/catalog.hpp"

namespace cobrador::bot {

// The dialog's settings from the configuration; an unreadable or invalid policy file is an
// error for a person.
boost::system::result<dialogs::Settings, std::string> DialogSettings(const Config& config);

// The civil date in IANA zone `timezone` at `instant` (UTC when the zone is unknown).
dialogs::Date LocalDate(std::chrono::system_clock::time_point instant, const std::string& timezone);

// A rendered reply as a channel-neutral message: up to three options with short titles become
// reply buttons, more become a list (WhatsApp's limits: 3 buttons of 20 characters, 10 rows of
// 24); SMS numbers them either way.
channels::OutboundMessage ToOutbound(const templates::RenderedReply& reply);

struct TurnInput {
    std::string text;
    std::string reply_id;
    std::string reply_to;   // provider id of the inbound message (WhatsApp quotes it), or ""
    std::string kind = {};  // the message's kind (text, image, audio, sticker, ...)
};

// Runs one step of the dialog for `view` and renders its replies. The transcript keeps each
// reply as SMS shows it (options numbered), on every channel.
store::DialogTurn Decide(const dialogs::ConversationView& view,
                         const TurnInput& input,
                         const dialogs::Settings& settings,
                         const Config& config,
                         std::chrono::system_clock::time_point now);

}  // namespace cobrador::bot
