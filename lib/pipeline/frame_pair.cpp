#include "pipeline/frame_pair.h"

#include <algorithm>
#include <opencv2/imgcodecs.hpp>

#include "media/decoder.h"
#include "media/demuxer.h"
#include "media/frame_converter.h"
#include "media/mapped_file.h"
#include "stages/frame_views.h"
#include "stages/rounding.h"

extern "C" {
#include <libswscale/swscale.h>
}

namespace rr::pipeline {
namespace {

// The frame showing `seconds` after the stream's first frame (the last one when the file is
// shorter).
Result<av::FramePtr> frame_at(const std::filesystem::path& path, double seconds) {
    RR_ASSIGN(media::MappedFile file, media::MappedFile::open(path));
    RR_ASSIGN(media::Demuxer demuxer, media::Demuxer::open(file, true));
    const int index = demuxer.best_video_stream();
    if (index < 0) return make_error(Errc::media, path.string() + ": no video stream");
    demuxer.keep_only({index});
    AVStream* stream = demuxer.stream(index);
    RR_ASSIGN(media::Decoder decoder, media::Decoder::open(stream, 1));
    const int64_t first = stream->start_time == AV_NOPTS_VALUE ? 0 : stream->start_time;
    const int64_t target = first + static_cast<int64_t>(seconds / av_q2d(stream->time_base) + 0.5);
    // Land on the keyframe before the target and decode forward from there.
    if (av_seek_frame(demuxer.format(), index, target, AVSEEK_FLAG_BACKWARD) >= 0) decoder.reset();

    av::PacketPtr pkt = av::make_packet();
    av::FramePtr frame = av::make_frame();
    av::FramePtr last;
    bool draining = false;
    while (true) {
        const int got = decoder.receive(frame.get());
        if (got == 0) {
            const int64_t ts = frame->best_effort_timestamp;
            last = av::ref_frame(frame.get());
            av_frame_unref(frame.get());
            if (ts != AV_NOPTS_VALUE && ts >= target) return last;
            continue;
        }
        if (got == AVERROR_EOF) break;
        if (got != AVERROR(EAGAIN))
            return make_error(Errc::media, path.string() + ": decode error");
        if (draining) break;
        const int read = demuxer.read(pkt.get());
        if (read < 0) {
            draining = true;
            (void)decoder.send(nullptr);
            continue;
        }
        (void)decoder.send(pkt.get());
        av_packet_unref(pkt.get());
    }
    if (!last) return make_error(Errc::media, path.string() + ": no frame decoded");
    return last;
}

Status write_jpeg(const AVFrame& frame, int max_width, const std::filesystem::path& to, int& width,
                  int& height) {
    media::FrameFormat from;
    from.width = frame.width;
    from.height = frame.height;
    from.pix_fmt = static_cast<AVPixelFormat>(frame.format);
    from.matrix = frame.colorspace;
    from.range = frame.color_range;
    from.primaries = frame.color_primaries;
    from.transfer = frame.color_trc;
    width = std::min(max_width, frame.width) & ~1;
    height = std::max(
        2, static_cast<int>(static_cast<int64_t>(frame.height) * width / std::max(1, frame.width)) &
               ~1);
    RR_ASSIGN(auto conv, media::FrameConverter::create(
                             from, stages::packed_format(from, width, height, AV_PIX_FMT_BGR24),
                             false, SWS_AREA));
    RR_ASSIGN(auto small, conv.convert(av::ref_frame(&frame)));
    try {
        if (!cv::imwrite(to.string(), stages::packed_view(*small), {cv::IMWRITE_JPEG_QUALITY, 85}))
            return make_error(Errc::io, "cannot write " + to.string());
    } catch (const cv::Exception& e) {
        return make_error(Errc::io, "cannot write " + to.string() + ": " + e.what());
    }
    return {};
}

}  // namespace

std::filesystem::path frame_pair_dir(const std::filesystem::path& output) {
    return output.string() + ".frames";
}

Result<nlohmann::json> write_frame_pair(const FramePairRequest& req,
                                        const std::filesystem::path& dir) {
    const double t = std::max(0.0, req.output_duration / 2);
    RR_ASSIGN(auto before, frame_at(req.input, req.input_offset + t));
    RR_ASSIGN(auto after, frame_at(req.output, t));
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return make_error(Errc::io, dir.string() + ": " + ec.message());
    int w = 0, h = 0, w2 = 0, h2 = 0;
    RR_TRY(write_jpeg(*before, req.max_width, dir / "before.jpg", w, h));
    RR_TRY(write_jpeg(*after, req.max_width, dir / "after.jpg", w2, h2));
    return nlohmann::json{{"time", stages::round_to(t, 3)},
                          {"before", {{"file", "before.jpg"}, {"width", w}, {"height", h}}},
                          {"after", {{"file", "after.jpg"}, {"width", w2}, {"height", h2}}}};
}

}  // namespace rr::pipeline
