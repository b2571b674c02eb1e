#include "store/ledger.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <thread>

#include "dialogs/calendar.hpp"

#include "audit.hpp"
#include "ledger_impl.hpp"
#include "schema.hpp"
#include "sqlite_connection.hpp"

namespace cobrador::store {

namespace {

// The advisory lock `migrate` holds on PostgreSQL ("cobrador" in ASCII).
constexpr std::int64_t kMigrationLockKey = 0x636f627261646f72;

class LedgerCategoryImpl final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "cobrador.store"; }

    std::string message(int ev) const override {
        switch (static_cast<Errc>(ev)) {
            case Errc::kCannotOpen:
                return "the database cannot be opened";
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
            case Errc::kUnsupported:
                return "this works only on an SQLite ledger";
            case Errc::kInternal:
                return "internal database error";
            case Errc::kLeaseLost:
                return "another sender took this outbox row over; nothing recorded";
            case Errc::kMissing:
                return "the ledger does not exist";
        }
        return "unknown ledger error";
    }
};

}  // namespace

const boost::system::error_category& LedgerCategory() {
    static const LedgerCategoryImpl category;
    return category;
}

Ledger::Ledger(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Ledger::Ledger(Ledger&&) noexcept = default;
Ledger& Ledger::operator=(Ledger&&) noexcept = default;
Ledger::~Ledger() = default;

Result<Ledger> Ledger::Open(const std::string& target, OpenMode mode, std::string* reason) {
    // A mistyped path must not become a new, empty ledger. (A path that cannot be checked,
    // say for want of permission, is left to the open to explain.)
    std::error_code missing;
    if (mode == OpenMode::kReadWrite && !IsPostgresTarget(target) && target != ":memory:" &&
        !target.starts_with("file:") && !std::filesystem::exists(target, missing) && !missing) {
        return make_error_code(Errc::kMissing);
    }
    try {
        return Ledger(
            std::make_unique<Impl>(OpenConnection(target, mode == OpenMode::kReadWriteCreate)));
    } catch (const DbError& e) {
        if (reason != nullptr) {
            *reason = e.what();
        }
        const Errc code = e.code() == Errc::kInternal ? Errc::kCannotOpen : e.code();
        return make_error_code(code);
    }
}

bool Ledger::IsPostgres(const std::string& target) {
    return IsPostgresTarget(target);
}

std::string Ledger::Describe(const std::string& target) {
    return RedactTarget(target);
}

bool Ledger::GroupsCommits() const {
    return impl_->db.backend() == Backend::kSqlite;
}

int Ledger::LatestSchemaVersion() {
    return Migrations().back().version;
}

const std::string& Ledger::LastError() const {
    return impl_->last_error;
}

Result<void> Ledger::InOneTransaction(const std::function<void()>& work) {
    return impl_->Guard([&]() -> Result<void> {
        Connection& db = impl_->db;
        db.TakeAbandoned();
        Tx tx(db);
        work();
        if (!InTransaction()) {
            // SQLite gave up the transaction on an I/O error part-way: nothing is durable.
            impl_->last_error = "the group transaction was rolled back by SQLite";
            return make_error_code(Errc::kIo);
        }
        if (db.TakeAbandoned() || db.TransactionFailed()) {
            // PostgreSQL: a call inside failed, and without savepoints its half-done writes
            // cannot be told from the rest. Nothing of the group is kept.
            impl_->last_error = "a call in the group failed; the group was rolled back";
            return make_error_code(Errc::kBusy);
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
        Connection& db = impl_->db;
        const bool postgres = db.backend() == Backend::kPostgres;
        db.ExecScript(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
        for (const Migration& migration : Migrations()) {
            if (migration.version > target) {
                break;
            }
            Tx tx(db);
            if (postgres) {
                // PostgreSQL's DDL is transactional but not serialized by SERIALIZABLE: two
                // `migrate` runs (two replicas starting) queue on one lock instead.
                db.One<std::string>("SELECT pg_advisory_xact_lock(?)::text", kMigrationLockKey);
            }
            // Checked inside the write transaction: two `migrate` runs at once apply each
            // version exactly once.
            const int current = impl_->Version();
            if (current > LatestSchemaVersion()) {
                return make_error_code(Errc::kSchemaTooNew);
            }
            if (migration.version <= current) {
                continue;
            }
            db.ExecScript(postgres ? PostgresMigrationSql(migration) : migration.sql);
            db.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    migration.version,
                    migration.name,
                    dialogs::FormatIsoInstant(std::chrono::floor<std::chrono::seconds>(
                        std::chrono::system_clock::now())));
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

        summary.import_id = db.Insert(
            "INSERT INTO imports (kind, source_name, rows_read, inserted, updated, unchanged, "
            "imported_at) VALUES ('portfolio', ?, ?, 0, 0, 0, ?) RETURNING id",
            source_name,
            static_cast<std::int64_t>(rows.size()),
            at);

        Prepared find_debtor = db.Prepare(
            "SELECT id, name, phone, birth_date, locale, timezone, coalesce(email, '') "
            "FROM debtors WHERE debtor_key = ?");
        Prepared insert_debtor = db.Prepare(
            "INSERT INTO debtors (debtor_key, name, phone, birth_date, locale, timezone, email, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, nullif(?, ''), ?, ?) RETURNING id");
        Prepared update_debtor = db.Prepare(
            "UPDATE debtors SET name = ?, phone = ?, birth_date = ?, locale = ?, timezone = ?, "
            "email = nullif(?, ''), updated_at = ? WHERE id = ?");
        Prepared find_account = db.Prepare(
            "SELECT id, debtor_id, balance_cents, currency, due_date, min_payment_cents, segment, "
            "product FROM accounts WHERE account_key = ?");
        Prepared insert_account = db.Prepare(
            "INSERT INTO accounts (account_key, debtor_id, balance_cents, currency, due_date, "
            "min_payment_cents, segment, product, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");
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
            if (find_debtor->Step()) {
                const std::int64_t id = find_debtor->Int64(0);
                const bool same =
                    find_debtor->Text(1) == row.debtor_name && find_debtor->Text(2) == row.phone &&
                    find_debtor->Text(3) == row.birth_date && find_debtor->Text(4) == row.locale &&
                    find_debtor->Text(5) == row.timezone && find_debtor->Text(6) == row.email;
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
                const auto new_id = insert_debtor.Returning(row.debtor_id,
                                                            row.debtor_name,
                                                            row.phone,
                                                            row.birth_date,
                                                            row.locale,
                                                            row.timezone,
                                                            row.email,
                                                            at,
                                                            at);
                debtor_ids.emplace(row.debtor_id, new_id.value());
                ++summary.debtors_inserted;
            }
        }

        std::size_t done = 0;
        for (const PortfolioRow& row : rows) {
            const std::int64_t debtor_id = debtor_ids.at(row.debtor_id);
            std::int64_t account_id = 0;
            bool balance_changed = false;
            find_account.Bind(row.account_id);
            if (find_account->Step()) {
                account_id = find_account->Int64(0);
                const auto old_min = find_account->OptionalText(5);
                const std::optional<std::string> new_min =
                    row.min_payment_cents ? std::optional(std::to_string(*row.min_payment_cents))
                                          : std::nullopt;
                balance_changed = find_account->Int64(2) != row.balance_cents ||
                                  find_account->Text(4) != row.due_date;
                const bool same = !balance_changed && find_account->Int64(1) == debtor_id &&
                                  find_account->Text(3) == row.currency && old_min == new_min &&
                                  find_account->Text(6) == row.segment &&
                                  find_account->Text(7) == row.product;
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
                account_id = insert_account
                                 .Returning(row.account_id,
                                            debtor_id,
                                            static_cast<std::int64_t>(row.balance_cents),
                                            row.currency,
                                            row.due_date,
                                            row.min_payment_cents,
                                            row.segment,
                                            row.product,
                                            at,
                                            at)
                                 .value();
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
                   AuditDetail("import_id",
                               summary.import_id,
                               "accounts_inserted",
                               summary.accounts_inserted,
                               "accounts_updated",
                               summary.accounts_updated));

        tx.commit();
        return summary;
    });
}

Result<std::int64_t> Ledger::AddAgent(std::string_view name,
                                      std::string_view role,
                                      std::string_view token_sha256,
                                      std::string_view now,
                                      std::optional<std::string> expires_on,
                                      std::optional<std::int64_t> by) {
    return impl_->Guard([&]() -> Result<std::int64_t> {
        if (auto ready = impl_->RequireLatest(); !ready) {
            return ready.error();
        }
        Tx tx(impl_->db);
        const std::int64_t id = impl_->db.Insert(
            "INSERT INTO agents (name, role, token_sha256, created_at, expires_on) VALUES (?, ?, "
            "?, "
            "?, ?) RETURNING id",
            name,
            role,
            token_sha256,
            now,
            expires_on);
        WriteAudit(impl_->db,
                   {.actor = by ? "agent:" + std::to_string(*by) : "system", .kind = "agent_added"},
                   std::string(now),
                   AuditDetail("agent_id", id, "role", role));
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
    auto* sqlite = dynamic_cast<SqliteConnection*>(&impl_->db);
    if (sqlite == nullptr) {
        impl_->last_error =
            "backup copies an SQLite ledger file; back up PostgreSQL with pg_dump or "
            "pg_basebackup (docs/operations.md)";
        return make_error_code(Errc::kUnsupported);
    }
    auto result = impl_->Guard([&]() -> Result<std::int64_t> {
        const auto copied = sqlite->BackupTo(partial);
        if (!copied.integrity_ok) {
            impl_->last_error = "the copy failed its integrity check: " + copied.integrity;
            return make_error_code(Errc::kCorrupt);
        }
        const std::int64_t pages = copied.pages;
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
