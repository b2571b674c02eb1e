// The cobrador executable: everything else lives in cobrador::bot.

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
    const std::vector<std::string> args(argv + 1, argv + argc);
    return cobrador::bot::RunCli(
        args, std::cout, std::cerr, [](const char* name) { return std::getenv(name); });
}
