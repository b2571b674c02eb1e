// Ledger::CopyInto: a whole ledger from one backend into another, table by table in the order
// of their foreign keys, ids and all.

#include <array>
#include <set>
#include <string>
#include <vector>

#include "ledger_impl.hpp"

namespace cobrador::store {

namespace {

// Every table of the schema except schema_migrations, parents before children.
constexpr std::array<const char*, 26> kTables = {
    "debtors",
    "imports",
    "agents",
    "accounts",
    "balance_history",
    "conversations",
    "messages",
    "inbound_events",
    "outbox",
    "delivery_statuses",
    "payment_references",
    "payments",
    "promises",
    "payment_plans",
    "plan_installments",
    "contact_preferences",
    "audit_log",
    "notes",
    "reminders",
    "provider_events",
    "payment_reversals",
    "payment_instruments",
    "media",
    "receipts",
    "receipt_checks",
    "cases",
};

std::vector<std::string> Tables(Connection& db) {
    std::vector<std::string> out;
    auto rows = db.backend() == Backend::kPostgres
                    ? db.Query(
                          "SELECT table_name FROM information_schema.tables WHERE table_schema = "
                          "current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name")
                    : db.Query(
                          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                          "'sqlite_%' ORDER BY name");
    while (rows->Step()) {
        out.push_back(rows->Text(0));
    }
    return out;
}

std::int64_t Sum(Connection& db, const char* sql) {
    return db.One<std::int64_t>(sql).value_or(0);
}

}  // namespace

bool CopyReport::Matches() const {
    for (const Table& t : tables) {
        if (t.source_rows != t.target_rows) {
            return false;
        }
    }
    return source_balance_cents == target_balance_cents &&
           source_payment_cents == target_payment_cents;
}

Result<CopyReport> Ledger::CopyInto(Ledger& target, const CopyProgressFn& progress) {
    Impl& from = *impl_;
    Impl& to = *target.impl_;
    // Errors are the target's (LastError() on it), whichever side they came from.
    return to.Guard([&]() -> Result<CopyReport> {
        if (auto ready = from.RequireLatest(); !ready) {
            target.impl_->last_error = "the source: " + from.last_error;
            return ready.error();
        }
        if (auto ready = to.RequireLatest(); !ready) {
            return ready.error();
        }
        // A table the list does not know (a newer migration) would be left behind: refuse.
        const std::set<std::string> known(kTables.begin(), kTables.end());
        for (const std::string& table : Tables(to.db)) {
            // `jobs` says which replica runs what and when: coordination, not records; the
            // target starts with none and its first replica runs every job at once.
            // `reference_transition` is one row that every migrated ledger has: copied below.
            if (table != "schema_migrations" && table != "jobs" &&
                table != "reference_transition" && known.count(table) == 0) {
                to.last_error = "this cobrador does not know how to copy table " + table;
                return make_error_code(Errc::kInternal);
            }
        }
        Tx read(from.db, TxKind::kRead);  // one snapshot of the source
        Tx write(to.db);
        for (const char* table : kTables) {
            const auto rows = to.db.One<std::int64_t>(std::string("SELECT count(*) FROM ") + table);
            if (rows.value_or(0) > 0) {
                to.last_error = std::string("the target is not empty: ") + table + " has " +
                                std::to_string(*rows) +
                                " rows; copy only into an empty, "
                                "migrated database";
                return make_error_code(Errc::kConstraint);
            }
        }
        CopyReport report;
        for (const char* table : kTables) {
            const std::vector<Column> columns = TableColumns(to.db, table);
            std::string names;
            std::string marks;
            for (const Column& column : columns) {
                names += (names.empty() ? "" : ", ") + column.name;
                marks += marks.empty() ? "?" : ", ?";
            }
            Prepared insert = to.db.Prepare(std::string("INSERT INTO ") + table + " (" + names +
                                            ") VALUES (" + marks + ")");
            auto rows = from.db.Query("SELECT " + names + " FROM " + table + " ORDER BY id");
            std::int64_t copied = 0;
            while (rows->Step()) {
                insert->Reset();
                for (int i = 0; i < static_cast<int>(columns.size()); ++i) {
                    // As text: both backends take a number's digits for an integer column.
                    if (rows->IsNull(i)) {
                        insert->BindNull(i + 1);
                    } else if (rows->IsBlob(i)) {
                        insert->BindBlob(i + 1, rows->Blob(i));  // media files
                    } else {
                        insert->BindText(i + 1, rows->Text(i));
                    }
                }
                insert->Exec();
                if (++copied % 10000 == 0 && progress) {
                    progress(table, copied);
                }
            }
            if (progress) {
                progress(table, copied);
            }
            if (to.db.backend() == Backend::kPostgres && copied > 0) {
                // New rows get ids after the copied ones.
                to.db.One<std::int64_t>(std::string("SELECT setval(pg_get_serial_sequence('") +
                                        table + "', 'id'), (SELECT max(id) FROM " + table + "))");
            }
            const std::string count = std::string("SELECT count(*) FROM ") + table;
            report.tables.push_back({table,
                                     from.db.One<std::int64_t>(count).value_or(0),
                                     to.db.One<std::int64_t>(count).value_or(0)});
        }
        // Which accounts still have their Luhn reference accepted, and until when: the
        // source's, not what migrating the empty target said (none).
        auto transition =
            from.db.Query("SELECT last_legacy_account, ends_on FROM reference_transition");
        if (transition->Step()) {
            to.db.Exec("UPDATE reference_transition SET last_legacy_account = ?, ends_on = ?",
                       transition->Int64(0),
                       transition->OptionalText(1));
        }
        constexpr const char* kBalances = "SELECT sum(balance_cents) FROM accounts";
        constexpr const char* kPayments = "SELECT sum(amount_cents) FROM payments";
        report.source_balance_cents = Sum(from.db, kBalances);
        report.target_balance_cents = Sum(to.db, kBalances);
        report.source_payment_cents = Sum(from.db, kPayments);
        report.target_payment_cents = Sum(to.db, kPayments);
        if (!report.Matches()) {
            to.last_error = "the copy does not match the source; nothing was committed";
            return make_error_code(Errc::kInternal);
        }
        write.commit();
        return report;
    });
}

}  // namespace cobrador::store
