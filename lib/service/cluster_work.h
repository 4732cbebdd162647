#pragma once
// This node's share of the cluster's work (docs/CLUSTER.md, "Chunk distribution"): a thread of
// its own claims chunk and audio tasks from the PostgreSQL queue whenever the shared scheduler
// has a free worker, runs each in a confined worker with an epoch-named intermediate on the
// shared work_dir, and records completion fenced by the lease. The node whose completion was a
// job's last joins and publishes it. The same thread polls the jobs this node owns (made by its
// watchers) for their owners. libpq blocks: nothing here runs on the loop thread.

#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/config.h"
#include "core/logging.h"
#include "pipeline/progress.h"
#include "pipeline/scheduler.h"
#include "store/pg_listener.h"
#include "store/task_queue.h"
#include "worker/client.h"

namespace rr::service {

class ClusterNode;

// What the owner of a cluster job learns on each poll.
struct ClusterJobUpdate {
    store::JobView job;
    std::vector<store::TaskView> tasks;
    // Failed attempts (crashed or failed workers, expired leases) by task idx: every attempt of
    // a task whose count of failed attempts grew since the last poll.
    std::map<int, std::vector<store::AttemptView>> failed_attempts;
};

// Where a job's files are, relative to the storage root (the same on every node).
struct ClusterJobFiles {
    std::string input, output, work;  // work: relative to cluster.work_dir
    int64_t owner_job = 0;            // the owner's own job id (its job database)
};

// An earlier job of the same content and profile, on any node, that makes a job a duplicate
// (ClusterWork::record_content).
struct SameContent {
    int64_t job_id = 0;     // the queue's
    std::string owner;      // the node that owns it
    int64_t owner_job = 0;  // its owner's own job id, when the queue knows it (0: not)
};

// The version of a file that makes it one cluster job: "size:mtime_ns". Every node computes
// it the same way, the owner when it opens the job and an adopter when it checks the file.
[[nodiscard]] Result<std::string> source_version_key(const std::filesystem::path& file);
// The same key from a size and a modification time in Unix nanoseconds (stat's st_mtim, as the
// job database records them), for a file that is gone since.
[[nodiscard]] std::string source_version_key(int64_t size, int64_t mtime_unix_ns);

class ClusterWork {
  public:
    // Opens its own connection (the node thread keeps its own) and starts the thread.
    [[nodiscard]] static Result<std::unique_ptr<ClusterWork>> start(const Config& config,
                                                                    pipeline::Scheduler& scheduler,
                                                                    worker::Zygote* zygote,
                                                                    ClusterNode& node,
                                                                    LoggerPtr logger);
    ~ClusterWork();  // stop()
    ClusterWork(const ClusterWork&) = delete;
    ClusterWork& operator=(const ClusterWork&) = delete;

    [[nodiscard]] const std::string& node_id() const { return node_id_; }
    // The job's paths relative to the storage root; Errc::config naming the input or the
    // output when it is outside (the job is refused: every node must reach its files).
    [[nodiscard]] Result<ClusterJobFiles> files_for(const std::filesystem::path& input,
                                                    const std::filesystem::path& output,
                                                    int64_t local_id) const;
    [[nodiscard]] std::filesystem::path work_dir(const ClusterJobFiles& f) const;
    // The workers of every active node as of the last heartbeat: those that take a job's
    // chunks, so its plan is cut for them. 0 when the node list is not known yet.
    [[nodiscard]] int farm_workers() const;

    // Blocking calls for a job's owner (scheduler threads). priority: the job's (its watch's);
    // every node claims its tasks before those of lower-priority jobs.
    [[nodiscard]] Result<store::OpenedJob> open_job(const ClusterJobFiles& f,
                                                    const std::string& source_key,
                                                    const std::string& profile, int priority);
    // The queue job of this version of the file, if any, without making one.
    [[nodiscard]] Result<std::optional<store::OpenedJob>> find_job(const ClusterJobFiles& f,
                                                                   const std::string& source_key);
    // The owner claims the disposition of an ended job's source (TaskQueue::claim_disposal),
    // retried while the database is away; false: another node took it over.
    [[nodiscard]] Result<bool> claim_disposal(int64_t job_id, std::stop_token stop);
    // The claimer records the disposition done (TaskQueue::finish_disposal), retried while the
    // database is away; false: the job was adopted meanwhile, its adopter disposes of it too.
    [[nodiscard]] Result<bool> finish_disposal(int64_t job_id, std::stop_token stop);
    // TaskQueue::retire_job, for a job this node runs again on request.
    [[nodiscard]] Result<bool> retire_job(int64_t job_id);
    // Dedupe across the farm (TaskQueue::record_content): records the content of this node's
    // job in the queue, unless a job of the same content and profile counts there: one still
    // going, or one published whose output is still there as this node sees the share (a
    // published job whose output is gone lets go of the content, and this job records it).
    // Returns the job that counts, or nullopt when this job's content is recorded.
    [[nodiscard]] Result<std::optional<SameContent>> record_content(int64_t job_id,
                                                                    const std::string& checksum);
    // The plan as tasks: chunks 0..n-1, then the audio task when the plan has one. Returns
    // the node that took the preparation over while this node was lost (its plan is not
    // queued), or nullopt when the tasks are queued.
    [[nodiscard]] Result<std::optional<std::string>> start_tasks(int64_t job_id,
                                                                 const ClusterJobFiles& f,
                                                                 const std::string& profile,
                                                                 int chunks, bool audio);

