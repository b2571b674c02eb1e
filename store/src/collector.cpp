// The collector's side of the ledger: agents by token, the queue, a conversation in full, and
// the actions (claim, send, release, close, notes), each in one transaction with its audit row.
// A refusal (held by another agent, outside WhatsApp's window...) is an ActionOutcome, not an
// error: nothing is written and the caller tells the person why.

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <utility>

#include "dialogs/contact.hpp"
#include "dialogs/contact_policy.hpp"
#include "dialogs/dialog.hpp"
#include "dialogs/lifecycle.hpp"
#include "dialogs/reference.hpp"
#include "store/csv.hpp"

#include "audit.hpp"
#include "dialog_store.hpp"
#include "ledger_impl.hpp"
#include "outbound.hpp"
#include "proactive.hpp"
#include "shifts.hpp"

namespace cobrador::store {

namespace {

// The columns of a ConversationSummary, in the order ReadSummary reads them; `c` is the
// conversation, `d` its debtor and `a` its holder.
constexpr const char* kSummarySelect =
    "SELECT c.id, c.state, c.channel, c.phone, d.name, c.verified_at IS NOT NULL, "
    "c.escalation_reason, c.escalated_at, a.id, a.name, "
    "(SELECT m.body FROM messages m WHERE m.conversation_id = c.id AND m.direction = 'in' "
    "ORDER BY m.id DESC LIMIT 1), "
    "c.last_inbound_at, c.last_activity_at, c.created_at, c.disposition, c.closed_at, "
    "c.verified_until, c.locked_until "
    "FROM conversations c LEFT JOIN debtors d ON d.id = c.debtor_id "
    "LEFT JOIN agents a ON a.id = c.assigned_agent_id ";

ConversationSummary ReadSummary(Statement& row) {
    ConversationSummary s;
    s.id = row.Int64(0);
    s.state = dialogs::FromStringOr(row.Text(1), dialogs::ConversationState::kBot);
    s.channel = dialogs::FromStringOr(row.Text(2), dialogs::Channel::kSms);
    s.phone = row.Text(3);
    s.debtor_name = row.OptionalText(4);
    s.verified = row.Int(5) != 0;
    s.escalation_reason = row.OptionalText(6);
    s.escalated_at = row.OptionalText(7);
    if (!row.IsNull(8)) {
        s.holder = AgentRef{row.Int64(8), row.Text(9)};
    }
    s.last_message = row.OptionalText(10);
    s.last_inbound_at = row.OptionalText(11);
    s.last_activity_at = row.Text(12);
    s.created_at = row.Text(13);
    s.disposition = row.OptionalText(14);
    s.closed_at = row.OptionalText(15);
    s.verified_until = row.OptionalText(16);
    s.locked_until = row.OptionalText(17);
    return s;
}

std::optional<ConversationSummary> LoadSummary(Connection& db, std::int64_t id) {
    auto row = db.Query(std::string(kSummarySelect) + "WHERE c.id = ?", id);
    if (!row->Step()) {
        return std::nullopt;
    }
    return ReadSummary(*row);
}

Reachability LoadReachability(Connection& db, const ConversationSummary& c) {
    auto prefs = db.Query(
        "SELECT kind FROM contact_preferences WHERE phone = ? AND active = 1 "
        "AND (channel = ? OR channel = 'all')",
        c.phone,
        dialogs::ToString(c.channel));
    Reachability reach;
    while (prefs->Step()) {
        const std::string kind = prefs->Text(0);
        reach.opted_out = reach.opted_out || kind == "opt_out";
        reach.wrong_number = reach.wrong_number || kind == "wrong_number";
    }
    return reach;
}

// The audit row of an action on conversation `c` (its debtor as the conversation has it now).
AuditRow ConversationAudit(Connection& db,
                           const ConversationSummary& c,
                           const std::string& actor,
                           const char* kind) {
    return {actor,
            kind,
            std::string(dialogs::ToString(c.channel)),
            db.One<std::int64_t>("SELECT debtor_id FROM conversations WHERE id = ?", c.id),
            std::nullopt,
            c.id};
}

std::string Actor(const Agent& agent) {
    return "agent:" + std::to_string(agent.id);
}

dialogs::LifecycleDecision Decide(const ConversationSummary& c,
                                  dialogs::LifecycleEvent event,
                                  const Agent& by,
                                  std::optional<std::int64_t> assignee = std::nullopt) {
    dialogs::LifecycleFacts facts{c.state, std::nullopt};
    if (c.holder && c.state == dialogs::ConversationState::kClaimed) {
        facts.holder = c.holder->id;
    }
    return dialogs::Decide(facts, event, by.actor(), assignee);
}

// The lifecycle table's refusal, with who holds the conversation when that is the reason.
ActionOutcome Refuse(const dialogs::LifecycleDecision& d, const ConversationSummary& c) {
    ActionOutcome out;
    out.refusal = d.refusal;
    if (d.refusal == Refusal::kHeldByOther) {
        out.holder = c.holder;
    }
    return out;
}

std::string StateName(const ConversationSummary& c) {
    return std::string(dialogs::ToString(c.state));
}

ActionOutcome Refuse(Refusal refusal) {
    ActionOutcome out;
    out.refusal = refusal;
    return out;
}

// Judges `agreement` for conversation `c`'s debtor on `today` and records it (inside the
// caller's transaction): kNoAccount when the account is not the debtor's or several owe and none
// is named, kNotAgreed with the verdict when the policy or the account does not allow it.
ActionOutcome RecordAgreementIn(Connection& db,
                                const ConversationSummary& c,
                                const Agent& by,
                                const AgentAgreement& agreement,
                                const dialogs::Policy& policy,
                                const std::optional<std::string>& pinned_today,
                                const std::string& at) {
    const auto debtor =
        db.One<std::int64_t>("SELECT debtor_id FROM conversations WHERE id = ?", c.id);
    if (!debtor) {
        return Refuse(Refusal::kNoAccount);
    }
    // The debtor's day, as the bot reckons it (a pinned day, in tests and demos, is theirs too).
    std::optional<dialogs::Date> today;
    if (pinned_today) {
        today = dialogs::ParseIsoDate(*pinned_today);
    } else if (const auto instant = dialogs::ParseIsoInstant(at)) {
        const std::string zone =
            db.One<std::string>("SELECT timezone FROM debtors WHERE id = ?", *debtor).value_or("");
        today = dialogs::ToLocal(*instant, zone.empty() ? "America/Mexico_City" : zone).date;
    }
    if (!today) {
        return Refuse(Refusal::kNoAccount);
    }
    const std::vector<dialogs::AccountView> accounts = LoadAccountViews(db, *debtor);
    const dialogs::AccountView* account = nullptr;
    int candidates = 0;
    for (const dialogs::AccountView& a : accounts) {
        if (agreement.account_key ? a.key == *agreement.account_key : a.balance.cents > 0) {
            account = &a;
            ++candidates;
        }
    }
    if (candidates != 1) {
        return Refuse(Refusal::kNoAccount);
    }
    ActionOutcome out;
    out.account_key = account->key;
    out.agreement =
        dialogs::JudgeAgreement(agreement.ask, *account, policy, *today, by.supervisor());
    const dialogs::AgreementVerdict& verdict = *out.agreement;
    if (!verdict.ok()) {
        out.refusal = Refusal::kNotAgreed;
        return out;
    }
    const AuditRow audit = ConversationAudit(db, c, Actor(by), "");
    if (agreement.ask.kind == dialogs::AgreementKind::kPromise) {
        out.created_id = RecordPromise(db,
                                       audit,
                                       account->id,
                                       {agreement.ask.amount_cents, account->balance.currency},
                                       *agreement.ask.date,
                                       at,
                                       verdict.beyond_policy);
    } else {
        const dialogs::PlanAgreed plan{account->id,
                                       verdict.plan.kind,
                                       {verdict.plan.total_cents, account->balance.currency},
                                       verdict.plan.discount_cents,
                                       verdict.schedule};
        out.created_id = RecordPlan(db, audit, plan, Actor(by), at, verdict.beyond_policy);
    }
    return out;
}

// Fills each summary's earlier_reasons from the escalated rows of the audit log, in one query.
void AddEarlierReasons(Connection& db, std::vector<ConversationSummary>& summaries) {
    if (summaries.empty()) {
        return;
    }
    std::string ids;
    std::map<std::int64_t, ConversationSummary*> by_id;
    for (ConversationSummary& s : summaries) {
        ids += (ids.empty() ? "" : ",") + std::to_string(s.id);
        by_id[s.id] = &s;
    }
    auto rows = db.Query(
        "SELECT conversation_id, detail FROM audit_log WHERE kind = 'escalated' "
        "AND conversation_id IN (" +
        ids + ") ORDER BY id DESC");
    while (rows->Step()) {
        ConversationSummary* s = by_id[rows->Int64(0)];
        const auto detail = nlohmann::json::parse(rows->Text(1), nullptr, false);
        if (s == nullptr || !detail.is_object() || !detail.contains("reason") ||
            !detail["reason"].is_string()) {
            continue;
        }
        const std::string reason = detail["reason"].get<std::string>();
        if (reason != s->escalation_reason.value_or("") &&
            std::find(s->earlier_reasons.begin(), s->earlier_reasons.end(), reason) ==
                s->earlier_reasons.end()) {
            s->earlier_reasons.push_back(reason);
        }
    }
}

// Runs `act` on the conversation inside an IMMEDIATE transaction and returns the outcome with
// the conversation as it is afterwards; `act` returns a refusal to write nothing.
template <class F>
ActionOutcome Act(Connection& db, std::int64_t id, F&& act) {
    Tx tx(db);
    auto before = LoadSummary(db, id);
    if (!before) {
        return Refuse(Refusal::kNotFound);
    }
    ActionOutcome out = act(*before);
    if (!out.ok()) {
        return out;  // the transaction rolls back: nothing written
    }
    out.conversation = LoadSummary(db, id);
    tx.commit();
    return out;
}

// Search: a name is compared without case or the accents Spanish writes (á é í ó ú ü ñ), on
// both backends alike, so the stored name and the query are folded by the same table.
constexpr std::array<std::pair<std::string_view, std::string_view>, 14> kFolds = {{{"á", "a"},
                                                                                   {"é", "e"},
                                                                                   {"í", "i"},
                                                                                   {"ó", "o"},
                                                                                   {"ú", "u"},
                                                                                   {"ü", "u"},
                                                                                   {"ñ", "n"},
                                                                                   {"Á", "a"},
                                                                                   {"É", "e"},
                                                                                   {"Í", "i"},
                                                                                   {"Ó", "o"},
                                                                                   {"Ú", "u"},
                                                                                   {"Ü", "u"},
                                                                                   {"Ñ", "n"}}};

std::string FoldedSql(const std::string& column) {
    std::string sql = column;
    for (const auto& [from, to] : kFolds) {
        sql = "replace(" + sql + ", '" + std::string(from) + "', '" + std::string(to) + "')";
    }
    return "lower(" + sql + ")";
}

std::string Folded(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size();) {
        bool folded = false;
        for (const auto& [from, to] : kFolds) {
            if (text.substr(i, from.size()) == from) {
                out += to;
                i += from.size();
                folded = true;
                break;
            }
        }
        if (!folded) {
            const char c = text[i++];
            out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
        }
    }
    return out;
}

// `text` inside a LIKE pattern, its wildcards taken literally (ESCAPE '!': not a backslash,
// whose meaning in a literal depends on a PostgreSQL setting).
std::string LikeLiteral(std::string_view text) {
    std::string out;
    for (const char c : text) {
        if (c == '%' || c == '_' || c == '!') {
            out += '!';
        }
        out += c;
    }
    return out;
}

struct SearchTerms {
    std::string name;     // LIKE pattern over the folded name: the words in order
    std::string phone;    // LIKE pattern over the phone; empty when the query is not one
    std::string account;  // LIKE pattern over the lower-case account key
    std::optional<std::int64_t> referenced;  // the account a payment reference names

