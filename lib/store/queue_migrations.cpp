#include "store/queue_migrations.h"

#include <array>

namespace rr::store {
namespace {

// Append only: a migration that shipped is never edited (neither its PostgreSQL text, which
// shipped first, nor its SQLite text). Version N of one backend has the same tables and columns
// as version N of the other; tests/integration/test_queue_migrations.cpp compares them.
constexpr std::array kMigrations = {
    // 1: the chunk queue: jobs, tasks (leased chunks), attempts, nodes.
    QueueMigration{
        1, "chunk queue",
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
        // SQLite: times are REAL seconds since the epoch from the database's clock; AUTOINCREMENT
        // never hands out an id again, as bigserial does not (a task id is half a fencing token).
        // Autovacuum settings have no SQLite counterpart: a file of one host's queue stays small.
        R"sql(
CREATE TABLE nodes (
    node_id       TEXT PRIMARY KEY,
    incarnation   INTEGER NOT NULL,           -- random per process start: fences a stale twin
    host          TEXT NOT NULL,
    pid           INTEGER NOT NULL,
    version       TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('active', 'draining', 'lost')),
    started_at    REAL NOT NULL DEFAULT ((julianday('now') - 2440587.5) * 86400.0),
    heartbeat_at  REAL NOT NULL DEFAULT ((julianday('now') - 2440587.5) * 86400.0),
    workers       INTEGER NOT NULL DEFAULT 0,
    busy          INTEGER NOT NULL DEFAULT 0,
    chunks_done   INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE jobs (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    source_path       TEXT NOT NULL,          -- relative to the storage root
    profile           TEXT NOT NULL,
    state             TEXT NOT NULL CHECK (state IN ('running', 'joining', 'done', 'failed',
                                                     'cancelled')),
    chunks_total      INTEGER NOT NULL,
    chunks_remaining  INTEGER NOT NULL CHECK (chunks_remaining >= 0),
    joiner            TEXT,                   -- the node whose completion made it 'joining'
    join_task_id      INTEGER,
    error             TEXT,
    created_at        REAL NOT NULL DEFAULT ((julianday('now') - 2440587.5) * 86400.0),
    updated_at        REAL NOT NULL DEFAULT ((julianday('now') - 2440587.5) * 86400.0),
    finished_at       REAL
);
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE state IN ('done', 'failed', 'cancelled');

CREATE TABLE tasks (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id            INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    idx               INTEGER NOT NULL,
    payload           TEXT NOT NULL DEFAULT '',
    state             TEXT NOT NULL DEFAULT 'available'
                      CHECK (state IN ('available', 'leased', 'done', 'failed')),
    attempt           INTEGER NOT NULL DEFAULT 0,
    max_attempts      INTEGER NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),
    lease_epoch       INTEGER NOT NULL DEFAULT 0,
    lease_owner       TEXT,
    lease_expires_at  REAL,
    run_after         REAL NOT NULL DEFAULT ((julianday('now') - 2440587.5) * 86400.0),
    node              TEXT,                   -- the node whose completion was accepted
    result            TEXT,
    finished_at       REAL,
    UNIQUE (job_id, idx),
    CHECK ((state = 'leased') = (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL))
);
-- Partial indexes stay as small as the live queue, however many finished rows wait for pruning.
CREATE INDEX tasks_available ON tasks (id) WHERE state = 'available';
CREATE INDEX tasks_leased_by ON tasks (lease_owner) WHERE state = 'leased';
CREATE INDEX tasks_lease_expiry ON tasks (lease_expires_at) WHERE state = 'leased';

CREATE TABLE task_attempts (
    task_id  INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    attempt  INTEGER NOT NULL,
    epoch    INTEGER NOT NULL,
    node     TEXT NOT NULL,
    error    TEXT NOT NULL,
    at       REAL NOT NULL DEFAULT ((julianday('now') - 2440587.5) * 86400.0),
    PRIMARY KEY (task_id, attempt)
);
)sql"},
    // 2: the cluster's identity, written once by `renderrushd cluster init`; every node compares
    // it with the storage marker to tell a mounted share from an empty mount point.
    QueueMigration{2, "cluster identity",
                   // BOOLEAN, not INTEGER: an INTEGER PRIMARY KEY is the rowid, which ignores
                   // the DEFAULT and would number a second row 2 instead of conflicting.
                   R"sql(
CREATE TABLE cluster_identity (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    cluster_id text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
)sql",
                   // BOOLEAN, not INTEGER: an INTEGER PRIMARY KEY is the rowid, which ignores
                   // the DEFAULT and would number a second row 2 instead of conflicting.
                   R"sql(
CREATE TABLE cluster_identity (
    singleton BOOLEAN NOT NULL PRIMARY KEY DEFAULT 1 CHECK (singleton = 1),
    cluster_id TEXT NOT NULL,
    created_at REAL NOT NULL DEFAULT ((julianday('now') - 2440587.5) * 86400.0)
);
)sql"},
    // 3: jobs distributed over the nodes. The node whose watcher saw a file first owns its job
    // ('preparing' while it probes and plans, then it adds the tasks); every node reads the
    // payload to run them; the joiner records the output before publishing it, so recovery can
    // tell whether publishing happened.
    QueueMigration{
        3, "distributed jobs",
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
        // SQLite cannot alter a CHECK constraint: jobs is rebuilt with the new columns at the end,
        // as PostgreSQL's ADD COLUMN puts them. sqlite_queue_migrate turns foreign keys off around
        // the transaction, so dropping the old table does not cascade into tasks, and checks them
        // before committing; the id sequence carries over, so no job id is handed out twice.
        R"sql(
CREATE TABLE jobs_v3 (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    source_path       TEXT NOT NULL,
    profile           TEXT NOT NULL,
    state             TEXT NOT NULL CHECK (state IN ('preparing', 'running', 'joining', 'done',
                                                     'failed', 'cancelled')),
    chunks_total      INTEGER NOT NULL,
    chunks_remaining  INTEGER NOT NULL CHECK (chunks_remaining >= 0),
    joiner            TEXT,
    join_task_id      INTEGER,
    error             TEXT,
    created_at        REAL NOT NULL DEFAULT ((julianday('now') - 2440587.5) * 86400.0),
    updated_at        REAL NOT NULL DEFAULT ((julianday('now') - 2440587.5) * 86400.0),
    finished_at       REAL,
    owner             TEXT,                        -- NULL for add_job's jobs
    source_key        TEXT NOT NULL DEFAULT '',    -- the file's version: "size:mtime_ns"
    payload           TEXT NOT NULL DEFAULT '',    -- JSON every node needs for the tasks
    result            TEXT,                        -- the sidecar JSON once published
    output_size       INTEGER,
    output_checksum   TEXT
);
INSERT INTO jobs_v3 (id, source_path, profile, state, chunks_total, chunks_remaining, joiner,
                     join_task_id, error, created_at, updated_at, finished_at)
SELECT id, source_path, profile, state, chunks_total, chunks_remaining, joiner, join_task_id,
       error, created_at, updated_at, finished_at FROM jobs;
DELETE FROM sqlite_sequence WHERE name = 'jobs_v3';
INSERT INTO sqlite_sequence (name, seq) SELECT 'jobs_v3', seq FROM sqlite_sequence
    WHERE name = 'jobs';
DROP TABLE jobs;
ALTER TABLE jobs_v3 RENAME TO jobs;
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE state IN ('done', 'failed', 'cancelled');
-- One job per version of a file, whichever node saw it first and whatever its state; pruning
-- frees the version again. Jobs without a version (add_job) are left out.
CREATE UNIQUE INDEX jobs_source_version ON jobs (source_path, source_key) WHERE source_key <> '';
)sql"},
    // 4: every node looks for jobs left 'preparing' by a lost owner every poll_seconds
    // (orphaned_jobs); finished jobs stay until pruned, so that look must not scan them.
    QueueMigration{4, "preparing index",
                   R"sql(
CREATE INDEX jobs_preparing ON jobs (id) WHERE state = 'preparing';
)sql",
                   R"sql(
CREATE INDEX jobs_preparing ON jobs (id) WHERE state = 'preparing';
)sql"},
    // 5: the disposition of a job's source (moved to done/ or failed/, its after hooks) is
    // claimed in the queue, by its owner or, once the owner is lost, by a node that adopts it,
    // so a source is disposed of once even when its owner never comes back. Jobs that ended
    // before this migration count as disposed by their owner.
    QueueMigration{5, "disposition",
                   R"sql(
ALTER TABLE jobs
    ADD COLUMN disposed_by text,                -- the node that claimed the disposition
    ADD COLUMN disposed_at timestamptz;
UPDATE jobs SET disposed_by = coalesce(owner, ''), disposed_at = coalesce(finished_at, now())
WHERE state IN ('done', 'failed', 'cancelled');
CREATE INDEX jobs_undisposed ON jobs (id)
    WHERE state IN ('done', 'failed', 'cancelled') AND disposed_by IS NULL;
)sql",
                   R"sql(
ALTER TABLE jobs ADD COLUMN disposed_by TEXT;   -- the node that claimed the disposition
ALTER TABLE jobs ADD COLUMN disposed_at REAL;
UPDATE jobs SET disposed_by = coalesce(owner, ''),
                disposed_at = coalesce(finished_at, (julianday('now') - 2440587.5) * 86400.0)
WHERE state IN ('done', 'failed', 'cancelled');
CREATE INDEX jobs_undisposed ON jobs (id)
    WHERE state IN ('done', 'failed', 'cancelled') AND disposed_by IS NULL;
)sql"},
    // 6: the farm honours a job's priority (its watch's): tasks carry a copy of their job's,
    // set when they are queued, so the claim orders by it without joining jobs, and the
    // available-tasks index is in claim order (priority first, then FIFO by id). Rows queued
    // before this migration keep priority 0, the default a watch has.
    QueueMigration{6, "priority",
                   R"sql(
ALTER TABLE jobs ADD COLUMN priority integer NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN priority integer NOT NULL DEFAULT 0;
DROP INDEX tasks_available;
CREATE INDEX tasks_available ON tasks (priority DESC, id) WHERE state = 'available';
)sql",
                   R"sql(
