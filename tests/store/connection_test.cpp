// The store's one way of talking SQL (store/src/connection.hpp): binding, NULLs, single values,
// and statements leased from the cache, nested and given back clean.

#include "connection.hpp"

#include <optional>
#include <string>

#include <catch2/catch.hpp>

namespace cobrador::store {
namespace {

TEST_CASE("Connection: Exec binds in order and counts rows, and One reads a value or nothing",
          "[store][connection]") {
    auto opened = OpenConnection(":memory:", true);
    Connection& db = *opened;
    db.ExecScript("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, cents INTEGER, note TEXT)");
    CHECK(db.Exec("INSERT INTO t (name, cents, note) VALUES (?, ?, ?)",
                  std::string("Ana"),
                  std::int64_t{150050},
                  std::optional<std::string>()) == 1);

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
    auto opened = OpenConnection(":memory:", true);
    Connection& db = *opened;
    db.ExecScript("CREATE TABLE t (n INTEGER)");
    auto insert = db.Prepare("INSERT INTO t (n) VALUES (?)");
    for (int n = 1; n <= 3; ++n) {
        CHECK(insert.Exec(n) == 1);
    }
    const std::string sql = "SELECT n FROM t WHERE n >= ? ORDER BY n";
    int pairs = 0;
    {
        auto outer = db.Query(sql, 1);
        while (outer->Step()) {
            // The same SQL while the outer statement is mid-step: a second statement.
            auto inner = db.Query(sql, outer->Int(0));
            while (inner->Step()) {
                ++pairs;
            }
        }
    }
    CHECK(pairs == 3 + 2 + 1);
    // Given back reset and unbound: the next lease starts from the first row with new values.
    auto again = db.Query(sql, 3);
    REQUIRE(again->Step());
    CHECK(again->Int(0) == 3);
    CHECK_FALSE(again->Step());
}

}  // namespace
}  // namespace cobrador::store
