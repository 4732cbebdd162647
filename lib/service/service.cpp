#include "service/service.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <csignal>
#include <cstring>

#include "core/free_space.h"
#include "core/version.h"
#include "hw/probe.h"
#include "media/container.h"
#include "pipeline/job.h"
#include "pipeline/profile_check.h"
#include "service/control_api.h"
#include "service/layout.h"
#include "service/metrics_file.h"
#include "service/recovery.h"
#include "web/auth.h"
#include "worker/zygote.h"

namespace rr::service {

std::map<std::string, std::string> disabled_profiles(const Config& config) {
    std::map<std::string, std::string> disabled;
    for (const auto& [name, profile] : config.profiles) {
        // `container: webm` with h264 parses, but no output could hold what it encodes.
        if (Status st = media::check_container_codecs(profile.container, profile.video.codec,
                                                      profile.audio.codec);
            !st) {
            disabled[name] = st.error().message;
            continue;
        }
        auto problems = pipeline::check_profile_stages(profile, config.paths.models_dir);
        if (!problems.empty()) disabled[name] = problems.front().message;
    }
    return disabled;
}

void Service::apply_disabled_profiles() {
    ctx_.disabled_profiles = disabled_profiles(ctx_.config);
    for (const auto& [name, why] : ctx_.disabled_profiles)
        ctx_.logger->warn("profile {} disabled, its jobs will fail: {}", name, why);
}

namespace {

NodeIdentity node_identity(const pipeline::Scheduler& scheduler) {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    return NodeIdentity{host, kVersion, static_cast<int>(::getpid()),
                        static_cast<int>(scheduler.size())};
}

}  // namespace

Result<std::unique_ptr<Service>> Service::create(Config config, std::filesystem::path config_path,
                                                 LoggerPtr logger, std::string daemon_fault) {
    std::unique_ptr<Service> s(new Service());
    // Before any input is touched: the fork server every worker comes from (worker/zygote.h).
    if (auto zygote = worker::Zygote::start("/proc/self/exe", logger)) {
        s->zygote_ = std::move(*zygote);
    } else {
        logger->warn("{}; workers are started with posix_spawn (about 0.3 s of CPU more each)",
                     zygote.error().message);
    }
    s->loop_ = std::make_unique<uv::Loop>();
    std::error_code ec;
    std::filesystem::create_directories(work_root(config), ec);
    if (ec)
        return make_error(Errc::io,
                          "cannot create " + work_root(config).string() + ": " + ec.message());
    RR_ASSIGN(auto store, store::JobStore::open(database_path(config)));
    s->store_ = std::make_unique<store::JobStore>(std::move(store));
    s->scheduler_ =
        std::make_unique<pipeline::Scheduler>(pipeline::resolve_workers(config.workers));
    // Without a `cluster:` section the node is a cluster of one on its own SQLite queue: one
    // code path runs jobs on one node and on N.
    const Config queue_config = cluster_of_one(config) ? with_local_cluster(config) : config;
    if (cluster_of_one(config)) {
        // The queue file is this process's alone: a second daemon on the same state folder
        // must not take the node id over (and fence the first) before its control socket is
        // refused, so it is refused here first.
        const auto lock_path = config.paths.state_dir / "local-queue.lock";
        watch::Fd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
        if (!lock.valid())
            return make_error(Errc::io,
                              "cannot open " + lock_path.string() + ": " + std::strerror(errno));
        if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0)
            return make_error(Errc::conflict, "another renderrushd uses the state folder " +
                                                  config.paths.state_dir.string());
        s->queue_lock_ = std::move(lock);
    }
    {
        pipeline::Scheduler* scheduler = s->scheduler_.get();
        RR_ASSIGN(s->cluster_, ClusterNode::start(
                                   queue_config, node_identity(*scheduler),
                                   [scheduler] { return scheduler->busy(); }, logger));
    }
    RR_ASSIGN(s->poster_, uv::Poster::create(*s->loop_));
    s->ctx_.config = std::move(config);
    s->ctx_.config_path = std::move(config_path);
    s->ctx_.loop = s->loop_.get();
    s->ctx_.store = s->store_.get();
    s->ctx_.scheduler = s->scheduler_.get();
    s->ctx_.poster = s->poster_.get();
    s->ctx_.logger = std::move(logger);
    s->ctx_.daemon_fault = std::move(daemon_fault);
    s->apply_disabled_profiles();
    s->ctx_.zygote = s->zygote_.get();
    RR_ASSIGN(s->cluster_work_, ClusterWork::start(queue_config, *s->scheduler_, s->zygote_.get(),
                                                   *s->cluster_, s->ctx_.logger));
    ClusterWork* work = s->cluster_work_.get();
    s->cluster_->set_lease_listener(
        [work](const std::vector<store::Lease>& held, SteadyClock::time_point asked) {
            work->on_renewed(held, asked);
        });
    s->cluster_->set_progress_source([work] { return work->progress_report(); });
    s->ctx_.cluster = work;
    Service* self = s.get();
    s->ctx_.emit = [self](const control::Event& ev) { self->on_event(ev); };
    s->hardware_ = hw::probe();
    s->log_hardware();
    RR_ASSIGN(s->intake_, Intake::create(s->ctx_, [self] { self->schedule_jobs(); }));
    s->cluster_work_->set_orphan_handler([self](ClusterWork::Orphan o) {
        self->ctx_.poster->post([self, o = std::move(o)] { self->adopt_orphan(o); });
    });
    RR_TRY(register_commands(
        s->registry_,
        ControlApi{s->ctx_.config, s->ctx_.config_path, s->ctx_.disabled_profiles, *s->store_,
                   s->active_, *s->intake_, *s->scheduler_, s->ctx_.emit, *s, s->shown_cluster()}));
    control::ServerOptions opts;
    opts.socket_path = s->ctx_.config.paths.runtime_dir / "control.sock";
    opts.group = s->ctx_.config.control.group;
    opts.admin_group = s->ctx_.config.control.admin_group;
    opts.max_connections = s->ctx_.config.control.max_connections;
    opts.idle_timeout_seconds = s->ctx_.config.control.idle_timeout_seconds;
    opts.max_subscriber_backlog =
        static_cast<size_t>(s->ctx_.config.control.max_subscriber_backlog_kb) * 1024;
    opts.inherited_fd = inherited_control_socket();
    RR_ASSIGN(s->server_, control::Server::start(*s->loop_, opts, s->registry_, s->ctx_.logger));
    RR_TRY(s->start_web());
    RR_ASSIGN(s->watchdog_timer_,
              uv::Timer::create(*s->loop_, [self] { self->notifier_.watchdog(); }));
    RR_ASSIGN(s->metrics_timer_,
              uv::Timer::create(*s->loop_, [self] { self->write_metrics_file(); }));
    RR_ASSIGN(s->sigterm_,
              uv::Signal::create(*s->loop_, SIGTERM, [self] { self->begin_shutdown(); }));
    RR_ASSIGN(s->sigint_,
              uv::Signal::create(*s->loop_, SIGINT, [self] { self->begin_shutdown(); }));
    RR_ASSIGN(s->sighup_, uv::Signal::create(*s->loop_, SIGHUP, [self] { (void)self->reload(); }));
    RR_ASSIGN(s->progress_timer_, uv::Timer::create(*s->loop_, [self] {
                  for (auto& [id, runner] : self->active_) runner->report_progress();
                  self->update_status();
              }));
    RR_ASSIGN(s->disk_timer_, uv::Timer::create(*s->loop_, [self] { self->check_disk(); }));
    RR_ASSIGN(s->shutdown_timer_,
              uv::Timer::create(*s->loop_, [self] { self->finish_shutdown(); }));
    RR_ASSIGN(s->drain_timer_, uv::Timer::create(*s->loop_, [self] {
                  if (self->scheduler_->busy() == 0) self->finish_shutdown();
              }));
    return s;
}