ALTER TABLE jobs ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
DROP INDEX tasks_available;
CREATE INDEX tasks_available ON tasks (priority DESC, id) WHERE state = 'available';
)sql"},
    // 7: frames the holder of a lease has processed of its chunk (report_progress, once per
    // heartbeat), so the job's owner shows per-frame progress while chunks run on other nodes.
    // Each claim starts it at 0 again; it is the current lease's count, not the task's history.
    QueueMigration{7, "task progress",
                   R"sql(
ALTER TABLE tasks ADD COLUMN frames_done integer NOT NULL DEFAULT 0;
)sql",
                   R"sql(
ALTER TABLE tasks ADD COLUMN frames_done INTEGER NOT NULL DEFAULT 0;
)sql"},
    // 8: the claim as a PostgreSQL function planned with sorts, bitmap and sequential scans
    // off, so it always walks tasks_available in claim order, stops at LIMIT and updates the
    // picked rows by primary key. As a plain statement its plan followed the table's
    // statistics: while they said "few available tasks" (a new or drained queue before
    // autovacuum's next ANALYZE, i.e. just when a library is dropped in) the planner read every
    // available task of every running job, sorted them and took the first (or updated the
    // picked rows through a sequential scan of every task), per claim; on a 50-node farm that
    // was most of the server's CPU and claims took 0.3 s (docs/BENCHMARKS.md, 2026-12-05).
    // SQLite's queue is never analysed, so no statistics mislead its planner: nothing there.
    // The statement, and why each part is there:
    // - MATERIALIZED: the locking subquery runs exactly once, so LIMIT bounds what is locked,
    //   and SKIP LOCKED lets concurrent claimers pass each other instead of queueing.
    // - A node that is not active (draining, lost, unknown) claims nothing, and nobody claims a
    //   task of a job that is not running (failed, cancelled: end_job fails those tasks too).
    // - Higher priority first, then FIFO by id: the order of the tasks_available index.
    // - `id = ANY (ARRAY(...))`, not a join with picked: the update stays on the primary key
    //   whatever number of rows the planner guesses for LIMIT.
    QueueMigration{8, "claim function",
                   R"sql(
CREATE FUNCTION rr_claim_tasks(claimer text, wanted integer, lease_s double precision)
RETURNS TABLE (task_id bigint, task_job_id bigint, task_idx integer, task_attempt integer,
               task_epoch bigint, task_payload text, task_priority integer)
LANGUAGE sql VOLATILE
SET enable_sort = off
SET enable_bitmapscan = off
SET enable_seqscan = off
AS $fn$
WITH picked AS MATERIALIZED (
    SELECT t.id FROM tasks t
    WHERE t.state = 'available' AND t.run_after <= now()
      AND EXISTS (SELECT 1 FROM nodes n WHERE n.node_id = claimer AND n.state = 'active')
      AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = t.job_id AND j.state = 'running')
    ORDER BY t.priority DESC, t.id
    FOR UPDATE OF t SKIP LOCKED
    LIMIT wanted)
