// The store's one way of talking SQL (store/src/connection.hpp): binding, NULLs, single values,
// and statements leased from the cache, nested and given back clean.

#include "connection.hpp"

#include <optional>
#include <string>

#include <catch2/catch.hpp>

namespace cobrador::store {
namespace {

TEST_CASE("Connection: Exec binds in order and counts rows; One reads a value or nothing",
          "[store][connection]") {
    Connection db(SQLite::Database(":memory:", SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE));
    db.raw().exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, cents INTEGER, note TEXT)");
    CHECK(db.Exec("INSERT INTO t (name, cents, note) VALUES (?, ?, ?)",
                  std::string("Ana"),
                  std::int64_t{150050},
                  std::optional<std::string>()) == 1);
    CHECK(db.LastInsertRowid() == 1);
    CHECK(db.Exec("INSERT INTO t (name, cents, note) VALUES (?1, ?2, ?1)",
                  std::string_view("Beto"),
                  9'000'000'000'000LL) == 1);
    // An empty optional is NULL: One says nothing for it, as for a missing row.
    CHECK_FALSE(db.One<std::string>("SELECT note FROM t WHERE id = ?", 1).has_value());
    CHECK(db.One<std::string>("SELECT note FROM t WHERE id = ?", 2) == "Beto");
    CHECK(db.One<std::int64_t>("SELECT cents FROM t WHERE name = ?", "Beto") ==
          9'000'000'000'000LL);
    CHECK_FALSE(db.One<std::int64_t>("SELECT cents FROM t WHERE name = ?", "nadie").has_value());
    CHECK(db.Exec("UPDATE t SET cents = cents + ?", 1) == 2);
    CHECK(db.One<int>("SELECT count(*) FROM t WHERE note IS NULL") == 1);
    // Text is bound as given, quotes and all: parameters are never SQL.
    CHECK(db.Exec("INSERT INTO t (name) VALUES (?)", "x'); DROP TABLE t; --") == 1);
    CHECK(db.One<int>("SELECT count(*) FROM t") == 3);
}

TEST_CASE("Connection: a leased statement is reused clean, and nested use gets its own",
          "[store][connection]") {
    Connection db(SQLite::Database(":memory:", SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE));
    db.raw().exec("CREATE TABLE t (n INTEGER)");
    auto insert = db.Prepare("INSERT INTO t (n) VALUES (?)");
    for (int n = 1; n <= 3; ++n) {
        CHECK(insert.Exec(n) == 1);
    }
    const std::string sql = "SELECT n FROM t WHERE n >= ? ORDER BY n";
    int pairs = 0;
    {
        auto outer = db.Query(sql, 1);
        while (outer->executeStep()) {
            // The same SQL while the outer statement is mid-step: a second statement.
            auto inner = db.Query(sql, outer->getColumn(0).getInt());
            while (inner->executeStep()) {
                ++pairs;
            }
        }
    }
    CHECK(pairs == 3 + 2 + 1);
    // Given back reset and unbound: the next lease starts from the first row with new values.
    auto again = db.Query(sql, 3);
    REQUIRE(again->executeStep());
    CHECK(again->getColumn(0).getInt() == 3);
    CHECK_FALSE(again->executeStep());
}

}  // namespace
}  // namespace cobrador::store
