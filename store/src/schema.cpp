// The ledger's schema, as a list of migrations. A migration is never edited once released: a
// change is a new migration, so that `cobrador migrate` can bring any older file up to date.
//
// Conventions, chosen so that a PostgreSQL backend can take the same SQL with few changes:
// - Money is INTEGER cents plus a TEXT ISO 4217 currency, never REAL.
// - Instants are TEXT in ISO 8601 UTC ("2026-11-22T10:00:00Z"); civil dates are TEXT
//   "YYYY-MM-DD". Both sort and compare as text.
// - Phones are TEXT E.164 ("+525512345678"), normalized before they get here.
// - Enumerations are TEXT with a CHECK listing the stable names; integers are never persisted
//   for an enum.
// - Keys from outside (account_id, debtor_id, provider message ids, payment ids) are UNIQUE
//   TEXT columns beside an INTEGER id primary key, so that a provider's redelivery or a
//   re-import hits the unique key and changes nothing.
// - audit_log is append-only: triggers refuse UPDATE and DELETE.

#include "schema.hpp"

#include <array>
#include <regex>

namespace cobrador::store {

namespace {

constexpr const char* kCoreSchema = R"sql(
CREATE TABLE debtors (
  id            INTEGER PRIMARY KEY,
  debtor_key    TEXT NOT NULL UNIQUE,          -- the portfolio's debtor_id, or the phone
  name          TEXT NOT NULL,
  phone         TEXT NOT NULL,                 -- E.164
  birth_date    TEXT NOT NULL,                 -- YYYY-MM-DD, the identity check
  locale        TEXT NOT NULL DEFAULT 'es-MX' CHECK (locale IN ('es-MX', 'en-US')),
  timezone      TEXT NOT NULL DEFAULT 'America/Mexico_City',
  email         TEXT,
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL
);
CREATE INDEX debtors_by_phone ON debtors (phone);

CREATE TABLE accounts (
  id                  INTEGER PRIMARY KEY,
  account_key         TEXT NOT NULL UNIQUE,    -- the portfolio's account_id
  debtor_id           INTEGER NOT NULL REFERENCES debtors (id),
  balance_cents       INTEGER NOT NULL CHECK (balance_cents >= 0),
  currency            TEXT NOT NULL CHECK (length(currency) = 3),
  due_date            TEXT NOT NULL,
  min_payment_cents   INTEGER CHECK (min_payment_cents >= 0),
  segment             TEXT NOT NULL DEFAULT '',
  product             TEXT NOT NULL DEFAULT '',
  created_at          TEXT NOT NULL,
  updated_at          TEXT NOT NULL
);
CREATE INDEX accounts_by_debtor ON accounts (debtor_id);

-- Every balance an account has had, and where it came from (import, payment, plan).
CREATE TABLE balance_history (
  id             INTEGER PRIMARY KEY,
  account_id     INTEGER NOT NULL REFERENCES accounts (id),
  balance_cents  INTEGER NOT NULL,
  due_date       TEXT NOT NULL,
  source         TEXT NOT NULL CHECK (source IN ('import', 'payment', 'adjustment')),
  source_id      INTEGER,                      -- imports.id or payments.id
  recorded_at    TEXT NOT NULL
);
CREATE INDEX balance_history_by_account ON balance_history (account_id);

CREATE TABLE imports (
  id                  INTEGER PRIMARY KEY,
  kind                TEXT NOT NULL CHECK (kind IN ('portfolio', 'payments')),
  source_name         TEXT NOT NULL,
  rows_read           INTEGER NOT NULL,
  inserted            INTEGER NOT NULL,
  updated             INTEGER NOT NULL,
  unchanged           INTEGER NOT NULL,
  imported_at         TEXT NOT NULL
);

CREATE TABLE agents (
  id           INTEGER PRIMARY KEY,
  name         TEXT NOT NULL,
  role         TEXT NOT NULL CHECK (role IN ('collector', 'supervisor')),
  token_sha256 TEXT NOT NULL UNIQUE,           -- the token itself is never stored
  created_at   TEXT NOT NULL,
  disabled_at  TEXT
);

CREATE TABLE conversations (
  id                     INTEGER PRIMARY KEY,
  debtor_id              INTEGER REFERENCES debtors (id),  -- NULL: a phone we do not know
  phone                  TEXT NOT NULL,
  channel                TEXT NOT NULL CHECK (channel IN ('whatsapp', 'sms', 'sandbox')),
  state                  TEXT NOT NULL CHECK (state IN ('bot', 'escalated', 'claimed', 'closed')),
  dialog_state           TEXT NOT NULL DEFAULT '{}',      -- the dialog's own state, JSON
  verified_at            TEXT,                             -- first successful identity check
  verified_until         TEXT,
  failed_verifications   INTEGER NOT NULL DEFAULT 0,
  locked_until           TEXT,
  misunderstood_count    INTEGER NOT NULL DEFAULT 0,
  assigned_agent_id      INTEGER REFERENCES agents (id),
  escalation_reason      TEXT,
  escalated_at           TEXT,
  disposition            TEXT,
  last_inbound_at        TEXT,
  last_activity_at       TEXT NOT NULL,
  created_at             TEXT NOT NULL,
  closed_at              TEXT
);
CREATE INDEX conversations_by_phone ON conversations (phone, channel);
CREATE INDEX conversations_by_state ON conversations (state, escalated_at);

-- Every message in and out. provider_message_id is the provider's (wamid..., SM...) and makes
-- a redelivered webhook or a retried send harmless.
CREATE TABLE messages (
  id                   INTEGER PRIMARY KEY,
  conversation_id      INTEGER NOT NULL REFERENCES conversations (id),
  direction            TEXT NOT NULL CHECK (direction IN ('in', 'out')),
  channel              TEXT NOT NULL CHECK (channel IN ('whatsapp', 'sms', 'sandbox')),
  provider_message_id  TEXT UNIQUE,
  author               TEXT NOT NULL DEFAULT 'debtor',    -- debtor, bot, agent:<id>, system
  body                 TEXT NOT NULL DEFAULT '',
  payload              TEXT NOT NULL DEFAULT '{}',        -- structured content (buttons, ...)
  status               TEXT NOT NULL CHECK (status IN
                         ('received', 'queued', 'sent', 'delivered', 'read', 'failed')),
  error_code           TEXT,
  created_at           TEXT NOT NULL,
  status_at            TEXT NOT NULL
);
CREATE INDEX messages_by_conversation ON messages (conversation_id, id);

-- Webhook events as received, committed before the provider gets its 200; processed later,
-- in order per conversation.
CREATE TABLE inbound_events (
  id                 INTEGER PRIMARY KEY,
  channel            TEXT NOT NULL,
  provider_event_id  TEXT NOT NULL UNIQUE,
  kind               TEXT NOT NULL,
  phone              TEXT,
  payload            TEXT NOT NULL,
  received_at        TEXT NOT NULL,
  processed_at       TEXT
);
CREATE INDEX inbound_events_pending ON inbound_events (processed_at, id);

-- Replies and reminders to send, written in the same transaction as what caused them.
CREATE TABLE outbox (
  id               INTEGER PRIMARY KEY,
  message_id       INTEGER NOT NULL UNIQUE REFERENCES messages (id),
  channel          TEXT NOT NULL,
  recipient        TEXT NOT NULL,
  payload          TEXT NOT NULL,
  status           TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  TEXT NOT NULL,
  last_error       TEXT,
  created_at       TEXT NOT NULL
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);

-- The same reference for the same account, every time.
CREATE TABLE payment_references (
  id          INTEGER PRIMARY KEY,
  account_id  INTEGER NOT NULL UNIQUE REFERENCES accounts (id),
  reference   TEXT NOT NULL UNIQUE,
  created_at  TEXT NOT NULL
);

CREATE TABLE payments (
  id            INTEGER PRIMARY KEY,
  payment_id    TEXT NOT NULL UNIQUE,           -- the processor's id: idempotency key
  reference     TEXT NOT NULL,
  account_id    INTEGER REFERENCES accounts (id),  -- NULL while in suspense
  amount_cents  INTEGER NOT NULL CHECK (amount_cents > 0),
  currency      TEXT NOT NULL,
  paid_at       TEXT NOT NULL,
  method        TEXT NOT NULL DEFAULT '',
  status        TEXT NOT NULL CHECK (status IN ('applied', 'suspense')),
  source        TEXT NOT NULL CHECK (source IN ('webhook', 'import')),
  received_at   TEXT NOT NULL
);
CREATE INDEX payments_by_account ON payments (account_id);

CREATE TABLE promises (
  id               INTEGER PRIMARY KEY,
  account_id       INTEGER NOT NULL REFERENCES accounts (id),
  conversation_id  INTEGER REFERENCES conversations (id),
  amount_cents     INTEGER NOT NULL CHECK (amount_cents > 0),
  currency         TEXT NOT NULL,
  due_date         TEXT NOT NULL,
  status           TEXT NOT NULL CHECK (status IN ('open', 'kept', 'broken', 'cancelled')),
  created_at       TEXT NOT NULL,
  resolved_at      TEXT
);
CREATE INDEX promises_by_account ON promises (account_id, status);

CREATE TABLE payment_plans (
  id               INTEGER PRIMARY KEY,
  account_id       INTEGER NOT NULL REFERENCES accounts (id),
  conversation_id  INTEGER REFERENCES conversations (id),
  kind             TEXT NOT NULL CHECK (kind IN ('settlement', 'installments')),
  total_cents      INTEGER NOT NULL CHECK (total_cents > 0),
  discount_cents   INTEGER NOT NULL DEFAULT 0 CHECK (discount_cents >= 0),
  currency         TEXT NOT NULL,
  status           TEXT NOT NULL CHECK (status IN ('active', 'completed', 'broken', 'cancelled')),
  approved_by      TEXT NOT NULL DEFAULT 'bot',
  created_at       TEXT NOT NULL
);

CREATE TABLE plan_installments (
  id            INTEGER PRIMARY KEY,
  plan_id       INTEGER NOT NULL REFERENCES payment_plans (id),
  seq           INTEGER NOT NULL,
  due_date      TEXT NOT NULL,
  amount_cents  INTEGER NOT NULL CHECK (amount_cents > 0),
  paid_cents    INTEGER NOT NULL DEFAULT 0,
  status        TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'late')),
  UNIQUE (plan_id, seq)
);