    // A job whose owner was lost while preparing it, or after it ended but before disposing of
    // its source, with its file as this node sees it (same version): the handler submits the
    // file as a local job, whose prepare opens the queue job again and so takes the
    // preparation (or the disposition) over (open_job). Called on this object's
    // thread, at most once per job and process.
    struct Orphan {
        int64_t job_id = 0;
        std::filesystem::path input;
        std::string profile, owner;
        std::string state;  // preparing, or how the job ended (its source awaits disposal)
    };
    void set_orphan_handler(std::function<void(Orphan)> handler);

    // The owner's view of its job, delivered on this object's thread every poll until
    // unwatch(). Ends (cancel, failure) are sent from the thread too.
    void watch(int64_t job_id, std::function<void(Result<ClusterJobUpdate>)> on_update);
    void unwatch(int64_t job_id);
    void end_job(int64_t job_id, std::string state, std::string error);
    // end_job, blocking (a scheduler thread), retried while the database is away: the caller
    // claims the disposition next, which needs the job ended first.
    [[nodiscard]] Status end_job_now(int64_t job_id, const std::string& state,
                                     const std::string& error, std::stop_token stop);
    // Joins and publishes on this node a job whose joiner was lost (the owner takes over).
    void take_over_join(int64_t job_id, std::string dead_joiner);

    // From the node thread's renewal: the leases the database still gives this node, as of
    // `asked` (a lease claimed after that may be missing without being lost).
    void on_renewed(const std::vector<store::Lease>& held, SteadyClock::time_point asked);
    // Frames done so far of each chunk this node runs under a lease it still holds: the node
    // thread writes them to the queue once per heartbeat, right after renewing, for the owners.
    [[nodiscard]] std::vector<store::TaskProgress> progress_report();
    // Something may be claimable now (a worker is free, a job was planned).
    void wake();
    // Stops claiming and asks running tasks to stop; joins the thread.
    void stop();

  private:
    struct Running {
        store::Lease lease;
        SteadyClock::time_point claimed;
        std::stop_source stop;
        bool lost = false;
        // The chunk's worker adds frames as it goes (run_lease holds it while it runs).
        std::shared_ptr<pipeline::Progress> progress = std::make_shared<pipeline::Progress>();
    };
    ClusterWork() = default;
    void run();
    void claim_some();
    void poll_watched();
    void adopt_orphans();
    // An orphaned disposition with nothing left to do (its source gone or replaced): this
    // node adopts it and records it done, so that no node looks at it again.
    [[nodiscard]] Status settle_disposal(const store::OrphanedJob& o);
    void resume_joins();
    // `slot`: the scheduler worker running it, recorded in the result.
    void run_lease(const store::Lease& lease, int slot, std::stop_token stop);
    void join(int64_t job_id);
    [[nodiscard]] Result<worker::JobSpec> spec_for(const nlohmann::json& job) const;
    template <class F>
    auto locked(F&& f) -> decltype(f(std::declval<store::TaskQueue&>()));
    // Calls `call` until the database answers (success or Errc::conflict), `stop`, or ten
    // leases; `what` names the record in the log.
    template <class Call>
    auto until_answered(Call&& call, const std::string& what, std::stop_token stop)
        -> decltype(call());

    Config config_;  // as at start: a reload does not change cluster work
    pipeline::Scheduler* scheduler_ = nullptr;
    worker::Zygote* zygote_ = nullptr;
    ClusterNode* node_ = nullptr;
    LoggerPtr logger_;
    std::string node_id_;

    std::mutex db_mutex_;  // the connection is shared by this thread and the scheduler's
    std::unique_ptr<store::TaskQueue> queue_;

    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    bool woken_ = false;
    bool claim_in_flight_ = false;  // a claim's leases may not be in running_ yet
    SteadyClock::time_point last_claim_end_{};
    std::map<int64_t, Running> running_;  // by task id
    std::map<int64_t, std::function<void(Result<ClusterJobUpdate>)>> watched_;
    // Failed attempts already read, by job and task idx (poll_watched only, this thread).
    std::map<int64_t, std::map<int, size_t>> attempts_read_;
    std::vector<std::function<void(store::TaskQueue&)>> chores_;  // end_job etc., on the thread
    std::function<void(Orphan)> on_orphan_;
    std::set<int64_t> orphans_handed_;  // this thread only
    bool joins_resumed_ = false;        // this thread only
    SteadyClock::time_point orphans_checked_{};
    std::thread thread_;
    // LISTEN: wakes the claimer when any node queues tasks (polling is the fallback).
    std::optional<store::PgListener> listener_;
    std::thread listen_thread_;
    void listen();
};

}  // namespace rr::service
