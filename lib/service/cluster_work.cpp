#include "service/cluster_work.h"

#include <fmt/format.h>

#include "core/paths.h"
#include "pipeline/job_settings.h"
#include "pipeline/publish.h"
#include "service/cluster_node.h"
#include "service/cluster_publish.h"
#include "service/layout.h"

namespace rr::service {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// The scheduler queue that every leased task of this node runs in (local jobs use their ids,
// which are positive), so cluster tasks take their round-robin turn beside local jobs.
constexpr int64_t kClusterTasks = -1;

// The intermediate a lease writes: named by its epoch, so a node that lost its lease never
// writes over the file of the node that took it over.
std::string task_file_name(int chunk, int64_t epoch, bool audio) {
    const std::string ext = pipeline::chunk_file("", 0).extension().string();
    return audio ? fmt::format("audio.e{}{}", epoch, ext)
                 : fmt::format("{}.e{}{}", chunk, epoch, ext);
}

json parse_object(const std::string& text) {
    auto j = json::parse(text, nullptr, false);
    return j.is_object() ? j : json::object();
}

}  // namespace

Result<std::string> source_version_key(const fs::path& file) {
    std::error_code ec;
    const auto size = fs::file_size(file, ec);
    if (ec) return make_error(Errc::io, "cannot stat " + file.string() + ": " + ec.message());
    const auto mtime = fs::last_write_time(file, ec);
    if (ec) return make_error(Errc::io, "cannot stat " + file.string() + ": " + ec.message());
    return std::to_string(size) + ":" + std::to_string(mtime.time_since_epoch().count());
}

std::string source_version_key(int64_t size, int64_t mtime_unix_ns) {
    // The file clock's epoch is not Unix's: convert as last_write_time would have.
    const auto sys =
        std::chrono::sys_time<std::chrono::nanoseconds>(std::chrono::nanoseconds(mtime_unix_ns));
    const auto file = std::chrono::file_clock::from_sys(sys);
    return std::to_string(size) + ":" + std::to_string(file.time_since_epoch().count());
}

Result<std::unique_ptr<ClusterWork>> ClusterWork::start(const Config& config,
                                                        pipeline::Scheduler& scheduler,
                                                        worker::Zygote* zygote, ClusterNode& node,
                                                        LoggerPtr logger) {
    std::unique_ptr<ClusterWork> w(new ClusterWork());
    w->config_ = config;
    w->scheduler_ = &scheduler;
    w->zygote_ = zygote;
    w->node_ = &node;
    w->logger_ = std::move(logger);
    const auto& c = *config.cluster;
    store::QueueOptions o;
    o.database = c.database;
    o.node_id = node.snapshot().node_id;
    o.lease_seconds = c.lease_seconds;
    o.max_attempts = config.max_attempts;
    w->node_id_ = o.node_id;
    RR_ASSIGN(w->queue_, store::open_task_queue(std::move(o)));
    std::error_code ec;
    fs::create_directories(c.work_dir, ec);
    scheduler.add_job(kClusterTasks, 0);
    // Any task's end frees a worker this node may fill from the queue.
    scheduler.on_worker_free([p = w.get()] { p->wake(); });
    // SQLite has no NOTIFY: its nodes share one host and find new tasks by polling.
    if (store::is_sqlite_database(c.database)) {
        w->logger_->info("cluster: SQLite queue {}; polling for new tasks every {} s", c.database,
                         c.poll_seconds);
    } else if (auto l = store::PgListener::open(c.database, c.lease_seconds)) {
        w->listener_.emplace(std::move(*l));
        w->listen_thread_ = std::thread([p = w.get()] { p->listen(); });
    } else {
        w->logger_->warn("cluster: cannot LISTEN for new tasks ({}); polling every {} s",
                         l.error().message, c.poll_seconds);
    }
    w->thread_ = std::thread([p = w.get()] { p->run(); });
    return w;
}

ClusterWork::~ClusterWork() {
    stop();
}

