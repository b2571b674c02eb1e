#include "pg_connection.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <libpq-fe.h>

namespace cobrador::store {

namespace {

struct ResultDeleter {
    void operator()(PGresult* result) const { PQclear(result); }
};

using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

struct ConnDeleter {
    void operator()(PGconn* conn) const { PQfinish(conn); }
};

void IgnoreNotice(void* /*arg*/, const char* /*message*/) {}

// pg_type's oid of boolean (catalog/pg_type_d.h, a server header libpq-dev does not ship).
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;

// libpq's messages end with a newline; one line reads better in a log.
std::string OneLine(const char* message) {
    std::string text = message == nullptr ? "" : message;
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
        text.pop_back();
    }
    for (char& c : text) {
        if (c == '\n') {
            c = ' ';
        }
    }
    return text;
}

class PgConnection;

// A statement as this connection's server knows it: its name, its text with $n placeholders,
// and how many parameters it takes.
struct ServerStatement {
    std::string name;
    std::string translated;
    int params = 0;
};

class PgStatement final : public Statement {
public:
    // `server` lives in the connection's map, whose elements never move.
    PgStatement(PgConnection& connection, std::string sql, const ServerStatement& server)
        : connection_(connection),
          sql_(std::move(sql)),
          server_(server),
          values_(static_cast<std::size_t>(server.params)) {}

    void BindNull(int index) override { Slot(index).reset(); }

    void BindInt64(int index, std::int64_t value) override { Slot(index) = std::to_string(value); }

    void BindDouble(int index, double value) override {
        char buffer[64];
        const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
        Slot(index) = std::string(buffer, ec == std::errc() ? end : buffer);
    }

    void BindText(int index, std::string_view value) override { Slot(index) = std::string(value); }

    // BYTEA in the text format: \x and two hex digits a byte.
    void BindBlob(int index, std::string_view bytes) override {
        static constexpr char kHex[] = "0123456789abcdef";
        std::string text = "\\x";
        text.reserve(2 + bytes.size() * 2);
        for (const char c : bytes) {
            const auto b = static_cast<unsigned char>(c);
            text.push_back(kHex[b >> 4]);
            text.push_back(kHex[b & 0x0f]);
        }
        Slot(index) = std::move(text);
    }

    bool Step() override {
        if (!result_) {
            Run();
            row_ = -1;
        }
        ++row_;
        return row_ < PQntuples(result_.get());
    }

    int Exec() override {
        Run();
        const char* tuples = PQcmdTuples(result_.get());
        const int changed = tuples == nullptr || *tuples == '\0' ? 0 : std::atoi(tuples);
        result_.reset();
        return changed;
    }

    bool Reset() override {
        result_.reset();
        row_ = -1;
        for (auto& value : values_) {
            value.reset();
        }
        return true;
    }

    bool IsNull(int column) override { return PQgetisnull(Row(), row_, column) != 0; }

    std::int64_t Int64(int column) override {
        const char* text = PQgetvalue(Row(), row_, column);
        // Booleans come back as t/f; the store reads them as 1/0, as on SQLite.
        if (text[0] == 't' && text[1] == '\0') {
            return 1;
        }
        if (text[0] == 'f' && text[1] == '\0') {
            return 0;
        }
        std::int64_t value = 0;
        const char* end = text + PQgetlength(Row(), row_, column);
        const auto parsed = std::from_chars(text, end, value);
        if (parsed.ec != std::errc()) {
            return 0;  // NULL or not a number, as SQLite reads it
        }
        return value;
    }

    double Double(int column) override {
        return std::strtod(PQgetvalue(Row(), row_, column), nullptr);
    }

    std::string Text(int column) override {
        if (PQftype(Row(), column) == kBoolOid) {
            return Int64(column) != 0 ? "1" : "0";  // as SQLite answers a comparison
        }
        return std::string(PQgetvalue(Row(), row_, column),
                           static_cast<std::size_t>(PQgetlength(Row(), row_, column)));
    }

    std::string Blob(int column) override {
        const char* text = PQgetvalue(Row(), row_, column);
        const auto length = static_cast<std::size_t>(PQgetlength(Row(), row_, column));
        if (length < 2 || text[0] != '\\' || text[1] != 'x') {
            return std::string(text, length);  // not BYTEA's hex output: as it is
        }
        const auto nibble = [](char c) {
            return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
        };
        std::string out;
        out.reserve((length - 2) / 2);
        for (std::size_t i = 2; i + 1 < length; i += 2) {
            out.push_back(static_cast<char>(nibble(text[i]) << 4 | nibble(text[i + 1])));
        }
        return out;
    }

