#include "webdriver.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <openssl/evp.h>

#include "support/http_client.hpp"

namespace cobrador::testing {

namespace {

using json = nlohmann::json;

constexpr const char* kChromedriver = "/usr/bin/chromedriver";
constexpr const char* kChromium = "/usr/bin/chromium";

// A port nobody listens on right now (the driver binds it a moment later).
std::uint16_t FreePort() {
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::acceptor acceptor(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
    return acceptor.local_endpoint().port();
}

std::string Base64Decode(const std::string& text) {
    std::string out(text.size() / 4 * 3 + 3, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(text.data()),
                                  static_cast<int>(text.size()));
    if (n < 0) {
        throw std::runtime_error("the screenshot is not base64");
    }
    std::size_t size = static_cast<std::size_t>(n);
    // EVP_DecodeBlock counts the padding as zero bytes.
    for (auto it = text.rbegin(); it != text.rend() && *it == '='; ++it) {
        --size;
    }
    out.resize(size);
    return out;
}

}  // namespace

WebDriver::WebDriver(const std::string& dir) {
    for (const char* needed : {kChromedriver, kChromium}) {
        if (!std::filesystem::exists(needed)) {
            throw std::runtime_error(std::string(needed) +
                                     " is missing: run deploy/install-deps.sh (chromium, "
                                     "chromium-driver)");
        }
    }
    std::filesystem::create_directories(dir);
    port_ = FreePort();
    driver_ = std::make_unique<Child>(
        std::vector<std::string>{"--port=" + std::to_string(port_)},
        // A browser far from the creditor (Tokyo): the console
        // must show the creditor's times, not the browser's.
        std::map<std::string, std::string>{{"HOME", dir}, {"TZ", "Asia/Tokyo"}},
        dir,
        kChromedriver);
    driver_->WaitForOutput("started successfully");
    const json capabilities = {
        {"capabilities",
         {{"alwaysMatch",
           {{"browserName", "chrome"},
            {"goog:loggingPrefs", {{"browser", "ALL"}}},
            {"goog:chromeOptions",
             {{"binary", kChromium},
              {"args",
               {"--headless=new",
                "--no-sandbox",  // CI runs as root, where Chromium's sandbox cannot start
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--window-size=1280,900",
                "--lang=es-MX",
                "--user-data-dir=" + dir + "/profile"}}}}}}}}};
    const json session = Call("POST", "/session", capabilities);
    session_ = session["sessionId"].get<std::string>();
}

WebDriver::~WebDriver() {
    try {
        if (!session_.empty()) {
            Call("DELETE", "/session/" + session_);
        }
    } catch (const std::exception&) {
        // The driver goes down with its process either way.
    }
}

json WebDriver::Call(const std::string& method, const std::string& path, const json& body) {
    const auto res = HttpRequest(port_,
                                 method,
                                 path,
                                 body.is_null() ? std::string() : body.dump(),
                                 {{"Content-Type", "application/json"}});
    const json answer = json::parse(res.body, nullptr, false);
    if (res.status != 200 || answer.is_discarded()) {
        throw std::runtime_error("WebDriver " + method + " " + path + " -> " +
                                 std::to_string(res.status) + ": " + res.body.substr(0, 500));
    }
    return answer.contains("value") ? answer["value"] : answer;
}

void WebDriver::Go(const std::string& url) {
    Call("POST", "/session/" + session_ + "/url", {{"url", url}});
}

void WebDriver::SetWindowSize(int width, int height) {
    Call("POST", "/session/" + session_ + "/window/rect", {{"width", width}, {"height", height}});
}

std::optional<std::string> WebDriver::Find(const std::string& css) {
    const json found = Call(
        "POST", "/session/" + session_ + "/elements", {{"using", "css selector"}, {"value", css}});
    if (!found.is_array() || found.empty()) {
        return std::nullopt;
    }
    // {"element-6066-11e4-a52e-4f735466cecf": "<id>"}
    return found[0].begin().value().get<std::string>();
}

std::string WebDriver::Element(const std::string& css) {
    auto id = Find(css);
    if (!id) {
        throw std::runtime_error("no element matches " + css);
    }
    return *id;
}

std::optional<json> WebDriver::OnElement(const std::string& css,
                                         const std::string& method,
                                         const std::string& action,
                                         const json& body,
                                         bool required) {
    for (int attempt = 0;; ++attempt) {
        const auto id = required ? std::optional<std::string>(Element(css)) : Find(css);
        if (!id) {
            return std::nullopt;
        }
        try {
            return Call(method, "/session/" + session_ + "/element/" + *id + action, body);
        } catch (const std::runtime_error& error) {
            if (attempt >= 4 ||
                std::string(error.what()).find("stale element reference") == std::string::npos) {
                throw;
            }
        }
    }
}

void WebDriver::Click(const std::string& css) {
    OnElement(css, "POST", "/click", json::object(), true);
}

void WebDriver::Type(const std::string& css, const std::string& text) {
    OnElement(css, "POST", "/value", {{"text", text}}, true);
}

std::string WebDriver::Text(const std::string& css) {
    return OnElement(css, "GET", "/text", json(), true)->get<std::string>();
}

bool WebDriver::Displayed(const std::string& css) {
    const auto shown = OnElement(css, "GET", "/displayed", json(), false);
    return shown && shown->get<bool>();
}

bool WebDriver::Enabled(const std::string& css) {
    const auto enabled = OnElement(css, "GET", "/enabled", json(), false);
    return enabled && enabled->get<bool>();
}

json WebDriver::Script(const std::string& script) {
    return Call("POST",
                "/session/" + session_ + "/execute/sync",
                {{"script", script}, {"args", json::array()}});
}

void WebDriver::WaitUntil(const std::function<bool()>& ready,
                          const std::string& what,
                          std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (ready()) {
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    throw std::runtime_error("the browser never showed: " + what);
}

void WebDriver::Screenshot(const std::string& path) {
    const std::string png =
        Base64Decode(Call("GET", "/session/" + session_ + "/screenshot").get<std::string>());
    std::ofstream(path, std::ios::binary) << png;
}

std::vector<std::string> WebDriver::SevereLogs() {
    std::vector<std::string> out;
    for (const json& entry :
         Call("POST", "/session/" + session_ + "/se/log", {{"type", "browser"}})) {
        if (entry.value("level", "") == "SEVERE") {
            out.push_back(entry.value("message", ""));
        }
    }
    return out;
}

std::vector<std::string> WebDriver::PageErrors() {
    std::vector<std::string> out;
    for (std::string& line : SevereLogs()) {
        if (line.find("Content Security Policy") != std::string::npos ||
            line.find("Uncaught") != std::string::npos) {
            out.push_back(std::move(line));
        }
    }
    return out;
}

void WebDriver::KeepScreenshot(const std::string& name) {
    const char* dir = std::getenv("COBRADOR_SCREENSHOT_DIR");
    Screenshot((std::filesystem::path(dir != nullptr ? dir : ".") / name).string());
}

}  // namespace cobrador::testing
