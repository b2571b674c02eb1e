#include "statement_cache.hpp"

#include <mutex>

#include <sqlite3.h>

namespace cobrador::store {

namespace {

// More distinct statements than this (dynamic SQL gone wild) are not kept.
constexpr std::size_t kMaxKept = 512;

std::mutex registry_mutex;

std::unordered_map<const void*, StatementCache*>& Registry() {
    static std::unordered_map<const void*, StatementCache*> registry;
    return registry;
}

}  // namespace

StatementCache::StatementCache(SQLite::Database& db) : db_(db) {
    const std::lock_guard lock(registry_mutex);
    Registry()[db_.getHandle()] = this;
}

StatementCache::~StatementCache() {
    const std::lock_guard lock(registry_mutex);
    Registry().erase(db_.getHandle());
}

StatementCache* StatementCache::For(SQLite::Database& db) {
    const std::lock_guard lock(registry_mutex);
    const auto found = Registry().find(db.getHandle());
    return found == Registry().end() ? nullptr : found->second;
}

std::unique_ptr<SQLite::Statement> StatementCache::Take(const std::string& sql) {
    const auto found = free_.find(sql);
    if (found != free_.end() && !found->second.empty()) {
        auto statement = std::move(found->second.back());
        found->second.pop_back();
        --kept_;
        return statement;
    }
    return std::make_unique<SQLite::Statement>(db_, sql);
}

void StatementCache::Give(const std::string& sql, std::unique_ptr<SQLite::Statement> statement) {
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

Prepared::Prepared(SQLite::Database& db, const std::string& sql)
    : cache_(StatementCache::For(db)), sql_(sql) {
    statement_ =
        cache_ != nullptr ? cache_->Take(sql_) : std::make_unique<SQLite::Statement>(db, sql_);
}

Prepared::~Prepared() {
    if (cache_ != nullptr && statement_) {
        cache_->Give(sql_, std::move(statement_));
    }
}

}  // namespace cobrador::store
