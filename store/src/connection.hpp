#pragma once
// Private to the store: the connection behind a Ledger and the one way the store talks SQL.
// Statements are prepared once per connection and reused (preparing cost about a third of the
// ledger thread's time under webhook load). Values bind to ?1..?n in argument order; an empty
// std::optional or nullptr binds NULL. The SQL text uses SQLite's placeholders (?, ?N) for now:
// a PostgreSQL backend would add its dialect here. One thread at a time, like the Ledger.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include <SQLiteCpp/Column.h>
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

namespace cobrador::store {

class Connection;

namespace sql_detail {

template <class T>
struct IsOptional : std::false_type {};

template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};

template <class T>
void BindValue(SQLite::Statement& statement, int index, const T& value) {
    if constexpr (std::is_same_v<T, std::nullptr_t>) {
        statement.bind(index);
    } else if constexpr (IsOptional<T>::value) {
        if (value) {
            BindValue(statement, index, *value);
        } else {
            statement.bind(index);
        }
    } else if constexpr (std::is_same_v<T, bool>) {
        statement.bind(index, value ? 1 : 0);
    } else if constexpr (std::is_integral_v<T>) {
        if constexpr (std::is_signed_v<T> && sizeof(T) <= sizeof(int)) {
            statement.bind(index, static_cast<int>(value));
        } else {
            statement.bind(index, static_cast<std::int64_t>(value));
        }
    } else if constexpr (std::is_floating_point_v<T>) {
        statement.bind(index, static_cast<double>(value));
    } else if constexpr (std::is_same_v<T, std::string>) {
        statement.bind(index, value);  // copied: the value may go before the statement runs
    } else if constexpr (std::is_same_v<T, std::string_view>) {
        statement.bind(index, std::string(value));
    } else if constexpr (std::is_convertible_v<const T&, const char*>) {
        statement.bind(index, static_cast<const char*>(value));
    } else {
        static_assert(sizeof(T) == 0, "no SQL binding for this type");
    }
}

template <class... A>
void BindAll(SQLite::Statement& statement, const A&... args) {
    int index = 0;
    (BindValue(statement, ++index, args), ...);
}

template <class T>
T ColumnAs(const SQLite::Column& column) {
    if constexpr (std::is_same_v<T, bool>) {
        return column.getInt() != 0;
    } else if constexpr (std::is_same_v<T, int>) {
        return column.getInt();
    } else if constexpr (std::is_same_v<T, std::int64_t>) {
        return column.getInt64();
    } else if constexpr (std::is_same_v<T, double>) {
        return column.getDouble();
    } else if constexpr (std::is_same_v<T, std::string>) {
        return column.getString();
    } else {
        static_assert(sizeof(T) == 0, "no column conversion to this type");
    }
}

}  // namespace sql_detail

// A lease on a prepared statement: taken from the connection's cache (or prepared when none is
// free, so nested or recursive use of the same SQL is safe) and given back, reset and unbound,
// when it goes out of scope.
class Prepared {
public:
    Prepared(Connection& connection, const std::string& sql);
    ~Prepared();
    Prepared(Prepared&& other) noexcept;
    Prepared& operator=(Prepared&&) = delete;
    Prepared(const Prepared&) = delete;
    Prepared& operator=(const Prepared&) = delete;

    SQLite::Statement& operator*() { return *statement_; }

    SQLite::Statement* operator->() { return statement_.get(); }

    // For a statement reused in a loop: resets it and binds `args` to ?1..?n.
    template <class... A>
    Prepared& Bind(const A&... args) {
        statement_->reset();
        sql_detail::BindAll(*statement_, args...);
        return *this;
    }

    // Bind(args...), then runs a statement that returns no rows; the number of rows changed.
    template <class... A>
    int Exec(const A&... args) {
        Bind(args...);
        return statement_->exec();
    }

private:
    Connection* connection_;
    std::string sql_;
    std::unique_ptr<SQLite::Statement> statement_;
};

class Connection {
public:
    explicit Connection(SQLite::Database database);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    Connection(Connection&&) = delete;
    Connection& operator=(Connection&&) = delete;

    // SQLiteCpp itself, for what has no helper: multi-statement text, backups, the handle.
    SQLite::Database& raw() { return db_; }

    Prepared Prepare(const std::string& sql) { return Prepared(*this, sql); }

    // Runs a statement that returns no rows with `args` bound; the number of rows changed.
    template <class... A>
    int Exec(const std::string& sql, const A&... args) {
        Prepared statement(*this, sql);
        sql_detail::BindAll(*statement, args...);
        return statement->exec();
    }

    // A statement with `args` bound, to step through: while (q->executeStep()) ...
    template <class... A>
    Prepared Query(const std::string& sql, const A&... args) {
        Prepared statement(*this, sql);
        sql_detail::BindAll(*statement, args...);
        return statement;
    }

    // The first column of the first row; nullopt when there is no row or the value is NULL.
    template <class T, class... A>
    std::optional<T> One(const std::string& sql, const A&... args) {
        Prepared statement = Query(sql, args...);
        if (!statement->executeStep() || statement->getColumn(0).isNull()) {
            return std::nullopt;
        }
        return sql_detail::ColumnAs<T>(statement->getColumn(0));
    }

    std::int64_t LastInsertRowid() { return db_.getLastInsertRowid(); }

    // Whether a transaction is open on this connection.
    bool InTransaction();

private:
    friend class Prepared;

    std::unique_ptr<SQLite::Statement> Take(const std::string& sql);
    void Give(const std::string& sql, std::unique_ptr<SQLite::Statement> statement);

    SQLite::Database db_;
    // After db_: the statements are finalized before the connection closes.
    std::unordered_map<std::string, std::vector<std::unique_ptr<SQLite::Statement>>> free_;
    std::size_t kept_ = 0;
};

}  // namespace cobrador::store
