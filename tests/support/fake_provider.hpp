#pragma once
// A stand-in for Meta's Graph API or Twilio's REST API on loopback: it records every request
// and answers as the test scripts it (a status, a body, Retry-After, a delay, or a reset
// connection). Only the provider's side is fake; the server under test is the real binary.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cobrador::testing {

struct RecordedRequest {
    std::string method;
    std::string target;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
};

struct ScriptedAnswer {
    unsigned status = 200;
    std::string body;
    std::map<std::string, std::string> headers;
    std::chrono::milliseconds delay{0};  // answer only after this long (a hanging provider)
    bool reset = false;                  // close the connection without answering
};

class FakeProvider {
public:
    // `script` decides the answer to the n-th request (0-based), from any thread.
    using Script = std::function<ScriptedAnswer(const RecordedRequest&, std::size_t n)>;

    explicit FakeProvider(Script script);
    ~FakeProvider();
    FakeProvider(const FakeProvider&) = delete;
    FakeProvider& operator=(const FakeProvider&) = delete;

    std::uint16_t Port() const { return port_; }

    std::string BaseUrl() const { return "http://127.0.0.1:" + std::to_string(port_); }

    // Replaces the script (say, the provider recovers).
    void SetScript(Script script);

    std::vector<RecordedRequest> Requests() const;
    // Waits until at least `count` requests have arrived; returns them all. Throws on timeout.
    std::vector<RecordedRequest> WaitForRequests(
        std::size_t count, std::chrono::milliseconds timeout = std::chrono::seconds(20)) const;

    struct State;  // shared with the threads that serve connections

private:
    std::shared_ptr<State> state_;
    std::uint16_t port_ = 0;
    std::thread acceptor_thread_;
};

// Graph API's answer to an accepted send.
ScriptedAnswer GraphAccepted(const std::string& wamid);
// Twilio's answer to an accepted send.
ScriptedAnswer TwilioAccepted(const std::string& sid);

}  // namespace cobrador::testing
