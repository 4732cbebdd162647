#include "worker/tasks.h"

#include "core/clock.h"
#include "media/checksum.h"
#include "pipeline/job.h"
#include "pipeline/no_audio.h"
#include "pipeline/publish.h"
#include "pipeline/scheduler.h"
#include "worker/plan_file.h"
#include "worker/settings_json.h"

namespace rr::worker {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// The file a task wrote, as the daemon records it.
Result<json> describe_file(const fs::path& file) {
    RR_ASSIGN(std::string sum, media::xxh3_128_file(file));
    std::error_code ec;
    const auto bytes = fs::file_size(file, ec);
    if (ec) return make_error(Errc::io, "cannot stat " + file.string() + ": " + ec.message());
    return json{{"file", file.string()}, {"bytes", static_cast<int64_t>(bytes)}, {"checksum", sum}};
}

// prepare_job and the analysis passes, chunk-parallel on this worker's own threads (the job's
// core budget, like the chunks that follow).
Result<json> prepare(const fs::path& input, const pipeline::JobSettings& settings,
                     const LoggerPtr& logger, std::stop_token stop) {
    RR_ASSIGN(auto job, pipeline::prepare_job(input, settings, logger));
    job->work_dir = settings.work_dir;
    pipeline::Scheduler pool(job->workers - 1);
    constexpr int64_t kJob = 0;
    pool.add_job(kJob, 0);
    std::stop_callback cancel(stop, [&] { pool.cancel(kJob); });
    const auto t0 = SteadyClock::now();
    RR_TRY(pipeline::analyse_job(*job, [&](size_t n, const auto& fn) -> Status {
        Status st = pool.run_parallel(kJob, n, fn);
        if (st.ok() && stop.stop_requested()) return make_error(Errc::cancelled, "cancelled");
        return st;
    }));
    job->timings["analysis"] = seconds_since(t0);
    RR_TRY(write_plan(*job));
    json summary = plan_summary(*job);
    summary["log"] = fmt::format("{} frames, {} chunks, {} workers x {} threads, encoder {}",
                                 job->total_frames(), job->chunks.size(), job->workers,
                                 job->threads_per_worker, job->encoder.name);
    return summary;
}

// `process --dry-run`: prepare_job and what it decided, nothing written (the worker is given
// no folder to write in). The caller adds what it knows without the input: names, container.
Result<json> dry_run(const fs::path& input, const pipeline::JobSettings& settings,
                     const LoggerPtr& logger) {
    RR_ASSIGN(auto job, pipeline::prepare_job(input, settings, logger));
    json stages = json::array();
    for (const auto& s : job->stages)
        stages.push_back({{"name", s->name()}, {"params", s->params()}});
    json chunks = json::array();
    for (const auto& c : job->chunks) {
        chunks.push_back({{"index", c.index},
                          {"first_frame", c.first_frame},
                          {"end_frame", c.end_frame},
                          {"frames", c.frames()},
                          {"start", c.start_time},
                          {"end", c.end_time}});
    }
    return json{{"source",
                 {{"width", job->decoded.width},
                  {"height", job->decoded.height},
                  {"frames", job->total_frames()}}},
                {"output_size", {{"width", job->encoded.width}, {"height", job->encoded.height}}},
                {"stages", stages},
                {"video", job->encoder.to_json()},
                {"audio_streams", job->audio.to_json()},
                {"workers", job->workers},
                {"threads_per_worker", job->threads_per_worker},
                {"chunks", chunks}};
}

// The file a task writes: the one asked for (cluster nodes name it by lease epoch), else the
// work folder's usual name. Only a name inside the work folder is accepted.
Result<fs::path> task_output(const pipeline::PreparedJob& job, const json& req,
                             const fs::path& usual) {
    if (!req.contains("file")) return usual;
    fs::path file = req["file"].get<std::string>();
    std::error_code ec;
    if (!fs::equivalent(file.parent_path(), job.work_dir, ec))
        return make_error(Errc::internal,
                          "task file " + file.string() + " is outside " + job.work_dir.string());
    return file;
}

Result<json> chunk(const pipeline::PreparedJob& job, int idx, const json& req,
                   const ReportFrames& report, std::stop_token stop) {
    if (idx < 0 || static_cast<size_t>(idx) >= job.chunks.size())
        return make_error(Errc::internal, "no chunk " + std::to_string(idx) + " in the plan");
    RR_ASSIGN(const fs::path file, task_output(job, req, pipeline::chunk_file(job.work_dir, idx)));
    pipeline::Progress progress;
    // Frames reach the parent as the chunk goes, from a thread of its own.
    std::jthread reporter([&](std::stop_token done) {
        int64_t sent = 0;
        while (!done.stop_requested()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(250));
            const int64_t now = progress.snapshot().frames_done;
            if (now > sent) report(now - sent);
            sent = now;
        }
        const int64_t last = progress.snapshot().frames_done;
        if (last > sent) report(last - sent);
    });
    auto outcome = pipeline::run_chunk(job, idx, file, &progress, stop);
    reporter.request_stop();
    reporter.join();
    if (!outcome) return outcome.error();
    RR_ASSIGN(json out, describe_file(file));
    out["outcome"] = pipeline::to_json(*outcome);
    return out;
}

