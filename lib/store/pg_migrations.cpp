#include "store/pg_migrations.h"

#include "store/queue_migrations.h"

namespace rr::store {
namespace {

// Any constant shared by all renderrushd builds: the advisory lock that serialises migrations.
constexpr const char* kLock = "SELECT pg_advisory_xact_lock(7262657264)";

}  // namespace

int pg_latest_schema_version() {
    return queue_migrations().back().version;
}

Result<int> pg_schema_version(PgConn& conn) {
    RR_ASSIGN(auto exists, conn.query("SELECT to_regclass('schema_migrations') IS NOT NULL"));
    if (!exists.boolean(0, 0)) return 0;
    RR_ASSIGN(auto current, conn.query("SELECT coalesce(max(version), 0) FROM schema_migrations"));
    return static_cast<int>(current.integer(0, 0));
}

Status pg_migrate(PgConn& conn) {
    RR_ASSIGN(auto tx, PgTransaction::begin(conn));
    RR_TRY(conn.exec(kLock));
    RR_TRY(
        conn.exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                  "version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"));
    RR_ASSIGN(auto current, conn.query("SELECT coalesce(max(version), 0) FROM schema_migrations"));
    const int have = static_cast<int>(current.integer(0, 0));
    if (have > pg_latest_schema_version()) {
        return make_error(Errc::unsupported,
                          "the cluster database's schema (version " + std::to_string(have) +
                              ") is newer than this renderrushd (version " +
                              std::to_string(pg_latest_schema_version()) + "): upgrade this node");
    }
    for (const QueueMigration& m : queue_migrations()) {
        if (m.version <= have) continue;
        auto applied = conn.exec(m.postgres);
        if (!applied.ok()) {
            return std::move(applied).error().context("schema migration " +
                                                      std::to_string(m.version));
        }
        RR_TRY(conn.exec("INSERT INTO schema_migrations (version) VALUES (" +
                         std::to_string(m.version) + ")"));
    }
    return tx.commit();
}

}  // namespace rr::store
