#pragma once
// The ledger: cobrador's one source of truth, an SQLite file (WAL, foreign keys, versioned
// migrations). The schema and why it looks the way it does are described at the top of
// store/src/schema.cpp.
//
// Thread-safety: a Ledger is one SQLite connection and must be used by one thread at a time
// (SQLiteCpp's rule). Give each thread that needs the ledger its own Ledger on the same file;
// SQLite's WAL lets one writer and many readers work together, waiting up to the busy timeout.
// Errors: every operation returns a result; SQLite exceptions never leave this module.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/system/result.hpp>

#include "store/cases.hpp"
#include "store/collector.hpp"
#include "store/errors.hpp"
#include "store/messaging.hpp"
#include "store/payments.hpp"
#include "store/portfolio.hpp"
#include "store/reminders.hpp"
#include "store/report.hpp"

namespace cobrador::store {

template <class T>
using Result = boost::system::result<T>;

struct ImportSummary {
    std::int64_t import_id = 0;
    std::size_t debtors_inserted = 0;
    std::size_t debtors_updated = 0;
    std::size_t accounts_inserted = 0;
    std::size_t accounts_updated = 0;  // any field changed
    std::size_t balances_changed = 0;  // of those updated, how many got a new balance
    std::size_t accounts_unchanged = 0;
};

// Called as rows are written: (rows written, rows in total).
using WriteProgressFn = std::function<void(std::size_t done, std::size_t total)>;

// What Ledger::CopyInto copied: every table's rows on both sides, and the money on both sides.
struct CopyReport {
    struct Table {
        std::string name;
        std::int64_t source_rows = 0;
        std::int64_t target_rows = 0;
    };

    std::vector<Table> tables;
    std::int64_t source_balance_cents = 0;  // sum of every account's balance
    std::int64_t target_balance_cents = 0;
    std::int64_t source_payment_cents = 0;  // sum of every payment received
    std::int64_t target_payment_cents = 0;

    bool Matches() const;
};

// Called as a copy goes: (table, rows of it copied so far).
using CopyProgressFn = std::function<void(const std::string& table, std::int64_t rows)>;

class Ledger {
public:
    enum class OpenMode {
        kReadWriteCreate,  // create the file if missing (SQLite)
        kReadWrite,        // the file must exist
    };

    // Opens the ledger `target` names: a PostgreSQL database when it is a libpq URI or
    // connection string (postgresql://user@host/db?sslmode=verify-full, "host=... dbname=..."),
    // otherwise an SQLite file (":memory:" works for a throw-away ledger) with WAL, foreign keys
    // and a busy timeout. Does not migrate. Errc::kCannotOpen, kCorrupt, kMissing (kReadWrite and
    // no such SQLite file); `reason`, when given,
    // gets the database's own words (never a password).
    static Result<Ledger> Open(const std::string& target,
                               OpenMode mode = OpenMode::kReadWriteCreate,
                               std::string* reason = nullptr);

    // Whether `target` names a PostgreSQL database rather than an SQLite file.
    static bool IsPostgres(const std::string& target);

    // `target` fit for logs, errors and answers: a PostgreSQL URI or connection string without
    // its password; an SQLite path as is.
    static std::string Describe(const std::string& target);

    Ledger(Ledger&&) noexcept;
    Ledger& operator=(Ledger&&) noexcept;
    Ledger(const Ledger&) = delete;
    Ledger& operator=(const Ledger&) = delete;
    ~Ledger();

    // The schema version this binary writes.
    static int LatestSchemaVersion();

    // The version the file is at (0 for an empty file).
    Result<int> SchemaVersion();

    // Brings the schema up to `target` (default: the latest), one transaction per version, and
    // returns the versions it applied (empty when already there: running it twice is safe).
    // Errc::kSchemaTooNew when the file is ahead of this binary.
    Result<std::vector<int>> Migrate(int target = LatestSchemaVersion());

    // Ready to serve: reachable, and the schema is exactly the latest. Errc::kNotMigrated,
    // kSchemaTooNew, kBusy, kIo.
    Result<void> CheckReady();

