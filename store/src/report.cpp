// The report: every figure is counted from ledger rows in one read transaction, so the totals
// and the splits agree with each other.
//
// Where each figure comes from:
//   accounts, balance_outstanding  accounts in the report currency, as they stand now;
//                                   bucket by days past due on `as_of` (a settled account is
//                                   "current")
//   collected                       payments applied to an account, paid within the period;
//                                   bucket by days past due on the day paid
//   promises_made                   promises created within the period
//   promises_kept / _broken         promises that became kept / broken within the period
//   promises_kept_late              broken promises paid in full within the period
//   plans_broken                    instalment plans found broken within the period
//   plans_created                   payment plans created within the period
//   references_issued, escalations, opt_outs
//                                   audit_log rows of kind reference_issued, escalated,
//                                   opted_out within the period
//   conversations                   conversations started within the period
//   verified_conversations          conversations whose first identity check passed within
//                                   the period
//   by_agent                        audit_log rows by agent:<id> within the period (claimed,
//                                   closed, message_sent, promise_made, plan_created), and the
//                                   system's handed_out rows naming them; the
//                                   promises an agent recorded (their promise_made row and the
//                                   promise written with it) that turned kept / broken within
//                                   the period, and the kept ones' amounts in the currency
// Promise, plan and audit figures take the bucket of their account on the day they happened;
// without an account, the debtor's longest-overdue account; with no debtor at all (a phone we
// do not know) they count in the totals and the channel split only.

#include "store/report.hpp"

#include <array>
#include <map>
#include <stdexcept>
#include <string_view>

#include <nlohmann/json.hpp>

#include "dialogs/calendar.hpp"

#include "ledger_impl.hpp"

namespace cobrador::store {

double Kpis::RecoveryRate() const {
    const std::int64_t owed = collected_cents + balance_outstanding_cents;
    return owed <= 0 ? 0.0 : static_cast<double>(collected_cents) / static_cast<double>(owed);
}

double Kpis::PromiseKeptRate() const {
    const std::int64_t due = promises_kept + promises_broken;
    return due == 0 ? 0.0 : static_cast<double>(promises_kept) / static_cast<double>(due);
}

std::string_view DpdBucket(int days_past_due) {
    if (days_past_due <= 0) {
        return "current";
    }
    if (days_past_due <= 30) {
        return "1-30";
    }
    if (days_past_due <= 60) {
        return "31-60";
    }
    if (days_past_due <= 90) {
        return "61-90";
    }
    return "90+";
}

const std::vector<std::string>& DpdBuckets() {
    static const std::vector<std::string> kBuckets = {"current", "1-30", "31-60", "61-90", "90+"};
    return kBuckets;
}

namespace {

using Field = std::int64_t Kpis::*;

class Tally {
public:
    explicit Tally(Report& report) : report_(report) {
        for (const char* channel : {"whatsapp", "sms", "sandbox"}) {
            report_.by_channel.emplace_back(channel, Kpis{});
        }
        for (const auto& bucket : DpdBuckets()) {
            report_.by_bucket.emplace_back(bucket, Kpis{});
        }
    }

