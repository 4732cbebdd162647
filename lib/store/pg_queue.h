#pragma once
// The cluster's chunk queue on PostgreSQL: leased tasks with fencing. Every call is one short
// transaction (most are one statement); none is held open while media is processed. All times
// are the database's now(), so the nodes' clocks do not have to agree.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "store/pg.h"

namespace rr::store {

struct PgQueueOptions {
    std::string conninfo;  // any libpq conninfo or URI
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
};

struct JobView {
    int64_t id = 0;
    std::string source_path, profile, state;
    int chunks_total = 0, chunks_remaining = 0;
    std::optional<std::string> error, joiner;
};

struct AttemptView {
    int attempt = 0;
    int64_t epoch = 0;
    std::string node, error;
};

struct QueueDepth {
    int64_t available = 0, leased = 0;
};

class PgQueue {
  public:
    // Connects, applies the schema migrations and prepares the statements.
    [[nodiscard]] static Result<PgQueue> open(PgQueueOptions options);

    [[nodiscard]] const std::string& node_id() const { return o_.node_id; }
    [[nodiscard]] PgConn& conn() { return conn_; }

    // A job and its tasks (one per payload, idx in order), in one transaction.
    [[nodiscard]] Result<int64_t> add_job(const std::string& source_path,
                                          const std::string& profile,
                                          const std::vector<std::string>& payloads);

    // Up to n available tasks whose back-off has passed; none while this node is not active.
    [[nodiscard]] Result<std::vector<Lease>> claim(int n);
    // Renews every lease this node holds and returns them: a lease missing was lost.
    [[nodiscard]] Result<std::vector<Lease>> renew();
    [[nodiscard]] Result<Completion> complete(const Lease& lease, const std::string& result);
    [[nodiscard]] Result<FailOutcome> fail(const Lease& lease, const std::string& error);
    // Expired leases (any node's) back to available with back-off, or failed with their job.
    [[nodiscard]] Result<std::vector<Reaped>> reap(int limit = 1000);
    // Gives back every lease of this node (clean shutdown); returns how many.
    [[nodiscard]] Result<int64_t> release();
    // Clean stop: release() and the node row marked lost, so the id is free at once.
    [[nodiscard]] Result<int64_t> leave();
    [[nodiscard]] Result<QueueDepth> queue_depth();
    // The cluster's identity (`renderrushd cluster init`); nullopt before it was initialised.
    [[nodiscard]] Result<std::optional<std::string>> cluster_id();
    // Writes `id` unless an id exists; returns the one that holds.
    [[nodiscard]] Result<std::string> init_cluster_id(const std::string& id);

    // Registers this process as node_id; Errc::conflict while another live node has the id.
    [[nodiscard]] Status register_node(const NodeRegistration& r);
    // Heartbeat of the node row; returns its state. Errc::conflict: the id was taken over.
    [[nodiscard]] Result<std::string> node_heartbeat(int busy);
    // draining or active; Errc::not_found for an unknown or lost node.
    [[nodiscard]] Status set_node_state(const std::string& node_id, const std::string& state);
    // Nodes silent for longer than stale_seconds become lost; returns their ids.
    [[nodiscard]] Result<std::vector<std::string>> mark_lost(double stale_seconds);
    [[nodiscard]] Result<std::vector<NodeView>> nodes();

    // The joiner records that the job is published.
    [[nodiscard]] Status finish_job(int64_t job_id);
    [[nodiscard]] Result<JobView> job(int64_t job_id);
    [[nodiscard]] Result<std::vector<AttemptView>> attempts(int64_t job_id, int idx);
    // Finished jobs (with their tasks and attempts) and lost nodes older than this go.
    [[nodiscard]] Result<int64_t> prune(double retention_days);

  private:
    PgQueue(PgQueueOptions o, PgConn c) : o_(std::move(o)), conn_(std::move(c)) {}
    // Runs fn; when the connection was lost, reconnects once and runs it again. Every
    // operation is written so that a second run after a lost reply is harmless.
    template <class F>
    auto retrying(F&& fn) -> decltype(fn());
    [[nodiscard]] Status fail_job(int64_t job_id, int64_t task_id);

    PgQueueOptions o_;
    PgConn conn_;
    int64_t incarnation_ = 0;
};

}  // namespace rr::store