    // Copies the whole ledger to `destination` with SQLite's online backup, a few pages at a
    // time, so a running server keeps writing meanwhile; the copy is a consistent snapshot. It
    // is written beside `destination` and renamed into place once complete and checked, so a
    // failed backup never leaves a half file under that name. An existing `destination` is
    // refused (kCannotOpen), never overwritten. Returns the number of pages copied.
    Result<std::int64_t> Backup(const std::string& destination);

    // Upserts debtors (by debtor_id) and accounts (by account_id) in one transaction: all rows
    // or none. A changed balance is kept in the account's balance history. `now` is an ISO
    // 8601 UTC instant ("2026-11-22T10:00:00Z"). Errc::kNotMigrated, kBusy, kIo, kConstraint.
    Result<ImportSummary> ImportPortfolio(const std::vector<PortfolioRow>& rows,
                                          std::string_view source_name,
                                          std::string_view now,
                                          const WriteProgressFn& progress = {});

    // The KPIs for the query's period. Errc::kNotMigrated.
    Result<Report> BuildReport(const ReportQuery& query);

    // Creates a collector or supervisor who signs in with a token whose SHA-256 hex digest is
    // `token_sha256`; returns the agent's id. Errc::kConstraint for a token already in use.
    // `expires_on` (YYYY-MM-DD, UTC), when given: the token works through that day only.
    // `by`: the supervisor who added it from the API (the audit's actor), else the command line.
    Result<std::int64_t> AddAgent(std::string_view name,
                                  std::string_view role,
                                  std::string_view token_sha256,
                                  std::string_view now,
                                  std::optional<std::string> expires_on = std::nullopt,
                                  std::optional<std::int64_t> by = std::nullopt);

    // --- Webhooks, the inbound queue and the outbox (store/src/messaging.cpp) ---

    // Stores a webhook's messages and statuses in one transaction. A message whose provider id
    // is already stored is a duplicate and changes nothing; a status is logged once per
    // (message, status) and moves the message's status only forward (queued < sent <
    // delivered/failed < read). Errc::kBusy, kIo: nothing stored, the provider should retry.
    Result<WebhookOutcome> RecordWebhook(const std::vector<InboundRecord>& messages,
                                         const std::vector<StatusRecord>& statuses,
                                         std::string_view now);

    // Inbound events the dialog has not handled yet, oldest first.
    Result<std::vector<PendingInbound>> PendingInboundEvents(std::size_t limit);

    // Handles one inbound event in one transaction: finds or opens the conversation for its
    // phone and channel (linking the debtor the phone belongs to), stores the message in the
    // transcript, asks `decide` what to do (while a collector holds the conversation the bot
    // stays silent, unless the debtor opts out, back in, or says it is a wrong number), applies its
    // commands (verification, promises, plans, references, opt-outs, wrong numbers, escalations,
    // each with its audit-log row), stores the dialog's state, queues the replies in the outbox,
    // and marks the event done. Returns the conversation id. An event already handled (a second
    // worker, a replay) is left alone.
    // `queued`, when given, gets the replies as they were queued (a case's folio filled in).
    Result<std::int64_t> HandleInbound(const PendingInbound& event,
                                       std::string_view text,
                                       const DecideFn& decide,
                                       std::string_view now,
                                       std::vector<Reply>* queued = nullptr);

    // The debtor's locale for a phone ("es-MX" when the phone is unknown).
    Result<std::string> LocaleForPhone(std::string_view phone);

    // Takes up to `limit` pending outbox rows due at `now` for the sender `owner`, oldest first,
    // and holds them until `lease_until`: no other sender (thread or replica) takes them
    // meanwhile. A recipient with a row held by anyone is skipped, so one recipient's messages go
    // out one at a time and in order across replicas. Each row comes with its lease token; the
    // records below are kept only while the row still carries it, so a sender whose lease ran out
    // and whose row another sender took over cannot record over it (Errc::kLeaseLost).
    Result<std::vector<OutboxItem>> ClaimOutbox(std::string_view owner,
                                                std::string_view now,
                                                std::string_view lease_until,
                                                std::size_t limit);

    // Rows taken but not tried (`lease` tokens as claimed): anyone may take them at once.
    Result<void> ReleaseOutbox(const std::vector<std::pair<std::int64_t, std::int64_t>>& leases);

