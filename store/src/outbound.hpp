#pragma once
// Private to the store: the one way a message is queued to go out, its transcript row
// (messages, 'queued') and its outbox row ('pending') together. Used inside the caller's
// transaction, on the caller's thread.

#include <cstdint>
#include <string>

#include "connection.hpp"

namespace cobrador::store {

struct OutboundMessage {
    std::int64_t conversation_id = 0;
    std::string channel;
    std::string recipient;  // the phone
    std::string author;     // bot, agent:<id>
    std::string body;
    std::string payload;
    std::string due_at;            // when the dispatcher may send it; empty: now
    std::string contact_timezone;  // the contact hours it waits for; empty: none
};

// Returns the message id.
inline std::int64_t QueueOutbound(Connection& db,
                                  const OutboundMessage& m,
                                  const std::string& now) {
    const std::int64_t message_id = db.Insert(
        "INSERT INTO messages (conversation_id, direction, channel, author, body, payload, "
        "status, created_at, status_at) VALUES (?1, 'out', ?2, ?3, ?4, ?5, 'queued', ?6, ?6) "
        "RETURNING id",
        m.conversation_id,
        m.channel,
        m.author,
        m.body,
        m.payload,
        now);
    db.Exec(
        "INSERT INTO outbox (message_id, channel, recipient, payload, status, next_attempt_at, "
        "created_at, contact_timezone) VALUES (?, ?, ?, ?, 'pending', ?, ?, nullif(?, ''))",
        message_id,
        m.channel,
        m.recipient,
        m.payload,
        m.due_at.empty() ? now : m.due_at,
        now,
        m.contact_timezone);
    return message_id;
}

}  // namespace cobrador::store
