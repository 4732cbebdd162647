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
#include "store/task_queue.h"

namespace rr::store {

class PgQueue final : public TaskQueue {
  public:
    // Connects, applies the schema migrations and prepares the statements.
    [[nodiscard]] static Result<PgQueue> open(QueueOptions options);

    [[nodiscard]] const std::string& node_id() const override { return o_.node_id; }
    [[nodiscard]] std::string_view backend() const override { return "postgresql"; }
    [[nodiscard]] PgConn& conn() { return conn_; }

    // A job and its tasks (one per payload, idx in order), in one transaction. The job has no
    // owner and no source version (tests, the queue benchmark); the daemon uses open_job.
    [[nodiscard]] Result<int64_t> add_job(const std::string& source_path,
                                          const std::string& profile,
                                          const std::vector<std::string>& payloads) override;

    // Makes the job row in state 'preparing' owned by this node, or, when a row with this
    // (source_path, source_key) exists, returns it (created = false): one job per version of
    // a file, however many nodes' watchers see it. source_key must not be empty. After a lost
    // reply the retry reports created = true when the row is this node's and still preparing.
    // A row still 'preparing' whose owner is lost (or has no node row) is taken over: this
    // node becomes its owner, with this payload, and created = true (adopted_from names the
    // lost owner); of several nodes trying at once one gets it, the others see its owner.
    [[nodiscard]] Result<OpenedJob> open_job(const std::string& source_path,
                                             const std::string& source_key,
                                             const std::string& profile,
                                             const std::string& payload) override;
    // The owner's plan: one task per payload (idx in order, max_attempts from the options) and
    // the job preparing -> running with chunks_total = chunks_remaining = n, in one
    // transaction; NOTIFY renderrush_tasks. With n == 0 the job goes straight to 'joining'
    // with this node as joiner. Harmless twice: when the job already started with n tasks,
    // nothing changes. Errc::conflict when the job is not this node's, was started with
    // another n, or has ended (failed, cancelled).
    [[nodiscard]] Status start_tasks(int64_t job_id,
                                     const std::vector<std::string>& payloads) override;
    // Ends a job that will not publish (the owner's prepare failed, cancel): state failed or
    // cancelled with the error; its available and leased tasks become 'failed' (the holders'
    // next renew() reports them lost). Any node may call it. No-op on a finished job;
    // Errc::not_found for an unknown one.
    [[nodiscard]] Status end_job(int64_t job_id, const std::string& state,
                                 const std::string& error) override;
    // The joiner records the output it is about to publish, so recovery can tell whether
    // publishing happened. Errc::conflict when this node is not the job's joiner.
    [[nodiscard]] Status record_output(int64_t job_id, int64_t size,
                                       const std::string& checksum) override;
    // A join whose joiner is lost is taken over: joiner = this node only when the job is
    // 'joining' and its joiner is dead_joiner. Returns whether this call made this node the
    // joiner (a second call finds another joiner and returns false; the retry after a lost
    // reply recognises its own take-over). The dead joiner's record_output/finish_job are
    // fenced off from then on.
    [[nodiscard]] Result<bool> take_over_join(int64_t job_id,
                                              const std::string& dead_joiner) override;
    // Jobs still 'preparing' whose owner is lost or gone (never this node's), oldest first:
    // whoever opens one of them again with open_job takes its preparation over.
    [[nodiscard]] Result<std::vector<OrphanedJob>> orphaned_jobs(int limit = 100) override;
    [[nodiscard]] Result<bool> claim_disposal(int64_t job_id) override;
    [[nodiscard]] Result<std::vector<int64_t>> unfinished_joins() override;
    [[nodiscard]] Result<std::optional<OpenedJob>> find_job(const std::string& source_path,
                                                            const std::string& source_key) override;
    // The job's tasks, ordered by idx.
    [[nodiscard]] Result<std::vector<TaskView>> tasks(int64_t job_id) override;

    // Up to n available tasks whose back-off has passed; none while this node is not active.
    [[nodiscard]] Result<std::vector<Lease>> claim(int n) override;
    // Renews every lease this node holds and returns them: a lease missing was lost.
    [[nodiscard]] Result<std::vector<Lease>> renew() override;
    [[nodiscard]] Result<Completion> complete(const Lease& lease,
                                              const std::string& result) override;
    [[nodiscard]] Result<FailOutcome> fail(const Lease& lease, const std::string& error) override;
    // Expired leases (any node's) back to available with back-off, or failed with their job.
    [[nodiscard]] Result<std::vector<Reaped>> reap(int limit = 1000) override;
    // Gives back every lease of this node (clean shutdown); returns how many.
    [[nodiscard]] Result<int64_t> release() override;
    // Clean stop: release() and the node row marked lost, so the id is free at once.
    [[nodiscard]] Result<int64_t> leave() override;
    [[nodiscard]] Result<QueueDepth> queue_depth() override;
    // The cluster's identity (`renderrushd cluster init`); nullopt before it was initialised.
    [[nodiscard]] Result<std::optional<std::string>> cluster_id() override;
    // Writes `id` unless an id exists; returns the one that holds.
    [[nodiscard]] Result<std::string> init_cluster_id(const std::string& id) override;

    // Registers this process as node_id; Errc::conflict while another live node has the id.
    [[nodiscard]] Status register_node(const NodeRegistration& r) override;
    // Heartbeat of the node row; returns its state. Errc::conflict: the id was taken over.
    [[nodiscard]] Result<std::string> node_heartbeat(int busy) override;
    // draining or active; Errc::not_found for an unknown or lost node.
    [[nodiscard]] Status set_node_state(const std::string& node_id,
                                        const std::string& state) override;
    // Nodes silent for longer than stale_seconds become lost; returns their ids.
    [[nodiscard]] Result<std::vector<std::string>> mark_lost(double stale_seconds) override;
    [[nodiscard]] Result<std::vector<NodeView>> nodes() override;

    // The joiner records that the job is published, with the sidecar JSON (jobs.result).
    // Errc::conflict when this node is not the job's joiner (any more).
    [[nodiscard]] Status finish_job(int64_t job_id, const std::string& result) override;
    [[nodiscard]] Result<JobView> job(int64_t job_id) override;
    [[nodiscard]] Result<std::vector<AttemptView>> attempts(int64_t job_id, int idx) override;
    // Finished jobs (with their tasks and attempts) and lost nodes older than this go.
    [[nodiscard]] Result<int64_t> prune(double retention_days) override;

  private:
    PgQueue(QueueOptions o, PgConn c) : o_(std::move(o)), conn_(std::move(c)) {}
    // Runs fn; when the connection was lost, reconnects once and runs it again. Every
    // operation is written so that a second run after a lost reply is harmless.
    template <class F>
    auto retrying(F&& fn) -> decltype(fn());
    [[nodiscard]] Status fail_job(int64_t job_id, int64_t task_id);

    QueueOptions o_;
    PgConn conn_;
    int64_t incarnation_ = 0;
};

}  // namespace rr::store