template <class Call>
auto ClusterWork::until_answered(Call&& call, const std::string& what, std::stop_token stop)
    -> decltype(call()) {
    // The database away (a restart, a partition): try again while the lease or the join may
    // still be ours. Errc::conflict (fenced off) is an answer, not an outage.
    const auto give_up =
        SteadyClock::now() +
        std::chrono::duration_cast<SteadyClock::duration>(
            std::chrono::duration<double>(10 * config_.cluster->lease_seconds + 30));
    auto r = call();
    while (!r && r.error().code != Errc::conflict && !stop.stop_requested() &&
           SteadyClock::now() < give_up) {
        logger_->warn("cluster: cannot record {} yet: {}", what, r.error().message);
        std::this_thread::sleep_for(
            std::chrono::duration<double>(std::min(1.0, config_.cluster->heartbeat_seconds)));
        r = call();
    }
    return r;
}

template <class F>
auto ClusterWork::locked(F&& f) -> decltype(f(std::declval<store::TaskQueue&>())) {
    std::lock_guard lock(db_mutex_);
    return f(*queue_);
}

Result<ClusterJobFiles> ClusterWork::files_for(const fs::path& input, const fs::path& output,
                                               int64_t local_id) const {
    const fs::path& root = config_.storage.root;
    auto in = relative_under(root, input);
    if (!in) return make_error(Errc::config, outside_storage_root(input, root));
    auto out = relative_under(root, output);
    if (!out) return make_error(Errc::config, outside_storage_root(output, root));
    return ClusterJobFiles{in->string(), out->string(), fmt::format("{}-{}", node_id_, local_id),
                           local_id};
}

fs::path ClusterWork::work_dir(const ClusterJobFiles& f) const {
    return config_.cluster->work_dir / f.work;
}

int ClusterWork::farm_workers() const {
    // Draining and lost nodes claim nothing, nor does one whose storage is not the cluster's
    // (it says so at every heartbeat).
    int workers = 0;
    for (const auto& n : node_->snapshot().nodes)
        if (n.state == "active" && !n.storage_problem) workers += n.workers;
    return workers;
}

Result<store::OpenedJob> ClusterWork::open_job(const ClusterJobFiles& f,
                                               const std::string& source_key,
                                               const std::string& profile, int priority) {
    const json payload{{"input", f.input},   {"output", f.output}, {"work", f.work},
                       {"profile", profile}, {"owner", node_id_},  {"owner_job", f.owner_job}};
    return locked([&](store::TaskQueue& q) {
        return q.open_job(f.input, source_key, profile, payload.dump(), priority);
    });
}

Result<std::optional<store::OpenedJob>> ClusterWork::find_job(const ClusterJobFiles& f,
                                                              const std::string& source_key) {
    return locked([&](store::TaskQueue& q) { return q.find_job(f.input, source_key); });
}

Result<bool> ClusterWork::retire_job(int64_t job_id) {
    return locked([&](store::TaskQueue& q) { return q.retire_job(job_id); });
}

Result<bool> ClusterWork::claim_disposal(int64_t job_id, std::stop_token stop) {
    return until_answered(
        [&] { return locked([&](store::TaskQueue& q) { return q.claim_disposal(job_id); }); },
        "the disposition of job " + std::to_string(job_id), stop);
}

Result<bool> ClusterWork::finish_disposal(int64_t job_id, std::stop_token stop) {
    return until_answered(
        [&] { return locked([&](store::TaskQueue& q) { return q.finish_disposal(job_id); }); },
        "the disposition of job " + std::to_string(job_id), stop);
}

Result<std::optional<SameContent>> ClusterWork::record_content(int64_t job_id,
                                                               const std::string& checksum) {
    int64_t gone = 0;
    // Letting go of a published job whose output is gone, another owner may record the content
    // first: a few rounds, each of which finds a job that counts or records.
    for (int round = 0; round < 4; ++round) {
        RR_ASSIGN(auto holder, locked([&](store::TaskQueue& q) {
                      return q.record_content(job_id, checksum, gone);
                  }));
        if (!holder) return std::optional<SameContent>();
        const json payload = parse_object(holder->payload);
        const SameContent same{holder->id, holder->owner, payload.value("owner_job", int64_t{0})};
        // A job still going will publish; a published one counts while its output exists (an
        // operator who deleted it wants the file made again), as on a single node.
        if (holder->state != "done") return std::optional<SameContent>(same);
        const std::string output = payload.value("output", std::string());
        std::error_code ec;
        if (!output.empty() && fs::exists(config_.storage.root / output, ec))
            return std::optional<SameContent>(same);
        logger_->info(
            "cluster: job {}: same content as cluster job {} on node {}, whose output {} is gone; "
            "processing again",
            job_id, holder->id, holder->owner, output.empty() ? "(none)" : output);
        gone = holder->id;
    }
    return make_error(Errc::conflict, "job " + std::to_string(job_id) +
                                          ": the content's holder kept changing; try again");
}

