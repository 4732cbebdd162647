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
    [[nodiscard]] PgConn& conn() { return conn_; }  // tests: pg_terminate_backend

    // The contract of each call is TaskQueue's (task_queue.h).

    [[nodiscard]] Result<int64_t> add_job(const std::string& source_path,
                                          const std::string& profile,
                                          const std::vector<std::string>& payloads,
                                          int priority) override;

    [[nodiscard]] Result<OpenedJob> open_job(const std::string& source_path,
                                             const std::string& source_key,
                                             const std::string& profile, const std::string& payload,
                                             int priority) override;
    using TaskQueue::start_tasks;
    [[nodiscard]] Status start_tasks(int64_t job_id, const std::vector<std::string>& payloads,
                                     bool last_first) override;
    [[nodiscard]] Status end_job(int64_t job_id, const std::string& state,
                                 const std::string& error) override;
    [[nodiscard]] Status record_output(int64_t job_id, int64_t size,
                                       const std::string& checksum) override;
    [[nodiscard]] Result<bool> take_over_join(int64_t job_id,
                                              const std::string& dead_joiner) override;
    [[nodiscard]] Result<std::vector<OrphanedJob>> orphaned_jobs(int limit = 100) override;
    [[nodiscard]] Result<bool> claim_disposal(int64_t job_id) override;
    [[nodiscard]] Result<bool> finish_disposal(int64_t job_id) override;
    [[nodiscard]] Result<bool> retire_job(int64_t job_id) override;
    [[nodiscard]] Result<std::optional<ContentHolder>> record_content(
        int64_t job_id, const std::string& checksum, int64_t output_gone = 0) override;
    [[nodiscard]] Result<std::vector<int64_t>> unfinished_joins() override;
    [[nodiscard]] Result<std::optional<OpenedJob>> find_job(const std::string& source_path,
                                                            const std::string& source_key) override;
    [[nodiscard]] Result<std::vector<TaskView>> tasks(int64_t job_id) override;

    [[nodiscard]] Result<std::vector<Lease>> claim(int n) override;
    [[nodiscard]] Result<std::vector<Lease>> renew() override;
    [[nodiscard]] Status report_progress(const std::vector<TaskProgress>& progress) override;
    [[nodiscard]] Result<Completion> complete(const Lease& lease,
                                              const std::string& result) override;
    [[nodiscard]] Result<FailOutcome> fail(const Lease& lease, const std::string& error) override;
    [[nodiscard]] Result<std::vector<Reaped>> reap(int limit = 1000) override;
    [[nodiscard]] Result<int64_t> release() override;
    [[nodiscard]] Result<int64_t> leave() override;
    [[nodiscard]] Result<QueueDepth> queue_depth() override;
    [[nodiscard]] Result<std::optional<std::string>> cluster_id() override;
    [[nodiscard]] Result<std::string> init_cluster_id(const std::string& id) override;

    [[nodiscard]] Status register_node(const NodeRegistration& r) override;
    [[nodiscard]] Result<std::string> node_heartbeat(
        int busy, const std::optional<std::string>& storage_problem) override;
    [[nodiscard]] Status set_node_state(const std::string& node_id,
                                        const std::string& state) override;
    [[nodiscard]] Result<std::vector<std::string>> mark_lost(double stale_seconds) override;
    [[nodiscard]] Result<std::vector<NodeView>> nodes() override;

    [[nodiscard]] Status finish_job(int64_t job_id, const std::string& result) override;
    [[nodiscard]] Result<JobView> job(int64_t job_id) override;
    [[nodiscard]] Result<std::vector<FarmJob>> farm_jobs(int limit) override;
    [[nodiscard]] Result<std::vector<AttemptView>> attempts(int64_t job_id, int idx) override;
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