void Service::adopt_orphan(const ClusterWork::Orphan& o) {
    // The file runs as a local job of this node; its prepare opens the queue job again and,
    // the owner being lost, takes the preparation over.
    const Watch* watch = watch_for(ctx_.config, o.input);
    if (!watch) {
        ctx_.logger->info(
            "cluster: job {} ({}) was left {} by lost node {}, but no watch of this node holds "
            "it; leaving it to another node",
            o.job_id, o.input.string(), o.state == "preparing" ? "preparing" : "undisposed",
            o.owner);
        return;
    }
    auto job = intake_->submit(o.input, watch, o.profile, static_cast<unsigned>(::getuid()));
    if (!job) {
        ctx_.logger->info("cluster: job {} ({}) left {} by lost node {}: {}", o.job_id,
                          o.input.string(), o.state, o.owner, job.error().message);
        return;
    }
    ctx_.logger->info("job {}: takes over the {} of cluster job {} from lost node {}", job->id,
                      o.state == "preparing" ? "preparation" : "disposition", o.job_id, o.owner);
}

void Service::stop_cluster_work() {
    if (!cluster_work_) return;
    cluster_work_->stop();
    if (cluster_) {
        cluster_->set_lease_listener({});
        cluster_->set_progress_source({});
    }
}

Service::~Service() {
    // Their threads read the scheduler; stopping the node also signs it off.
    stop_cluster_work();
    cluster_.reset();
    // Workers first: they post into the loop and use the store through their jobs.
    if (scheduler_) scheduler_->shutdown(std::chrono::milliseconds(0));
    cluster_work_.reset();
    active_.clear();
    web_.reset();
    server_.reset();
}