Result<json> audio(const pipeline::PreparedJob& job, const json& req, std::stop_token stop) {
    RR_ASSIGN(const fs::path file, task_output(job, req, pipeline::audio_file(job.work_dir)));
    RR_ASSIGN(auto outcome, pipeline::run_audio(job, file, stop));
    json out = json::object();
    if (outcome.written) {
        RR_ASSIGN(out, describe_file(file));
    }
    out["outcome"] = pipeline::to_json(outcome);
    return out;
}

Result<json> publish(const pipeline::PreparedJob& job, const json& req) {
    pipeline::PublishRequest p;
    p.job = &job;
    for (const auto& c : req.at("chunks")) p.chunks.push_back(pipeline::chunk_outcome_from_json(c));
    if (req.contains("chunk_files")) {
        for (const auto& f : req["chunk_files"]) p.chunk_files.push_back(f.get<std::string>());
    } else {
        for (size_t i = 0; i < job.chunks.size(); ++i)
            p.chunk_files.push_back(pipeline::chunk_file(job.work_dir, static_cast<int>(i)));
    }
    if (p.chunk_files.size() != job.chunks.size())
        return make_error(Errc::internal, "publish request does not name every chunk's file");
    if (p.chunks.size() != job.chunks.size())
        return make_error(Errc::internal, "publish request does not list every chunk");
    if (req.contains("audio") && !req["audio"].is_null()) {
        p.audio = pipeline::audio_outcome_from_json(job, req["audio"]);
    } else {
        // No audio task ran because the input has no audio: its stages say so, as in-process.
        p.audio.stage_results = pipeline::no_audio_results(job);
    }
    if (req.value("audio_written", false)) {
        p.audio_file = req.contains("audio_file") ? fs::path(req["audio_file"].get<std::string>())
                                                  : pipeline::audio_file(job.work_dir);
    }
    p.stage_only = req.value("stage_only", false);
    p.output = req.at("output").get<std::string>();
    p.profile_name = req.value("profile_name", std::string());
    p.timings = req.value("timings", json::object());
    p.retried = req.value("retried", json::array());
    p.frame_pair = req.value("frame_pair", false);
    const auto elapsed = std::chrono::duration<double>(req.value("elapsed", 0.0));
    p.started = SteadyClock::now() - std::chrono::duration_cast<SteadyClock::duration>(elapsed);
    const bool stage_only = p.stage_only;
    RR_ASSIGN(auto published, pipeline::publish_job(std::move(p)));
    json out{{"sidecar", std::move(published.sidecar)},
             {"sidecar_path", published.sidecar_path.string()}};
    if (stage_only) {
        out["staged_output"] = published.staged_output.string();
        out["staged_sidecar"] = published.staged_sidecar.string();
        out["staged_extras"] = json::array();
        for (const auto& e : published.staged_extras)
            out["staged_extras"].push_back(
                {{"final", e.final_path.string()}, {"temp", e.temp.string()}});
    }
    return out;
}

}  // namespace

Result<json> run_task(const json& req, const LoggerPtr& logger, const ReportFrames& report,
                      std::stop_token stop) {
    const std::string task = req.value("task", std::string());
    RR_ASSIGN(auto settings, settings_from_json(req.value("settings", json::object())));
    // OpenCV's pool is per process: this worker's share of the cores, as in the parent.
    pipeline::configure_opencv_threads(settings.workers);
    const fs::path input = req.value("input", std::string());
    if (task == "prepare") return prepare(input, settings, logger, stop);
    if (task == "dry_run") return dry_run(input, settings, logger);
    RR_ASSIGN(auto job, restore_job(input, settings, logger));
    if (task == "chunk") return chunk(*job, req.value("chunk", -1), req, report, stop);
    if (task == "audio") return audio(*job, req, stop);
    if (task == "publish") return publish(*job, req);
    return make_error(Errc::internal, "unknown worker task '" + task + "'");
}

}  // namespace rr::worker
