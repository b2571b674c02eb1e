#include "connection.hpp"

#include <utility>

#include <SQLiteCpp/Exception.h>
#include <sqlite3.h>

namespace cobrador::store {

namespace {

// More distinct statements than this (dynamic SQL gone wild) are not kept.
constexpr std::size_t kMaxKept = 512;

}  // namespace

Connection::Connection(SQLite::Database database) : db_(std::move(database)) {}

Connection::~Connection() = default;

bool Connection::InTransaction() {
    return sqlite3_get_autocommit(db_.getHandle()) == 0;
}

std::unique_ptr<SQLite::Statement> Connection::Take(const std::string& sql) {
    const auto found = free_.find(sql);
    if (found != free_.end() && !found->second.empty()) {
        auto statement = std::move(found->second.back());
        found->second.pop_back();
        --kept_;
        return statement;
    }
    return std::make_unique<SQLite::Statement>(db_, sql);
}

void Connection::Give(const std::string& sql, std::unique_ptr<SQLite::Statement> statement) {
    if (kept_ >= kMaxKept) {
        return;
    }
    // Reset and unbound, or not kept at all: a statement left mid-step would hold a read
    // snapshot open, and a stale binding would leak into its next use.
    if (statement->tryReset() != SQLITE_OK) {
        return;
    }
    try {
        statement->clearBindings();
    } catch (const SQLite::Exception&) {
        return;
    }
    free_[sql].push_back(std::move(statement));
    ++kept_;
}

Prepared::Prepared(Connection& connection, const std::string& sql)
    : connection_(&connection), sql_(sql), statement_(connection.Take(sql_)) {}

Prepared::Prepared(Prepared&& other) noexcept
    : connection_(std::exchange(other.connection_, nullptr)),
      sql_(std::move(other.sql_)),
      statement_(std::move(other.statement_)) {}

Prepared::~Prepared() {
    if (connection_ != nullptr && statement_) {
        connection_->Give(sql_, std::move(statement_));
    }
}

}  // namespace cobrador::store
