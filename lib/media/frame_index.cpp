#include "media/frame_index.h"

#include <algorithm>

#include "core/logging.h"
#include "media/av_error.h"

namespace rr::media {

int64_t FrameIndex::frame_at(int64_t ts) const {
    auto it = std::lower_bound(pts.begin(), pts.end(), ts);
    if (it == pts.end() || *it != ts) return -1;
    return it - pts.begin();
}

const KeyPacket* FrameIndex::key_before(int64_t ts) const {
    if (keys.empty()) return nullptr;
    auto it = std::upper_bound(keys.begin(), keys.end(), ts,
                               [](int64_t t, const KeyPacket& k) { return t < k.pts; });
    if (it == keys.begin()) return &keys.front();
    return &*(it - 1);
}

bool FrameIndex::is_key_frame(size_t frame) const {
    const int64_t ts = pts[frame];
    auto it = std::lower_bound(keys.begin(), keys.end(), ts,
                               [](const KeyPacket& k, int64_t t) { return k.pts < t; });
    return it != keys.end() && it->pts == ts;
}

double FrameIndex::seconds(int64_t ts) const {
    if (pts.empty()) return 0;
    return static_cast<double>(ts - pts.front()) * av_q2d(time_base);
}

Result<FrameIndex> build_frame_index(Demuxer& demuxer, int video_stream, size_t file_size) {
    AVStream* st = demuxer.stream(video_stream);
    FrameIndex index;
    index.time_base = st->time_base;
    index.declared_frames = st->nb_frames;
    demuxer.keep_only({video_stream});

    // Containers like AVI carry only decode times; without frame reordering they are the
    // presentation times too.
    const AVCodecDescriptor* desc = avcodec_descriptor_get(st->codecpar->codec_id);
    const bool dts_is_pts =
        (desc && (desc->props & AV_CODEC_PROP_INTRA_ONLY)) || st->codecpar->video_delay == 0;

    struct Seen {
        int64_t pts, duration;
    };
    std::vector<Seen> seen;
    if (st->nb_frames > 0) seen.reserve(static_cast<size_t>(st->nb_frames));
    av::PacketPtr pkt = av::make_packet();
    CaptureFfmpegError reason;  // a cut-off file is reported once, below, in our words
    bool missing_pts = false;
    bool beyond_eof = false;
    int64_t packets = 0;
    while (true) {
        int ret = demuxer.read(pkt.get());
        if (ret == AVERROR_EOF) break;
        if (ret < 0) {
            return make_error(Errc::media,
                              "unreadable after " + std::to_string(packets) + " video packets: " +
                                  (reason.last().empty() ? av::error_string(ret) : reason.last()));
        }
        if (pkt->stream_index != video_stream) {
            av_packet_unref(pkt.get());
            continue;
        }
        ++packets;
        if (pkt->pos >= 0 &&
            static_cast<size_t>(pkt->pos) + static_cast<size_t>(pkt->size) > file_size) {
            beyond_eof = true;
        }
        if ((pkt->flags & AV_PKT_FLAG_CORRUPT) && pkt->pos >= 0 &&
            static_cast<size_t>(pkt->pos) + static_cast<size_t>(pkt->size) >= file_size) {
            beyond_eof = true;  // a short read at the very end: the file was cut off
        }
        if (pkt->pts == AV_NOPTS_VALUE && dts_is_pts) pkt->pts = pkt->dts;
        if (pkt->pts == AV_NOPTS_VALUE) {
            missing_pts = true;
        } else {
            if (pkt->flags & AV_PKT_FLAG_KEY) index.keys.push_back({pkt->pts, pkt->dts});
            if (!(pkt->flags & AV_PKT_FLAG_DISCARD)) seen.push_back({pkt->pts, pkt->duration});
        }
        av_packet_unref(pkt.get());
    }
    if (beyond_eof || (index.declared_frames > 0 && packets < index.declared_frames)) {
        return make_error(Errc::media, "truncated: only " + std::to_string(packets) + " of " +
                                           std::to_string(index.declared_frames) +
                                           " video frames are present");
    }
    if (packets == 0) return make_error(Errc::media, "the video stream has no frames");

    std::sort(seen.begin(), seen.end(), [](const Seen& a, const Seen& b) { return a.pts < b.pts; });
    std::sort(index.keys.begin(), index.keys.end(),
              [](const KeyPacket& a, const KeyPacket& b) { return a.pts < b.pts; });
    index.pts.reserve(seen.size());
    bool duplicates = false;
    for (const auto& s : seen) {
        if (!index.pts.empty() && index.pts.back() == s.pts) {
            duplicates = true;
            continue;
        }
        index.pts.push_back(s.pts);
    }
    index.exact = !missing_pts && !duplicates && !index.keys.empty() && !index.pts.empty() &&
                  index.keys.front().pts <= index.pts.front();
    if (!seen.empty()) {
        index.last_duration = seen.back().duration;
        if (index.last_duration <= 0 && index.pts.size() >= 2) {
            index.last_duration = index.pts[index.pts.size() - 1] - index.pts[index.pts.size() - 2];
        }
        if (index.last_duration <= 0) index.last_duration = 1;
    }
    return index;
}

}  // namespace rr::media
