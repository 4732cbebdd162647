#pragma once
// The chunk queue's numbered migrations, one list for both backends: version N has the same
// tables and columns on PostgreSQL and on SQLite, so either database can be read by the same
// renderrushd and `--check-config` reports one version for both.

#include <span>
#include <string_view>

namespace rr::store {

struct QueueMigration {
    int version;
    std::string_view name;
    std::string_view postgres;
    std::string_view sqlite;
};

// Versions 1..N in order. Append only: a migration that shipped is never edited.
[[nodiscard]] std::span<const QueueMigration> queue_migrations();

}  // namespace rr::store
