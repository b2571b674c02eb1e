#include "dialogs/contact_policy.hpp"

namespace cobrador::dialogs {

bool WhatsAppWindowOpen(std::optional<std::chrono::sys_seconds> last,
                        std::chrono::sys_seconds now) {
    return last && *last >= now - kWhatsAppWindow;
}

WriteDecision MayWrite(WritePurpose purpose,
                       const Recipient& recipient,
                       std::chrono::sys_seconds now,
                       const ContactHours* hours) {
    WriteDecision d;
    const bool we_start = purpose == WritePurpose::kWeStart;
    if (purpose == WritePurpose::kAgentReply && recipient.state == ConversationState::kClosed) {
        d.block = WriteBlock::kClosed;
    } else if (recipient.wrong_number) {
        d.block = WriteBlock::kWrongNumber;
    } else if (recipient.opted_out) {
        d.block = WriteBlock::kOptedOut;
    } else if (we_start && (recipient.state == ConversationState::kEscalated ||
                            recipient.state == ConversationState::kClaimed)) {
        d.block = WriteBlock::kHeldByPerson;
    } else if (recipient.channel == Channel::kWhatsApp &&
               !WhatsAppWindowOpen(recipient.last_inbound, now)) {
        if (purpose == WritePurpose::kAgentReply) {
            d.block = WriteBlock::kOutsideWindow;
        } else {
            d.needs_template = true;
        }
    }
    if (d.allowed() && we_start && hours != nullptr && !recipient.timezone.empty() &&
        !MayContact(*hours, now, recipient.timezone)) {
        d.block = WriteBlock::kOutsideHours;
        d.not_before = NextContactTime(*hours, now, recipient.timezone);
    }
    return d;
}

std::string_view Explain(WriteBlock block) {
    switch (block) {
        case WriteBlock::kNone:
            return "";
        case WriteBlock::kClosed:
            return "the conversation is closed";
        case WriteBlock::kWrongNumber:
            return "this phone was reported as a wrong number; nothing is sent to it";
        case WriteBlock::kOptedOut:
            return "the debtor opted out of this channel; nothing is sent on it";
        case WriteBlock::kHeldByPerson:
            return "a person handles this conversation; nothing is sent automatically";
        case WriteBlock::kOutsideWindow:
            return "WhatsApp allows free-form messages only within 24 hours of the debtor's last "
                   "message; use an approved template or SMS";
        case WriteBlock::kOutsideHours:
            return "outside the contact hours in the debtor's time zone; it waits until they open";
    }
    return "";
}

}  // namespace cobrador::dialogs
