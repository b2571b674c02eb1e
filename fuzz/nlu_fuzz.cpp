// Any text a debtor could send: the NLU never crashes, its JSON is an object, and a dialog
// that has not verified the debtor never acts on a debt because of it.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <variant>

#include "dialogs/dialog.hpp"
#include "dialogs/entities.hpp"
#include "dialogs/nlu.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace d = cobrador::dialogs;
    const std::string text(reinterpret_cast<const char*>(data), size);
    static const d::Date kToday = *d::ParseIsoDate("2025-03-12");
    for (const char* locale : {"es-MX", "en-US"}) {
        const std::string json = d::ToJson(d::Understand(text, locale, kToday));
        if (json.empty() || json.front() != '{' || json.back() != '}') {
            std::abort();
        }
        (void)d::ParseBirthDate(text, locale);
    }
    d::ConversationView view;
    view.channel = "sms";
    d::DebtorView debtor;
    debtor.birth_date = *d::ParseIsoDate("1985-03-15");
    d::AccountView account;
    account.id = 18;
    account.balance = {1234567, "MXN"};
    account.due_date = *d::ParseIsoDate("2025-02-01");
    debtor.accounts.push_back(account);
    view.debtor = debtor;
    view.state.stage = d::Stage::kVerifying;
    const d::Clock clock{d::Instant{std::chrono::seconds{1741800000}}, kToday};
    const auto result = d::Step(view, {text, ""}, clock, d::Settings{});
    for (const auto& command : result.commands) {
        if (std::holds_alternative<d::ReferenceIssued>(command) ||
            std::holds_alternative<d::PromiseMade>(command) ||
            std::holds_alternative<d::PlanAgreed>(command)) {
            std::abort();  // acted on a debt before the identity check passed
        }
    }
    return 0;
}
