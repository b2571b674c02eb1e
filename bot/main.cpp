// The cobrador executable: everything else lives in cobrador::bot.

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "bot/cli.hpp"

int main(int argc, char** argv) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    return cobrador::bot::RunCli(
        args, std::cout, std::cerr, [](const char* name) { return std::getenv(name); });
}
