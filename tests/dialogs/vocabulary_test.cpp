#include "dialogs/vocabulary.hpp"

#include <set>
#include <string>

#include <catch2/catch.hpp>

namespace cobrador::dialogs {
namespace {

// Every enumerator has one name, the names are distinct, and FromString undoes ToString. An
// enumerator added without a name fails here (its ToString is empty).
template <class E>
void CheckRoundTrip(int count) {
    std::set<std::string> seen;
    for (int i = 0; i < count; ++i) {
        const auto value = static_cast<E>(i);
        const std::string_view name = ToString(value);
        INFO(i);
        REQUIRE_FALSE(name.empty());
        CHECK(seen.insert(std::string(name)).second);
        CHECK(FromString<E>(name) == value);
    }
    CHECK_FALSE(FromString<E>("").has_value());
    CHECK_FALSE(FromString<E>("WHATSAPP").has_value());
    CHECK_FALSE(FromString<E>("no such name").has_value());
}

TEST_CASE("Vocabulary: names round-trip and are the ledger's", "[dialogs][vocabulary]") {
    CheckRoundTrip<Channel>(3);
    CheckRoundTrip<ConversationState>(4);
    CheckRoundTrip<Role>(2);
    CheckRoundTrip<MessageStatus>(6);
    // The persisted names: the schema's CHECK constraints and the API use exactly these.
    CHECK(ToString(Channel::kWhatsApp) == "whatsapp");
    CHECK(ToString(Channel::kSms) == "sms");
    CHECK(ToString(ConversationState::kClaimed) == "claimed");
    CHECK(ToString(Role::kSupervisor) == "supervisor");
    CHECK(FromStringOr("martian", ConversationState::kBot) == ConversationState::kBot);
}

TEST_CASE("Vocabulary: a status only moves forward", "[dialogs][vocabulary]") {
    CHECK(Rank(MessageStatus::kQueued) < Rank(MessageStatus::kSent));
    CHECK(Rank(MessageStatus::kSent) < Rank(MessageStatus::kDelivered));
    CHECK(Rank(MessageStatus::kDelivered) == Rank(MessageStatus::kFailed));
    CHECK(Rank(MessageStatus::kDelivered) < Rank(MessageStatus::kRead));
    CHECK(Rank(MessageStatus::kReceived) == 0);
}

TEST_CASE("CodePoints: characters as the providers count them", "[dialogs][vocabulary]") {
    CHECK(CodePoints("") == 0);
    CHECK(CodePoints("hola") == 4);
    CHECK(CodePoints("año") == 3);        // ñ is two bytes
    CHECK(CodePoints("💸") == 1);          // four bytes
    CHECK(CodePoints("e\xCC\x81") == 2);  // e + combining acute: two code points
    CHECK(CodePoints("\x80\x80") == 0);   // stray continuation bytes count nothing
}

}  // namespace
}  // namespace cobrador::dialogs
