#pragma once
// Private to the store: the Ledger's state (its connection), the nesting transaction, and the
// guard that turns the backends' errors into Errc values; shared by the files that implement
// the Ledger.

#include <algorithm>
#include <chrono>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>

#include "store/ledger.hpp"

#include "connection.hpp"

namespace cobrador::store {

// The lock (Connection::Lock) that keeps one phone's dialog turns one at a time, and orders
// whatever else decides on what the dialog may change (an opt-out against a reminder pass).
inline std::string TurnLock(std::string_view phone) {
    return "turn:" + std::string(phone);
}

// A transaction that nests. On a connection with no transaction open it is BEGIN ... COMMIT.
// Inside one (a group, Ledger::InOneTransaction):
// - on SQLite it is a savepoint, so a failure undoes only its own writes and the group goes on;
// - on PostgreSQL it is nothing of its own (hundreds of savepoints in one transaction stall a
//   PostgreSQL server): a failure marks the group abandoned, and the group rolls back whole.
// Destroyed without commit(): rolled back.
class Tx {
public:
    explicit Tx(Connection& db, TxKind kind = TxKind::kWrite)
        : db_(db), nested_(db.InTransaction()), savepoint_(nested_ && Savepoints(db)) {
        if (savepoint_) {
            db_.ExecScript("SAVEPOINT cobrador_tx");
        } else if (!nested_) {
            db_.Begin(kind);
        }
    }

    Tx(const Tx&) = delete;
    Tx& operator=(const Tx&) = delete;

    ~Tx() {
        if (done_) {
            return;
        }
        if (nested_ && !savepoint_) {
            db_.AbandonGroup();
            return;
        }
        try {
            // An I/O or full-disk error may already have rolled the whole transaction back.
            if (db_.InTransaction()) {
                if (nested_) {
                    db_.ExecScript("ROLLBACK TO cobrador_tx; RELEASE cobrador_tx");
                } else {
                    db_.Rollback();
                }
            }
        } catch (...) {  // NOLINT(bugprone-empty-catch): nothing more to undo
        }
    }

    void commit() {
        if (savepoint_) {
            db_.ExecScript("RELEASE cobrador_tx");
        } else if (!nested_) {
            db_.Commit();
        }
        done_ = true;
    }

private:
    static bool Savepoints(Connection& db) { return db.backend() == Backend::kSqlite; }

    Connection& db_;
    bool nested_;
    bool savepoint_;
    bool done_ = false;
};

struct Ledger::Impl {
    std::unique_ptr<Connection> connection;
    Connection& db;
    std::string last_error;

    explicit Impl(std::unique_ptr<Connection> opened)
        : connection(std::move(opened)), db(*connection) {}

    // A serialization failure or deadlock (PostgreSQL) runs the whole operation again, after a
    // short random pause: every Ledger operation is one all-or-nothing transaction whose
    // callbacks are pure.
    static constexpr int kMaxAttempts = 8;

    // Runs `work` (which returns a Result), turning the backend's errors into Errc values at
    // the module's edge.
    template <class F>
    auto Guard(F&& work) -> decltype(work()) {
        for (int attempt = 1;; ++attempt) {
            try {
                db.Alive();
                return work();
            } catch (const DbError& e) {
                if (e.retry() && attempt < kMaxAttempts && !db.InTransaction()) {
                    BackOff(attempt);
                    continue;
                }
                last_error = e.what();
                return decltype(work())(boost::system::in_place_error, make_error_code(e.code()));
            }
        }
    }

    // Before the next attempt: a random pause, up to 2^attempt ms (at most 64), so that two
    // connections that keep conflicting stop doing it in step.
    static void BackOff(int attempt) {
        thread_local std::minstd_rand random{std::random_device{}()};
        const int ceiling = 1 << std::min(attempt, 6);
        std::this_thread::sleep_for(std::chrono::microseconds(
            std::uniform_int_distribution<int>(0, ceiling * 1000)(random)));
    }

    bool HasTable(const std::string& name) {
        if (db.backend() == Backend::kPostgres) {
            return db.One<int>("SELECT CASE WHEN to_regclass(?) IS NULL THEN 0 ELSE 1 END", name) ==
                   1;
        }
        return db.One<int>("SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?",
                           name) > 0;
    }

    int Version() {
        if (!HasTable("schema_migrations")) {
            return 0;
        }
        return db.One<int>("SELECT coalesce(max(version), 0) FROM schema_migrations").value();
    }

    Result<void> RequireLatest() {
        const int version = Version();
        if (version > LatestSchemaVersion()) {
            return make_error_code(Errc::kSchemaTooNew);
        }
        if (version < LatestSchemaVersion()) {
            last_error = "schema version " + std::to_string(version) + ", this binary needs " +
                         std::to_string(LatestSchemaVersion());
            return make_error_code(Errc::kNotMigrated);
        }
        return {};
    }
};

}  // namespace cobrador::store
