#include "store/task_queue.h"

#include "store/pg_migrations.h"
#include "store/pg_queue.h"

namespace rr::store {

bool is_sqlite_database(std::string_view database) {
    return database.starts_with("sqlite:");
}

int latest_queue_schema_version() {
    return pg_latest_schema_version();
}

Result<int> queue_schema_version(const std::string& database) {
    if (is_sqlite_database(database)) {
        return make_error(Errc::config, database + ": the SQLite queue is not built yet");
    }
    RR_ASSIGN(auto conn, PgConn::connect(database));
    return pg_schema_version(conn);
}

Result<std::unique_ptr<TaskQueue>> open_task_queue(QueueOptions options) {
    if (is_sqlite_database(options.database)) {
        return make_error(Errc::config, "cluster.database " + options.database +
                                            ": the SQLite queue is not built yet");
    }
    RR_ASSIGN(auto q, PgQueue::open(std::move(options)));
    return std::unique_ptr<TaskQueue>(std::make_unique<PgQueue>(std::move(q)));
}

}  // namespace rr::store
