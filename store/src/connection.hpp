#pragma once
// Private to the store: the one way the store talks SQL, whichever database is behind it.
//
// The store's SQL is written once, in the dialect both SQLite 3.40 and PostgreSQL 15 accept:
// placeholders are SQLite's (?, ?N) and a backend translates them; new ids come back with
// RETURNING id; JSON is built in C++ and bound as text; booleans are read as 0/1 integers
// (CASE WHEN ... THEN 1 ELSE 0 END). What really differs per backend — opening, transactions,
// the schema's DDL, backups — lives behind Connection (sqlite_connection.cpp,
// pg_connection.cpp).
//
// Statements are prepared once per connection and reused (preparing cost about a third of the
// ledger thread's time under webhook load). Values bind to ?1..?n in argument order; an empty
// std::optional or nullptr binds NULL. One thread at a time, like the Ledger.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/errors.hpp"

namespace cobrador::store {

enum class Backend { kSqlite, kPostgres };

// What every backend throws: the store's own error code, and whether running the whole
// operation again may succeed (a serialization failure or deadlock on PostgreSQL).
class DbError : public std::runtime_error {
public:
    DbError(Errc code, const std::string& message, bool retry = false)
        : std::runtime_error(message), code_(code), retry_(retry) {}

    Errc code() const { return code_; }

    bool retry() const { return retry_; }

private:
    Errc code_;
    bool retry_;
};

// One prepared statement of a backend. Step() runs it (the first time) and moves to the next
// row; Exec() runs a statement that returns no rows. Columns are read from the current row.
class Statement {
public:
    virtual ~Statement() = default;

    virtual void BindNull(int index) = 0;
    virtual void BindInt64(int index, std::int64_t value) = 0;
    virtual void BindDouble(int index, double value) = 0;
    virtual void BindText(int index, std::string_view value) = 0;
    virtual void BindBlob(int index, std::string_view bytes) = 0;

    virtual bool Step() = 0;
    // Runs a statement that returns no rows; the number of rows it changed.
    virtual int Exec() = 0;
    // Back to before the first Step(), bindings cleared. False: the statement cannot be reused.
    virtual bool Reset() = 0;

    virtual bool IsNull(int column) = 0;
    virtual std::int64_t Int64(int column) = 0;
    virtual double Double(int column) = 0;
    virtual std::string Text(int column) = 0;
    // A BLOB (SQLite) or BYTEA (PostgreSQL) column's bytes; IsBlob tells such a column.
    virtual std::string Blob(int column) = 0;
    virtual bool IsBlob(int column) = 0;

    int Int(int column) { return static_cast<int>(Int64(column)); }

    std::optional<std::string> OptionalText(int column) {
        if (IsNull(column)) {
            return std::nullopt;
        }
        return Text(column);
    }
};

class Connection;

// Bytes to bind as a BLOB/BYTEA (a plain string binds as text).
struct BlobRef {
    std::string_view bytes;
};

namespace sql_detail {

template <class T>
struct IsOptional : std::false_type {};

template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};

template <class T>
void BindValue(Statement& statement, int index, const T& value) {
    if constexpr (std::is_same_v<T, std::nullptr_t>) {
        statement.BindNull(index);
    } else if constexpr (IsOptional<T>::value) {
        if (value) {
            BindValue(statement, index, *value);
        } else {
            statement.BindNull(index);
        }
    } else if constexpr (std::is_same_v<T, BlobRef>) {
        statement.BindBlob(index, value.bytes);
    } else if constexpr (std::is_same_v<T, bool>) {
        statement.BindInt64(index, value ? 1 : 0);
    } else if constexpr (std::is_integral_v<T>) {
        statement.BindInt64(index, static_cast<std::int64_t>(value));
    } else if constexpr (std::is_floating_point_v<T>) {
        statement.BindDouble(index, static_cast<double>(value));
    } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
        statement.BindText(index, std::string_view(value));  // copied by the backend
    } else {
        static_assert(sizeof(T) == 0, "no SQL binding for this type");
    }
}

template <class... A>
void BindAll(Statement& statement, const A&... args) {
    int index = 0;
    (BindValue(statement, ++index, args), ...);
}