    bool empty() const { return name.empty(); }
};

SearchTerms SearchTermsOf(std::string_view query) {
    SearchTerms terms;
    std::vector<std::string> words;
    std::string word;
    for (const char c : Folded(query) + " ") {
        if (c == ' ' || c == '\t') {
            if (!word.empty()) {
                words.push_back(LikeLiteral(word));
                word.clear();
            }
        } else {
            word += c;
        }
    }
    if (words.empty()) {
        return terms;
    }
    terms.name = "%";
    for (const auto& w : words) {
        terms.name += w + "%";
    }
    // A phone as people write it: digits with + ( ) - . and spaces, four digits or more.
    std::string digits;
    bool phone_like = true;
    for (const char c : query) {
        if (c >= '0' && c <= '9') {
            digits += c;
        } else if (c != ' ' && c != '+' && c != '(' && c != ')' && c != '-' && c != '.') {
            phone_like = false;
        }
    }
    if (phone_like && digits.size() >= 4) {
        terms.phone = "%" + digits + "%";
    }
    const std::string trimmed = words.size() == 1 ? words.front() : std::string();
    terms.account = trimmed.empty() ? std::string() : "%" + trimmed + "%";
    // A payment reference is seven digits (eight past ten million accounts), dashes and spaces
    // aside; a longer run is a phone, whose digits would pass the check one time in ten.
    if (digits.size() == 7 || digits.size() == 8) {
        terms.referenced = dialogs::AccountFromAnyReference(Trimmed(query));
    }
    return terms;
}

}  // namespace