Status Service::start_web() {
    const auto& cfg = ctx_.config;
    if (!cfg.web.enabled) return {};
    web::ServerOptions opts;
    RR_ASSIGN(opts.token, web::load_or_create_token(cfg.web.token_file));
    opts.listen = cfg.web.listen;
    opts.socket_path = cfg.paths.runtime_dir / "web.sock";
    opts.group = cfg.control.group;
    opts.admin_group = cfg.control.admin_group;
    opts.root = cfg.web.root;
    opts.max_connections = cfg.web.max_connections;
    opts.max_subscriber_backlog = static_cast<size_t>(cfg.control.max_subscriber_backlog_kb) * 1024;
    RR_ASSIGN(web_, web::Server::start(*loop_, opts, registry_, ctx_.logger));
    ctx_.logger->info("web dashboard on {}{}",
                      opts.listen.empty() ? "" : "http://" + opts.listen + " and ",
                      opts.socket_path.string());
    return {};
}

double Service::uptime_seconds() const {
    return seconds_since(started_);
}

// Once per start, at info: what the encoders can use. Each job's own encoder choice is logged
// at debug, so a machine without a GPU does not log the same misses for every job.
void Service::log_hardware() const {
    const auto& hw = hardware_;
    bool vpl_hw = false;
    for (const auto& impl : hw.value("onevpl", nlohmann::json::array()))
        vpl_hw = vpl_hw || impl.value("type", "") == "hardware";
    const size_t vaapi = hw.value("vaapi", nlohmann::json::array()).size();
    const bool cuda = hw.contains("nvidia") && hw["nvidia"].value("cuda", false);
    ctx_.logger->info("hardware: {} cores, tier {}; QSV {}, VAAPI {}, NVENC {}{}",
                      hw.value("cores", 0), hw.value("tier", std::string("?")),
                      vpl_hw ? "available" : "unavailable",
                      vaapi ? std::to_string(vaapi) + " device(s)" : std::string("unavailable"),
                      cuda ? "available" : "unavailable",
                      vpl_hw || vaapi || cuda ? "" : " (hwaccel auto encodes in software)");
}

void Service::on_event(const control::Event& event) {
    metrics_.observe(event);
    throughput_.observe(event, SteadyClock::now());
    if (server_) server_->broadcast(event);
    if (web_) web_->broadcast(event);
}

void Service::update_status() {
    if (stopping_) return;
    if (auto* cluster = shown_cluster()) {
        const auto snap = cluster->snapshot();
        if (snap.silent && !silence_logged_)
            ctx_.logger->warn("cluster: {}; not claiming", snap.db_error);
        silence_logged_ = snap.silent;
    }
    notifier_.status(status_text());
}

std::string Service::status_text() {
    const auto queued = store_->count_in(store::JobState::queued);
    std::string text = processing_paused_ ? "paused, " : "";
    text += std::to_string(active_.size()) + " running, " + std::to_string(queued ? *queued : 0) +
            " queued";
    if (intake_->low_disk()) text += ", intake paused (low disk space)";
    if (auto* cluster = shown_cluster()) {
        const auto snap = cluster->snapshot();
        text += ", node " + snap.node_id;
        if (!snap.claiming()) text += " not claiming (" + snap.not_claiming_reason() + ")";
    }
    return text;
}

std::map<std::string, int64_t> Service::disk_free() {
    std::map<std::string, int64_t> free;
    std::vector<std::filesystem::path> dirs = {ctx_.config.paths.state_dir};
    for (const auto& w : ctx_.config.watches) dirs.push_back(w.output);
    // Every node's chunk intermediates (the node thread also stops claiming below the mark).
    if (ctx_.config.cluster) dirs.push_back(ctx_.config.cluster->work_dir);
    for (const auto& d : dirs)
        if (auto bytes = free_bytes(d)) free[d.string()] = *bytes;
    return free;
}

