#include "store/sqlite_migrations.h"

#include "store/queue_migrations.h"

namespace rr::store {
namespace {

// The versions applied, one row each, as on PostgreSQL (the queue's own file; PRAGMA
// user_version stays free, as the job database uses it for its own schema).
constexpr const char* kVersions =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
    "applied_at REAL NOT NULL DEFAULT ((julianday('now') - 2440587.5) * 86400.0))";

Result<int> applied_version(Db& db) {
    RR_ASSIGN(Stmt s, Stmt::prepare(db, "SELECT coalesce(max(version), 0) FROM schema_migrations"));
    RR_ASSIGN(bool row, s.step());
    return row ? static_cast<int>(s.integer(0)) : 0;
}

// Foreign keys off while migrating (a migration may rebuild a referenced table; the pragma is
// a no-op inside a transaction), back on whatever happens.
class ForeignKeysOff {
  public:
    explicit ForeignKeysOff(Db& db) : db_(db) { (void)db_.exec("PRAGMA foreign_keys=OFF"); }
    ~ForeignKeysOff() { (void)db_.exec("PRAGMA foreign_keys=ON"); }
    ForeignKeysOff(const ForeignKeysOff&) = delete;
    ForeignKeysOff& operator=(const ForeignKeysOff&) = delete;

  private:
    Db& db_;
};

}  // namespace

Result<int> sqlite_queue_schema_version(Db& db) {
    RR_ASSIGN(Stmt s, Stmt::prepare(db,
                                    "SELECT count(*) FROM sqlite_master "
                                    "WHERE type = 'table' AND name = 'schema_migrations'"));
    RR_ASSIGN(bool row, s.step());
    if (!row || s.integer(0) == 0) return 0;
    return applied_version(db);
}

Status sqlite_queue_migrate(Db& db) {
    const int latest = queue_migrations().back().version;
    ForeignKeysOff fk(db);
    RR_ASSIGN(Transaction tx, Transaction::begin(db));
    RR_TRY(db.exec(kVersions));
    RR_ASSIGN(const int have, applied_version(db));
    if (have > latest) {
        return make_error(Errc::unsupported, "the cluster database's schema (version " +
                                                 std::to_string(have) +
                                                 ") is newer than this renderrushd (version " +
                                                 std::to_string(latest) + "): upgrade this node");
    }
    if (have == latest) return tx.commit();
    for (const QueueMigration& m : queue_migrations()) {
        if (m.version <= have) continue;
        if (Status st = db.exec(m.sqlite); !st) {
            return st.error().context("schema migration " + std::to_string(m.version));
        }
        RR_ASSIGN(Stmt record,
                  Stmt::prepare(db, "INSERT INTO schema_migrations (version) VALUES (?1)"));
        RR_TRY(record.bind(1, m.version).run());
    }
    {
        RR_ASSIGN(Stmt check, Stmt::prepare(db, "PRAGMA foreign_key_check"));
        RR_ASSIGN(bool broken, check.step());
        if (broken) {
            return make_error(Errc::io,
                              "the cluster queue has dangling references after migrating");
        }
    }
    return tx.commit();
}

}  // namespace rr::store