dialogs::Recipient AgentReplyRecipient(const ConversationSummary& c, const Reachability& reach) {
    dialogs::Recipient r;
    r.channel = c.channel;
    r.state = c.state;
    r.wrong_number = reach.wrong_number;
    r.opted_out = reach.opted_out;
    if (c.last_inbound_at) {
        r.last_inbound = dialogs::ParseIsoInstant(*c.last_inbound_at);
    }
    return r;
}

bool IsDisposition(std::string_view code) {
    for (const char* known : kDispositions) {
        if (code == known) {
            return true;
        }
    }
    return false;
}

Result<std::optional<Agent>> Ledger::AgentByToken(std::string_view token_sha256,
                                                  std::string_view now) {
    return impl_->Guard([&]() -> Result<std::optional<Agent>> {
        auto row = impl_->db.Query(
            std::string("SELECT ") + kAgentColumns +
                " FROM agents WHERE token_sha256 = ? AND disabled_at IS NULL AND (expires_on IS "
                "NULL OR expires_on >= substr(?, 1, 10))",
            token_sha256,
            now);
        if (!row->Step()) {
            return std::optional<Agent>();
        }
        return std::optional<Agent>(ReadAgent(*row));
    });
}

Result<std::vector<Agent>> Ledger::ListAgents() {
    return impl_->Guard([&]() -> Result<std::vector<Agent>> {
        Prepared rows =
            impl_->db.Prepare(std::string("SELECT ") + kAgentColumns + " FROM agents ORDER BY id");
        std::vector<Agent> agents;
        while (rows->Step()) {
            agents.push_back(ReadAgent(*rows));
        }
        return agents;
    });
}

