#pragma once
// A fresh folder under the system temp dir, removed with everything in it at scope end, and
// the ledgers a test runs on.

#include <filesystem>
#include <string>
#include <vector>

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

    // A new, empty ledger for the backend this test run is on (OnPostgres()): the SQLite file
    // `name` in this folder, or a new database in the test cluster (COBRADOR_TEST_PG), as the
    // connection string --db and COBRADOR_DB take. Databases are dropped at scope end.
    std::string Ledger(const std::string& name = "ledger.db");

private:
    std::filesystem::path path_;
    std::vector<std::string> databases_;
};

// Whether this test runs on PostgreSQL (COBRADOR_TEST_BACKEND=postgres, set by CTest for the
// pg.* tests) rather than SQLite.
bool OnPostgres();

// "postgres" or "sqlite", for messages.
const char* BackendName();

}  // namespace cobrador::testing
