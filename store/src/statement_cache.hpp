#pragma once
// Prepared statements, kept per connection. Preparing (parsing and planning) a statement cost
// about a third of the ledger thread's time under webhook load; a statement taken from here is
// prepared once per connection and reused.
//
// `Prepared` is a lease: it takes a statement for its SQL from the connection's cache (or
// prepares one when none is free, so nested or recursive use of the same SQL is safe) and gives
// it back, reset and unbound, when it goes out of scope. Connections without a cache (a backup
// copy, a throw-away connection) get a statement prepared for the lease alone.

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

namespace cobrador::store {

class StatementCache {
public:
    // Registers itself for `db`; must be destroyed before `db` is closed.
    explicit StatementCache(SQLite::Database& db);
    ~StatementCache();
    StatementCache(const StatementCache&) = delete;
    StatementCache& operator=(const StatementCache&) = delete;

    // The cache registered for `db`, or nullptr.
    static StatementCache* For(SQLite::Database& db);

    std::unique_ptr<SQLite::Statement> Take(const std::string& sql);
    void Give(const std::string& sql, std::unique_ptr<SQLite::Statement> statement);

private:
    SQLite::Database& db_;
    std::unordered_map<std::string, std::vector<std::unique_ptr<SQLite::Statement>>> free_;
    std::size_t kept_ = 0;
};

class Prepared {
public:
    Prepared(SQLite::Database& db, const std::string& sql);
    ~Prepared();
    Prepared(const Prepared&) = delete;
    Prepared& operator=(const Prepared&) = delete;

    SQLite::Statement& operator*() { return *statement_; }

private:
    StatementCache* cache_;
    std::string sql_;
    std::unique_ptr<SQLite::Statement> statement_;
};

}  // namespace cobrador::store