Result<std::int64_t> Ledger::DisableAgentsNamed(std::string_view name, std::string_view now) {
    return impl_->Guard([&]() -> Result<std::int64_t> {
        return static_cast<std::int64_t>(impl_->db.Exec(
            "UPDATE agents SET disabled_at = ?, on_shift_since = NULL WHERE name = ? AND "
            "disabled_at IS NULL",
            now,
            name));
    });
}

Result<std::vector<ConversationSummary>> Ledger::ListConversations(
    const ConversationFilter& filter) {
    return impl_->Guard([&]() -> Result<std::vector<ConversationSummary>> {
        const SearchTerms terms = SearchTermsOf(filter.search);
        // A search lists the most recent first; the queue, the longest waiting first.
        static const std::string kFiltered =
            std::string(kSummarySelect) +
            "WHERE (?1 = 'all' OR c.state = ?1) AND (?2 = '' OR c.phone = ?2) AND (CAST(?3 AS "
            "BIGINT) IS NULL OR c.assigned_agent_id = ?3) AND (?5 = '' OR c.id IN (SELECT "
            "max(c2.id) FROM promises p JOIN accounts pa ON pa.id = p.account_id JOIN "
            "conversations c2 ON c2.debtor_id = pa.debtor_id WHERE p.status = 'open' AND "
            "p.due_date = ?5 GROUP BY pa.debtor_id)) ";
        static const std::string kSearchSql =
            kFiltered + "AND (" + FoldedSql("d.name") +
            " LIKE ?6 ESCAPE '!' OR (?7 <> '' AND c.phone LIKE ?7) OR EXISTS (SELECT 1 FROM "
            "accounts x WHERE x.debtor_id = c.debtor_id AND (lower(x.account_key) LIKE ?8 ESCAPE "
            "'!' OR x.id = CAST(?9 AS BIGINT)))) ORDER BY c.last_activity_at DESC, c.id DESC "
            "LIMIT ?4";
        static const std::string kQueueSql =
            kFiltered + "ORDER BY coalesce(c.escalated_at, c.created_at), c.id LIMIT ?4";
        const std::string state =
            filter.state ? std::string(dialogs::ToString(*filter.state)) : "all";
        auto rows = terms.empty() ? impl_->db.Query(kQueueSql,
                                                    state,
                                                    filter.phone,
                                                    filter.holder,
                                                    filter.limit,
                                                    filter.promise_due)
                                  : impl_->db.Query(kSearchSql,
                                                    state,
                                                    filter.phone,
                                                    filter.holder,
                                                    filter.limit,
                                                    filter.promise_due,
                                                    terms.name,
                                                    terms.phone,
                                                    terms.account,
                                                    terms.referenced);
        std::vector<ConversationSummary> out;
        while (rows->Step()) {
            out.push_back(ReadSummary(*rows));
        }
        AddEarlierReasons(impl_->db, out);
        return out;
    });
}

