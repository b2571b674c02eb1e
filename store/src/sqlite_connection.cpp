#include "sqlite_connection.hpp"

#include <chrono>
#include <thread>
#include <utility>

#include <SQLiteCpp/Backup.h>
#include <SQLiteCpp/Exception.h>
#include <SQLiteCpp/Statement.h>
#include <sqlite3.h>

namespace cobrador::store {

namespace {

constexpr int kBusyTimeoutMs = 5000;

// Runs `work`, turning SQLiteCpp's exceptions into the store's.
template <class F>
auto Translate(F&& work) -> decltype(work()) {
    try {
        return work();
    } catch (const SQLite::Exception& e) {
        throw DbError(FromSqlite(e.getErrorCode()), e.what());
    }
}

class SqliteStatement final : public Statement {
public:
    SqliteStatement(SQLite::Database& db, const std::string& sql)
        : statement_(Translate([&] { return SQLite::Statement(db, sql); })) {}

    void BindNull(int index) override {
        Translate([&] { statement_.bind(index); });
    }

    void BindInt64(int index, std::int64_t value) override {
        Translate([&] { statement_.bind(index, value); });
    }

    void BindDouble(int index, double value) override {
        Translate([&] { statement_.bind(index, value); });
    }

    void BindText(int index, std::string_view value) override {
        Translate([&] { statement_.bind(index, std::string(value)); });
    }

    void BindBlob(int index, std::string_view bytes) override {
        Translate([&] {
            statement_.bind(
                index, static_cast<const void*>(bytes.data()), static_cast<int>(bytes.size()));
        });
    }

    bool Step() override {
        return Translate([&] { return statement_.executeStep(); });
    }

    int Exec() override {
        return Translate([&] { return statement_.exec(); });
    }

    bool Reset() override {
        if (statement_.tryReset() != SQLITE_OK) {
            return false;
        }
        try {
            statement_.clearBindings();
        } catch (const SQLite::Exception&) {
            return false;
        }
        return true;
    }

    bool IsNull(int column) override {
        return Translate([&] { return statement_.getColumn(column).isNull(); });
    }

    std::int64_t Int64(int column) override {
        return Translate([&] { return statement_.getColumn(column).getInt64(); });
    }

    double Double(int column) override {
        return Translate([&] { return statement_.getColumn(column).getDouble(); });
    }

    std::string Text(int column) override {
        return Translate([&] { return statement_.getColumn(column).getString(); });
    }

    std::string Blob(int column) override {
        return Translate([&] {
            const SQLite::Column value = statement_.getColumn(column);
            const auto* bytes = static_cast<const char*>(value.getBlob());
            return std::string(bytes == nullptr ? "" : bytes,
                               static_cast<std::size_t>(value.getBytes()));
        });
    }

    bool IsBlob(int column) override {
        return Translate([&] { return statement_.getColumn(column).isBlob(); });
    }

private:
    SQLite::Statement statement_;
};

}  // namespace

Errc FromSqlite(int code) {
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

SqliteConnection::SqliteConnection(SQLite::Database database) : db_(std::move(database)) {}

void SqliteConnection::ExecScript(const std::string& sql) {
    Translate([&] { db_.exec(sql); });
}

bool SqliteConnection::InTransaction() {
    return sqlite3_get_autocommit(db_.getHandle()) == 0;
}

void SqliteConnection::Begin(TxKind kind) {
    ExecScript(kind == TxKind::kRead ? "BEGIN DEFERRED" : "BEGIN IMMEDIATE");
}

void SqliteConnection::Lock(std::vector<std::string> /*keys*/) {
    // SQLite has one writer at a time: a write transaction already excludes every other one.
}

void SqliteConnection::Commit() {
    ExecScript("COMMIT");
}

void SqliteConnection::Rollback() {
    ExecScript("ROLLBACK");
}

SqliteConnection::BackupResult SqliteConnection::BackupTo(const std::string& path) {
    return Translate([&] {
        BackupResult result;
        SQLite::Database copy(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        SQLite::Backup backup(copy, db_);
        // 256 pages (1 MiB) a step, then let writers in: the server stays responsive.
        for (;;) {
            const int rc = backup.executeStep(256);
            if (rc == SQLITE_DONE) {
                break;
            }
            if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
        }
        result.pages = backup.getTotalPageCount();
        result.integrity = copy.execAndGet("PRAGMA integrity_check").getString();
        result.integrity_ok = result.integrity == "ok";
        return result;
    });
}

std::unique_ptr<Statement> SqliteConnection::NewStatement(const std::string& sql) {
    return std::make_unique<SqliteStatement>(db_, sql);
}

std::unique_ptr<Connection> OpenSqlite(const std::string& path, bool create) {
    try {
        // A Ledger is used by one thread at a time (the server's ledger thread), so SQLite's
        // own per-call mutexes are pure cost.
        int flags = SQLite::OPEN_READWRITE | SQLite::OPEN_NOMUTEX;
        if (create) {
            flags |= SQLite::OPEN_CREATE;
        }
        SQLite::Database db(path, flags, kBusyTimeoutMs);
        // WAL: readers never block the writer. synchronous=FULL: a commit is on disk before we
        // tell anyone (a provider's 200) that it is.
        db.exec("PRAGMA journal_mode=WAL");
        db.exec("PRAGMA synchronous=FULL");
        db.exec("PRAGMA foreign_keys=ON");
        // 64 MiB of page cache: a 100,000-account import touches every index page many times.
        db.exec("PRAGMA cache_size=-65536");
        // Checkpoint the WAL into the database every ~40 MiB rather than every 4 MiB: under
        // webhook load a page is rewritten many times between checkpoints and copied once, and
        // the database file is fsync'd less often. The WAL is cut back to 64 MiB afterwards.
        db.exec("PRAGMA wal_autocheckpoint=10000");
        db.exec("PRAGMA journal_size_limit=67108864");
        // Touch the file so that "not a database" shows up here rather than later.
        db.exec("SELECT count(*) FROM sqlite_master");
        return std::make_unique<SqliteConnection>(std::move(db));
    } catch (const SQLite::Exception& e) {
        const Errc code = FromSqlite(e.getErrorCode());
        throw DbError(code == Errc::kInternal ? Errc::kCannotOpen : code, e.what());
    }
}

}  // namespace cobrador::store
