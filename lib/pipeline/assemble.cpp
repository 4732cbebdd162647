// summarize_stages and assemble_job: the whole-file steps after the chunk runs.

#include "pipeline/job.h"

namespace rr::pipeline {

std::vector<nlohmann::json> summarize_stages(const PreparedJob& job,
                                             const std::vector<ChunkOutcome>& chunks,
                                             const AudioOutcome* audio) {
    std::vector<nlohmann::json> results;
    for (size_t i = 0; i < job.stages.size(); ++i) {
        std::vector<nlohmann::json> per_chunk;
        for (const auto& c : chunks) {
            per_chunk.push_back(i < c.stage_results.size() ? c.stage_results[i] : nullptr);
        }
        nlohmann::json result = job.stages[i]->summarize(per_chunk);
        if (audio && i < audio->stage_results.size() && !audio->stage_results[i].is_null()) {
            if (result.is_object())
                result.update(audio->stage_results[i]);
            else
                result = audio->stage_results[i];
        }
        results.push_back(std::move(result));
    }
    return results;
}

Result<std::vector<TempFile>> stage_extras(const PreparedJob& job,
                                           const std::vector<nlohmann::json>& stage_results,
                                           const std::filesystem::path& output) {
    const stages::PublishContext where{output, job.work_dir};
    std::vector<TempFile> staged;
    for (size_t i = 0; i < job.stages.size(); ++i) {
        auto files = job.stages[i]->stage_extras(where, stage_results.at(i));
        if (!files) return files.error().context("stage '" + job.stages[i]->name() + "'");
        for (auto& f : *files) staged.push_back(std::move(f));
    }
    return staged;
}

Result<media::AssemblyReport> assemble_job(const PreparedJob& job,
                                           const std::vector<std::filesystem::path>& chunk_files,
                                           const std::optional<std::filesystem::path>& audio_file,
                                           const std::vector<nlohmann::json>& stage_results,
                                           const std::filesystem::path& output) {
    media::AssemblyInputs in;
    in.chunk_files = chunk_files;
    in.audio_file = audio_file;
    for (const auto& s : job.audio.streams) in.audio_source_streams.push_back(s.input_index);
    in.source = &job.file;
    in.source_video_stream = job.video_stream;
    const double tb = av_q2d(job.index.time_base);
    const auto& pts = job.index.pts;
    const auto end = static_cast<size_t>(job.kept.end);
    // A trimmed end: the last kept frame lasts until the first dropped one.
    in.last_frame_duration = end < pts.size() ? static_cast<double>(pts[end] - pts[end - 1]) * tb
                                              : static_cast<double>(job.index.last_duration) * tb;
    if (!pts.empty()) in.start_offset = job.index.seconds(pts[static_cast<size_t>(job.kept.first)]);
    in.container = job.settings.profile.container;
    // HDR10 metadata travels only with an output that is still HDR (never onto SDR pictures).
    in.keep_hdr_metadata = media::is_hdr_transfer(job.encoded.transfer);
    in.hdr_metadata = job.encoded.hdr;
    for (size_t i = 0; i < job.stages.size(); ++i) {
        if (auto chapters = job.stages[i]->chapters(stage_results.at(i)))
            in.chapters = std::move(chapters);
    }
    return media::assemble(in, output);
}

}  // namespace rr::pipeline
