#include "pipeline/local_run.h"

#include <optional>

#include "core/clock.h"
#include "pipeline/scheduler.h"
#include "pipeline/work_dir.h"
#include "worker/client.h"

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
    settings.work_dir = work.path();
    // Everything that reads the input runs in worker processes; this one only schedules.
    worker::JobSpec job{spec.input, settings,
                        std::string(spdlog::level::to_string_view(logger->level()).data())};
    job.zygote = spec.zygote;
    RR_ASSIGN(worker::PlanSummary plan, worker::run_prepare(job, stop));
    logger->info("{}: {}", spec.input.string(), plan.log);

    // The calling thread works too, so `workers` processes in all run chunks.
    constexpr int64_t kJob = 0;
    Scheduler pool(resolve_workers(settings.workers) - 1);
    pool.add_job(kJob, 0);
    std::stop_callback cancel(stop, [&] { pool.cancel(kJob); });
    auto run_all = [&](size_t n,
                       const std::function<Status(size_t, std::stop_token)>& f) -> Status {
        Status st = pool.run_parallel(kJob, n, f);
        if (st.ok() && stop.stop_requested()) return make_error(Errc::cancelled, "cancelled");
        return st;
    };

    // Chunks and the audio track run side by side on the same pool.
    const auto t_chunks = SteadyClock::now();
    const size_t chunks = plan.chunks.size();
    progress.start(plan.output_frames, static_cast<int>(chunks));
    worker::PublishSpec pub;
    pub.chunks.resize(chunks);
    worker::TaskFile audio;
    RR_TRY(run_all(chunks + (plan.audio ? 1 : 0), [&](size_t i, std::stop_token st) -> Status {
        if (i == chunks) {
            RR_ASSIGN(audio, worker::run_audio(job, static_cast<int>(chunks), st));
            return {};
        }
        RR_ASSIGN(auto done, worker::run_chunk(job, static_cast<int>(i), &progress, st));
        pub.chunks[i] = std::move(done.outcome);
        return {};
    }));
    pub.timings = {{"chunks", seconds_since(t_chunks)}};
    if (plan.audio) {
        pub.audio = audio.outcome;
        pub.audio_written = audio.file.has_value();
        if (pub.audio_written) pub.timings["audio"] = audio.outcome.value("seconds", 0.0);
    }
    pub.output = spec.output;
    pub.profile_name = spec.profile_name;
    pub.elapsed = seconds_since(t0);
    RR_ASSIGN(worker::PublishResult published, worker::run_publish(job, pub, stop));
    return LocalResult{std::move(published.sidecar), std::move(published.sidecar_path)};
}

}  // namespace rr::pipeline
