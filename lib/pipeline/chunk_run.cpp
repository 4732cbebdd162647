// run_chunk and analyse_job: the per-chunk frame loops.

#include <algorithm>
#include <deque>
#include <functional>
#include <optional>

#include "core/clock.h"
#include "media/av_error.h"
#include "media/chunk_source.h"
#include "media/deinterlacer.h"
#include "media/frame_converter.h"
#include "media/intermediate.h"
#include "media/media_writer.h"
#include "pipeline/job.h"
#include "pipeline/stage_chain.h"

namespace rr::pipeline {
namespace {

// Decoded frames of one chunk in the stages' working format, deinterlaced first when the job
// says so (timestamps then in the working time base).
class WorkingFrames {
  public:
    static Result<WorkingFrames> open(const PreparedJob& job, int64_t first, int64_t end) {
        RR_ASSIGN(auto source, media::ChunkSource::open(job.file, job.video_stream, job.index,
                                                        first, end, job.threads_per_worker));
        RR_ASSIGN(auto conv,
                  media::FrameConverter::create(job.decoded, job.working, job.cropped_to_even));
        WorkingFrames frames(std::move(source), std::move(conv), job.decoded);
        if (job.interlace.action == media::InterlaceAction::deinterlaced) {
            RR_ASSIGN(auto d,
                      media::Deinterlacer::create(job.decoded, job.interlace.filter,
                                                  job.working.time_base, job.threads_per_worker));
            frames.deinterlacer_.emplace(std::move(d));
        }
        return frames;
    }

    Result<av::FramePtr> next() {
        while (ready_.empty()) {
            if (ended_) return av::FramePtr{};
            RR_ASSIGN(av::FramePtr frame, source_.next());
            if (frame && (frame->width != decoded_.width || frame->height != decoded_.height ||
                          frame->format != decoded_.pix_fmt)) {
                return make_error(Errc::unsupported,
                                  "the picture size or format changes mid-stream (" +
                                      std::to_string(frame->width) + "x" +
                                      std::to_string(frame->height) +
                                      "); such inputs are not supported");
            }
            ended_ = !frame;
            if (!deinterlacer_) {
                if (frame) ready_.push_back(std::move(frame));
                continue;
            }
            std::vector<av::FramePtr> out;
            RR_TRY(deinterlacer_->push(std::move(frame), out));
            for (auto& f : out) ready_.push_back(std::move(f));
        }
        av::FramePtr frame = std::move(ready_.front());
        ready_.pop_front();
        // Decoder-assigned picture types must not steer the encoder's frame decisions.
        frame->pict_type = AV_PICTURE_TYPE_NONE;
        return conv_.convert(std::move(frame));
    }
    [[nodiscard]] const media::ChunkSource& source() const { return source_; }

