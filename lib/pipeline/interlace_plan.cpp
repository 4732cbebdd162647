// decide_interlace: what video.interlace means for this input.

#include "core/clock.h"
#include "pipeline/job.h"

namespace rr::pipeline {

Status decide_interlace(PreparedJob& job, AVFieldOrder stream_order,
                        const media::InterlaceDetection* known) {
    const auto t0 = SteadyClock::now();
    VideoSettings& video = job.settings.profile.video;
    media::InterlaceDetection detected;
    if (known) {
        detected = *known;
    } else {
        RR_ASSIGN(detected, media::detect_interlace(job.file, job.video_stream, job.index,
                                                    job.decoded, stream_order, job.workers));
        if (detected.method == "idet") {
            job.timings["interlace_detection"] = seconds_since(t0);
            job.logger->debug("{}: idet over {} frames", job.input.string(),
                              detected.idet ? detected.idet->sampled : 0);
        }
    }
    RR_ASSIGN(job.interlace, media::plan_interlace(detected, video.interlace,
                                                   video.deinterlace_rate, video.codec));
    const char* order = media::field_order_name(detected.order);
    switch (job.interlace.action) {
        case media::InterlaceAction::deinterlaced:
            job.logger->info("{}: deinterlacing ({} by {}): {}", job.input.string(), order,
                             detected.method, job.interlace.filter);
            break;
        case media::InterlaceAction::kept:
            // Only libx264 codes fields here; a hardware encoder would flatten them.
            if (video.hwaccel != HwAccel::automatic && video.hwaccel != HwAccel::none) {
                return make_error(Errc::unsupported,
                                  std::string("video.interlace: keep: the input is interlaced (") +
                                      order +
                                      ") and only libx264 encodes it interlaced here, "
                                      "not hwaccel " +
                                      std::string(to_string(video.hwaccel)));
            }
            video.hwaccel = HwAccel::none;
            job.logger->info("{}: keeping interlaced fields ({}), encoding with libx264",
                             job.input.string(), order);
            break;
        case media::InterlaceAction::none:
            break;
    }
    return {};
}

Status check_interlace_chain(const PreparedJob& job) {
    const auto& plan = job.interlace;
    if (plan.rate_factor() > 1) {
        // Analyzers and the stages deciding cuts and trims count source frames.
        for (const auto& stage : job.stages) {
            if (stage->analyzer(stages::ChunkContext{})) {
                return make_error(Errc::invalid_argument,
                                  "video.deinterlace_rate: field cannot be combined with the '" +
                                      stage->name() + "' stage, which analyses the whole video");
            }
        }
    }
    if (plan.action == media::InterlaceAction::kept && job.encoded.height != job.working.height) {
        return make_error(Errc::invalid_argument,
                          "video.interlace: keep: a stage changes the picture height, which "
                          "would mix the fields; use interlace: auto or deinterlace");
    }
    return {};
}

}  // namespace rr::pipeline
