#pragma once
// The cluster's chunk queue as one interface with two backends (PgQueue, SqliteQueue).

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace rr::store {

struct QueueOptions {
    // A libpq conninfo or postgresql:// URI, or sqlite:PATH (nodes on one host only).
    std::string database;
    std::string node_id;
    double lease_seconds = 60;
    double backoff_seconds = 2;  // the first retry waits this long, doubling per attempt
    double backoff_max_seconds = 300;
    int max_attempts = 3;  // for tasks added through this queue
};

// One leased task. (task_id, epoch) is the fencing token every later call presents.
struct Lease {
    int64_t task_id = 0;
    int64_t job_id = 0;
    int idx = 0;
    int attempt = 0;
    int64_t epoch = 0;
    std::string payload;
    int priority = 0;  // its job's: the claim takes higher ones first
};

// Leases in the order the claim picks tasks: higher priority first, then the older task.
[[nodiscard]] inline bool in_claim_order(const Lease& a, const Lease& b) {
    if (a.priority != b.priority) return a.priority > b.priority;
    return a.task_id < b.task_id;
}
// How far the holder of a lease is with its task (report_progress).
struct TaskProgress {
    int64_t task_id = 0;
    int64_t epoch = 0;  // the lease's: a report of an earlier lease changes nothing
    int64_t frames = 0;
};

struct Completion {
    bool accepted = false;   // false: the lease was lost (reaped, released, taken over)
    bool job_ready = false;  // this completion was the job's last: this node joins it
    int64_t job_id = 0;
};

struct FailOutcome {
    bool accepted = false;     // false: the lease was lost; nothing changed
    bool task_failed = false;  // attempts exhausted
    bool job_failed = false;
    int64_t job_id = 0;
};

struct Reaped {
    int64_t task_id = 0;
    int64_t job_id = 0;
    int idx = 0;
    bool failed = false;  // attempts exhausted: the job failed with it
    std::string owner;    // the node whose lease expired
};

struct NodeRegistration {
    std::string host;
    int pid = 0;
    std::string version;
    int workers = 0;
    double stale_after_seconds = 60;  // a row not heartbeaten for this long may be taken over
};

struct NodeView {
    std::string node_id, host, version, state;
    int pid = 0;
    double heartbeat_age_s = 0;
    int workers = 0, busy = 0;
    int64_t chunks_done = 0, leases = 0;
    // Why the node's storage keeps it from claiming (its share not mounted, another
    // cluster's marker); nullopt when it can claim as far as its storage goes.
    std::optional<std::string> storage_problem;
};

struct JobView {
    int64_t id = 0;
    std::string source_path, profile, state;
    int chunks_total = 0, chunks_remaining = 0;
    std::optional<std::string> error, joiner;
    std::string owner;       // empty for add_job's jobs
    std::string source_key;  // empty for add_job's jobs
    std::string payload;
    std::optional<std::string> result;  // the sidecar JSON once published
    std::optional<int64_t> output_size;
    std::optional<std::string> output_checksum;
    // The joiner's node state (active|draining|lost); nullopt with no joiner or an unknown one.
    std::optional<std::string> joiner_state;
    // The node that claimed the disposition of the source (claim_disposal); none before.
    std::optional<std::string> disposed_by;
    // The disposition finished (finish_disposal): nobody will dispose of the source again.
    bool disposed = false;
    int priority = 0;  // what its tasks are claimed by (higher first)
    // Which preparation of the job this is: 1 for its creator's, one more for each node that
    // took it over after its owner was lost while preparing it (open_job).
    int prepare_attempt = 1;
};

// A job the farm is working on (TaskQueue::farm_jobs): preparing, running, joining, or ended
// with its source not yet disposed of; with the tasks each node holds leases on now.
struct FarmJob {
    JobView job;
    std::map<std::string, int> leases;  // node id → its leased tasks of this job
};

struct OpenedJob {
    int64_t id = 0;
    bool created = false;  // true: this node owns the job now and must prepare it
    std::string owner;     // the owning node (this node when created)
    std::string state;     // the row's state now
    // created by taking a 'preparing' job over from this lost owner (empty: a new row).
    std::string adopted_from;
};

// A job left by an owner that is lost: still 'preparing' (nobody will queue its tasks), or
// ended with its disposition not finished, claimed or not (nobody will move its source to
// done/ or failed/).
struct OrphanedJob {
    int64_t id = 0;
    std::string source_path, source_key, profile, owner;
    std::string state;  // preparing, or how it ended (its source waits to be disposed of)
};

// The job that holds a content (record_content): the one that makes another job of the same
// content and profile a duplicate.
struct ContentHolder {
    int64_t id = 0;
    std::string owner;    // its owning node
    std::string state;    // preparing, running, joining (it will publish) or done (published)
    std::string payload;  // its owner's JSON: where its output goes
};

struct TaskView {
    int64_t id = 0;
    int idx = 0;
    std::string state;  // available|leased|done|failed
    int attempt = 0;
    std::optional<std::string> node;  // whose completion was accepted
    std::optional<std::string> lease_owner;
    std::string payload;
    std::optional<std::string> result;  // what complete() stored
    int priority = 0;                   // its job's, copied when it was queued
    // Frames the lease holder last reported (report_progress): 0 at each claim and while the
    // task waits; a done task keeps its holder's last report (its result has the real count).
    int64_t frames_done = 0;
};

struct AttemptView {
    int attempt = 0;
    int64_t epoch = 0;
    std::string node, error;
};

struct QueueDepth {
    int64_t available = 0, leased = 0;
};

// The chunk queue's contract, whatever keeps it (docs/CLUSTER.md, "The queue"): leased tasks,
// fenced by (task_id, epoch); the last accepted completion makes its node the job's joiner;
// nodes register, heartbeat and are found lost. Every call is one short transaction; none is
// held open while media is processed, and every time is the database's clock. Two backends
// keep it, PostgreSQL (a farm) and SQLite (nodes on one host), from the same numbered
// migrations; tests/integration/test_task_queue.cpp holds both to the same cases.
class TaskQueue {
  public:
    virtual ~TaskQueue() = default;

    [[nodiscard]] virtual const std::string& node_id() const = 0;
    // "postgresql" or "sqlite".
    [[nodiscard]] virtual std::string_view backend() const = 0;

    // A job and its tasks (one per payload, idx in order), in one transaction. The job has no
    // owner and no source version (tests, the queue benchmark); the daemon uses open_job.
    // Priority: see claim().
    [[nodiscard]] virtual Result<int64_t> add_job(const std::string& source_path,
                                                  const std::string& profile,
                                                  const std::vector<std::string>& payloads,
                                                  int priority) = 0;

    // Makes the job row in state 'preparing' owned by this node, or, when a row with this
    // (source_path, source_key) exists, returns it (created = false): one job per version of
    // a file, however many nodes' watchers see it. source_key must not be empty. After a lost
    // reply the retry reports created = true when the row is this node's and still preparing.
    // A row still 'preparing' whose owner is lost (or has no node row) is taken over: this
    // node becomes its owner, with this payload, and created = true (adopted_from names the
    // lost owner); of several nodes trying at once one gets it, the others see its owner. An
    // ended row whose disposition nobody claimed and whose owner is lost is taken over the
    // same way, with created = false: this node owns it for claim_disposal only. So is an
    // ended row whose lost owner claimed the disposition and never finished it: the claim is
    // let go of, and the adopter disposes of the source (again: a move done before the loss
    // is found done).
    // Each take-over of a preparation is its next attempt (JobView::prepare_attempt): one
    // that would exceed max_attempts ends the job 'failed' instead, its error naming every
    // owner lost while preparing it, and this node owns it for claim_disposal (created =
    // false, state 'failed', adopted_from the last lost owner).
    // The job's priority (its watch's; see claim()) is the creator's, or the adopter's when
    // a 'preparing' job is taken over: whoever queues the tasks decides it.
    [[nodiscard]] virtual Result<OpenedJob> open_job(const std::string& source_path,
                                                     const std::string& source_key,
                                                     const std::string& profile,
                                                     const std::string& payload, int priority) = 0;
    // The job of this version of a file, if any, without making one (a node whose source has
    // gone since, e.g. disposed of by a node that adopted the job, finds who has it).
    [[nodiscard]] virtual Result<std::optional<OpenedJob>> find_job(
        const std::string& source_path, const std::string& source_key) = 0;
    // The owner's plan: one task per payload (idx in order, max_attempts from the options, the
    // job's priority) and the job preparing -> running with chunks_total = chunks_remaining =
    // n, in one transaction; NOTIFY renderrush_tasks. With n == 0 the job goes straight to
    // 'joining' with this node as joiner. Harmless twice: when the job already started with n
    // tasks, nothing changes. Errc::conflict when the job is not this node's, was started with
    // another n, or has ended (failed, cancelled). `last_first`: the last payload's task is
    // queued before the others, so that at equal priority it is claimed first: a long serial
    // task (the whole-file audio pass) then runs beside the chunks instead of after them.
    [[nodiscard]] virtual Status start_tasks(int64_t job_id,
                                             const std::vector<std::string>& payloads,
                                             bool last_first) = 0;
    [[nodiscard]] Status start_tasks(int64_t job_id, const std::vector<std::string>& payloads) {
        return start_tasks(job_id, payloads, false);
    }
    // Ends a job that will not publish (the owner's prepare failed, cancel): state failed or
    // cancelled with the error; its available and leased tasks become 'failed' (the holders'
    // next renew() reports them lost). Any node may call it. No-op on a finished job;
    // Errc::not_found for an unknown one.
    [[nodiscard]] virtual Status end_job(int64_t job_id, const std::string& state,
                                         const std::string& error) = 0;
    // The joiner records the output it is about to publish, so recovery can tell whether
    // publishing happened. Errc::conflict when this node is not the job's joiner.
    [[nodiscard]] virtual Status record_output(int64_t job_id, int64_t size,
                                               const std::string& checksum) = 0;
    // A join whose joiner is lost is taken over: joiner = this node only when the job is
    // 'joining' and its joiner is dead_joiner. Returns whether this call made this node the
    // joiner (a second call finds another joiner and returns false; the retry after a lost
    // reply recognises its own take-over). The dead joiner's record_output/finish_job are
    // fenced off from then on.
    [[nodiscard]] virtual Result<bool> take_over_join(int64_t job_id,
                                                      const std::string& dead_joiner) = 0;
    // Jobs whose owner is lost or gone (never this node's), oldest first: still 'preparing',
    // or ended with their disposition not finished. Whoever opens one of them again with
    // open_job takes its preparation or its disposition over.
    [[nodiscard]] virtual Result<std::vector<OrphanedJob>> orphaned_jobs(int limit = 100) = 0;
    // The owner of an ended job claims the disposition of its source before moving it: true
    // when this node may dispose of it (also on a second call), false when the job is not
    // this node's any more (adopted while it was lost) or has not ended.
    [[nodiscard]] virtual Result<bool> claim_disposal(int64_t job_id) = 0;
    // The claimer records that the disposition is done (source moved, error file written):
    // from then on no node takes it over. True also on a second call; false when this node's
    // claim was let go of (the job was adopted while this node was lost).
    [[nodiscard]] virtual Result<bool> finish_disposal(int64_t job_id) = 0;
    // A job run again on request (retry of a failed or cancelled job, reprocess): when it has
    // ended and its source's disposition was claimed, its row stays (history, attempts) under
    // the version key `<key>#<id>`, so the next open_job of this version makes a new job.
    // False when it has not ended, its disposition is not claimed yet (a lost owner's job
    // waiting to be adopted), or it was retired already.
    [[nodiscard]] virtual Result<bool> retire_job(int64_t job_id) = 0;
    // Dedupe across the farm: records `checksum` as the content of the job (its owner calls it
    // once it has planned the file), unless another job of the same content and profile
    // counts: one that has not ended (it will publish) or one that published ('done'), and
    // that was not retired. That job comes back instead, and nothing is recorded; nullopt:
    // recorded, the content is this job's (also on a second call). Of owners recording one
    // content at the same moment exactly one records; the others get its job. The queue
    // cannot see files: a caller who finds the output of the published job that came back
    // gone calls again with `output_gone` = that job's id, which, in the same transaction,
    // lets go of its hold (when it still holds the content) and records this job's.
    // Errc::not_found for an unknown job.
    [[nodiscard]] virtual Result<std::optional<ContentHolder>> record_content(
        int64_t job_id, const std::string& checksum, int64_t output_gone = 0) = 0;
    // The jobs this node id is joining ('joining', joiner = this node), oldest first: at its
    // start a node joins again what its previous process left (a node restarted before anyone
    // found it lost is active again, so nobody else would take those joins over).
    [[nodiscard]] virtual Result<std::vector<int64_t>> unfinished_joins() = 0;
    // The job's tasks, ordered by idx.
    [[nodiscard]] virtual Result<std::vector<TaskView>> tasks(int64_t job_id) = 0;

    // Up to n available tasks whose back-off has passed; none while this node is not active.
    // Tasks of a higher-priority job go first across the farm, however late they were queued;
    // among equal priorities the older task (lower id) goes first. Leases come back in that
    // order (in_claim_order).
    [[nodiscard]] virtual Result<std::vector<Lease>> claim(int n) = 0;
    // Renews every lease this node holds and returns them: a lease missing was lost.
    [[nodiscard]] virtual Result<std::vector<Lease>> renew() = 0;
    // Records how many frames this node has processed of tasks it holds, in one transaction
    // (the node thread calls it once per heartbeat, after renew()). Fenced like complete(): an
    // entry whose lease this node no longer holds at that epoch changes nothing.
    [[nodiscard]] virtual Status report_progress(const std::vector<TaskProgress>& progress) = 0;
    [[nodiscard]] virtual Result<Completion> complete(const Lease& lease,
                                                      const std::string& result) = 0;
    [[nodiscard]] virtual Result<FailOutcome> fail(const Lease& lease,
                                                   const std::string& error) = 0;
    // Expired leases (any node's) back to available with back-off, or failed with their job.
    [[nodiscard]] virtual Result<std::vector<Reaped>> reap(int limit = 1000) = 0;
    // Gives back every lease of this node (clean shutdown); returns how many.
    [[nodiscard]] virtual Result<int64_t> release() = 0;
    // Clean stop: release() and the node row marked lost, so the id is free at once.
    [[nodiscard]] virtual Result<int64_t> leave() = 0;
    [[nodiscard]] virtual Result<QueueDepth> queue_depth() = 0;
    // The cluster's identity (`renderrushd cluster init`); nullopt before it was initialised.
    [[nodiscard]] virtual Result<std::optional<std::string>> cluster_id() = 0;
    // Writes `id` unless an id exists; returns the one that holds.
    [[nodiscard]] virtual Result<std::string> init_cluster_id(const std::string& id) = 0;

    // Registers this process as node_id; Errc::conflict while another live node has the id.
    [[nodiscard]] virtual Status register_node(const NodeRegistration& r) = 0;
    // Heartbeat of the node row, with why its storage keeps it from claiming (nullopt: it
    // does not); returns its state. Errc::conflict: the id was taken over.
    [[nodiscard]] virtual Result<std::string> node_heartbeat(
        int busy, const std::optional<std::string>& storage_problem) = 0;
    // draining or active; Errc::not_found for an unknown or lost node.
    [[nodiscard]] virtual Status set_node_state(const std::string& node_id,
                                                const std::string& state) = 0;
    // Nodes silent for longer than stale_seconds become lost; returns their ids.
    [[nodiscard]] virtual Result<std::vector<std::string>> mark_lost(double stale_seconds) = 0;
    [[nodiscard]] virtual Result<std::vector<NodeView>> nodes() = 0;

    // The joiner records that the job is published, with the sidecar JSON (jobs.result).
    // Errc::conflict when this node is not the job's joiner (any more).
    [[nodiscard]] virtual Status finish_job(int64_t job_id, const std::string& result) = 0;
    [[nodiscard]] virtual Result<JobView> job(int64_t job_id) = 0;
    // What the farm is working on, for its operators: the jobs of every node that are being
    // prepared, run or joined, or wait for their source's disposition, highest priority
    // first, then oldest; at most `limit`.
    [[nodiscard]] virtual Result<std::vector<FarmJob>> farm_jobs(int limit = 100) = 0;
    [[nodiscard]] virtual Result<std::vector<AttemptView>> attempts(int64_t job_id, int idx) = 0;
    // Finished jobs (with their tasks and attempts) and lost nodes older than this go.
    [[nodiscard]] virtual Result<int64_t> prune(double retention_days) = 0;
};

// Whether a queue job's state is one it ended in (done, failed, cancelled).
[[nodiscard]] inline bool queue_job_ended(std::string_view state) {
    return state == "done" || state == "failed" || state == "cancelled";
}

// Opens the backend `options.database` names (sqlite:PATH, else PostgreSQL), applying the
// schema migrations.
[[nodiscard]] Result<std::unique_ptr<TaskQueue>> open_task_queue(QueueOptions options);
// The queue schema version this build knows, and the one `database` is at (0: no schema yet),
// read without changing anything (`renderrushd --check-config`).
[[nodiscard]] int latest_queue_schema_version();
[[nodiscard]] Result<int> queue_schema_version(const std::string& database);
// Whether `database` names a SQLite file (sqlite:PATH or sqlite://PATH).
[[nodiscard]] bool is_sqlite_database(std::string_view database);

}  // namespace rr::store