UPDATE tasks t
SET state = 'leased', attempt = t.attempt + 1, lease_epoch = t.lease_epoch + 1,
    lease_owner = claimer, lease_expires_at = now() + make_interval(secs => lease_s),
    frames_done = 0
WHERE t.id = ANY (ARRAY(SELECT id FROM picked))
RETURNING t.id, t.job_id, t.idx, t.attempt, t.lease_epoch, t.payload, t.priority
$fn$;
)sql",
                   R"sql(
-- nothing: SQLite's claim stays a statement (sqlite_statements.h).
)sql"},
    // 9: dedupe across the farm. The owner of a job records the checksum of its source's content
    // once it has planned it (record_content); a job of the same content and profile that is
    // still going or published, on any node, makes it a duplicate. The race of two owners
    // recording the same content at the same moment is closed by the unique partial index: at
    // most one job that counts holds a (content_checksum, profile). On PostgreSQL the second
    // owner's UPDATE waits on the first's index entry and fails with a unique violation once
    // the first commits (under READ COMMITTED both may have looked and seen no holder, so a
    // look alone would not do); it then looks again and finds the first. On SQLite every call
    // is one IMMEDIATE transaction, so look and record see one state of the file and never
    // interleave; the index holds there as a check of the same rule. Failed and cancelled jobs
    // (they publish nothing) and retired ones ('#' in the key, run again on request) leave the
    // index by their state or key, so the rule needs no statement of its own when a job ends;
    // a published job whose output is gone is let go of by the next owner (record_content).
    QueueMigration{9, "content checksum",
                   R"sql(
ALTER TABLE jobs ADD COLUMN content_checksum text;
CREATE UNIQUE INDEX jobs_content ON jobs (content_checksum, profile)
    WHERE content_checksum IS NOT NULL
      AND state IN ('preparing', 'running', 'joining', 'done') AND strpos(source_key, '#') = 0;
)sql",
                   R"sql(
