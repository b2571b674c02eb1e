#include "store/ledger.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <thread>

#include <SQLiteCpp/Backup.h>
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Exception.h>
#include <SQLiteCpp/Statement.h>
#include <sqlite3.h>

#include "dialogs/calendar.hpp"

#include "audit.hpp"
#include "ledger_impl.hpp"
#include "schema.hpp"

namespace cobrador::store {

namespace {

class LedgerCategoryImpl final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "cobrador.store"; }

    std::string message(int ev) const override {
        switch (static_cast<Errc>(ev)) {
            case Errc::kCannotOpen:
                return "the database file cannot be opened";
            case Errc::kSchemaTooNew:
                return "the database was written by a newer cobrador";
            case Errc::kNotMigrated:
                return "the database schema is not up to date; run 'cobrador migrate'";
            case Errc::kBusy:
                return "the database is busy (locked by another writer)";
            case Errc::kIo:
                return "the database could not be written (disk full or I/O error)";
            case Errc::kCorrupt:
                return "the file is not a cobrador database or is damaged";
            case Errc::kConstraint:
                return "the change breaks a rule of the ledger";
            case Errc::kInternal:
                return "internal database error";
        }
        return "unknown ledger error";
    }
};

constexpr int kBusyTimeoutMs = 5000;

std::optional<std::string> OptionalText(const SQLite::Column& column) {
    if (column.isNull()) {
        return std::nullopt;
    }
    return column.getString();
}

}  // namespace

const boost::system::error_category& LedgerCategory() {
    static const LedgerCategoryImpl category;
    return category;
}

