#include "store/db.h"

#include <chrono>
#include <thread>

namespace rr::store {
namespace {

constexpr int kBusyTimeoutMs = 5000;

// Switching a new file to WAL needs an exclusive lock, and SQLite does not call the busy
// handler while taking it (two connections upgrading at once could deadlock), so processes
// opening one new file at the same moment (cluster nodes on one host) retry here, for as long
// as the busy timeout would have waited.
Status enable_wal(Db& db) {
    for (int waited_ms = 0;; waited_ms += 5) {
        Status st = db.exec("PRAGMA journal_mode=WAL");
        if (st || (sqlite3_errcode(db.get()) & 0xff) != SQLITE_BUSY ||
            waited_ms >= kBusyTimeoutMs) {
            return st;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

}  // namespace

Error Db::error(const std::string& what) const {
    const int code = db_ ? sqlite3_extended_errcode(db_.get()) : SQLITE_ERROR;
    const Errc kind = (code & 0xff) == SQLITE_FULL ? Errc::no_space : Errc::io;
    return Error{kind, what + ": " + (db_ ? sqlite3_errmsg(db_.get()) : "no database")};
}

Result<Db> Db::open(const std::filesystem::path& path, bool read_only) {
    Db db;
    sqlite3* raw = nullptr;
    const int flags =
        (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
        SQLITE_OPEN_NOMUTEX;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
    db.db_.reset(raw);
    if (rc != SQLITE_OK) return db.error("cannot open database " + path.string());
    sqlite3_busy_timeout(raw, kBusyTimeoutMs);
    if (!read_only) {
        RR_TRY(enable_wal(db));
        // WAL + NORMAL: a committed transaction survives a crash of the process; only an OS
        // crash may lose the last transactions, never corrupt the file.
        RR_TRY(db.exec("PRAGMA synchronous=NORMAL"));
    }
    RR_TRY(db.exec("PRAGMA foreign_keys=ON"));
    return db;
}

Status Db::exec(std::string_view sql) {
    char* msg = nullptr;
    const std::string text(sql);
    if (sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
        std::string m = msg ? msg : "unknown error";
        sqlite3_free(msg);
        const int code = sqlite3_extended_errcode(db_.get());
        return Error{(code & 0xff) == SQLITE_FULL ? Errc::no_space : Errc::io, "sqlite: " + m};
    }
    return {};
}

Result<Stmt> Stmt::prepare(const Db& db, std::string_view sql) {
    Stmt s;
    s.db_ = &db;
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db.get(), sql.data(), static_cast<int>(sql.size()), &raw, nullptr) !=
        SQLITE_OK) {
        return db.error("prepare");
    }
    s.stmt_.reset(raw);
    return s;
}

Stmt& Stmt::bind(int index, int64_t value) {
    sqlite3_bind_int64(stmt_.get(), index, value);
    return *this;
}
Stmt& Stmt::bind(int index, double value) {
    sqlite3_bind_double(stmt_.get(), index, value);
    return *this;
}
Stmt& Stmt::bind(int index, std::string_view value) {
    sqlite3_bind_text(stmt_.get(), index, value.data(), static_cast<int>(value.size()),
                      SQLITE_TRANSIENT);
    return *this;
}
Stmt& Stmt::bind_null(int index) {
    sqlite3_bind_null(stmt_.get(), index);
    return *this;
}

Result<bool> Stmt::step() {
    const int rc = sqlite3_step(stmt_.get());
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    Error e = db_->error("query");
    sqlite3_reset(stmt_.get());
    return e;
}

Status Stmt::run() {
    auto r = step();
    reset();
    if (!r) return r.error();
    return {};
}

void Stmt::reset() {
    sqlite3_reset(stmt_.get());
    sqlite3_clear_bindings(stmt_.get());
}

std::string Stmt::text(int col) const {
    const auto* p = sqlite3_column_text(stmt_.get(), col);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<size_t>(sqlite3_column_bytes(stmt_.get(), col)))
             : std::string();
}

std::optional<std::string> Stmt::optional_text(int col) const {
    if (is_null(col)) return std::nullopt;
    return text(col);
}

std::optional<int64_t> Stmt::optional_integer(int col) const {
    if (is_null(col)) return std::nullopt;
    return integer(col);
}

std::optional<double> Stmt::optional_real(int col) const {
    if (is_null(col)) return std::nullopt;
    return real(col);
}

Result<Transaction> Transaction::begin(Db& db) {
    RR_TRY(db.exec("BEGIN IMMEDIATE"));
    return Transaction(db);
}

Transaction::~Transaction() {
    if (db_) (void)db_->exec("ROLLBACK");
}

Status Transaction::commit() {
    Db* db = db_;
    db_ = nullptr;
    return db->exec("COMMIT");
}

}  // namespace rr::store