Result<std::optional<ConversationDetail>> Ledger::GetConversation(std::int64_t id) {
    return impl_->Guard([&]() -> Result<std::optional<ConversationDetail>> {
        Connection& db = impl_->db;
        // One read transaction: every part of the answer is from the same moment.
        Tx tx(db, TxKind::kRead);
        auto summary = LoadSummary(db, id);
        if (!summary) {
            return std::optional<ConversationDetail>();
        }
        std::vector<ConversationSummary> one = {std::move(*summary)};
        AddEarlierReasons(db, one);
        ConversationDetail detail;
        detail.summary = std::move(one.front());
        detail.reach = LoadReachability(db, detail.summary);

        auto debtor = db.Query(
            "SELECT d.id, d.name, d.phone, d.locale, d.timezone FROM debtors "
            "d JOIN conversations c ON c.debtor_id = d.id WHERE c.id = ?",
            id);
        if (debtor->Step()) {
            detail.debtor = DebtorSummary{debtor->Int64(0),
                                          debtor->Text(1),
                                          debtor->Text(2),
                                          debtor->Text(3),
                                          debtor->Text(4)};
            auto accounts = db.Query(
                "SELECT a.account_key, a.balance_cents, a.currency, a.due_date, "
                "a.min_payment_cents, a.segment, a.product, NULL, a.id FROM accounts a WHERE "
                "a.debtor_id = ? ORDER BY a.due_date, a.id",
                detail.debtor->id);
            while (accounts->Step()) {
                AccountDetail a;
                a.account_id = accounts->Text(0);
                a.balance_cents = accounts->Int64(1);
                a.currency = accounts->Text(2);
                a.due_date = accounts->Text(3);
                if (!accounts->IsNull(4)) {
                    a.min_payment_cents = accounts->Int64(4);
                }
                a.segment = accounts->Text(5);
                a.product = accounts->Text(6);
                // The reference the bot gives (Damm's check digit; an old Luhn one it gave
                // before is still accepted while the transition lasts: docs/references.md).
                a.reference = dialogs::PaymentReference(accounts->Int64(8));
                detail.accounts.push_back(std::move(a));
            }
            auto promises = db.Query(
                "SELECT p.id, a.account_key, p.amount_cents, p.currency, p.due_date, p.status, "
                "p.created_at FROM promises p JOIN accounts a ON a.id = p.account_id WHERE "
                "a.debtor_id = ? ORDER BY p.id",
                detail.debtor->id);
            while (promises->Step()) {
                detail.promises.push_back(PromiseDetail{promises->Int64(0),
                                                        promises->Text(1),
                                                        promises->Int64(2),
                                                        promises->Text(3),
                                                        promises->Text(4),
                                                        promises->Text(5),
                                                        promises->Text(6)});
            }
            auto plans = db.Query(
                "SELECT p.id, a.account_key, p.kind, p.total_cents, p.discount_cents, "
                "p.currency, p.status, p.created_at FROM payment_plans p JOIN accounts a ON a.id "
                "= p.account_id WHERE a.debtor_id = ? ORDER BY p.id",
                detail.debtor->id);
            Prepared installments = db.Prepare(
                "SELECT seq, due_date, amount_cents, status FROM "
                "plan_installments WHERE plan_id = ? ORDER BY seq");
            while (plans->Step()) {
                PlanDetail p;
                p.id = plans->Int64(0);
                p.account_id = plans->Text(1);
                p.kind = plans->Text(2);
                p.total_cents = plans->Int64(3);
                p.discount_cents = plans->Int64(4);
                p.currency = plans->Text(5);
                p.status = plans->Text(6);
                p.created_at = plans->Text(7);
                installments.Bind(p.id);
                while (installments->Step()) {
                    p.installments.push_back(InstallmentDetail{installments->Int(0),
                                                               installments->Text(1),
                                                               installments->Int64(2),
                                                               installments->Text(3)});
                }
                detail.plans.push_back(std::move(p));
            }
        }

        auto transcript = Transcript(id);
        if (!transcript) {
            return transcript.error();
        }
        detail.messages = std::move(*transcript);

        auto notes = db.Query(
            "SELECT n.id, a.id, a.name, n.body, n.created_at FROM notes n "
            "JOIN agents a ON a.id = n.agent_id WHERE n.conversation_id = ? "
            "ORDER BY n.id",
            id);
        while (notes->Step()) {
            detail.notes.push_back(NoteDetail{notes->Int64(0),
                                              AgentRef{notes->Int64(1), notes->Text(2)},
                                              notes->Text(3),
                                              notes->Text(4)});
        }
        auto events = db.Query(
            "SELECT at, actor, kind, detail FROM audit_log WHERE "
            "conversation_id = ? ORDER BY id",
            id);
        while (events->Step()) {
            detail.events.push_back(
                AuditEntry{events->Text(0), events->Text(1), events->Text(2), events->Text(3)});
        }
        auto agents = db.Query("SELECT id, name FROM agents ORDER BY id");
        while (agents->Step()) {
            detail.agents.push_back(AgentRef{agents->Int64(0), agents->Text(1)});
        }
        tx.commit();
        return std::optional<ConversationDetail>(std::move(detail));
    });
}

