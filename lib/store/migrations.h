#pragma once
#include "store/db.h"

namespace rr::store {

// The schema version this build knows (PRAGMA user_version after all migrations).
[[nodiscard]] int latest_schema_version();

// Applies the numbered migrations the database has not seen, each in its own transaction.
// A database written by a newer renderrushd is refused rather than guessed at.
[[nodiscard]] Status migrate(Db& db);

}  // namespace rr::store
