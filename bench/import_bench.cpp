// Portfolio import benchmark: writes a generated portfolio CSV of N rows (default 100,000), then
// times the real `cobrador migrate` + `cobrador import portfolio` on a fresh SQLite file, a
// re-import of the same file (nothing changes), and a re-import where every balance changed.
// Prints wall time, rows per second and the peak RSS of the importing process.
//
//   build/bench/bench_import [ROWS] [WORK_DIR]

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

struct Run {
    double seconds = 0;
    long peak_rss_kib = 0;
    int exit_code = -1;
};

Run RunCobrador(const std::vector<std::string>& args) {
    std::vector<std::string> text = {COBRADOR_BINARY};
    text.insert(text.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : text) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    const auto start = std::chrono::steady_clock::now();
    const pid_t pid = fork();
    if (pid == 0) {
        if (std::freopen("/dev/null", "w", stdout) == nullptr ||
            std::freopen("/dev/null", "w", stderr) == nullptr) {
            _exit(126);
        }
        execv(argv[0], argv.data());
        _exit(127);
    }
    int status = 0;
    rusage usage{};
    wait4(pid, &status, 0, &usage);
    Run run;
    run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    run.peak_rss_kib = usage.ru_maxrss;
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return run;
}

void WritePortfolio(const std::string& path, long rows, int balance_shift) {
    std::ofstream out(path);
    out << "account_id,debtor_name,phone,birth_date,balance,currency,due_date,segment,product\n";
    for (long i = 0; i < rows; ++i) {
        // Two accounts per debtor; every phone a valid Mexican mobile.
        const long debtor = i / 2;
        const long cents = 10'000 + (i * 7919 + balance_shift) % 5'000'000;
        out << "ACC-" << i << ",\"Deudor Número " << debtor << ", Pérez\",+52155"
            << (10'000'000 + debtor) << ",19" << (50 + debtor % 50) << "-0" << (1 + debtor % 9)
            << "-1" << (debtor % 9) << "," << cents / 100 << "." << (cents % 100 < 10 ? "0" : "")
            << cents % 100 << ",MXN,2026-" << (debtor % 9 < 9 ? "0" : "") << (1 + i % 9) << "-15,"
            << (i % 3 == 0 ? "consumo" : "telefonía") << ",tarjeta\n";
    }
}

void Report(const char* what, long rows, const Run& run) {
    std::printf("%-34s %9.3f s  %10.0f rows/s  peak RSS %7.1f MiB  exit %d\n",
                what,
                run.seconds,
                static_cast<double>(rows) / run.seconds,
                static_cast<double>(run.peak_rss_kib) / 1024.0,
                run.exit_code);
}

}  // namespace

int main(int argc, char** argv) {
    const long rows = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 100'000;
    const std::filesystem::path dir =
        argc > 2 ? std::filesystem::path(argv[2])
                 : std::filesystem::temp_directory_path() / "cobrador-bench-import";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    const std::string db = (dir / "bench.db").string();
    const std::string csv = (dir / "portfolio.csv").string();
    const std::string changed = (dir / "changed.csv").string();
    WritePortfolio(csv, rows, 0);
    WritePortfolio(changed, rows, 1);
    std::printf("portfolio: %ld rows, %.1f MB; SQLite synchronous=FULL, WAL\n",
                rows,
                static_cast<double>(std::filesystem::file_size(csv)) / 1e6);

    std::fflush(stdout);
    const Run migrate = RunCobrador({"migrate", "--db", db});
    const Run first = RunCobrador({"import", "portfolio", "--db", db, csv});
    const Run same = RunCobrador({"import", "portfolio", "--db", db, csv});
    const Run update = RunCobrador({"import", "portfolio", "--db", db, changed});
    Report("migrate (fresh file)", 0, migrate);
    Report("import, all new", rows, first);
    Report("re-import, nothing changed", rows, same);
    Report("re-import, every balance changed", rows, update);
    std::printf("ledger file: %.1f MB\n",
                static_cast<double>(std::filesystem::file_size(db)) / 1e6);
    std::filesystem::remove_all(dir);
    return first.exit_code == 0 && same.exit_code == 0 && update.exit_code == 0 ? 0 : 1;
}
