#include "service/cluster_node.h"

#include <fmt/format.h>

#include <regex>

#include "service/layout.h"
#include "service/share_space.h"
#include "service/storage_marker.h"

namespace rr::service {
namespace {

constexpr double kPruneEverySeconds = 3600;
// The farm's jobs each heartbeat reads for `cluster-jobs` and the dashboard: the highest
// priorities first, enough for a screen, bounded so a queue of thousands costs one page.
constexpr int kFarmJobsShown = 200;

std::chrono::milliseconds millis(double seconds) {
    return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

}  // namespace

std::string redact_conninfo(const std::string& conninfo) {
    // URI: postgresql://user:secret@host/db -> postgresql://user@host/db
    static const std::regex uri_password(R"(^(postgres(?:ql)?://[^:/@]*):[^@]*@)");
    // key=value: password='s e c' or password=secret
    static const std::regex kv_password(R"((^|\s)password\s*=\s*('([^'\\]|\\.)*'|\S+))");
    // ?password=... in a URI's query
    static const std::regex query_password(R"(([?&])password=[^&]*&?)");
    std::string out = std::regex_replace(conninfo, uri_password, "$1@");
    out = std::regex_replace(out, kv_password, "");
    out = std::regex_replace(out, query_password, "$1");
    while (!out.empty() && (out.back() == '?' || out.back() == '&')) out.pop_back();
    return out;
}

std::string ClusterSnapshot::not_claiming_reason() const {
    if (!connected) return "cluster database unreachable: " + db_error;
    if (storage_problem) return *storage_problem;
    if (state != "active") return "node is " + state;
    return {};
}

Result<std::unique_ptr<ClusterNode>> ClusterNode::start(const Config& config, NodeIdentity self,
                                                        std::function<int()> busy,
                                                        LoggerPtr logger) {
    std::unique_ptr<ClusterNode> n(new ClusterNode());
    const ClusterSettings& settings = *config.cluster;
    n->settings_ = settings;
    n->storage_ = config.storage;
    n->cluster_of_one_ = cluster_of_one(config);
    n->min_free_mb_.store(config.min_free_mb);
    n->busy_ = std::move(busy);
    n->logger_ = std::move(logger);
    store::QueueOptions o;
    o.database = settings.database;
    o.node_id = settings.node_id;
    o.lease_seconds = settings.lease_seconds;
    auto queue = store::open_task_queue(o);
    if (!queue) {
        return std::move(queue).error().context("cluster database " +
                                                redact_conninfo(settings.database));
    }
    n->queue_ = std::move(*queue);
    store::NodeRegistration reg;
    reg.host = self.host;
    reg.pid = self.pid;
    reg.version = self.version;
    reg.workers = self.workers;
    // A node silent for a whole lease is dead as far as its chunks go; so is its id.
    // A cluster of one's queue is this node's own file: any earlier holder of the id was this
    // node's previous process, dead now (a second daemon on one state folder is refused by
    // local-queue.lock before it gets here), so the id and its leases are taken back at once.
    reg.stale_after_seconds = n->cluster_of_one_ ? -1 : settings.lease_seconds;
    RR_TRY(n->queue_->register_node(reg));
    n->registered_ = true;
    n->snap_.node_id = settings.node_id;
    n->snap_.database = redact_conninfo(settings.database);
    n->snap_.connected = true;
    n->snap_.state = "active";
    n->tick();  // a first snapshot before the loop asks for one
    n->answered_ = SteadyClock::now();
    n->thread_ = std::thread([raw = n.get()] { raw->run(); });
    n->logger_->info("cluster: node {} registered in {} (lease {} s, heartbeat {} s)",
                     settings.node_id, n->snap_.database, settings.lease_seconds,
                     settings.heartbeat_seconds);
    return n;
}

ClusterNode::~ClusterNode() {
    stop();
}

ClusterSnapshot ClusterNode::snapshot() const {
    std::lock_guard lock(mutex_);
    ClusterSnapshot s = snap_;
    const double silent = answered_ == SteadyClock::time_point{} ? 0.0 : seconds_since(answered_);
    if (s.connected && silent > settings_.lease_seconds) {
        s.connected = false;
        s.silent = true;
        s.db_error = fmt::format("no answer from the database for {:.0f} s", silent);
    }
    return s;
}

Result<std::string> ClusterNode::request_state(std::string node_id, const std::string& state) {
    std::lock_guard lock(mutex_);
    if (node_id.empty()) node_id = snap_.node_id;
    if (!snap_.connected)
        return make_error(Errc::io, "cluster database unreachable: " + snap_.db_error);
    auto it = std::find_if(snap_.nodes.begin(), snap_.nodes.end(),
                           [&](const store::NodeView& v) { return v.node_id == node_id; });
    if (it == snap_.nodes.end() || it->state == "lost")
        return make_error(Errc::not_found, "no live node '" + node_id + "'");
    // Shown at once; the node's thread writes it within moments and the next snapshot is the
    // database's word again.
    it->state = state;
    if (node_id == snap_.node_id) snap_.state = state;
    requests_.emplace_back(node_id, state);
    wake_.notify_one();
    return node_id;
}

void ClusterNode::stop() {
    {
        std::lock_guard lock(mutex_);
        if (stopping_ && !thread_.joinable()) return;
        stopping_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
    // Not registered: the id (and its leases) belong to another live process.
    if (!queue_ || !registered_) return;
    if (auto released = queue_->leave()) {
        logger_->info("cluster: node {} left the cluster ({} lease(s) released)", settings_.node_id,
                      *released);
    } else {
        logger_->warn(
            "cluster: could not sign off node {}: {} (others take its leases over "
            "after {} s)",
            settings_.node_id, released.error().message, settings_.lease_seconds);
    }
    queue_.reset();
}

void ClusterNode::run() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        wake_.wait_for(lock, millis(settings_.heartbeat_seconds),
                       [&] { return stopping_ || !requests_.empty(); });
        if (stopping_) break;
        lock.unlock();
        tick();
        lock.lock();
        if (const double silent = seconds_since(answered_); silent > settings_.lease_seconds)
            logger_->info("cluster: the database answered again after {:.0f} s", silent);
        answered_ = SteadyClock::now();
    }
}

void ClusterNode::apply_requests() {
    for (;;) {
        std::pair<std::string, std::string> req;
        {
            std::lock_guard lock(mutex_);
            if (requests_.empty()) return;
            req = std::move(requests_.front());
            requests_.pop_front();
        }
        if (Status st = queue_->set_node_state(req.first, req.second); !st) {
            logger_->warn("cluster: cannot set node {} {}: {}", req.first, req.second,
                          st.error().message);
        } else {
            logger_->info("cluster: node {} is now {}", req.first, req.second);
        }
    }
}

void ClusterNode::set_lease_listener(LeaseListener listener) {
    std::lock_guard lock(mutex_);
    lease_listener_ = std::move(listener);
}

void ClusterNode::set_progress_source(ProgressSource source) {
    std::lock_guard lock(mutex_);
    progress_source_ = std::move(source);
}

void ClusterNode::tick() {
    ClusterSnapshot before = snapshot();
    ClusterSnapshot s;
    s.node_id = before.node_id;
    s.database = before.database;
    s.taken = SteadyClock::now();
    s.storage_problem = before.storage_problem;  // until checked again
    s.share_full = before.share_full;
    auto fail = [&](const Error& e) {
        s.connected = false;
        s.db_error = e.message;
        s.state = before.state;
        s.nodes = before.nodes;
        s.depth = before.depth;
        if (before.connected)
            logger_->warn("cluster: database unreachable, not claiming: {}", e.message);
        std::lock_guard lock(mutex_);
        snap_ = std::move(s);
    };
    apply_requests();
    if (!cluster_id_) {
        auto id = queue_->cluster_id();
        if (!id) return fail(id.error());
        cluster_id_ = *id;
    }
    // Checked before the heartbeat, which tells the others: an owner cuts its plans for the
    // nodes that can claim (ClusterWork::farm_workers).
    if (!cluster_of_one_) {
        s.storage_problem = storage_problem(storage_.root, cluster_id_);
        s.share_full = false;
        if (!s.storage_problem) {
            s.storage_problem = share_space_problem(settings_.work_dir, min_free_mb_.load());
            s.share_full = s.storage_problem.has_value();
        }
    }
    // A full share's message carries its free megabytes, which change at every heartbeat:
    // logged when it starts, not each time its figure moves.
    if (s.storage_problem && s.storage_problem != before.storage_problem &&
        !(s.share_full && before.share_full))
        logger_->warn("cluster: not claiming: {}", *s.storage_problem);
    else if (!s.storage_problem && before.storage_problem)
        logger_->info("cluster: the storage is fit again ({} before); claiming again",
                      *before.storage_problem);
    auto state = queue_->node_heartbeat(busy_ ? busy_() : 0, s.storage_problem);
    if (!state) {
        if (state.error().code == Errc::conflict) {
            // Another process registered this id after ours went silent: it owns the id now.
            s.connected = true;
            s.state = "taken over";
            registered_ = false;  // its leases are the new owner's: never release them
            if (before.state != s.state) logger_->error("{}", state.error().message);
            std::lock_guard lock(mutex_);
            snap_ = std::move(s);
            return;
        }
        return fail(state.error());
    }
    s.connected = true;
    s.state = *state;
    if (!before.connected) logger_->info("cluster: database reachable again");
    const auto asked = SteadyClock::now();
    auto leases = queue_->renew();
    if (!leases) return fail(leases.error());
    s.leases = static_cast<int64_t>(leases->size());
    LeaseListener listener;
    ProgressSource progress;
    {
        std::lock_guard lock(mutex_);
        listener = lease_listener_;
        progress = progress_source_;
    }
    if (listener) listener(*leases, asked);
    // After the listener: a lease it found lost is left out. Progress is for display only; a
    // report that fails is replaced by the next heartbeat's.
    if (progress) {
        if (Status st = queue_->report_progress(progress()); !st)
            logger_->debug("cluster: cannot report chunk progress: {}", st.error().message);
    }
    if (auto reaped = queue_->reap()) {
        for (const auto& r : *reaped)
            logger_->warn("cluster: lease of chunk {} of job {} held by {} expired{}", r.idx,
                          r.job_id, r.owner, r.failed ? "; attempts exhausted, job failed" : "");
    }
    if (auto lost = queue_->mark_lost(settings_.lease_seconds)) {
        for (const auto& id : *lost)
            logger_->warn("cluster: node {} is lost (silent for more than {} s)", id,
                          settings_.lease_seconds);
    }
    auto depth = queue_->queue_depth();
    if (!depth) return fail(depth.error());
    s.depth = *depth;
    auto nodes = queue_->nodes();
    if (!nodes) return fail(nodes.error());
    s.nodes = std::move(*nodes);
    std::optional<FarmJobs> farm;
    if (!cluster_of_one_) {
        auto jobs = queue_->farm_jobs(kFarmJobsShown);
        if (!jobs) return fail(jobs.error());
        // The sidecar of a published job waiting for its disposition is not shown.
        for (auto& f : *jobs) f.job.result.reset();
        farm = FarmJobs{std::move(*jobs), SteadyClock::now()};
    }
    if (settings_.retention_days > 0 && (last_prune_ == SteadyClock::time_point{} ||
                                         seconds_since(last_prune_) > kPruneEverySeconds)) {
        last_prune_ = SteadyClock::now();
        if (auto pruned = queue_->prune(settings_.retention_days); pruned && *pruned > 0)
            logger_->info("cluster: pruned {} finished job(s) older than {} days", *pruned,
                          settings_.retention_days);
    }
    {
        std::lock_guard lock(mutex_);
        // A drain/undrain asked for while this tick ran is shown until it is written.
        for (const auto& [id, st] : requests_) {
            for (auto& n : s.nodes)
                if (n.node_id == id) n.state = st;
            if (id == s.node_id) s.state = st;
        }
        snap_ = std::move(s);
        if (farm) farm_jobs_ = std::move(*farm);
    }
}

ClusterNode::FarmJobs ClusterNode::farm_jobs() const {
    std::lock_guard lock(mutex_);
    return farm_jobs_;
}

}  // namespace rr::service
