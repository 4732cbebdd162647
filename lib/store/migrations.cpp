#include "store/migrations.h"

#include <array>

namespace rr::store {
namespace {

// Append only: a migration that shipped is never edited.
constexpr std::array<const char*, 5> kMigrations = {
    // 1: jobs, chunks, events.
    R"sql(
CREATE TABLE jobs (
    id            INTEGER PRIMARY KEY,
    source_path   TEXT NOT NULL,              -- where the file was found
    input_path    TEXT NOT NULL,              -- where it is now (moves to done/ or failed/)
    watch_path    TEXT,                       -- the watch it came from; NULL when submitted
    output_path   TEXT,
    size          INTEGER NOT NULL,
    mtime_ns      INTEGER NOT NULL,
    checksum      TEXT,                       -- xxh3-128, known after probing
    profile       TEXT NOT NULL,
    priority      INTEGER NOT NULL DEFAULT 0,
    state         TEXT NOT NULL CHECK (state IN ('queued','probing','running','assembling','done',
                                                 'failed','cancelled','duplicate')),
    progress      REAL NOT NULL DEFAULT 0,
    attempts      INTEGER NOT NULL DEFAULT 0,
    error         TEXT,
    duplicate_of  INTEGER REFERENCES jobs(id),
    frames_total  INTEGER,
    chunks_total  INTEGER,
    sidecar       TEXT,
    created_at    REAL NOT NULL,
    updated_at    REAL NOT NULL,
    started_at    REAL,
    finished_at   REAL
);
CREATE INDEX jobs_by_state ON jobs(state, priority DESC, id);
CREATE INDEX jobs_by_content ON jobs(checksum, profile);
CREATE INDEX jobs_by_source ON jobs(source_path, size, mtime_ns);

CREATE TABLE chunks (
    job_id        INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    idx           INTEGER NOT NULL,           -- -1 is the job's audio track
    first_frame   INTEGER NOT NULL,
    frames        INTEGER NOT NULL,
    start_time    REAL NOT NULL,
    end_time      REAL NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('pending','running','done','failed')),
    file          TEXT,
    bytes         INTEGER,
    checksum      TEXT,
    worker        INTEGER,
    attempts      INTEGER NOT NULL DEFAULT 0,
    seconds       REAL,
    error         TEXT,
    result        TEXT,                       -- JSON: decode errors, per-stage results
    started_at    REAL,
    finished_at   REAL,
    PRIMARY KEY (job_id, idx)
);

CREATE TABLE events (
    id            INTEGER PRIMARY KEY,
    job_id        INTEGER REFERENCES jobs(id) ON DELETE CASCADE,
    at            REAL NOT NULL,
    kind          TEXT NOT NULL,
    message       TEXT NOT NULL
);
CREATE INDEX events_by_job ON events(job_id, id);
)sql",
    // 2: the done_with_warnings state, and reprocess_of (a job made again on request, which
    // dedupe leaves alone). SQLite cannot alter a CHECK constraint, so the table is
    // rebuilt (foreign keys are off while migrating, so chunks and events keep their rows).
    R"sql(
CREATE TABLE jobs_v2 (
    id            INTEGER PRIMARY KEY,
    source_path   TEXT NOT NULL,
    input_path    TEXT NOT NULL,
    watch_path    TEXT,
    output_path   TEXT,
    size          INTEGER NOT NULL,
    mtime_ns      INTEGER NOT NULL,
    checksum      TEXT,
    profile       TEXT NOT NULL,
    priority      INTEGER NOT NULL DEFAULT 0,
    state         TEXT NOT NULL CHECK (state IN ('queued','probing','running','assembling','done',
                                                 'done_with_warnings','failed','cancelled',
                                                 'duplicate')),
    progress      REAL NOT NULL DEFAULT 0,
    attempts      INTEGER NOT NULL DEFAULT 0,
    error         TEXT,
    duplicate_of  INTEGER REFERENCES jobs(id),
    frames_total  INTEGER,
    chunks_total  INTEGER,
    sidecar       TEXT,
    created_at    REAL NOT NULL,
    updated_at    REAL NOT NULL,
    started_at    REAL,
    finished_at   REAL,
    reprocess_of  INTEGER REFERENCES jobs(id)
);
INSERT INTO jobs_v2 (id, source_path, input_path, watch_path, output_path, size, mtime_ns,
                     checksum, profile, priority, state, progress, attempts, error, duplicate_of,
                     frames_total, chunks_total, sidecar, created_at, updated_at, started_at,
                     finished_at)
SELECT id, source_path, input_path, watch_path, output_path, size, mtime_ns, checksum, profile,
       priority, state, progress, attempts, error, duplicate_of, frames_total, chunks_total,
       sidecar, created_at, updated_at, started_at, finished_at FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_v2 RENAME TO jobs;
CREATE INDEX jobs_by_state ON jobs(state, priority DESC, id);
CREATE INDEX jobs_by_content ON jobs(checksum, profile);
CREATE INDEX jobs_by_source ON jobs(source_path, size, mtime_ns);
)sql",
    // 3: runs of a job cut short by the daemon dying (poison protection).
    R"sql(
