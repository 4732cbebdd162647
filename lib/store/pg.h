#pragma once
// Thin RAII owners over libpq: one for the connection, one for each result, and a transaction
// that rolls back unless committed. Statements are named and prepared once per connection
// (pg_statements.h); nothing here knows the queue's SQL.

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/pg_statements.h"

namespace rr::store {

struct PgConnDeleter {
    void operator()(PGconn* c) const { PQfinish(c); }
};
struct PgResultDeleter {
    void operator()(PGresult* r) const { PQclear(r); }
};

// Parameters travel as text (libpq's text format); nullopt is SQL NULL.
using PgParam = std::optional<std::string>;
inline PgParam pg_param(int64_t v) {
    return std::to_string(v);
}
inline PgParam pg_param(int v) {
    return std::to_string(v);
}
inline PgParam pg_param(double v) {
    return std::to_string(v);
}
inline PgParam pg_param(std::string v) {
    return v;
}
inline PgParam pg_param(const char* v) {
    return std::string(v);
}

class PgResult {
  public:
    explicit PgResult(PGresult* r) : r_(r) {}
    [[nodiscard]] int rows() const { return PQntuples(r_.get()); }
    [[nodiscard]] bool is_null(int row, int col) const {
        return PQgetisnull(r_.get(), row, col) != 0;
    }
    [[nodiscard]] std::string text(int row, int col) const {
        return {PQgetvalue(r_.get(), row, col),
                static_cast<size_t>(PQgetlength(r_.get(), row, col))};
    }
    [[nodiscard]] std::optional<std::string> optional_text(int row, int col) const;
    [[nodiscard]] int64_t integer(int row, int col) const;
    [[nodiscard]] double real(int row, int col) const;
    // PostgreSQL's text form of a boolean is "t" or "f".
    [[nodiscard]] bool boolean(int row, int col) const { return text(row, col) == "t"; }
    [[nodiscard]] int64_t affected() const;

  private:
    std::unique_ptr<PGresult, PgResultDeleter> r_;
};

// One row of a result, read by column like a SQLite statement's current row, so one reader
// serves both backends (store/row_readers.h).
class PgRow {
  public:
    PgRow(const PgResult& r, int row) : r_(r), row_(row) {}
    [[nodiscard]] std::string text(int col) const { return r_.text(row_, col); }
    [[nodiscard]] std::optional<std::string> optional_text(int col) const {
        return r_.optional_text(row_, col);
    }
    [[nodiscard]] int64_t integer(int col) const { return r_.integer(row_, col); }
    [[nodiscard]] std::optional<int64_t> optional_integer(int col) const {
        return r_.is_null(row_, col) ? std::nullopt : std::optional<int64_t>(integer(col));
    }
    [[nodiscard]] double real(int col) const { return r_.real(row_, col); }

  private:
    const PgResult& r_;
    int row_;
};

class PgConn {
  public:
    // Connects (any libpq conninfo or URI). Statements are prepared by prepare_statements(),
    // once the schema they name exists, and again after every reconnect().
    // `silent_seconds` (> 0) bounds how long a TCP connection may stay silent: connecting
    // (connect_timeout), data not acknowledged (tcp_user_timeout) and a peer that stopped
    // answering keepalives all end the call with an error then, so a partition or a database
    // host that went away ends in a reconnect instead of a call blocked for the kernel's
    // hours. They are defaults: a conninfo that sets one keeps its own; Unix sockets ignore
    // them.
    [[nodiscard]] static Result<PgConn> connect(const std::string& conninfo,
                                                double silent_seconds = 0);
    [[nodiscard]] Status prepare_statements();

    // Runs one named statement. A broken connection comes back as Errc::io with
    // connection_lost() true afterwards, so the caller can reconnect() and retry.
    [[nodiscard]] Result<PgResult> run(Q q, std::span<const PgParam> params);
    [[nodiscard]] Result<PgResult> run(Q q, std::initializer_list<PgParam> params) {
        return run(q, std::span<const PgParam>(params.begin(), params.size()));
    }
    // Plain SQL without parameters (transaction control, migrations); may hold many statements.
    [[nodiscard]] Status exec(std::string_view sql);
    [[nodiscard]] Result<PgResult> query(std::string_view sql);

    [[nodiscard]] bool connection_lost() const;
    // Re-establishes the session and prepares the statements again.
    [[nodiscard]] Status reconnect();
    // The server process serving this connection (for tests that terminate it).
    [[nodiscard]] int backend_pid() const { return PQbackendPID(conn_.get()); }
    [[nodiscard]] PGconn* get() const { return conn_.get(); }

  private:
    [[nodiscard]] Result<PgResult> check(PGresult* raw, std::string_view what);
    std::string conninfo_;
    double silent_seconds_ = 0;
    bool prepared_ = false;
    std::unique_ptr<PGconn, PgConnDeleter> conn_;
};

class PgTransaction {
  public:
    [[nodiscard]] static Result<PgTransaction> begin(PgConn& conn);
    PgTransaction(PgTransaction&& other) noexcept : conn_(other.conn_) { other.conn_ = nullptr; }
    PgTransaction& operator=(PgTransaction&&) = delete;
    ~PgTransaction();
    [[nodiscard]] Status commit();

  private:
    explicit PgTransaction(PgConn& conn) : conn_(&conn) {}
    PgConn* conn_;
};

}  // namespace rr::store