    // Not now (outside the contact hours): due again at `until`, no attempt counted, released.
    Result<void> DeferOutbox(std::int64_t outbox_id, std::int64_t lease, std::string_view until);

    // The provider accepted the message: the outbox row is done, the message gets its provider
    // id and status "sent" (or a later status already reported for that id). Recording it twice
    // with the same lease is harmless.
    Result<void> MarkOutboxSent(std::int64_t outbox_id,
                                std::int64_t lease,
                                std::string_view provider_message_id,
                                std::string_view now);

    // Try again at `next_attempt_at` (released until then); `error` says why (for operators; no
    // secrets).
    Result<void> MarkOutboxRetry(std::int64_t outbox_id,
                                 std::int64_t lease,
                                 std::string_view next_attempt_at,
                                 std::string_view error,
                                 std::string_view now);

    // Will not succeed: the row and its message are "failed" with the provider's error code.
    Result<void> MarkOutboxFailed(std::int64_t outbox_id,
                                  std::int64_t lease,
                                  std::string_view error_code,
                                  std::string_view error,
                                  std::string_view now);

    // Outbox depth and age, for /metrics.
    Result<OutboxStats> GetOutboxStats(std::string_view now);

    // A conversation's messages, oldest first (for `chat`, the console and tests).
    Result<std::vector<TranscriptLine>> Transcript(std::int64_t conversation_id);

    // --- media (media_ledger.cpp) ---
    // The files due to be fetched at `now`, oldest first, each held until `hold_until` so
    // that no other worker (or replica) takes it meanwhile.
    Result<std::vector<MediaJob>> DueMedia(std::string_view now,
                                           std::string_view hold_until,
                                           std::size_t limit);
    // Records what fetching file `id` came to; false when it was no longer pending.
    Result<bool> CompleteMedia(std::int64_t id, const FetchedMedia& fetched, std::string_view now);
    // A fetch that failed: due again at `next_attempt_at`, or given up ('failed').
    Result<void> RetryMedia(std::int64_t id,
                            std::string_view error,
                            std::string_view next_attempt_at,
                            bool give_up);
    // File `id` with its bytes (empty unless stored); nullopt when there is none.
    Result<std::optional<MediaFile>> Media(std::int64_t id);
    // Stored images and documents not read yet, oldest first (a reader that died before
    // recording its reading leaves its file here).
    Result<std::vector<UnreadReceipt>> UnreadReceipts(std::size_t limit);
    // Keeps what receipt `media_id` said; false when it was read already. `check`: it waits
    // to be confirmed with the CEP (DueReceiptChecks).
    Result<bool> RecordReceipt(std::int64_t media_id,
                               const ReceiptReading& reading,
                               std::string_view now,
                               bool check = false);

    // --- receipts confirmed with the CEP (receipt_check_ledger.cpp) ---
    // Receipts due to be looked up at `now`, oldest first, held until `hold_until`.
    Result<std::vector<ReceiptCheckJob>> DueReceiptChecks(std::string_view now,
                                                          std::string_view hold_until,
                                                          std::size_t limit);
    // A lookup that could not be made (the CEP down or busy): due again at `next_attempt_at`.
    Result<void> RetryReceiptCheck(std::int64_t id,
                                   std::string_view error,
                                   std::string_view next_attempt_at);
    // A receipt that could not even be fetched or kept: conversation `conversation_id` goes
    // to a person, and `reply` may tell the debtor ("to_person"). Whether a message was queued.
    Result<bool> ReceiptToPerson(std::int64_t conversation_id,
                                 std::string_view now,
                                 const ReceiptReplyFn& reply);
    // Settles check `id` in one transaction. Confirmed: the transfer is applied as a payment
    // (once per spei_key, whoever reported it: a second report is "duplicate"), and `notice`
    // may thank the debtor; held in suspense, it also goes to a person. Not confirmed: the
    // conversation goes to the collectors' queue ("receipt_review") and `reply` may tell the
    // debtor a person will check it.
    Result<ReceiptCheckOutcome> SettleReceiptCheck(std::int64_t id,
                                                   const ReceiptVerdict& verdict,
                                                   std::string_view now,
                                                   const PaymentNoticeFn& notice,
                                                   const ReceiptReplyFn& reply);

