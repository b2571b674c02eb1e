#pragma once
// "May we write to this person now?", answered once. Every sender asks here: the collector API
// (to show why it would not send, and to refuse), the reminder pass, payment thank-yous and
// promise follow-ups, and the dispatcher when a message we started falls due. Pure apart from
// ICU's time-zone data (contact hours); safe from any thread.
//
// The rules, in the order they are applied (the first that says no decides):
//   1. a closed conversation takes no collector messages;
//   2. a wrong number gets nothing, on any channel;
//   3. an opted-out channel gets nothing;
//   4. a conversation a person handles gets no message we start (reminders, follow-ups);
//   5. WhatsApp takes free-form text only within 24 hours of the debtor's last message: a
//      collector is refused, a message we start goes as an approved template;
//   6. a message we start goes only inside the contact hours in the debtor's time zone;
//      outside them it waits until they open.

#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "dialogs/contact.hpp"
#include "dialogs/vocabulary.hpp"

namespace cobrador::dialogs {

enum class WritePurpose {
    kAgentReply,  // a collector writes in a conversation they hold
    kWeStart,     // reminders, promise follow-ups: a message the debtor did not ask for
    kNotice,      // a thank-you for a payment the debtor made
};

// What is known about the person and the conversation. Leave a field at its default when the
// caller does not know it (the dispatcher knows only the time zone at send time).
struct Recipient {
    Channel channel = Channel::kSms;
    bool wrong_number = false;
    bool opted_out = false;  // of this channel (or of all)
    std::optional<ConversationState> state;
    std::optional<std::chrono::sys_seconds> last_inbound;  // when the debtor last wrote
    std::string timezone;  // IANA; empty: contact hours are not checked
};

enum class WriteBlock {
    kNone,
    kClosed,
    kWrongNumber,
    kOptedOut,
    kHeldByPerson,
    kOutsideWindow,
    kOutsideHours,
};

struct WriteDecision {
    WriteBlock block = WriteBlock::kNone;
    bool needs_template = false;  // WhatsApp outside the window: only an approved template
    std::optional<std::chrono::sys_seconds> not_before;  // kOutsideHours: when the hours open

    bool allowed() const { return block == WriteBlock::kNone; }
};

inline constexpr auto kWhatsAppWindow = std::chrono::hours(24);

// `hours` may be null: then rule 6 is not applied (collector replies; callers that check the
// hours themselves at send time).
WriteDecision MayWrite(WritePurpose purpose,
                       const Recipient& recipient,
                       std::chrono::sys_seconds now,
                       const ContactHours* hours);

// Whether WhatsApp's free-form window is open at `now` for a debtor who last wrote at `last`.
bool WhatsAppWindowOpen(std::optional<std::chrono::sys_seconds> last, std::chrono::sys_seconds now);

// The stable code ("wrong_number", "opted_out", "outside_whatsapp_window", …) and the one
// sentence a collector reads, for the API's display and its refusals alike.
template <>
struct Names<WriteBlock> {
    static constexpr std::array<std::pair<WriteBlock, std::string_view>, 7> kAll = {{
        {WriteBlock::kNone, "none"},
        {WriteBlock::kClosed, "closed"},
        {WriteBlock::kWrongNumber, "wrong_number"},
        {WriteBlock::kOptedOut, "opted_out"},
        {WriteBlock::kHeldByPerson, "held_by_person"},
        {WriteBlock::kOutsideWindow, "outside_whatsapp_window"},
        {WriteBlock::kOutsideHours, "outside_contact_hours"},
    }};
};

inline std::string_view Code(WriteBlock block) {
    return ToString(block);
}

std::string_view Explain(WriteBlock block);

}  // namespace cobrador::dialogs
