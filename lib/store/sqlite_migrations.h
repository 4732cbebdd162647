#pragma once
#include "store/db.h"

namespace rr::store {

// The SQLite queue's schema version (0: no schema yet), without changing anything.
[[nodiscard]] Result<int> sqlite_queue_schema_version(Db& db);

// Applies the shared numbered migrations (queue_migrations.h) the SQLite queue file has not
// seen, in one IMMEDIATE transaction, so nodes on one host starting together do not race (the
// second waits for the first, then finds nothing to do). A file migrated by a newer
// renderrushd is refused rather than guessed at.
[[nodiscard]] Status sqlite_queue_migrate(Db& db);

}  // namespace rr::store