    // The newest conversation for a phone on a channel, if any.
    Result<std::optional<std::int64_t>> FindConversation(std::string_view phone,
                                                         std::string_view channel);

    // The accounts of the debtors whose phone is `phone` (E.164), most overdue first, with
    // who they are: for the demo's sandbox phone, which greets the person and pays for them.
    Result<std::vector<PhoneAccount>> AccountsOfPhone(std::string_view phone);

    // --- Payments and promises (store/src/payment_ledger.cpp) ---

    // Applies payments in one transaction. A payment_id already stored is a duplicate and
    // changes nothing. A reference whose check digit is right and names an account in the same
    // currency is applied: the balance goes down (never below zero; the rest is recorded as
    // overpaid), open promises are paid earliest first and kept once paid in full (all of them
    // once the balance is zero), the active plan's instalments are paid in order. Anything else
    // is held in suspense with the reason, never dropped. For each applied payment, `notice`
    // may write a thank-you to the debtor's latest conversation (not to an opted-out channel or
    // a wrong number). Errc::kNotMigrated, kBusy, kIo.
    Result<PaymentsSummary> ApplyPayments(const std::vector<PaymentRecord>& payments,
                                          std::string_view source,  // webhook, import
                                          std::string_view now,
                                          const PaymentNoticeFn& notice = {});

    // Stores one verified provider notification and applies what it reports, in one
    // transaction. The same (provider, event_id) again is a duplicate and changes nothing.
    // Money received is applied like ApplyPayments, once per provider payment whatever the
    // number of events that report it; a part received later (a bank transfer funded in
    // parts) is applied as its own payment. Money taken back puts the balance back up (what
    // was overpaid goes first), re-opens the promises and instalments it had paid and undoes a
    // settlement's forgiveness; a reversal whose payment has not arrived waits for it, and
    // nothing is ever reversed twice or beyond what was received. A notification with
    // fetch_payment is stored as pending. Errc::kNotMigrated, kBusy, kIo.
    Result<ProviderEventOutcome> RecordProviderEvent(const ProviderEvent& event,
                                                     std::string_view now,
                                                     const PaymentNoticeFn& notice);

    // Whether the account with this ledger id exists (a per-debtor CLABE names it).
    Result<bool> AccountExists(std::int64_t id);

    // Pending notifications due at `now`, oldest first; each is held for `hold_until` so that
    // another worker (or replica) does not fetch it at the same time.
    Result<std::vector<PendingProviderEvent>> DueProviderEvents(std::string_view now,
                                                                std::string_view hold_until,
                                                                std::size_t limit);

    // The fetched payment's reports for a pending notification: applied as RecordProviderEvent
    // does, and the notification is done. Nothing happens when it is no longer pending.
    Result<ProviderEventOutcome> CompleteProviderEvent(std::int64_t id,
                                                       const std::vector<ProviderReport>& reports,
                                                       std::string_view now,
                                                       const PaymentNoticeFn& notice);

    // Instruments debtors asked for (the dialog's InstrumentRequested) due at `now`, oldest
    // first, each held until `hold_until` so that another worker (or replica) does not create
    // it at the same time.
    Result<std::vector<InstrumentJob>> DueInstruments(std::string_view now,
                                                      std::string_view hold_until,
                                                      std::size_t limit);

    // What the provider created for a pending instrument: stored as ready, and handed to the
    // debtor who asked through `notice` when their conversation may be written to and the
    // identity check still holds. Nothing happens when it is no longer pending.
    Result<InstrumentOutcome> CompleteInstrument(std::int64_t id,
                                                 const CreatedInstrument& created,
                                                 std::string_view now,
                                                 const InstrumentNoticeFn& notice);

    // Work for a provider that failed (a payment not fetched, an instrument not created):
    // tried again at `next_attempt_at`, or given up (`failed`) with the error kept for the
    // operator.
    Result<void> RetryProviderWork(ProviderWork work,
                                   std::int64_t id,
                                   std::string_view error,
                                   std::string_view next_attempt_at,
                                   bool failed);

