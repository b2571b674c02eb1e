// Reminders: reading what the scheduler decides from, and queuing what it decided — the
// reminder's record and its message in one transaction, so that a crash never sends one twice
// (the record's UNIQUE key) or loses one (the outbox).

#include <unordered_map>

#include "audit.hpp"
#include "ledger_impl.hpp"
#include "proactive.hpp"

namespace cobrador::store {

Result<std::vector<ReminderDebtor>> Ledger::ReminderCandidates(std::string_view now,
                                                               std::string_view since) {
    return impl_->Guard([&]() -> Result<std::vector<ReminderDebtor>> {
        Connection& db = impl_->db;
        const std::string at(now);
        Tx tx(db, Tx::Behavior::kDeferred);
        std::vector<ReminderDebtor> out;
        std::unordered_map<std::int64_t, std::size_t> index;  // debtor id -> out

        auto debtors = db.Query(
            "SELECT d.id, d.name, d.phone, d.locale, d.timezone FROM debtors d WHERE EXISTS "
            "(SELECT 1 FROM accounts a WHERE a.debtor_id = d.id AND a.balance_cents > 0) "
            "ORDER BY d.id");
        while (debtors->executeStep()) {
            ReminderDebtor d;
            d.debtor_id = debtors->getColumn(0).getInt64();
            d.name = debtors->getColumn(1).getString();
            d.phone = debtors->getColumn(2).getString();
            d.locale = debtors->getColumn(3).getString();
            d.timezone = debtors->getColumn(4).getString();
            index.emplace(d.debtor_id, out.size());
            out.push_back(std::move(d));
        }

        auto accounts = db.Query(
            "SELECT a.debtor_id, a.id, a.account_key, a.balance_cents, a.currency, a.due_date, "
            "a.segment, "
            "(SELECT p.id || '|' || p.due_date || '|' || (p.amount_cents - p.paid_cents) FROM "
            "promises p INDEXED BY promises_by_account_open WHERE p.account_id = a.id AND p.status "
            "= 'open' ORDER BY p.due_date, p.id "
            "LIMIT 1), "
            "(SELECT i.id || '|' || i.due_date || '|' || (i.amount_cents - i.paid_cents) FROM "
            "plan_installments i JOIN payment_plans pp ON pp.id = i.plan_id WHERE pp.account_id = "
            "a.id AND pp.status = 'active' AND i.status <> 'paid' AND i.due_date >= substr(?, 1, "
            "10) ORDER BY i.seq LIMIT 1) "
            "FROM accounts a WHERE a.balance_cents > 0 ORDER BY a.debtor_id, a.due_date, a.id",
            // A missed instalment does not hold back the next ones: only those not long past
            // count.
            since);
        const auto due_item = [](const SQLite::Column& column) -> std::optional<DueItem> {
            if (column.isNull()) {
                return std::nullopt;
            }
            const std::string text = column.getString();  // id|date|amount
            const auto first = text.find('|');
            const auto second = text.find('|', first + 1);
            return DueItem{std::stoll(text.substr(0, first)),
                           text.substr(first + 1, second - first - 1),
                           std::stoll(text.substr(second + 1))};
        };
        while (accounts->executeStep()) {
            const auto found = index.find(accounts->getColumn(0).getInt64());
            if (found == index.end()) {
                continue;
            }
            ReminderAccount a;
            a.id = accounts->getColumn(1).getInt64();
            a.key = accounts->getColumn(2).getString();
            a.balance_cents = accounts->getColumn(3).getInt64();
            a.currency = accounts->getColumn(4).getString();
            a.due_date = accounts->getColumn(5).getString();
            a.segment = accounts->getColumn(6).getString();
            a.open_promise = due_item(accounts->getColumn(7));
            a.next_installment = due_item(accounts->getColumn(8));
            out[found->second].accounts.push_back(std::move(a));
        }

        // The latest conversation of each debtor: its channel, and whether it blocks reminders.
        auto conversations = db.Query(
            "SELECT c.debtor_id, c.channel, c.last_inbound_at, c.state, c.locked_until FROM "
            "conversations c WHERE c.debtor_id IS NOT NULL AND c.id = (SELECT max(c2.id) FROM "
            "conversations c2 WHERE c2.debtor_id = c.debtor_id)");
        while (conversations->executeStep()) {
            const auto found = index.find(conversations->getColumn(0).getInt64());
            if (found == index.end()) {
                continue;
            }
            ReminderDebtor& d = out[found->second];
            d.last_channel =
                dialogs::FromString<dialogs::Channel>(conversations->getColumn(1).getString());
            if (!conversations->getColumn(2).isNull()) {
                d.last_inbound_at = conversations->getColumn(2).getString();
            }
            d.state = dialogs::FromString<dialogs::ConversationState>(
                conversations->getColumn(3).getString());
            d.locked = !conversations->getColumn(4).isNull() &&
                       conversations->getColumn(4).getString() > at;
        }

        auto preferences = db.Query(
            "SELECT phone, channel, kind FROM contact_preferences "
            "WHERE active = 1");
        std::unordered_map<std::string, std::vector<std::pair<std::string, std::string>>> by_phone;
        while (preferences->executeStep()) {
            by_phone[preferences->getColumn(0).getString()].emplace_back(
                preferences->getColumn(1).getString(), preferences->getColumn(2).getString());
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

        auto sent = db.Query("SELECT debtor_id, subject, rule, created_at FROM reminders");
        while (sent->executeStep()) {
            const auto found = index.find(sent->getColumn(0).getInt64());
            if (found == index.end()) {
                continue;
            }
            ReminderDebtor& d = out[found->second];
            d.sent[sent->getColumn(1).getString()].insert(sent->getColumn(2).getString());
            const std::string created = sent->getColumn(3).getString();
            if (created >= since) {
                d.recent.push_back(created);
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
        Prepared record = db.Prepare(
            "INSERT INTO reminders (debtor_id, rule, subject, local_date, "
            "channel, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT "
            "(rule, subject) DO NOTHING");
        Prepared link = db.Prepare("UPDATE reminders SET message_id = ? WHERE id = ?");
        std::vector<ReminderToQueue> queued;
        for (const ReminderToQueue& r : batch) {
            // Checked again here, in the transaction that writes: an opt-out that arrived since
            // the candidates were read wins.
            if (!Reachable(db, r.phone, r.channel)) {
                continue;
            }
            if (record.Exec(r.debtor_id, r.rule, r.subject, r.local_date, r.channel, at) == 0) {
                continue;  // already queued by an earlier pass
            }
            const std::int64_t reminder_id = db.LastInsertRowid();
            Target target;
            target.debtor_id = r.debtor_id;
            target.phone = r.phone;
            target.channel = r.channel;
            const std::int64_t message_id = QueueProactive(db, target, r.message, at);
            link.Exec(message_id, reminder_id);
            WriteAudit(db,
                       {.actor = "system", .kind = "reminder_queued", .debtor_id = r.debtor_id},
                       at,
                       "json(?)",
                       "{\"reminder_id\":" + std::to_string(reminder_id) + "}");
            queued.push_back(r);
        }
        tx.commit();
        return queued;
    });
}

}  // namespace cobrador::store
