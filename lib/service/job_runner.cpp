#include "service/job_runner.h"

#include <fmt/format.h>

#include <chrono>
#include <thread>

#include "media/checksum.h"
#include "pipeline/sidecar.h"
#include "service/layout.h"
#include "watch/disposition.h"

namespace rr::service {
namespace {

using store::JobState;
using store::TaskRef;

}  // namespace

JobRunner::JobRunner(Context& ctx, store::JobRow row, std::function<void(int64_t)> finished)
    : ctx_(ctx),
      row_(std::move(row)),
      finished_(std::move(finished)),
      life_(*this, ctx_.config.max_attempts) {}

void JobRunner::log_store(const Status& st) const {
    if (!st) ctx_.logger->error("job {}: job database: {}", row_.id, st.error().message);
}

void JobRunner::warn(const std::string& message) {
    ctx_.logger->warn("job {}: {}", row_.id, message);
}

void JobRunner::cancel_tasks() {
    ctx_.scheduler->cancel(row_.id);
}

void JobRunner::set_state(JobState state, const std::optional<std::string>& error) {
    row_.state = state;
    log_store(ctx_.store->set_state(row_.id, state, error));
    const std::string text = error ? std::string(store::to_string(state)) + ": " + *error
                                   : std::string(store::to_string(state));
    log_store(ctx_.store->add_event(row_.id, "state", text));
    control::JobEvent ev{.id = row_.id, .state = state, .input = row_.input_path, .error = error};
    if (store::published(state) && done_totals_) {
        ev.output = output_.string();
        ev.totals = done_totals_;
    }
    ctx_.emit(ev);
}

void JobRunner::start() {
    const Config& cfg = ctx_.config;
    work_dir_ = job_work_dir(cfg, row_.id);
    auto profile = cfg.profiles.find(row_.profile);
    if (profile == cfg.profiles.end()) {
        life_.fail(make_error(Errc::config, "no profile named '" + row_.profile + "' in " +
                                                ctx_.config_path.string()));
        return;
    }
    if (auto off = ctx_.disabled_profiles.find(row_.profile); off != ctx_.disabled_profiles.end()) {
        life_.fail(
            make_error(Errc::config, "profile '" + row_.profile + "' is disabled: " + off->second));
        return;
    }
    settings_.profile = profile->second;
    settings_.workers = pipeline::resolve_workers(cfg.workers);
    settings_.chunk_seconds = cfg.chunk_seconds;
    settings_.limits = cfg.limits;
    settings_.models_dir = cfg.paths.models_dir;

    // The output name is chosen once and kept, so a resumed job republishes to the same place.
    if (row_.output_path) {
        output_ = *row_.output_path;
    } else {
        const Watch* watch = row_.watch_path ? watch_by_path(cfg, *row_.watch_path) : nullptr;
        if (!watch) watch = watch_for(cfg, row_.source_path);
        if (!watch) {
            life_.fail(
                make_error(Errc::config, "no watch or output folder for " + row_.source_path));
            return;
        }
        output_ =
            watch::unused_path(output_for(*watch, row_.source_path, settings_.profile.container));
        log_store(ctx_.store->set_output_path(row_.id, output_.string()));
    }
    // Every job goes through the queue, so every node must find its input and output under
    // storage.root (a cluster of one's root is /). The config check refuses watches outside
    // it; a file submitted or reprocessed from elsewhere is refused here.
    auto files = ctx_.cluster->files_for(row_.input_path, output_, row_.id);
    if (!files) {
        life_.fail(std::move(files).error());
        return;
    }
    files_ = std::move(*files);
    work_dir_ = ctx_.cluster->work_dir(*files_);
    settings_.work_dir = work_dir_;
    // Every active node takes this job's chunks: a short file is cut for all of them.
    settings_.plan_workers = ctx_.cluster->farm_workers();
    auto spec = std::make_shared<worker::JobSpec>();
    spec->input = row_.input_path;
    spec->settings = settings_;
    spec->zygote = ctx_.zygote;
    spec->log_level = spdlog::level::to_string_view(ctx_.logger->level()).data();
    spec_ = std::move(spec);
    // Poison protection: a file that keeps taking the daemon down is not started again.
    if (row_.interruptions >= ctx_.config.max_attempts) {
        life_.fail(
            make_error(Errc::media, "interrupted " + std::to_string(row_.interruptions) +
                                        " times (the daemon died while it ran, with no chunk "
                                        "finished in between); not started again"));
        return;
    }
    log_store(ctx_.store->start_attempt(row_.id));
    ctx_.scheduler->add_job(row_.id, row_.priority);
    ctx_.logger->info("job {}: {} (profile {}) -> {}", row_.id, row_.input_path, row_.profile,
                      output_.string());

    // Published before a crash: only the source's disposition was left to do.
    std::error_code ec;
    if (row_.sidecar && std::filesystem::exists(output_, ec)) {
        ctx_.logger->info("job {}: output was already published; finishing", row_.id);
        life_.resume_published();
        return;
    }
    life_.start();
}

void JobRunner::submit_prepare() {
    ctx_.scheduler->submit(
        row_.id, [this_ = weak_from_this(), poster = ctx_.poster, spec = spec_,
                  before = hooks_for(source_watch(), &settings_.profile, HookKind::before),
                  values = hook_values("queued"), cluster = ctx_.cluster, files = files_,
                  profile = row_.profile, priority = row_.priority, size = row_.size,
                  mtime_ns = row_.mtime_ns, rerun = row_.rerun](int, std::stop_token stop) {
            // The operator's checks (a virus scan) come before anything reads the file.
            std::vector<HookRun> hooks = run_hooks(before, values, stop, true);
            // The queue job this node owns, known even when preparing fails afterwards: the
            // failure then ends it in the queue too instead of leaving it 'preparing'.
            int64_t owned = 0;
            auto prepare = [&]() -> Result<Prepared> {
                if (!hooks.empty() && !hooks.back().ok()) {
                    const auto& h = hooks.back();
                    if (stop.stop_requested()) return make_error(Errc::cancelled, "cancelled");
                    std::string why = h.timed_out ? "timed out" : h.first_line();
                    if (why.empty()) why = "exit " + std::to_string(h.exit_code);
                    return make_error(Errc::invalid_argument,
                                      "before hook " + h.argv.front() + ": " + why);
                }
                Prepared p;
                {
                    std::error_code gone;
                    if (!std::filesystem::exists(spec->input, gone)) {
                        // Gone since this job was made: a node that adopted the queue job while
                        // this one was lost may have disposed of it. Find who has it; never
                        // make a queue job for a file that is not there.
                        RR_ASSIGN(auto found,
                                  cluster->find_job(*files, source_version_key(size, mtime_ns)));
                        if (found && found->owner != cluster->node_id()) {
                            p.queue_job = found->id;
                            p.elsewhere = found->owner;
                            return p;
                        }
                    }
                    // One job per version of a file, whichever node's watcher saw it first.
                    RR_ASSIGN(const std::string key, source_version_key(spec->input));
                    RR_ASSIGN(auto opened, cluster->open_job(*files, key, profile, priority));
                    // Run again on request (`retry`, `reprocess`): the ended job stays in the
                    // queue under a retired key and this run gets a job of its own (an ended job
                    // not yet disposed of is a lost owner's, waiting for adoption, and is not
                    // retired). Without the request an ended job of this node's is one whose
                    // disposition a restart cut short: it is followed to its end again.
                    if (!opened.created && rerun && store::queue_job_ended(opened.state)) {
                        RR_ASSIGN(const bool retired, cluster->retire_job(opened.id));
                        if (retired) {
                            RR_ASSIGN(opened, cluster->open_job(*files, key, profile, priority));
                        }
                    }
                    p.queue_job = opened.id;
                    if (!opened.created && opened.owner != cluster->node_id()) {
                        p.elsewhere = opened.owner;
                        return p;
                    }
                    owned = opened.id;
                    if (!opened.created && opened.state != "preparing") {
                        p.attached = true;  // planned before a restart; its tasks are queued
                        return p;
                    }
                }
                const auto& work = spec->settings.work_dir;
                std::error_code ec;
                std::filesystem::create_directories(work, ec);
                if (ec)
                    return make_error(Errc::io,
                                      "cannot create " + work.string() + ": " + ec.message());
                RR_ASSIGN(p.plan, worker::run_prepare(*spec, stop));
                // The queue job's tasks are queued later (submit_queue_step), once on_prepared
                // has checked the job database for a duplicate.
                return p;
            };
            Result<Prepared> r = prepare();
            poster->post([this_, r = std::move(r), hooks = std::move(hooks), owned]() mutable {
                if (auto self = this_.lock()) {
                    self->record_hooks(hooks);
                    if (!r) self->queue_job_ = owned;
                    self->on_prepared(std::move(r));
                }
            });
        });
}

const Watch* JobRunner::source_watch() const {
    return row_.watch_path ? watch_by_path(ctx_.config, *row_.watch_path) : nullptr;
}

std::map<std::string, std::string> JobRunner::hook_values(std::string_view state) const {
    return {
        {"input", row_.input_path},
        {"output", output_.string()},
        {"sidecar", output_.empty() ? std::string() : pipeline::sidecar_path_for(output_).string()},
        {"job_id", std::to_string(row_.id)},
        {"state", std::string(state)}};
}

void JobRunner::record_hooks(const std::vector<HookRun>& runs) {
    for (const auto& h : runs) {
        const std::string text = h.summary();
        if (h.ok())
            ctx_.logger->info("job {}: hook {}", row_.id, text);
        else
            ctx_.logger->warn("job {}: hook {}", row_.id, text);
        log_store(ctx_.store->add_event(row_.id, "hook", text));
    }
}

std::optional<int64_t> JobRunner::earlier_result(const std::string& checksum) {
    auto same = ctx_.store->find_by_content(checksum, row_.profile, row_.id);
    if (!same) {
        ctx_.logger->error("job {}: job database: {}", row_.id, same.error().message);
        return std::nullopt;
    }
    for (int64_t id : *same) {
        auto earlier = ctx_.store->job(id);
        if (!earlier || !*earlier) continue;
        const auto& e = **earlier;
        // A job still going will publish; a published one counts while its output exists (an
        // operator who deleted it wants the file made again).
        if (!store::published(e.state)) return id;
        std::error_code ec;
        if (e.output_path && std::filesystem::exists(*e.output_path, ec)) return id;
        ctx_.logger->info(
            "job {}: same content as job {}, whose output {} is gone; processing again", row_.id,
            id, e.output_path.value_or("(none)"));
    }
    return std::nullopt;
}

void JobRunner::on_prepared(Result<Prepared> r) {
    if (life_.step() != JobLifecycle::Step::probing) return;
    if (!r) {
        if (r.error().code == Errc::cancelled && life_.shutting_down()) return;
        life_.prepare_failed(r.error(), note_whole_file_failure("preparing", r.error()));
        return;
    }
    queue_job_ = r->queue_job;
    if (!r->elsewhere.empty()) {
        ctx_.logger->info("job {}: {} is cluster job {}, owned by node {}; not processed here",
                          row_.id, row_.input_path, queue_job_, r->elsewhere);
        queue_job_ = 0;  // not ours to end
        life_.elsewhere("processed by cluster node " + r->elsewhere + " (cluster job " +
                        std::to_string(r->queue_job) + ")");
        return;
    }
    if (row_.rerun) {
        // This run's queue job is open: from here on a restart resumes it.
        row_.rerun = false;
        log_store(ctx_.store->clear_rerun(row_.id));
    }
    if (r->attached) {
        ctx_.logger->info("job {}: following cluster job {} planned before the restart", row_.id,
                          queue_job_);
        life_.attached();
        return;
    }
    plan_ = std::move(r->plan);
    const auto& plan = plan_;
    log_store(ctx_.store->set_probed(row_.id, plan.checksum, plan.frames,
                                     static_cast<int64_t>(plan.chunks.size())));
    row_.checksum = plan.checksum;
    if (plan.interlace.is_object() && plan.interlace.value("action", "none") != "none")
        log_store(ctx_.store->add_event(row_.id, "interlace", plan.interlace.dump()));
    // This node's job database first (everything it made, kept beyond the queue's pruning);
    // then, for a queue job, the queue (every node's jobs; submit_queue_step), whose record
    // also closes the race of two owners planning the same content at once.
    if (ctx_.config.dedupe && !row_.reprocess_of) {
        if (auto same = earlier_result(plan.checksum)) {
            // A cluster job's queue job (still 'preparing') is ended with the disposition.
            log_store(ctx_.store->set_duplicate(row_.id, *same));
            ctx_.logger->info("job {}: same content and profile as job {}; not processed again",
                              row_.id, *same);
            life_.duplicate("duplicate of job " + std::to_string(*same));
            return;
        }
    }

    // The plan's rows; the queue's nodes run them and on_queue_update records each result.
    std::vector<store::ChunkRow> rows;
    progress_->start(plan.output_frames, static_cast<int>(plan.chunks.size()));
    for (const auto& span : plan.chunks) {
        store::ChunkRow c;
        c.job_id = row_.id;
        c.task = TaskRef::chunk(span.index);
        c.first_frame = span.first_frame;
        c.frames = span.frames;
        c.start_time = span.start_time;
        c.end_time = span.end_time;
        rows.push_back(std::move(c));
    }
    if (plan.audio) {
        store::ChunkRow a;
        a.job_id = row_.id;
        a.task = TaskRef::audio();
        a.end_time = plan.chunks.empty() ? 0 : plan.chunks.back().end_time;
        rows.push_back(std::move(a));
    }
    log_store(ctx_.store->replace_chunks(row_.id, rows));
    submit_queue_step();
}

void JobRunner::submit_queue_step() {
    // Blocking queue calls, off the loop thread; the job stays 'probing' meanwhile. The content
    // is recorded whatever this node's dedupe (another node's may ask), but makes this job a
    // duplicate only with dedupe on and not for a reprocessed job, as the job database's.
    ctx_.scheduler->submit(
        row_.id,
        [this_ = weak_from_this(), poster = ctx_.poster, cluster = ctx_.cluster, files = files_,
         profile = row_.profile, job = queue_job_, chunks = static_cast<int>(plan_.chunks.size()),
         audio = plan_.audio, checksum = plan_.checksum,
         dedupe = ctx_.config.dedupe && !row_.reprocess_of](int, std::stop_token) {
            auto step = [&]() -> Result<QueueStep> {
                QueueStep s;
                if (!checksum.empty()) {
                    RR_ASSIGN(auto same, cluster->record_content(job, checksum));
                    if (same && dedupe) {
                        s.same = std::move(same);
                        return s;
                    }
                }
                RR_ASSIGN(s.elsewhere, cluster->start_tasks(job, *files, profile, chunks, audio));
                return s;
            };
            auto r = step();
            poster->post([this_, r = std::move(r)]() mutable {
                if (auto self = this_.lock()) self->on_queue_step(std::move(r));
            });
        });
}

void JobRunner::on_queue_step(Result<QueueStep> step) {
    // Cancelled or stopped meanwhile: the lifecycle has moved on (and ended the queue job).
    if (life_.step() != JobLifecycle::Step::probing) return;
    if (!step) {
        if (step.error().code == Errc::cancelled && life_.shutting_down()) return;
        life_.prepare_failed(step.error(), note_whole_file_failure("preparing", step.error()));
        return;
    }
    if (step->same) {
        // Dedupe across the farm. An earlier job of this node is named by its own id, as the
        // job database's check names it; another node's local id means nothing here, so its
        // queue job and node are what an operator can look up (`renderrushctl jobs` there).
        const SameContent& same = *step->same;
        std::string message;
        if (same.owner == ctx_.cluster->node_id() && same.owner_job) {
            log_store(ctx_.store->set_duplicate(row_.id, same.owner_job));
            message = "duplicate of job " + std::to_string(same.owner_job);
        } else {
            message = "duplicate of cluster job " + std::to_string(same.job_id) + " on node " +
                      same.owner +
                      (same.owner_job ? " (job " + std::to_string(same.owner_job) + " there)"
                                      : std::string());
        }
        ctx_.logger->info(
            "job {}: same content and profile as cluster job {} on node {}; not "
            "processed again",
            row_.id, same.job_id, same.owner);
        // As a duplicate found by the job database, it has no chunks; its queue job (still
        // 'preparing', no task queued) is ended with the disposition.
        log_store(ctx_.store->replace_chunks(row_.id, {}));
        life_.duplicate(message);
        return;
    }
    if (step->elsewhere) {
        // Adopted while this node was lost: its new owner planned and queued it.
        ctx_.logger->info("job {}: {} is cluster job {}, owned by node {}; not processed here",
                          row_.id, row_.input_path, queue_job_, *step->elsewhere);
        const int64_t job = queue_job_;
        queue_job_ = 0;  // not ours to end
        life_.elsewhere("processed by cluster node " + *step->elsewhere + " (cluster job " +
                        std::to_string(job) + ")");
        return;
    }
    ctx_.logger->info("job {}: {} frames in {} chunks queued as cluster job {}", row_.id,
                      plan_.frames, plan_.chunks.size(), queue_job_);
    life_.planned();
}

bool JobRunner::note_whole_file_failure(const std::string& what, const Error& error) {
    // A refusal (an unreadable file, a limit) is the same every time; a worker that died or
    // was killed may not be.
    if (!worker::is_worker_failure(error)) return false;
    log_store(ctx_.store->add_event(row_.id, "chunk", what + " failed: " + error.message));
    return true;
}

void JobRunner::on_published(nlohmann::json sidecar) {
    if (!life_.wants_join_result()) return;
    log_store(ctx_.store->set_sidecar(row_.id, sidecar.dump()));
    const auto& frames = sidecar["frames"];
    done_totals_ = control::JobTotals{
        frames.value("input", int64_t{0}),          frames.value("output", int64_t{0}),
        sidecar["input"].value("size", int64_t{0}), sidecar["output"].value("size", int64_t{0}),
        frames.value("damaged", int64_t{0}),        frames.value("lost", int64_t{0}),
        frames.value("missing_at_end", int64_t{0})};
    // Damage the output carries: in the done event's totals and as a stored job event.
    const auto& t = *done_totals_;
    if (t.frames_damaged != 0 || t.frames_lost != 0 || t.frames_missing_at_end != 0) {
        log_store(ctx_.store->add_event(
            row_.id, "damage",
            fmt::format("damaged input: {} frames damaged, {} lost, {} missing at the end",
                        t.frames_damaged, t.frames_lost, t.frames_missing_at_end)));
    }
    // Streams the input declares but could not give (a damaged sample table): the output
    // lacks them, which the operator should hear about beside the sidecar's audio list.
    const auto& audio = sidecar["audio"];
    for (const auto& a : audio.is_array() ? audio : nlohmann::json::array()) {
        if (a.value("mode", "") != "dropped") continue;
        const std::string text = fmt::format("audio stream {} {}", a.value("input_stream", -1),
                                             a.value("reason", std::string()));
        ctx_.logger->warn("job {}: {}", row_.id, text);
        log_store(ctx_.store->add_event(row_.id, "audio", text));
    }
    ctx_.logger->info("job {}: published {}", row_.id, output_.string());
    life_.joined();
}

void JobRunner::cancel(const std::string& reason) {
    life_.cancel(reason);
}

void JobRunner::stop_for_shutdown() {
    life_.shutdown();
    // The cluster keeps running the job's tasks; this node follows it again after its start.
    if (queue_job_) ctx_.cluster->unwatch(queue_job_);
}

void JobRunner::end_queue_job(JobState state, const std::string& error) {
    if (!queue_job_) return;
    ctx_.cluster->unwatch(queue_job_);
    // No-op once the job is finished.
    ctx_.cluster->end_job(queue_job_, std::string(store::to_string(state)), error);
}

void JobRunner::follow_queue_job() {
    ctx_.cluster->watch(
        queue_job_, [this_ = weak_from_this(), poster = ctx_.poster](Result<ClusterJobUpdate> u) {
            poster->post([this_, u = std::move(u)]() mutable {
                if (auto self = this_.lock()) self->on_queue_update(std::move(u));
            });
        });
}

void JobRunner::on_queue_update(Result<ClusterJobUpdate> u) {
    if (!life_.following_queue()) return;
    if (!u) {
        if (u.error().code == Errc::not_found) {
            // Restored from an older backup, or removed by hand: nobody will run it.
            life_.fail(make_error(Errc::io, "cluster job " + std::to_string(queue_job_) +
                                                " is no longer in the cluster database"));
            return;
        }
        ctx_.logger->debug("job {}: cluster job {}: {}", row_.id, queue_job_, u.error().message);
        return;
    }
    const auto& job = u->job;
    if (!audio_tasks_ && !u->tasks.empty()) {
        // A task's kind never changes: its payload is read once, not on every poll.
        audio_tasks_.emplace();
        for (const auto& t : u->tasks) {
            auto p = nlohmann::json::parse(t.payload, nullptr, false);
            if (p.is_object() && p.value("kind", std::string()) == "audio")
                audio_tasks_->insert(t.idx);
        }
    }
    auto is_audio = [&](const store::TaskView& t) {
        return audio_tasks_ && audio_tasks_->count(t.idx) > 0;
    };
    if (progress_->snapshot().chunks_total == 0 && !u->tasks.empty()) {
        // Attached after a restart: the plan's numbers come from the queue.
        const auto audio = static_cast<int>(audio_tasks_->size());
        progress_->start(row_.frames_total.value_or(0), static_cast<int>(u->tasks.size()) - audio);
        const auto done = std::count_if(u->tasks.begin(), u->tasks.end(),
                                        [](const store::TaskView& t) { return t.state == "done"; });
        ctx_.logger->info("job {}: cluster job {}: {} of {} tasks kept from before the restart",
                          row_.id, queue_job_, done, u->tasks.size());
    }
    // Failed attempts on any node, recorded here as a local chunk's are: the chunk's error and
    // an event, so `renderrushctl job` on the owner shows what went wrong where.
    for (const auto& [idx, tried] : u->failed_attempts) {
        const TaskRef task =
            audio_tasks_ && audio_tasks_->count(idx) ? TaskRef::audio() : TaskRef::chunk(idx);
        int& seen = attempts_seen_[idx];
        for (const auto& a : tried) {
            if (a.attempt <= seen) continue;
            seen = a.attempt;
            log_store(ctx_.store->chunk_failed(row_.id, task, a.error));
            log_store(ctx_.store->add_event(row_.id, "chunk",
                                            fmt::format("{} attempt {} on node {} failed: {}",
                                                        task.name(), a.attempt, a.node, a.error)));
        }
    }
    for (const auto& t : u->tasks) {
        if (t.state != "done" || tasks_seen_.count(t.idx)) continue;
        tasks_seen_.insert(t.idx);
        auto res = nlohmann::json::parse(t.result.value_or("{}"), nullptr, false);
        if (!res.is_object()) res = nlohmann::json::object();
        const bool audio = is_audio(t);
        const TaskRef task = audio ? TaskRef::audio() : TaskRef::chunk(t.idx);
        store::ChunkRow row;
        row.job_id = row_.id;
        row.task = task;
        row.seconds = res.value("seconds", 0.0);
        row.result = res.dump();
        row.attempts = t.attempt;
        if (res.contains("worker") && res["worker"].is_number_integer())
            row.worker = res["worker"].get<int64_t>();
        if (!cluster_of_one(ctx_.config)) row.node = t.node;  // a cluster of one names none
        // When it ran, by the clock of the node that ran it (the dashboard's timeline).
        const auto& ran = res["outcome"];
        const auto& timed = ran.is_object() && ran.value("started_at", 0.0) > 0 ? ran : res;
        if (timed.value("started_at", 0.0) > 0) {
            row.started_at = timed.value("started_at", 0.0);
            row.finished_at = timed.value("finished_at", 0.0);
        }
        log_store(ctx_.store->chunk_done(row));
        ctx_.emit(control::ChunkEvent{row_.id, task.index(), store::ChunkState::done,
                                      row.seconds.value_or(0.0)});
        if (!audio) {
            frames_done_ += ran.is_object() ? ran.value("frames", int64_t{0}) : 0;
            progress_->chunk_done();
        }
    }
    // Frames of the finished chunks plus what the holders of the others reported at their
    // last heartbeat. advance_to: a chunk taken over starts again from 0 elsewhere, and the
    // count shown stands still meanwhile instead of going back.
    int64_t frames = frames_done_;
    for (const auto& t : u->tasks)
        if (t.state == "leased" && !is_audio(t)) frames += t.frames_done;
    progress_->advance_to(frames);
    if (job.state == "joining") life_.queue_joining();
    if (job.state == "joining" && job.joiner && job.joiner_state.value_or("") == "lost")
        ctx_.cluster->take_over_join(queue_job_, *job.joiner);
    if (job.state == "done") {
        ctx_.cluster->unwatch(queue_job_);
        auto sidecar = nlohmann::json::parse(job.result.value_or("{}"), nullptr, false);
        if (!sidecar.is_object()) sidecar = nlohmann::json::object();
        life_.queue_joining();
        on_published(std::move(sidecar));
    } else if (job.state == "cancelled") {
        // Cancelled stays cancelled (its source stays put), also when this node learns it
        // again after a restart. Both endings stop following through end_queue_job.
        life_.cancel(job.error.value_or("cancelled"));
    } else if (job.state == "failed") {
        life_.queue_failed(make_error(Errc::media, job.error.value_or("cluster job failed")));
    }
}

void JobRunner::dispose(const JobEnding& ending) {
    if (ending.state == JobState::failed)
        ctx_.logger->error("job {}: {}: {}", row_.id, row_.input_path, ending.message);
    // Moving the source can mean copying it to another filesystem: a task, not loop work.
    // A file another node processes stays where it is for that node.
    const Watch* from = ending.here ? source_watch() : nullptr;
    struct Plan {
        Disposition mode = Disposition::keep;
        std::filesystem::path destination;
        bool error_file = false;
    } plan;
    if (from) {
        const bool success = ending.state == JobState::done || ending.state == JobState::duplicate;
        if (success) {
            plan.mode = from->on_success;
            if (plan.mode == Disposition::move)
                plan.destination = done_path_for(*from, row_.source_path);
        } else if (ending.state == JobState::failed && !ending.no_space) {
            // Out of space: the source stays put (a move might need space too).
            plan.mode = from->on_failure;
            if (plan.mode == Disposition::move)
                plan.destination = failed_path_for(*from, row_.source_path);
            plan.error_file = true;
        }
    }
    const std::string error_text =
        "renderrush job " + std::to_string(row_.id) + " failed\nfile: " + row_.input_path +
        "\nprofile: " + row_.profile + "\nreason: " + ending.message + "\n";
    ctx_.scheduler->add_job(row_.id, row_.priority);  // a cancelled job still needs this one task
    // A queue job's disposition is claimed in the queue first: when this node was lost, a
    // node that adopted the job may have disposed of the source (and run the hooks) already.
    // A submitted file's too, though it stays where it is: the claim is what tells `retry` and
    // `reprocess` that the ended job may be retired for a new run.
    const int64_t claim_in = ending.here ? queue_job_ : int64_t{0};
    // A job that will not publish ends its queue job here, before the claim (which needs it
    // ended): a failure or cancel was also sent through the claimer's thread, which may not have
    // run yet; a duplicate's queue job, still 'preparing', would otherwise be adopted as an
    // orphan once this node is lost. No-op on a queue job that has finished.
    const int64_t end_in = queue_job_;
    std::string end_state;
    if (ending.state == JobState::failed || ending.state == JobState::cancelled)
        end_state = store::to_string(ending.state);
    else if (ending.state == JobState::duplicate)
        end_state = store::to_string(JobState::cancelled);
    ctx_.scheduler->submit(row_.id, [this_ = weak_from_this(), poster = ctx_.poster,
                                     input = row_.input_path, plan, error_text,
                                     cluster = ctx_.cluster, claim_in, end_in, end_state,
                                     end_error = ending.message, logger = ctx_.logger,
                                     fault = ctx_.daemon_fault,
                                     id = row_.id](int, std::stop_token stop) {
        if (end_in && !end_state.empty()) {
            if (Status ended = cluster->end_job_now(end_in, end_state, end_error, stop); !ended) {
                poster->post([this_, e = ended.error()]() mutable {
                    if (auto self = this_.lock())
                        self->on_disposed(std::move(e).context("cannot end the cluster job"));
                });
                return;
            }
        }
        if (claim_in) {
            auto mine = cluster->claim_disposal(claim_in, stop);
            if (mine && !*mine) {
                poster->post([this_] {
                    if (auto self = this_.lock()) self->on_disposed_elsewhere();
                });
                return;
            }
            if (!mine) {
                poster->post([this_, e = std::move(mine).error()]() mutable {
                    if (auto self = this_.lock())
                        self->on_disposed(std::move(e).context("cannot claim the disposition"));
                });
                return;
            }
        }
        // Test builds only (Context::daemon_fault): hold the daemon at a point of the
        // disposition, so that a test can kill it there.
        auto held = [&](std::string_view point, std::string_view after) {
            if (fault != point) return false;
            logger->warn("job {}: fault hook: hanging after {}", id, after);
            while (!stop.stop_requested())
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            return true;
        };
        if (held("hang:dispose", "claiming the disposition")) return;
        auto act = [&]() -> Result<std::string> {
            std::error_code ec;
            if (!std::filesystem::exists(input, ec)) {
                // Already moved by an earlier run that stopped before recording it.
                if (!plan.destination.empty() && std::filesystem::exists(plan.destination, ec)) {
                    return plan.destination.string();
                }
                return input;
            }
            // A reprocessed job's input may already be where success puts it.
            const bool in_place = plan.mode == Disposition::move && plan.destination == input;
            RR_ASSIGN(std::filesystem::path now,
                      in_place ? Result<std::filesystem::path>(std::filesystem::path(input))
                               : watch::dispose_source(input, plan.mode, plan.destination));
            if (plan.error_file) RR_TRY(watch::write_error_file(now, error_text));
            return now.string();
        };
        Result<std::string> r = act();
        if (r && held("hang:disposed", "disposing of the source")) return;
        // Done: no node takes this disposition over from here on. Until then a node that
        // finds this one lost does it again (a move done already is found done).
        if (r && claim_in) {
            auto finished = cluster->finish_disposal(claim_in, stop);
            if (!finished) {
                logger->warn("job {}: cannot record the disposition of cluster job {} as done: {}",
                             id, claim_in, finished.error().message);
            } else if (!*finished) {
                logger->info(
                    "job {}: cluster job {} was adopted while this node was lost; its new owner "
                    "disposes of it too",
                    id, claim_in);
            }
        }
        poster->post([this_, r = std::move(r)]() mutable {
            if (auto self = this_.lock()) self->on_disposed(std::move(r));
        });
    });
}

void JobRunner::on_disposed(Result<std::string> new_input) {
    if (new_input) {
        if (*new_input != row_.input_path) {
            row_.input_path = *new_input;
            log_store(ctx_.store->set_input_path(row_.id, *new_input));
        }
    } else {
        ctx_.logger->error("job {}: source disposition: {}", row_.id, new_input.error().message);
        log_store(ctx_.store->add_event(row_.id, "source", new_input.error().message));
    }
    life_.disposed(new_input ? std::nullopt : std::optional(new_input.error().message));
}

void JobRunner::on_disposed_elsewhere() {
    ctx_.logger->info(
        "job {}: cluster job {} was adopted while this node was lost; its new owner disposes of "
        "{}",
        row_.id, queue_job_, row_.input_path);
    log_store(ctx_.store->add_event(
        row_.id, "source",
        "disposed of by the node that adopted cluster job " + std::to_string(queue_job_)));
    life_.disposed_elsewhere();
}

void JobRunner::run_after_hooks(JobState state) {
    const bool success = store::published(state) || state == JobState::duplicate;
    const Profile* profile = nullptr;
    if (auto it = ctx_.config.profiles.find(row_.profile); it != ctx_.config.profiles.end())
        profile = &it->second;
    auto hooks = hooks_for(source_watch(), profile,
                           success ? HookKind::after_success : HookKind::after_failure);
    if (hooks.empty()) {
        life_.hooks_done();
        return;
    }
    // The job's stop token may already be spent (a cancelled job); the hooks' own timeouts
    // bound them instead.
    ctx_.scheduler->submit(
        row_.id, [this_ = weak_from_this(), poster = ctx_.poster, hooks = std::move(hooks),
                  values = hook_values(store::to_string(state))](int, std::stop_token) {
            auto runs = run_hooks(hooks, values, std::stop_token{}, false);
            poster->post([this_, runs = std::move(runs)] {
                if (auto self = this_.lock()) {
                    self->record_hooks(runs);
                    self->life_.hooks_done();
                }
            });
        });
}

void JobRunner::finish() {
    if (queue_job_) ctx_.cluster->unwatch(queue_job_);
    std::error_code ec;
    std::filesystem::remove_all(work_dir_, ec);
    ctx_.scheduler->remove_job(row_.id);
    finished_(row_.id);
}

control::JobProgress JobRunner::snapshot() const {
    const auto p = progress_->snapshot();
    return {row_.id,
            row_.input_path,
            row_.profile,
            row_.state,
            output_.string(),
            std::min(1.0, p.fraction()),
            p.frames_done,
            p.frames_total,
            p.chunks_done,
            p.chunks_total,
            p.fps,
            p.eta};
}

void JobRunner::report_progress() {
    if (life_.step() != JobLifecycle::Step::running) return;
    auto snap = snapshot();
    row_.progress = snap.progress;
    log_store(ctx_.store->set_progress(row_.id, row_.progress));
    ctx_.emit(control::ProgressEvent{std::move(snap)});
}

}  // namespace rr::service