    // Open promises more than `grace_days` days overdue, counted in the debtor's own calendar
    // (their time zone's date at `now`), become broken. The debtor's second broken promise in 30
    // days escalates their conversation; otherwise `follow_up` may write to them (not while a
    // collector holds the conversation).
    Result<std::vector<BrokenPromise>> BreakOverduePromises(int grace_days,
                                                            std::string_view now,
                                                            const FollowUpFn& follow_up = {});

    // A WhatsApp message that failed because the number cannot receive WhatsApp (131026) is
    // sent again by SMS to the same phone, once, unless the phone opted out of SMS or is a wrong
    // number. `message` is our messages.id, or found by `provider_message_id` when 0.
    // `sms_payload` turns the text into the outbox's payload. Returns the new message's id, or
    // nullopt when nothing was queued.
    Result<std::optional<std::int64_t>> FallBackToSms(
        std::int64_t message,
        std::string_view provider_message_id,
        const std::function<std::string(const std::string& text)>& sms_payload,
        std::string_view now);

    // How long the Luhn references of the accounts that had them are still accepted; with
    // `ends_on`, sets the last day (YYYY-MM-DD, the caller checks it) first, or opens the
    // transition again for `std::string()`: `cobrador references`.
    Result<ReferenceTransition> LegacyReferences(std::optional<std::string> ends_on = std::nullopt);

    // Payments held in suspense, newest first (the report and the collector API show them).
    Result<std::vector<SuspensePayment>> SuspensePayments(std::size_t limit);

    // A person matches a payment held in suspense (by its payment_id) to an account (by its
    // key; spaces around it and a difference of case only are forgiven when one account fits):
    // it is applied exactly as if its reference had named that account (balance, plan,
    // promises, `notice`'s thank-you), in one transaction, at most once however many people
    // match it at the same moment; the audit row (payment_matched) names who, the reference it
    // came with and why it was held. When another payment of the same reference, amount and
    // currency lies within two days (the same transfer told twice, say by a statement without
    // its clave de rastreo and by STP), it is matched only when `confirmed`. Anything else is a
    // MatchResult and changes nothing.
    Result<SuspenseMatch> MatchSuspensePayment(std::string_view payment_id,
                                               std::string_view account_key,
                                               std::int64_t agent_id,
                                               bool confirmed,
                                               std::string_view now,
                                               const PaymentNoticeFn& notice = {});

    // --- Reminders (store/src/reminder_ledger.cpp) ---

    // Every debtor with an account that has a balance, with what the scheduler needs to decide
    // (see ReminderDebtor), read in one transaction. `since`: how far back `recent` goes, and
    // the oldest instalment date still reminded of.
    Result<std::vector<ReminderDebtor>> ReminderCandidates(std::string_view now,
                                                           std::string_view since);

    // Queues reminders, each with its record and its outbox row, in one transaction. One that
    // was already queued (same rule and subject), or whose phone can no longer be written to
    // on that channel, is skipped. Returns the ones queued.
    Result<std::vector<ReminderToQueue>> QueueReminders(const std::vector<ReminderToQueue>& batch,
                                                        std::string_view now);

    // --- The collector API (store/src/collector.cpp) ---

    // The enabled agent whose token has this SHA-256 hex digest and has not expired by `now`
    // (ISO 8601 UTC), if any.
    Result<std::optional<Agent>> AgentByToken(std::string_view token_sha256, std::string_view now);

    Result<std::vector<Agent>> ListAgents();

    // Disables every enabled agent called `name` (their tokens stop working); returns how many.
    Result<std::int64_t> DisableAgentsNamed(std::string_view name, std::string_view now);
    // Agent `agent_id` can no longer sign in (its token stops working at once); the
    // conversations it held go back to the queue, and how many is returned.
    // `by`: the supervisor who does it from the API (the audit's actor), who must still be
    // active, and who may not disable the last active supervisor whose access does not expire
    // (nobody could then manage the team but from the command line); the command line (no
    // `by`) may do either.
    Result<AgentDisabled> DisableAgent(std::int64_t agent_id,
                                       std::string_view now,
                                       std::optional<std::int64_t> by = std::nullopt);

