#pragma once
// The cluster's chunk queue in one SQLite file, for nodes on one host: the same contract as
// PgQueue (task_queue.h). Every write is one IMMEDIATE transaction (a read, one statement), so
// the processes sharing the file take turns as its one writer; WAL lets readers go on
// meanwhile. WAL needs shared memory on one kernel: never put the file on NFS. Times are the
// database's clock (julianday('now')), like PostgreSQL's now().

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/db.h"
#include "store/task_queue.h"

namespace rr::store {

// The file a sqlite:/ABSOLUTE/PATH or sqlite:///ABSOLUTE/PATH database string names.
[[nodiscard]] Result<std::filesystem::path> sqlite_queue_path(std::string_view database);
// Errc::config when the file would be on a network file system: SQLite's locks and its WAL's
// shared memory hold on one host only, so nodes on two hosts would corrupt it.
[[nodiscard]] Status sqlite_queue_on_local_disk(const std::filesystem::path& file);

class SqliteQueue final : public TaskQueue {
  public:
    // Opens (creating) the file and applies the schema migrations.
    [[nodiscard]] static Result<SqliteQueue> open(QueueOptions options);

    [[nodiscard]] const std::string& node_id() const override { return o_.node_id; }
    [[nodiscard]] std::string_view backend() const override { return "sqlite"; }

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
    SqliteQueue(QueueOptions o, Db db) : o_(std::move(o)), db_(std::move(db)) {}
    [[nodiscard]] Status fail_job(int64_t job_id, int64_t task_id);

    QueueOptions o_;
    Db db_;
    int64_t incarnation_ = 0;
};

}  // namespace rr::store