Result<ActionOutcome> Ledger::ClaimConversation(std::int64_t id,
                                                const Agent& by,
                                                std::optional<std::int64_t> assignee,
                                                std::string_view now) {
    return impl_->Guard([&]() -> Result<ActionOutcome> {
        Connection& db = impl_->db;
        const std::string at(now);
        return Act(db, id, [&](const ConversationSummary& c) -> ActionOutcome {
            const std::int64_t to = assignee.value_or(by.id);
            const auto event = dialogs::ClaimOrAssign(by.actor(), assignee);
            const auto decision = Decide(c, event, by, to);
            if (!decision.ok()) {
                return Refuse(decision, c);
            }
            if (!decision.changes) {
                // Already there: a claim by the holder still counts as activity.
                db.Exec("UPDATE conversations SET agent_activity_at = ? WHERE id = ?", at, id);
                return {};
            }
            if (!db.One<std::string>("SELECT name FROM agents WHERE id = ? AND disabled_at IS NULL",
                                     to)) {
                return Refuse(Refusal::kNotFound);
            }
            db.Exec(
                "UPDATE conversations SET state = 'claimed', "
                "assigned_agent_id = ?1, claimed_at = ?2, agent_activity_at "
                "= ?2, last_activity_at = ?2 WHERE id = ?3",
                to,
                at,
                id);
            const std::string from = c.holder && c.state == dialogs::ConversationState::kClaimed
                                         ? std::to_string(c.holder->id)
                                         : "null";
            WriteAudit(db,
                       ConversationAudit(
                           db,
                           c,
                           Actor(by),
                           event == dialogs::LifecycleEvent::kAssign ? "reassigned" : "claimed"),
                       at,
                       "{\"agent_id\":" + std::to_string(to) + ",\"from_agent_id\":" + from +
                           ",\"previous_state\":\"" + StateName(c) + "\"}");
            return {};
        });
    });
}

Result<ActionOutcome> Ledger::ReleaseConversation(std::int64_t id,
                                                  const Agent& by,
                                                  std::string_view now) {
    return impl_->Guard([&]() -> Result<ActionOutcome> {
        Connection& db = impl_->db;
        const std::string at(now);
        return Act(db, id, [&](const ConversationSummary& c) -> ActionOutcome {
            const auto decision = Decide(c, dialogs::LifecycleEvent::kRelease, by);
            if (!decision.ok()) {
                return Refuse(decision, c);
            }
            const std::string handed_back = dialogs::ToJson(dialogs::HandBack(
                dialogs::DialogStateFromJson(db.One<std::string>("SELECT dialog_state FROM "
                                                                 "conversations WHERE id = ?",
                                                                 id)
                                                 .value_or(""))));
            db.Exec(
                "UPDATE conversations SET state = 'bot', assigned_agent_id = NULL, claimed_at = "
                "NULL, agent_activity_at = NULL, misunderstood_count = 0, dialog_state = ?1, "
                "last_activity_at = ?2 WHERE id = ?3",
                handed_back,
                at,
                id);
            WriteAudit(db,
                       ConversationAudit(db, c, Actor(by), "released"),
                       at,
                       "{\"previous_state\":\"" + StateName(c) + "\"}");
            return {};
        });
    });
}

Result<ActionOutcome> Ledger::CloseConversation(std::int64_t id,
                                                const Agent& by,
                                                std::string_view disposition,
                                                std::string_view note,
                                                std::string_view now,
                                                const std::optional<AgentAgreement>& promise,
                                                const dialogs::Policy& policy,
                                                const std::optional<std::string>& pinned_today) {
    return impl_->Guard([&]() -> Result<ActionOutcome> {
        Connection& db = impl_->db;
        const std::string at(now);
        return Act(db, id, [&](const ConversationSummary& c) -> ActionOutcome {
            const auto decision = Decide(c, dialogs::LifecycleEvent::kClose, by);
            if (!decision.ok()) {
                return Refuse(decision, c);
            }
            ActionOutcome out;
            if (promise) {
                out = RecordAgreementIn(db, c, by, *promise, policy, pinned_today, at);
                if (!out.ok()) {
                    return out;
                }
            }
            db.Exec(
                "UPDATE conversations SET state = 'closed', disposition = ?1, "
                "closed_at = ?2, last_activity_at = ?2, agent_activity_at = "
                "?2 WHERE id = ?3",
                disposition,
                at,
                id);
            if (disposition == "wrong_number") {
                // As when the debtor says so: no further contact with this phone.
                db.Exec(
                    "INSERT INTO contact_preferences (phone, channel, kind, active, recorded_at, "
                    "source) VALUES (?, 'all', 'wrong_number', 1, ?, 'agent') ON CONFLICT "
                    "(phone, channel, kind) DO UPDATE SET active = 1, recorded_at = "
                    "excluded.recorded_at, source = excluded.source",
                    c.phone,
                    at);
                CancelPending(db, c.phone, "all", at);
            }
            if (!note.empty()) {
                out.created_id = db.Insert(
                    "INSERT INTO notes (conversation_id, agent_id, body, "
                    "created_at) VALUES (?, ?, ?, ?) RETURNING id",
                    id,
                    by.id,
                    note,
                    at);
            }
            WriteAudit(db,
                       ConversationAudit(db, c, Actor(by), "closed"),
                       at,
                       AuditDetail("disposition", disposition, "previous_state", StateName(c)));
            return out;
        });
    });
}

