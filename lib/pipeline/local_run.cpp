#include "pipeline/local_run.h"

#include <fmt/format.h>

#include <mutex>
#include <optional>

#include "core/atomic_file.h"
#include "core/clock.h"
#include "pipeline/job.h"
#include "pipeline/sidecar.h"
#include "pipeline/thread_pool.h"
#include "pipeline/work_dir.h"

namespace rr::pipeline {
namespace {

// Runs `count` tasks on the pool; the first failure stops the rest and is returned.
Status run_all(ThreadPool& pool, size_t count,
               const std::function<Status(size_t, std::stop_token)>& task, std::stop_token outer) {
    std::mutex mutex;
    std::optional<Error> first_error;
    std::stop_source local;
    std::stop_callback forward(outer, [&] { local.request_stop(); });
    for (size_t i = 0; i < count; ++i) {
        pool.submit([&, i](std::stop_token pool_stop) {
            if (local.stop_requested() || pool_stop.stop_requested()) return;
            Status st = task(i, local.get_token());
            if (!st.ok()) {
                std::lock_guard lock(mutex);
                // A cancellation caused by another task's failure is not the story.
                if (!first_error ||
                    (first_error->code == Errc::cancelled && st.error().code != Errc::cancelled)) {
                    first_error = st.error();
                }
                local.request_stop();
            }
        });
    }
    pool.wait_idle();
    if (first_error) return *first_error;
    if (outer.stop_requested()) return make_error(Errc::cancelled, "cancelled");
    return {};
}

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

    ThreadPool pool(job->workers);
    const auto t_analysis = SteadyClock::now();
    RR_TRY(
        analyse_job(*job, [&](size_t n, const std::function<Status(size_t, std::stop_token)>& f) {
            return run_all(pool, n, f, stop);
        }));
    nlohmann::json timings = {{"analysis", seconds_since(t_analysis)}};

    // Chunks and the audio track run side by side on the same pool.
    const auto t_chunks = SteadyClock::now();
    progress.start(job->total_frames(), static_cast<int>(job->chunks.size()));
    std::vector<ChunkOutcome> outcomes(job->chunks.size());
    std::vector<std::filesystem::path> chunk_files;
    for (size_t i = 0; i < job->chunks.size(); ++i) {
        chunk_files.push_back(work.path() / ("chunk-" + std::to_string(i) + ".nut"));
    }
    const std::filesystem::path audio_path = work.path() / "audio.nut";
    AudioOutcome audio;
    const size_t tasks = job->chunks.size() + 1;
    RR_TRY(run_all(
        pool, tasks,
        [&](size_t i, std::stop_token st) -> Status {
            if (i == job->chunks.size()) {
                RR_ASSIGN(audio, run_audio(*job, audio_path, st));
                return {};
            }
            auto outcome = run_chunk(*job, static_cast<int>(i), chunk_files[i], &progress, st);
            if (!outcome) return outcome.error();
            outcomes[i] = std::move(outcome).value();
            return {};
        },
        stop));
    timings["chunks"] = seconds_since(t_chunks);
    if (audio.written) timings["audio"] = audio.seconds;

    int64_t errors = 0;
    for (const auto& o : outcomes) errors += o.decode_errors;
    if (errors > decode_error_budget(*job)) {
        return make_error(Errc::media,
                          std::to_string(errors) + " frames could not be decoded (budget " +
                              std::to_string(decode_error_budget(*job)) +
                              " from limits.decode_error_ratio " +
                              fmt::format("{:g}", settings.limits.decode_error_ratio) + ")");
    }
    if (errors > 0) logger->warn("{}: {} damaged frames concealed", spec.input.string(), errors);

    // Assemble under a temporary name, describe it, write the sidecar, then publish.
    const auto t_assemble = SteadyClock::now();
    const auto stage_results = summarize_stages(*job, outcomes, &audio);
    TempFile staged(spec.output);
    RR_ASSIGN(auto assembly, assemble_job(*job, chunk_files,
                                          audio.written ? std::optional(audio_path) : std::nullopt,
                                          stage_results, staged.path()));
    timings["assemble"] = seconds_since(t_assemble);
    RR_ASSIGN(media::MediaInfo out_info, media::probe_file(staged.path()));
    out_info.path = spec.output.string();
    timings["total"] = seconds_since(t0);

    SidecarParts parts;
    parts.job = job.get();
    parts.profile = spec.profile_name;
    parts.chunks = std::move(outcomes);
    parts.stage_results = stage_results;
    parts.audio_plan = &audio.plan;
    parts.assembly = assembly;
    parts.output = out_info;
    parts.timings = timings;
    LocalResult result;
    result.sidecar = make_sidecar(parts);
    result.sidecar_path = sidecar_path_for(spec.output);
    RR_TRY(publish_stage_extras(*job, stage_results, spec.output));
    RR_TRY(write_file_atomic(result.sidecar_path, result.sidecar.dump(2) + "\n"));
    Status published = staged.commit();
    if (!published) {
        std::error_code ec;
        std::filesystem::remove(result.sidecar_path, ec);
        return published.error();
    }
    return result;
}

}  // namespace rr::pipeline
