#include "connection.hpp"

#include <algorithm>
#include <utility>

#include "pg_connection.hpp"
#include "sqlite_connection.hpp"

namespace cobrador::store {

namespace {

// More distinct statements than this (dynamic SQL gone wild) are not kept.
constexpr std::size_t kMaxKept = 512;

bool StartsWith(std::string_view text, std::string_view prefix) {
    return text.substr(0, prefix.size()) == prefix;
}

}  // namespace

Connection::~Connection() = default;

void Connection::DropCachedStatements() {
    free_.clear();
    kept_ = 0;
}

std::unique_ptr<Statement> Connection::Take(const std::string& sql) {
    const auto found = free_.find(sql);
    if (found != free_.end() && !found->second.empty()) {
        auto statement = std::move(found->second.back());
        found->second.pop_back();
        --kept_;
        return statement;
    }
    return NewStatement(sql);
}

void Connection::Give(const std::string& sql, std::unique_ptr<Statement> statement) {
    if (kept_ >= kMaxKept) {
        return;
    }
    // Reset and unbound, or not kept at all: a statement left mid-step would hold a read
    // snapshot open, and a stale binding would leak into its next use.
    if (!statement->Reset()) {
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

std::vector<Column> TableColumns(Connection& db, const std::string& table) {
    std::vector<Column> out;
    auto rows = db.backend() == Backend::kPostgres
                    ? db.Query(
                          "SELECT column_name, data_type FROM information_schema.columns WHERE "
                          "table_schema = current_schema() AND table_name = ? ORDER BY "
                          "ordinal_position",
                          table)
                    : db.Query("SELECT name, type FROM pragma_table_info(?) ORDER BY cid", table);
    while (rows->Step()) {
        const std::string type = rows->Text(1);
        Column c{rows->Text(0), Column::kText};
        if (type == "INTEGER" || type == "bigint" || type == "integer") {
            c.kind = Column::kInteger;
        } else if (type == "BLOB" || type == "bytea") {
            c.kind = Column::kBlob;
        }
        out.push_back(std::move(c));
    }
    return out;
}

bool IsPostgresTarget(std::string_view target) {
    if (StartsWith(target, "postgresql://") || StartsWith(target, "postgres://")) {
        return true;
    }
    // libpq's key=value form ("host=/tmp dbname=cobrador", "service=cobrador"). A file path
    // with '=' and a space in it is unlikely enough; "./a=b c.db" still opens as a file.
    if (StartsWith(target, "./") || StartsWith(target, "/")) {
        return false;
    }
    const auto eq = target.find('=');
    return eq != std::string_view::npos && eq > 0 &&
           target.substr(0, eq).find_first_of(" /\\") == std::string_view::npos &&
           (StartsWith(target, "host=") || StartsWith(target, "dbname=") ||
            StartsWith(target, "service=") || StartsWith(target, "user=") ||
            StartsWith(target, "port=") || target.find(" dbname=") != std::string_view::npos ||
            target.find(" host=") != std::string_view::npos);
}

std::string RedactTarget(std::string_view target) {
    if (!IsPostgresTarget(target)) {
        return std::string(target);
    }
    std::string out(target);
    if (StartsWith(out, "postgresql://") || StartsWith(out, "postgres://")) {
        // scheme://user:password@host... -> scheme://user:***@host...
        const auto start = out.find("://") + 3;
        const auto at = out.find('@', start);
        const auto slash = out.find('/', start);
        if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
            const auto colon = out.find(':', start);
            if (colon != std::string::npos && colon < at) {
                out.replace(colon + 1, at - colon - 1, "***");
            }
        }
    }
    // password=... as a query parameter or a key=value word.
    constexpr std::string_view kKey = "password=";
    for (auto pos = out.find(kKey); pos != std::string::npos; pos = out.find(kKey, pos)) {
        const auto value = pos + kKey.size();
        const auto end = std::min(out.find_first_of(" &", value), out.size());
        out.replace(value, end - value, "***");
        pos = value + 3;
    }
    return out;
}

std::unique_ptr<Connection> OpenConnection(const std::string& target, bool create) {
    if (IsPostgresTarget(target)) {
        return OpenPostgres(target);
    }
    return OpenSqlite(target, create);
}

}  // namespace cobrador::store
