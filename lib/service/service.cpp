#include "service/service.h"

#include <sys/statvfs.h>

#include <csignal>

#include "core/atomic_file.h"
#include "core/version.h"
#include "hw/probe.h"
#include "pipeline/job.h"
#include "pipeline/profile_check.h"
#include "service/layout.h"
#include "service/recovery.h"

namespace rr::service {

std::map<std::string, std::string> disabled_profiles(const Config& config) {
    std::map<std::string, std::string> disabled;
    for (const auto& [name, profile] : config.profiles) {
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

Result<std::unique_ptr<Service>> Service::create(Config config, std::filesystem::path config_path,
                                                 LoggerPtr logger) {
    std::unique_ptr<Service> s(new Service());
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
    RR_ASSIGN(s->poster_, uv::Poster::create(*s->loop_));
    s->ctx_.config = std::move(config);
    s->ctx_.config_path = std::move(config_path);
    s->ctx_.loop = s->loop_.get();
    s->ctx_.store = s->store_.get();
    s->ctx_.scheduler = s->scheduler_.get();
    s->ctx_.poster = s->poster_.get();
    s->ctx_.logger = std::move(logger);
    s->apply_disabled_profiles();
    Service* self = s.get();
    s->ctx_.emit = [self](const nlohmann::json& ev) { self->on_event(ev); };
    s->hardware_ = hw::probe();
    RR_ASSIGN(s->intake_, Intake::create(s->ctx_, [self] { self->schedule_jobs(); }));
    register_commands(s->registry_, *s);
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

Service::~Service() {
    // Workers first: they post into the loop and use the store through their jobs.
    if (scheduler_) scheduler_->shutdown(std::chrono::milliseconds(0));
    active_.clear();
    server_.reset();
}

std::shared_ptr<JobRunner> Service::runner(int64_t id) const {
    auto it = active_.find(id);
    return it == active_.end() ? nullptr : it->second;
}

double Service::uptime_seconds() const {
    return seconds_since(started_);
}

void Service::on_event(const nlohmann::json& event) {
    metrics_.observe(event);
    if (server_) server_->broadcast(event);
}

void Service::update_status() {
    if (stopping_) return;
    notifier_.status(status_text());
}

std::string Service::status_text() {
    const auto queued = store_->count_in(store::JobState::queued);
    std::string text = processing_paused_ ? "paused, " : "";
    text += std::to_string(active_.size()) + " running, " + std::to_string(queued ? *queued : 0) +
            " queued";
    if (intake_->low_disk()) text += ", intake paused (low disk space)";
    return text;
}

std::map<std::string, int64_t> Service::disk_free() {
    std::map<std::string, int64_t> free;
    std::vector<std::filesystem::path> dirs = {ctx_.config.paths.state_dir};
    for (const auto& w : ctx_.config.watches) dirs.push_back(w.output);
    for (const auto& d : dirs) {
        struct statvfs st {};
        if (::statvfs(d.c_str(), &st) == 0)
            free[d.string()] = static_cast<int64_t>(st.f_bavail * st.f_frsize);
    }
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
    return metrics_.render(g);
}

void Service::write_metrics_file() {
    const auto& path = ctx_.config.metrics.textfile_path;
    if (path.empty()) return;
    // node_exporter must never read a half-written file.
    if (Status st = write_file_atomic(path, metrics_text()); !st) {
        ctx_.logger->warn("metrics: cannot write {}: {}", path.string(), st.error().message);
    }
}

int Service::run() {
    auto resumed = service::recover(ctx_.config, *store_, ctx_.logger);
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
    if (!ctx_.config.metrics.textfile_path.empty()) {
        const auto every = static_cast<uint64_t>(ctx_.config.metrics.interval_seconds * 1000);
        metrics_timer_.start(0, every);
    }
    // The loop pings the watchdog itself: a hung loop stops the pings and systemd restarts us.
    if (auto period = notifier_.watchdog_period_ms()) watchdog_timer_.start(0, *period);
    ctx_.logger->info(
        "renderrushd {} ready: {} watches, {} workers, database {}, control socket {}", kVersion,
        ctx_.config.watches.size(), scheduler_->size(), database_path(ctx_.config).string(),
        server_->socket_path().string());
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
    write_metrics_file();
    server_.reset();  // no more connections; the socket file goes away
    loop_->stop();
}

}  // namespace rr::service