Result<std::optional<std::string>> ClusterWork::start_tasks(int64_t job_id,
                                                            const ClusterJobFiles& f,
                                                            const std::string& profile, int chunks,
                                                            bool audio) {
    // Every task carries what a node needs to run it without another round trip.
    const json job{{"id", job_id},   {"input", f.input},        {"output", f.output},
                   {"work", f.work}, {"profile", profile},      {"chunks", chunks},
                   {"audio", audio}, {"owner_job", f.owner_job}};
    std::vector<std::string> payloads;
    for (int i = 0; i < chunks; ++i)
        payloads.push_back(json{{"job", job}, {"kind", "chunk"}, {"chunk", i}}.dump());
    if (audio) payloads.push_back(json{{"job", job}, {"kind", "audio"}}.dump());
    // The audio pass reads the whole file in one task: claimed first, it runs beside the
    // chunks rather than after the last of them (as a single node starts it first too).
    Status started =
        locked([&](store::TaskQueue& q) { return q.start_tasks(job_id, payloads, audio); });
    if (!started) {
        if (started.error().code != Errc::conflict) return started.error();
        // This node was lost while it prepared, and another one took the preparation over.
        auto now = locked([&](store::TaskQueue& q) { return q.job(job_id); });
        if (now && now->owner != node_id_ && !now->owner.empty())
            return std::optional<std::string>(now->owner);
        return started.error();
    }
    wake();
    return std::optional<std::string>();
}

Status ClusterWork::end_job_now(int64_t job_id, const std::string& state, const std::string& error,
                                std::stop_token stop) {
    auto ended = until_answered(
        [&]() -> Result<bool> {
            RR_TRY(locked([&](store::TaskQueue& q) { return q.end_job(job_id, state, error); }));
            return true;
        },
        "ending job " + std::to_string(job_id), stop);
    if (!ended) return ended.error();
    return {};
}

void ClusterWork::set_orphan_handler(std::function<void(Orphan)> handler) {
    std::lock_guard lock(mutex_);
    on_orphan_ = std::move(handler);
}

void ClusterWork::watch(int64_t job_id, std::function<void(Result<ClusterJobUpdate>)> on_update) {
    std::lock_guard lock(mutex_);
    watched_[job_id] = std::move(on_update);
    woken_ = true;
    wake_.notify_all();
}

void ClusterWork::unwatch(int64_t job_id) {
    std::lock_guard lock(mutex_);
    watched_.erase(job_id);
}

void ClusterWork::end_job(int64_t job_id, std::string state, std::string error) {
    std::lock_guard lock(mutex_);
    chores_.push_back(
        [this, job_id, state = std::move(state), error = std::move(error)](store::TaskQueue& q) {
            if (Status st = q.end_job(job_id, state, error); !st)
                logger_->warn("cluster: cannot end job {}: {}", job_id, st.error().message);
        });
    woken_ = true;
    wake_.notify_all();
}

void ClusterWork::take_over_join(int64_t job_id, std::string dead_joiner) {
    std::lock_guard lock(mutex_);
    chores_.push_back([this, job_id, dead_joiner = std::move(dead_joiner)](store::TaskQueue& q) {
        auto mine = q.take_over_join(job_id, dead_joiner);
        if (!mine || !*mine) return;
        logger_->warn("cluster: joiner {} of job {} is lost; joining it here", dead_joiner, job_id);
        scheduler_->submit(kClusterTasks, [this, job_id](int, std::stop_token) { join(job_id); });
    });
    woken_ = true;
    wake_.notify_all();
}

void ClusterWork::wake() {
    std::lock_guard lock(mutex_);
    woken_ = true;
    wake_.notify_all();
}

void ClusterWork::stop() {
    // Before taking mutex_: a hook in progress (wake) may be waiting for it.
    if (scheduler_) scheduler_->on_worker_free({});
    {
        std::lock_guard lock(mutex_);
        if (stopping_ && !thread_.joinable()) return;
        stopping_ = true;
        for (auto& [id, r] : running_) r.stop.request_stop();
        wake_.notify_all();
    }
    if (thread_.joinable()) thread_.join();
    if (listen_thread_.joinable()) listen_thread_.join();
}