ALTER TABLE jobs ADD COLUMN content_checksum TEXT;
CREATE UNIQUE INDEX jobs_content ON jobs (content_checksum, profile)
    WHERE content_checksum IS NOT NULL
      AND state IN ('preparing', 'running', 'joining', 'done') AND instr(source_key, '#') = 0;
)sql"},
    // 10: preparing counts its attempts as a task does. The owner prepares its job; when it is
    // lost while preparing, another node adopts the job and prepares it again (open_job). A
    // file whose preparation keeps taking its nodes down would otherwise go from node to node
    // for ever: each adoption counts an attempt and names the owner that was lost, and the
    // adoption after the adopter's max_attempts ends the job failed with every lost owner
    // listed (the adopter then disposes of the source).
    QueueMigration{10, "prepare attempts",
                   R"sql(
ALTER TABLE jobs
    ADD COLUMN prepare_attempt integer NOT NULL DEFAULT 1,  -- the creator's is the first
    ADD COLUMN prepare_lost    text;  -- owners lost while preparing, in order, comma-separated
)sql",
                   R"sql(
ALTER TABLE jobs ADD COLUMN prepare_attempt INTEGER NOT NULL DEFAULT 1;
ALTER TABLE jobs ADD COLUMN prepare_lost TEXT;
)sql"},
    // 11: a disposition is finished, not only claimed. disposed_at was the claim's time; from
    // now on the claim sets disposed_by alone and finish_disposal sets disposed_at once the
    // source is where it goes. An owner lost between the two left its source in the inbox for
    // ever: nobody else could take a claimed disposition over. Now a disposition not finished
    // is an orphan's like an unclaimed one (jobs_undisposed follows). Rows of before keep
    // their disposed_at: claimed then counted as done.
    QueueMigration{11, "disposition finished",
                   R"sql(
DROP INDEX jobs_undisposed;
CREATE INDEX jobs_undisposed ON jobs (id)
    WHERE state IN ('done', 'failed', 'cancelled') AND disposed_at IS NULL;
)sql",
                   R"sql(
DROP INDEX jobs_undisposed;
CREATE INDEX jobs_undisposed ON jobs (id)
    WHERE state IN ('done', 'failed', 'cancelled') AND disposed_at IS NULL;
)sql"},
    // 12: a node says why its storage keeps it from claiming. A node whose share is not mounted
    // (or is another cluster's) stays active and claims nothing; every heartbeat now writes
    // the reason (NULL when the storage is the cluster's), so `renderrushctl nodes` on any
    // node shows it and an owner cuts its plan only for nodes that can run chunks.
    QueueMigration{12, "node storage",
                   R"sql(
ALTER TABLE nodes ADD COLUMN storage_problem text;
)sql",
                   R"sql(
ALTER TABLE nodes ADD COLUMN storage_problem TEXT;
)sql"},
    // 13: every node lists what the farm is working on at each heartbeat (`cluster-jobs`):
    // the jobs being prepared, run or joined. A partial index keeps that read as small as the
    // live jobs, however many finished ones wait for pruning (preparing and undisposed jobs
    // have theirs already).
    QueueMigration{13, "live jobs",
                   R"sql(
CREATE INDEX jobs_live ON jobs (id) WHERE state IN ('preparing', 'running', 'joining');
)sql",
                   R"sql(
CREATE INDEX jobs_live ON jobs (id) WHERE state IN ('preparing', 'running', 'joining');
)sql"},
};

constexpr bool numbered_from_one() {
    for (std::size_t i = 0; i < kMigrations.size(); ++i) {
        if (kMigrations[i].version != static_cast<int>(i) + 1) return false;
    }
    return true;
}
static_assert(numbered_from_one(), "queue migrations are numbered 1..N in order");

}  // namespace

std::span<const QueueMigration> queue_migrations() {
    return kMigrations;
}

}  // namespace rr::store