    // Adds `amount` to `field` in the total, in `channel`'s split (when given) and in the
    // bucket of an account due on `due_date`, measured on `on_day` (when both are known).
    void Add(Field field,
             std::int64_t amount,
             const std::string& channel,
             const std::string& due_date,
             const std::string& on_day) {
        report_.total.*field += amount;
        for (auto& [name, kpis] : report_.by_channel) {
            if (name == channel) {
                kpis.*field += amount;
            }
        }
        const auto due = dialogs::ParseIsoDate(due_date);
        const auto day = dialogs::ParseIsoDate(on_day.substr(0, 10));
        if (!due || !day) {
            return;
        }
        const std::string_view bucket = DpdBucket(dialogs::DaysPastDue(*due, *day));
        for (auto& [name, kpis] : report_.by_bucket) {
            if (name == bucket) {
                kpis.*field += amount;
            }
        }
    }

private:
    Report& report_;
};

std::string Text(Statement& st, int column) {
    return st.IsNull(column) ? std::string{} : st.Text(column);
}

// The debtor's longest-overdue account's due date, for events not tied to one account.
constexpr const char* kDebtorDueDate =
    "(SELECT min(a2.due_date) FROM accounts a2 WHERE a2.debtor_id = %s AND a2.balance_cents > 0)";

std::string DebtorDue(const char* debtor_column) {
    std::string sql = kDebtorDueDate;
    sql.replace(sql.find("%s"), 2, debtor_column);
    return sql;
}

// The agent an audit row's actor names ("agent:12"), or 0.
std::int64_t AgentOf(const std::string& actor) {
    constexpr std::string_view kPrefix = "agent:";
    if (actor.rfind(kPrefix, 0) != 0) {
        return 0;
    }
    try {
        return std::stoll(actor.substr(kPrefix.size()));
    } catch (const std::exception&) {
        return 0;
    }
}

std::vector<AgentFigures> AgentsFigures(Connection& db,
                                        const std::string& from,
                                        const std::string& to,
                                        const std::string& currency) {
    std::vector<AgentFigures> out;
    std::map<std::int64_t, std::size_t> at;
    auto agents = db.Query(
        "SELECT id, name, role, disabled_at IS NOT NULL FROM agents ORDER BY "
        "name, id");
    while (agents->Step()) {
        AgentFigures a;
        a.agent_id = agents->Int64(0);
        a.name = agents->Text(1);
        a.role = agents->Text(2);
        a.disabled = agents->Int(3) != 0;
        at[a.agent_id] = out.size();
        out.push_back(std::move(a));
    }
    const auto figures = [&](const std::string& actor) -> AgentFigures* {
        const auto found = at.find(AgentOf(actor));
        return found == at.end() ? nullptr : &out[found->second];
    };
    using AgentField = std::int64_t AgentFigures::*;
    const std::array<std::pair<const char*, AgentField>, 5> kinds = {{
        {"claimed", &AgentFigures::claimed},
        {"closed", &AgentFigures::closed},
        {"agent_message", &AgentFigures::messages_sent},
        {"promise_made", &AgentFigures::promises_made},
        {"plan_created", &AgentFigures::plans_created},
    }};
    for (const auto& [kind, field] : kinds) {
        auto rows = db.Query(
            "SELECT actor, count(*) FROM audit_log WHERE kind = ?1 AND actor LIKE 'agent:%' AND "
            "substr(at, 1, 10) BETWEEN ?2 AND ?3 GROUP BY actor",
            std::string(kind),
            from,
            to);
        while (rows->Step()) {
            if (AgentFigures* a = figures(rows->Text(0))) {
                a->*field += rows->Int64(1);
            }
        }
    }
    // Conversations handed out in turn: the system's rows, each naming the agent.
    auto handed = db.Query(
        "SELECT detail FROM audit_log WHERE kind = 'handed_out' AND substr(at, 1, 10) BETWEEN ?1 "
        "AND ?2",
        from,
        to);
    while (handed->Step()) {
        const auto detail = nlohmann::json::parse(handed->Text(0), nullptr, false);
        if (detail.is_object() && detail.contains("agent_id") &&
            detail["agent_id"].is_number_integer()) {
            if (AgentFigures* a =
                    figures("agent:" + std::to_string(detail["agent_id"].get<std::int64_t>()))) {
                ++a->handed_out;
            }
        }
    }
    // The promise written with each promise_made row: same account, conversation and instant.
    auto resolved = db.Query(
        "SELECT e.actor, p.status, count(*), coalesce(sum(CASE WHEN p.currency = ?3 THEN "
        "p.amount_cents ELSE 0 END), 0) FROM audit_log e JOIN promises p ON p.account_id = "
        "e.account_id AND p.conversation_id = e.conversation_id AND p.created_at = e.at WHERE "
        "e.kind = 'promise_made' AND e.actor LIKE 'agent:%' AND p.status IN ('kept', 'broken') "
        "AND substr(p.resolved_at, 1, 10) BETWEEN ?1 AND ?2 GROUP BY e.actor, p.status",
        from,
        to,
        currency);
    while (resolved->Step()) {
        AgentFigures* a = figures(resolved->Text(0));
        if (a == nullptr) {
            continue;
        }
        if (resolved->Text(1) == "kept") {
            a->promises_kept += resolved->Int64(2);
            a->recovered_cents += resolved->Int64(3);
        } else {
            a->promises_broken += resolved->Int64(2);
        }
    }
    return out;
}

}  // namespace

Result<Report> Ledger::BuildReport(const ReportQuery& query) {
    return impl_->Guard([&]() -> Result<Report> {
        if (auto ready = impl_->RequireLatest(); !ready) {
            return ready.error();
        }
        Connection& db = impl_->db;
        Report report;
        report.query = query;
        if (report.query.to.empty()) {
            report.query.to = report.query.as_of;
        }
        if (report.query.from.empty()) {
            report.query.from = "0000-01-01";
        }
        const std::string& from = report.query.from;
        const std::string& to = report.query.to;
        // One snapshot for every query below.
        Tx tx(db, TxKind::kRead);

        report.currency = query.currency;
        if (report.currency.empty()) {
            report.currency = db.One<std::string>(
                                    "SELECT currency FROM accounts GROUP BY currency "
                                    "ORDER BY count(*) DESC, currency LIMIT 1")
                                  .value_or("MXN");
        }
        report.query.currency = report.currency;
        {
            std::map<std::string, CurrencyTotals> by_currency;
            auto held = db.Query(
                "SELECT currency, count(*), coalesce(sum(balance_cents), 0) FROM accounts GROUP "
                "BY currency");
            while (held->Step()) {
                CurrencyTotals& c = by_currency[held->Text(0)];
                c.accounts = held->Int64(1);
                c.balance_outstanding_cents = held->Int64(2);
            }
            auto paid = db.Query(
                "SELECT currency, coalesce(sum(amount_cents - reversed_cents), 0) FROM payments "
                "WHERE status = 'applied' AND substr(paid_at, 1, 10) BETWEEN ? AND ? GROUP BY "
                "currency",
                from,
                to);
            while (paid->Step()) {
                by_currency[paid->Text(0)].collected_cents = paid->Int64(1);
            }
            for (auto& [code, totals] : by_currency) {
                totals.currency = code;
                report.currencies.push_back(totals);
            }
        }
        Tally tally(report);

        {
            auto accounts = db.Query(
                "SELECT balance_cents, due_date FROM accounts WHERE currency = ?", report.currency);
            while (accounts->Step()) {
                const std::int64_t balance = accounts->Int64(0);
                // Nothing owed means not past due, whatever the old due date says.
                const std::string due = balance > 0 ? Text(*accounts, 1) : report.query.as_of;
                tally.Add(&Kpis::accounts, 1, {}, due, report.query.as_of);
                tally.Add(&Kpis::balance_outstanding_cents, balance, {}, due, report.query.as_of);
            }
        }
        {
            auto collected = db.Query(
                // Net of what was refunded or charged back since (docs/payments.md).
                "SELECT p.amount_cents - p.reversed_cents, a.due_date, p.paid_at FROM payments p "
                "JOIN accounts a ON a.id = p.account_id "
                "WHERE p.status = 'applied' AND p.currency = ? "
                "AND substr(p.paid_at, 1, 10) BETWEEN ? AND ?",
                report.currency,
                from,
                to);
            while (collected->Step()) {
                tally.Add(&Kpis::collected_cents,
                          collected->Int64(0),
                          {},
                          Text(*collected, 1),
                          Text(*collected, 2));
            }
        }
        // Rows that count one each: (field, SQL selecting channel, due date, day).
        const std::array<std::pair<Field, std::string>, 12> counted = {{
            {&Kpis::promises_made,
             "SELECT c.channel, a.due_date, p.created_at FROM promises p "
             "JOIN accounts a ON a.id = p.account_id "
             "LEFT JOIN conversations c ON c.id = p.conversation_id "
             "WHERE substr(p.created_at, 1, 10) BETWEEN ?1 AND ?2"},
            {&Kpis::promises_kept,
             "SELECT c.channel, a.due_date, p.created_at FROM promises p "
             "JOIN accounts a ON a.id = p.account_id "
             "LEFT JOIN conversations c ON c.id = p.conversation_id "
             "WHERE p.status = 'kept' AND substr(p.resolved_at, 1, 10) BETWEEN ?1 AND ?2"},
            {&Kpis::promises_broken,
             "SELECT c.channel, a.due_date, p.created_at FROM promises p "
             "JOIN accounts a ON a.id = p.account_id "
             "LEFT JOIN conversations c ON c.id = p.conversation_id "
             "WHERE p.status = 'broken' AND substr(p.resolved_at, 1, 10) BETWEEN ?1 AND ?2"},
            {&Kpis::promises_kept_late,
             "SELECT c.channel, a.due_date, p.created_at FROM promises p "
             "JOIN accounts a ON a.id = p.account_id "
             "LEFT JOIN conversations c ON c.id = p.conversation_id "
             "WHERE substr(p.kept_late_at, 1, 10) BETWEEN ?1 AND ?2"},
            {&Kpis::plans_broken, {}},
            {&Kpis::plans_created,
             "SELECT c.channel, a.due_date, p.created_at FROM payment_plans p "
             "JOIN accounts a ON a.id = p.account_id "
             "LEFT JOIN conversations c ON c.id = p.conversation_id "
             "WHERE substr(p.created_at, 1, 10) BETWEEN ?1 AND ?2"},
            {&Kpis::references_issued, {}},
            {&Kpis::escalations, {}},
            // Each conversation once, at its first escalation in the period.
            {&Kpis::escalated_conversations,
             "SELECT e.channel, coalesce(a.due_date, " + DebtorDue("e.debtor_id") +
                 "), e.at FROM audit_log e LEFT JOIN accounts a ON a.id = e.account_id "
                 "WHERE e.id IN (SELECT min(id) FROM audit_log WHERE kind = 'escalated' AND "
                 "conversation_id IS NOT NULL AND substr(at, 1, 10) BETWEEN ?1 AND ?2 GROUP BY "
                 "conversation_id)"},
            {&Kpis::opt_outs, {}},
            {&Kpis::conversations,
             "SELECT c.channel, " + DebtorDue("c.debtor_id") +
                 ", c.created_at FROM conversations c "
                 "WHERE substr(c.created_at, 1, 10) BETWEEN ?1 AND ?2"},
            {&Kpis::verified_conversations,
             "SELECT c.channel, " + DebtorDue("c.debtor_id") +
                 ", c.verified_at FROM conversations c "
                 "WHERE substr(c.verified_at, 1, 10) BETWEEN ?1 AND ?2"},
        }};
        const std::string audit_sql =
            "SELECT e.channel, coalesce(a.due_date, " + DebtorDue("e.debtor_id") +
            "), e.at FROM audit_log e LEFT JOIN accounts a ON a.id = e.account_id "
            "WHERE e.kind = ?3 AND substr(e.at, 1, 10) BETWEEN ?1 AND ?2";
        for (const auto& [field, sql] : counted) {
            std::string audit_kind;
            if (field == &Kpis::references_issued) {
                audit_kind = "reference_issued";
            } else if (field == &Kpis::escalations) {
                audit_kind = "escalated";
            } else if (field == &Kpis::opt_outs) {
                audit_kind = "opted_out";
            } else if (field == &Kpis::plans_broken) {
                audit_kind = "plan_broken";
            }
            auto rows = audit_kind.empty() ? db.Query(sql, from, to)
                                           : db.Query(audit_sql, from, to, audit_kind);
            while (rows->Step()) {
                tally.Add(field, 1, Text(*rows, 0), Text(*rows, 1), Text(*rows, 2));
            }
        }
        {
            // The daily series: collected by the day paid, promises by the day made and the day
            // they turned kept or broken.
            std::map<std::string, DailyFigures> days;
            auto series = db.Query(
                "SELECT substr(paid_at, 1, 10), 'collected', sum(amount_cents - reversed_cents) "
                "FROM payments "
                "WHERE status = 'applied' AND currency = ?3 AND substr(paid_at, 1, 10) BETWEEN "
                "?1 AND ?2 GROUP BY 1 "
                "UNION ALL SELECT substr(created_at, 1, 10), 'made', count(*) FROM promises "
                "WHERE substr(created_at, 1, 10) BETWEEN ?1 AND ?2 GROUP BY 1 "
                "UNION ALL SELECT substr(resolved_at, 1, 10), status, count(*) FROM promises "
                "WHERE status IN ('kept', 'broken') AND substr(resolved_at, 1, 10) BETWEEN ?1 "
                "AND ?2 GROUP BY 1, 2",
                from,
                to,
                report.currency);
            while (series->Step()) {
                const std::string day = Text(*series, 0);
                const std::string what = Text(*series, 1);
                const std::int64_t value = series->Int64(2);
                DailyFigures& d = days[day];
                d.date = day;
                if (what == "collected") {
                    d.collected_cents += value;
                } else if (what == "made") {
                    d.promises_made += value;
                } else if (what == "kept") {
                    d.promises_kept += value;
                } else {
                    d.promises_broken += value;
                }
            }
            for (auto& [day, figures] : days) {
                report.daily.push_back(std::move(figures));
            }
            auto suspense = db.Query(
                "SELECT count(*), coalesce(sum(amount_cents - reversed_cents), 0) FROM payments "
                "WHERE status = 'suspense' AND reversed_cents < amount_cents AND currency = ?3 AND "
                "substr(paid_at, 1, 10) BETWEEN ?1 AND ?2",
                from,
                to,
                report.currency);
            suspense->Step();
            report.suspense_payments = suspense->Int64(0);
            report.suspense_cents = suspense->Int64(1);
        }
        report.by_agent = AgentsFigures(db, from, to, report.currency);
        return report;
    });
}

}  // namespace cobrador::store