    // Agent `agent_id` goes on shift (`on`) or off it, by agent `by` (themselves, or a
    // supervisor: the audit's actor). New escalations are handed out in turn among the people
    // on shift, as claims by them; going off shift keeps what one holds. Nothing when there is
    // no such enabled agent whose access holds at `now`.
    Result<std::optional<Agent>> SetShift(std::int64_t agent_id,
                                          bool on,
                                          std::int64_t by,
                                          std::string_view now);

    // The queue: conversations matching `filter`, oldest first (by escalation, else start).
    Result<std::vector<ConversationSummary>> ListConversations(const ConversationFilter& filter);

    // One conversation with its debtor, accounts, promises, plans, transcript, notes and audit
    // log, read in one transaction; nullopt when there is no such conversation.
    Result<std::optional<ConversationDetail>> GetConversation(std::int64_t id);

    // `by` takes the conversation over (or, a supervisor, gives it to `assignee`): the bot
    // stays silent while it is claimed. Refused: kNotFound, kForbidden (a collector assigning
    // someone else), kClosed, kHeldByOther.
    Result<ActionOutcome> ClaimConversation(std::int64_t id,
                                            const Agent& by,
                                            std::optional<std::int64_t> assignee,
                                            std::string_view now);

    // Hands it back to the bot, which reads the next message from its menu. The holder, or a
    // supervisor, may. Refused: kNotFound, kClosed, kHeldByOther, kNotHeld.
    Result<ActionOutcome> ReleaseConversation(std::int64_t id,
                                              const Agent& by,
                                              std::string_view now);

    // Ends it with a disposition (IsDisposition) and an optional note. The holder, or a
    // supervisor, may. Refused: kNotFound, kClosed, kHeldByOther, kNotHeld.
    // With `promise` (the promise_to_pay disposition), the promise is recorded in the same
    // transaction, judged as RecordAgreement judges it.
    Result<ActionOutcome> CloseConversation(
        std::int64_t id,
        const Agent& by,
        std::string_view disposition,
        std::string_view note,
        std::string_view now,
        const std::optional<AgentAgreement>& promise = {},
        const dialogs::Policy& policy = dialogs::DefaultPolicy(),
        const std::optional<std::string>& pinned_today = {});

    // Records a promise, a settlement or an instalment plan for one of the debtor's accounts,
    // judged by `policy` on the debtor's day (in their time zone at `now`, or `pinned_today`,
    // COBRADOR_TODAY's YYYY-MM-DD, when set) with dialogs::JudgeAgreement:
    // a supervisor may go beyond the policy. The holder, or a supervisor, may; the conversation
    // stays where it is. Refused: kNotFound, kClosed, kHeldByOther, kNotHeld, kNoAccount (the
    // account is not the debtor's, or several owe and none is named), kNotAgreed (with why).
    // created_id is the promise's or the plan's id.
    Result<ActionOutcome> RecordAgreement(std::int64_t id,
                                          const Agent& by,
                                          const AgentAgreement& agreement,
                                          const dialogs::Policy& policy,
                                          const std::optional<std::string>& pinned_today,
                                          std::string_view now);

    // Writes the holder's message to the transcript and the outbox in one transaction.
    // The lifecycle table says who may write; the contact policy whether it may go now (WhatsApp
    // takes free-form messages only within 24 hours of the debtor's last message). Refused:
    // kNotFound, kClosed, kHeldByOther, kNotHeld, kWrongNumber, kOptedOut, kOutsideWindow.
    Result<ActionOutcome> SendAgentMessage(std::int64_t id,
                                           const Agent& by,
                                           const AgentMessage& message,
                                           std::string_view now);

    // Refused: kNotFound.
    Result<ActionOutcome> AddNote(std::int64_t id,
                                  const Agent& by,
                                  std::string_view text,
                                  std::string_view now);

    // Claims whose holder has done nothing since `idle_since` go back to the queue
    // (escalated); returns their ids.
    Result<std::vector<std::int64_t>> ExpireIdleClaims(std::string_view idle_since,
                                                       std::string_view now);

    // Who holds a lease (an outbox row, a job) that has not run out at `now`.
    Result<std::vector<std::string>> LeaseHolders(std::string_view now);

