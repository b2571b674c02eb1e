#pragma once
// Private to the store: the PostgreSQL backend of Connection (libpq, blocking, one connection
// used by one thread at a time, like the SQLite one).

#include <memory>
#include <string>
#include <string_view>

#include "connection.hpp"

namespace cobrador::store {

// Connects to the PostgreSQL database named by `target` (a URI or key=value connection
// string, in libpq's own syntax). Throws DbError without the password in its message.
std::unique_ptr<Connection> OpenPostgres(const std::string& target);

// The store's SQL with SQLite's placeholders (?, ?N) rewritten as PostgreSQL's ($1, $N);
// `count` gets the number of parameters. Quoted text, quoted names and comments are left alone.
std::string ToPostgresPlaceholders(std::string_view sql, int& count);

// An SQLSTATE as the store's error code, and whether running the transaction again may succeed.
Errc FromSqlState(std::string_view sqlstate, bool& retry);

}  // namespace cobrador::store