Result<ActionOutcome> Ledger::RecordAgreement(std::int64_t id,
                                              const Agent& by,
                                              const AgentAgreement& agreement,
                                              const dialogs::Policy& policy,
                                              const std::optional<std::string>& pinned_today,
                                              std::string_view now) {
    return impl_->Guard([&]() -> Result<ActionOutcome> {
        Connection& db = impl_->db;
        const std::string at(now);
        return Act(db, id, [&](const ConversationSummary& c) -> ActionOutcome {
            const auto decision = Decide(c, dialogs::LifecycleEvent::kRecord, by);
            if (!decision.ok()) {
                return Refuse(decision, c);
            }
            ActionOutcome out = RecordAgreementIn(db, c, by, agreement, policy, pinned_today, at);
            if (!out.ok()) {
                return out;
            }
            db.Exec("UPDATE conversations SET last_activity_at = ? WHERE id = ?", at, id);
            if (Decide(c, dialogs::LifecycleEvent::kReply, by).ok()) {
                // The holder is at work: their claim does not go idle. A supervisor's
                // recording does not keep someone else's claim alive.
                db.Exec("UPDATE conversations SET agent_activity_at = ? WHERE id = ?", at, id);
            }
            return out;
        });
    });
}

Result<ActionOutcome> Ledger::SendAgentMessage(std::int64_t id,
                                               const Agent& by,
                                               const AgentMessage& message,
                                               std::string_view now) {
    return impl_->Guard([&]() -> Result<ActionOutcome> {
        Connection& db = impl_->db;
        const std::string at(now);
        const auto now_instant = dialogs::ParseIsoInstant(at).value_or(std::chrono::sys_seconds{});
        return Act(db, id, [&](const ConversationSummary& c) -> ActionOutcome {
            const auto decision = Decide(c, dialogs::LifecycleEvent::kReply, by);
            if (!decision.ok()) {
                return Refuse(decision, c);
            }
            if (c.channel == dialogs::Channel::kSms && message.too_long_for_sms) {
                return Refuse(Refusal::kTooLongForSms);
            }
            switch (dialogs::MayWrite(dialogs::WritePurpose::kAgentReply,
                                      AgentReplyRecipient(c, LoadReachability(db, c)),
                                      now_instant,
                                      nullptr)
                        .block) {
                case dialogs::WriteBlock::kNone:
                    break;
                case dialogs::WriteBlock::kWrongNumber:
                    return Refuse(Refusal::kWrongNumber);
                case dialogs::WriteBlock::kOptedOut:
                    return Refuse(Refusal::kOptedOut);
                case dialogs::WriteBlock::kOutsideWindow: {
                    ActionOutcome out = Refuse(Refusal::kOutsideWindow);
                    out.last_inbound_at = c.last_inbound_at;
                    return out;
                }
                case dialogs::WriteBlock::kClosed:
                case dialogs::WriteBlock::kHeldByPerson:
                case dialogs::WriteBlock::kOutsideHours:
                    return Refuse(Refusal::kClosed);  // not asked of a collector's reply
            }
            ActionOutcome out;
            out.created_id = QueueOutbound(db,
                                           {id,
                                            std::string(dialogs::ToString(c.channel)),
                                            c.phone,
                                            Actor(by),
                                            message.text,
                                            message.payload,
                                            "",
                                            ""},
                                           at);
            db.Exec(
                "UPDATE conversations SET agent_activity_at = ?1, "
                "last_activity_at = ?1 WHERE id = ?2",
                at,
                id);
            WriteAudit(db,
                       ConversationAudit(db, c, Actor(by), "agent_message"),
                       at,
                       "{\"message_id\":" + std::to_string(out.created_id) + "}");
            return out;
        });
    });
}

Result<ActionOutcome> Ledger::AddNote(std::int64_t id,
                                      const Agent& by,
                                      std::string_view text,
                                      std::string_view now) {
    return impl_->Guard([&]() -> Result<ActionOutcome> {
        Connection& db = impl_->db;
        const std::string at(now);
        return Act(db, id, [&](const ConversationSummary& c) -> ActionOutcome {
            const std::int64_t note_id = db.Insert(
                "INSERT INTO notes (conversation_id, agent_id, body, created_at) VALUES (?, ?, ?, "
                "?) RETURNING id",
                id,
                by.id,
                text,
                at);
            ActionOutcome out;
            out.created_id = note_id;
            if (Decide(c, dialogs::LifecycleEvent::kReply, by).ok()) {  // the holder
                db.Exec("UPDATE conversations SET agent_activity_at = ? WHERE id = ?", at, id);
            }
            WriteAudit(db,
                       ConversationAudit(db, c, Actor(by), "note_added"),
                       at,
                       "{\"note_id\":" + std::to_string(out.created_id) + "}");
            return out;
        });
    });
}

