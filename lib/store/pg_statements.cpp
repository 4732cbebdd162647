#include "store/pg_statements.h"

#include <array>

namespace rr::store {
namespace {

// Parameters are text; casts say what each one is. Every time is the database's now(), so
// nodes with skewed clocks agree on when a lease expires.
// Back-off after a failed or expired attempt: base · 2^(attempt−1) seconds, at most max.

// A job that ended (done, failed or cancelled) and whose source's disposition has not finished
// (claimed or not): its owner's to dispose of, or an adopter's once the owner is lost. It is
// the predicate of the partial index jobs_undisposed (queue migration 11), so a statement that
// says it can use the index. Unqualified: it reads the jobs row of the statement it is in.
#define RR_PG_UNDISPOSED "(state IN ('done', 'failed', 'cancelled') AND disposed_at IS NULL)"

// A jobs row as JobView reads it (read_job_row), with its joiner's node state: FROM jobs j
// LEFT JOIN nodes n ON n.node_id = j.joiner.
#define RR_PG_JOB_COLUMNS                                                                      \
    "j.id, j.source_path, j.profile, j.state, j.chunks_total, j.chunks_remaining, j.error, "   \
    "j.joiner, j.owner, j.source_key, j.payload, j.result, j.output_size, j.output_checksum, " \
    "n.state, j.disposed_by, j.priority, j.prepare_attempt, (j.disposed_at IS NOT NULL)::int"

constexpr std::array<PgStatement, static_cast<std::size_t>(Q::count_)> kStatements = {{
    {Q::insert_job, "rr_insert_job", 4,
     // NOTIFY is delivered on commit: idle nodes waiting in LISTEN wake up at once.
     R"sql(WITH j AS (
             INSERT INTO jobs (source_path, profile, state, chunks_total, chunks_remaining,
                               priority)
             VALUES ($1::text, $2::text, 'running', $3::int, $3::int, $4::int) RETURNING id)
           SELECT id, pg_notify('renderrush_tasks', id::text) FROM j)sql"},
    {Q::insert_tasks, "rr_insert_tasks", 4,
     // $2: payloads as a text array, one task per element, idx in array order. Each task
     // copies its job's priority, so the claim orders by it without reading jobs. Ids are
     // drawn in the ORDER BY's order: with $4 the last element's task gets the first id.
     R"sql(INSERT INTO tasks (job_id, idx, payload, max_attempts, priority)
           SELECT $1::bigint, p.ord - 1, p.payload, $3::int, j.priority
           FROM jobs j, unnest($2::text[]) WITH ORDINALITY AS p(payload, ord)
           WHERE j.id = $1::bigint
           ORDER BY ($4::bool AND p.ord = cardinality($2::text[])) DESC, p.ord)sql"},
    {Q::claim, "rr_claim", 3,
     // Queue migration 8 holds the statement, and why it is a function.
     R"sql(SELECT * FROM rr_claim_tasks($1::text, $2::int, $3::float8))sql"},
    {Q::renew_leases, "rr_renew_leases", 2,
     R"sql(UPDATE tasks t SET lease_expires_at = now() + make_interval(secs => $2::float8)
           WHERE t.state = 'leased' AND t.lease_owner = $1::text
           RETURNING t.id, t.job_id, t.idx, t.attempt, t.lease_epoch, t.payload, t.priority)sql"},
    {Q::complete, "rr_complete", 4,
     // One statement, so one transaction: the fenced task update, the node's counter and the
     // job's counter commit together. The job row's lock serialises the last two completions;
     // whichever decrements chunks_remaining to 0 is the one joiner (no NOT EXISTS race).
     R"sql(WITH done AS (
             UPDATE tasks SET state = 'done', node = $2::text, result = $4::text,
                              lease_owner = NULL, lease_expires_at = NULL, finished_at = now()
             WHERE id = $1::bigint AND state = 'leased'
               AND lease_owner = $2::text AND lease_epoch = $3::bigint
             RETURNING id, job_id),
           counted AS (
             UPDATE nodes SET chunks_done = chunks_done + 1
             WHERE node_id = $2::text AND EXISTS (SELECT 1 FROM done))
           UPDATE jobs j
           SET chunks_remaining = j.chunks_remaining - 1,
               state = CASE WHEN j.chunks_remaining = 1 AND j.state = 'running'
                            THEN 'joining' ELSE j.state END,
               joiner = CASE WHEN j.chunks_remaining = 1 AND j.state = 'running'
                             THEN $2::text ELSE j.joiner END,
               join_task_id = CASE WHEN j.chunks_remaining = 1 AND j.state = 'running'
                                   THEN done.id ELSE j.join_task_id END,
               updated_at = now()
           FROM done WHERE j.id = done.job_id
           RETURNING j.id, j.join_task_id IS NOT DISTINCT FROM done.id)sql"},
    {Q::completed_earlier, "rr_completed_earlier", 3,
     // After a connection loss the completion may have committed before the reply was lost.
     R"sql(SELECT t.job_id, j.join_task_id IS NOT DISTINCT FROM t.id
           FROM tasks t JOIN jobs j ON j.id = t.job_id
           WHERE t.id = $1::bigint AND t.state = 'done'
             AND t.node = $2::text AND t.lease_epoch = $3::bigint)sql"},
    {Q::fail_attempt, "rr_fail_attempt", 6,
     R"sql(WITH f AS (
             UPDATE tasks t
             SET state = CASE WHEN t.attempt >= t.max_attempts THEN 'failed' ELSE 'available' END,
                 run_after = now() + )sql"
     "make_interval(secs => least($6::float8, $5::float8 * power(2, t.attempt - 1)))"
     R"sql(,
                 lease_owner = NULL, lease_expires_at = NULL, frames_done = 0,
                 finished_at = CASE WHEN t.attempt >= t.max_attempts THEN now() END
             WHERE t.id = $1::bigint AND t.state = 'leased'
               AND t.lease_owner = $2::text AND t.lease_epoch = $3::bigint
             RETURNING t.id, t.job_id, t.idx, t.state, t.attempt, t.lease_epoch),
           a AS (
             INSERT INTO task_attempts (task_id, attempt, epoch, node, error)
             SELECT id, attempt, lease_epoch, $2::text, $4::text FROM f)
           SELECT id, job_id, idx, state = 'failed' FROM f)sql"},
    {Q::fail_job, "rr_fail_job", 2,
     // The job's error lists every attempt of the chunk that exhausted its attempts, worded
     // as a single node words a chunk's last failure ("chunk N failed after K attempts").
     R"sql(UPDATE jobs j
           SET state = 'failed', finished_at = now(), updated_at = now(),
               error = (SELECT format('chunk %s failed after %s attempts: ', t.idx, count(*)) ||
                               string_agg(format('attempt %s on %s: %s', a.attempt, a.node, a.error),
                                          '; ' ORDER BY a.attempt)
                        FROM task_attempts a JOIN tasks t ON t.id = a.task_id
                        WHERE a.task_id = $2::bigint GROUP BY t.idx)
           WHERE j.id = $1::bigint AND j.state IN ('running', 'joining')
           RETURNING j.error)sql"},
    {Q::cancel_siblings, "rr_cancel_siblings", 1,
     // A failed job's waiting chunks are not worth anyone's time; leased ones finish or expire.
     R"sql(UPDATE tasks SET state = 'failed', finished_at = now()
           WHERE job_id = $1::bigint AND state = 'available')sql"},
    {Q::reap, "rr_reap", 3,
     // The old owner and epoch come from the locked row, before the update clears them.
     R"sql(WITH expired AS MATERIALIZED (
             SELECT id, lease_owner, lease_epoch FROM tasks
             WHERE state = 'leased' AND lease_expires_at < now()
             ORDER BY lease_expires_at
             FOR UPDATE SKIP LOCKED
             LIMIT $1::int),
           r AS (
             UPDATE tasks t
             SET state = CASE WHEN t.attempt >= t.max_attempts THEN 'failed' ELSE 'available' END,
                 run_after = now() + )sql"
     "make_interval(secs => least($3::float8, $2::float8 * power(2, t.attempt - 1)))"
     R"sql(,
                 lease_owner = NULL, lease_expires_at = NULL, frames_done = 0,
                 finished_at = CASE WHEN t.attempt >= t.max_attempts THEN now() END
             FROM expired e WHERE t.id = e.id
             RETURNING t.id, t.job_id, t.idx, t.state, t.attempt, e.lease_owner, e.lease_epoch),
           a AS (
             INSERT INTO task_attempts (task_id, attempt, epoch, node, error)
             SELECT id, attempt, lease_epoch, lease_owner, 'lease expired' FROM r)
           SELECT id, job_id, idx, state = 'failed', lease_owner FROM r)sql"},
    {Q::release, "rr_release", 1,
     // A clean shutdown is not a failed attempt: the attempt is given back, the epoch is not
     // (a completion from before the release stays fenced off).
     R"sql(WITH r AS (
             UPDATE tasks SET state = 'available', attempt = attempt - 1, run_after = now(),
                              lease_owner = NULL, lease_expires_at = NULL, frames_done = 0
             WHERE state = 'leased' AND lease_owner = $1::text
             RETURNING id)
           SELECT count(*), pg_notify('renderrush_tasks', '') FROM r)sql"},
    {Q::register_node, "rr_register_node", 7,
     // A row for this id is taken over only when it is lost or its heartbeat is older than
     // $7 seconds (or it is this very incarnation, retrying after a lost reply): a second live
     // node with the same id gets no row back. Draining is the operator's word and survives.
     R"sql(INSERT INTO nodes (node_id, incarnation, host, pid, version, workers, state,
                              started_at, heartbeat_at)
           VALUES ($1::text, $2::bigint, $3::text, $4::int, $5::text, $6::int, 'active', now(), now())
           ON CONFLICT (node_id) DO UPDATE
           SET incarnation = EXCLUDED.incarnation, host = EXCLUDED.host, pid = EXCLUDED.pid,
               version = EXCLUDED.version, workers = EXCLUDED.workers, busy = 0,
               state = CASE WHEN nodes.state = 'draining' THEN 'draining' ELSE 'active' END,
               started_at = now(), heartbeat_at = now()
           WHERE nodes.state = 'lost' OR nodes.incarnation = EXCLUDED.incarnation
              OR nodes.heartbeat_at < now() - make_interval(secs => $7::float8)
           RETURNING node_id, state)sql"},
    {Q::expire_node_leases, "rr_expire_node_leases", 1,
     // Leases still held under this id belong to a dead incarnation: let the reaper count them.
     R"sql(UPDATE tasks SET lease_expires_at = now() - interval '1 millisecond'
           WHERE state = 'leased' AND lease_owner = $1::text)sql"},
    {Q::node_heartbeat, "rr_node_heartbeat", 4,
     // No row back: another incarnation took this id over; this process must stop.
     R"sql(UPDATE nodes
           SET heartbeat_at = now(), busy = $3::int, storage_problem = $4::text,
               state = CASE WHEN state = 'lost' THEN 'active' ELSE state END
           WHERE node_id = $1::text AND incarnation = $2::bigint
           RETURNING state)sql"},
    {Q::set_node_state, "rr_set_node_state", 2,
     R"sql(UPDATE nodes SET state = $2::text
           WHERE node_id = $1::text AND state IN ('active', 'draining')
           RETURNING node_id)sql"},
    {Q::mark_lost, "rr_mark_lost", 1,
     R"sql(UPDATE nodes SET state = 'lost'
           WHERE state <> 'lost' AND heartbeat_at < now() - make_interval(secs => $1::float8)
           RETURNING node_id)sql"},
    {Q::list_nodes, "rr_list_nodes", 0,
     R"sql(SELECT n.node_id, n.host, n.pid, n.version, n.state,
                  extract(epoch FROM now() - n.heartbeat_at)::float8, n.workers, n.busy,
                  n.chunks_done,
                  (SELECT count(*) FROM tasks t WHERE t.state = 'leased' AND t.lease_owner = n.node_id),
                  n.storage_problem
           FROM nodes n ORDER BY n.node_id)sql"},
    {Q::finish_job, "rr_finish_job", 3,
     R"sql(UPDATE jobs SET state = 'done', result = $3::text, finished_at = now(), updated_at = now()
           WHERE id = $1::bigint AND state = 'joining' AND joiner = $2::text
           RETURNING id)sql"},
    {Q::job, "rr_job", 1,
     // The joiner's node state lets the owner see that its joiner is lost.
     "SELECT " RR_PG_JOB_COLUMNS R"sql( FROM jobs j LEFT JOIN nodes n ON n.node_id = j.joiner
           WHERE j.id = $1::bigint)sql"},
    {Q::farm_jobs, "rr_farm_jobs", 1,
     // Each branch of the OR is a partial index's predicate (jobs_live, jobs_undisposed, the
     // latter qualified: nodes has a state too), so finished jobs waiting for pruning are not
     // read.
     "SELECT " RR_PG_JOB_COLUMNS R"sql( FROM jobs j LEFT JOIN nodes n ON n.node_id = j.joiner
           WHERE j.state IN ('preparing', 'running', 'joining')
              OR (j.state IN ('done', 'failed', 'cancelled') AND j.disposed_at IS NULL)
           ORDER BY j.priority DESC, j.id LIMIT $1::int)sql"},
    {Q::farm_leases, "rr_farm_leases", 0,
     R"sql(SELECT job_id, lease_owner, count(*) FROM tasks WHERE state = 'leased'
           GROUP BY job_id, lease_owner)sql"},
    {Q::task_attempts, "rr_task_attempts", 2,
     R"sql(SELECT a.attempt, a.epoch, a.node, a.error
           FROM task_attempts a JOIN tasks t ON t.id = a.task_id
           WHERE t.job_id = $1::bigint AND t.idx = $2::int ORDER BY a.attempt)sql"},
    {Q::prune_jobs, "rr_prune_jobs", 1,
     // Tasks and attempts go with their job (ON DELETE CASCADE).
     R"sql(DELETE FROM jobs
           WHERE state IN ('done', 'failed', 'cancelled')
             AND finished_at < now() - make_interval(secs => $1::float8))sql"},
    {Q::prune_nodes, "rr_prune_nodes", 1,
     R"sql(DELETE FROM nodes
           WHERE state = 'lost' AND heartbeat_at < now() - make_interval(secs => $1::float8))sql"},
    {Q::queue_depth, "rr_queue_depth", 0,
     // Only what can be claimed counts as waiting: a task the reaper handed back after its job
     // failed stays 'available' until pruned but is nobody's work.
     R"sql(SELECT count(*) FILTER (WHERE t.state = 'available'
                                    AND EXISTS (SELECT 1 FROM jobs j
                                                WHERE j.id = t.job_id AND j.state = 'running')),
                  count(*) FILTER (WHERE t.state = 'leased')
           FROM tasks t WHERE t.state IN ('available', 'leased'))sql"},
    {Q::node_gone, "rr_node_gone", 2,
     // A clean stop: the row says at once that this node is gone instead of waiting to be
     // found silent, and the id is free for the next start.
     R"sql(UPDATE nodes SET state = 'lost', busy = 0
           WHERE node_id = $1::text AND incarnation = $2::bigint
           RETURNING node_id)sql"},
    {Q::cluster_id, "rr_cluster_id", 0, R"sql(SELECT cluster_id FROM cluster_identity)sql"},
    {Q::init_cluster_id, "rr_init_cluster_id", 1,
     // The first id written stays: a second init returns the existing one.
     R"sql(WITH ins AS (
             INSERT INTO cluster_identity (cluster_id) VALUES ($1::text)
             ON CONFLICT (singleton) DO NOTHING RETURNING cluster_id)
           SELECT cluster_id FROM ins
           UNION ALL SELECT cluster_id FROM cluster_identity
           LIMIT 1)sql"},
    {Q::open_job, "rr_open_job", 6,
     // No row back: the version has a job already (find_job reads it with a fresh snapshot;
     // this statement's snapshot may predate the row it conflicted with).
     R"sql(INSERT INTO jobs (source_path, source_key, profile, payload, owner, state,
                             chunks_total, chunks_remaining, priority)
           VALUES ($1::text, $2::text, $3::text, $4::text, $5::text, 'preparing', 0, 0, $6::int)
           ON CONFLICT (source_path, source_key) WHERE source_key <> '' DO NOTHING
           RETURNING id, owner, state)sql"},
    {Q::find_job, "rr_find_job", 2,
     R"sql(SELECT id, coalesce(owner, ''), state FROM jobs
           WHERE source_path = $1::text AND source_key = $2::text AND source_key <> '')sql"},
    {Q::start_job, "rr_start_job", 3,
     // The owner's plan moves the job on (its tasks are inserted in the same transaction); the
     // row lock and the 'preparing' condition let only one start through. With no tasks the
     // owner joins at once. NOTIFY is delivered on commit.
     R"sql(WITH s AS (
             UPDATE jobs
             SET state = CASE WHEN $3::int = 0 THEN 'joining' ELSE 'running' END,
                 joiner = CASE WHEN $3::int = 0 THEN owner END,
                 chunks_total = $3::int, chunks_remaining = $3::int, updated_at = now()
             WHERE id = $1::bigint AND owner = $2::text AND state = 'preparing'
             RETURNING id)
           SELECT id, pg_notify('renderrush_tasks', id::text) FROM s)sql"},
    {Q::end_job, "rr_end_job", 3,
     // Waiting and leased tasks fail with the job: their leases disappear, so the holders'
     // next renew() reports them lost and a late completion is fenced off. Tasks are locked
     // before the job row (j waits for t), the order complete takes them in, so a completion
     // racing the end cannot deadlock with it. The last column tells a finished job (no-op)
     // from an unknown one.
     R"sql(WITH t AS (
             UPDATE tasks SET state = 'failed', lease_owner = NULL, lease_expires_at = NULL,
                              finished_at = now()
             WHERE job_id = $1::bigint AND state IN ('available', 'leased')
               AND EXISTS (SELECT 1 FROM jobs WHERE id = $1::bigint
                           AND state IN ('preparing', 'running', 'joining'))
             RETURNING id),
           j AS (
             UPDATE jobs SET state = $2::text, error = $3::text, finished_at = now(),
                             updated_at = now()
             WHERE id = $1::bigint AND state IN ('preparing', 'running', 'joining')
               AND (SELECT count(*) FROM t) >= 0
             RETURNING id)
           SELECT (SELECT count(*) FROM j), (SELECT count(*) FROM t),
                  EXISTS (SELECT 1 FROM jobs WHERE id = $1::bigint))sql"},
    {Q::record_output, "rr_record_output", 4,
     R"sql(UPDATE jobs SET output_size = $3::bigint, output_checksum = $4::text, updated_at = now()
           WHERE id = $1::bigint AND state = 'joining' AND joiner = $2::text
           RETURNING id)sql"},
    {Q::take_over_join, "rr_take_over_join", 3,
     // The joiner condition makes the take-over happen once, and fences the dead joiner's
     // later record_output/finish_job (they name it as joiner).
     R"sql(UPDATE jobs SET joiner = $2::text, updated_at = now()
           WHERE id = $1::bigint AND state = 'joining' AND joiner = $3::text
           RETURNING id)sql"},
    {Q::list_tasks, "rr_list_tasks", 1,
     R"sql(SELECT id, idx, state, attempt, node, lease_owner, payload, result, priority, frames_done
           FROM tasks WHERE job_id = $1::bigint ORDER BY idx)sql"},
    {Q::adopt_job, "rr_adopt_job", 6,
     // A job whose owner is lost (or has no node row, pruned) gets this node as owner while
     // it is still being prepared, or once it ended with its source not yet disposed of. The
     // row lock and the owner condition let one node through when several try at once (the
     // others re-read the row and find the new owner); a node that is back from 'lost' keeps
     // its job, and its start_job and claim_disposal no longer match once it was adopted.
     // The adopter prepares with its own priority; an ended job's stays what its tasks had.
     // A disposition the lost owner claimed and never finished is let go of for the adopter's.
     // Taking a preparation over is its next attempt; after $6 attempts the job fails instead,
     // with every owner that was lost preparing it, and the adopter disposes of the source.
     // (Every SET expression reads the row as it was.)
     R"sql(UPDATE jobs j SET owner = $3::text, payload = $4::text, updated_at = now(),
                            disposed_by = NULL,
                            priority = CASE WHEN j.state = 'preparing' THEN $5::int
                                            ELSE j.priority END,
                            prepare_attempt = j.prepare_attempt +
                                CASE WHEN j.state = 'preparing' AND j.prepare_attempt < $6::int
                                     THEN 1 ELSE 0 END,
                            prepare_lost = CASE WHEN j.state = 'preparing'
                                THEN coalesce(j.prepare_lost || ', ', '') || $2::text
                                ELSE j.prepare_lost END,
                            state = CASE WHEN j.state = 'preparing' AND j.prepare_attempt >= $6::int
                                THEN 'failed' ELSE j.state END,
                            error = CASE WHEN j.state = 'preparing' AND j.prepare_attempt >= $6::int
                                THEN 'preparing was interrupted ' || j.prepare_attempt ||
                                     CASE WHEN j.prepare_attempt = 1 THEN ' time' ELSE ' times' END ||
                                     ', each time by its node being lost (' ||
                                     coalesce(j.prepare_lost || ', ', '') || $2::text || ')'
                                ELSE j.error END,
                            finished_at = CASE WHEN j.state = 'preparing'
                                                    AND j.prepare_attempt >= $6::int
                                THEN now() ELSE j.finished_at END
           WHERE j.id = $1::bigint AND j.owner = $2::text
             AND (j.state = 'preparing' OR )sql" RR_PG_UNDISPOSED R"sql()
             AND NOT EXISTS (SELECT 1 FROM nodes n WHERE n.node_id = $2::text AND n.state <> 'lost')
           RETURNING id, owner, state)sql"},
    {Q::orphaned_jobs, "rr_orphaned_jobs", 2,
     // Jobs nobody will prepare or dispose of: their owner is lost (or gone) before it queued
     // their tasks, or after they ended but before it finished their disposition. The two
     // partial indexes (jobs_preparing, jobs_undisposed) keep this off the finished jobs.
     R"sql(SELECT j.id, j.source_path, j.source_key, j.profile, j.owner, j.state FROM jobs j
           WHERE (j.state = 'preparing' OR )sql" RR_PG_UNDISPOSED R"sql()
             AND j.owner IS NOT NULL AND j.owner <> $1::text
             AND NOT EXISTS (SELECT 1 FROM nodes n WHERE n.node_id = j.owner AND n.state <> 'lost')
           ORDER BY j.id LIMIT $2::int)sql"},
    {Q::claim_disposal, "rr_claim_disposal", 2,
     // The owner claims the disposition of an ended job's source before it moves it: one node
     // disposes of a source, and an owner whose job was adopted while it was lost finds it
     // claimed. The retry after a lost reply finds its own claim.
     R"sql(UPDATE jobs SET disposed_by = $2::text, updated_at = now()
           WHERE id = $1::bigint AND owner = $2::text AND state IN ('done', 'failed', 'cancelled')
             AND (disposed_by IS NULL OR disposed_by = $2::text)
           RETURNING id)sql"},
    {Q::finish_disposal, "rr_finish_disposal", 2,
     // Only the claimer, while the job is still its own (an adopter let go of its claim). A
     // second call keeps the first time.
     R"sql(UPDATE jobs SET disposed_at = coalesce(disposed_at, now()), updated_at = now()
           WHERE id = $1::bigint AND owner = $2::text AND disposed_by = $2::text
           RETURNING id)sql"},
    {Q::retire_job, "rr_retire_job", 1,
     // The '#' marks a retired key: a version key (size:mtime_ns) never holds one.
     R"sql(UPDATE jobs SET source_key = source_key || '#' || id::text, updated_at = now()
           WHERE id = $1::bigint AND state IN ('done', 'failed', 'cancelled')
             AND disposed_by IS NOT NULL AND strpos(source_key, '#') = 0
           RETURNING id)sql"},
    {Q::unfinished_joins, "rr_unfinished_joins", 1,
     R"sql(SELECT id FROM jobs WHERE state = 'joining' AND joiner = $1::text ORDER BY id)sql"},
    {Q::report_progress, "rr_report_progress", 4,
     // $2, $3, $4: task ids, lease epochs and frame counts as arrays of one length. Fenced by
     // owner and epoch like complete; a row whose count did not change is not rewritten (no
     // dead tuple for a chunk that is between frames).
     R"sql(UPDATE tasks t SET frames_done = p.frames
           FROM unnest($2::bigint[], $3::bigint[], $4::bigint[]) AS p(id, epoch, frames)
           WHERE t.id = p.id AND t.state = 'leased' AND t.lease_owner = $1::text
             AND t.lease_epoch = p.epoch AND t.frames_done <> p.frames)sql"},
    {Q::record_content, "rr_record_content", 2,
     // The holder's conditions are those of the unique index jobs_content (migration 9). When
     // two owners both see no holder, the second one's UPDATE waits on the first one's index
     // entry and fails with a unique violation once it commits: PgQueue::record_content then
     // runs this again, and its new snapshot finds the first. One row always: whether the job
     // is known, whether its content was recorded, and the holder (NULLs when none).
     R"sql(WITH mine AS (SELECT id, profile FROM jobs WHERE id = $1::bigint),
           holder AS (
             SELECT j.id, coalesce(j.owner, '') AS owner, j.state, j.payload
             FROM jobs j JOIN mine m ON j.profile = m.profile AND j.id <> m.id
             WHERE j.content_checksum = $2::text
               AND j.state IN ('preparing', 'running', 'joining', 'done')
               AND strpos(j.source_key, '#') = 0
             ORDER BY j.id LIMIT 1),
           rec AS (
             UPDATE jobs SET content_checksum = $2::text, updated_at = now()
             WHERE id = $1::bigint AND NOT EXISTS (SELECT 1 FROM holder)
             RETURNING id)
           SELECT (SELECT count(*) FROM mine), (SELECT count(*) FROM rec),
                  h.id, h.owner, h.state, h.payload
           FROM (SELECT 1) AS one LEFT JOIN holder h ON true)sql"},
    {Q::release_content, "rr_release_content", 2,
     // A published job whose output is gone no longer counts (the next owner found it gone):
     // it lets go of the content, in the transaction that records the next owner's.
     R"sql(UPDATE jobs SET content_checksum = NULL, updated_at = now()
           WHERE id = $1::bigint AND state = 'done' AND content_checksum = $2::text)sql"},
}};

constexpr bool in_index_order() {
    for (std::size_t i = 0; i < kStatements.size(); ++i) {
        if (static_cast<std::size_t>(kStatements[i].index) != i) return false;
    }
    return true;
}
static_assert(in_index_order(), "kStatements must list every Q in enum order");

#undef RR_PG_UNDISPOSED
#undef RR_PG_JOB_COLUMNS

}  // namespace

std::span<const PgStatement> pg_statements() {
    return kStatements;
}

const PgStatement& pg_statement(Q q) {
    return kStatements[static_cast<std::size_t>(q)];
}

}  // namespace rr::store