template <class T>
T ColumnAs(Statement& statement, int column) {
    if constexpr (std::is_same_v<T, bool>) {
        return statement.Int64(column) != 0;
    } else if constexpr (std::is_same_v<T, int>) {
        return statement.Int(column);
    } else if constexpr (std::is_same_v<T, std::int64_t>) {
        return statement.Int64(column);
    } else if constexpr (std::is_same_v<T, double>) {
        return statement.Double(column);
    } else if constexpr (std::is_same_v<T, std::string>) {
        return statement.Text(column);
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

    Statement& operator*() { return *statement_; }

    Statement* operator->() { return statement_.get(); }

    // For a statement reused in a loop: resets it and binds `args` to ?1..?n.
    template <class... A>
    Prepared& Bind(const A&... args) {
        statement_->Reset();
        sql_detail::BindAll(*statement_, args...);
        return *this;
    }

    // Bind(args...), then runs a statement that returns no rows; the number of rows changed.
    template <class... A>
    int Exec(const A&... args) {
        Bind(args...);
        return statement_->Exec();
    }

    // Bind(args...), then runs an INSERT ... RETURNING id: the new id, or nullopt when the
    // statement inserted nothing (ON CONFLICT DO NOTHING).
    template <class... A>
    std::optional<std::int64_t> Returning(const A&... args) {
        Bind(args...);
        std::optional<std::int64_t> id;
        if (statement_->Step()) {
            id = statement_->Int64(0);
        }
        // Finished now: SQLite will not commit while a statement is still stepping.
        statement_->Reset();
        return id;
    }

private:
    Connection* connection_;
    std::string sql_;
    std::unique_ptr<Statement> statement_;
};

// How a transaction will use the database. On SQLite a write transaction takes the write lock
// at BEGIN (IMMEDIATE) and a read one when it first needs it. On PostgreSQL:
// - kWrite runs SERIALIZABLE: a transaction that reads, decides and writes behaves as if it ran
//   alone, or fails with 40001 and the whole operation is retried (Guard);
// - kLocked runs READ COMMITTED, for the hot paths whose correctness rests on their own locks
//   (Connection::Lock), conditional updates and unique keys: they take no part in SSI's conflict
//   tracking, which under load turned them into each other's retry storms;
// - kRead runs REPEATABLE READ READ ONLY: one snapshot, nothing tracked.
enum class TxKind { kWrite, kLocked, kRead };

class Connection {
public:
    Connection() = default;
    virtual ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    Connection(Connection&&) = delete;
    Connection& operator=(Connection&&) = delete;

    virtual Backend backend() const = 0;

    // Runs SQL text with no parameters, possibly several statements (migrations, DDL).
    virtual void ExecScript(const std::string& sql) = 0;

    // Whether a transaction is open on this connection.
    virtual bool InTransaction() = 0;

    // A nested transaction without a savepoint of its own failed (Tx): the enclosing group must
    // not commit. TakeAbandoned() answers and forgets.
    void AbandonGroup() { group_abandoned_ = true; }

    bool TakeAbandoned() { return std::exchange(group_abandoned_, false); }

    // Whether the open transaction failed and can only roll back (PostgreSQL).
    virtual bool TransactionFailed() { return false; }

    virtual void Begin(TxKind kind) = 0;
    // Serializes this transaction with every other one that locks the same keys, until it ends
    // (PostgreSQL's transaction-level advisory locks, in sorted order so that two transactions
    // cannot deadlock on them). Nothing on SQLite, whose writer is alone anyway. On PostgreSQL a
    // READ COMMITTED transaction's next statement sees what the previous holder committed; a
    // SERIALIZABLE one's snapshot may be older (conflicts there are SSI's to catch).
    virtual void Lock(std::vector<std::string> keys) = 0;
    virtual void Commit() = 0;
    virtual void Rollback() = 0;

    // Makes sure the connection is usable (re-established if it was lost); false when the
    // database cannot be reached.
    virtual bool Alive() { return true; }

    Prepared Prepare(const std::string& sql) { return Prepared(*this, sql); }

    // Runs a statement that returns no rows with `args` bound; the number of rows changed.
    template <class... A>
    int Exec(const std::string& sql, const A&... args) {
        Prepared statement(*this, sql);
        sql_detail::BindAll(*statement, args...);
        return statement->Exec();
    }

    // A statement with `args` bound, to step through: while (q->Step()) ...
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
        if (!statement->Step() || statement->IsNull(0)) {
            return std::nullopt;
        }
        return sql_detail::ColumnAs<T>(*statement, 0);
    }

    // An INSERT ... RETURNING id: the new row's id.
    template <class... A>
    std::int64_t Insert(const std::string& sql, const A&... args) {
        Prepared statement = Query(sql, args...);
        if (!statement->Step()) {
            throw DbError(Errc::kInternal, "an INSERT ... RETURNING id returned no row");
        }
        return statement->Int64(0);
    }

protected:
    // A new statement for `sql`, in the store's dialect (the backend translates it).
    virtual std::unique_ptr<Statement> NewStatement(const std::string& sql) = 0;

    // Forgets every cached statement (a backend whose connection was re-established).
    void DropCachedStatements();

private:
    friend class Prepared;

    std::unique_ptr<Statement> Take(const std::string& sql);
    void Give(const std::string& sql, std::unique_ptr<Statement> statement);

    std::unordered_map<std::string, std::vector<std::unique_ptr<Statement>>> free_;
    std::size_t kept_ = 0;

private:
    bool group_abandoned_ = false;
};

// Opens a connection to the database named by `target`: a PostgreSQL URI or connection string
// (postgresql://..., postgres://..., or key=value words such as "host=... dbname=...") or else
// an SQLite file path. Throws DbError.
// `create`: an SQLite file that does not exist is created (PostgreSQL databases never are).
std::unique_ptr<Connection> OpenConnection(const std::string& target, bool create);

// A table's column, as the schema declares it.
struct Column {
    enum Kind { kInteger, kText, kBlob };

    std::string name;
    Kind kind = kText;
};

// `table`'s columns in their order, read from the database's own catalogue.
std::vector<Column> TableColumns(Connection& db, const std::string& table);

// Whether `target` names a PostgreSQL database rather than an SQLite file.
bool IsPostgresTarget(std::string_view target);

// `target` fit for logs and errors: a PostgreSQL URI without its password.
std::string RedactTarget(std::string_view target);

}  // namespace cobrador::store
