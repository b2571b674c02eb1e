// Disputes, complaints and privacy requests (docs/cases.md): opening a case (from the chat, in
// the dialog's transaction, or by a collector), the open cases oldest due first, closing one
// with a written resolution that is sent to the debtor and kept, the month's report for the
// regulator, and everything held about one debtor (an access request).

#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "dialogs/calendar.hpp"
#include "dialogs/contact.hpp"
#include "dialogs/vocabulary.hpp"
#include "store/cases.hpp"

#include "audit.hpp"
#include "case_rows.hpp"
#include "ledger_impl.hpp"
#include "proactive.hpp"

namespace cobrador::store {

namespace {

constexpr const char* kCaseColumns =
    "k.id, coalesce(k.folio, ''), k.kind, k.category, k.debtor_id, d.name, d.phone, "
    "a.account_key, k.conversation_id, k.opened_by_agent, k.description, k.opened_at, "
    "k.due_date, k.status, k.outcome, k.resolution, k.closed_at, k.closed_by, o.name, c.name "
    "FROM cases k JOIN debtors d ON d.id = k.debtor_id LEFT JOIN accounts a ON a.id = "
    "k.account_id LEFT JOIN agents o ON o.id = k.opened_by_agent LEFT JOIN agents c ON c.id = "
    "k.closed_by";

std::optional<std::int64_t> OptionalInt(Statement& q, int column) {
    return q.IsNull(column) ? std::nullopt : std::optional<std::int64_t>(q.Int64(column));
}

CaseRecord ReadCase(Statement& q) {
    CaseRecord c;
    c.id = q.Int64(0);
    c.folio = q.Text(1);
    c.kind = q.Text(2);
    c.category = q.Text(3);
    c.debtor_id = q.Int64(4);
    c.debtor_name = q.Text(5);
    c.phone = q.Text(6);
    c.account_id = q.OptionalText(7);
    c.conversation_id = OptionalInt(q, 8);
    c.opened_by_agent = OptionalInt(q, 9);
    c.description = q.Text(10);
    c.opened_at = q.Text(11);
    c.due_date = q.Text(12);
    c.status = q.Text(13);
    c.outcome = q.OptionalText(14);
    c.resolution = q.OptionalText(15);
    c.closed_at = q.OptionalText(16);
    c.closed_by = OptionalInt(q, 17);
    c.opened_by_name = q.OptionalText(18);
    c.closed_by_name = q.OptionalText(19);
    return c;
}

std::optional<CaseRecord> LoadCase(Connection& db, std::int64_t id) {
    auto q = db.Query(std::string("SELECT ") + kCaseColumns + " WHERE k.id = ?", id);
    if (!q->Step()) {
        return std::nullopt;
    }
    return ReadCase(*q);
}

// The instant local midnight begins `day` in `timezone`, as ISO 8601 UTC.
std::string LocalMidnight(const dialogs::Date& day, const std::string& timezone) {
    const std::chrono::sys_seconds guess{std::chrono::sys_days(day)};
    const dialogs::LocalTime local = dialogs::ToLocal(guess, timezone);
    const std::chrono::sys_seconds seen =
        std::chrono::sys_days(local.date) + std::chrono::minutes(local.minute_of_day);
    return dialogs::FormatIsoInstant(guess - (seen - guess));
}

bool Listed(auto const& names, std::string_view name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

bool IsCaseCategory(std::string_view kind, std::string_view category) {
    if (kind == "complaint") {
        return Listed(kComplaintCategories, category);
    }
    return kind == "privacy" && Listed(kPrivacyRights, category);
}

bool IsCaseOutcome(std::string_view outcome) {
    return Listed(kCaseOutcomes, outcome);
}

std::string UnderOpenComplaint(const std::string& account, const std::string& debtor) {
    return "EXISTS (SELECT 1 FROM cases k WHERE k.kind = 'complaint' AND k.status = 'open' AND "
           "k.debtor_id = " +
           debtor + " AND (k.account_id IS NULL OR k.account_id = " + account + "))";
}

OpenedCase OpenCaseRow(Connection& db, const CaseRow& row, const std::string& now) {
    const std::int64_t id = db.Insert(
        "INSERT INTO cases (kind, category, debtor_id, account_id, conversation_id, "
        "opened_by_agent, description, opened_at, due_date, status) VALUES (?, ?, ?, ?, ?, ?, ?, "
        "?, ?, 'open') RETURNING id",
        row.kind,
        row.category,
        row.debtor_id,
        row.account_id,
        row.conversation_id,
        row.opened_by_agent,
        std::string(dialogs::ClipUtf8(row.description, 4000)),
        now,
        row.due_date);
    // Numbered per kind and year without gaps (a regulator reads them as a register): the one
    // after this year's highest, inside this transaction. Not the row's id, which a PostgreSQL
    // retry or another kind's case would skip ahead; from the highest rather than a count, so
    // that folios numbered by id before (older releases) are never given twice. The year is
    // Mexico City's, as the due dates' days are.
    const auto instant = dialogs::ParseIsoInstant(now);
    const std::string year =
        instant ? std::to_string(static_cast<int>(
                      dialogs::ToLocal(*instant, "America/Mexico_City").date.year()))
                : now.substr(0, 4);
    const std::string prefix = std::string(row.kind == "complaint" ? "Q" : "P") + "-" + year + "-";
    const std::int64_t number =
        db.One<std::int64_t>(
              "SELECT coalesce(max(CAST(substr(folio, 8) AS BIGINT)), 0) FROM cases WHERE "
              "folio LIKE ?",
              prefix + "%")
            .value_or(0) +
        1;
    char folio[40];
    std::snprintf(folio, sizeof folio, "%s%06lld", prefix.c_str(), static_cast<long long>(number));
    db.Exec("UPDATE cases SET folio = ? WHERE id = ?", std::string(folio), id);
    if (row.kind == "complaint") {
        // Reminders already queued (waiting for contact hours) about what is disputed do not go
        // out either: about its account (its due date, its promises, its plan's instalments),
        // or about any of the debtor's accounts when the complaint names none.
        std::vector<std::int64_t> pending;
        const std::int64_t account = row.account_id.value_or(0);
        auto rows = db.Query(
            "SELECT o.message_id FROM outbox o JOIN reminders r ON r.message_id = o.message_id "
            "WHERE r.debtor_id = ?1 AND o.status = 'pending' AND (?2 = 0 OR r.subject LIKE ?3 "
            "OR r.subject IN (SELECT 'promise:' || CAST(p.id AS TEXT) FROM promises p WHERE "
            "p.account_id = ?2) OR r.subject IN (SELECT 'installment:' || CAST(i.id AS TEXT) "
            "FROM plan_installments i JOIN payment_plans pp ON pp.id = i.plan_id WHERE "
            "pp.account_id = ?2))",
            row.debtor_id,
            account,
            "account:" + std::to_string(account) + "@%");
        while (rows->Step()) {
            pending.push_back(rows->Int64(0));
        }
        CancelQueued(db, pending, "case_open", "a complaint is open", now);
    }
    WriteAudit(db,
               {row.opened_by_agent ? "agent:" + std::to_string(*row.opened_by_agent) : "bot",
                "case_opened",
                std::nullopt,
                row.debtor_id,
                row.account_id,
                row.conversation_id},
               now,
               AuditDetail("folio",
                           std::string(folio),
                           "kind",
                           row.kind,
                           "category",
                           row.category,
                           "due_date",
                           row.due_date));
    return {id, folio};
}

Result<std::vector<CaseRecord>> Ledger::ListCases(const CaseFilter& filter) {
    return impl_->Guard([&]() -> Result<std::vector<CaseRecord>> {
        auto q = impl_->db.Query(
            std::string("SELECT ") + kCaseColumns +
                " WHERE (?1 = '' OR k.status = ?1) AND (?2 = '' OR k.kind = ?2) AND (?3 = 0 OR "
                "k.debtor_id = ?3) ORDER BY CASE WHEN k.status = 'open' THEN k.due_date ELSE "
                "'9999' END, k.id DESC LIMIT ?4",
            filter.status.value_or(""),
            filter.kind.value_or(""),
            filter.debtor_id.value_or(0),
            static_cast<std::int64_t>(filter.limit));
        std::vector<CaseRecord> out;
        while (q->Step()) {
            out.push_back(ReadCase(*q));
        }
        return out;
    });
}

Result<std::optional<CaseRecord>> Ledger::GetCase(std::int64_t id) {
    return impl_->Guard(
        [&]() -> Result<std::optional<CaseRecord>> { return LoadCase(impl_->db, id); });
}

Result<CaseAction> Ledger::OpenCase(const NewCase& request, std::string_view now) {
    return impl_->Guard([&]() -> Result<CaseAction> {
        Connection& db = impl_->db;
        const std::string at(now);
        Tx tx(db);
        CaseAction out;
        CaseRow row;
        row.kind = request.kind;
        row.category = request.category;
        row.description = request.description;
        row.due_date = request.due_date;
        row.opened_by_agent = request.agent_id;
        std::optional<std::int64_t> debtor;
        if (request.conversation_id) {
            auto q = db.Query("SELECT debtor_id FROM conversations WHERE id = ?",
                              *request.conversation_id);
            if (!q->Step()) {
                out.refused = "not_found";
                return out;
            }
            debtor = OptionalInt(*q, 0);
            row.conversation_id = request.conversation_id;
        } else if (request.debtor_key) {
            debtor = db.One<std::int64_t>("SELECT id FROM debtors WHERE debtor_key = ?",
                                          *request.debtor_key);
        }
        if (!debtor) {
            out.refused = "no_debtor";
            return out;
        }
        row.debtor_id = *debtor;
        if (request.account_key) {
            row.account_id = db.One<std::int64_t>(
                "SELECT id FROM accounts WHERE account_key = ? AND "
                "debtor_id = ?",
                *request.account_key,
                *debtor);
            if (!row.account_id) {
                out.refused = "no_account";
                return out;
            }
        }
        const OpenedCase opened = OpenCaseRow(db, row, at);
        // Opposing the use of one's data, or asking for it to be deleted, stops our messages at
        // once, whoever registers it: as in the chat (there, on its channel; here, on every
        // channel, since the request did not come through one).
        if (row.kind == "privacy" &&
            (row.category == "opposition" || row.category == "cancellation")) {
            const auto phone =
                db.One<std::string>("SELECT phone FROM debtors WHERE id = ?", row.debtor_id);
            db.Exec(
                "INSERT INTO contact_preferences (phone, channel, kind, active, recorded_at, "
                "source) VALUES (?, 'all', 'opt_out', 1, ?, 'agent') ON CONFLICT (phone, "
                "channel, kind) DO UPDATE SET active = 1, recorded_at = excluded.recorded_at, "
                "source = excluded.source",
                *phone,
                at);
            CancelPending(db, *phone, "all", at);
            WriteAudit(db,
                       {request.agent_id != 0 ? "agent:" + std::to_string(request.agent_id)
                                              : std::string("system"),
                        "opted_out",
                        std::nullopt,  // every channel
                        row.debtor_id,
                        row.account_id,
                        row.conversation_id},
                       at,
                       AuditDetail("folio", opened.folio, "reason", "privacy_" + row.category));
        }
        out.record = LoadCase(db, opened.id);
        tx.commit();
        return out;
    });
}

Result<CaseAction> Ledger::CloseCase(const CaseClosing& closing,
                                     std::string_view now,
                                     const CaseResolutionFn& message) {
    return impl_->Guard([&]() -> Result<CaseAction> {
        Connection& db = impl_->db;
        const std::string at(now);
        Tx tx(db);
        CaseAction out;
        const auto current = LoadCase(db, closing.case_id);
        if (!current) {
            out.refused = "not_found";
            return out;
        }
        // One conditional update: two collectors closing the same case, one wins.
        const int changed = db.Exec(
            "UPDATE cases SET status = 'closed', outcome = ?, resolution = ?, closed_at = "
            "?, closed_by = ? WHERE id = ? AND status = 'open'",
            closing.outcome,
            std::string(dialogs::ClipUtf8(closing.resolution, 4000)),
            at,
            closing.agent_id,
            closing.case_id);
        if (changed == 0) {
            out.refused = "closed";
            out.record = current;
            return out;
        }
        out.record = LoadCase(db, closing.case_id);
        // The written answer goes to the debtor on the conversation the case came from, else
        // on their latest one; the transcript keeps it.
        std::optional<Target> target;
        if (current->conversation_id) {
            target = ReachableConversation(db, *current->conversation_id);
        }
        if (!target) {
            target = LatestReachableConversation(db, current->debtor_id);
        }
        if (target && message) {
            if (const auto m = message(AddresseeOf(*target, at), *out.record)) {
                QueueProactive(db, *target, *m, at);
                out.message_queued = true;
            }
        }
        WriteAudit(db,
                   {"agent:" + std::to_string(closing.agent_id),
                    "case_closed",
                    std::nullopt,
                    current->debtor_id,
                    std::nullopt,
                    current->conversation_id},
                   at,
                   AuditDetail("folio",
                               current->folio,
                               "outcome",
                               closing.outcome,
                               "message_queued",
                               std::string(out.message_queued ? "yes" : "no")));
        tx.commit();
        return out;
    });
}

Result<ComplaintsReport> Ledger::ComplaintsForMonth(std::string_view month,
                                                    const std::string& timezone) {
    return impl_->Guard([&]() -> Result<ComplaintsReport> {
        Connection& db = impl_->db;
        ComplaintsReport report;
        report.month = std::string(month);
        for (const auto c : kComplaintCategories) {
            report.counts["complaint"][std::string(c)];
        }
        for (const auto c : kPrivacyRights) {
            report.counts["privacy"][std::string(c)];
        }
        // The month's bounds in the creditor's zone, as instants: opened_at and closed_at are
        // ISO 8601 UTC text.
        const dialogs::Date first = *dialogs::ParseIsoDate(report.month + "-01");
        const dialogs::Date next = std::chrono::sys_days(std::chrono::year_month_day{
            first.year() / first.month() / std::chrono::day{1} + std::chrono::months{1}});
        const std::string from = LocalMidnight(first, timezone);
        const std::string to = LocalMidnight(next, timezone);
        auto q = db.Query(std::string("SELECT ") + kCaseColumns +
                              " WHERE (k.opened_at >= ?1 AND k.opened_at < ?2) OR (k.closed_at "
                              ">= ?1 AND k.closed_at < ?2) ORDER BY k.id",
                          from,
                          to);
        while (q->Step()) {
            CaseRecord c = ReadCase(*q);
            CaseCounts& counts = report.counts[c.kind][c.category];
            const bool opened_in = c.opened_at >= from && c.opened_at < to;
            const bool closed_in = c.closed_at && *c.closed_at >= from && *c.closed_at < to;
            counts.opened += opened_in ? 1 : 0;
            const bool closed_by_end = c.closed_at && *c.closed_at < to;
            counts.open_at_month_end += opened_in && !closed_by_end ? 1 : 0;
            if (closed_in) {
                ++counts.closed;
                ++counts.by_outcome[c.outcome.value_or("")];
                // Late when answered after the due date, in the creditor's calendar.
                const auto closed = dialogs::ParseIsoInstant(*c.closed_at);
                counts.answered_late +=
                    closed && dialogs::FormatIsoDate(dialogs::ToLocal(*closed, timezone).date) >
                                  c.due_date
                        ? 1
                        : 0;
            }
            report.cases.push_back(std::move(c));
        }
        return report;
    });
}

Result<std::optional<std::string>> Ledger::ExportDebtor(std::string_view debtor_key,
                                                        std::string_view now) {
    return impl_->Guard([&]() -> Result<std::optional<std::string>> {
        Connection& db = impl_->db;
        Tx tx(db, TxKind::kRead);  // one snapshot of everything
        auto who = db.Query("SELECT id, phone FROM debtors WHERE debtor_key = ?", debtor_key);
        if (!who->Step()) {
            return std::optional<std::string>();
        }
        const std::int64_t id = who->Int64(0);
        const std::string phone = who->Text(1);
        // Every table that holds something about the debtor, and how its rows are found: ?1 is
        // the debtor's id (contact_preferences: their phone's opt-outs and marks). Their
        // conversations are those linked to them: a phone's messages before it was known, or
        // those of a shared phone's other owner, are not theirs.
        const std::string accounts = "SELECT id FROM accounts WHERE debtor_id = ?1";
        // Their conversations: those linked to them (a phone's messages before it was known, or
        // a shared phone's other owner, are not theirs).
        const std::string conversations = "SELECT id FROM conversations WHERE debtor_id = ?1";
        const std::vector<std::pair<std::string, std::string>> tables = {
            {"debtors", "id = ?1"},
            {"accounts", "debtor_id = ?1"},
            {"balance_history", "account_id IN (" + accounts + ")"},
            {"payment_references", "account_id IN (" + accounts + ")"},
            {"payments", "account_id IN (" + accounts + ")"},
            {"payment_reversals", "account_id IN (" + accounts + ")"},
            {"promises", "account_id IN (" + accounts + ")"},
            {"payment_plans", "account_id IN (" + accounts + ")"},
            {"plan_installments",
             "plan_id IN (SELECT id FROM payment_plans WHERE account_id IN (" + accounts + "))"},
            {"payment_instruments", "account_id IN (" + accounts + ")"},
            {"conversations", "debtor_id = ?1"},
            {"messages", "conversation_id IN (" + conversations + ")"},
            {"notes", "conversation_id IN (" + conversations + ")"},
            {"media", "conversation_id IN (" + conversations + ")"},
            {"receipts", "conversation_id IN (" + conversations + ")"},
            {"receipt_checks", "conversation_id IN (" + conversations + ")"},
            {"contact_preferences", "phone = ?1"},
            {"reminders", "debtor_id = ?1"},
            {"cases", "debtor_id = ?1"},
            {"audit_log", "debtor_id = ?1"},
        };
        nlohmann::ordered_json out;
        out["exported_at"] = std::string(now);
        out["debtor_id"] = std::string(debtor_key);
        out["omitted"] =
            "file contents (media.content): each file is listed with its type and size, and a "
            "collector can download it from the console";
        nlohmann::ordered_json data = nlohmann::ordered_json::object();
        for (const auto& [table, where] : tables) {
            const std::vector<Column> columns = TableColumns(db, table);
            std::string select;
            for (const Column& c : columns) {
                select += select.empty() ? "" : ", ";
                select += c.kind == Column::kBlob ? "NULL" : c.name;
            }
            const std::string sql =
                "SELECT " + select + " FROM " + table + " WHERE " + where + " ORDER BY id";
            // A statement takes the value it names (contact_preferences: the phone).
            auto rows = table == "contact_preferences" ? db.Query(sql, phone) : db.Query(sql, id);
            nlohmann::ordered_json list = nlohmann::ordered_json::array();
            while (rows->Step()) {
                nlohmann::ordered_json row;
                for (std::size_t i = 0; i < columns.size(); ++i) {
                    const int column = static_cast<int>(i);
                    const Column& c = columns[i];
                    if (c.kind == Column::kBlob) {
                        continue;
                    }
                    if (rows->IsNull(column)) {
                        row[c.name] = nullptr;
                    } else if (c.kind == Column::kInteger) {
                        row[c.name] = rows->Int64(column);
                    } else {
                        row[c.name] = rows->Text(column);
                    }
                }
                list.push_back(std::move(row));
            }
            data[table] = std::move(list);
        }
        out["data"] = std::move(data);
        return std::optional<std::string>(out.dump(2));
    });
}

}  // namespace cobrador::store
