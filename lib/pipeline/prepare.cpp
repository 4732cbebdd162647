// prepare_job: everything decided before the first frame is decoded.

#include <cmath>

extern "C" {
#include <libavutil/pixdesc.h>
}

#include "core/clock.h"
#include "media/checksum.h"
#include "media/demuxer.h"
#include "media/hdr_metadata.h"
#include "pipeline/job.h"
#include "stages/factory.h"

namespace rr::pipeline {
namespace {

media::FrameFormat decoded_format(const AVStream* st) {
    const AVCodecParameters* par = st->codecpar;
    media::FrameFormat f;
    f.width = par->width;
    f.height = par->height;
    f.pix_fmt = static_cast<AVPixelFormat>(par->format);
    f.time_base = st->time_base;
    f.frame_rate = st->avg_frame_rate.num > 0 ? st->avg_frame_rate : st->r_frame_rate;
    f.sample_aspect =
        par->sample_aspect_ratio.num > 0 ? par->sample_aspect_ratio : AVRational{1, 1};
    f.primaries = par->color_primaries;
    f.transfer = par->color_trc;
    f.matrix = par->color_space;
    f.range = par->color_range;
    return f;
}

// The stages' input: the encoder's pixel format, even-sized where chroma is subsampled.
// When a stage needs the source's depth (HDR tone mapping), deep sources stay deep and the
// conversion to the encoder's depth happens after the last stage.
media::FrameFormat working_format(const media::FrameFormat& in, const VideoSettings& video,
                                  bool keep_depth, bool& cropped) {
    media::FrameFormat w = in;
    w.pix_fmt = media::output_pix_fmt(video, in.bit_depth());
    if (keep_depth && in.bit_depth() > 8) {
        w.pix_fmt = in.bit_depth() > 10 ? AV_PIX_FMT_YUV420P12LE : AV_PIX_FMT_YUV420P10LE;
    }
    const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(w.pix_fmt);
    const int mask_w = d ? (1 << d->log2_chroma_w) - 1 : 0;
    const int mask_h = d ? (1 << d->log2_chroma_h) - 1 : 0;
    w.width = in.width & ~mask_w;
    w.height = in.height & ~mask_h;
    cropped = w.width != in.width || w.height != in.height;
    const AVPixFmtDescriptor* src = av_pix_fmt_desc_get(in.pix_fmt);
    const bool src_rgb = src && (src->flags & AV_PIX_FMT_FLAG_RGB);
    if (src_rgb) {
        w.matrix = AVCOL_SPC_BT709;  // RGB sources get a defined matrix rather than a guess
        w.range = AVCOL_RANGE_MPEG;
    } else if (w.pix_fmt != in.pix_fmt) {
        w.range = AVCOL_RANGE_MPEG;  // the converter produces limited range
    }
    return w;
}

std::string pixel_count_text(int64_t n) {
    return std::to_string(n / 1000000) + "." + std::to_string((n / 100000) % 10) + " Mpx";
}

// chunk_seconds is an upper target. A job of only a few rounds of chunks is cut into a
// multiple of the workers that take its chunks (the farm's in cluster mode) of even length, so
// no worker is left with a long last chunk while the others idle; those cuts favour even
// lengths over keyframes. Chunks never get shorter than kMinChunkSeconds, where per-chunk
// start-up would dominate.
constexpr double kMinChunkSeconds = 2.0;
constexpr double kEvenKeyframeWindow = 0.1;

media::PlanOptions plan_options(const PreparedJob& job, std::span<const int64_t> cuts) {
    media::PlanOptions o;
    o.chunk_seconds = job.settings.chunk_seconds;
    o.preferred_cuts = cuts;
    o.preroll_frames = job.preroll();
    const int workers = job.plan_workers();
    if (job.index.frames() == 0 || workers <= 1 || o.chunk_seconds <= 0) return o;
    const double duration = job.index.seconds(job.index.pts.back());
    const auto count = static_cast<int>(std::ceil(duration / o.chunk_seconds));
    if (count >= 2 * workers) return o;
    const int even = ((count + workers - 1) / workers) * workers;
    o.chunk_seconds = std::max(kMinChunkSeconds, duration / even);
    o.keyframe_window = kEvenKeyframeWindow;
    return o;
}

}  // namespace

void plan_job_chunks(PreparedJob& job, std::span<const int64_t> cuts) {
    const auto planned = media::plan_chunks(job.index, plan_options(job, cuts));
    // Trimmed frames belong to no chunk: chunks outside the kept range go, edge ones shrink.
    const auto n = job.total_frames();
    const auto& pts = job.index.pts;
    job.chunks.clear();
    for (media::ChunkSpan c : planned) {
        if (c.end_frame <= job.kept.first || c.first_frame >= job.kept.end) continue;
        if (c.first_frame < job.kept.first) {
            c.first_frame = job.kept.first;
            c.start_pts = pts[static_cast<size_t>(c.first_frame)];
            c.start_time = job.index.seconds(c.start_pts);
            c.starts_on_key = job.index.is_key_frame(static_cast<size_t>(c.first_frame));
        }
        if (c.end_frame > job.kept.end) {
            c.end_frame = job.kept.end;
            c.end_pts = c.end_frame < n ? pts[static_cast<size_t>(c.end_frame)] : INT64_MAX;
            c.end_time = job.index.seconds(c.end_pts);
        }
        c.index = static_cast<int>(job.chunks.size());
        job.chunks.push_back(c);
    }
    // `workers` is this node's core budget: that many chunks run at once here, and when there
    // are fewer chunks than workers the spare share goes to each chunk's codec threads.
    const int parallel =
        std::max(1, std::min<int>(job.workers, static_cast<int>(job.chunks.size())));
    job.threads_per_worker = std::max(1, job.workers / parallel);
}

int64_t PreparedJob::output_frames() const {
    int64_t n = 0;
    for (const auto& c : chunks) n += c.frames();
    return n * interlace.rate_factor();
}

int64_t PreparedJob::working_pts(int64_t index_pts) const {
    if (index_pts == INT64_MAX) return index_pts;
    return index_pts * interlace.rate_factor();
}

// bwdif looks one frame back and one ahead. It sits before the stages, so its frame is added
// to theirs: a chunk's first and last frames are deinterlaced with their true neighbours and
// come out as in an unchunked run; only the file's own first and last frames have none (bwdif
// then uses the frame itself, in chunked and unchunked runs alike).
constexpr int kDeinterlaceRoll = 1;

int PreparedJob::preroll(size_t upto) const {
    int p = 0;
    for (size_t i = 0; i < std::min(upto, stages.size()); ++i)
        p = std::max(p, stages[i]->preroll_frames());
    return p + (interlace.action == media::InterlaceAction::deinterlaced ? kDeinterlaceRoll : 0);
}

int PreparedJob::postroll(size_t upto) const {
    int p = 0;
    for (size_t i = 0; i < std::min(upto, stages.size()); ++i)
        p = std::max(p, stages[i]->postroll_frames());
    return p + (interlace.action == media::InterlaceAction::deinterlaced ? kDeinterlaceRoll : 0);
}

int64_t decode_error_budget(const PreparedJob& job) {
    return static_cast<int64_t>(job.settings.limits.decode_error_ratio *
                                static_cast<double>(job.total_frames()));
}

Status validate_profile(const Profile& profile, const std::filesystem::path& models_dir) {
    stages::StageEnv env{models_dir, null_logger()};
    auto made = stages::make_stages(profile.stages, env);
    // Stages from --stages belong to no profile; their errors name the stage alone.
    if (!made)
        return profile.name.empty() ? made.error()
                                    : made.error().context("profile '" + profile.name + "'");
    return {};
}

Result<std::unique_ptr<PreparedJob>> prepare_job(const std::filesystem::path& input,
                                                 const JobSettings& settings,
                                                 const LoggerPtr& logger,
                                                 const PrepareHints* hints) {
    auto job = std::make_unique<PreparedJob>();
    job->input = input;
    job->settings = settings;
    job->logger = logger;
    job->workers = resolve_workers(settings.workers);
    const auto t0 = SteadyClock::now();

    RR_ASSIGN(job->file, media::MappedFile::open(input));
    if (job->file.size() == 0) return make_error(Errc::media, "file is empty (0 bytes)");
    job->info.checksum = hints ? hints->checksum : media::xxh3_128_hex(job->file);
    job->timings["checksum"] = seconds_since(t0);

    const auto t1 = SteadyClock::now();
    RR_ASSIGN(media::Demuxer demuxer, media::Demuxer::open(job->file, true));
    const std::string checksum = job->info.checksum;
    job->info = media::describe(demuxer);
    job->info.path = input.string();
    job->info.size = static_cast<int64_t>(job->file.size());
    job->info.checksum = checksum;

    job->video_stream = demuxer.best_video_stream();
    if (job->video_stream < 0) {
        return make_error(Errc::media, demuxer.best_audio_stream() >= 0
                                           ? "audio-only file: no video stream to process"
                                           : "no video stream");
    }
    const AVStream* vst = demuxer.stream(job->video_stream);
    if (media::is_still_image(demuxer, job->video_stream)) {
        return make_error(Errc::media, std::string("a still image (") +
                                           avcodec_get_name(vst->codecpar->codec_id) +
                                           "), not a video");
    }
    job->decoded = decoded_format(vst);
    if (job->decoded.width <= 0 || job->decoded.height <= 0 ||
        job->decoded.pix_fmt == AV_PIX_FMT_NONE) {
        return make_error(Errc::media, "video stream has no readable picture size or pixel format");
    }
    const int64_t pixels = int64_t{job->decoded.width} * job->decoded.height;
    if (pixels > settings.limits.max_pixels) {
        return make_error(Errc::limit, "dimensions " + std::to_string(job->decoded.width) + "x" +
                                           std::to_string(job->decoded.height) + " (" +
                                           pixel_count_text(pixels) +
                                           ") exceed limits.max_pixels (" +
                                           pixel_count_text(settings.limits.max_pixels) + ")");
    }
    if (!avcodec_find_decoder(vst->codecpar->codec_id)) {
        return make_error(Errc::unsupported, std::string("no decoder for video codec '") +
                                                 avcodec_get_name(vst->codecpar->codec_id) + "'");
    }
    job->timings["probe"] = seconds_since(t1);

    const auto t2 = SteadyClock::now();
    if (hints) {
        job->index = hints->index;
    } else {
        RR_ASSIGN(job->index, media::build_frame_index(demuxer, job->video_stream, job->file.size(),
                                                       settings.limits.truncated == "process"));
        if (job->index.missing_at_end > 0) {
            logger->warn(
                "{}: truncated: {} video frames present, {} missing at the end; processing "
                "what is there (limits.truncated)",
                input.string(), job->total_frames(), job->index.missing_at_end);
        }
    }
    if (!job->index.exact && !hints) {
        logger->warn("{}: timestamps are incomplete; processing as a single chunk", input.string());
    }
    job->kept = {0, job->total_frames()};
    job->timings["index"] = seconds_since(t2);

    // Stages and formats.
    if (media::is_hdr_transfer(job->decoded.transfer))
        job->decoded.hdr = media::read_hdr_metadata(job->file, job->video_stream, job->index);
    stages::StageEnv env{settings.models_dir, logger, &job->file};
    RR_ASSIGN(job->stages, stages::make_stages(settings.profile.stages, env));
    bool keep_depth = false;
    bool audio_stages = false;
    for (const auto& stage : job->stages) {
        stage->require_encoding(job->settings.profile.video);
        keep_depth = keep_depth || stage->needs_source_depth();
        audio_stages = audio_stages || stage->audio_pass() != nullptr;
    }
    RR_TRY(decide_interlace(*job, vst->codecpar->field_order,
                            hints && hints->interlace ? &*hints->interlace : nullptr));
    const VideoSettings& video = job->settings.profile.video;
    job->working = working_format(job->decoded, video, keep_depth, job->cropped_to_even);
    if (job->interlace.rate_factor() > 1) {  // a frame per field: twice the rate, exact times
        job->working.time_base.den *= job->interlace.rate_factor();
        job->working.frame_rate.num *= job->interlace.rate_factor();
    }
    // Audio stages fill in their chains when the audio runs; their streams are encoded.
    RR_ASSIGN(job->audio, media::plan_audio(demuxer.format(), settings.profile.audio,
                                            settings.profile.container, audio_stages));
    RR_TRY(media::drop_unreadable_audio(job->file, demuxer.format(), job->audio));
    if (!hints) {  // said once per job, by the first prepare
        for (const auto& d : job->audio.dropped)
            logger->warn("{}: audio stream {} {}", input.string(), d.input_index, d.reason);
    }
    media::FrameFormat fmt = job->working;
    for (auto& stage : job->stages) {
        auto next = stage->configure(fmt);
        if (!next) return next.error();
        fmt = *next;
    }
    job->encoded = fmt;
    RR_TRY(check_interlace_chain(*job));
    // Planned once the stages are known: their pre-roll steers where chunks are cut.
    plan_job_chunks(*job, {});
    media::FrameFormat target = fmt;
    target.pix_fmt = media::output_pix_fmt(video, fmt.bit_depth());
    RR_ASSIGN(job->encoder,
              media::choose_encoder(video, target, logger, job->interlace.encoded_order()));
    return job;
}

}  // namespace rr::pipeline
