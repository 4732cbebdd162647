#pragma once
// This daemon as one node of a cluster (docs/CLUSTER.md): registered in the PostgreSQL queue at
// start, then a thread of its own heartbeats, renews leases, reaps expired ones, marks silent
// nodes lost and checks the storage marker. libpq blocks, so none of it runs on the loop
// thread: the loop reads the latest snapshot and hands over drain/undrain requests.

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/config.h"
#include "core/logging.h"
#include "store/task_queue.h"

namespace rr::service {

struct ClusterSnapshot {
    std::string node_id;
    std::string database;  // without its password
    bool connected = false;
    std::string db_error;  // why the database is unreachable (when not connected)
    bool silent = false;   // not connected because no call has come back for over a lease
    std::string state;     // this node's: active | draining
    // set: not claiming because of the storage (no marker, another cluster's, share full)
    std::optional<std::string> storage_problem;
    bool share_full = false;  // storage_problem is work_dir below min_free_mb
    std::vector<store::NodeView> nodes;
    store::QueueDepth depth;
    int64_t leases = 0;  // held by this node
    SteadyClock::time_point taken;
    // Whether this node may claim chunks now: reachable, active, its storage the cluster's.
    [[nodiscard]] bool claiming() const {
        return connected && state == "active" && !storage_problem;
    }
    [[nodiscard]] std::string not_claiming_reason() const;
};

// What the node tells the others about itself.
struct NodeIdentity {
    std::string host, version;
    int pid = 0;
    int workers = 0;
};

class ClusterNode {
  public:
    // Connects, migrates, registers (Errc::conflict: a live node has this id) and starts the
    // thread. `config` is the one the queue runs on: its `cluster` section is present (a
    // cluster of one's from service::with_local_cluster). Blocks: called once before the loop
    // runs.
    [[nodiscard]] static Result<std::unique_ptr<ClusterNode>> start(const Config& config,
                                                                    NodeIdentity self,
                                                                    std::function<int()> busy,
                                                                    LoggerPtr logger);
    ~ClusterNode();  // stop() if not done
    ClusterNode(const ClusterNode&) = delete;
    ClusterNode& operator=(const ClusterNode&) = delete;

    // The latest snapshot; not connected when the node's thread has had no answer from the
    // database for longer than a lease (a partition or a hung server blocks its calls
    // without an error, and the last snapshot would otherwise say connected all along).
    [[nodiscard]] ClusterSnapshot snapshot() const;
    // What the farm is working on (TaskQueue::farm_jobs) as of the last heartbeat that read it
    // (`taken`); none in a cluster of one, which shows no cluster. Kept apart from the
    // snapshot, which the claimer copies at every claim: these rows are hundreds.
    struct FarmJobs {
        std::vector<store::FarmJob> jobs;
        SteadyClock::time_point taken;
    };
    [[nodiscard]] FarmJobs farm_jobs() const;
    // drain or undrain a node (this one when empty): checked against the latest snapshot,
    // written by the node's thread at once. Errc::not_found for an unknown or lost node.
    [[nodiscard]] Result<std::string> request_state(std::string node_id, const std::string& state);
    // Releases this node's leases and marks it gone; joins the thread. Blocks (shutdown).
    void stop();
    // Told, after every renewal, which leases this node still holds (as of the time the
    // renewal was sent): the chunk runner cancels the work of a lease that is missing.
    using LeaseListener =
        std::function<void(const std::vector<store::Lease>&, SteadyClock::time_point)>;
    void set_lease_listener(LeaseListener listener);
    // Asked right after every successful renewal for the frames done of the chunks this node
    // runs; written to the queue in one batch (TaskQueue::report_progress), so a job's owner
    // sees them within a heartbeat.
    using ProgressSource = std::function<std::vector<store::TaskProgress>()>;
    void set_progress_source(ProgressSource source);
    // Below this much free space in cluster.work_dir the node claims nothing (min_free_mb;
    // set at start and again on reload).
    void set_min_free_mb(int64_t mb) { min_free_mb_.store(mb); }

  private:
    ClusterNode() = default;
    void run();
    void tick();
    void apply_requests();

    ClusterSettings settings_;
    StorageSettings storage_;
    bool cluster_of_one_ = false;  // cluster_of_one() of the config it started with
    std::atomic<int64_t> min_free_mb_{0};
    std::function<int()> busy_;
    LoggerPtr logger_;
    std::unique_ptr<store::TaskQueue> queue_;  // only the thread touches it after start()
    std::optional<std::string> cluster_id_;
    bool registered_ = false;
    SteadyClock::time_point last_prune_{};

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::deque<std::pair<std::string, std::string>> requests_;  // node id, state
    LeaseListener lease_listener_;
    ProgressSource progress_source_;
    ClusterSnapshot snap_;
    FarmJobs farm_jobs_;
    SteadyClock::time_point answered_{};  // when the thread's last tick ended
    std::thread thread_;
};

// A conninfo or URI with its password left out, for status and logs.
[[nodiscard]] std::string redact_conninfo(const std::string& conninfo);

}  // namespace rr::service