std::string Service::metrics_text() {
    GaugeReadings g;
    if (auto counts = store_->count_by_state()) g.jobs_by_state = *counts;
    g.queue_depth = g.jobs_by_state["queued"];
    g.workers_busy = scheduler_->busy();
    g.workers_total = scheduler_->size();
    g.intake_paused = intake_->paused();
    g.processing_paused = processing_paused_;
    g.low_disk = intake_->low_disk();
    g.disk_free_bytes = disk_free();
    g.uptime_seconds = uptime_seconds();
    g.control_connections = server_ ? static_cast<int>(server_->connections()) : 0;
    if (auto* cluster = shown_cluster()) {
        const auto snap = cluster->snapshot();
        GaugeReadings::Cluster c;
        c.node_id = snap.node_id;
        c.connected = snap.connected;
        c.claiming = snap.claiming();
        for (const auto& n : snap.nodes) {
            c.nodes_active += n.state == "active";
            c.nodes_draining += n.state == "draining";
            c.nodes_lost += n.state == "lost";
        }
        c.leases = snap.leases;
        c.queue_available = snap.depth.available;
        c.queue_leased = snap.depth.leased;
        g.cluster = c;
    }
    return metrics_.render(g);
}

void Service::write_metrics_file() {
    const auto& path = ctx_.config.metrics.textfile_path;
    if (path.empty()) return;
    // node_exporter must never read a half-written file.
    if (Status st = write_metrics_textfile(path, metrics_text()); !st) {
        ctx_.logger->warn("metrics: cannot write {}: {}", path.string(), st.error().message);
    }
}

int Service::run() {
    auto resumed =
        service::recover(ctx_.config, *store_, ctx_.logger, take_clean_stop(ctx_.config));
    if (!resumed) {
        ctx_.logger->error("recovery failed: {}", resumed.error().message);
        return 1;
    }
    if (Status st = intake_->configure(); !st) {
        ctx_.logger->error("{}", st.error().message);
        return 1;
    }
    progress_timer_.start(1000, 1000);
    check_disk();
    disk_timer_.start(5000, 5000);
    if (const auto& textfile = ctx_.config.metrics.textfile_path;
        !textfile.empty() && !std::filesystem::is_directory(textfile.parent_path())) {
        // The default names Debian's node exporter folder; without node exporter there is
        // nobody to read the file, which is not worth a warning every interval.
        ctx_.logger->info("metrics: {} does not exist, not writing {} (metrics.textfile_path)",
                          textfile.parent_path().string(), textfile.filename().string());
    } else if (!textfile.empty()) {
        const auto every = static_cast<uint64_t>(ctx_.config.metrics.interval_seconds * 1000);
        metrics_timer_.start(0, every);
    }
    // The loop pings the watchdog itself: a hung loop stops the pings and systemd restarts us.
    if (auto period = notifier_.watchdog_period_ms()) watchdog_timer_.start(0, *period);
    ctx_.logger->info(
        "renderrushd {} ready: {} watches, {} workers, database {}, control socket {}{}", kVersion,
        ctx_.config.watches.size(), scheduler_->size(), database_path(ctx_.config).string(),
        server_->socket_path().string(),
        shown_cluster() ? ", cluster node " + cluster_->snapshot().node_id : std::string());
    schedule_jobs();
    notifier_.ready(status_text());
    loop_->run();
    ctx_.logger->info("renderrushd stopped");
    return 0;
}

void Service::schedule_jobs() {
    if (stopping_ || processing_paused_) return;
    while (static_cast<int>(active_.size()) < ctx_.config.max_concurrent_jobs) {
        std::vector<int64_t> busy;
        for (const auto& [id, r] : active_) busy.push_back(id);
        auto next = store_->next_queued(busy);
        if (!next) {
            ctx_.logger->error("scheduler: job database: {}", next.error().message);
            return;
        }
        if (!*next) return;
        auto runner = std::make_shared<JobRunner>(ctx_, std::move(**next),
                                                  [this](int64_t id) { on_job_finished(id); });
        const int64_t id = runner->id();
        active_[id] = runner;
        runner->start();
    }
}

