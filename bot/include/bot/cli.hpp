#pragma once
// The `cobrador` command line (CONTRACT.md "Build and commands"). main() is only a call to
// RunCli; tests call it too, with their own streams and environment.

#include <iosfwd>
#include <string>
#include <vector>

#include "bot/config.hpp"

namespace cobrador::bot {

// Runs one command; returns the process exit code: 0 done, 1 the command failed (bad rows, a
// database error), 2 bad arguments.
// `in` is what `chat` reads (the other overload: std::cin).
int RunCli(const std::vector<std::string>& args,
           std::istream& in,
           std::ostream& out,
           std::ostream& err,
           const GetEnv& getenv);
int RunCli(const std::vector<std::string>& args,
           std::ostream& out,
           std::ostream& err,
           const GetEnv& getenv);

}  // namespace cobrador::bot