-- Opt-outs per channel and wrong numbers, by phone: they hold whoever the phone belongs to.
CREATE TABLE contact_preferences (
  id           INTEGER PRIMARY KEY,
  phone        TEXT NOT NULL,
  channel      TEXT NOT NULL CHECK (channel IN ('whatsapp', 'sms', 'sandbox', 'all')),
  kind         TEXT NOT NULL CHECK (kind IN ('opt_out', 'wrong_number')),
  active       INTEGER NOT NULL DEFAULT 1,
  recorded_at  TEXT NOT NULL,
  source       TEXT NOT NULL,
  UNIQUE (phone, channel, kind)
);

-- Every outcome, append-only.
CREATE TABLE audit_log (
  id               INTEGER PRIMARY KEY,
  at               TEXT NOT NULL,
  actor            TEXT NOT NULL,                 -- bot, agent:<id>, import, system
  kind             TEXT NOT NULL,                 -- verified, promise_made, escalated, ...
  channel          TEXT,
  debtor_id        INTEGER REFERENCES debtors (id),
  account_id       INTEGER REFERENCES accounts (id),
  conversation_id  INTEGER REFERENCES conversations (id),
  detail           TEXT NOT NULL DEFAULT '{}'
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
)sql";

// Indexes the report reads by; kept apart from the core schema so that the migration path
// from a version-1 file is exercised from the start.
constexpr const char* kReportIndexes = R"sql(
CREATE INDEX audit_log_by_kind ON audit_log (kind, at);
CREATE INDEX payments_by_paid_at ON payments (status, paid_at);
CREATE INDEX conversations_by_created ON conversations (created_at);
)sql";

