#include "media/demuxer.h"

#include <algorithm>

#include "core/logging.h"
#include "media/av_error.h"

namespace rr::media {

Result<Demuxer> Demuxer::open(const MappedFile& file, bool find_streams) {
    if (file.size() == 0) {
        return make_error(Errc::media, "file is empty (0 bytes)");
    }
    Demuxer d;
    RR_ASSIGN(d.io_, MmapAvio::create(file));
    AVFormatContext* ctx = avformat_alloc_context();
    if (!ctx) return make_error(Errc::internal, "out of memory");
    ctx->pb = d.io_->context();
    ctx->flags |= AVFMT_FLAG_CUSTOM_IO;
    // FFmpeg says why a file cannot be opened only in its log; keep that for our error.
    QuietFfmpegLogs quiet;
    CaptureFfmpegError reason;
    // The file name lets demuxers that guess by extension (image2, raw streams) see it.
    int ret = avformat_open_input(&ctx, file.path().c_str(), nullptr, nullptr);
    if (ret < 0) {
        // avformat_open_input frees ctx on failure.
        if (!reason.last().empty())
            return make_error(Errc::media, "not a readable media file: " + reason.last());
        if (ret == AVERROR_INVALIDDATA) {
            return make_error(Errc::media,
                              "not a recognised media file (no demuxer accepts its data)");
        }
        return av::error(ret, "cannot open as media");
    }
    d.fmt_.reset(ctx);
    if (find_streams) {
        ret = avformat_find_stream_info(ctx, nullptr);
        if (ret < 0) {
            return make_error(Errc::media,
                              "cannot read stream information: " +
                                  (reason.last().empty() ? av::error_string(ret) : reason.last()));
        }
    }
    return d;
}

int Demuxer::best_video_stream() const {
    for (unsigned i = 0; i < fmt_->nb_streams; ++i) {
        const AVStream* st = fmt_->streams[i];
        if (st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
            !(st->disposition & AV_DISPOSITION_ATTACHED_PIC)) {
            return static_cast<int>(i);
        }
    }
    return -1;
}

int Demuxer::best_audio_stream() const {
    int ret = av_find_best_stream(fmt_.get(), AVMEDIA_TYPE_AUDIO, -1, -1, nullptr, 0);
    return ret >= 0 ? ret : -1;
}

void Demuxer::keep_only(std::initializer_list<int> streams) {
    for (unsigned i = 0; i < fmt_->nb_streams; ++i) {
        bool keep = std::find(streams.begin(), streams.end(), static_cast<int>(i)) != streams.end();
        fmt_->streams[i]->discard = keep ? AVDISCARD_DEFAULT : AVDISCARD_ALL;
    }
}

}  // namespace rr::media
