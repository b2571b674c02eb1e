#pragma once
// Reads and writes a ledger behind the Ledger's back, on whichever backend the test runs on,
// through the store's own connection (store/src/connection.hpp): tests check what was stored
// with SQL both SQLite and PostgreSQL accept.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "connection.hpp"

namespace cobrador::testing {

class Probe {
public:
    explicit Probe(const std::string& target) : db_(store::OpenConnection(target, false)) {}

    // Runs SQL text (one or more statements); throws store::DbError when the database refuses.
    void Exec(const std::string& sql) { db_->ExecScript(sql); }

    // The first column of the first row as an integer (a count, an id, a sum).
    std::int64_t Count(const std::string& sql) {
        const auto value = db_->One<std::int64_t>(sql);
        REQUIRE(value.has_value());
        return *value;
    }

    // The first column of the first row as text; "<null>" for NULL or no row.
    std::string Text(const std::string& sql) {
        return db_->One<std::string>(sql).value_or("<null>");
    }

    // Every row's first column, joined with commas.
    std::string Joined(const std::string& sql) {
        std::string out;
        auto rows = db_->Query(sql);
        while (rows->Step()) {
            out += (out.empty() ? "" : ",") + rows->Text(0);
        }
        return out;
    }

    // The first column of every row, as integers.
    std::vector<std::int64_t> Ints(const std::string& sql) {
        std::vector<std::int64_t> out;
        auto rows = db_->Query(sql);
        while (rows->Step()) {
            out.push_back(rows->Int64(0));
        }
        return out;
    }

    store::Connection& db() { return *db_; }

private:
    std::unique_ptr<store::Connection> db_;
};

}  // namespace cobrador::testing
