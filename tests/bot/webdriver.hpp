#pragma once
// A small W3C WebDriver client: Debian's chromedriver driving Debian's headless Chromium, over
// loopback with the tests' own HTTP client. Enough to sign in, click, type, read and take
// screenshots; every call throws (a test failure) when the browser says no.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "support/process.hpp"

namespace cobrador::testing {

class WebDriver {
public:
    // Starts chromedriver on a free port and a headless Chromium session whose profile and
    // logs live in `dir`, in Tokyo's time zone. Throws if /usr/bin/chromedriver or
    // /usr/bin/chromium is missing (deploy/install-deps.sh installs them).
    explicit WebDriver(const std::string& dir);
    ~WebDriver();
    WebDriver(const WebDriver&) = delete;
    WebDriver& operator=(const WebDriver&) = delete;

    void Go(const std::string& url);
    void SetWindowSize(int width, int height);

    // The first element matching the CSS selector; nullopt when none does.
    std::optional<std::string> Find(const std::string& css);
    void Click(const std::string& css);
    void Type(const std::string& css, const std::string& text);
    std::string Text(const std::string& css);
    bool Displayed(const std::string& css);
    bool Enabled(const std::string& css);

    // Runs `script` in the page (its `return` value comes back as JSON).
    nlohmann::json Script(const std::string& script);

    // Polls `ready` until it holds; throws with `what` after `timeout`.
    void WaitUntil(const std::function<bool()>& ready,
                   const std::string& what,
                   std::chrono::milliseconds timeout = std::chrono::seconds(15));

    // A PNG of the window.
    void Screenshot(const std::string& path);

    // The browser's console messages of level SEVERE so far (CSP violations, script errors).
    std::vector<std::string> SevereLogs();

    // Of those, the ones that say the page broke: a content-security rule or an uncaught
    // script error.
    std::vector<std::string> PageErrors();

    // A PNG of the window named `name`, in COBRADOR_SCREENSHOT_DIR (else the working
    // directory), for people to look at.
    void KeepScreenshot(const std::string& name);

private:
    nlohmann::json Call(const std::string& method,
                        const std::string& path,
                        const nlohmann::json& body = nullptr);
    std::string Element(const std::string& css);
    // `method` on `action` of the element `css` matches ("/click", "/text"...). When the page
    // re-rendered it between finding and using it (a stale element), it is found again: a
    // person's click lands on what is there. nullopt when nothing matches and `required` is
    // false.
    std::optional<nlohmann::json> OnElement(const std::string& css,
                                            const std::string& method,
                                            const std::string& action,
                                            const nlohmann::json& body,
                                            bool required);

    std::unique_ptr<Child> driver_;
    std::uint16_t port_ = 0;
    std::string session_;
};

}  // namespace cobrador::testing
