#pragma once
// Runs the real `cobrador` binary as a child process, for end-to-end tests.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace cobrador::testing {

struct RunResult {
    int exit_code = -1;
    std::string out;
    std::string err;
};

// Runs `cobrador args...` to completion with `env` added to a minimal environment, reading
// `stdin_text` (or nothing) on standard input.
RunResult RunCobrador(const std::vector<std::string>& args,
                      const std::map<std::string, std::string>& env = {},
                      const std::string& cwd = {},
                      const std::optional<std::string>& stdin_text = std::nullopt);

// A `cobrador` left running (a server); stdout and stderr go to files in `log_dir`.
class Child {
public:
    // `program` is another executable to run instead (chromedriver, say).
    Child(const std::vector<std::string>& args,
          const std::map<std::string, std::string>& env,
          const std::string& log_dir,
          const std::string& program = {});
    ~Child();  // kills the child if still running
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    // Waits until stdout contains `text`; returns stdout so far. Throws after `timeout`.
    std::string WaitForOutput(const std::string& text,
                              std::chrono::milliseconds timeout = std::chrono::seconds(20));
    std::string Stdout() const;
    std::string Stderr() const;
    void Signal(int signal);

    pid_t Pid() const { return pid_; }

    // Waits for the exit and returns the exit code (-1 on timeout or a signal death).
    int Wait(std::chrono::milliseconds timeout = std::chrono::seconds(20));

private:
    pid_t pid_ = -1;
    std::string out_path_;
    std::string err_path_;
    bool exited_ = false;
};

}  // namespace cobrador::testing