void ClusterWork::listen() {
    // Short waits, so stop() never waits long for this thread.
    constexpr auto kSlice = std::chrono::milliseconds(500);
    while (true) {
        {
            std::lock_guard lock(mutex_);
            if (stopping_) return;
        }
        auto heard = listener_->wait(kSlice);
        if (heard && *heard) {
            wake();
        } else if (!heard) {
            std::this_thread::sleep_for(kSlice);  // the database is away; the node thread says so
        }
    }
}

void ClusterWork::on_renewed(const std::vector<store::Lease>& held, SteadyClock::time_point asked) {
    std::lock_guard lock(mutex_);
    // A lease the database gives this node but no task here runs (a claim whose reply was
    // lost): handed back as a failed attempt, or it would be renewed forever. Only when no
    // claim was on its way at the time of the renewal, whose leases may not be listed yet.
    if (!claim_in_flight_ && last_claim_end_ <= asked) {
        for (const auto& l : held) {
            if (running_.count(l.task_id)) continue;
            logger_->warn(
                "cluster: lease of task {} (chunk {} of job {}) is not running here; "
                "handing it back",
                l.task_id, l.idx, l.job_id);
            chores_.push_back([this, l](store::TaskQueue& q) {
                (void)q.fail(l, "node " + node_id_ + " lost track of its lease");
            });
            woken_ = true;
        }
        if (woken_) wake_.notify_all();
    }
    for (auto& [id, r] : running_) {
        if (r.lost || r.claimed >= asked) continue;
        bool still = false;
        for (const auto& l : held)
            if (l.task_id == id && l.epoch == r.lease.epoch) still = true;
        if (still) continue;
        r.lost = true;
        r.stop.request_stop();
        logger_->warn("cluster: lease of task {} (chunk {} of job {}) was lost; abandoning it", id,
                      r.lease.idx, r.lease.job_id);
    }
}

std::vector<store::TaskProgress> ClusterWork::progress_report() {
    std::lock_guard lock(mutex_);
    std::vector<store::TaskProgress> out;
    for (const auto& [id, r] : running_) {
        // A lost lease's count is nobody's business any more (the queue would refuse it too);
        // 0 is what the claim wrote already.
        const int64_t frames = r.progress->snapshot().frames_done;
        if (r.lost || frames <= 0) continue;
        out.push_back(store::TaskProgress{id, r.lease.epoch, frames});
    }
    return out;
}

void ClusterWork::run() {
    const auto poll = std::chrono::duration<double>(config_.cluster->poll_seconds);
    // An owner learns of its job's end within a second, whatever the claim poll is.
    const auto follow = std::min(poll, std::chrono::duration<double>(1.0));
    while (true) {
        std::vector<std::function<void(store::TaskQueue&)>> chores;
        {
            std::unique_lock lock(mutex_);
            wake_.wait_for(lock, watched_.empty() ? poll : follow,
                           [&] { return stopping_ || woken_; });
            if (stopping_) return;
            woken_ = false;
            chores.swap(chores_);
        }
        resume_joins();  // before any chore may take a join over itself
        for (auto& c : chores) locked([&](store::TaskQueue& q) { c(q); });
        claim_some();
        poll_watched();
        adopt_orphans();
    }
}

void ClusterWork::resume_joins() {
    // Once, as soon as this node may work: a join reads the chunks on the share, and a node
    // without its share must not fail a job for it.
    if (joins_resumed_ || !node_->snapshot().claiming()) return;
    auto left = locked([&](store::TaskQueue& q) { return q.unfinished_joins(); });
    if (!left) {
        logger_->warn("cluster: cannot list the joins left by this node's previous process: {}",
                      left.error().message);
        return;
    }
    joins_resumed_ = true;
    for (int64_t job_id : *left) {
        logger_->warn(
            "cluster: job {} was being joined by this node's previous process; joining "
            "it again",
            job_id);
        scheduler_->submit(kClusterTasks, [this, job_id](int, std::stop_token) { join(job_id); });
    }
}

