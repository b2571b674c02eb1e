#pragma once

#include <span>
#include <string>

namespace cobrador::store {

struct Migration {
    int version;
    const char* name;
    const char* sql;
};

// Every migration, oldest first; versions are 1, 2, 3, ... with no gaps.
std::span<const Migration> Migrations();

// A migration's SQL for PostgreSQL, derived from the SQLite text so that both backends get
// the same tables, columns, keys and checks under the same version numbers: every INTEGER is a
// 64-bit BIGINT (cents and ids; PostgreSQL's INTEGER would overflow at about 21 million pesos
// in cents), an INTEGER PRIMARY KEY an identity column, every TEXT compares byte by byte
// (COLLATE "C", as SQLite's BINARY: ISO dates and instants are compared as text), and the
// audit log's append-only triggers are PL/pgSQL.
std::string PostgresMigrationSql(const Migration& migration);

}  // namespace cobrador::store
