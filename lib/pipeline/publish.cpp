#include "pipeline/publish.h"

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/clock.h"
#include "pipeline/frame_pair.h"
#include "pipeline/sidecar.h"

namespace rr::pipeline {

std::filesystem::path chunk_file(const std::filesystem::path& work_dir, int chunk) {
    return work_dir / ("chunk-" + std::to_string(chunk) + ".nut");
}

std::filesystem::path audio_file(const std::filesystem::path& work_dir) {
    return work_dir / "audio.nut";
}

nlohmann::json to_json(const ChunkOutcome& o) {
    return {{"index", o.index},
            {"frames", o.frames},
            {"lost", o.lost},
            {"damaged", o.damaged},
            {"seconds", o.seconds},
            {"bytes", o.bytes},
            {"stage_results", o.stage_results},
            {"node", o.node},
            {"started_at", o.started_at},
            {"finished_at", o.finished_at}};
}

ChunkOutcome chunk_outcome_from_json(const nlohmann::json& j) {
    ChunkOutcome o;
    o.index = j.value("index", 0);
    o.frames = j.value("frames", int64_t{0});
    o.lost = j.value("lost", std::vector<int64_t>{});
    o.damaged = j.value("damaged", std::vector<int64_t>{});
    o.seconds = j.value("seconds", 0.0);
    o.bytes = j.value("bytes", int64_t{0});
    o.node = j.value("node", std::string());
    o.started_at = j.value("started_at", 0.0);
    o.finished_at = j.value("finished_at", 0.0);
    if (j.contains("stage_results"))
        o.stage_results = j["stage_results"].get<std::vector<nlohmann::json>>();
    return o;
}

nlohmann::json to_json(const AudioOutcome& o) {
    nlohmann::json filters = nlohmann::json::array();
    for (const auto& s : o.plan.streams) filters.push_back(s.filter);
    return {{"written", o.written},
            {"seconds", o.seconds},
            {"filters", filters},
            {"stage_results", o.stage_results}};
}

AudioOutcome audio_outcome_from_json(const PreparedJob& job, const nlohmann::json& j) {
    AudioOutcome o;
    o.plan = job.audio;
    o.written = j.value("written", !job.audio.empty());
    o.seconds = j.value("seconds", 0.0);
    const auto filters = j.value("filters", std::vector<std::string>{});
    // Only a record that matches today's plan stream for stream can describe it.
    if (filters.size() == o.plan.streams.size()) {
        for (size_t i = 0; i < filters.size(); ++i) o.plan.streams[i].filter = filters[i];
    }
    if (j.contains("stage_results"))
        o.stage_results = j["stage_results"].get<std::vector<nlohmann::json>>();
    return o;
}

namespace {

// The dashboard's before/after pictures, staged beside the output. Only a nicety: a failure
// is logged, never fatal.
struct StagedPreview {
    nlohmann::json record;  // the sidecar's `preview`
    TempFile folder;
};
std::optional<StagedPreview> stage_frame_pair(const PreparedJob& job,
                                              const std::filesystem::path& staged_output,
                                              const media::MediaInfo& out_info,
                                              const std::filesystem::path& output) {
    if (out_info.duration <= 0) return std::nullopt;
    FramePairRequest fr;
    fr.input = job.input;
    fr.output = staged_output;
    const auto& pts = job.index.pts;
    if (!pts.empty() && job.kept.first > 0 && static_cast<size_t>(job.kept.first) < pts.size())
        fr.input_offset = job.index.seconds(pts[static_cast<size_t>(job.kept.first)]);
    fr.output_duration = out_info.duration;
    const auto final_dir = frame_pair_dir(output);
    TempFile folder(final_dir);
    auto written = write_frame_pair(fr, folder.path());
    Status st = written ? fsync_folder(folder.path()) : Status(written.error());
    if (!st) {
        job.logger->warn("{}: no before/after frames: {}", job.input.string(), st.error().message);
        return std::nullopt;
    }
    (*written)["folder"] = final_dir.filename().string();
    return StagedPreview{std::move(*written), std::move(folder)};
}

}  // namespace

Result<Published> publish_job(PublishRequest req) {
    const PreparedJob& job = *req.job;
    int64_t errors = 0;
    int64_t damaged = 0;
    for (const auto& o : req.chunks) {
        errors += static_cast<int64_t>(o.lost.size());
        damaged += static_cast<int64_t>(o.damaged.size());
    }
    if (errors > decode_error_budget(job)) {
        return make_error(Errc::media,
                          std::to_string(errors) + " frames could not be decoded (budget " +
                              std::to_string(decode_error_budget(job)) +
                              " from limits.decode_error_ratio " +
                              fmt::format("{:g}", job.settings.limits.decode_error_ratio) + ")");
    }
    if (errors > 0 || damaged > 0) {
        job.logger->warn(
            "{}: {} frames damaged (decoded with concealed errors), {} lost (replaced by their "
            "neighbour)",
            job.input.string(), damaged, errors);
    }

    // Assemble under a temporary name, describe it, write the sidecar, then publish.
    const auto t0 = SteadyClock::now();
    const auto stage_results = summarize_stages(job, req.chunks, &req.audio);
    TempFile staged(req.output);
    RR_ASSIGN(auto assembly,
              assemble_job(job, req.chunk_files, req.audio_file, stage_results, staged.path()));
    req.timings["assemble"] = seconds_since(t0);
    RR_ASSIGN(media::MediaInfo out_info, media::probe_file(staged.path()));
    out_info.path = req.output.string();
    req.timings["total"] = seconds_since(req.started);

    SidecarParts parts;
    parts.job = &job;
    parts.profile = req.profile_name;
    parts.chunks = std::move(req.chunks);
    parts.stage_results = stage_results;
    if (!req.audio.plan.empty()) parts.audio_plan = &req.audio.plan;
    parts.assembly = assembly;
    parts.output = out_info;
    parts.timings = req.timings;
    Published result;
    result.sidecar = make_sidecar(parts);
    if (!req.retried.empty()) result.sidecar["retried"] = req.retried;
    result.sidecar_path = sidecar_path_for(req.output);
    RR_ASSIGN(std::vector<TempFile> extras, stage_extras(job, stage_results, req.output));
    if (req.frame_pair) {
        if (auto preview = stage_frame_pair(job, staged.path(), out_info, req.output)) {
            result.sidecar["preview"] = std::move(preview->record);
            extras.push_back(std::move(preview->folder));
        }
    }
    if (req.stage_only) {
        RR_ASSIGN(TempFile sidecar,
                  write_temp_file(result.sidecar_path, result.sidecar.dump(2) + "\n"));
        RR_TRY(fsync_path(staged.path()));
        for (auto& e : extras) {
            const auto final_path = e.final_path();
            result.staged_extras.push_back({final_path, e.release()});
        }
        result.staged_sidecar = sidecar.release();
        result.staged_output = staged.release();
        return result;
    }
    // One node: nobody else publishes here, so the output goes last (whoever sees it finds
    // everything that accompanies it).
    for (auto& e : extras) RR_TRY(e.commit());
    RR_TRY(write_file_atomic(result.sidecar_path, result.sidecar.dump(2) + "\n"));
    if (Status published = staged.commit(); !published) {
        std::error_code ec;
        std::filesystem::remove(result.sidecar_path, ec);
        return published.error();
    }
    return result;
}

std::vector<std::filesystem::path> accompanying_paths(const std::filesystem::path& output) {
    return {output.string() + std::string(stages::kDetectionsSuffix),
            output.string() + std::string(stages::kScenesSuffix), frame_pair_dir(output)};
}

size_t remove_staged_files(const std::filesystem::path& output) {
    std::vector<std::filesystem::path> finals = accompanying_paths(output);
    finals.push_back(output);
    finals.push_back(sidecar_path_for(output));
    const auto dir =
        output.parent_path().empty() ? std::filesystem::path(".") : output.parent_path();
    std::vector<std::filesystem::path> doomed;
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator(dir, ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
        // Compared in the form temp_sibling() gives them.
        const auto p = output.parent_path() / it->path().filename();
        for (const auto& f : finals) {
            if (is_temp_sibling_of(p, f)) {
                doomed.push_back(it->path());
                break;
            }
        }
    }
    size_t removed = 0;
    for (const auto& p : doomed) {
        std::error_code rm;
        if (std::filesystem::remove_all(p, rm) > 0) ++removed;
    }
    return removed;
}

}  // namespace rr::pipeline