void ClusterWork::adopt_orphans() {
    // Every poll_seconds at most, and only while this node may work (a node whose share is
    // not mounted must not conclude that a file is gone).
    const auto now = SteadyClock::now();
    if (now - orphans_checked_ < std::chrono::duration<double>(config_.cluster->poll_seconds))
        return;
    orphans_checked_ = now;
    std::function<void(Orphan)> handler;
    {
        std::lock_guard lock(mutex_);
        handler = on_orphan_;
    }
    if (!handler || !node_->snapshot().claiming()) return;
    auto orphans = locked([&](store::TaskQueue& q) { return q.orphaned_jobs(); });
    if (!orphans) {
        logger_->warn("cluster: cannot list jobs left preparing: {}", orphans.error().message);
        return;
    }
    for (const auto& o : *orphans) {
        if (!orphans_handed_.insert(o.id).second) continue;
        Orphan orphan{o.id, config_.storage.root / o.source_path, o.profile, o.owner, o.state};
        const bool preparing = o.state == "preparing";
        const auto key = source_version_key(orphan.input);
        if (!key || *key != o.source_key) {
            const std::string why =
                fmt::format("owner {} was lost while {} it and {} is {}", o.owner,
                            preparing ? "preparing" : "disposing of", orphan.input.string(),
                            key ? "no longer the version it was opened for" : "gone");
            if (!preparing) {
                // Nothing is left to dispose of here: someone moved or replaced the file (the
                // lost owner itself, when it was lost before recording its move).
                if (Status settled = settle_disposal(o); !settled) {
                    logger_->warn("cluster: job {}: {}; cannot record its disposition: {}", o.id,
                                  why, settled.error().message);
                } else {
                    logger_->info("cluster: job {}: {}; nothing to dispose of", o.id, why);
                }
                continue;
            }
            // Nobody can prepare this version any more; a newer one is a job of its own.
            logger_->warn("cluster: job {}: {}; ending it", o.id, why);
            (void)locked([&](store::TaskQueue& q) { return q.end_job(o.id, "failed", why); });
            continue;
        }
        logger_->warn("cluster: owner {} of job {} was lost {}; taking over {}", o.owner, o.id,
                      preparing ? "while preparing it" : "before disposing of its source",
                      orphan.input.string());
        handler(std::move(orphan));
    }
}

Status ClusterWork::settle_disposal(const store::OrphanedJob& o) {
    return locked([&](store::TaskQueue& q) -> Status {
        // The adopter's payload replaces the job's: this one keeps where its output went.
        RR_ASSIGN(const store::JobView j, q.job(o.id));
        RR_ASSIGN(const store::OpenedJob opened,
                  q.open_job(o.source_path, o.source_key, o.profile, j.payload, j.priority));
        if (opened.created) {
            // The row was pruned meanwhile and this made a new one: nothing will prepare it,
            // and there is nothing to dispose of either.
            RR_TRY(q.end_job(opened.id, "cancelled", "its source is gone"));
        } else if (opened.owner != node_id_) {
            return {};  // another node settles it
        }
        RR_ASSIGN(const bool claimed, q.claim_disposal(opened.id));
        if (claimed) RR_TRY(q.finish_disposal(opened.id));
        return {};
    });
}

void ClusterWork::claim_some() {
    if (!node_->snapshot().claiming() || scheduler_->paused()) return;
    const int free =
        scheduler_->size() - scheduler_->busy() - static_cast<int>(scheduler_->queued());
    if (free <= 0) return;  // the scheduler's worker-free hook wakes this thread again
    {
        std::lock_guard lock(mutex_);
        claim_in_flight_ = true;
    }
    // Every lease is in running_ before anyone may look for orphans again.
    struct Landed {
        ClusterWork* w;
        ~Landed() {
            std::lock_guard lock(w->mutex_);
            w->claim_in_flight_ = false;
            w->last_claim_end_ = SteadyClock::now();
        }
    } landed{this};
    auto leases = locked([&](store::TaskQueue& q) { return q.claim(free); });
    if (!leases) {
        logger_->warn("cluster: claim: {}", leases.error().message);
        return;
    }
    for (auto& lease : *leases) {
        std::stop_token token;
        {
            std::lock_guard lock(mutex_);
            auto& r = running_[lease.task_id];
            r.lease = lease;
            r.claimed = SteadyClock::now();
            token = r.stop.get_token();
        }
        logger_->info("cluster: claimed chunk {} of job {} (attempt {}, epoch {})", lease.idx,
                      lease.job_id, lease.attempt, lease.epoch);
        scheduler_->submit(kClusterTasks,
                           [this, lease, token](int slot, std::stop_token pool_stop) {
                               std::stop_source both;
                               std::stop_callback a(token, [&] { both.request_stop(); });
                               std::stop_callback b(pool_stop, [&] { both.request_stop(); });
                               run_lease(lease, slot, both.get_token());
                               {
                                   std::lock_guard lock(mutex_);
                                   running_.erase(lease.task_id);
                               }
                               // The scheduler's worker-free hook wakes the claimer once this
                               // worker is free.
                           });
    }
}