    bool IsBlob(int column) override { return PQftype(Row(), column) == kByteaOid; }

private:
    std::optional<std::string>& Slot(int index) {
        if (index < 1 || static_cast<std::size_t>(index) > values_.size()) {
            throw DbError(Errc::kInternal,
                          "parameter " + std::to_string(index) + " out of range for: " + sql_);
        }
        return values_[static_cast<std::size_t>(index - 1)];
    }

    PGresult* Row() {
        if (!result_ || row_ < 0 || row_ >= PQntuples(result_.get())) {
            throw DbError(Errc::kInternal, "no current row for: " + sql_);
        }
        return result_.get();
    }

    void Run();

    PgConnection& connection_;
    std::string sql_;
    const ServerStatement& server_;
    std::vector<std::optional<std::string>> values_;
    ResultPtr result_;
    int row_ = -1;
};

class PgConnection final : public Connection {
public:
    explicit PgConnection(PGconn* conn) : conn_(conn) {
        PQsetNoticeProcessor(conn_.get(), IgnoreNotice, nullptr);
    }

    ~PgConnection() override { DropCachedStatements(); }

    PgConnection(const PgConnection&) = delete;
    PgConnection& operator=(const PgConnection&) = delete;
    PgConnection(PgConnection&&) = delete;
    PgConnection& operator=(PgConnection&&) = delete;

    Backend backend() const override { return Backend::kPostgres; }

    void ExecScript(const std::string& sql) override {
        Check(ResultPtr(PQexec(conn_.get(), sql.c_str())), sql);
    }

    bool InTransaction() override {
        const auto status = PQtransactionStatus(conn_.get());
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE;
    }

    bool TransactionFailed() override {
        return PQtransactionStatus(conn_.get()) == PQTRANS_INERROR;
    }

    void Begin(TxKind kind) override {
        const char* begin = kind == TxKind::kWrite ? "BEGIN ISOLATION LEVEL SERIALIZABLE"
                            : kind == TxKind::kLocked
                                ? "BEGIN ISOLATION LEVEL READ COMMITTED"
                                : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
        try {
            ExecScript(begin);
        } catch (const DbError&) {
            // A session the server cut while it sat idle (a restart, a terminated backend) shows
            // only when used. Nothing ran yet: connect again and begin once more.
            if (PQstatus(conn_.get()) == CONNECTION_OK || !Alive()) {
                throw;
            }
            ExecScript(begin);
        }
    }

    void Lock(std::vector<std::string> keys) override {
        std::sort(keys.begin(), keys.end());
        keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
        for (const std::string& key : keys) {
            Query("SELECT CAST(pg_advisory_xact_lock(hashtextextended(?, 0)) AS TEXT)", key)
                ->Step();
        }
    }

    void Commit() override { ExecScript("COMMIT"); }

    void Rollback() override { ExecScript("ROLLBACK"); }

    bool Alive() override {
        if (PQstatus(conn_.get()) == CONNECTION_OK) {
            return true;
        }
        // Lost (server restarted, network): connect again with the same settings. The
        // server-side prepared statements went with the old session.
        PQreset(conn_.get());
        prepared_.clear();
        if (PQstatus(conn_.get()) != CONNECTION_OK) {
            return false;
        }
        PQsetNoticeProcessor(conn_.get(), IgnoreNotice, nullptr);
        return true;
    }

    // Prepares `statement` on the server unless this session already has it.
    void EnsurePrepared(const ServerStatement& statement, const std::string& sql) {
        if (prepared_.count(statement.name) != 0) {
            return;
        }
        Check(ResultPtr(PQprepare(
                  conn_.get(), statement.name.c_str(), statement.translated.c_str(), 0, nullptr)),
              sql);
        prepared_.insert(statement.name);
    }

    // Throws DbError unless `result` is a success; returns it otherwise.
    ResultPtr Check(ResultPtr result, const std::string& sql) {
        const auto status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
        if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK ||
            status == PGRES_EMPTY_QUERY) {
            return result;
        }
        bool retry = false;
        const char* state = result ? PQresultErrorField(result.get(), PG_DIAG_SQLSTATE) : nullptr;
        Errc code = state != nullptr ? FromSqlState(state, retry) : Errc::kIo;
        if (PQstatus(conn_.get()) != CONNECTION_OK) {
            code = Errc::kIo;  // the connection is gone; Alive() re-establishes it
            retry = false;
        }
        std::string message =
            OneLine(result ? PQresultErrorMessage(result.get()) : PQerrorMessage(conn_.get()));
        if (message.empty()) {
            message = OneLine(PQerrorMessage(conn_.get()));
        }
        const auto first_line = sql.find('\n');
        throw DbError(code, message + " [" + sql.substr(0, first_line) + "]", retry);
    }