namespace {

// Conversations `ids` (claimed) go back to the collectors' queue, as the lifecycle table says
// of a claim that ends without its holder (`kind` in the audit log), and from there to the next
// person on shift other than the one it came from.
void BackToQueue(Connection& db,
                 const std::vector<std::int64_t>& ids,
                 const std::string& at,
                 const char* kind) {
    Prepared back = db.Prepare(
        "UPDATE conversations SET state = ?3, assigned_agent_id "
        "= NULL, claimed_at = NULL, agent_activity_at = NULL, "
        "escalated_at = coalesce(escalated_at, ?1), escalation_reason = "
        "coalesce(escalation_reason, 'claim_expired') WHERE id = ?2");
    for (const std::int64_t id : ids) {
        const auto c = LoadSummary(db, id);
        const auto decided =
            dialogs::Decide({c->state, std::nullopt}, dialogs::LifecycleEvent::kIdleClaimEnds, {});
        back.Exec(at, id, std::string(dialogs::ToString(decided.to)));
        WriteAudit(db,
                   ConversationAudit(db, *c, "system", kind),
                   at,
                   "{\"agent_id\":" + (c->holder ? std::to_string(c->holder->id) : "null") + "}");
        HandOut(db, id, at, c->holder ? std::optional(c->holder->id) : std::nullopt);
    }
}

}  // namespace

Result<AgentDisabled> Ledger::DisableAgent(std::int64_t agent_id,
                                           std::string_view now,
                                           std::optional<std::int64_t> by) {
    return impl_->Guard([&]() -> Result<AgentDisabled> {
        Connection& db = impl_->db;
        const std::string at(now);
        // SERIALIZABLE on PostgreSQL: two supervisors disabling each other at once cannot both
        // succeed; the one retried finds itself disabled.
        Tx tx(db);
        AgentDisabled out;
        const std::string active =
            "disabled_at IS NULL AND (expires_on IS NULL OR expires_on >= substr(?, 1, 10))";
        if (by && !db.One<int>("SELECT 1 FROM agents WHERE id = ? AND " + active, *by, at)) {
            out.result = DisableResult::kActorGone;
            return out;
        }
        const auto role = db.One<std::string>(
            "SELECT role FROM agents WHERE id = ? AND disabled_at IS NULL", agent_id);
        if (!role) {
            return out;  // kNoActiveAgent
        }
        // Someone must be left to run the team: a supervisor whose access does not run out.
        if (by && *role == "supervisor" &&
            !db.One<int>("SELECT 1 FROM agents WHERE id <> ? AND role = 'supervisor' AND "
                         "disabled_at IS NULL AND expires_on IS NULL LIMIT 1",
                         agent_id)) {
            out.result = DisableResult::kLastSupervisor;
            return out;
        }
        db.Exec(
            "UPDATE agents SET disabled_at = ?, on_shift_since = NULL WHERE id = ?", at, agent_id);
        std::vector<std::int64_t> held;
        auto q = db.Query(
            "SELECT id FROM conversations WHERE state = 'claimed' AND assigned_agent_id = ?",
            agent_id);
        while (q->Step()) {
            held.push_back(q->Int64(0));
        }
        BackToQueue(db, held, at, "claim_released");
        WriteAudit(
            db,
            {.actor = by ? "agent:" + std::to_string(*by) : "system", .kind = "agent_disabled"},
            at,
            AuditDetail("agent_id",
                        agent_id,
                        "conversations_returned",
                        static_cast<std::int64_t>(held.size())));
        tx.commit();
        out.result = DisableResult::kDisabled;
        out.conversations_returned = static_cast<std::int64_t>(held.size());
        return out;
    });
}

Result<std::vector<std::int64_t>> Ledger::ExpireIdleClaims(std::string_view idle_since,
                                                           std::string_view now) {
    return impl_->Guard([&]() -> Result<std::vector<std::int64_t>> {
        Connection& db = impl_->db;
        const std::string at(now);
        Tx tx(db);
        std::vector<std::int64_t> expired;
        std::set<std::int64_t> away;
        {
            auto idle = db.Query(
                "SELECT id, assigned_agent_id FROM conversations WHERE state = 'claimed' AND "
                "coalesce(agent_activity_at, claimed_at, last_activity_at) < ?",
                idle_since);
            while (idle->Step()) {
                expired.push_back(idle->Int64(0));
                if (!idle->IsNull(1)) {
                    away.insert(idle->Int64(1));
                }
            }
        }
        // Someone on shift who left a claim idle this long is away: off shift, so that what
        // comes next (this conversation too) goes to someone who is there.
        for (const std::int64_t agent : away) {
            if (db.Exec("UPDATE agents SET on_shift_since = NULL WHERE id = ? AND on_shift_since "
                        "IS NOT NULL",
                        agent) > 0) {
                WriteAudit(db,
                           {.actor = "system", .kind = "shift_ended"},
                           at,
                           AuditDetail("agent_id", agent, "reason", "idle_claim"));
            }
        }
        BackToQueue(db, expired, at, "claim_expired");
        tx.commit();
        return expired;
    });
}

}  // namespace cobrador::store
