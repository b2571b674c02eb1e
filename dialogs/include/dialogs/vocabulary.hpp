#pragma once
// The product's words, typed: the channels a debtor is reached on, the conversation's lifecycle
// states, agents' roles and messages' delivery statuses. Every module speaks these at its
// borders; the ledger and the API persist and show their names (ToString), never the integer.
// Pure; safe from any thread.

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>
#include <utility>

namespace cobrador::dialogs {

enum class Channel {
    kWhatsApp,  // Meta's WhatsApp Cloud API
    kSms,       // Twilio Programmable Messaging
    kSandbox,   // --demo: replies stay on this machine, visible in the console and `chat`
};

// Who answers a conversation now (the lifecycle table is in dialogs/lifecycle.hpp).
enum class ConversationState {
    kBot,        // the dialog answers
    kEscalated,  // waiting in the queue for a person; the dialog still answers
    kClaimed,    // a collector holds it; the dialog stays silent
    kClosed,     // ended with a disposition; the debtor's next message opens a new one
};

enum class Role {
    kCollector,
    kSupervisor,  // may also reassign, release and close what others hold
};

// How far a message has got. A status only ever moves forward (Rank).
enum class MessageStatus {
    kReceived,  // inbound
    kQueued,
    kSent,
    kDelivered,
    kFailed,
    kRead,
};

// Each enum's names, as persisted. Adding an enumerator means adding its name here; the
// round-trip test in tests/dialogs/vocabulary_test.cpp catches a forgotten one.
template <class E>
struct Names;

template <>
struct Names<Channel> {
    static constexpr std::array<std::pair<Channel, std::string_view>, 3> kAll = {{
        {Channel::kWhatsApp, "whatsapp"},
        {Channel::kSms, "sms"},
        {Channel::kSandbox, "sandbox"},
    }};
};

template <>
struct Names<ConversationState> {
    static constexpr std::array<std::pair<ConversationState, std::string_view>, 4> kAll = {{
        {ConversationState::kBot, "bot"},
        {ConversationState::kEscalated, "escalated"},
        {ConversationState::kClaimed, "claimed"},
        {ConversationState::kClosed, "closed"},
    }};
};

template <>
struct Names<Role> {
    static constexpr std::array<std::pair<Role, std::string_view>, 2> kAll = {{
        {Role::kCollector, "collector"},
        {Role::kSupervisor, "supervisor"},
    }};
};

template <>
struct Names<MessageStatus> {
    static constexpr std::array<std::pair<MessageStatus, std::string_view>, 6> kAll = {{
        {MessageStatus::kReceived, "received"},
        {MessageStatus::kQueued, "queued"},
        {MessageStatus::kSent, "sent"},
        {MessageStatus::kDelivered, "delivered"},
        {MessageStatus::kFailed, "failed"},
        {MessageStatus::kRead, "read"},
    }};
};

// The persisted name ("whatsapp", "claimed", "supervisor", "delivered").
template <class E>
constexpr std::string_view ToString(E value) {
    for (const auto& [e, name] : Names<E>::kAll) {
        if (e == value) {
            return name;
        }
    }
    return {};
}

// The inverse of ToString; nullopt for any other text (case matters).
template <class E>
constexpr std::optional<E> FromString(std::string_view name) {
    for (const auto& [e, n] : Names<E>::kAll) {
        if (n == name) {
            return e;
        }
    }
    return std::nullopt;
}

// For values read back from the ledger, whose CHECK constraints admit only known names:
// `fallback` for anything else (a newer binary's word), never an exception.
template <class E>
constexpr E FromStringOr(std::string_view name, E fallback) {
    return FromString<E>(name).value_or(fallback);
}

// How far along a message is: received 0, queued 1, sent 2, delivered and failed 3, read 4.
// A reported status moves a message only to a higher rank.
constexpr int Rank(MessageStatus status) {
    switch (status) {
        case MessageStatus::kReceived:
            return 0;
        case MessageStatus::kQueued:
            return 1;
        case MessageStatus::kSent:
            return 2;
        case MessageStatus::kDelivered:
        case MessageStatus::kFailed:
            return 3;
        case MessageStatus::kRead:
            return 4;
    }
    return 0;
}

// Characters (Unicode code points) in UTF-8 text, as WhatsApp and Twilio count their limits.
// Invalid UTF-8 counts each stray byte that is not a continuation byte as one.
constexpr std::size_t CodePoints(std::string_view utf8) {
    std::size_t count = 0;
    for (const char c : utf8) {
        if ((static_cast<unsigned char>(c) & 0xC0U) != 0x80U) {
            ++count;
        }
    }
    return count;
}

// `utf8` cut to at most `max_bytes` bytes, never inside a character.
inline std::string_view ClipUtf8(std::string_view utf8, std::size_t max_bytes) {
    if (utf8.size() <= max_bytes) {
        return utf8;
    }
    std::size_t cut = max_bytes;
    while (cut > 0 && (static_cast<unsigned char>(utf8[cut]) & 0xC0U) == 0x80U) {
        --cut;
    }
    return utf8.substr(0, cut);
}

}  // namespace cobrador::dialogs
