#include "pipeline/local_run.h"

#include <optional>

#include "core/clock.h"
#include "pipeline/job.h"
#include "pipeline/publish.h"
#include "pipeline/scheduler.h"
#include "pipeline/work_dir.h"

namespace rr::pipeline {
namespace {

Status check_paths(const LocalJob& job) {
    std::error_code ec;
    if (!std::filesystem::exists(job.input, ec)) return make_error(Errc::not_found, "no such file");
    const auto dir =
        job.output.parent_path().empty() ? std::filesystem::path(".") : job.output.parent_path();
    if (!std::filesystem::is_directory(dir, ec)) {
        return make_error(Errc::invalid_argument,
                          "output directory " + dir.string() + " does not exist");
    }
    if (std::filesystem::exists(job.output, ec) &&
        std::filesystem::equivalent(job.input, job.output, ec)) {
        return make_error(Errc::invalid_argument, "output would overwrite the input");
    }
    return {};
}

}  // namespace

Result<LocalResult> run_local(const LocalJob& spec, const LoggerPtr& logger, Progress& progress,
                              std::stop_token stop) {
    const auto t0 = SteadyClock::now();
    RR_TRY(check_paths(spec));
    const auto out_dir =
        spec.output.parent_path().empty() ? std::filesystem::path(".") : spec.output.parent_path();
    JobSettings settings = spec.settings;
    RR_ASSIGN(WorkDir work, WorkDir::create(settings.work_dir.empty() ? out_dir : settings.work_dir,
                                            spec.output.filename().string()));
    RR_ASSIGN(auto job, prepare_job(spec.input, settings, logger));
    job->work_dir = work.path();
    logger->info("{}: {} frames, {} chunks, {} workers x {} threads, encoder {}",
                 spec.input.string(), job->total_frames(), job->chunks.size(), job->workers,
                 job->threads_per_worker, job->encoder.name);

    // The calling thread works too, so `workers` threads in all process chunks.
    constexpr int64_t kJob = 0;
    Scheduler pool(job->workers - 1);
    pool.add_job(kJob, 0);
    std::stop_callback cancel(stop, [&] { pool.cancel(kJob); });
    auto run_all = [&](size_t n,
                       const std::function<Status(size_t, std::stop_token)>& f) -> Status {
        Status st = pool.run_parallel(kJob, n, f);
        if (st.ok() && stop.stop_requested()) return make_error(Errc::cancelled, "cancelled");
        return st;
    };
    const auto t_analysis = SteadyClock::now();
    RR_TRY(analyse_job(*job, run_all));
    nlohmann::json timings = {{"analysis", seconds_since(t_analysis)}};

    // Chunks and the audio track run side by side on the same pool.
    const auto t_chunks = SteadyClock::now();
    progress.start(job->output_frames(), static_cast<int>(job->chunks.size()));
    PublishRequest req;
    req.job = job.get();
    req.chunks.resize(job->chunks.size());
    for (size_t i = 0; i < job->chunks.size(); ++i)
        req.chunk_files.push_back(chunk_file(work.path(), static_cast<int>(i)));
    const std::filesystem::path audio_path = audio_file(work.path());
    AudioOutcome audio;
    const size_t tasks = job->chunks.size() + 1;
    RR_TRY(run_all(tasks, [&](size_t i, std::stop_token st) -> Status {
        if (i == job->chunks.size()) {
            RR_ASSIGN(audio, run_audio(*job, audio_path, st));
            return {};
        }
        auto outcome = run_chunk(*job, static_cast<int>(i), req.chunk_files[i], &progress, st);
        if (!outcome) return outcome.error();
        req.chunks[i] = std::move(outcome).value();
        return {};
    }));
    timings["chunks"] = seconds_since(t_chunks);
    if (audio.written) {
        req.audio_file = audio_path;
        timings["audio"] = audio.seconds;
    }
    req.audio = std::move(audio);
    req.output = spec.output;
    req.profile_name = spec.profile_name;
    req.timings = timings;
    req.started = t0;
    RR_ASSIGN(Published published, publish_job(std::move(req)));
    return LocalResult{std::move(published.sidecar), std::move(published.sidecar_path)};
}

}  // namespace rr::pipeline
