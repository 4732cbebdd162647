// run_audio and assemble_job: the whole-file steps around the chunk runs.

#include "pipeline/job.h"

namespace rr::pipeline {

Result<bool> run_audio(const PreparedJob& job, const std::filesystem::path& out,
                       std::stop_token stop) {
    if (job.audio.empty()) return false;
    RR_TRY(media::write_audio(job.file, job.audio, out, stop));
    return true;
}

Result<media::AssemblyReport> assemble_job(const PreparedJob& job,
                                           const std::vector<std::filesystem::path>& chunk_files,
                                           const std::optional<std::filesystem::path>& audio_file,
                                           const std::filesystem::path& output) {
    media::AssemblyInputs in;
    in.chunk_files = chunk_files;
    in.audio_file = audio_file;
    in.source = &job.file;
    in.source_video_stream = job.video_stream;
    in.last_frame_duration =
        static_cast<double>(job.index.last_duration) * av_q2d(job.index.time_base);
    in.container = job.settings.profile.container;
    return media::assemble(in, output);
}

}  // namespace rr::pipeline