Result<worker::JobSpec> ClusterWork::spec_for(const json& job) const {
    const std::string profile = job.value("profile", std::string());
    auto it = config_.profiles.find(profile);
    if (it == config_.profiles.end())
        return make_error(Errc::config, "no profile named '" + profile + "' on node " + node_id_);
    worker::JobSpec spec;
    spec.input = config_.storage.root / job.value("input", std::string());
    spec.settings.profile = it->second;
    spec.settings.workers = pipeline::resolve_workers(config_.workers);
    spec.settings.chunk_seconds = config_.chunk_seconds;
    spec.settings.limits = config_.limits;
    spec.settings.models_dir = config_.paths.models_dir;
    spec.settings.work_dir = config_.cluster->work_dir / job.value("work", std::string());
    spec.zygote = zygote_;
    spec.log_level = spdlog::level::to_string_view(logger_->level()).data();
    return spec;
}

void ClusterWork::run_lease(const store::Lease& lease, int slot, std::stop_token stop) {
    // The worker counts frames into the lease's entry; the node thread reports them.
    std::shared_ptr<pipeline::Progress> progress;
    {
        std::lock_guard lock(mutex_);
        if (auto it = running_.find(lease.task_id); it != running_.end())
            progress = it->second.progress;
    }
    const json payload = parse_object(lease.payload);
    const json job = payload.value("job", json::object());
    const bool audio = payload.value("kind", std::string()) == "audio";
    const std::string what = audio ? "audio" : "chunk " + std::to_string(lease.idx);
    auto spec = spec_for(job);
    fs::path file;
    auto work = [&]() -> Result<worker::TaskFile> {
        RR_TRY(spec);
        file = spec->settings.work_dir / task_file_name(lease.idx, lease.epoch, audio);
        if (audio) return worker::run_audio(*spec, job.value("chunks", 0), stop, file);
        return worker::run_chunk(*spec, payload.value("chunk", -1), progress.get(), stop, file);
    };
    const auto t0 = SteadyClock::now();
    const double started_at = unix_seconds();
    Result<worker::TaskFile> r = work();
    auto remove_file = [&] {
        std::error_code ec;
        if (!file.empty()) fs::remove(file, ec);
    };
    bool lost = false;
    {
        std::lock_guard lock(mutex_);
        if (auto it = running_.find(lease.task_id); it != running_.end()) lost = it->second.lost;
    }
    if (lost || (!r && r.error().code == Errc::cancelled)) {
        // Lost lease or shutdown: the task is someone else's (or the queue's) again.
        remove_file();
        return;
    }
    if (!r) {
        remove_file();
        logger_->warn("cluster: {} of job {} failed (attempt {}): {}", what, lease.job_id,
                      lease.attempt, r.error().message);
        auto failed = locked([&](store::TaskQueue& q) { return q.fail(lease, r.error().message); });
        if (failed && failed->job_failed)
            logger_->error("cluster: job {} failed: {} failed {} times", lease.job_id, what,
                           lease.attempt);
        return;
    }
    json result = json::object();
    json outcome = r->outcome;
    // A cluster of one has no node to name: its sidecar and job rows show none, as before.
    const bool named = !cluster_of_one(config_);
    if (outcome.is_object() && named) outcome["node"] = node_id_;
    result["outcome"] = outcome;
    if (named) result["node"] = node_id_;
    result["seconds"] = seconds_since(t0);
    result["worker"] = slot;  // which of this node's workers (WORKER in `renderrushctl job`)
    // When it ran, by this node's clock, for every kind of task (a chunk's outcome has its
    // own times; the audio pass's has none).
    result["started_at"] = started_at;
    result["finished_at"] = unix_seconds();
    if (r->file) {
        result["file"] = fs::path(*r->file).filename().string();
        result["bytes"] = r->bytes;
        result["checksum"] = r->checksum.value_or("");
    }
    // The database away (a restart, a partition): keep the file and try again while the lease
    // may still be ours. A completion whose reply was lost is recognised on the next try; once
    // the lease was reaped the answer is a refusal.
    auto done = until_answered(
        [&] {
            return locked([&](store::TaskQueue& q) { return q.complete(lease, result.dump()); });
        },
        fmt::format("{} of job {}", what, lease.job_id), stop);
    if (!done) {
        remove_file();  // the lease expires and the task runs again
        logger_->warn("cluster: gave up recording {} of job {}: {}", what, lease.job_id,
                      done.error().message);
        return;
    }
    if (!done->accepted) {
        remove_file();
        logger_->warn(
            "cluster: {} of job {} finished after its lease was taken over; result discarded", what,
            lease.job_id);
        return;
    }
    logger_->info("cluster: {} of job {} done in {:.2f} s", what, lease.job_id, seconds_since(t0));
    if (done->job_ready) join(lease.job_id);
}