void Service::on_job_finished(int64_t id) {
    // Deferred: the runner is still on the call stack.
    poster_->post([this, id] {
        active_.erase(id);
        schedule_jobs();
    });
}

void Service::set_paused(bool paused) {
    if (paused == processing_paused_) return;
    processing_paused_ = paused;
    intake_->set_paused(paused);
    scheduler_->set_paused(paused);
    ctx_.logger->info(paused ? "paused: no new files are taken and no new work starts"
                             : "resumed: taking files and processing again");
    if (!paused) schedule_jobs();
    update_status();
}

Status Service::reload() {
    ctx_.logger->info("reloading {}", ctx_.config_path.string());
    notifier_.reloading();
    auto cfg = load_config_file(ctx_.config_path);
    Status valid = cfg ? Status() : Status(cfg.error());
    if (!valid) {
        ctx_.logger->error("reload rejected, keeping the running configuration: {}",
                           valid.error().message);
        notifier_.ready("reload rejected; running configuration kept");
        return valid;
    }
    if (pipeline::resolve_workers(cfg->workers) != scheduler_->size()) {
        ctx_.logger->warn("reload: a new worker count applies after a restart");
    }
    ctx_.config = std::move(cfg).value();
    if (cluster_) cluster_->set_min_free_mb(ctx_.config.min_free_mb);
    check_disk();  // against the new min_free_mb at once
    apply_disabled_profiles();
    if (Status st = intake_->configure(); !st) ctx_.logger->error("reload: {}", st.error().message);
    ctx_.logger->info("configuration reloaded: {} watches, {} profiles", ctx_.config.watches.size(),
                      ctx_.config.profiles.size());
    schedule_jobs();
    notifier_.ready("configuration reloaded");
    update_status();
    return {};
}

void Service::check_disk() {
    std::string low;
    for (const auto& [dir, bytes] : disk_free()) {
        const int64_t free_mb = bytes / (1024 * 1024);
        if (free_mb < ctx_.config.min_free_mb) {
            low = dir + " has " + std::to_string(free_mb) + " MB free";
            break;
        }
    }
    const bool was_low = intake_->low_disk();
    intake_->set_low_disk(!low.empty());
    if (!low.empty() && !was_low) {
        ctx_.logger->warn("intake paused: {} (min_free_mb {})", low, ctx_.config.min_free_mb);
        update_status();
    } else if (low.empty() && was_low) {
        ctx_.logger->info("intake resumed: free space is above min_free_mb again");
        intake_->scan_all();
        update_status();
    }
}

void Service::begin_shutdown() {
    if (stopping_) {
        ctx_.logger->warn("second stop request: interrupting running work now");
        finish_shutdown();
        return;
    }
    stopping_ = true;
    notifier_.stopping("stopping: finishing running chunks");
    ctx_.logger->info("stopping: letting running chunks finish for up to {} s",
                      ctx_.config.stop_timeout_seconds);
    intake_->set_paused(true);
    scheduler_->set_paused(true);
    for (auto& [id, runner] : active_) runner->stop_for_shutdown();
    // No new claims; running cluster tasks stop and their leases are released below.
    stop_cluster_work();
    shutdown_timer_.start(static_cast<uint64_t>(ctx_.config.stop_timeout_seconds * 1000), 0);
    drain_timer_.start(0, 100);
}

void Service::finish_shutdown() {
    shutdown_timer_.stop();
    drain_timer_.stop();
    // Interrupt what is still running and wait for the workers; their last results are queued
    // on the poster and recorded below (interrupted chunks stay pending for the next start).
    if (!scheduler_->shutdown(std::chrono::milliseconds(0)))
        ctx_.logger->info("stopped running work");
    for (int i = 0; i < 10; ++i) uv_run(loop_->get(), UV_RUN_NOWAIT);
    active_.clear();
    metrics_timer_.stop();
    if (const auto& path = ctx_.config.metrics.textfile_path; !path.empty()) {
        if (Status st = remove_metrics_textfile(path); !st)
            ctx_.logger->warn("metrics: cannot remove {}: {}", path.string(), st.error().message);
    }
    web_.reset();
    mark_clean_stop(ctx_.config, ctx_.logger);
    server_.reset();  // no more connections; the socket file goes away
    // Leases go back to the queue at once and the node row says it is gone.
    stop_cluster_work();
    cluster_work_.reset();
    cluster_.reset();
    loop_->stop();
}

}  // namespace rr::service