// Every delivery status a provider reported, as reported. Statuses arrive out of order, twice,
// and sometimes before our send call has returned the message id; messages.status keeps the
// furthest one, and this log lets a late-learned id pick up what already came.
constexpr const char* kDeliveryStatuses = R"sql(
CREATE TABLE delivery_statuses (
  id                   INTEGER PRIMARY KEY,
  channel              TEXT NOT NULL,
  provider_message_id  TEXT NOT NULL,
  status               TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'delivered', 'read', 'failed')),
  error_code           TEXT,
  error_title          TEXT,
  reported_at          TEXT NOT NULL,
  received_at          TEXT NOT NULL,
  UNIQUE (provider_message_id, status)
);
CREATE INDEX conversations_open_by_phone ON conversations (phone, channel, state);
)sql";

// The collector's side: who holds a claimed conversation since when, when its holder last did
// anything (an idle claim goes back to the queue), and the notes collectors leave.
constexpr const char* kCollectors = R"sql(
ALTER TABLE conversations ADD COLUMN claimed_at TEXT;
ALTER TABLE conversations ADD COLUMN agent_activity_at TEXT;
CREATE INDEX conversations_by_holder ON conversations (assigned_agent_id, state);
CREATE TABLE notes (
  id               INTEGER PRIMARY KEY,
  conversation_id  INTEGER NOT NULL REFERENCES conversations (id),
  agent_id         INTEGER NOT NULL REFERENCES agents (id),
  body             TEXT NOT NULL,
  created_at       TEXT NOT NULL
);
CREATE INDEX notes_by_conversation ON notes (conversation_id, id);
CREATE INDEX audit_log_by_conversation ON audit_log (conversation_id, id);
)sql";