    PGconn* raw() { return conn_.get(); }

protected:
    std::unique_ptr<Statement> NewStatement(const std::string& sql) override {
        auto found = statements_.find(sql);
        if (found == statements_.end()) {
            ServerStatement statement;
            statement.name = "c" + std::to_string(statements_.size() + 1);
            statement.translated = ToPostgresPlaceholders(sql, statement.params);
            found = statements_.emplace(sql, std::move(statement)).first;
        }
        return std::make_unique<PgStatement>(*this, sql, found->second);
    }

private:
    std::unique_ptr<PGconn, ConnDeleter> conn_;
    std::unordered_map<std::string, ServerStatement> statements_;  // by the store's SQL
    std::unordered_set<std::string> prepared_;                     // names this session has
};

void PgStatement::Run() {
    connection_.EnsurePrepared(server_, sql_);
    std::vector<const char*> pointers;
    pointers.reserve(values_.size());
    for (const auto& value : values_) {
        pointers.push_back(value ? value->c_str() : nullptr);
    }
    result_ = connection_.Check(ResultPtr(PQexecPrepared(connection_.raw(),
                                                         server_.name.c_str(),
                                                         static_cast<int>(pointers.size()),
                                                         pointers.data(),
                                                         nullptr,
                                                         nullptr,
                                                         0)),
                                sql_);
}

}  // namespace

std::string ToPostgresPlaceholders(std::string_view sql, int& count) {
    std::string out;
    out.reserve(sql.size() + 16);
    count = 0;
    int sequential = 0;
    std::size_t i = 0;
    while (i < sql.size()) {
        const char c = sql[i];
        if (c == '\'' || c == '"') {
            // A quoted literal or name, with doubled quotes inside: copied as is.
            const std::size_t start = i++;
            while (i < sql.size()) {
                if (sql[i] == c) {
                    if (i + 1 < sql.size() && sql[i + 1] == c) {
                        i += 2;
                        continue;
                    }
                    ++i;
                    break;
                }
                ++i;
            }
            out.append(sql.substr(start, i - start));
        } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
            const auto end = sql.find('\n', i);
            const std::size_t stop = end == std::string_view::npos ? sql.size() : end;
            out.append(sql.substr(i, stop - i));
            i = stop;
        } else if (c == '?') {
            ++i;
            int number = 0;
            const std::size_t digits = i;
            while (i < sql.size() && sql[i] >= '0' && sql[i] <= '9') {
                number = number * 10 + (sql[i] - '0');
                ++i;
            }
            if (i == digits) {
                number = ++sequential;  // plain ?: the next one
            } else {
                sequential = number;  // as SQLite: a ? after ?N is ?N+1
            }
            out += '$';
            out += std::to_string(number);
            count = std::max(count, number);
        } else {
            out += c;
            ++i;
        }
    }
    return out;
}

Errc FromSqlState(std::string_view sqlstate, bool& retry) {
    retry = false;
    if (sqlstate == "40001" || sqlstate == "40P01") {  // serialization failure, deadlock
        retry = true;
        return Errc::kBusy;
    }
    if (sqlstate == "55P03" || sqlstate == "57014") {  // lock not available, query cancelled
        return Errc::kBusy;
    }
    const std::string_view klass = sqlstate.substr(0, 2);
    if (klass == "23") {
        return Errc::kConstraint;
    }
    if (klass == "08" || klass == "53" || klass == "57" || klass == "58") {
        return Errc::kIo;  // connection, resources (disk full), operator intervention
    }
    if (klass == "28" || sqlstate == "3D000") {  // bad password, no such database
        return Errc::kCannotOpen;
    }
    if (klass == "XX") {
        return Errc::kCorrupt;
    }
    return Errc::kInternal;
}

std::unique_ptr<Connection> OpenPostgres(const std::string& target) {
    std::unique_ptr<PGconn, ConnDeleter> conn(PQconnectdb(target.c_str()));
    if (!conn) {
        throw DbError(Errc::kCannotOpen, "out of memory connecting to PostgreSQL");
    }
    if (PQstatus(conn.get()) != CONNECTION_OK) {
        // libpq's message names the host and the reason, never the password.
        throw DbError(Errc::kCannotOpen,
                      "cannot connect to PostgreSQL: " + OneLine(PQerrorMessage(conn.get())));
    }
    if (PQsetClientEncoding(conn.get(), "UTF8") != 0) {
        throw DbError(Errc::kCannotOpen, "PostgreSQL refused the UTF8 client encoding");
    }
    auto connection = std::make_unique<PgConnection>(conn.release());
    // Times are stored as ISO text computed by cobrador; the session's zone only matters to
    // what the server computes itself (leases), which is UTC.
    connection->ExecScript("SET TIME ZONE 'UTC'");
    // As SQLite's busy timeout: a write that waits longer than this for a lock fails (kBusy;
    // a webhook then gets 503 and the provider retries) instead of hanging its caller.
    connection->ExecScript("SET lock_timeout = '5s'");
    return connection;
}

}  // namespace cobrador::store