Ledger::Ledger(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Ledger::Ledger(Ledger&&) noexcept = default;
Ledger& Ledger::operator=(Ledger&&) noexcept = default;
Ledger::~Ledger() = default;

Result<Ledger> Ledger::Open(const std::string& path, OpenMode mode) {
    try {
        // A Ledger is used by one thread at a time (the server's ledger thread), so SQLite's
        // own per-call mutexes are pure cost.
        int flags = SQLite::OPEN_READWRITE | SQLite::OPEN_NOMUTEX;
        if (mode == OpenMode::kReadWriteCreate) {
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
        return Ledger(std::make_unique<Impl>(std::move(db)));
    } catch (const SQLite::Exception& e) {
        const Errc code = FromSqlite(e.getErrorCode());
        return make_error_code(code == Errc::kInternal ? Errc::kCannotOpen : code);
    }
}

int Ledger::LatestSchemaVersion() {
    return Migrations().back().version;
}

const std::string& Ledger::LastError() const {
    return impl_->last_error;
}

Result<void> Ledger::InOneTransaction(const std::function<void()>& work) {
    return impl_->Guard([&]() -> Result<void> {
        Tx tx(impl_->db);
        work();
        if (!InTransaction()) {
            // SQLite gave up the transaction on an I/O error part-way: nothing is durable.
            impl_->last_error = "the group transaction was rolled back by SQLite";
            return make_error_code(Errc::kIo);
        }
        tx.commit();
        return {};
    });
}

bool Ledger::InTransaction() const {
    return impl_->db.InTransaction();
}

Result<int> Ledger::SchemaVersion() {
    return impl_->Guard([&]() -> Result<int> { return impl_->Version(); });
}

Result<std::vector<int>> Ledger::Migrate(int target) {
    return impl_->Guard([&]() -> Result<std::vector<int>> {
        std::vector<int> applied;
        impl_->db.raw().exec(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
        for (const Migration& migration : Migrations()) {
            if (migration.version > target) {
                break;
            }
            Tx tx(impl_->db);
            // Checked inside the write transaction: two `migrate` runs at once apply each
            // version exactly once.
            const int current = impl_->Version();
            if (current > LatestSchemaVersion()) {
                return make_error_code(Errc::kSchemaTooNew);
            }
            if (migration.version <= current) {
                continue;
            }
            impl_->db.raw().exec(migration.sql);
            impl_->db.Exec(
                "INSERT INTO schema_migrations (version, name, applied_at) "
                "VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
                migration.version,
                migration.name);
            tx.commit();
            applied.push_back(migration.version);
        }
        if (applied.empty() && impl_->Version() > LatestSchemaVersion()) {
            return make_error_code(Errc::kSchemaTooNew);
        }
        return applied;
    });
}

Result<void> Ledger::CheckReady() {
    return impl_->Guard([&] { return impl_->RequireLatest(); });
}

Result<ImportSummary> Ledger::ImportPortfolio(const std::vector<PortfolioRow>& rows,
                                              std::string_view source_name,
                                              std::string_view now,
                                              const WriteProgressFn& progress) {
    return impl_->Guard([&]() -> Result<ImportSummary> {
        if (auto ready = impl_->RequireLatest(); !ready) {
            return ready.error();
        }
        Connection& db = impl_->db;
        const std::string at(now);
        Tx tx(db);
        ImportSummary summary;

        db.Exec(
            "INSERT INTO imports (kind, source_name, rows_read, inserted, updated, unchanged, "
            "imported_at) VALUES ('portfolio', ?, ?, 0, 0, 0, ?)",
            source_name,
            static_cast<std::int64_t>(rows.size()),
            at);
        summary.import_id = db.LastInsertRowid();

        Prepared find_debtor = db.Prepare(
            "SELECT id, name, phone, birth_date, locale, timezone, coalesce(email, '') "
            "FROM debtors WHERE debtor_key = ?");
        Prepared insert_debtor = db.Prepare(
            "INSERT INTO debtors (debtor_key, name, phone, birth_date, locale, timezone, email, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, nullif(?, ''), ?, ?)");
        Prepared update_debtor = db.Prepare(
            "UPDATE debtors SET name = ?, phone = ?, birth_date = ?, locale = ?, timezone = ?, "
            "email = nullif(?, ''), updated_at = ? WHERE id = ?");
        Prepared find_account = db.Prepare(
            "SELECT id, debtor_id, balance_cents, currency, due_date, min_payment_cents, segment, "
            "product FROM accounts WHERE account_key = ?");
        Prepared insert_account = db.Prepare(
            "INSERT INTO accounts (account_key, debtor_id, balance_cents, currency, due_date, "
            "min_payment_cents, segment, product, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        Prepared update_account = db.Prepare(
            "UPDATE accounts SET debtor_id = ?, balance_cents = ?, currency = ?, due_date = ?, "
            "min_payment_cents = ?, segment = ?, product = ?, updated_at = ? WHERE id = ?");
        Prepared insert_history = db.Prepare(
            "INSERT INTO balance_history (account_id, balance_cents, due_date, source, source_id, "
            "recorded_at) VALUES (?, ?, ?, 'import', ?, ?)");

        // Debtors first, each once (rows of one debtor agree: the parser checked).
        std::map<std::string, std::int64_t, std::less<>> debtor_ids;
        for (const PortfolioRow& row : rows) {
            if (debtor_ids.count(row.debtor_id) != 0) {
                continue;
            }
            find_debtor.Bind(row.debtor_id);
            if (find_debtor->executeStep()) {
                const std::int64_t id = find_debtor->getColumn(0).getInt64();
                const bool same = find_debtor->getColumn(1).getString() == row.debtor_name &&
                                  find_debtor->getColumn(2).getString() == row.phone &&
                                  find_debtor->getColumn(3).getString() == row.birth_date &&
                                  find_debtor->getColumn(4).getString() == row.locale &&
                                  find_debtor->getColumn(5).getString() == row.timezone &&
                                  find_debtor->getColumn(6).getString() == row.email;
                if (!same) {
                    update_debtor.Exec(row.debtor_name,
                                       row.phone,
                                       row.birth_date,
                                       row.locale,
                                       row.timezone,
                                       row.email,
                                       at,
                                       id);
                    ++summary.debtors_updated;
                }
                debtor_ids.emplace(row.debtor_id, id);
            } else {
                insert_debtor.Exec(row.debtor_id,
                                   row.debtor_name,
                                   row.phone,
                                   row.birth_date,
                                   row.locale,
                                   row.timezone,
                                   row.email,
                                   at,
                                   at);
                debtor_ids.emplace(row.debtor_id, db.LastInsertRowid());
                ++summary.debtors_inserted;
            }
        }

        std::size_t done = 0;
        for (const PortfolioRow& row : rows) {
            const std::int64_t debtor_id = debtor_ids.at(row.debtor_id);
            std::int64_t account_id = 0;
            bool balance_changed = false;
            find_account.Bind(row.account_id);
            if (find_account->executeStep()) {
                account_id = find_account->getColumn(0).getInt64();
                const auto old_min = OptionalText(find_account->getColumn(5));
                const std::optional<std::string> new_min =
                    row.min_payment_cents ? std::optional(std::to_string(*row.min_payment_cents))
                                          : std::nullopt;
                balance_changed = find_account->getColumn(2).getInt64() != row.balance_cents ||
                                  find_account->getColumn(4).getString() != row.due_date;
                const bool same =
                    !balance_changed && find_account->getColumn(1).getInt64() == debtor_id &&
                    find_account->getColumn(3).getString() == row.currency && old_min == new_min &&
                    find_account->getColumn(6).getString() == row.segment &&
                    find_account->getColumn(7).getString() == row.product;
                if (same) {
                    ++summary.accounts_unchanged;
                } else {
                    update_account.Exec(debtor_id,
                                        static_cast<std::int64_t>(row.balance_cents),
                                        row.currency,
                                        row.due_date,
                                        row.min_payment_cents,
                                        row.segment,
                                        row.product,
                                        at,
                                        account_id);
                    ++summary.accounts_updated;
                    if (balance_changed) {
                        ++summary.balances_changed;
                    }
                }
            } else {
                insert_account.Exec(row.account_id,
                                    debtor_id,
                                    static_cast<std::int64_t>(row.balance_cents),
                                    row.currency,
                                    row.due_date,
                                    row.min_payment_cents,
                                    row.segment,
                                    row.product,
                                    at,
                                    at);
                account_id = db.LastInsertRowid();
                balance_changed = true;
                ++summary.accounts_inserted;
            }
            if (balance_changed) {
                insert_history.Exec(account_id,
                                    static_cast<std::int64_t>(row.balance_cents),
                                    row.due_date,
                                    summary.import_id,
                                    at);
            }
            ++done;
            if (progress && done % kProgressEvery == 0) {
                progress(done, rows.size());
            }
        }

        db.Exec("UPDATE imports SET inserted = ?, updated = ?, unchanged = ? WHERE id = ?",
                static_cast<std::int64_t>(summary.accounts_inserted),
                static_cast<std::int64_t>(summary.accounts_updated),
                static_cast<std::int64_t>(summary.accounts_unchanged),
                summary.import_id);

        WriteAudit(db,
                   {.actor = "import", .kind = "portfolio_imported"},
                   at,
                   "json_object('import_id', ?, 'accounts_inserted', ?, 'accounts_updated', ?)",
                   summary.import_id,
                   static_cast<std::int64_t>(summary.accounts_inserted),
                   static_cast<std::int64_t>(summary.accounts_updated));

        tx.commit();
        return summary;
    });
}

Result<std::int64_t> Ledger::AddAgent(std::string_view name,
                                      std::string_view role,
                                      std::string_view token_sha256,
                                      std::string_view now) {
    return impl_->Guard([&]() -> Result<std::int64_t> {
        if (auto ready = impl_->RequireLatest(); !ready) {
            return ready.error();
        }
        Tx tx(impl_->db);
        impl_->db.Exec(
            "INSERT INTO agents (name, role, token_sha256, created_at) VALUES (?, ?, ?, ?)",
            name,
            role,
            token_sha256,
            now);
        const std::int64_t id = impl_->db.LastInsertRowid();
        WriteAudit(impl_->db,
                   {.actor = "system", .kind = "agent_added"},
                   std::string(now),
                   "json_object('agent_id', ?, 'role', ?)",
                   id,
                   role);
        tx.commit();
        return id;
    });
}

Result<std::int64_t> Ledger::Backup(const std::string& destination) {
    namespace fs = std::filesystem;
    std::error_code exists_error;
    if (destination.empty() || fs::exists(destination, exists_error)) {
        impl_->last_error = destination + " already exists; a backup never overwrites a file";
        return make_error_code(Errc::kCannotOpen);
    }
    const std::string partial = destination + ".partial";
    std::remove(partial.c_str());
    auto result = impl_->Guard([&]() -> Result<std::int64_t> {
        std::int64_t pages = 0;
        {
            SQLite::Database copy(partial, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
            SQLite::Backup backup(copy, impl_->db.raw());
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
            pages = backup.getTotalPageCount();
            const std::string check = copy.execAndGet("PRAGMA integrity_check").getString();
            if (check != "ok") {
                impl_->last_error = "the copy failed its integrity check: " + check;
                return make_error_code(Errc::kCorrupt);
            }
        }
        std::error_code rename_error;
        fs::rename(partial, destination, rename_error);
        if (rename_error) {
            impl_->last_error = "cannot move the copy into place: " + rename_error.message();
            return make_error_code(Errc::kIo);
        }
        return pages;
    });
    if (!result) {
        std::remove(partial.c_str());
    }
    return result;
}

}  // namespace cobrador::store