// Money in and reminders out: what a payment applied and what it overpaid, why one is in
// suspense, how much of a promise is paid, and every reminder queued (the UNIQUE key is what
// keeps a crash or a second pass from sending one twice).
constexpr const char* kPaymentsReminders = R"sql(
ALTER TABLE payments ADD COLUMN applied_cents INTEGER NOT NULL DEFAULT 0;
ALTER TABLE payments ADD COLUMN overpaid_cents INTEGER NOT NULL DEFAULT 0;
ALTER TABLE payments ADD COLUMN suspense_reason TEXT;
ALTER TABLE promises ADD COLUMN paid_cents INTEGER NOT NULL DEFAULT 0;
-- A message we start is sent only inside the contact hours of this zone, whenever it falls due
-- (a retry, a restart); NULL for replies to the debtor.
ALTER TABLE outbox ADD COLUMN contact_timezone TEXT;
CREATE INDEX promises_open_by_due ON promises (status, due_date);
CREATE INDEX payment_plans_by_account ON payment_plans (account_id, status);
CREATE INDEX promises_by_account_open ON promises (account_id, status, due_date);
CREATE INDEX conversations_by_debtor ON conversations (debtor_id, id);
CREATE TABLE reminders (
  id          INTEGER PRIMARY KEY,
  debtor_id   INTEGER NOT NULL REFERENCES debtors (id),
  rule        TEXT NOT NULL,                   -- the strategy's rule name
  subject     TEXT NOT NULL,                   -- account:<id>@<due date>, promise:<id>, installment:<id>
  local_date  TEXT NOT NULL,                   -- the debtor's date it is for
  channel     TEXT NOT NULL,
  message_id  INTEGER REFERENCES messages (id),
  created_at  TEXT NOT NULL,
  UNIQUE (rule, subject)                      -- each rule once per subject
);
CREATE INDEX reminders_by_debtor ON reminders (debtor_id, created_at);
)sql";

