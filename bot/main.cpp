// The cobrador executable: everything else lives in cobrador::bot.

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "bot/cli.hpp"

#include <sys/stat.h>

int main(int argc, char** argv) {
    // Files cobrador creates (the ledger, its journal, backups) hold birth dates and debts:
    // never readable by group or others, whatever the shell's umask.
    ::umask(::umask(0) | 0077);
    // A file-size limit (ulimit -f, a quota) must be a write error the ledger reports, not a
    // signal that kills the server mid-commit.
    std::signal(SIGXFSZ, SIG_IGN);
    // A receipt reader (a child process) that dies before it has read its file must be a write
    // error the server handles, not a signal that kills it.
    std::signal(SIGPIPE, SIG_IGN);
    const std::vector<std::string> args(argv + 1, argv + argc);
    return cobrador::bot::RunCli(
        args, std::cout, std::cerr, [](const char* name) { return std::getenv(name); });
}