void ClusterWork::join(int64_t job_id) {
    auto fail_job = [&](const std::string& why) {
        logger_->error("cluster: job {}: {}", job_id, why);
        // A joiner whose join was taken over (its node was taken for lost) leaves the job to the
        // node that joins it now: its failure may be that node removing what it had staged.
        auto now = locked([&](store::TaskQueue& q) { return q.job(job_id); });
        if (now && now->joiner.value_or(node_id_) != node_id_) return;
        (void)locked([&](store::TaskQueue& q) { return q.end_job(job_id, "failed", why); });
    };
    auto view = locked([&](store::TaskQueue& q) { return q.job(job_id); });
    auto tasks = locked([&](store::TaskQueue& q) { return q.tasks(job_id); });
    if (!view || !tasks) {
        logger_->error("cluster: cannot read job {} to join it: {}", job_id,
                       (!view ? view.error() : tasks.error()).message);
        return;
    }
    const json first = tasks->empty() ? json::object() : parse_object(tasks->front().payload);
    const json job = first.value("job", parse_object(view->payload));
    auto spec = spec_for(job);
    if (!spec) return fail_job(spec.error().message);
    const int chunks = job.value("chunks", 0);
    worker::PublishSpec pub;
    pub.output = config_.storage.root / job.value("output", std::string());
    pub.profile_name = job.value("profile", std::string());
    pub.stage_only = true;
    pub.frame_pair = true;
    // A farm's job is its queue job; a cluster of one's is the job its operator knows.
    if (!cluster_of_one(config_))
        pub.timings = {{"job_id", job_id}, {"joiner", node_id_}};
    else
        pub.timings = {{"job_id", job.value("owner_job", job_id)}};
    for (const auto& t : *tasks) {
        const json res = parse_object(t.result.value_or("{}"));
        const fs::path file = spec->settings.work_dir / res.value("file", std::string());
        if (t.idx < chunks) {
            pub.chunks.push_back(res.value("outcome", json::object()));
            pub.chunk_files.push_back(file);
        } else {
            pub.audio = res.value("outcome", json::object());
            pub.audio_written = res.contains("file");
            if (pub.audio_written) pub.audio_file = file;
            pub.timings["audio"] = res.value("seconds", 0.0);
        }
        if (t.attempt > 1) {
            if (auto tried = locked([&](store::TaskQueue& q) { return q.attempts(job_id, t.idx); }))
                for (const auto& a : *tried)
                    pub.retried.push_back(
                        {{"task", t.idx < chunks ? "chunk " + std::to_string(t.idx) : "audio"},
                         {"attempt", a.attempt},
                         {"node", a.node},
                         {"error", a.error}});
        }
    }
    if (static_cast<int>(pub.chunks.size()) != chunks)
        return fail_job(
            fmt::format("the queue holds {} of the job's {} chunks", pub.chunks.size(), chunks));
    auto finish = [&](const std::string& sidecar) {
        auto finished = locked([&](store::TaskQueue& q) { return q.finish_job(job_id, sidecar); });
        if (!finished)
            logger_->error("cluster: job {} published but not recorded: {}", job_id,
                           finished.error().message);
        else
            logger_->info("cluster: job {} published {}", job_id, pub.output.string());
    };
    // A joiner before us (lost, its join now ours) may have died with files staged.
    if (const size_t left = pipeline::remove_staged_files(pub.output))
        logger_->warn("cluster: job {}: removed {} files an earlier joiner left staged beside {}",
                      job_id, left, pub.output.string());
    // A joiner before us recorded its output and may have published it before it was lost.
    if (view->output_size && view->output_checksum) {
        const OutputRecord recorded{*view->output_size, *view->output_checksum};
        auto seen = check_published(recorded, pub.output);
        if (!seen) return fail_job(seen.error().message);
        if (seen->state == PublishedCheck::State::broken) return fail_job(seen->message);
        if (seen->state == PublishedCheck::State::matches) {
            logger_->warn(
                "cluster: job {}: {} was already published by an earlier joiner; not "
                "joining again",
                job_id, pub.output.string());
            return finish(seen->sidecar);
        }
        if (seen->state == PublishedCheck::State::sidecar_missing)
            logger_->warn(
                "cluster: job {}: {} was published by an earlier joiner that died before its "
                "sidecar; joining again to put one beside it",
                job_id, pub.output.string());
    }
    std::error_code ec;
    fs::create_directories(pub.output.parent_path(), ec);
    logger_->info("cluster: joining job {} ({} chunks) into {}", job_id, chunks,
                  pub.output.string());
    auto published = worker::run_publish(*spec, pub, std::stop_token{});
    if (!published) return fail_job(published.error().message);
    StagedPublish staged{TempFile::adopt(pub.output, published->staged_output),
                         TempFile::adopt(published->sidecar_path, published->staged_sidecar),
                         {}};
    for (const auto& e : published->staged_extras)
        staged.extras.push_back(TempFile::adopt(e.final_path, e.temp));
    // Recorded before published, so that whoever takes the join over can tell whether it was.
    auto record = [&](const OutputRecord& r) -> Status {
        return until_answered(
            [&] {
                return locked([&](store::TaskQueue& q) {
                    return q.record_output(job_id, r.size, r.checksum);
                });
            },
            fmt::format("the output of job {}", job_id), std::stop_token{});
    };
    auto outcome = record_then_publish(staged, record);
    if (!outcome) return fail_job(outcome.error().message);
    switch (outcome->outcome) {
        case PublishOutcome::fenced_off:
            logger_->warn(
                "cluster: job {}: another node took the join over; nothing published here", job_id);
            return;
        case PublishOutcome::lost_race: {
            // Another publisher linked first: its output stands if it is the one we recorded.
            auto seen = check_published(outcome->record, pub.output);
            if (!seen) return fail_job(seen.error().message);
            if (seen->state == PublishedCheck::State::broken) return fail_job(seen->message);
            if (seen->state != PublishedCheck::State::matches)
                return fail_job(pub.output.string() +
                                (seen->state == PublishedCheck::State::absent
                                     ? " was published and removed at once"
                                     : " lost its sidecar while this node published"));
            logger_->warn("cluster: job {}: {} was published by another joiner first", job_id,
                          pub.output.string());
            return finish(seen->sidecar);
        }
        case PublishOutcome::completed:
            logger_->warn("cluster: job {}: {} completed with its sidecar", job_id,
                          pub.output.string());
            return finish(published->sidecar.dump());
        case PublishOutcome::published:
            return finish(published->sidecar.dump());
    }
}

