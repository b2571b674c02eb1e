// How long the NLU and one dialog step take, single-threaded: utterances per second and
// p50/p99 latency over a mix of debtor messages. Prints figures; asserts nothing.
//   bench_dialog [iterations]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "dialogs/dialog.hpp"
#include "dialogs/nlu.hpp"

namespace {

using Clock = std::chrono::steady_clock;
namespace d = cobrador::dialogs;

void Report(const char* what, std::vector<double>& micros) {
    std::sort(micros.begin(), micros.end());
    double total = 0;
    for (const double m : micros) {
        total += m;
    }
    const auto at = [&](double q) {
        return micros[static_cast<std::size_t>(q * static_cast<double>(micros.size() - 1))];
    };
    std::printf("%-28s %9.0f /s   p50 %6.1f us   p99 %6.1f us   max %7.1f us\n",
                what,
                1e6 * static_cast<double>(micros.size()) / total,
                at(0.50),
                at(0.99),
                micros.back());
}

}  // namespace

int main(int argc, char** argv) {
    const int iterations = argc > 1 ? std::atoi(argv[1]) : 20000;
    const std::vector<std::string> messages = {"hola",
                                               "cuanto debo?",
                                               "15/03/1985",
                                               "te pago mil quinientos el viernes",
                                               "kiero un combenio a 6 meses",
                                               "ya pague en oxxo",
                                               "BAJA",
                                               "no soy, numero equivocado",
                                               "me pasas la clabe porfa",
                                               "puedo pagar 300 cada quincena?",
                                               "2",
                                               "jajaja"};
    const d::Date today = *d::ParseIsoDate("2026-11-23");
    std::vector<double> nlu;
    std::vector<double> step;
    d::ConversationView view;
    view.channel = "whatsapp";
    d::DebtorView debtor;
    debtor.name = "María López";
    debtor.birth_date = *d::ParseIsoDate("1985-03-15");
    d::AccountView account;
    account.id = 18;
    account.key = "A-1001";
    account.balance = {1234567, "MXN"};
    account.due_date = *d::ParseIsoDate("2026-09-01");
    debtor.accounts.push_back(account);
    view.debtor = debtor;
    const d::Settings settings;
    const d::Instant now{std::chrono::seconds{1795000000}};
    for (int i = 0; i < iterations; ++i) {
        const std::string& text = messages[static_cast<std::size_t>(i) % messages.size()];
        auto start = Clock::now();
        const auto understood = d::Understand(text, "es-MX", today);
        nlu.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
        (void)understood;
        start = Clock::now();
        const auto result = d::Step(view, {text, ""}, {now, today}, settings);
        step.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
        view.state = result.state;
        if (result.state.stage == d::Stage::kEnded || result.state.stage == d::Stage::kLocked) {
            view.state = {};
        }
    }
    std::printf("%d messages, one thread\n", iterations);
    Report("NLU (Understand)", nlu);
    Report("dialog step (incl. NLU)", step);
    return 0;
}
