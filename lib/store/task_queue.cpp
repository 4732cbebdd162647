#include "store/task_queue.h"

#include <system_error>

#include "store/pg_migrations.h"
#include "store/pg_queue.h"
#include "store/queue_migrations.h"
#include "store/sqlite_migrations.h"
#include "store/sqlite_queue.h"

namespace rr::store {
namespace {

constexpr double kCheckSilentSeconds = 10;

}  // namespace

bool is_sqlite_database(std::string_view database) {
    return database.starts_with("sqlite:");
}

int latest_queue_schema_version() {
    return queue_migrations().back().version;
}

Result<int> queue_schema_version(const std::string& database) {
    if (is_sqlite_database(database)) {
        RR_ASSIGN(auto path, sqlite_queue_path(database));
        RR_TRY(sqlite_queue_on_local_disk(path));
        // No file (or an empty one) is a queue without a schema: the first node creates it.
        // Reading must not create the file, so it is opened read-only, and only when present.
        std::error_code ec;
        const auto size = std::filesystem::file_size(path, ec);
        if (ec == std::errc::no_such_file_or_directory || (!ec && size == 0)) return 0;
        if (ec) return make_error(Errc::io, path.string() + ": " + ec.message());
        RR_ASSIGN(Db db, Db::open(path, /*read_only=*/true));
        return sqlite_queue_schema_version(db);
    }
    // --check-config says "does not answer" within seconds, not after the kernel's TCP timeout.
    RR_ASSIGN(auto conn, PgConn::connect(database, kCheckSilentSeconds));
    return pg_schema_version(conn);
}

Result<std::unique_ptr<TaskQueue>> open_task_queue(QueueOptions options) {
    if (is_sqlite_database(options.database)) {
        RR_ASSIGN(auto q, SqliteQueue::open(std::move(options)));
        return std::unique_ptr<TaskQueue>(std::make_unique<SqliteQueue>(std::move(q)));
    }
    RR_ASSIGN(auto q, PgQueue::open(std::move(options)));
    return std::unique_ptr<TaskQueue>(std::make_unique<PgQueue>(std::move(q)));
}

}  // namespace rr::store
