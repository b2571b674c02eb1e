#pragma once
// Private to the store: the Ledger's state (its connection), SQLite's error codes as Errc
// values, and the nesting transaction; shared by the files that implement the Ledger.

#include <string>
#include <type_traits>
#include <utility>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Exception.h>
#include <sqlite3.h>

#include "store/ledger.hpp"

#include "connection.hpp"

namespace cobrador::store {

inline Errc FromSqlite(int code) {
    switch (code & 0xff) {
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            return Errc::kBusy;
        case SQLITE_FULL:
        case SQLITE_IOERR:
        case SQLITE_READONLY:
            return Errc::kIo;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
            return Errc::kCorrupt;
        case SQLITE_CANTOPEN:
        case SQLITE_PERM:
            return Errc::kCannotOpen;
        case SQLITE_CONSTRAINT:
            return Errc::kConstraint;
        default:
            return Errc::kInternal;
    }
}

// A transaction that nests: on a connection with no transaction open it is BEGIN ... COMMIT;
// inside one (a group commit, Ledger::InOneTransaction) it is a savepoint, so a failure undoes
// only its own writes and the outer transaction decides what becomes durable. Destroyed
// without commit(): rolled back.
class Tx {
public:
    enum class Behavior { kDeferred, kImmediate };

    explicit Tx(Connection& db, Behavior behavior = Behavior::kImmediate)
        : db_(db), nested_(db.InTransaction()) {
        if (nested_) {
            db_.raw().exec("SAVEPOINT cobrador_tx");
        } else {
            db_.raw().exec(behavior == Behavior::kImmediate ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED");
        }
    }

    Tx(const Tx&) = delete;
    Tx& operator=(const Tx&) = delete;

    ~Tx() {
        if (done_) {
            return;
        }
        try {
            // An I/O or full-disk error may already have rolled the whole transaction back.
            if (db_.InTransaction()) {
                db_.raw().exec(nested_ ? "ROLLBACK TO cobrador_tx; RELEASE cobrador_tx"
                                       : "ROLLBACK");
            }
        } catch (...) {  // NOLINT(bugprone-empty-catch): nothing more to undo
        }
    }

    void commit() {
        db_.raw().exec(nested_ ? "RELEASE cobrador_tx" : "COMMIT");
        done_ = true;
    }

private:
    Connection& db_;
    bool nested_;
    bool done_ = false;
};

struct Ledger::Impl {
    Connection db;
    std::string last_error;

    explicit Impl(SQLite::Database database) : db(std::move(database)) {}

    // Runs `work` (which returns a Result), turning SQLite's exceptions into Errc values at
    // the module's edge.
    template <class F>
    auto Guard(F&& work) -> decltype(work()) {
        try {
            return work();
        } catch (const SQLite::Exception& e) {
            last_error = e.what();
            return make_error_code(FromSqlite(e.getErrorCode()));
        }
    }

    int Version() {
        if (db.One<int>("SELECT count(*) FROM sqlite_master WHERE type='table' AND "
                        "name='schema_migrations'") == 0) {
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
