// How long the NLU and one dialog step take, single-threaded: utterances per second and
// p50/p99 latency over a mix of debtor messages; and how well amounts are read, per category of
// tests/dialogs/data/amounts.tsv. Prints figures; asserts nothing.
//   bench_dialog [iterations]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "dialogs/dialog.hpp"
#include "dialogs/money.hpp"
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

// Reads a labelled set of tests/dialogs/data (category, locale, text, expected) with `read` and
// prints, per category, how many were read right, and how many were read as a wrong value.
template <class Read>
void Accuracy(const char* file, const d::Date& today, const Read& read) {
    std::ifstream in(std::string(COBRADOR_SOURCE_DIR "/tests/dialogs/data/") + file);

    struct Tally {
        int rows = 0, right = 0, wrong = 0;
    };

    std::map<std::string, Tally> by_category;
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line.front() == '#') {
            continue;
        }
        std::vector<std::string> cols;
        std::stringstream fields(line);
        for (std::string col; std::getline(fields, col, '\t');) {
            cols.push_back(col);
        }
        if (cols.size() != 4) {
            continue;
        }
        bool value_read = false;
        const std::string got = read(d::Understand(cols[2], cols[1], today), value_read);
        Tally& t = by_category[cols[0]];
        ++t.rows;
        t.right += got == cols[3] ? 1 : 0;
        t.wrong += value_read && got != cols[3] ? 1 : 0;
    }
    std::printf("%s, per category:\n", file);
    for (const auto& [category, t] : by_category) {
        std::printf("  %-12s %3d/%3d right (%5.1f%%), %d read wrong\n",
                    category.c_str(),
                    t.right,
                    t.rows,
                    100.0 * t.right / t.rows,
                    t.wrong);
    }
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
    const d::Date labelled_today = *d::ParseIsoDate("2025-03-12");
    Accuracy("amounts.tsv", labelled_today, [](const d::Understanding& u, bool& read) {
        read = u.entities.amount_cents.has_value();
        return read ? d::FormatDecimalCents(*u.entities.amount_cents)
                    : std::string(u.entities.amount_unclear ? "ask" : "none");
    });
    Accuracy("dates.tsv", labelled_today, [](const d::Understanding& u, bool& read) {
        read = u.entities.date.has_value();
        return read ? d::FormatIsoDate(*u.entities.date)
                    : std::string(u.entities.date_unclear ? "ask" : "none");
    });
    return 0;
}