  private:
    WorkingFrames(media::ChunkSource s, media::FrameConverter c, media::FrameFormat d)
        : source_(std::move(s)), conv_(std::move(c)), decoded_(d) {}
    media::ChunkSource source_;
    media::FrameConverter conv_;
    media::FrameFormat decoded_;
    std::optional<media::Deinterlacer> deinterlacer_;
    std::deque<av::FramePtr> ready_;
    bool ended_ = false;
};

stages::ChunkContext chunk_context(const PreparedJob& job, const media::ChunkSpan& span) {
    return {span.index, span.first_frame, job.working_pts(span.start_pts), job.threads_per_worker,
            job.work_dir};
}

// Decodes every frame, pushes it through the stages and hands what comes out to `consume`,
// flushing the stages at the end.
Status pump(WorkingFrames& frames, StageChain& chain, std::stop_token stop,
            const std::function<Status(std::vector<av::FramePtr>&)>& consume) {
    std::vector<av::FramePtr> ready;
    auto hand_over = [&]() -> Status {
        RR_TRY(consume(ready));
        ready.clear();
        return {};
    };
    while (true) {
        if (stop.stop_requested()) return make_error(Errc::cancelled, "cancelled");
        RR_ASSIGN(av::FramePtr f, frames.next());
        if (!f) break;
        RR_TRY(chain.push(std::move(f), ready));
        RR_TRY(hand_over());
    }
    RR_TRY(chain.flush(ready));
    return hand_over();
}

// What the stages decided after their analysis: preferred cuts, trimming (chunks, audio).
Status apply_decisions(PreparedJob& job);

}  // namespace

Status restore_analysis(PreparedJob& job) {
    for (size_t k = 0; k < job.stages.size(); ++k) {
        const auto it = job.analysis.find(std::to_string(k));
        if (it == job.analysis.end()) continue;
        RR_TRY(job.stages[k]->finish_analysis(it->get<std::vector<nlohmann::json>>()));
    }
    return apply_decisions(job);
}

Status analyse_job(PreparedJob& job, const ParallelFor& run_parallel) {
    for (size_t k = 0; k < job.stages.size(); ++k) {
        const auto probe = job.stages[k]->analyzer(chunk_context(job, job.chunks.front()));
        if (!probe) continue;
        const auto t0 = SteadyClock::now();
        // The stages before this one see the same pre- and post-roll as when chunks run, so
        // the analyzer observes the very frames this stage will later receive.
        const int wanted = job.stages[k]->analysis_preroll_frames();
        const int pre = std::max(job.preroll(k), wanted), post = job.postroll(k);
        std::vector<nlohmann::json> results(job.chunks.size());
        const PreparedJob& cjob = job;
        RR_TRY(run_parallel(job.chunks.size(), [&](size_t c, std::stop_token stop) -> Status {
            const auto& span = cjob.chunks[c];
            const auto ctx = chunk_context(cjob, span);
            auto analyzer = cjob.stages[k]->analyzer(ctx);
            const int64_t first = std::max<int64_t>(0, span.first_frame - pre);
            const int64_t end = std::min<int64_t>(cjob.total_frames(), span.end_frame + post);
            RR_ASSIGN(auto frames, WorkingFrames::open(cjob, first, end));
            RR_ASSIGN(auto chain, StageChain::open(cjob.stages, k, ctx));
            int64_t frame_no = first;
            RR_TRY(pump(frames, chain, stop, [&](std::vector<av::FramePtr>& ready) -> Status {
                for (auto& f : ready) {
                    int64_t at = cjob.index.exact ? cjob.index.frame_at(f->pts) : -1;
                    if (at < 0) at = frame_no;
                    frame_no = at + 1;
                    if (at < span.first_frame - wanted || at >= span.end_frame) continue;
                    RR_TRY(analyzer->observe(*f, at));
                }
                return {};
            }));
            results[c] = analyzer->finish();
            return {};
        }));
        RR_TRY(job.stages[k]->finish_analysis(results));
        job.analysis[std::to_string(k)] = std::move(results);
        job.timings["analysis_" + job.stages[k]->name()] = seconds_since(t0);
    }
    return apply_decisions(job);
}

namespace {

Status apply_decisions(PreparedJob& job) {
    std::vector<int64_t> cuts;
    for (const auto& stage : job.stages) {
        auto more = stage->preferred_cuts();
        cuts.insert(cuts.end(), more.begin(), more.end());
        if (auto keep = stage->kept_frames()) {
            job.kept.first = std::max(job.kept.first, keep->first);
            job.kept.end = std::min(job.kept.end, keep->end);
        }
    }
    if (job.kept.end <= job.kept.first)
        return make_error(Errc::media, "trimming would leave no frames");
    if (job.trimmed()) {
        // The output starts and ends on kept frames; chunk boundaries there save decoding.
        cuts.push_back(job.kept.first);
        if (job.kept.end < job.total_frames()) cuts.push_back(job.kept.end);
        const auto& pts = job.index.pts;
        const double tb = av_q2d(job.index.time_base);
        const double start = static_cast<double>(pts[static_cast<size_t>(job.kept.first)]) * tb;
        const std::optional<double> end =
            job.kept.end < job.total_frames()
                ? std::optional(static_cast<double>(pts[static_cast<size_t>(job.kept.end)]) * tb)
                : std::nullopt;
        media::trim_audio(job.audio, start, end, job.settings.profile.audio);
    }
    if (!cuts.empty()) {
        std::sort(cuts.begin(), cuts.end());
        cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
        plan_job_chunks(job, cuts);
    }
    return {};
}

}  // namespace

Result<ChunkOutcome> run_chunk(const PreparedJob& job, int chunk, const std::filesystem::path& out,
                               Progress* progress, std::stop_token stop) {
    const auto t0 = SteadyClock::now();
    const double started_at = unix_seconds();
    const media::ChunkSpan& span = job.chunks.at(static_cast<size_t>(chunk));
    const int64_t first = std::max<int64_t>(0, span.first_frame - job.preroll());
    const int64_t end = std::min<int64_t>(job.total_frames(), span.end_frame + job.postroll());
    RR_ASSIGN(auto frames, WorkingFrames::open(job, first, end));
    RR_ASSIGN(auto chain,
              StageChain::open(job.stages, job.stages.size(), chunk_context(job, span)));

    media::FrameFormat enc_format = job.encoded;
    enc_format.pix_fmt = job.encoder.input_format;
    RR_ASSIGN(auto to_encoder, media::FrameConverter::create(job.encoded, enc_format));
    RR_ASSIGN(auto encoder,
              media::VideoEncoder::open(job.encoder, enc_format, job.threads_per_worker));
    RR_ASSIGN(auto writer, media::MediaWriter::create(out, media::kIntermediateMuxer));
    writer.format()->avoid_negative_ts = AVFMT_AVOID_NEG_TS_DISABLED;
    RR_ASSIGN(AVStream * ost, writer.add_stream(av::parameters_of(encoder.context()).get(),
                                                encoder.context()->time_base));
    RR_TRY(writer.write_header());

    ChunkOutcome outcome;
    outcome.index = chunk;
    av::PacketPtr pkt = av::make_packet();
    auto drain = [&]() -> Status {
        int ret = 0;
        while ((ret = encoder.receive(pkt.get())) == 0) {
            pkt->stream_index = ost->index;
            av_packet_rescale_ts(pkt.get(), encoder.context()->time_base, ost->time_base);
            const int64_t off = media::intermediate_offset(ost->time_base);
            pkt->pts += off;
            if (pkt->dts != AV_NOPTS_VALUE) pkt->dts += off;
            RR_TRY(writer.write(pkt.get()));
        }
        if (ret != AVERROR(EAGAIN) && ret != AVERROR_EOF) return av::error(ret, "encode");
        return {};
    };
    const int64_t start = job.working_pts(span.start_pts), end_pts = job.working_pts(span.end_pts);
    const bool keep_fields = job.interlace.action == media::InterlaceAction::kept;
    RR_TRY(pump(frames, chain, stop, [&](std::vector<av::FramePtr>& ready) -> Status {
        for (auto& f : ready) {
            // Pre- and post-roll: seen by the stages, not part of this chunk.
            if (f->pts < start || f->pts >= end_pts) continue;
            RR_ASSIGN(av::FramePtr converted, to_encoder.convert(std::move(f)));
            if (keep_fields) media::mark_fields(*converted, job.encoder.field_order);
            RR_TRY(encoder.send(converted.get()));
            RR_TRY(drain());
            ++outcome.frames;
            if (progress) progress->add_frames(1);
        }
        return {};
    }));
    RR_TRY(encoder.send(nullptr));
    RR_TRY(drain());
    RR_TRY(writer.finish());

    // Pre- and post-roll frames belong to the neighbouring chunks' records.
    auto in_span = [&](const std::vector<int64_t>& all) {
        std::vector<int64_t> mine;
        for (int64_t ts : all)
            if (ts >= span.start_pts && ts < span.end_pts) mine.push_back(ts);
        return mine;
    };
    outcome.lost = in_span(frames.source().lost());
    outcome.damaged = in_span(frames.source().damaged());
    outcome.stage_results = chain.results();
    outcome.seconds = seconds_since(t0);
    outcome.started_at = started_at;
    outcome.finished_at = unix_seconds();
    std::error_code ec;
    outcome.bytes = static_cast<int64_t>(std::filesystem::file_size(out, ec));
    const bool count_changes = std::any_of(job.stages.begin(), job.stages.end(),
                                           [](const auto& s) { return s->changes_frame_count(); });
    // At field rate every frame is two.
    const int64_t expected = span.frames() * job.interlace.rate_factor();
    if (job.index.exact && !count_changes && outcome.frames != expected) {
        return make_error(Errc::media, "chunk " + std::to_string(chunk) + " produced " +
                                           std::to_string(outcome.frames) + " frames instead of " +
                                           std::to_string(expected));
    }
    if (progress) progress->chunk_done();
    return outcome;
}

}  // namespace rr::pipeline
