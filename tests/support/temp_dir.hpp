#pragma once
// A fresh folder under the system temp dir, removed with everything in it at scope end.

#include <filesystem>
#include <string>

namespace cobrador::testing {

class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& Path() const { return path_; }

    std::string File(const std::string& name) const { return (path_ / name).string(); }

    // Writes `content` to `name` inside the folder and returns its path.
    std::string Write(const std::string& name, const std::string& content) const;

private:
    std::filesystem::path path_;
};

}  // namespace cobrador::testing
