#include "store/pg.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <utility>
#include <vector>

namespace rr::store {
namespace {

Errc classify(PGconn* conn, const PGresult* r) {
    if (PQstatus(conn) == CONNECTION_BAD) return Errc::io;
    const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    if (!state) return Errc::io;
    const std::string_view s(state);
    if (s == "53100") return Errc::no_space;  // disk_full
    if (s.starts_with("23") || s.starts_with("40"))
        return Errc::conflict;                                        // constraint, serialisation
    if (s.starts_with("57") || s.starts_with("08")) return Errc::io;  // shutdown, connection
    return Errc::internal;
}

std::string message(PGconn* conn, const PGresult* r) {
    std::string m = r ? PQresultErrorMessage(r) : "";
    if (m.empty() && conn) m = PQerrorMessage(conn);
    while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
    return m.empty() ? "unknown error" : m;
}

}  // namespace

std::optional<std::string> PgResult::optional_text(int row, int col) const {
    if (is_null(row, col)) return std::nullopt;
    return text(row, col);
}

int64_t PgResult::integer(int row, int col) const {
    const char* v = PQgetvalue(r_.get(), row, col);
    int64_t out = 0;
    std::from_chars(v, v + PQgetlength(r_.get(), row, col), out);
    return out;
}

double PgResult::real(int row, int col) const {
    return std::strtod(PQgetvalue(r_.get(), row, col), nullptr);
}

int64_t PgResult::affected() const {
    const char* n = PQcmdTuples(r_.get());
    return *n ? std::strtoll(n, nullptr, 10) : 0;
}

Result<PgConn> PgConn::connect(const std::string& conninfo, double silent_seconds) {
    PgConn c;
    c.conninfo_ = conninfo;
    c.silent_seconds_ = silent_seconds;
    RR_TRY(c.reconnect());
    return c;
}

namespace {

// libpq reads its parameter arrays in order and keeps the last value of a key: defaults put
// before the expanded conninfo ("dbname") are overridden by anything the conninfo sets.
PGconn* connect_with_defaults(const std::string& conninfo, double silent_seconds) {
    std::vector<std::pair<std::string, std::string>> params;
    if (silent_seconds > 0) {
        const auto whole = [](double s) { return std::to_string(std::max(1L, std::lround(s))); };
        params = {{"connect_timeout", whole(std::max(2.0, silent_seconds))},
                  {"keepalives", "1"},
                  {"keepalives_idle", whole(silent_seconds / 2)},
                  {"keepalives_interval", "1"},
                  {"keepalives_count", "3"},
                  {"tcp_user_timeout", std::to_string(std::lround(silent_seconds * 1000))}};
    }
    params.emplace_back("dbname", conninfo);
    std::vector<const char*> keys, values;
    for (const auto& [k, v] : params) {
        keys.push_back(k.c_str());
        values.push_back(v.c_str());
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);
    return PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1);
}

}  // namespace

Status PgConn::reconnect() {
    conn_.reset(connect_with_defaults(conninfo_, silent_seconds_));
    if (!conn_) return make_error(Errc::io, "postgresql: out of memory");
    if (PQstatus(conn_.get()) != CONNECTION_OK) {
        return make_error(Errc::io, "postgresql: cannot connect: " + message(conn_.get(), nullptr));
    }
    // A queue statement never waits forever on a lock, the server says who we are, and
    // NOTICEs (a migration re-checking its table) stay out of the daemon's stderr.
    RR_TRY(
        exec("SET application_name = 'renderrushd'; SET statement_timeout = '30s'; SET "
             "client_min_messages = warning"));
    if (!prepared_) return {};
    prepared_ = false;
    return prepare_statements();
}

Status PgConn::prepare_statements() {
    for (const PgStatement& s : pg_statements()) {
        PGresult* raw = PQprepare(conn_.get(), s.name, s.sql, s.params, nullptr);
        auto r = check(raw, std::string("prepare ") + s.name);
        if (!r.ok()) return std::move(r).error();
    }
    prepared_ = true;
    return {};
}

bool PgConn::connection_lost() const {
    return !conn_ || PQstatus(conn_.get()) == CONNECTION_BAD;
}

Result<PgResult> PgConn::check(PGresult* raw, std::string_view what) {
    PgResult owned(raw);
    const ExecStatusType st = raw ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return owned;
    return make_error(classify(conn_.get(), raw),
                      "postgresql: " + std::string(what) + ": " + message(conn_.get(), raw));
}

Result<PgResult> PgConn::run(Q q, std::span<const PgParam> params) {
    const PgStatement& s = pg_statement(q);
    if (static_cast<int>(params.size()) != s.params) {
        return make_error(Errc::internal, std::string("statement ") + s.name + " takes " +
                                              std::to_string(s.params) + " parameters");
    }
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const PgParam& p : params) values.push_back(p ? p->c_str() : nullptr);
    PGresult* raw =
        PQexecPrepared(conn_.get(), s.name, s.params, values.data(), nullptr, nullptr, 0);
    return check(raw, s.name);
}

Status PgConn::exec(std::string_view sql) {
    auto r = query(sql);
    if (!r.ok()) return std::move(r).error();
    return {};
}

Result<PgResult> PgConn::query(std::string_view sql) {
    const std::string text(sql);
    return check(PQexec(conn_.get(), text.c_str()), "query");
}

Result<PgTransaction> PgTransaction::begin(PgConn& conn) {
    RR_TRY(conn.exec("BEGIN"));
    return PgTransaction(conn);
}

PgTransaction::~PgTransaction() {
    // A lost connection has already rolled back on the server.
    if (conn_ && !conn_->connection_lost()) (void)conn_->exec("ROLLBACK");
}

Status PgTransaction::commit() {
    PgConn* c = conn_;
    conn_ = nullptr;
    return c->exec("COMMIT");
}

}  // namespace rr::store
