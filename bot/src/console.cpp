#include "console.hpp"

namespace cobrador::bot {

namespace console_data {
extern const std::string_view kIndexHtml;
extern const std::string_view kConsoleCss;
extern const std::string_view kConsoleJs;
extern const std::string_view kPhoneHtml;
extern const std::string_view kPhoneJs;
extern const std::string_view kFaviconSvg;
}  // namespace console_data

std::optional<StaticFile> ConsoleFile(std::string_view name, bool demo) {
    using namespace console_data;
    constexpr std::string_view kHtml = "text/html; charset=utf-8";
    if (name.empty() || name == "index.html") {
        return StaticFile{kIndexHtml, kHtml};
    }
    if (name == "console.css") {
        return StaticFile{kConsoleCss, "text/css; charset=utf-8"};
    }
    if (name == "console.js") {
        return StaticFile{kConsoleJs, "text/javascript; charset=utf-8"};
    }
    if (name == "favicon.svg") {
        return StaticFile{kFaviconSvg, "image/svg+xml"};
    }
    if (demo && name == "phone.html") {
        return StaticFile{kPhoneHtml, kHtml};
    }
    if (demo && name == "phone.js") {
        return StaticFile{kPhoneJs, "text/javascript; charset=utf-8"};
    }
    return std::nullopt;
}

}  // namespace cobrador::bot
