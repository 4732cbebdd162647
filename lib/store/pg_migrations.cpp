#include "store/pg_migrations.h"

#include <array>

namespace rr::store {
namespace {

// Append only: a migration that shipped is never edited.
constexpr std::array<const char*, 5> kMigrations = {
    // 1: the chunk queue: jobs, tasks (leased chunks), attempts, nodes.
    R"sql(
CREATE TABLE nodes (
    node_id       text PRIMARY KEY,
    incarnation   bigint NOT NULL,            -- random per process start: fences a stale twin
    host          text NOT NULL,
    pid           integer NOT NULL,
    version       text NOT NULL,
    state         text NOT NULL CHECK (state IN ('active', 'draining', 'lost')),
    started_at    timestamptz NOT NULL DEFAULT now(),
    heartbeat_at  timestamptz NOT NULL DEFAULT now(),
    workers       integer NOT NULL DEFAULT 0,
    busy          integer NOT NULL DEFAULT 0,
    chunks_done   bigint NOT NULL DEFAULT 0
);

CREATE TABLE jobs (
    id                bigserial PRIMARY KEY,
    source_path       text NOT NULL,          -- relative to the storage root
    profile           text NOT NULL,
    state             text NOT NULL CHECK (state IN ('running', 'joining', 'done', 'failed',
                                                     'cancelled')),
    chunks_total      integer NOT NULL,
    chunks_remaining  integer NOT NULL CHECK (chunks_remaining >= 0),
    joiner            text,                   -- the node whose completion made it 'joining'
    join_task_id      bigint,
    error             text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    finished_at       timestamptz
);
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE state IN ('done', 'failed', 'cancelled');

CREATE TABLE tasks (
    id                bigserial PRIMARY KEY,
    job_id            bigint NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    idx               integer NOT NULL,
    payload           text NOT NULL DEFAULT '',
    state             text NOT NULL DEFAULT 'available'
                      CHECK (state IN ('available', 'leased', 'done', 'failed')),
    attempt           integer NOT NULL DEFAULT 0,
    max_attempts      integer NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),
    lease_epoch       bigint NOT NULL DEFAULT 0,
    lease_owner       text,
    lease_expires_at  timestamptz,
    run_after         timestamptz NOT NULL DEFAULT now(),
    node              text,                   -- the node whose completion was accepted
    result            text,
    finished_at       timestamptz,
    UNIQUE (job_id, idx),
    CHECK ((state = 'leased') = (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL))
);
-- Partial indexes stay as small as the live queue, however many finished rows wait for pruning.
CREATE INDEX tasks_available ON tasks (id) WHERE state = 'available';
CREATE INDEX tasks_leased_by ON tasks (lease_owner) WHERE state = 'leased';
CREATE INDEX tasks_lease_expiry ON tasks (lease_expires_at) WHERE state = 'leased';

CREATE TABLE task_attempts (
    task_id  bigint NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    attempt  integer NOT NULL,
    epoch    bigint NOT NULL,
    node     text NOT NULL,
    error    text NOT NULL,
    at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (task_id, attempt)
);

-- Every claim, renewal and completion rewrites a tasks row (and a jobs/nodes row): dead tuples
-- pile up orders of magnitude faster than the 20 % default trigger assumes. Vacuum after 1 %
-- (+50 rows) changes and without cost-based sleeping, so the partial indexes and the SKIP
-- LOCKED scan stay short. Free space left in each page lets a new row version land on the same
-- page (and be a HOT update where no indexed column changes, as for the nodes' heartbeats).
ALTER TABLE tasks SET (fillfactor = 80, autovacuum_vacuum_scale_factor = 0.01,
    autovacuum_vacuum_threshold = 50, autovacuum_analyze_scale_factor = 0.02,
    autovacuum_vacuum_cost_delay = 0);
ALTER TABLE jobs SET (fillfactor = 80, autovacuum_vacuum_scale_factor = 0.01,
    autovacuum_vacuum_threshold = 50, autovacuum_vacuum_cost_delay = 0);
ALTER TABLE nodes SET (fillfactor = 50, autovacuum_vacuum_scale_factor = 0.0,
    autovacuum_vacuum_threshold = 100, autovacuum_vacuum_cost_delay = 0);
)sql",
    // 2: the cluster's identity, written once by `renderrushd cluster init`; every node compares
    // it with the storage marker to tell a mounted share from an empty mount point.
    R"sql(
CREATE TABLE cluster_identity (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    cluster_id text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
)sql",
    // 3: jobs distributed over the nodes. The node whose watcher saw a file first owns its job
    // ('preparing' while it probes and plans, then it adds the tasks); every node reads the
    // payload to run them; the joiner records the output before publishing it, so recovery can
    // tell whether publishing happened.
    R"sql(
ALTER TABLE jobs
    ADD COLUMN owner           text,                        -- NULL for add_job's jobs
    ADD COLUMN source_key      text NOT NULL DEFAULT '',    -- the file's version: "size:mtime_ns"
    ADD COLUMN payload         text NOT NULL DEFAULT '',    -- JSON every node needs for the tasks
    ADD COLUMN result          text,                        -- the sidecar JSON once published
    ADD COLUMN output_size     bigint,
    ADD COLUMN output_checksum text;
ALTER TABLE jobs DROP CONSTRAINT jobs_state_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_state_check
    CHECK (state IN ('preparing', 'running', 'joining', 'done', 'failed', 'cancelled'));
-- One job per version of a file, whichever node saw it first and whatever its state; pruning
-- frees the version again. Jobs without a version (add_job: tests, the queue benchmark) are
-- left out, so they may repeat a path, as they could before this migration.
CREATE UNIQUE INDEX jobs_source_version ON jobs (source_path, source_key) WHERE source_key <> '';
)sql",
    // 4: every node looks for jobs left 'preparing' by a lost owner every poll_seconds
    // (orphaned_jobs); finished jobs stay until pruned, so that look must not scan them.
    R"sql(
CREATE INDEX jobs_preparing ON jobs (id) WHERE state = 'preparing';
)sql",
    // 5: the disposition of a job's source (moved to done/ or failed/, its after hooks) is
    // claimed in the queue, by its owner or, once the owner is lost, by a node that adopts it,
    // so a source is disposed of once even when its owner never comes back. Jobs that ended
    // before this migration count as disposed by their owner.
    R"sql(
ALTER TABLE jobs
    ADD COLUMN disposed_by text,                -- the node that claimed the disposition
    ADD COLUMN disposed_at timestamptz;
UPDATE jobs SET disposed_by = coalesce(owner, ''), disposed_at = coalesce(finished_at, now())
WHERE state IN ('done', 'failed', 'cancelled');
CREATE INDEX jobs_undisposed ON jobs (id)
    WHERE state IN ('done', 'failed', 'cancelled') AND disposed_by IS NULL;
)sql",
};

// Any constant shared by all renderrushd builds: the advisory lock that serialises migrations.
constexpr const char* kLock = "SELECT pg_advisory_xact_lock(7262657264)";

}  // namespace

int pg_latest_schema_version() {
    return static_cast<int>(kMigrations.size());
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
    for (int v = have; v < pg_latest_schema_version(); ++v) {
        auto applied = conn.exec(kMigrations[static_cast<size_t>(v)]);
        if (!applied.ok()) {
            return std::move(applied).error().context("schema migration " + std::to_string(v + 1));
        }
        RR_TRY(conn.exec("INSERT INTO schema_migrations (version) VALUES (" +
                         std::to_string(v + 1) + ")"));
    }
    return tx.commit();
}

}  // namespace rr::store