// What the dialog reads of an inbound message, as columns: the webhook parses the provider's
// body once and the worker reads these instead of parsing the payload again. NULL on events
// stored before this version (the worker then reads the payload).
constexpr const char* kTypedInbound = R"sql(
ALTER TABLE inbound_events ADD COLUMN text TEXT;
ALTER TABLE inbound_events ADD COLUMN reply_id TEXT;
ALTER TABLE inbound_events ADD COLUMN context_id TEXT;
)sql";

// Several replicas on one PostgreSQL (docs/operations.md "High availability"):
// - an outbox row is sent by whoever holds its lease; lease_token grows with every claim, so a
//   sender whose lease expired (and whose row another replica took over) cannot record over it;
// - a periodic job (the reminder pass, the idle-claim sweep) runs once per interval across the
//   cluster: whoever takes the row's lease runs it, and a dead runner's lease runs out.
// Older binaries never read these columns; see the note on rolling upgrades.
constexpr const char* kReplicas = R"sql(
ALTER TABLE outbox ADD COLUMN lease_owner TEXT;
ALTER TABLE outbox ADD COLUMN lease_until TEXT;
ALTER TABLE outbox ADD COLUMN lease_token INTEGER NOT NULL DEFAULT 0;
CREATE INDEX outbox_by_recipient ON outbox (recipient, channel, status);
CREATE TABLE jobs (
  name         TEXT PRIMARY KEY,
  owner        TEXT,
  lease_until  TEXT,
  next_run_at  TEXT NOT NULL,
  last_started TEXT,
  last_owner   TEXT,
  runs         INTEGER NOT NULL DEFAULT 0
);
)sql";

// Money through payment providers (docs/payments.md):
// - every verified notification is kept once per (provider, event_id), with what became of it;
//   a thin one (Mercado Pago's carries only ids) waits as 'pending' until the payment is fetched;
// - a payment row remembers which provider payment it came from: one provider payment may
//   arrive in parts (Stripe funds a bank transfer in several), each part a row of its own;
// - money taken back (refunds, chargebacks) is a reversal of a provider payment; one that
//   arrives before its payment waits for it.
constexpr const char* kPaymentProviders = R"sql(
ALTER TABLE payments ADD COLUMN provider TEXT;
ALTER TABLE payments ADD COLUMN provider_payment TEXT;
ALTER TABLE payments ADD COLUMN reversed_cents INTEGER NOT NULL DEFAULT 0;
CREATE INDEX payments_by_provider_payment ON payments (provider, provider_payment);
CREATE TABLE provider_events (
  id               INTEGER PRIMARY KEY,
  provider         TEXT NOT NULL,
  event_id         TEXT NOT NULL,
  type             TEXT NOT NULL,
  body             TEXT NOT NULL,                 -- the verified notification, as received
  fetch_payment    TEXT,                          -- what must be fetched before it is known
  status           TEXT NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  TEXT NOT NULL,
  last_error       TEXT,
  received_at      TEXT NOT NULL,
  processed_at     TEXT,
  UNIQUE (provider, event_id)
);
CREATE INDEX provider_events_due ON provider_events (status, next_attempt_at);
CREATE TABLE payment_reversals (
  id                INTEGER PRIMARY KEY,
  reversal_id       TEXT NOT NULL UNIQUE,         -- idempotency key
  provider          TEXT NOT NULL,
  provider_payment  TEXT NOT NULL,
  kind              TEXT NOT NULL CHECK (kind IN ('refund', 'chargeback')),
  amount_cents      INTEGER NOT NULL CHECK (amount_cents > 0),
  status            TEXT NOT NULL CHECK (status IN ('applied', 'waiting')),
  account_id        INTEGER REFERENCES accounts (id),
  restored_cents    INTEGER NOT NULL DEFAULT 0,   -- what went back on the balance
  received_at       TEXT NOT NULL,
  applied_at        TEXT
);
CREATE INDEX payment_reversals_by_payment ON payment_reversals (provider, provider_payment);
)sql";

