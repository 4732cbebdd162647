#include "service/intake.h"

#include <sys/stat.h>

#include "service/layout.h"
#include "watch/disposition.h"
#include "watch/name_rules.h"
#include "watch/scan.h"

namespace rr::service {

Result<std::unique_ptr<Intake>> Intake::create(Context& ctx, std::function<void()> queued) {
    std::unique_ptr<Intake> in(new Intake(ctx));
    in->queued_ = std::move(queued);
    auto* self = in.get();
    RR_ASSIGN(in->watcher_,
              watch::InotifyWatcher::create(
                  *ctx.loop, [self](const watch::FsEvent& ev) { self->on_event(ev); }));
    RR_ASSIGN(in->tick_timer_, uv::Timer::create(*ctx.loop, [self] { self->tick(); }));
    RR_ASSIGN(in->rescan_timer_, uv::Timer::create(*ctx.loop, [self] { self->scan_all(); }));
    in->tick_timer_.start(250, 250);
    return in;
}

Status Intake::configure() {
    std::set<std::filesystem::path> wanted;
    for (const auto& w : ctx_.config.watches) {
        std::error_code ec;
        std::filesystem::create_directories(w.path, ec);
        if (ec)
            return make_error(
                Errc::io, "cannot create watched folder " + w.path.string() + ": " + ec.message());
        wanted.insert(w.path);
    }
    for (const auto& root : roots_) {
        if (!wanted.count(root)) {
            watcher_->remove_root(root);
            ctx_.logger->info("watch removed: {}", root.string());
        }
    }
    for (const auto& w : ctx_.config.watches) {
        if (roots_.count(w.path)) continue;
        RR_TRY(watcher_->add_root(w.path, w.recursive));
        ctx_.logger->info("watching {} (profile {}, output {})", w.path.string(), w.profile,
                          w.output.string());
    }
    roots_ = std::move(wanted);
    // Watch indices are tags in the settler; after a reload they are stale, so start over.
    settler_ = watch::Settler();
    const auto every = static_cast<uint64_t>(ctx_.config.rescan_seconds * 1000);
    rescan_timer_.start(every, every);
    scan_all();
    return {};
}

void Intake::scan_all() {
    for (const auto& w : ctx_.config.watches) {
        for (const auto& file : watch::scan_files(w.path, w.recursive)) consider(file);
    }
}

bool Intake::set_watch_paused(const std::string& path, bool paused) {
    const Watch* w = watch_by_path(ctx_.config, path);
    if (!w) return false;
    // Keyed by the configured spelling, which the intake and `status` look up.
    if (paused)
        paused_watches_.insert(w->path.string());
    else
        paused_watches_.erase(w->path.string());
    ctx_.logger->info("watch {} {}", w->path.string(), paused ? "paused" : "resumed");
    if (!paused) scan_all();
    return true;
}

Result<Intake::Submitted> Intake::submit(const std::filesystem::path& file, const Watch* watch,
                                         std::string profile, unsigned requested_by) {
    if (profile.empty() && watch) profile = profile_for(*watch, file).name;
    auto prof = ctx_.config.profiles.find(profile);
    if (prof == ctx_.config.profiles.end()) {
        return make_error(Errc::not_found, profile.empty() ? "give a profile"
                                                           : "no profile named '" + profile + "'");
    }
    std::error_code ec;
    const auto size = static_cast<int64_t>(std::filesystem::file_size(file, ec));
    struct stat st {};
    ::stat(file.c_str(), &st);
    const int64_t mtime = int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    auto store_error = [](const Error& e) {
        return make_error(Errc::io, "job database: " + e.message);
    };
    auto seen = ctx_.store->find_by_source(file.string(), size, mtime);
    if (!seen) return store_error(seen.error());
    if (*seen) {
        // Unlike a dropped file, a submitted one may run again once its last job ended.
        auto existing = ctx_.store->job(**seen);
        if (existing && *existing && !store::is_final((*existing)->state))
            return make_error(Errc::conflict, "already queued as job " + std::to_string(**seen));
    }
    store::NewJob job;
    job.source_path = file.string();
    job.size = size;
    job.mtime_ns = mtime;
    job.profile = profile;
    if (watch) {
        job.watch_path = watch->path.string();
        job.priority = watch->priority;
    } else {
        job.output_path = watch::unused_path(
                              submit_output_for(ctx_.config, file, profile, prof->second.container))
                              .string();
    }
    auto id = ctx_.store->insert_job(job);
    if (!id) return store_error(id.error());
    ctx_.logger->info("job {}: submitted {} (profile {}) by uid {}", *id, job.source_path, profile,
                      requested_by);
    ctx_.emit(
        control::JobEvent{.id = *id, .state = store::JobState::queued, .input = job.source_path});
    queued_();
    return Submitted{*id, profile, job.output_path};
}

Result<Intake::Submitted> Intake::reprocess(const store::JobRow& earlier, unsigned requested_by) {
    using store::JobState;
    if (!store::published(earlier.state) && earlier.state != JobState::duplicate) {
        return make_error(Errc::conflict, "only done or duplicate jobs can be reprocessed; job " +
                                              std::to_string(earlier.id) + " is " +
                                              std::string(store::to_string(earlier.state)));
    }
    std::error_code ec;
    if (!std::filesystem::is_regular_file(earlier.input_path, ec))
        return make_error(Errc::not_found, "the job's input is gone: " + earlier.input_path);
    store::NewJob job;
    // Same source, watch and profile, so the output and the source's disposition land where the
    // first job's did; the file is read from where it is now (often done/).
    job.source_path = earlier.source_path;
    job.input_path = earlier.input_path;
    job.watch_path = earlier.watch_path;
    job.size = earlier.size;
    job.mtime_ns = earlier.mtime_ns;
    job.profile = earlier.profile;
    job.priority = earlier.priority;
    job.reprocess_of = earlier.id;
    if (!earlier.watch_path) {
        const auto prof = ctx_.config.profiles.find(earlier.profile);
        const Container container =
            prof == ctx_.config.profiles.end() ? Container::mp4 : prof->second.container;
        job.output_path = watch::unused_path(submit_output_for(ctx_.config, earlier.input_path,
                                                               earlier.profile, container))
                              .string();
    }
    auto id = ctx_.store->insert_job(job);
    if (!id) return make_error(Errc::io, "job database: " + id.error().message);
    ctx_.logger->info("job {}: reprocessing job {} ({}, profile {}) for uid {}", *id, earlier.id,
                      earlier.input_path, earlier.profile, requested_by);
    ctx_.emit(control::JobEvent{
        .id = *id, .state = store::JobState::queued, .input = earlier.input_path});
    queued_();
    return Submitted{*id, earlier.profile, job.output_path};
}

void Intake::on_event(const watch::FsEvent& ev) {
    switch (ev.kind) {
        case watch::FsEvent::Kind::file:
            consider(ev.path);
            break;
        case watch::FsEvent::Kind::directory:
            for (const auto& file : watch::scan_files(ev.path, true)) consider(file);
            break;
        case watch::FsEvent::Kind::overflow:
            ctx_.logger->warn("inotify queue overflowed; rescanning every watched folder");
            scan_all();
            break;
    }
}

void Intake::consider(const std::filesystem::path& path) {
    const Watch* w = watch_for(ctx_.config, path);
    if (!w || !watch::acceptable_name(path, ctx_.config.allowed_extensions)) return;
    if (!watch::regular_file_inside(path, w->path)) return;
    settler_.observe(path, static_cast<size_t>(w - ctx_.config.watches.data()),
                     watch::Settler::Clock::now());
}

void Intake::tick() {
    if (paused_ || low_disk_ || settler_.pending() == 0) return;
    const auto& watches = ctx_.config.watches;
    auto settled = settler_.take_settled(watch::Settler::Clock::now(), [&](size_t tag) {
        return tag < watches.size() ? watches[tag].settle_seconds : 5.0;
    });
    std::vector<store::NewJob> batch;
    for (const auto& f : settled) {
        if (f.tag >= watches.size()) continue;
        const Watch& w = watches[f.tag];
        if (paused_watches_.count(w.path.string())) {
            settler_.observe(f.path, f.tag, watch::Settler::Clock::now());
            continue;
        }
        auto seen = ctx_.store->find_by_source(f.path.string(), f.size, f.mtime_ns);
        if (!seen) {
            ctx_.logger->error("intake: job database: {}", seen.error().message);
            continue;
        }
        if (*seen) continue;  // this exact file already had its job, whatever became of it
        const auto profile = profile_for(w, f.path);
        if (profile.top_level) {
            const bool first = warned_.insert(f.path.string()).second;
            if (!ctx_.config.profiles.count(profile.name)) {
                if (first)
                    ctx_.logger->warn(
                        "intake: {} is at the top of by-folder watch {}, and its default_profile "
                        "'{}' does not exist; put the file in a profile's subfolder",
                        f.path.string(), w.path.string(), profile.name);
                continue;
            }
            ctx_.logger->info(
                "intake: {} is at the top of by-folder watch {}; using its default_profile {}",
                f.path.string(), w.path.string(), profile.name);
        }
        store::NewJob job;
        job.source_path = f.path.string();
        job.watch_path = w.path.string();
        job.size = f.size;
        job.mtime_ns = f.mtime_ns;
        job.profile = profile.name;
        job.priority = w.priority;
        batch.push_back(std::move(job));
    }
    if (batch.empty()) return;
    auto ids = ctx_.store->insert_jobs(batch);
    if (!ids) {
        ctx_.logger->error("intake: cannot record {} new jobs: {}", batch.size(),
                           ids.error().message);
        return;
    }
    for (size_t i = 0; i < ids->size(); ++i) {
        ctx_.logger->info("job {}: queued {} (profile {})", (*ids)[i], batch[i].source_path,
                          batch[i].profile);
        ctx_.emit(control::JobEvent{
            .id = (*ids)[i], .state = store::JobState::queued, .input = batch[i].source_path});
    }
    queued_();
}

}  // namespace rr::service
