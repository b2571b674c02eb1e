#include "support/process.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "support/temp_dir.hpp"
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace cobrador::testing {

namespace {

std::string ReadFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

pid_t Spawn(const std::vector<std::string>& args,
            const std::map<std::string, std::string>& env,
            const std::string& cwd,
            const std::string& out_path,
            const std::string& err_path,
            const std::string& in_path = "/dev/null",
            const std::string& program = {}) {
    std::vector<std::string> argv_text = {program.empty() ? COBRADOR_BINARY : program};
    argv_text.insert(argv_text.end(), args.begin(), args.end());
    std::vector<std::string> env_text = {"PATH=/usr/bin:/bin", "LANG=C.UTF-8"};
    for (const auto& [k, v] : env) {
        env_text.push_back(k + "=" + v);
    }
    std::vector<char*> argv;
    for (auto& a : argv_text) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (auto& e : env_text) {
        envp.push_back(e.data());
    }
    envp.push_back(nullptr);
    const pid_t pid = fork();
    if (pid < 0) {
        throw std::runtime_error("fork failed");
    }
    if (pid == 0) {
        const int in = open(in_path.c_str(), O_RDONLY);
        const int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        const int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        if (!cwd.empty() && chdir(cwd.c_str()) != 0) {
            _exit(127);
        }
        execve(argv[0], argv.data(), envp.data());
        _exit(127);
    }
    return pid;
}

}  // namespace

RunResult RunCobrador(const std::vector<std::string>& args,
                      const std::map<std::string, std::string>& env,
                      const std::string& cwd,
                      const std::optional<std::string>& stdin_text) {
    TempDir logs;
    const std::string out_path = logs.File("out");
    const std::string err_path = logs.File("err");
    std::string in_path = "/dev/null";
    if (stdin_text) {
        in_path = logs.File("in");
        std::ofstream(in_path, std::ios::binary) << *stdin_text;
    }
    const pid_t pid = Spawn(args, env, cwd, out_path, err_path, in_path);
    int status = 0;
    waitpid(pid, &status, 0);
    RunResult result;
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    result.out = ReadFile(out_path);
    result.err = ReadFile(err_path);
    return result;
}

Child::Child(const std::vector<std::string>& args,
             const std::map<std::string, std::string>& env,
             const std::string& log_dir,
             const std::string& program)
    : out_path_(log_dir + "/child.out"), err_path_(log_dir + "/child.err") {
    pid_ = Spawn(args, env, log_dir, out_path_, err_path_, "/dev/null", program);
}

Child::~Child() {
    if (!exited_ && pid_ > 0) {
        kill(pid_, SIGKILL);
        int status = 0;
        waitpid(pid_, &status, 0);
    }
}

std::string Child::Stdout() const {
    return ReadFile(out_path_);
}

std::string Child::Stderr() const {
    return ReadFile(err_path_);
}

std::string Child::WaitForOutput(const std::string& text, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        std::string out = Stdout();
        if (out.find(text) != std::string::npos) {
            return out;
        }
        int status = 0;
        if (!exited_ && waitpid(pid_, &status, WNOHANG) == pid_) {
            exited_ = true;
            throw std::runtime_error("the child exited early; stderr: " + Stderr());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error("timed out waiting for '" + text + "'; stderr: " + Stderr());
}

void Child::Signal(int signal) {
    kill(pid_, signal);
}

int Child::Wait(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            exited_ = true;
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
}

}  // namespace cobrador::testing
