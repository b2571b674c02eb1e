#pragma once
// Canned replies: what a collector picks from in the console instead of typing the same
// sentences all day. The catalog's canned_* messages (templates/data/*.msg), and the creditor's
// own (COBRADOR_REPLIES_FILE), in the debtor's locale, filled in for one conversation: the debtor's
// first name, the agent's name, the creditor, and the account that owes (the first by due date):
// its balance, its payment reference with the SPEI concept, its open promise. A reply whose facts
// are missing (no debtor, nothing owed, no open promise) is left out; until the debtor's identity
// check holds (VerifiedNow) so is every reply about the debt, and the greeting says no name, as the
// bot's first words do not. Pure; safe from any thread.

#include <string>
#include <string_view>
#include <vector>

#include <boost/system/result.hpp>

#include "store/collector.hpp"
#include "templates/own_replies.hpp"

namespace cobrador::bot {

struct Config;

using templates::CannedNeeds;
using templates::OwnReply;
using templates::ParseOwnReplies;

// The file COBRADOR_REPLIES_FILE names (none: no replies of the creditor's own).
boost::system::result<std::vector<OwnReply>, std::string> LoadOwnReplies(const Config& config);

struct CannedReply {
    std::string id;     // greeting, balance, how_to_pay, receipt, promise, closing
    std::string title;  // for the menu
    std::string text;   // ready to send (the collector may edit it)
};

struct CannedFacts {
    std::string agent;    // who writes
    std::string company;  // COBRADOR_COMPANY_NAME
    std::string clabe;    // the creditor's CLABE for SPEI
    std::string now;      // ISO 8601 UTC: whether the identity check holds now
};

// The debtor passed the identity check and it still holds at `now` (a day, as for the bot),
// and failed checks do not lock the conversation.
bool VerifiedNow(const store::ConversationSummary& conversation, const std::string& now);

// The locale the replies are in: the debtor's, else es-MX.
std::string CannedLocale(const store::ConversationDetail& conversation);

// The built-in replies, each replaced by the creditor's reply with its id, then the creditor's
// others in the file's order.
std::vector<CannedReply> CannedReplies(const store::ConversationDetail& conversation,
                                       const CannedFacts& facts,
                                       const std::vector<OwnReply>& own = {});

}  // namespace cobrador::bot
