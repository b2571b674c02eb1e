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

TEST_CASE("Canned replies: the creditor's own replace a built-in one and come after the rest",
          "[bot][canned]") {
    const auto own = ParseOwnReplies(R"({"replies": [
        {"id": "greeting", "es-MX": {"title": "Hola", "text": "Buen día{name, select, none {} other { {name}}}, le atiende {agent}."}},
        {"id": "descuento", "needs": "owing",
         "es-MX": {"title": "Descuento de fin de año", "text": "{name}, si liquida hoy {balance} de la cuenta {account}, le quitamos los intereses."},
         "en-US": {"title": "Year-end discount", "text": "{name}, settle {balance} today and we waive the interest."}},
        {"id": "recordatorio", "needs": "promise",
         "es-MX": {"title": "Su promesa", "text": "Le recordamos su pago de {amount} el {date}."}}
    ]})");
    REQUIRE(own.has_value());
    REQUIRE(own->size() == 3);
    store::ConversationDetail c = Maria(true);
    auto replies = CannedReplies(c, kFacts, *own);
    std::vector<std::string> order;
    for (const CannedReply& r : replies) {
        order.push_back(r.id);
    }
    // Built-ins in their place (the greeting is the creditor's), then the creditor's others;
    // no promise is open, so neither promise reply.
    CHECK(order == std::vector<std::string>{
                       "greeting", "balance", "how_to_pay", "receipt", "closing", "descuento"});
    auto by_id = ById(replies);
    CHECK(by_id.at("greeting").title == "Hola");
    CHECK(by_id.at("greeting").text == "Buen día María, le atiende Ana Ruiz.");
    CHECK(by_id.at("descuento").text ==
          "María, si liquida hoy $12,345.67 de la cuenta A-1001, le quitamos los intereses.");
    // In English where the creditor wrote it; in Spanish where it did not.
    c.debtor->locale = "en-US";
    by_id = ById(CannedReplies(c, kFacts, *own));
    CHECK(by_id.at("descuento").title == "Year-end discount");
    CHECK(by_id.at("greeting").text == "Buen día María, le atiende Ana Ruiz.");
    // Nothing about the debt before the identity check holds: the creditor's neither.
    by_id = ById(CannedReplies(Maria(false), kFacts, *own));
    CHECK(by_id.count("descuento") == 0);
    CHECK(by_id.at("greeting").text == "Buen día, le atiende Ana Ruiz.");
}

TEST_CASE("Canned replies: a creditor's file with a mistake says which reply and what is wrong",
          "[bot][canned]") {
    const auto error = [](const std::string& text) {
        const auto parsed = ParseOwnReplies(text);
        return parsed ? std::string("(accepted)") : parsed.error();
    };
    const std::string ok_es = R"("es-MX": {"title": "T", "text": "Hola"})";
    CHECK(error("nope").find("expected a JSON object") != std::string::npos);
    CHECK(error(R"({"replies": [], "extra": 1})").find("unknown key \"extra\"") !=
          std::string::npos);
    CHECK(error(R"({"replies": [{"id": "Bad Id", )" + ok_es + "}]}").find("1 to 40 of a-z") !=
          std::string::npos);
    CHECK(error(R"({"replies": [{"id": "a", )" + ok_es + R"(}, {"id": "a", )" + ok_es + "}]}")
              .find("reply 2 (\"a\"): the id is used twice") != std::string::npos);
    CHECK(error(R"({"replies": [{"id": "a", "needs": "money", )" + ok_es + "}]}")
              .find("\"needs\" is nothing, owing or promise") != std::string::npos);
    CHECK(error(R"({"replies": [{"id": "a", "en-US": {"title": "T", "text": "Hi"}}]})")
              .find("es-MX is required") != std::string::npos);
    CHECK(
        error(R"({"replies": [{"id": "a", "fr-FR": {"title": "T", "text": "Hi"}, )" + ok_es + "}]}")
            .find("unknown key \"fr-FR\"") != std::string::npos);
    // A debt placeholder in a reply that does not say it needs the debt: shown to anyone.
    CHECK(error(R"({"replies": [{"id": "a", "es-MX": {"title": "T", "text": "Debe {balance}"}}]})")
              .find("{balance} is about the debt: set \"needs\": \"owing\"") != std::string::npos);
    CHECK(
        error(
            R"({"replies": [{"id": "a", "needs": "owing", "es-MX": {"title": "T", "text": "El {date}"}}]})")
            .find("set \"needs\": \"promise\"") != std::string::npos);
    CHECK(error(R"({"replies": [{"id": "a", "es-MX": {"title": "T", "text": "Hola {nombre}"}}]})")
              .find("unknown placeholder {nombre}") != std::string::npos);
    CHECK(error(R"({"replies": [{"id": "a", "es-MX": {"title": "T", "text": "Hola {name"}}]})")
              .find("not a valid ICU MessageFormat pattern") != std::string::npos);
    CHECK(error(R"({"replies": [{"id": "a", "es-MX": {"title": "", "text": "Hola"}}]})")
              .find("title is one line") != std::string::npos);
    CHECK(error(R"({"replies": [{"id": "a", "es-MX": {"title": "T", "text": ""}}]})")
              .find("text is 1 to 1000 bytes") != std::string::npos);
    CHECK(
        error(std::string(R"({"replies": [{"id": "a", )") + ok_es + std::string("}]}\0garbage", 11))
            .find("expected a JSON object") != std::string::npos);
    CHECK(error(R"({"replies": [{"id": "a", )" + ok_es + "}]}") == "(accepted)");
}

}  // namespace cobrador::bot