// Payment instruments a provider creates for an account (docs/payments.md "Creating
// instruments"): asked for by the dialog in the debtor's turn ('pending'), created by a worker
// off the turn's path and retried while the provider is down ('ready' or, after a day,
// 'failed'), and handed to the debtor who asked while it has not expired.
constexpr const char* kPaymentInstruments = R"sql(
CREATE TABLE payment_instruments (
  id               INTEGER PRIMARY KEY,
  account_id       INTEGER NOT NULL REFERENCES accounts (id),
  provider         TEXT NOT NULL,
  amount_cents     INTEGER NOT NULL CHECK (amount_cents > 0),
  currency         TEXT NOT NULL,
  status           TEXT NOT NULL CHECK (status IN ('pending', 'ready', 'failed')),
  conversation_id  INTEGER REFERENCES conversations (id),  -- told when it is ready
  kind             TEXT CHECK (kind IN ('page', 'cash')),
  url              TEXT,
  store_reference  TEXT,
  provider_id      TEXT,
  expires_at       TEXT,
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  TEXT NOT NULL,
  last_error       TEXT,
  requested_at     TEXT NOT NULL,
  ready_at         TEXT
);
CREATE INDEX payment_instruments_due ON payment_instruments (status, next_attempt_at);
CREATE INDEX payment_instruments_by_account ON payment_instruments (account_id, status);
)sql";

// The files debtors send (docs/media.md): recorded with their message in the dialog's turn
// ('pending'), fetched from the provider by the media worker off the webhook's path, and kept
// here, in the ledger, so that every replica can serve them to collectors. A fetch that keeps
// failing ends 'failed'; what will never be fetched says why ('expired', 'too_large',
// 'refused': the bytes are not what the message said).
constexpr const char* kMedia = R"sql(
CREATE TABLE media (
  id               INTEGER PRIMARY KEY,
  message_id       INTEGER NOT NULL REFERENCES messages (id),
  conversation_id  INTEGER NOT NULL REFERENCES conversations (id),
  channel          TEXT NOT NULL,
  kind             TEXT NOT NULL CHECK (kind IN ('image', 'document', 'audio', 'video', 'sticker')),
  voice            INTEGER NOT NULL DEFAULT 0,
  source           TEXT NOT NULL,  -- the WhatsApp media id, or the Twilio media URL
  declared_type    TEXT NOT NULL DEFAULT '',
  filename         TEXT NOT NULL DEFAULT '',
  status           TEXT NOT NULL CHECK (status IN ('pending', 'stored', 'failed', 'expired',
                                                   'too_large', 'refused')),
  content_type     TEXT,  -- what the bytes are, by their magic numbers
  size_bytes       INTEGER,
  sha256           TEXT,
  content          BLOB,
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  TEXT NOT NULL,
  last_error       TEXT,
  created_at       TEXT NOT NULL,
  fetched_at       TEXT
);
CREATE INDEX media_due ON media (status, next_attempt_at);
CREATE INDEX media_by_message ON media (message_id);
CREATE INDEX media_by_conversation ON media (conversation_id);
)sql";

// What a receipt a debtor sent says (docs/media.md): its text, by OCR or from a PDF's text
// layer, and the fields read from it, for the person who checks it. One row per file that was
// read ('read'), or that could not be ('unreadable', with why).
constexpr const char* kReceipts = R"sql(
CREATE TABLE receipts (
  id                   INTEGER PRIMARY KEY,
  media_id             INTEGER NOT NULL UNIQUE REFERENCES media (id),
  conversation_id      INTEGER NOT NULL REFERENCES conversations (id),
  status               TEXT NOT NULL CHECK (status IN ('read', 'unreadable')),
  engine               TEXT NOT NULL DEFAULT '',  -- ocr, pdf_text
  text                 TEXT NOT NULL DEFAULT '',
  error                TEXT,
  clave_rastreo        TEXT,
  amount_cents         INTEGER,
  operation_date       TEXT,
  sending_bank         TEXT,
  beneficiary_account  TEXT,
  reference            TEXT,
  concept              TEXT,
  beneficiary_name     TEXT,
  read_at              TEXT NOT NULL
);
CREATE INDEX receipts_by_clave ON receipts (clave_rastreo);
)sql";

