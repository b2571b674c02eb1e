#pragma once
// Canned replies a creditor writes itself (COBRADOR_REPLIES_FILE, docs/api.md): per locale a
// title and a text, an ICU MessageFormat pattern with the built-in replies' placeholders. The
// file is checked whole before any collector sees it. Pure; safe from any thread.

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/system/result.hpp>

#include "dialogs/dialog.hpp"

namespace cobrador::templates {

// What a reply needs beyond the debtor: nothing, an account that owes (its balance, reference,
// how to pay), or an open promise on it. Until the identity check holds only kNothing shows.
enum class CannedNeeds { kNothing, kOwing, kPromise };

// The placeholders a reply of `needs` may use: name, agent, company; with an account that owes
// also account, balance, clabe, reference, concept; with a promise also amount, date.
const std::set<std::string>& Placeholders(CannedNeeds needs);

// A value for every placeholder, to try a pattern before any debtor needs it.
dialogs::Args SampleArgs();

// es-MX is required; a debtor in a locale the reply lacks gets the es-MX text.
struct OwnReply {
    std::string id;
    CannedNeeds needs = CannedNeeds::kNothing;
    std::map<std::string, std::pair<std::string, std::string>> by_locale;  // title, text
};

// The replies file's JSON ({"replies": [...]}), checked whole: ids, locales, sizes, and every
// pattern parses and uses only the placeholders its `needs` provides. The error names the reply
// and says what is wrong. Never throws.
boost::system::result<std::vector<OwnReply>, std::string> ParseOwnReplies(std::string_view json);

}  // namespace cobrador::templates
