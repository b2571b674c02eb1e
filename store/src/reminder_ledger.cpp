// Reminders: reading what the scheduler decides from, and queuing what it decided — the
// reminder's record and its message in one transaction, so that a crash never sends one twice
// (the record's UNIQUE key) or loses one (the outbox).

#include <unordered_map>

#include "audit.hpp"
#include "case_rows.hpp"
#include "ledger_impl.hpp"
#include "proactive.hpp"

namespace cobrador::store {

Result<std::vector<ReminderDebtor>> Ledger::ReminderCandidates(std::string_view now,
                                                               std::string_view since) {
    return impl_->Guard([&]() -> Result<std::vector<ReminderDebtor>> {
        Connection& db = impl_->db;
        const std::string at(now);
        Tx tx(db, TxKind::kRead);
        std::vector<ReminderDebtor> out;
        std::unordered_map<std::int64_t, std::size_t> index;  // debtor id -> out

        auto debtors = db.Query(
            "SELECT d.id, d.name, d.phone, d.locale, d.timezone FROM debtors d WHERE EXISTS "
            "(SELECT 1 FROM accounts a WHERE a.debtor_id = d.id AND a.balance_cents > 0 AND NOT " +
            UnderOpenComplaint("a.id", "a.debtor_id") + ") ORDER BY d.id");
        while (debtors->Step()) {
            ReminderDebtor d;
            d.debtor_id = debtors->Int64(0);
            d.name = debtors->Text(1);
            d.phone = debtors->Text(2);
            d.locale = debtors->Text(3);
            d.timezone = debtors->Text(4);
            index.emplace(d.debtor_id, out.size());
            out.push_back(std::move(d));
        }

        auto accounts = db.Query(
            "SELECT a.debtor_id, a.id, a.account_key, a.balance_cents, a.currency, a.due_date, "
            "a.segment, "
            "(SELECT p.id || '|' || p.due_date || '|' || (p.amount_cents - p.paid_cents) FROM "
            "promises p " +
                // SQLite's planner needs the hint here (a full scan otherwise); PostgreSQL's
                // does not, and has no such clause.
                std::string(db.backend() == Backend::kSqlite
                                ? "INDEXED BY promises_by_account_open "
                                : "") +
                "WHERE p.account_id = a.id AND p.status = 'open' ORDER BY p.due_date, p.id "
                "LIMIT 1), "
                "(SELECT i.id || '|' || i.due_date || '|' || (i.amount_cents - i.paid_cents) FROM "
                "plan_installments i JOIN payment_plans pp ON pp.id = i.plan_id WHERE "
                "pp.account_id = "
                "a.id AND pp.status = 'active' AND i.status <> 'paid' AND i.due_date >= substr(?, "
                "1, "
                "10) ORDER BY i.seq LIMIT 1) "
                // An account under an open complaint gets no reminders (docs/cases.md).
                "FROM accounts a WHERE a.balance_cents > 0 AND NOT " +
                UnderOpenComplaint("a.id", "a.debtor_id") +
                " ORDER BY a.debtor_id, a.due_date, a.id",
            // A missed instalment does not hold back the next ones: only those not long past
            // count.
            since);
        const auto due_item = [](Statement& row, int column) -> std::optional<DueItem> {
            if (row.IsNull(column)) {
                return std::nullopt;
            }
            const std::string text = row.Text(column);  // id|date|amount
            const auto first = text.find('|');
            const auto second = text.find('|', first + 1);
            return DueItem{std::stoll(text.substr(0, first)),
                           text.substr(first + 1, second - first - 1),
                           std::stoll(text.substr(second + 1))};
        };
        while (accounts->Step()) {
            const auto found = index.find(accounts->Int64(0));
            if (found == index.end()) {
                continue;
            }
            ReminderAccount a;
            a.id = accounts->Int64(1);
            a.key = accounts->Text(2);
            a.balance_cents = accounts->Int64(3);
            a.currency = accounts->Text(4);
            a.due_date = accounts->Text(5);
            a.segment = accounts->Text(6);
            a.open_promise = due_item(*accounts, 7);
            a.next_installment = due_item(*accounts, 8);
            out[found->second].accounts.push_back(std::move(a));
        }

        // The latest conversation of each debtor: its channel, and whether it blocks reminders.
        auto conversations = db.Query(
            "SELECT c.debtor_id, c.channel, c.last_inbound_at, c.state, c.locked_until FROM "
            "conversations c WHERE c.debtor_id IS NOT NULL AND c.id = (SELECT max(c2.id) FROM "
            "conversations c2 WHERE c2.debtor_id = c.debtor_id)");
        while (conversations->Step()) {
            const auto found = index.find(conversations->Int64(0));
            if (found == index.end()) {
                continue;
            }
            ReminderDebtor& d = out[found->second];
            d.last_channel = dialogs::FromString<dialogs::Channel>(conversations->Text(1));
            if (!conversations->IsNull(2)) {
                d.last_inbound_at = conversations->Text(2);
            }
            d.state = dialogs::FromString<dialogs::ConversationState>(conversations->Text(3));
            d.locked = !conversations->IsNull(4) && conversations->Text(4) > at;
        }

        auto preferences = db.Query(
            "SELECT phone, channel, kind FROM contact_preferences "
            "WHERE active = 1");
        std::unordered_map<std::string, std::vector<std::pair<std::string, std::string>>> by_phone;
        while (preferences->Step()) {
            by_phone[preferences->Text(0)].emplace_back(preferences->Text(1), preferences->Text(2));
        }
        for (ReminderDebtor& d : out) {
            if (const auto found = by_phone.find(d.phone); found != by_phone.end()) {
                for (const auto& [channel, kind] : found->second) {
                    if (kind == "wrong_number") {
                        d.wrong_number = true;
                    } else if (channel == "all") {
                        for (const auto& [c, name] : dialogs::Names<dialogs::Channel>::kAll) {
                            d.opted_out.insert(c);
                        }
                    } else if (const auto c = dialogs::FromString<dialogs::Channel>(channel)) {
                        d.opted_out.insert(*c);
                    }
                }
            }
        }

        // The caps hold per phone: debtors who share one (a family's phone) share its reminders.
        // A broken promise's follow-up is recorded here too (so that a complaint can cancel it)
        // but is no reminder of the strategy's: it neither counts toward the caps nor repeats.
        std::unordered_map<std::string, std::vector<std::string>> recent_by_phone;
        auto sent = db.Query(
            "SELECT r.debtor_id, r.subject, r.rule, r.created_at, d.phone FROM reminders r JOIN "
            "debtors d ON d.id = r.debtor_id WHERE r.rule NOT IN " +
            std::string(kFollowUpRules));
        while (sent->Step()) {
            const std::string created = sent->Text(3);
            if (created >= since) {
                recent_by_phone[sent->Text(4)].push_back(created);
            }
            const auto found = index.find(sent->Int64(0));
            if (found == index.end()) {
                continue;
            }
            out[found->second].sent[sent->Text(1)].insert(sent->Text(2));
        }
        for (ReminderDebtor& d : out) {
            if (const auto found = recent_by_phone.find(d.phone); found != recent_by_phone.end()) {
                d.recent = found->second;
            }
        }
        tx.commit();
        return out;
    });
}

Result<std::vector<ReminderToQueue>> Ledger::QueueReminders(
    const std::vector<ReminderToQueue>& batch, std::string_view now) {
    return impl_->Guard([&]() -> Result<std::vector<ReminderToQueue>> {
        Connection& db = impl_->db;
        const std::string at(now);
        Tx tx(db);
        // Each debtor's turns (an opt-out among them) and this pass take turns (HandleInbound).
        std::vector<std::string> turns;
        for (const ReminderToQueue& r : batch) {
            turns.push_back(TurnLock(r.phone));
        }
        db.Lock(std::move(turns));
        Prepared record = db.Prepare(
            "INSERT INTO reminders (debtor_id, rule, subject, local_date, "
            "channel, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT "
            "(rule, subject) DO NOTHING RETURNING id");
        Prepared link = db.Prepare("UPDATE reminders SET message_id = ? WHERE id = ?");
        std::vector<ReminderToQueue> queued;
        for (const ReminderToQueue& r : batch) {
            // Checked again here, in the transaction that writes: an opt-out that arrived since
            // the candidates were read wins.
            if (!Reachable(db, r.phone, r.channel)) {
                continue;
            }
            // Likewise a complaint opened since (in the chat, which takes the same turn lock).
            if (db.One<int>("SELECT count(*) FROM accounts a WHERE a.id = ? AND " +
                                UnderOpenComplaint("a.id", "a.debtor_id"),
                            r.account_id)
                    .value_or(0) > 0) {
                continue;
            }
            const auto recorded =
                record.Returning(r.debtor_id, r.rule, r.subject, r.local_date, r.channel, at);
            if (!recorded) {
                continue;  // already queued by an earlier pass
            }
            const std::int64_t reminder_id = *recorded;
            Target target;
            target.debtor_id = r.debtor_id;
            target.phone = r.phone;
            target.channel = r.channel;
            const std::int64_t message_id = QueueProactive(db, target, r.message, at);
            link.Exec(message_id, reminder_id);
            WriteAudit(db,
                       {.actor = "system", .kind = "reminder_queued", .debtor_id = r.debtor_id},
                       at,
                       "{\"reminder_id\":" + std::to_string(reminder_id) + "}");
            queued.push_back(r);
        }
        tx.commit();
        return queued;
    });
}

}  // namespace cobrador::store
