#pragma once
// Messages cobrador starts on its own (payment thank-yous, broken-promise follow-ups,
// reminders): the text from the catalog, WhatsApp's approved template when the 24-hour window
// is closed, and the earliest instant the contact hours allow.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "bot/config.hpp"
#include "dialogs/reminders.hpp"
#include "store/cases.hpp"
#include "store/payments.hpp"
#include "templates/catalog.hpp"

namespace cobrador::bot {

struct ProactiveRequest {
    std::string key;  // catalog key
    templates::Args args;
    std::string locale;
    std::string channel;
    bool whatsapp_window_open = false;
    std::string timezone;
    // A receipt of something the debtor just did (a payment) goes at once; anything else
    // waits for the contact hours.
    bool receipt = false;
};

// nullopt when it cannot go: WhatsApp outside the window with no template configured for the
// key, no contact time within two weeks, or a catalog problem (logged).
std::optional<store::ProactiveMessage> RenderProactive(const ProactiveRequest& request,
                                                       const dialogs::ReminderStrategy& strategy,
                                                       std::chrono::sys_seconds now);

// The thank-you for a payment and the follow-up of a broken promise.
// `at_once`: the payment was just made (the webhook), so the receipt goes whatever the hour; a
// statement imported later waits for the contact hours.
std::optional<store::ProactiveMessage> PaymentThanks(const store::PaymentNotice& notice,
                                                     const Config& config,
                                                     const dialogs::ReminderStrategy& strategy,
                                                     std::chrono::sys_seconds now,
                                                     bool at_once);
// The payment page or store reference a provider created, for the debtor who asked for it: it
// goes at once (they are waiting for it), WhatsApp's window permitting.
std::optional<store::ProactiveMessage> InstrumentReady(const store::InstrumentNotice& notice,
                                                       const Config& config,
                                                       const dialogs::ReminderStrategy& strategy,
                                                       std::chrono::sys_seconds now);

// What the debtor is told about a receipt cobrador could not confirm ("to_person": a person
// will check it) or that names a payment recorded already ("duplicate"); at once, as they are
// waiting for it, WhatsApp's window permitting.
std::optional<store::ProactiveMessage> ReceiptReply(const store::Addressee& to,
                                                    const std::string& kind,
                                                    const Config& config,
                                                    const dialogs::ReminderStrategy& strategy,
                                                    std::chrono::sys_seconds now);

// A closed case's written resolution, for the debtor who raised it: inside the contact hours,
// and on WhatsApp outside the window only as an approved template.
std::optional<store::ProactiveMessage> CaseResolution(const store::Addressee& to,
                                                      const store::CaseRecord& record,
                                                      const Config& config,
                                                      const dialogs::ReminderStrategy& strategy,
                                                      std::chrono::sys_seconds now);

std::optional<store::ProactiveMessage> BrokenPromiseFollowUp(
    const store::FollowUp& follow_up,
    const Config& config,
    const dialogs::ReminderStrategy& strategy,
    std::chrono::sys_seconds now);

// The reminder strategy the configuration names (COBRADOR_REMINDERS_FILE), or the default.
boost::system::result<dialogs::ReminderStrategy, std::string> LoadReminderStrategy(
    const Config& config);

}  // namespace cobrador::bot