ALTER TABLE jobs ADD COLUMN interruptions INTEGER NOT NULL DEFAULT 0;
)sql",
    // 4: the cluster node that produced each chunk (`renderrushctl jobs` lists them).
    R"sql(
ALTER TABLE chunks ADD COLUMN node TEXT;
)sql",
    // 5: a run asked for (retry, reprocess) makes a new queue job when this file's has ended;
    // the flag is cleared once that run's queue job is open, so a restart after it resumes the
    // run (and a restart while an ended job is being disposed of finishes that) instead of
    // running the file again.
    R"sql(
ALTER TABLE jobs ADD COLUMN rerun INTEGER NOT NULL DEFAULT 0;
)sql",
};

Result<int> user_version(Db& db) {
    RR_ASSIGN(Stmt s, Stmt::prepare(db, "PRAGMA user_version"));
    RR_ASSIGN(bool row, s.step());
    return row ? static_cast<int>(s.integer(0)) : 0;
}

}  // namespace

int latest_schema_version() {
    return static_cast<int>(kMigrations.size());
}

Status migrate(Db& db) {
    RR_ASSIGN(int current, user_version(db));
    if (current > latest_schema_version()) {
        return make_error(Errc::conflict, "the job database has schema version " +
                                              std::to_string(current) +
                                              ", newer than this renderrushd knows (" +
                                              std::to_string(latest_schema_version()) +
                                              "); run a newer renderrushd or restore a backup");
    }
    if (current == latest_schema_version()) return {};
    // A migration may rebuild a table that others reference; with foreign keys on, dropping the
    // old table would cascade into chunks and events. The pragma is a no-op inside a
    // transaction, so it is switched around them, and the result is checked before going on.
    RR_TRY(db.exec("PRAGMA foreign_keys=OFF"));
    for (int v = current; v < latest_schema_version(); ++v) {
        RR_ASSIGN(Transaction tx, Transaction::begin(db));
        Status st = db.exec(kMigrations[static_cast<size_t>(v)]);
        if (!st) {
            (void)db.exec("PRAGMA foreign_keys=ON");
            return st.error().context("migration " + std::to_string(v + 1));
        }
        RR_TRY(db.exec("PRAGMA user_version = " + std::to_string(v + 1)));
        RR_TRY(tx.commit());
    }
    RR_TRY(db.exec("PRAGMA foreign_keys=ON"));
    RR_ASSIGN(Stmt check, Stmt::prepare(db, "PRAGMA foreign_key_check"));
    RR_ASSIGN(bool broken, check.step());
    if (broken)
        return make_error(Errc::io, "the job database has dangling references after migrating");
    return {};
}

}  // namespace rr::store
