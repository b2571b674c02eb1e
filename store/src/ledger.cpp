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

#include "ledger_impl.hpp"
#include "schema.hpp"
#include "statement_cache.hpp"

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
    return sqlite3_get_autocommit(impl_->db.getHandle()) == 0;
}

Result<int> Ledger::SchemaVersion() {
    return impl_->Guard([&]() -> Result<int> { return impl_->Version(); });
}

Result<std::vector<int>> Ledger::Migrate(int target) {
    return impl_->Guard([&]() -> Result<std::vector<int>> {
        std::vector<int> applied;
        impl_->db.exec(
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
            impl_->db.exec(migration.sql);
            Prepared record_lease(impl_->db,
                                  "INSERT INTO schema_migrations (version, name, applied_at) "
                                  "VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))");
            SQLite::Statement& record = *record_lease;
            record.bind(1, migration.version);
            record.bind(2, migration.name);
            record.exec();
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
        SQLite::Database& db = impl_->db;
        const std::string at(now);
        Tx tx(db);
        ImportSummary summary;

        Prepared create_import_lease(
            db,
            "INSERT INTO imports (kind, source_name, rows_read, inserted, updated, unchanged, "
            "imported_at) VALUES ('portfolio', ?, ?, 0, 0, 0, ?)");
        SQLite::Statement& create_import = *create_import_lease;
        create_import.bind(1, std::string(source_name));
        create_import.bind(2, static_cast<std::int64_t>(rows.size()));
        create_import.bind(3, at);
        create_import.exec();
        summary.import_id = db.getLastInsertRowid();

        Prepared find_debtor_lease(
            db,
            "SELECT id, name, phone, birth_date, locale, timezone, coalesce(email, '') "
            "FROM debtors WHERE debtor_key = ?");
        SQLite::Statement& find_debtor = *find_debtor_lease;
        Prepared insert_debtor_lease(
            db,
            "INSERT INTO debtors (debtor_key, name, phone, birth_date, locale, timezone, email, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, nullif(?, ''), ?, ?)");
        SQLite::Statement& insert_debtor = *insert_debtor_lease;
        Prepared update_debtor_lease(
            db,
            "UPDATE debtors SET name = ?, phone = ?, birth_date = ?, locale = ?, timezone = ?, "
            "email = nullif(?, ''), updated_at = ? WHERE id = ?");
        SQLite::Statement& update_debtor = *update_debtor_lease;
        Prepared find_account_lease(
            db,
            "SELECT id, debtor_id, balance_cents, currency, due_date, min_payment_cents, segment, "
            "product FROM accounts WHERE account_key = ?");
        SQLite::Statement& find_account = *find_account_lease;
        Prepared insert_account_lease(
            db,
            "INSERT INTO accounts (account_key, debtor_id, balance_cents, currency, due_date, "
            "min_payment_cents, segment, product, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        SQLite::Statement& insert_account = *insert_account_lease;
        Prepared update_account_lease(
            db,
            "UPDATE accounts SET debtor_id = ?, balance_cents = ?, currency = ?, due_date = ?, "
            "min_payment_cents = ?, segment = ?, product = ?, updated_at = ? WHERE id = ?");
        SQLite::Statement& update_account = *update_account_lease;
        Prepared insert_history_lease(
            db,
            "INSERT INTO balance_history (account_id, balance_cents, due_date, source, source_id, "
            "recorded_at) VALUES (?, ?, ?, 'import', ?, ?)");
        SQLite::Statement& insert_history = *insert_history_lease;

        const auto bind_min_payment = [](SQLite::Statement& st, int index, const auto& cents) {
            if (cents) {
                st.bind(index, static_cast<std::int64_t>(*cents));
            } else {
                st.bind(index);
            }
        };

        // Debtors first, each once (rows of one debtor agree: the parser checked).
        std::map<std::string, std::int64_t, std::less<>> debtor_ids;
        for (const PortfolioRow& row : rows) {
            if (debtor_ids.count(row.debtor_id) != 0) {
                continue;
            }
            find_debtor.reset();
            find_debtor.bind(1, row.debtor_id);
            if (find_debtor.executeStep()) {
                const std::int64_t id = find_debtor.getColumn(0).getInt64();
                const bool same = find_debtor.getColumn(1).getString() == row.debtor_name &&
                                  find_debtor.getColumn(2).getString() == row.phone &&
                                  find_debtor.getColumn(3).getString() == row.birth_date &&
                                  find_debtor.getColumn(4).getString() == row.locale &&
                                  find_debtor.getColumn(5).getString() == row.timezone &&
                                  find_debtor.getColumn(6).getString() == row.email;
                if (!same) {
                    update_debtor.reset();
                    update_debtor.bind(1, row.debtor_name);
                    update_debtor.bind(2, row.phone);
                    update_debtor.bind(3, row.birth_date);
                    update_debtor.bind(4, row.locale);
                    update_debtor.bind(5, row.timezone);
                    update_debtor.bind(6, row.email);
                    update_debtor.bind(7, at);
                    update_debtor.bind(8, id);
                    update_debtor.exec();
                    ++summary.debtors_updated;
                }
                debtor_ids.emplace(row.debtor_id, id);
            } else {
                insert_debtor.reset();
                insert_debtor.bind(1, row.debtor_id);
                insert_debtor.bind(2, row.debtor_name);
                insert_debtor.bind(3, row.phone);
                insert_debtor.bind(4, row.birth_date);
                insert_debtor.bind(5, row.locale);
                insert_debtor.bind(6, row.timezone);
                insert_debtor.bind(7, row.email);
                insert_debtor.bind(8, at);
                insert_debtor.bind(9, at);
                insert_debtor.exec();
                debtor_ids.emplace(row.debtor_id, db.getLastInsertRowid());
                ++summary.debtors_inserted;
            }
        }

        std::size_t done = 0;
        for (const PortfolioRow& row : rows) {
            const std::int64_t debtor_id = debtor_ids.at(row.debtor_id);
            std::int64_t account_id = 0;
            bool balance_changed = false;
            find_account.reset();
            find_account.bind(1, row.account_id);
            if (find_account.executeStep()) {
                account_id = find_account.getColumn(0).getInt64();
                const auto old_min = OptionalText(find_account.getColumn(5));
                const std::optional<std::string> new_min =
                    row.min_payment_cents ? std::optional(std::to_string(*row.min_payment_cents))
                                          : std::nullopt;
                balance_changed = find_account.getColumn(2).getInt64() != row.balance_cents ||
                                  find_account.getColumn(4).getString() != row.due_date;
                const bool same =
                    !balance_changed && find_account.getColumn(1).getInt64() == debtor_id &&
                    find_account.getColumn(3).getString() == row.currency && old_min == new_min &&
                    find_account.getColumn(6).getString() == row.segment &&
                    find_account.getColumn(7).getString() == row.product;
                if (same) {
                    ++summary.accounts_unchanged;
                } else {
                    update_account.reset();
                    update_account.bind(1, debtor_id);
                    update_account.bind(2, static_cast<std::int64_t>(row.balance_cents));
                    update_account.bind(3, row.currency);
                    update_account.bind(4, row.due_date);
                    bind_min_payment(update_account, 5, row.min_payment_cents);
                    update_account.bind(6, row.segment);
                    update_account.bind(7, row.product);
                    update_account.bind(8, at);
                    update_account.bind(9, account_id);
                    update_account.exec();
                    ++summary.accounts_updated;
                    if (balance_changed) {
                        ++summary.balances_changed;
                    }
                }
            } else {
                insert_account.reset();
                insert_account.bind(1, row.account_id);
                insert_account.bind(2, debtor_id);
                insert_account.bind(3, static_cast<std::int64_t>(row.balance_cents));
                insert_account.bind(4, row.currency);
                insert_account.bind(5, row.due_date);
                bind_min_payment(insert_account, 6, row.min_payment_cents);
                insert_account.bind(7, row.segment);
                insert_account.bind(8, row.product);
                insert_account.bind(9, at);
                insert_account.bind(10, at);
                insert_account.exec();
                account_id = db.getLastInsertRowid();
                balance_changed = true;
                ++summary.accounts_inserted;
            }
            if (balance_changed) {
                insert_history.reset();
                insert_history.bind(1, account_id);
                insert_history.bind(2, static_cast<std::int64_t>(row.balance_cents));
                insert_history.bind(3, row.due_date);
                insert_history.bind(4, summary.import_id);
                insert_history.bind(5, at);
                insert_history.exec();
            }
            ++done;
            if (progress && done % kProgressEvery == 0) {
                progress(done, rows.size());
            }
        }

        Prepared finish_import_lease(
            db, "UPDATE imports SET inserted = ?, updated = ?, unchanged = ? WHERE id = ?");
        SQLite::Statement& finish_import = *finish_import_lease;
        finish_import.bind(1, static_cast<std::int64_t>(summary.accounts_inserted));
        finish_import.bind(2, static_cast<std::int64_t>(summary.accounts_updated));
        finish_import.bind(3, static_cast<std::int64_t>(summary.accounts_unchanged));
        finish_import.bind(4, summary.import_id);
        finish_import.exec();

        Prepared audit_lease(db,
                             "INSERT INTO audit_log (at, actor, kind, detail) VALUES "
                             "(?, 'import', 'portfolio_imported', json_object('import_id', ?, "
                             "'accounts_inserted', ?, 'accounts_updated', ?))");
        SQLite::Statement& audit = *audit_lease;
        audit.bind(1, at);
        audit.bind(2, summary.import_id);
        audit.bind(3, static_cast<std::int64_t>(summary.accounts_inserted));
        audit.bind(4, static_cast<std::int64_t>(summary.accounts_updated));
        audit.exec();

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
        Prepared insert_lease(
            impl_->db,
            "INSERT INTO agents (name, role, token_sha256, created_at) VALUES (?, ?, ?, ?)");
        SQLite::Statement& insert = *insert_lease;
        insert.bind(1, std::string(name));
        insert.bind(2, std::string(role));
        insert.bind(3, std::string(token_sha256));
        insert.bind(4, std::string(now));
        insert.exec();
        const std::int64_t id = impl_->db.getLastInsertRowid();
        Prepared audit_lease(impl_->db,
                             "INSERT INTO audit_log (at, actor, kind, detail) VALUES "
                             "(?, 'system', 'agent_added', json_object('agent_id', ?, "
                             "'role', ?))");
        SQLite::Statement& audit = *audit_lease;
        audit.bind(1, std::string(now));
        audit.bind(2, id);
        audit.bind(3, std::string(role));
        audit.exec();
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
            SQLite::Backup backup(copy, impl_->db);
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
