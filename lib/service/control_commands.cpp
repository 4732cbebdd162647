// The control commands: what `renderrushctl` and scripts can ask the daemon. Each handler runs
// on the loop thread; errors become protocol codes here, at the edge.

#include <unistd.h>

#include "control/server.h"
#include "core/version.h"
#include "service/cluster_commands.h"
#include "service/control_api.h"
#include "service/intake.h"
#include "service/job_runner.h"
#include "service/layout.h"
#include "service/service.h"
#include "web/auth.h"

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
    if (j.reprocess_of) out["reprocess_of"] = *j.reprocess_of;
    if (j.frames_total) out["frames_total"] = *j.frames_total;
    if (j.chunks_total) out["chunks_total"] = *j.chunks_total;
    if (j.started_at) out["started_at"] = *j.started_at;
    if (j.finished_at) out["finished_at"] = *j.finished_at;
    return out;
}

nlohmann::json chunk_json(const store::ChunkRow& c) {
    nlohmann::json out = {{"index", c.task.index()},
                          {"kind", c.task.is_audio() ? "audio" : "video"},
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
    if (c.node) out["node"] = *c.node;
    // Wall-clock Unix seconds: the dashboard's timeline draws each chunk's bar from these.
    if (c.started_at) out["started_at"] = *c.started_at;
    if (c.finished_at) out["finished_at"] = *c.finished_at;
    return out;
}

// A job run by this node alone has no nodes: cluster node ids exist only in cluster mode.
nlohmann::json nodes_json(const std::map<int64_t, std::vector<std::string>>& nodes, int64_t job) {
    auto it = nodes.find(job);
    return it == nodes.end() ? nlohmann::json::array() : nlohmann::json(it->second);
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

Reply submit(const ControlApi& api, const CommandContext& ctx) {
    Reply err;
    auto path_arg = control::string_arg(ctx.request.args, "path");
    if (arg_failed(path_arg, err)) return err;
    auto profile = control::string_arg(ctx.request.args, "profile", std::string());
    if (arg_failed(profile, err)) return err;
    std::error_code ec;
    // realpath: symlinks and ".." cannot smuggle a file in from outside the allowed folders.
    const auto path = std::filesystem::canonical(std::get<std::string>(path_arg), ec);
    if (ec)
        return Reply::failure(Code::not_found, "no such file: " + std::get<std::string>(path_arg));
    // The deepest watch holding the file decides, as for dropped files.
    const Watch* watch = watch_for(api.config, path, RootSpelling::resolved);
    if (!watch && !in_submit_roots(api.config, path)) {
        return Reply::failure(Code::forbidden,
                              path.string() + " is not inside a watched folder or submit_roots");
    }
    if (!std::filesystem::is_regular_file(path, ec))
        return Reply::failure(Code::error, path.string() + " is not a regular file");
    auto job = api.intake.submit(path, watch, std::get<std::string>(profile), ctx.peer.uid);
    if (!job) {
        const auto code = job.error().code == Errc::not_found  ? Code::not_found
                          : job.error().code == Errc::conflict ? Code::conflict
                                                               : Code::error;
        return Reply::failure(code, job.error().message);
    }
    nlohmann::json data = {{"id", job->id}, {"profile", job->profile}, {"path", path.string()}};
    if (job->output) data["output"] = *job->output;
    return Reply::success(data);
}

std::shared_ptr<JobRunner> runner(const ControlApi& api, int64_t id) {
    auto it = api.runners.find(id);
    return it == api.runners.end() ? nullptr : it->second;
}

// The job named by the request's `id` argument, or the reply that says why there is none.
std::variant<store::JobRow, Reply> job_from_args(const ControlApi& api, const CommandContext& ctx) {
    Reply err;
    auto id = control::int_arg(ctx.request.args, "id");
    if (arg_failed(id, err)) return err;
    auto row = api.store.job(std::get<int64_t>(id));
    if (!row) return store_error(row.error());
    if (!*row)
        return Reply::failure(Code::not_found, "no job " + std::to_string(std::get<int64_t>(id)));
    return std::move(**row);
}

Reply cancel(const ControlApi& api, const CommandContext& ctx) {
    auto found = job_from_args(api, ctx);
    if (auto* reply = std::get_if<Reply>(&found)) return *reply;
    const auto& row = std::get<store::JobRow>(found);
    const int64_t job_id = row.id;
    if (store::is_final(row.state)) {
        return Reply::failure(Code::conflict, "job " + std::to_string(job_id) + " already ended (" +
                                                  std::string(store::to_string(row.state)) + ")");
    }
    const std::string why = "cancelled by uid " + std::to_string(ctx.peer.uid);
    if (auto r = runner(api, job_id)) {
        r->cancel(why);
    } else {
        if (Status st = api.store.set_state(job_id, store::JobState::cancelled, why); !st)
            return store_error(st.error());
        api.emit(control::JobEvent{.id = job_id,
                                   .state = store::JobState::cancelled,
                                   .input = row.input_path,
                                   .error = why});
    }
    return Reply::success({{"id", job_id}, {"cancelled", true}});
}

Reply reprocess_job(const ControlApi& api, const CommandContext& ctx, const store::JobRow& row) {
    auto job = api.intake.reprocess(row, ctx.peer.uid);
    if (!job) {
        const auto code = job.error().code == Errc::not_found  ? Code::not_found
                          : job.error().code == Errc::conflict ? Code::conflict
                                                               : Code::error;
        return Reply::failure(code, job.error().message);
    }
    nlohmann::json data = {
        {"id", job->id}, {"reprocess_of", row.id}, {"profile", job->profile}, {"state", "queued"}};
    if (job->output) data["output"] = *job->output;
    return Reply::success(data);
}

Reply reprocess(const ControlApi& api, const CommandContext& ctx) {
    auto found = job_from_args(api, ctx);
    if (auto* reply = std::get_if<Reply>(&found)) return *reply;
    return reprocess_job(api, ctx, std::get<store::JobRow>(found));
}

Reply retry(const ControlApi& api, const CommandContext& ctx) {
    auto found = job_from_args(api, ctx);
    if (auto* reply = std::get_if<Reply>(&found)) return *reply;
    const auto& row = std::get<store::JobRow>(found);
    Reply err;
    auto force = control::bool_arg(ctx.request.args, "force", false);
    if (arg_failed(force, err)) return err;
    // `retry --force` is reprocess for jobs that ended well.
    if (std::get<bool>(force) &&
        (store::published(row.state) || row.state == store::JobState::duplicate))
        return reprocess_job(api, ctx, row);
    const int64_t job_id = row.id;
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
    if (Status st = api.store.retry(job_id); !st) return store_error(st.error());
    api.emit(
        control::JobEvent{.id = job_id, .state = store::JobState::queued, .input = row.input_path});
    api.daemon.schedule_jobs();
    return Reply::success({{"id", job_id}, {"state", "queued"}});
}

Reply pause_or_resume(const ControlApi& api, const CommandContext& ctx, bool pause) {
    Reply err;
    auto watch = control::string_arg(ctx.request.args, "watch", std::string());
    if (arg_failed(watch, err)) return err;
    const auto& w = std::get<std::string>(watch);
    if (w.empty()) {
        api.daemon.set_paused(pause);
        return Reply::success({{"paused", pause}});
    }
    if (!api.intake.set_watch_paused(w, pause))
        return Reply::failure(Code::not_found, "no watch for folder " + w);
    return Reply::success({{"watch", w}, {"paused", pause}});
}

// The machine without its codec and format lists (most of a verbose status's bytes).
nlohmann::json hardware_summary(const nlohmann::json& hw) {
    nlohmann::json out = hw;
    for (const char* list : {"decoders", "encoders", "input_formats"}) out.erase(list);
    return out;
}

nlohmann::json status(const ControlApi& api, bool verbose) {
    nlohmann::json by_state = nlohmann::json::object();
    if (auto counts = api.store.count_by_state()) {
        for (const auto& [k, v] : *counts) by_state[k] = v;
    }
    nlohmann::json watches = nlohmann::json::array();
    for (const auto& w : api.config.watches) {
        watches.push_back({{"path", w.path.string()},
                           {"profile", w.profile},
                           {"output", w.output.string()},
                           {"priority", w.priority},
                           {"paused", api.intake.watch_paused(w.path.string())}});
    }
    nlohmann::json running = nlohmann::json::array();
    for (const auto& [id, r] : api.runners) running.push_back(r->snapshot());
    nlohmann::json out = {
        {"version", kVersion},
        {"pid", ::getpid()},
        {"uptime", api.daemon.uptime_seconds()},
        {"workers", {{"busy", api.scheduler.busy()}, {"total", api.scheduler.size()}}},
        {"jobs", by_state},
        {"queue_depth", by_state.value("queued", 0)},
        {"paused", api.daemon.paused()},
        {"intake",
         {{"paused", api.intake.paused()},
          {"low_disk", api.intake.low_disk()},
          {"settling_files", api.intake.pending()}}},
        {"watches", watches},
        {"running", running},
        {"throughput", api.daemon.throughput()},
        {"database", database_path(api.config).string()},
        {"config", api.config_path.string()},
        {"disabled_profiles", api.disabled_profiles},
        {"hardware", verbose ? api.daemon.hardware() : hardware_summary(api.daemon.hardware())}};
    if (api.cluster) out["cluster"] = cluster_status_json(api.cluster->snapshot());
    return out;
}

}  // namespace

Status register_commands(control::Registry& registry, ControlApi api) {
    using Handler = control::Registry::Handler;
    const std::tuple<const char*, const char*, bool, Handler> commands[] = {
        {"version", "The daemon's version.", false,
         [](const CommandContext&) {
             return Reply::success({{"version", kVersion}, {"name", "renderrushd"}});
         }},
        {"list-commands", "Every command with its help text.", false,
         [&registry](const CommandContext&) {
             return Reply::success({{"commands", registry.list()}});
         }},
        {"health", "Whether the daemon and its job database answer.", false,
         [api](const CommandContext&) {
             auto counts = api.store.count_by_state();
             if (!counts)
                 return Reply::failure(Code::error, "job database: " + counts.error().message);
             return Reply::success({{"healthy", true},
                                    {"database", "ok"},
                                    {"uptime", api.daemon.uptime_seconds()},
                                    {"paused", api.daemon.paused()},
                                    {"low_disk", api.intake.low_disk()}});
         }},
        {"status",
         "Uptime, workers, jobs by state, queue, watches, hardware; args: verbose (with codec "
         "lists).",
         false,
         [api](const CommandContext& ctx) {
             Reply err;
             auto verbose = control::bool_arg(ctx.request.args, "verbose", false);
             if (arg_failed(verbose, err)) return err;
             return Reply::success(status(api, std::get<bool>(verbose)));
         }},
        {"hardware", "The machine: cores, GPUs, and the decoders, encoders and formats.", false,
         [api](const CommandContext&) { return Reply::success(api.daemon.hardware()); }},
        {"jobs", "Jobs, newest first; args: state, limit (50), offset (0).", false,
         [api](const CommandContext& ctx) {
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
                     return Reply::failure(
                         Code::error, "unknown state \"" + std::get<std::string>(state) + "\"");
             }
             const auto n = std::clamp<int64_t>(std::get<int64_t>(limit), 1, 1000);
             auto rows =
                 api.store.jobs(filter, static_cast<int>(n),
                                static_cast<int>(std::max<int64_t>(0, std::get<int64_t>(offset))));
             if (!rows) return store_error(rows.error());
             std::vector<int64_t> ids;
             for (const auto& j : *rows) ids.push_back(j.id);
             auto nodes = api.store.chunk_nodes(ids);
             if (!nodes) return store_error(nodes.error());
             nlohmann::json list = nlohmann::json::array();
             for (const auto& j : *rows) {
                 auto item = job_json(j);
                 item["nodes"] = nodes_json(*nodes, j.id);
                 if (auto r = runner(api, j.id)) item["live"] = r->snapshot();
                 list.push_back(std::move(item));
             }
             return Reply::success({{"jobs", list}});
         }},
        {"job", "One job with its chunks, sidecar and events; args: id.", false,
         [api](const CommandContext& ctx) {
             auto found = job_from_args(api, ctx);
             if (auto* reply = std::get_if<Reply>(&found)) return *reply;
             const auto& job = std::get<store::JobRow>(found);
             auto data = job_json(job);
             nlohmann::json chunks = nlohmann::json::array();
             if (auto rows = api.store.chunks(job.id)) {
                 for (const auto& c : *rows) chunks.push_back(chunk_json(c));
             }
             data["chunks"] = chunks;
             if (auto nodes = api.store.chunk_nodes({job.id}))
                 data["nodes"] = nodes_json(*nodes, job.id);
             data["sidecar"] = job.sidecar ? nlohmann::json::parse(*job.sidecar, nullptr, false)
                                           : nlohmann::json(nullptr);
             nlohmann::json events = nlohmann::json::array();
             if (auto ev = api.store.events(job.id, 50)) {
                 for (const auto& e : *ev)
                     events.push_back({{"at", e.at}, {"kind", e.kind}, {"message", e.message}});
             }
             data["events"] = events;
             if (auto r = runner(api, job.id)) data["live"] = r->snapshot();
             return Reply::success(data);
         }},
        {"submit", "Queue a file; args: path (inside a watch or submit_roots), profile.", true,
         [api](const CommandContext& ctx) { return submit(api, ctx); }},
        {"cancel", "Cancel a queued or running job; args: id.", true,
         [api](const CommandContext& ctx) { return cancel(api, ctx); }},
        {"retry",
         "Queue a failed or cancelled job again; args: id, force (a done or duplicate job: "
         "reprocess it).",
         true, [api](const CommandContext& ctx) { return retry(api, ctx); }},
        {"reprocess",
         "Make a done or duplicate job's file again, as a new job that dedupe leaves alone; "
         "args: id.",
         true, [api](const CommandContext& ctx) { return reprocess(api, ctx); }},
        {"pause", "Stop taking files and starting work; args: watch (optional folder).", true,
         [api](const CommandContext& ctx) { return pause_or_resume(api, ctx, true); }},
        {"resume", "Undo pause; args: watch (optional folder).", true,
         [api](const CommandContext& ctx) { return pause_or_resume(api, ctx, false); }},
        {"reload", "Re-read the configuration file (a broken one is rejected).", true,
         [api](const CommandContext&) {
             Status st = api.daemon.reload();
             if (!st) return Reply::failure(Code::error, st.error().message);
             return Reply::success({{"reloaded", true}, {"watches", api.config.watches.size()}});
         }},
        {"metrics", "Prometheus text exposition.", false,
         [api](const CommandContext&) {
             return Reply::success(
                 {{"format", "prometheus-text-0.0.4"}, {"text", api.daemon.metrics_text()}});
         }},
        // Mutating: the link carries the token, which grants an admin's rights over TCP.
        {"web-url", "The web dashboard's login link (carries its token).", true,
         [api](const CommandContext&) {
             const auto& web = api.config.web;
             if (!web.enabled)
                 return Reply::failure(Code::unsupported,
                                       "the web dashboard is off (web.enabled: false)");
             if (web.listen.empty())
                 return Reply::failure(Code::unsupported,
                                       "the web dashboard has no TCP address (web.listen is "
                                       "empty); it answers on " +
                                           (api.config.paths.runtime_dir / "web.sock").string());
             auto token = web::read_token(web.token_file);
             if (!token) return Reply::failure(Code::error, token.error().message);
             return Reply::success(
                 {{"url", web::login_url(web.listen, *token)},
                  {"socket", (api.config.paths.runtime_dir / "web.sock").string()}});
         }},
        {"subscribe", "Stream job, chunk and progress events, one JSON object per line.", false,
         [](const CommandContext& ctx) {
             ctx.connection.subscribe();
             return Reply::success({{"subscribed", true}});
         }},
    };
    for (const auto& [name, help, mutating, handler] : commands)
        RR_TRY(registry.add(name, help, mutating, handler));
    return register_cluster_commands(registry, api.cluster);
}

}  // namespace rr::service