    // Frees every lease `holder` holds, for a replica known to be gone (its previous life): its
    // rows and jobs are taken at once instead of when the leases run out. Returns how many.
    Result<std::int64_t> ReleaseLeasesOf(std::string_view holder);

    // --- Periodic jobs shared by replicas (store/src/messaging.cpp) ---

    // Whether `owner` runs the job `name` now: yes when it is due (never run, or its next run is
    // due at `now` or before) and nobody holds it. Then `owner` holds it until `lease_until`, and
    // the next run is due at `next_run_at`, whoever runs it. A runner that dies holds the job
    // until its lease runs out; then any replica takes it when it is next due. One conditional
    // update: two replicas asking at the same moment, one is told yes.
    Result<bool> TakeJob(std::string_view name,
                         std::string_view owner,
                         std::string_view now,
                         std::string_view lease_until,
                         std::string_view next_run_at);

    // The run that TakeJob(name, owner, ..., lease_until, ...) started is over: the job is free
    // (still due next at the time TakeJob set). Does nothing if the lease was lost meanwhile.
    Result<void> FinishJob(std::string_view name,
                           std::string_view owner,
                           std::string_view lease_until);

    // --- Disputes, complaints and privacy requests (store/src/case_ledger.cpp) ---

    // Open cases oldest due first (then closed ones, newest first), as `filter` says.
    Result<std::vector<CaseRecord>> ListCases(const CaseFilter& filter);
    Result<std::optional<CaseRecord>> GetCase(std::int64_t id);
    // A case a collector registers. Refused: not_found (the conversation), no_debtor,
    // no_account (not one of the debtor's).
    Result<CaseAction> OpenCase(const NewCase& request, std::string_view now);
    // Closes an open case with its written resolution, and sends that to the debtor (`message`
    // renders it) in the same transaction. Refused: not_found, closed (already).
    Result<CaseAction> CloseCase(const CaseClosing& closing,
                                 std::string_view now,
                                 const CaseResolutionFn& message);
    // The month's cases ("YYYY-MM", the month in `timezone`, the creditor's) by kind, category
    // and outcome (cobrador report complaints).
    Result<ComplaintsReport> ComplaintsForMonth(
        std::string_view month, const std::string& timezone = "America/Mexico_City");
    // Everything held about the debtor whose portfolio debtor_id is `debtor_key`, as JSON (an
    // access request: cobrador export debtor); nullopt when there is no such debtor.
    Result<std::optional<std::string>> ExportDebtor(std::string_view debtor_key,
                                                    std::string_view now);

    // Copies this whole ledger into `target` (moving from SQLite to PostgreSQL, or back):
    // every row of every table with its id, so that foreign keys survive, in one transaction
    // on the target and from one snapshot of this one; the target's id sequences continue
    // after the highest id. The target must be migrated to the same version and hold nothing
    // (Errc::kConstraint otherwise, LastError() says which table). The counts and sums are
    // read back inside the target's transaction, which commits only when they all match.
    Result<CopyReport> CopyInto(Ledger& target, const CopyProgressFn& progress = {});

    // Group commit: runs `work` (calls on this ledger) inside one transaction, so that many
    // writes share one fsync and one commit. The answer is the COMMIT's: on an error none of
    // the writes inside is durable, whatever each call returned.
    // - On SQLite each call inside keeps its own all-or-nothing (a savepoint): one that fails
    //   leaves the others to commit.
    // - On PostgreSQL there are no savepoints (hundreds in one transaction stall a PostgreSQL
    //   server): the group is SERIALIZABLE as a whole, and when any call inside fails the whole
    //   group rolls back (Errc::kBusy); run the calls one by one then.
    Result<void> InOneTransaction(const std::function<void()>& work);
    // Whether webhook writes are grouped on one connection (SQLite); on PostgreSQL they go to a
    // pool of connections, each its own transaction (PostgreSQL shares one WAL flush among
    // commits that arrive together).
    bool GroupsCommits() const;
    // Whether a transaction is open now (SQLite rolls one back by itself on some I/O errors).
    bool InTransaction() const;

    // A human-readable account of the last failure on this connection (for logs; holds no
    // secrets and no personal data).
    const std::string& LastError() const;

private:
    struct Impl;
    explicit Ledger(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace cobrador::store
