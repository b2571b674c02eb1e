// Canned replies, filled in for one conversation: in the debtor's language, with their first
// name and the account that owes, and nothing about a debt before they proved who they are.

#include "canned_replies.hpp"

#include <map>

#include <catch2/catch.hpp>

namespace cobrador::bot {
namespace {

store::ConversationDetail Maria(bool verified) {
    store::ConversationDetail c;
    c.summary.verified = verified;
    if (verified) {
        c.summary.verified_until = "2026-11-24T16:00:00Z";  // a day after the check
    }
    c.debtor = store::DebtorSummary{1, "María López", "+525512345678", "es-MX", ""};
    store::AccountDetail paid;
    paid.account_id = "A-0999";
    paid.balance_cents = 0;
    paid.currency = "MXN";
    paid.reference = "0009991";
    store::AccountDetail owing;
    owing.account_id = "A-1001";
    owing.balance_cents = 1234567;
    owing.currency = "MXN";
    owing.reference = "0010018";
    c.accounts = {paid, owing};
    return c;
}

const CannedFacts kFacts{
    "Ana Ruiz", "Financiera Prueba", "646180110400000007", "2026-11-23T18:00:00Z"};

std::map<std::string, CannedReply> ById(const std::vector<CannedReply>& replies) {
    std::map<std::string, CannedReply> out;
    for (const CannedReply& r : replies) {
        out[r.id] = r;
    }
    return out;
}

}  // namespace

TEST_CASE(
    "Canned replies: greeting and farewell only, without a name, until the identity check "
    "holds",
    "[bot][canned]") {
    store::ConversationDetail expired = Maria(true);
    expired.summary.verified_until = "2026-11-23T17:00:00Z";  // the day has passed
    store::ConversationDetail locked = Maria(true);
    locked.summary.locked_until = "2026-11-24T10:00:00Z";  // failed checks since
    for (const store::ConversationDetail& c : {Maria(false), expired, locked}) {
        const auto replies = ById(CannedReplies(c, kFacts));
        REQUIRE(replies.size() == 2);
        CHECK(replies.at("greeting").title == "Saludo");
        CHECK(replies.at("greeting").text ==
              "Hola, soy Ana Ruiz de Financiera Prueba. Estoy revisando tu caso; ¿en qué te "
              "puedo ayudar?");
        for (const auto& [id, reply] : replies) {
            CHECK(reply.text.find("María") == std::string::npos);
            CHECK(reply.text.find('$') == std::string::npos);
            CHECK(reply.text.find("A-1001") == std::string::npos);
        }
    }
    CHECK(
        ById(CannedReplies(Maria(true), kFacts)).at("greeting").text.rfind("Hola María, soy", 0) ==
        0);
    // Someone the ledger does not know: nothing to fill in.
    store::ConversationDetail stranger;
    CHECK(CannedReplies(stranger, kFacts).empty());
}

TEST_CASE("Canned replies: the account that owes, how to pay it, and the open promise",
          "[bot][canned]") {
    store::ConversationDetail c = Maria(true);
    auto replies = ById(CannedReplies(c, kFacts));
    CHECK(replies.count("promise") == 0);  // none open yet
    REQUIRE(replies.count("balance") == 1);
    const std::string& balance = replies.at("balance").text;
    CHECK(balance.find("A-1001") != std::string::npos);  // not the paid A-0999
    CHECK(balance.find("$12,345.67") != std::string::npos);
    CHECK(balance.substr(0, balance.find('\n')).find('$') == std::string::npos);  // lock screen
    const std::string& pay = replies.at("how_to_pay").text;
    CHECK(pay.find("CLABE: 646180110400000007") != std::string::npos);
    CHECK(pay.find("Referencia: 0010018") != std::string::npos);
    CHECK(replies.at("receipt").text.find("A-1001") != std::string::npos);

    c.promises.push_back({7, "A-1001", 200000, "MXN", "2026-12-04", "open", "2026-11-23"});
    c.promises.push_back({6, "A-1001", 50000, "MXN", "2026-11-20", "broken", "2026-11-10"});
    replies = ById(CannedReplies(c, kFacts));
    REQUIRE(replies.count("promise") == 1);
    const std::string& promise = replies.at("promise").text;
    CHECK(promise.find("$2,000.00") != std::string::npos);
    CHECK(promise.find("4 de diciembre de 2026") != std::string::npos);
    CHECK(promise.find("$500.00") == std::string::npos);
}

TEST_CASE("Canned replies: in the debtor's language", "[bot][canned]") {
    store::ConversationDetail c = Maria(true);
    c.debtor->locale = "en-US";
    const auto replies = ById(CannedReplies(c, kFacts));
    CHECK(CannedLocale(c) == "en-US");
    CHECK(replies.at("greeting").title == "Greeting");
    CHECK(replies.at("greeting")
              .text.rfind("Hello María, this is Ana Ruiz from Financiera Prueba", 0) == 0);
    CHECK(replies.at("how_to_pay").text.find("Reference: 0010018") != std::string::npos);
    c.debtor->locale = "fr-FR";  // no catalog: Spanish
    CHECK(CannedLocale(c) == "es-MX");
}

}  // namespace cobrador::bot