void ClusterWork::poll_watched() {
    std::map<int64_t, std::function<void(Result<ClusterJobUpdate>)>> watched;
    {
        std::lock_guard lock(mutex_);
        watched = watched_;
    }
    // Jobs no longer watched forget what was read of them.
    std::erase_if(attempts_read_, [&](const auto& kv) { return !watched.count(kv.first); });
    for (auto& [id, callback] : watched) {
        auto update = locked([&, id = id](store::TaskQueue& q) -> Result<ClusterJobUpdate> {
            ClusterJobUpdate u;
            RR_ASSIGN(u.job, q.job(id));
            RR_ASSIGN(u.tasks, q.tasks(id));
            // A task's claims that did not complete are its failed attempts; the list is read
            // only when their number grew, not on every poll.
            auto& read = attempts_read_[id];
            for (const auto& t : u.tasks) {
                const bool holding = t.state == "leased" || t.state == "done";
                const auto failed = static_cast<size_t>(std::max(0, t.attempt - (holding ? 1 : 0)));
                if (failed <= read[t.idx]) continue;
                RR_ASSIGN(auto tried, q.attempts(id, t.idx));
                read[t.idx] = tried.size();
                u.failed_attempts[t.idx] = std::move(tried);
            }
            return u;
        });
        callback(std::move(update));
    }
}

}  // namespace rr::service
