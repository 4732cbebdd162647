// The control commands: what `renderrushctl` and scripts can ask the daemon. Each handler runs
// on the loop thread; errors become protocol codes here, at the edge.

#include <unistd.h>

#include "control/server.h"
#include "core/paths.h"
#include "core/version.h"
#include "service/layout.h"
#include "service/service.h"
#include "watch/disposition.h"
#include "watch/name_rules.h"

namespace rr::service {
namespace {

using control::Code;
using control::CommandContext;
using control::Reply;

nlohmann::json job_json(const store::JobRow& j) {
    nlohmann::json out = {{"id", j.id},
                          {"state", store::to_string(j.state)},
                          {"profile", j.profile},
                          {"source", j.source_path},
                          {"input", j.input_path},
                          {"size", j.size},
                          {"priority", j.priority},
                          {"progress", j.progress},
                          {"attempts", j.attempts},
                          {"created_at", j.created_at},
                          {"updated_at", j.updated_at}};
    if (j.output_path) out["output"] = *j.output_path;
    if (j.watch_path) out["watch"] = *j.watch_path;
    if (j.checksum) out["checksum"] = *j.checksum;
    if (j.error) out["error"] = *j.error;
    if (j.duplicate_of) out["duplicate_of"] = *j.duplicate_of;
    if (j.frames_total) out["frames_total"] = *j.frames_total;
    if (j.chunks_total) out["chunks_total"] = *j.chunks_total;
    if (j.started_at) out["started_at"] = *j.started_at;
    if (j.finished_at) out["finished_at"] = *j.finished_at;
    return out;
}

nlohmann::json chunk_json(const store::ChunkRow& c) {
    nlohmann::json out = {{"index", c.idx},
                          {"kind", c.idx < 0 ? "audio" : "video"},
                          {"state", store::to_string(c.state)},
                          {"first_frame", c.first_frame},
                          {"frames", c.frames},
                          {"start_time", c.start_time},
                          {"end_time", c.end_time},
                          {"attempts", c.attempts}};
    if (c.bytes) out["bytes"] = *c.bytes;
    if (c.checksum) out["checksum"] = *c.checksum;
    if (c.worker) out["worker"] = *c.worker;
    if (c.seconds) out["seconds"] = *c.seconds;
    if (c.error) out["error"] = *c.error;
    return out;
}

template <class T>
bool arg_failed(const std::variant<T, control::ArgError>& v, Reply& out) {
    if (auto* e = std::get_if<control::ArgError>(&v)) {
        out = Reply::failure(Code::error, e->message);
        return true;
    }
    return false;
}

Reply store_error(const Error& e) {
    return Reply::failure(Code::error, "job database: " + e.message);
}

Reply submit(Service& svc, const CommandContext& ctx) {
    Context& c = svc.context();
    Reply err;
    auto path_arg = control::string_arg(ctx.request.args, "path");
    if (arg_failed(path_arg, err)) return err;
    std::error_code ec;
    // realpath: symlinks and ".." cannot smuggle a file in from outside the allowed folders.
    const auto path = std::filesystem::canonical(std::get<std::string>(path_arg), ec);
    if (ec)
        return Reply::failure(Code::not_found, "no such file: " + std::get<std::string>(path_arg));
    // The deepest watch holding the file decides, as for dropped files (layout's watch_for).
    const Watch* watch = nullptr;
    size_t depth = 0;
    for (const auto& w : c.config.watches) {
        auto root = std::filesystem::canonical(w.path, ec);
        const auto n = static_cast<size_t>(std::distance(root.begin(), root.end()));
        if (!ec && path_within(path, root) && (!watch || n > depth)) {
            watch = &w;
            depth = n;
        }
    }
    bool in_roots = false;
    for (const auto& r : c.config.submit_roots) {
        auto root = std::filesystem::canonical(r, ec);
        in_roots = in_roots || (!ec && path_within(path, root));
    }
    if (!watch && !in_roots) {
        return Reply::failure(Code::forbidden,
                              path.string() + " is not inside a watched folder or submit_roots");
    }
    if (!std::filesystem::is_regular_file(path, ec))
        return Reply::failure(Code::error, path.string() + " is not a regular file");
    std::string profile;
    if (auto p = control::string_arg(ctx.request.args, "profile", std::string());
        !arg_failed(p, err)) {
        profile = std::get<std::string>(p);
    } else {
        return err;
    }
    if (profile.empty() && watch) {
        auto from_watch = profile_for(*watch, path);
        if (!from_watch) return Reply::failure(Code::error, from_watch.error().message);
        profile = *from_watch;
    }
    auto prof = c.config.profiles.find(profile);
    if (prof == c.config.profiles.end()) {
        return Reply::failure(Code::not_found, profile.empty()
                                                   ? "give a profile"
                                                   : "no profile named '" + profile + "'");
    }
    const auto size = static_cast<int64_t>(std::filesystem::file_size(path, ec));
    struct stat st {};
    ::stat(path.c_str(), &st);
    const int64_t mtime = int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    auto seen = c.store->find_by_source(path.string(), size, mtime);
    if (!seen) return store_error(seen.error());
    if (*seen) {
        auto existing = c.store->job(**seen);
        if (existing && *existing && !store::is_final((*existing)->state)) {
            return Reply::failure(Code::conflict,
                                  "already queued as job " + std::to_string(**seen));
        }
    }
    store::NewJob job;
    job.source_path = path.string();
    job.size = size;
    job.mtime_ns = mtime;
    job.profile = profile;
    if (watch) {
        job.watch_path = watch->path.string();
        job.priority = watch->priority;
    } else {
        const std::string ext = prof->second.container == "mkv" ? ".mkv" : ".mp4";
        auto out = c.config.submit_output.empty()
                       ? path.parent_path() / (path.stem().string() + "." + profile + ext)
                       : c.config.submit_output / (path.stem().string() + ext);
        job.output_path = watch::unused_path(out).string();
    }
    auto id = c.store->insert_job(job);
    if (!id) return store_error(id.error());
    c.logger->info("job {}: submitted {} (profile {}) by uid {}", *id, path.string(), profile,
                   ctx.peer.uid);
    c.emit({{"event", "job"}, {"id", *id}, {"state", "queued"}, {"input", path.string()}});
    svc.schedule_jobs();
    nlohmann::json data = {{"id", *id}, {"profile", profile}, {"path", path.string()}};
    if (job.output_path) data["output"] = *job.output_path;
    return Reply::success(data);
}

// The job named by the request's `id` argument, or the reply that says why there is none.
std::variant<store::JobRow, Reply> job_from_args(Service& svc, const CommandContext& ctx) {
    Reply err;
    auto id = control::int_arg(ctx.request.args, "id");
    if (arg_failed(id, err)) return err;
    auto row = svc.context().store->job(std::get<int64_t>(id));
    if (!row) return store_error(row.error());
    if (!*row)
        return Reply::failure(Code::not_found, "no job " + std::to_string(std::get<int64_t>(id)));
    return std::move(**row);
}

Reply cancel(Service& svc, const CommandContext& ctx) {
    auto found = job_from_args(svc, ctx);
    if (auto* reply = std::get_if<Reply>(&found)) return *reply;
    const auto& row = std::get<store::JobRow>(found);
    const int64_t job_id = row.id;
    Context& c = svc.context();
    if (store::is_final(row.state)) {
        return Reply::failure(Code::conflict, "job " + std::to_string(job_id) + " already ended (" +
                                                  std::string(store::to_string(row.state)) + ")");
    }
    const std::string why = "cancelled by uid " + std::to_string(ctx.peer.uid);
    if (auto r = svc.runner(job_id)) {
        r->cancel(why);
    } else {
        if (Status st = c.store->set_state(job_id, store::JobState::cancelled, why); !st)
            return store_error(st.error());
        c.emit({{"event", "job"}, {"id", job_id}, {"state", "cancelled"}});
    }
    return Reply::success({{"id", job_id}, {"cancelled", true}});
}

Reply retry(Service& svc, const CommandContext& ctx) {
    auto found = job_from_args(svc, ctx);
    if (auto* reply = std::get_if<Reply>(&found)) return *reply;
    const auto& row = std::get<store::JobRow>(found);
    const int64_t job_id = row.id;
    Context& c = svc.context();
    const auto state = row.state;
    if (state != store::JobState::failed && state != store::JobState::cancelled) {
        return Reply::failure(Code::conflict, "only failed or cancelled jobs can be retried; job " +
                                                  std::to_string(job_id) + " is " +
                                                  std::string(store::to_string(state)));
    }
    std::error_code ec;
    if (!std::filesystem::exists(row.input_path, ec)) {
        return Reply::failure(Code::not_found, "the job's input is gone: " + row.input_path);
    }
    std::filesystem::remove(row.input_path + ".error.txt", ec);  // stale once it is tried again
    if (Status st = c.store->requeue(job_id); !st) return store_error(st.error());
    c.emit({{"event", "job"}, {"id", job_id}, {"state", "queued"}, {"input", row.input_path}});
    svc.schedule_jobs();
    return Reply::success({{"id", job_id}, {"state", "queued"}});
}

Reply pause_or_resume(Service& svc, const CommandContext& ctx, bool pause) {
    Reply err;
    auto watch = control::string_arg(ctx.request.args, "watch", std::string());
    if (arg_failed(watch, err)) return err;
    const auto& w = std::get<std::string>(watch);
    if (w.empty()) {
        svc.set_paused(pause);
        return Reply::success({{"paused", pause}});
    }
    if (!svc.intake().set_watch_paused(w, pause))
        return Reply::failure(Code::not_found, "no watch for folder " + w);
    svc.context().logger->info("watch {} {}", w, pause ? "paused" : "resumed");
    return Reply::success({{"watch", w}, {"paused", pause}});
}

nlohmann::json status(Service& svc) {
    Context& c = svc.context();
    nlohmann::json by_state = nlohmann::json::object();
    if (auto counts = c.store->count_by_state()) {
        for (const auto& [k, v] : *counts) by_state[k] = v;
    }
    nlohmann::json watches = nlohmann::json::array();
    for (const auto& w : c.config.watches) {
        watches.push_back({{"path", w.path.string()},
                           {"profile", w.profile},
                           {"output", w.output.string()},
                           {"priority", w.priority},
                           {"paused", svc.intake().watch_paused(w.path.string())}});
    }
    nlohmann::json running = nlohmann::json::array();
    for (const auto& [id, r] : svc.active()) running.push_back(r->snapshot());
    return {{"version", kVersion},
            {"pid", ::getpid()},
            {"uptime", svc.uptime_seconds()},
            {"workers", {{"busy", c.scheduler->busy()}, {"total", c.scheduler->size()}}},
            {"jobs", by_state},
            {"queue_depth", by_state.value("queued", 0)},
            {"paused", svc.paused()},
            {"intake",
             {{"paused", svc.intake().paused()},
              {"low_disk", svc.intake().low_disk()},
              {"settling_files", svc.intake().pending()}}},
            {"watches", watches},
            {"running", running},
            {"database", database_path(c.config).string()},
            {"config", c.config_path.string()},
            {"disabled_profiles", c.disabled_profiles},
            {"hardware", svc.hardware()}};
}

}  // namespace

void register_commands(control::Registry& registry, Service& svc) {
    registry.add("version", "The daemon's version.", false, [](const CommandContext&) {
        return Reply::success({{"version", kVersion}, {"name", "renderrushd"}});
    });
    registry.add("list-commands", "Every command with its help text.", false,
                 [&registry](const CommandContext&) {
                     return Reply::success({{"commands", registry.list()}});
                 });
    registry.add("health", "Whether the daemon and its job database answer.", false,
                 [&svc](const CommandContext&) {
                     auto counts = svc.context().store->count_by_state();
                     if (!counts)
                         return Reply::failure(Code::error,
                                               "job database: " + counts.error().message);
                     return Reply::success({{"healthy", true},
                                            {"database", "ok"},
                                            {"uptime", svc.uptime_seconds()},
                                            {"paused", svc.paused()},
                                            {"low_disk", svc.intake().low_disk()}});
                 });
    registry.add("status", "Uptime, workers, jobs by state, queue, watches, hardware.", false,
                 [&svc](const CommandContext&) { return Reply::success(status(svc)); });
    registry.add(
        "jobs", "Jobs, newest first; args: state, limit (50), offset (0).", false,
        [&svc](const CommandContext& ctx) {
            Reply err;
            auto state = control::string_arg(ctx.request.args, "state", std::string());
            auto limit = control::int_arg(ctx.request.args, "limit", 50);
            auto offset = control::int_arg(ctx.request.args, "offset", 0);
            if (arg_failed(state, err) || arg_failed(limit, err) || arg_failed(offset, err))
                return err;
            std::optional<store::JobState> filter;
            if (!std::get<std::string>(state).empty()) {
                filter = store::parse_job_state(std::get<std::string>(state));
                if (!filter)
                    return Reply::failure(Code::error,
                                          "unknown state \"" + std::get<std::string>(state) + "\"");
            }
            const auto n = std::clamp<int64_t>(std::get<int64_t>(limit), 1, 1000);
            auto rows = svc.context().store->jobs(
                filter, static_cast<int>(n),
                static_cast<int>(std::max<int64_t>(0, std::get<int64_t>(offset))));
            if (!rows) return store_error(rows.error());
            nlohmann::json list = nlohmann::json::array();
            for (const auto& j : *rows) {
                auto item = job_json(j);
                if (auto r = svc.runner(j.id)) item["live"] = r->snapshot();
                list.push_back(std::move(item));
            }
            return Reply::success({{"jobs", list}});
        });
    registry.add(
        "job", "One job with its chunks, sidecar and events; args: id.", false,
        [&svc](const CommandContext& ctx) {
            auto found = job_from_args(svc, ctx);
            if (auto* reply = std::get_if<Reply>(&found)) return *reply;
            const auto& job = std::get<store::JobRow>(found);
            auto& store = *svc.context().store;
            auto data = job_json(job);
            nlohmann::json chunks = nlohmann::json::array();
            if (auto rows = store.chunks(job.id)) {
                for (const auto& c : *rows) chunks.push_back(chunk_json(c));
            }
            data["chunks"] = chunks;
            data["sidecar"] = job.sidecar ? nlohmann::json::parse(*job.sidecar, nullptr, false)
                                          : nlohmann::json(nullptr);
            nlohmann::json events = nlohmann::json::array();
            if (auto ev = store.events(job.id, 50)) {
                for (const auto& e : *ev)
                    events.push_back({{"at", e.at}, {"kind", e.kind}, {"message", e.message}});
            }
            data["events"] = events;
            if (auto r = svc.runner(job.id)) data["live"] = r->snapshot();
            return Reply::success(data);
        });
    registry.add("submit", "Queue a file; args: path (inside a watch or submit_roots), profile.",
                 true, [&svc](const CommandContext& ctx) { return submit(svc, ctx); });
    registry.add("cancel", "Cancel a queued or running job; args: id.", true,
                 [&svc](const CommandContext& ctx) { return cancel(svc, ctx); });
    registry.add("retry", "Queue a failed or cancelled job again; args: id.", true,
                 [&svc](const CommandContext& ctx) { return retry(svc, ctx); });
    registry.add("pause", "Stop taking files and starting work; args: watch (optional folder).",
                 true,
                 [&svc](const CommandContext& ctx) { return pause_or_resume(svc, ctx, true); });
    registry.add("resume", "Undo pause; args: watch (optional folder).", true,
                 [&svc](const CommandContext& ctx) { return pause_or_resume(svc, ctx, false); });
    registry.add("reload", "Re-read the configuration file (a broken one is rejected).", true,
                 [&svc](const CommandContext&) {
                     Status st = svc.reload();
                     if (!st) return Reply::failure(Code::error, st.error().message);
                     return Reply::success(
                         {{"reloaded", true}, {"watches", svc.context().config.watches.size()}});
                 });
    registry.add("metrics", "Prometheus text exposition.", false, [&svc](const CommandContext&) {
        return Reply::success({{"format", "prometheus-text-0.0.4"}, {"text", svc.metrics_text()}});
    });
    registry.add("subscribe", "Stream job, chunk and progress events, one JSON object per line.",
                 false, [](const CommandContext& ctx) {
                     ctx.connection.subscribe();
                     return Reply::success({{"subscribed", true}});
                 });
}

}  // namespace rr::service