// Receipts confirmed with Banxico's CEP (docs/media.md "Confirming a receipt"): each reading
// waits in receipt_checks while it is looked up ('pending', retried while the CEP is down),
// then is 'confirmed' (a payment was applied, found already applied, or held in suspense) or
// 'unconfirmed' (it went to a person, with why). A SPEI transfer is credited once, whoever
// reports it: payments.spei_key is its clave de rastreo, date and sending participant
// (channels::SpeiKey), which STP's abonos already carried in their provider key.
constexpr const char* kReceiptChecks = R"sql(
ALTER TABLE payments ADD COLUMN spei_key TEXT;
UPDATE payments SET spei_key = upper(provider_payment) WHERE provider = 'stp' AND
  payment_id = 'stp:' || provider_payment AND provider_payment LIKE '%:________:_____';
CREATE UNIQUE INDEX payments_by_spei_key ON payments (spei_key);
CREATE TABLE receipt_checks (
  id               INTEGER PRIMARY KEY,
  receipt_id       INTEGER NOT NULL UNIQUE REFERENCES receipts (id),
  conversation_id  INTEGER NOT NULL REFERENCES conversations (id),
  status           TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'unconfirmed',
                                                   'failed')),
  outcome          TEXT,  -- applied, suspense, duplicate; not_found, incomplete, not_ours, ...
  detail           TEXT,  -- for the person who checks it
  spei_key         TEXT,
  payment_id       TEXT,  -- payments.payment_id, once confirmed
  -- A statement row without the clave that reported the same transfer (payment_apply.hpp)
  statement_payment_id  TEXT UNIQUE,
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  TEXT NOT NULL,
  last_error       TEXT,
  created_at       TEXT NOT NULL,
  settled_at       TEXT
);
CREATE INDEX receipt_checks_due ON receipt_checks (status, next_attempt_at);
)sql";

// Disputes, complaints and privacy requests (docs/cases.md): each a case with a folio (set from
// its id as soon as it is inserted), the day it must be answered by (business days), and, once
// closed, the written resolution sent to the debtor. While a complaint is open, no reminders or
// follow-ups go out about its account (every account of the debtor when account_id is NULL).
// Also: agents' tokens may have an expiry (cobrador agent add --expires).
constexpr const char* kCases = R"sql(
CREATE TABLE cases (
  id               INTEGER PRIMARY KEY,
  folio            TEXT UNIQUE,
  kind             TEXT NOT NULL CHECK (kind IN ('complaint', 'privacy')),
  category         TEXT NOT NULL CHECK (category IN ('not_mine', 'identity_theft',
                     'wrong_amount', 'already_paid', 'treatment', 'other', 'access',
                     'rectification', 'cancellation', 'opposition')),
  debtor_id        INTEGER NOT NULL REFERENCES debtors (id),
  account_id       INTEGER REFERENCES accounts (id),
  conversation_id  INTEGER REFERENCES conversations (id),
  opened_by_agent  INTEGER REFERENCES agents (id),  -- NULL: the debtor, in the chat
  description      TEXT NOT NULL DEFAULT '',
  opened_at        TEXT NOT NULL,
  due_date         TEXT NOT NULL,
  status           TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
  outcome          TEXT CHECK (outcome IN ('favorable', 'partial', 'unfavorable')),
  resolution       TEXT,
  closed_at        TEXT,
  closed_by        INTEGER REFERENCES agents (id)
);
CREATE INDEX cases_open ON cases (status, due_date);
CREATE INDEX cases_by_debtor ON cases (debtor_id, status);
CREATE INDEX cases_by_opening ON cases (opened_at);
-- An agent's token may run out: it works through this day (UTC), then no more.
ALTER TABLE agents ADD COLUMN expires_on TEXT;
-- A broken promise paid in full afterwards is kept late (it stays broken: it was).
ALTER TABLE promises ADD COLUMN kept_late_at TEXT;
)sql";

