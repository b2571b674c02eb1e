#pragma once
// Private to the store: what the dialog sees of a conversation, and how its decisions land in
// the ledger. Both run inside HandleInbound's transaction.

#include <cstdint>
#include <string>

#include "dialogs/vocabulary.hpp"
#include "store/messaging.hpp"

#include "connection.hpp"

namespace cobrador::store {

struct ConversationRow {
    std::int64_t id = 0;
    std::optional<std::int64_t> debtor_id;
    std::string phone;
    std::string channel;
    dialogs::ConversationState state = dialogs::ConversationState::kBot;
    std::string dialog_state;
};

// The debtor, accounts (with the open promise and whether a plan is active), the wrong-number
// mark and the dialog state of `conversation`.
dialogs::ConversationView LoadConversationView(Connection& db, const ConversationRow& conversation);

// Writes the commands (and their audit rows) and the new dialog state; a case opened gets its
// folio, which replaces dialogs::kFolioArg in the turn's replies.
void ApplyTurn(Connection& db,
               const ConversationRow& conversation,
               DialogTurn& turn,
               const std::string& now);

}  // namespace cobrador::store
