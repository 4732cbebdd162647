#pragma once
// Thin RAII wrappers over SQLite: one owner for the connection, one for each statement,
// and a transaction that rolls back unless committed.

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace rr::store {

struct DbDeleter {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtDeleter {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};

class Db {
  public:
    // Opens (creating) the database in WAL mode with a busy timeout and foreign keys on.
    [[nodiscard]] static Result<Db> open(const std::filesystem::path& path, bool read_only = false);
    [[nodiscard]] sqlite3* get() const { return db_.get(); }
    [[nodiscard]] Status exec(std::string_view sql);
    [[nodiscard]] int64_t last_insert_id() const { return sqlite3_last_insert_rowid(db_.get()); }
    [[nodiscard]] Error error(const std::string& what) const;

  private:
    std::unique_ptr<sqlite3, DbDeleter> db_;
};

class Stmt {
  public:
    [[nodiscard]] static Result<Stmt> prepare(const Db& db, std::string_view sql);

    Stmt& bind(int index, int64_t value);
    Stmt& bind(int index, int value) { return bind(index, static_cast<int64_t>(value)); }
    Stmt& bind(int index, double value);
    Stmt& bind(int index, std::string_view value);
    Stmt& bind(int index, const std::string& value) { return bind(index, std::string_view(value)); }
    Stmt& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
    Stmt& bind_null(int index);
    template <class T>
    Stmt& bind(int index, const std::optional<T>& value) {
        return value ? bind(index, *value) : bind_null(index);
    }

    // true while a row is available.
    [[nodiscard]] Result<bool> step();
    // Runs a statement that returns no rows, then resets it for reuse.
    [[nodiscard]] Status run();
    void reset();

    [[nodiscard]] int64_t integer(int col) const { return sqlite3_column_int64(stmt_.get(), col); }
    [[nodiscard]] double real(int col) const { return sqlite3_column_double(stmt_.get(), col); }
    [[nodiscard]] std::string text(int col) const;
    [[nodiscard]] bool is_null(int col) const {
        return sqlite3_column_type(stmt_.get(), col) == SQLITE_NULL;
    }
    [[nodiscard]] std::optional<std::string> optional_text(int col) const;
    [[nodiscard]] std::optional<int64_t> optional_integer(int col) const;
    [[nodiscard]] std::optional<double> optional_real(int col) const;

  private:
    const Db* db_ = nullptr;
    std::unique_ptr<sqlite3_stmt, StmtDeleter> stmt_;
};

class Transaction {
  public:
    // BEGIN IMMEDIATE: take the write lock up front so a busy database fails early.
    [[nodiscard]] static Result<Transaction> begin(Db& db);
    Transaction(Transaction&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
    Transaction& operator=(Transaction&&) = delete;
    ~Transaction();
    [[nodiscard]] Status commit();

  private:
    explicit Transaction(Db& db) : db_(&db) {}
    Db* db_;
};

}  // namespace rr::store
