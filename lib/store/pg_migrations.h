#pragma once
#include "store/pg.h"

namespace rr::store {

// The PostgreSQL schema version this build knows.
[[nodiscard]] int pg_latest_schema_version();

// The version the database is at (0: no schema yet), without changing anything.
[[nodiscard]] Result<int> pg_schema_version(PgConn& conn);

// Applies the numbered migrations the database has not seen, in one transaction under an
// advisory lock, so nodes starting together do not race. A database migrated by a newer
// renderrushd is refused rather than guessed at.
[[nodiscard]] Status pg_migrate(PgConn& conn);

}  // namespace rr::store