// Shifts: who is on shift now (NULL: off), and each person's place in the turn new
// escalations are handed out by (store/src/shifts.cpp): the lowest turn is next.
constexpr const char* kShifts = R"sql(
ALTER TABLE agents ADD COLUMN on_shift_since TEXT;
ALTER TABLE agents ADD COLUMN hand_out_turn INTEGER NOT NULL DEFAULT 0;
)sql";

// Payment references moved from Luhn's check digit to Damm's (docs/references.md). The
// accounts that existed then (ids up to last_legacy_account) keep their old reference accepted
// until ends_on, a YYYY-MM-DD (NULL: until `cobrador references --legacy-until` ends it). A
// new ledger has none.
constexpr const char* kReferenceTransition = R"sql(
CREATE TABLE reference_transition (
  singleton            INTEGER NOT NULL PRIMARY KEY CHECK (singleton = 1),
  last_legacy_account  INTEGER NOT NULL,
  ends_on              TEXT
);
INSERT INTO reference_transition (singleton, last_legacy_account, ends_on)
  SELECT 1, coalesce(max(id), 0), NULL FROM accounts;
)sql";

constexpr std::array kMigrations = {
    Migration{1, "core ledger", kCoreSchema},
    Migration{2, "report indexes", kReportIndexes},
    Migration{3, "delivery statuses", kDeliveryStatuses},
    Migration{4, "collectors", kCollectors},
    Migration{5, "payments and reminders", kPaymentsReminders},
    Migration{6, "typed inbound events", kTypedInbound},
    Migration{7, "replicas", kReplicas},
    Migration{8, "payment providers", kPaymentProviders},
    Migration{9, "payment instruments", kPaymentInstruments},
    Migration{10, "media", kMedia},
    Migration{11, "receipts", kReceipts},
    Migration{12, "receipt checks", kReceiptChecks},
    Migration{13, "cases, agent expiry, promises kept late", kCases},
    Migration{14, "shifts", kShifts},
    Migration{15, "Damm check digits for payment references", kReferenceTransition},
};

}  // namespace

std::span<const Migration> Migrations() {
    return kMigrations;
}

std::string PostgresMigrationSql(const Migration& migration) {
    std::string sql = migration.sql;
    // Comments first: they may hold any word.
    sql = std::regex_replace(sql, std::regex("--[^\n]*"), "");
    // SQLite's RAISE(ABORT) triggers become one PL/pgSQL function (23001 restrict_violation:
    // a broken rule, as SQLITE_CONSTRAINT is on SQLite).
    const std::regex trigger(
        "CREATE TRIGGER (\\w+) BEFORE (UPDATE|DELETE) ON (\\w+)\\s*BEGIN SELECT "
        "RAISE\\(ABORT, '([^']*)'\\); END;");
    std::string prefix;
    if (std::regex_search(sql, trigger)) {
        prefix =
            "CREATE OR REPLACE FUNCTION cobrador_refuse_change() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '%', TG_ARGV[0] "
            "USING ERRCODE = 'restrict_violation'; END $$;\n";
        sql = std::regex_replace(sql,
                                 trigger,
                                 "CREATE TRIGGER $1 BEFORE $2 ON $3 FOR EACH ROW EXECUTE "
                                 "FUNCTION cobrador_refuse_change('$4');");
    }
    sql = std::regex_replace(sql,
                             std::regex("\\bINTEGER PRIMARY KEY\\b"),
                             "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY");
    sql = std::regex_replace(sql, std::regex("\\bINTEGER\\b"), "BIGINT");
    sql = std::regex_replace(sql, std::regex("\\bBLOB\\b"), "BYTEA");
    sql = std::regex_replace(sql, std::regex("\\bTEXT\\b"), "TEXT COLLATE \"C\"");
    return prefix + sql;
}

}  // namespace cobrador::store
