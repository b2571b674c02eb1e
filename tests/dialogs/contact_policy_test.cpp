#include "dialogs/contact_policy.hpp"

#include <catch2/catch.hpp>

#include "dialogs/calendar.hpp"

namespace cobrador::dialogs {
namespace {

using namespace std::chrono_literals;

std::chrono::sys_seconds At(const char* iso) {
    return *ParseIsoInstant(iso);
}

// Tuesday 2026-11-24, 18:00 UTC = 12:00 in Mexico City.
const auto kNoonInMexico = At("2026-11-24T18:00:00Z");
// 05:00 in Mexico City.
const auto kDawnInMexico = At("2026-11-24T11:00:00Z");

Recipient WhatsAppDebtor() {
    Recipient r;
    r.channel = Channel::kWhatsApp;
    r.state = ConversationState::kClaimed;
    r.last_inbound = kNoonInMexico - 1h;
    r.timezone = "America/Mexico_City";
    return r;
}

TEST_CASE("Contact policy: a collector's reply", "[dialogs][contact]") {
    const ContactHours hours;
    Recipient r = WhatsAppDebtor();
    CHECK(MayWrite(WritePurpose::kAgentReply, r, kNoonInMexico, nullptr).allowed());
    // Replies are not bound by contact hours: the debtor is in the conversation.
    CHECK(MayWrite(WritePurpose::kAgentReply, r, kDawnInMexico, nullptr).allowed());

    r.last_inbound = kNoonInMexico - 25h;
    auto d = MayWrite(WritePurpose::kAgentReply, r, kNoonInMexico, nullptr);
    CHECK(d.block == WriteBlock::kOutsideWindow);
    CHECK(Code(d.block) == "outside_whatsapp_window");
    r.last_inbound = kNoonInMexico - 24h;  // exactly 24 hours: still open
    CHECK(MayWrite(WritePurpose::kAgentReply, r, kNoonInMexico, nullptr).allowed());
    r.last_inbound.reset();  // never wrote on WhatsApp
    CHECK_FALSE(MayWrite(WritePurpose::kAgentReply, r, kNoonInMexico, nullptr).allowed());

    // SMS has no window.
    r.channel = Channel::kSms;
    CHECK(MayWrite(WritePurpose::kAgentReply, r, kNoonInMexico, &hours).allowed());
}

TEST_CASE("Contact policy: the rules apply in order", "[dialogs][contact]") {
    Recipient r = WhatsAppDebtor();
    r.state = ConversationState::kClosed;
    r.wrong_number = true;
    r.opted_out = true;
    CHECK(MayWrite(WritePurpose::kAgentReply, r, kNoonInMexico, nullptr).block ==
          WriteBlock::kClosed);
    r.state = ConversationState::kClaimed;
    CHECK(MayWrite(WritePurpose::kAgentReply, r, kNoonInMexico, nullptr).block ==
          WriteBlock::kWrongNumber);
    r.wrong_number = false;
    CHECK(MayWrite(WritePurpose::kAgentReply, r, kNoonInMexico, nullptr).block ==
          WriteBlock::kOptedOut);
    // Every refusal has a code and a sentence a person reads.
    for (const auto block : {WriteBlock::kClosed,
                             WriteBlock::kWrongNumber,
                             WriteBlock::kOptedOut,
                             WriteBlock::kHeldByPerson,
                             WriteBlock::kOutsideWindow,
                             WriteBlock::kOutsideHours}) {
        CHECK_FALSE(Code(block).empty());
        CHECK(Explain(block).size() > 20);
    }
}

TEST_CASE("Contact policy: messages we start", "[dialogs][contact]") {
    const ContactHours hours;
    Recipient r = WhatsAppDebtor();
    r.state = ConversationState::kBot;
    auto d = MayWrite(WritePurpose::kWeStart, r, kNoonInMexico, &hours);
    CHECK(d.allowed());
    CHECK_FALSE(d.needs_template);

    // Outside the window a message we start is a template, not a refusal.
    r.last_inbound = kNoonInMexico - 48h;
    d = MayWrite(WritePurpose::kWeStart, r, kNoonInMexico, &hours);
    CHECK(d.allowed());
    CHECK(d.needs_template);

    // Outside the contact hours it waits until they open (08:00 local = 14:00 UTC).
    d = MayWrite(WritePurpose::kWeStart, r, kDawnInMexico, &hours);
    CHECK(d.block == WriteBlock::kOutsideHours);
    REQUIRE(d.not_before);
    CHECK(*d.not_before == At("2026-11-24T14:00:00Z"));

    // Never while a person handles the conversation, never to a wrong number or an opt-out.
    for (const auto state : {ConversationState::kEscalated, ConversationState::kClaimed}) {
        r.state = state;
        CHECK(MayWrite(WritePurpose::kWeStart, r, kNoonInMexico, &hours).block ==
              WriteBlock::kHeldByPerson);
    }
    r.state = ConversationState::kClosed;  // a closed conversation does not stop reminders
    CHECK(MayWrite(WritePurpose::kWeStart, r, kNoonInMexico, &hours).allowed());
    r.opted_out = true;
    CHECK(MayWrite(WritePurpose::kWeStart, r, kNoonInMexico, &hours).block ==
          WriteBlock::kOptedOut);

    // A thank-you for a payment is not stopped by a person on the conversation.
    r.opted_out = false;
    r.state = ConversationState::kClaimed;
    CHECK(MayWrite(WritePurpose::kNotice, r, kNoonInMexico, &hours).allowed());
}

}  // namespace
}  // namespace cobrador::dialogs
