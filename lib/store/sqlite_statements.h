#pragma once
// Every SQL statement the SQLite queue runs (sqlite_queue.cpp), the counterparts of
// pg_statements.cpp. SQLite 3.40 has RETURNING and UPDATE … FROM but no data-modifying CTEs,
// so what PostgreSQL does in one statement is several statements in one IMMEDIATE
// transaction here. Every time is the database's clock: REAL seconds since the epoch
// (julianday has millisecond resolution; 3.40 has no 'subsec' modifier).

namespace rr::store::sq {

#define RR_SQ_NOW "((julianday('now') - 2440587.5) * 86400.0)"
// A job that ended (done, failed or cancelled) and whose source's disposition has not finished
// (claimed or not): its owner's to dispose of, or an adopter's once the owner is lost (the
// predicate of the partial index jobs_undisposed, queue migration 11). Unqualified: it reads
// the jobs row of the statement it is in.
#define RR_SQ_UNDISPOSED "(state IN ('done', 'failed', 'cancelled') AND disposed_at IS NULL)"

inline constexpr const char* kInsertJob =
    "INSERT INTO jobs (source_path, profile, state, chunks_total, chunks_remaining, priority) "
    "VALUES (?1, ?2, 'running', ?3, ?3, ?4) RETURNING id";
// Each task copies its job's priority, so the claim orders by it without reading jobs.
inline constexpr const char* kInsertTask =
    "INSERT INTO tasks (job_id, idx, payload, max_attempts, priority) "
    "SELECT ?1, ?2, ?3, ?4, priority FROM jobs WHERE id = ?1";

// A node that is not active (draining, lost, unknown) claims nothing, and nobody claims a task
// of a job that is not running. The IMMEDIATE transaction around it is the only writer on the
// file, so no other claimer can pick the same rows: what SKIP LOCKED does on PostgreSQL, one
// writer at a time does here. Higher priority first, then FIFO by id: the order of the
// tasks_available index.
inline constexpr const char* kClaim =
    "UPDATE tasks SET state = 'leased', attempt = attempt + 1, lease_epoch = lease_epoch + 1, "
    "lease_owner = ?1, lease_expires_at = " RR_SQ_NOW
    " + ?3, frames_done = 0 "
    "WHERE id IN (SELECT t.id FROM tasks t "
    "  WHERE t.state = 'available' AND t.run_after <= " RR_SQ_NOW
    "    AND EXISTS (SELECT 1 FROM nodes n WHERE n.node_id = ?1 AND n.state = 'active') "
    "    AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = t.job_id AND j.state = 'running') "
    "  ORDER BY t.priority DESC, t.id LIMIT ?2) "
    "RETURNING id, job_id, idx, attempt, lease_epoch, payload, priority";
inline constexpr const char* kRenew = "UPDATE tasks SET lease_expires_at = " RR_SQ_NOW
                                      " + ?2 "
                                      "WHERE state = 'leased' AND lease_owner = ?1 "
                                      "RETURNING id, job_id, idx, attempt, lease_epoch, payload, "
                                      "priority";

// complete: the fenced task update, the node's counter and the job's counter in one
// transaction; the single writer serialises the last two completions, and whichever takes
// chunks_remaining from 1 to 0 is the one joiner.
inline constexpr const char* kCompleteTask =
    "UPDATE tasks SET state = 'done', node = ?2, result = ?4, lease_owner = NULL, "
    "lease_expires_at = NULL, finished_at = " RR_SQ_NOW
    " WHERE id = ?1 AND state = 'leased' AND lease_owner = ?2 AND lease_epoch = ?3 "
    "RETURNING id, job_id";
inline constexpr const char* kCountDone =
    "UPDATE nodes SET chunks_done = chunks_done + 1 WHERE node_id = ?1";
inline constexpr const char* kCountJob =
    "UPDATE jobs SET chunks_remaining = chunks_remaining - 1, "
    "state = CASE WHEN chunks_remaining = 1 AND state = 'running' THEN 'joining' ELSE state END, "
    "joiner = CASE WHEN chunks_remaining = 1 AND state = 'running' THEN ?2 ELSE joiner END, "
    "join_task_id = CASE WHEN chunks_remaining = 1 AND state = 'running' THEN ?3 "
    "                    ELSE join_task_id END, "
    "updated_at = " RR_SQ_NOW " WHERE id = ?1 RETURNING id, join_task_id IS ?3";
// A completion already accepted for this node and epoch (the same call made twice).
inline constexpr const char* kCompletedEarlier =
    "SELECT t.job_id, j.join_task_id IS t.id FROM tasks t JOIN jobs j ON j.id = t.job_id "
    "WHERE t.id = ?1 AND t.state = 'done' AND t.node = ?2 AND t.lease_epoch = ?3";

// Back-off after a failed or expired attempt: base · 2^(attempt−1) seconds, at most max
// (?5 base, ?6 max; a shift, as SQLite may be built without power()).
#define RR_SQ_BACKOFF "min(?6, ?5 * (1 << min(attempt - 1, 62)))"
inline constexpr const char* kFailAttempt =
    "UPDATE tasks SET "
    "state = CASE WHEN attempt >= max_attempts THEN 'failed' ELSE 'available' END, "
    "run_after = " RR_SQ_NOW " + " RR_SQ_BACKOFF
    ", "
    "lease_owner = NULL, lease_expires_at = NULL, frames_done = 0, "
    "finished_at = CASE WHEN attempt >= max_attempts THEN " RR_SQ_NOW
    " END "
    "WHERE id = ?1 AND state = 'leased' AND lease_owner = ?2 AND lease_epoch = ?3 "
    "RETURNING id, job_id, idx, state = 'failed', attempt, lease_epoch";
inline constexpr const char* kInsertAttempt =
    "INSERT INTO task_attempts (task_id, attempt, epoch, node, error) "
    "VALUES (?1, ?2, ?3, ?4, ?5)";
// The expired leases, oldest first, with the owner and epoch the update below clears.
inline constexpr const char* kExpired =
    "SELECT id, lease_owner FROM tasks WHERE state = 'leased' AND lease_expires_at < " RR_SQ_NOW
    " ORDER BY lease_expires_at LIMIT ?1";
inline constexpr const char* kReapTask =
    "UPDATE tasks SET "
    "state = CASE WHEN attempt >= max_attempts THEN 'failed' ELSE 'available' END, "
    "run_after = " RR_SQ_NOW " + " RR_SQ_BACKOFF
    ", "
    "lease_owner = NULL, lease_expires_at = NULL, frames_done = 0, "
    "finished_at = CASE WHEN attempt >= max_attempts THEN " RR_SQ_NOW
    " END "
    "WHERE id = ?1 AND state = 'leased' "
    "RETURNING id, job_id, idx, state = 'failed', attempt, lease_epoch";
#undef RR_SQ_BACKOFF
// The chunk's attempts, for the job's error (rr_fail_job's text is built from them).
inline constexpr const char* kTaskAttemptsById =
    "SELECT t.idx, a.attempt, a.node, a.error FROM task_attempts a "
    "JOIN tasks t ON t.id = a.task_id WHERE a.task_id = ?1 ORDER BY a.attempt";
inline constexpr const char* kFailJob =
    "UPDATE jobs SET state = 'failed', finished_at = " RR_SQ_NOW ", updated_at = " RR_SQ_NOW
    ", error = ?2 WHERE id = ?1 AND state IN ('running', 'joining')";
// A failed job's waiting chunks are not worth anyone's time; leased ones finish or expire.
inline constexpr const char* kCancelSiblings =
    "UPDATE tasks SET state = 'failed', finished_at = " RR_SQ_NOW
    " WHERE job_id = ?1 AND state = 'available'";
// A clean shutdown is not a failed attempt: the attempt is given back, the epoch is not.
inline constexpr const char* kRelease =
    "UPDATE tasks SET state = 'available', attempt = attempt - 1, run_after = " RR_SQ_NOW
    ", lease_owner = NULL, lease_expires_at = NULL, frames_done = 0 "
    "WHERE state = 'leased' AND lease_owner = ?1 RETURNING id";

// Taken over only when the row is lost, its heartbeat is older than ?7 seconds, or it is this
// very incarnation: a second live node with the same id gets no row back. Draining survives.
inline constexpr const char* kRegisterNode =
    "INSERT INTO nodes (node_id, incarnation, host, pid, version, workers, state, started_at, "
    "heartbeat_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'active', " RR_SQ_NOW ", " RR_SQ_NOW
    ") "
    "ON CONFLICT (node_id) DO UPDATE SET incarnation = excluded.incarnation, "
    "host = excluded.host, pid = excluded.pid, version = excluded.version, "
    "workers = excluded.workers, busy = 0, "
    "state = CASE WHEN nodes.state = 'draining' THEN 'draining' ELSE 'active' END, "
    "started_at = " RR_SQ_NOW ", heartbeat_at = " RR_SQ_NOW
    " WHERE nodes.state = 'lost' OR nodes.incarnation = excluded.incarnation "
    "   OR nodes.heartbeat_at < " RR_SQ_NOW
    " - ?7 "
    "RETURNING node_id, state";
// Leases still held under this id belong to a dead incarnation: let the reaper count them.
inline constexpr const char* kExpireNodeLeases =
    "UPDATE tasks SET lease_expires_at = " RR_SQ_NOW
    " - 0.001 WHERE state = 'leased' AND lease_owner = ?1";
inline constexpr const char* kNodeHeartbeat =
    "UPDATE nodes SET heartbeat_at = " RR_SQ_NOW
    ", busy = ?3, storage_problem = ?4, "
    "state = CASE WHEN state = 'lost' THEN 'active' ELSE state END "
    "WHERE node_id = ?1 AND incarnation = ?2 RETURNING state";
inline constexpr const char* kSetNodeState =
    "UPDATE nodes SET state = ?2 WHERE node_id = ?1 AND state IN ('active', 'draining') "
    "RETURNING node_id";
inline constexpr const char* kMarkLost =
    "UPDATE nodes SET state = 'lost' WHERE state <> 'lost' AND heartbeat_at < " RR_SQ_NOW
    " - ?1 RETURNING node_id";
inline constexpr const char* kListNodes =
    "SELECT n.node_id, n.host, n.pid, n.version, n.state, " RR_SQ_NOW
    " - n.heartbeat_at, "
    "n.workers, n.busy, n.chunks_done, "
    "(SELECT count(*) FROM tasks t WHERE t.state = 'leased' AND t.lease_owner = n.node_id), "
    "n.storage_problem FROM nodes n ORDER BY n.node_id";
inline constexpr const char* kNodeGone =
    "UPDATE nodes SET state = 'lost', busy = 0 WHERE node_id = ?1 AND incarnation = ?2";

inline constexpr const char* kFinishJob =
    "UPDATE jobs SET state = 'done', result = ?3, finished_at = " RR_SQ_NOW
    ", updated_at = " RR_SQ_NOW
    " WHERE id = ?1 AND state = 'joining' AND joiner = ?2 "
    "RETURNING id";
// A jobs row as JobView reads it (read_job_row), with its joiner's node state.
#define RR_SQ_JOB_COLUMNS                                                                      \
    "j.id, j.source_path, j.profile, j.state, j.chunks_total, j.chunks_remaining, j.error, "   \
    "j.joiner, j.owner, j.source_key, j.payload, j.result, j.output_size, j.output_checksum, " \
    "n.state, j.disposed_by, j.priority, j.prepare_attempt, (j.disposed_at IS NOT NULL) "      \
    "FROM jobs j LEFT JOIN nodes n ON n.node_id = j.joiner "
inline constexpr const char* kJob = "SELECT " RR_SQ_JOB_COLUMNS "WHERE j.id = ?1";
// Each branch of the OR is a partial index's predicate (jobs_live, jobs_undisposed).
inline constexpr const char* kFarmJobs =
    "SELECT " RR_SQ_JOB_COLUMNS
    "WHERE j.state IN ('preparing', 'running', 'joining') "
    "   OR (j.state IN ('done', 'failed', 'cancelled') AND j.disposed_at IS NULL) "
    "ORDER BY j.priority DESC, j.id LIMIT ?1";
inline constexpr const char* kFarmLeases =
    "SELECT job_id, lease_owner, count(*) FROM tasks WHERE state = 'leased' "
    "GROUP BY job_id, lease_owner";
inline constexpr const char* kTaskAttempts =
    "SELECT a.attempt, a.epoch, a.node, a.error FROM task_attempts a "
    "JOIN tasks t ON t.id = a.task_id WHERE t.job_id = ?1 AND t.idx = ?2 ORDER BY a.attempt";
// Tasks and attempts go with their job (ON DELETE CASCADE; Db::open turns foreign keys on).
inline constexpr const char* kPruneJobs =
    "DELETE FROM jobs WHERE state IN ('done', 'failed', 'cancelled') AND finished_at < " RR_SQ_NOW
    " - ?1 RETURNING id";
inline constexpr const char* kPruneNodes =
    "DELETE FROM nodes WHERE state = 'lost' AND heartbeat_at < " RR_SQ_NOW " - ?1";
// Only what can be claimed counts as waiting (a task handed back after its job failed does not).
inline constexpr const char* kQueueDepth =
    "SELECT count(*) FILTER (WHERE t.state = 'available' AND EXISTS (SELECT 1 FROM jobs j "
    "                        WHERE j.id = t.job_id AND j.state = 'running')), "
    "count(*) FILTER (WHERE t.state = 'leased') "
    "FROM tasks t WHERE t.state IN ('available', 'leased')";
inline constexpr const char* kClusterId = "SELECT cluster_id FROM cluster_identity";
// The first id written stays.
inline constexpr const char* kInitClusterId =
    "INSERT INTO cluster_identity (cluster_id) VALUES (?1) ON CONFLICT (singleton) DO NOTHING";

inline constexpr const char* kFindJob =
    "SELECT id, coalesce(owner, ''), state FROM jobs "
    "WHERE source_path = ?1 AND source_key = ?2 AND source_key <> ''";
inline constexpr const char* kOpenJob =
    "INSERT INTO jobs (source_path, source_key, profile, payload, owner, state, chunks_total, "
    "chunks_remaining, priority) VALUES (?1, ?2, ?3, ?4, ?5, 'preparing', 0, 0, ?6) "
    "RETURNING id, owner, state";
// A job whose owner is lost (or has no node row) gets this node as owner while it is still
// being prepared, or once it ended with its disposition not finished (a claim the lost owner
// left is let go of for the adopter's). The adopter prepares with its own priority; an ended
// job's stays what its tasks had.
// Taking a preparation over is its next attempt; after ?6 the job fails instead, with every
// owner that was lost preparing it (the adopter disposes of the source). Every SET expression
// reads the row as it was.
inline constexpr const char* kAdoptJob =
    "UPDATE jobs SET owner = ?3, payload = ?4, disposed_by = NULL, "
    "priority = CASE WHEN state = 'preparing' THEN ?5 ELSE priority END, "
    "prepare_attempt = prepare_attempt + "
    "  CASE WHEN state = 'preparing' AND prepare_attempt < ?6 THEN 1 ELSE 0 END, "
    "prepare_lost = CASE WHEN state = 'preparing' "
    "  THEN coalesce(prepare_lost || ', ', '') || ?2 ELSE prepare_lost END, "
    "state = CASE WHEN state = 'preparing' AND prepare_attempt >= ?6 THEN 'failed' ELSE state END, "
    "error = CASE WHEN state = 'preparing' AND prepare_attempt >= ?6 "
    "  THEN 'preparing was interrupted ' || prepare_attempt || "
    "       CASE WHEN prepare_attempt = 1 THEN ' time' ELSE ' times' END || "
    "       ', each time by its node being lost (' || "
    "       coalesce(prepare_lost || ', ', '') || ?2 || ')' ELSE error END, "
    "finished_at = CASE WHEN state = 'preparing' AND prepare_attempt >= ?6 "
    "  THEN " RR_SQ_NOW
    " ELSE finished_at END, "
    "updated_at = " RR_SQ_NOW
    " WHERE id = ?1 AND owner = ?2 "
    "  AND (state = 'preparing' OR " RR_SQ_UNDISPOSED
    ") "
    "  AND NOT EXISTS (SELECT 1 FROM nodes n WHERE n.node_id = ?2 AND n.state <> 'lost') "
    "RETURNING id, owner, state";
inline constexpr const char* kUnfinishedJoins =
    "SELECT id FROM jobs WHERE state = 'joining' AND joiner = ?1 ORDER BY id";
// The owner claims an ended job's disposition; the retry after a lost reply finds its own.
inline constexpr const char* kClaimDisposal =
    "UPDATE jobs SET disposed_by = ?2, updated_at = " RR_SQ_NOW
    " WHERE id = ?1 AND owner = ?2 AND state IN ('done', 'failed', 'cancelled') "
    "  AND (disposed_by IS NULL OR disposed_by = ?2) "
    "RETURNING id";
// Only the claimer, while the job is still its own; a second call keeps the first time.
inline constexpr const char* kFinishDisposal =
    "UPDATE jobs SET disposed_at = coalesce(disposed_at, " RR_SQ_NOW "), updated_at = " RR_SQ_NOW
    " WHERE id = ?1 AND owner = ?2 AND disposed_by = ?2 "
    "RETURNING id";
// The '#' marks a retired key: a version key (size:mtime_ns) never holds one.
inline constexpr const char* kRetireJob =
    "UPDATE jobs SET source_key = source_key || '#' || id, updated_at = " RR_SQ_NOW
    " WHERE id = ?1 AND state IN ('done', 'failed', 'cancelled') "
    "  AND disposed_by IS NOT NULL AND instr(source_key, '#') = 0 "
    "RETURNING id";
// The owner's plan moves the job on; with no tasks the owner joins at once.
inline constexpr const char* kStartJob =
    "UPDATE jobs SET state = CASE WHEN ?3 = 0 THEN 'joining' ELSE 'running' END, "
    "joiner = CASE WHEN ?3 = 0 THEN owner END, chunks_total = ?3, chunks_remaining = ?3, "
    "updated_at = " RR_SQ_NOW
    " WHERE id = ?1 AND owner = ?2 AND state = 'preparing' "
    "RETURNING id";
inline constexpr const char* kJobState = "SELECT state FROM jobs WHERE id = ?1";
// Waiting and leased tasks fail with the job: their leases disappear, so the holders' next
// renew() reports them lost and a late completion is fenced off.
inline constexpr const char* kEndTasks =
    "UPDATE tasks SET state = 'failed', lease_owner = NULL, lease_expires_at = NULL, "
    "finished_at = " RR_SQ_NOW " WHERE job_id = ?1 AND state IN ('available', 'leased')";
inline constexpr const char* kEndJob =
    "UPDATE jobs SET state = ?2, error = ?3, finished_at = " RR_SQ_NOW ", updated_at = " RR_SQ_NOW
    " WHERE id = ?1 AND state IN ('preparing', 'running', 'joining')";
inline constexpr const char* kRecordOutput =
    "UPDATE jobs SET output_size = ?3, output_checksum = ?4, updated_at = " RR_SQ_NOW
    " WHERE id = ?1 AND state = 'joining' AND joiner = ?2 RETURNING id";
// The joiner condition makes the take-over happen once and fences the dead joiner.
inline constexpr const char* kTakeOverJoin =
    "UPDATE jobs SET joiner = ?2, updated_at = " RR_SQ_NOW
    " WHERE id = ?1 AND state = 'joining' AND joiner = ?3 RETURNING id";
inline constexpr const char* kListTasks =
    "SELECT id, idx, state, attempt, node, lease_owner, payload, result, priority, frames_done "
    "FROM tasks WHERE job_id = ?1 ORDER BY idx";
// One entry of report_progress, fenced by owner and epoch like complete; an unchanged count
// is not rewritten.
inline constexpr const char* kReportProgress =
    "UPDATE tasks SET frames_done = ?4 WHERE id = ?2 AND state = 'leased' AND lease_owner = ?1 "
    "AND lease_epoch = ?3 AND frames_done <> ?4";
// Jobs nobody will prepare or dispose of: their owner is lost (or gone) before it queued
// their tasks, or after they ended but before it finished their disposition.
inline constexpr const char* kOrphanedJobs =
    "SELECT j.id, j.source_path, j.source_key, j.profile, j.owner, j.state FROM jobs j "
    "WHERE (j.state = 'preparing' OR " RR_SQ_UNDISPOSED
    ") "
    "  AND j.owner IS NOT NULL AND j.owner <> ?1 "
    "  AND NOT EXISTS (SELECT 1 FROM nodes n WHERE n.node_id = j.owner AND n.state <> 'lost') "
    "ORDER BY j.id LIMIT ?2";

// record_content: the holder's conditions are those of the unique index jobs_content
// (migration 9); the IMMEDIATE transaction around the look and the record is the one writer.
inline constexpr const char* kContentHolder =
    "SELECT j.id, coalesce(j.owner, ''), j.state, j.payload FROM jobs j "
    "JOIN jobs m ON m.id = ?1 AND j.profile = m.profile AND j.id <> m.id "
    "WHERE j.content_checksum = ?2 AND j.state IN ('preparing', 'running', 'joining', 'done') "
    "  AND instr(j.source_key, '#') = 0 "
    "ORDER BY j.id LIMIT 1";
inline constexpr const char* kRecordContent =
    "UPDATE jobs SET content_checksum = ?2, updated_at = " RR_SQ_NOW " WHERE id = ?1 RETURNING id";
// A published job whose output is gone lets go of the content (the next owner found it gone).
inline constexpr const char* kReleaseContent =
    "UPDATE jobs SET content_checksum = NULL, updated_at = " RR_SQ_NOW
    " WHERE id = ?1 AND state = 'done' AND content_checksum = ?2";

#undef RR_SQ_JOB_COLUMNS
#undef RR_SQ_UNDISPOSED
#undef RR_SQ_NOW

}  // namespace rr::store::sq
