#pragma once
// The collector console's static files, embedded in the binary (bot/console/): nothing to
// install beside it and nothing fetched from the internet at run time.

#include <optional>
#include <string_view>

namespace cobrador::bot {

struct StaticFile {
    std::string_view body;
    std::string_view content_type;
};

// The file for a path under /console/ ("" is index.html). Only the fixed set of names is
// served, so no path (../, %2e%2e, absolute, NUL) can reach anything else. `demo`: the sandbox
// phone page exists only with serve --demo.
std::optional<StaticFile> ConsoleFile(std::string_view name, bool demo);

}  // namespace cobrador::bot
