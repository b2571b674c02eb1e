#pragma once
// Private to the store: the SQLite backend of Connection (SQLiteCpp over one database file).

#include <cstdint>
#include <memory>
#include <string>

#include <SQLiteCpp/Database.h>

#include "connection.hpp"

namespace cobrador::store {

class SqliteConnection final : public Connection {
public:
    explicit SqliteConnection(SQLite::Database database);

    // The cached statements are finalized before the database closes.
    ~SqliteConnection() override { DropCachedStatements(); }

    SqliteConnection(const SqliteConnection&) = delete;
    SqliteConnection& operator=(const SqliteConnection&) = delete;
    SqliteConnection(SqliteConnection&&) = delete;
    SqliteConnection& operator=(SqliteConnection&&) = delete;

    Backend backend() const override { return Backend::kSqlite; }

    void ExecScript(const std::string& sql) override;
    bool InTransaction() override;
    void Begin(TxKind kind) override;
    void Lock(std::vector<std::string> keys) override;
    void Commit() override;
    void Rollback() override;

    // SQLite's online backup into a new file at `path`, a step at a time so that writers get
    // in between, then the copy's integrity check.
    struct BackupResult {
        std::int64_t pages = 0;
        bool integrity_ok = false;
        std::string integrity;
    };

    BackupResult BackupTo(const std::string& path);

protected:
    std::unique_ptr<Statement> NewStatement(const std::string& sql) override;

private:
    SQLite::Database db_;
};

// Opens (and with `create`, creates) an SQLite ledger file with the store's settings.
std::unique_ptr<Connection> OpenSqlite(const std::string& path, bool create);

// SQLite's result code as the store's error code.
Errc FromSqlite(int code);

}  // namespace cobrador::store
