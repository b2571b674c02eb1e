#pragma once
// Private to the store: what the dialog sees of a conversation, and how its decisions land in
// the ledger. Both run inside HandleInbound's transaction.

#include <cstdint>
#include <string>
#include <vector>

#include "dialogs/vocabulary.hpp"
#include "store/messaging.hpp"

#include "audit.hpp"
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

// The debtor's accounts as the dialog sees them, by due date: each with its open promise,
// whether a plan is active, what is left of the plan's next instalment and its instrument.
std::vector<dialogs::AccountView> LoadAccountViews(Connection& db, std::int64_t debtor_id);

// A promise to pay and its audit row (`audit` names the actor, debtor and conversation; its
// kind and account are filled in here). Returns the promise's id.
std::int64_t RecordPromise(Connection& db,
                           AuditRow audit,
                           std::int64_t account_id,
                           const dialogs::Money& amount,
                           const dialogs::Date& due,
                           const std::string& now,
                           bool beyond_policy = false);

// A plan (settlement or instalments) with its schedule and audit row; `approved_by` is bot or
// agent:<id>. Returns the plan's id.
std::int64_t RecordPlan(Connection& db,
                        AuditRow audit,
                        const dialogs::PlanAgreed& plan,
                        const std::string& approved_by,
                        const std::string& now,
                        bool beyond_policy = false);

// Writes the commands (and their audit rows) and the new dialog state; a case opened gets its
// folio, which replaces dialogs::kFolioArg in the turn's replies.
void ApplyTurn(Connection& db,
               const ConversationRow& conversation,
               DialogTurn& turn,
               const std::string& now);

}  // namespace cobrador::store
