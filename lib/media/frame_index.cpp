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

namespace {

struct Seen {
    int64_t pts, dts, duration;
};

// Index entries (MP4 sample tables, AVI idx1) that point past the end of the file: frames the
// container promises that a cut-off file no longer holds.
int64_t entries_beyond(AVStream* st, size_t file_size) {
    int64_t n = 0;
    const int count = avformat_index_get_entries_count(st);
    for (int i = 0; i < count; ++i) {
        const AVIndexEntry* e = avformat_index_get_entry(st, i);
        if (e && e->size > 0 && e->pos >= 0 &&
            static_cast<size_t>(e->pos) + static_cast<size_t>(e->size) > file_size) {
            ++n;
        }
    }
    return n;
}

// Presentation slots for a stream whose packets lack presentation times (AVI with B-frames,
// packed or not, gives only the I/P frames none). Every picture-bearing packet is one frame;
// decode-order counters of a constant-rate container are the same set of instants as the
// presentation times. Without usable decode times either, frames are spaced by the rate.
std::vector<int64_t> slots_without_pts(const std::vector<Seen>& seen, const AVStream* st) {
    std::vector<int64_t> slots;
    slots.reserve(seen.size());
    for (const auto& s : seen) {
        if (s.dts == AV_NOPTS_VALUE) break;
        slots.push_back(s.dts);
    }
    std::sort(slots.begin(), slots.end());
    if (slots.size() == seen.size() &&
        std::adjacent_find(slots.begin(), slots.end()) == slots.end()) {
        return slots;
    }
    const AVRational rate = st->avg_frame_rate.num > 0 ? st->avg_frame_rate : st->r_frame_rate;
    int64_t step = rate.num > 0 ? av_rescale_q(1, av_inv_q(rate), st->time_base) : 0;
    if (step <= 0) step = std::max<int64_t>(seen.front().duration, 1);
    const int64_t first = seen.front().dts != AV_NOPTS_VALUE ? seen.front().dts : 0;
    slots.clear();
    for (size_t k = 0; k < seen.size(); ++k)
        slots.push_back(first + static_cast<int64_t>(k) * step);
    return slots;
}

// Transport and program streams (broadcast recordings, segments cut together) may restart
// or jump their clock part-way. Like the ffmpeg CLI, a decode time that goes backwards, or
// forwards by more than 10 s, continues one frame after the previous packet instead; every
// later packet moves by the same amount. Containers that promise a continuous clock are left
// alone.
class ClockMender {
  public:
    ClockMender(const AVFormatContext* fmt, const AVStream* st)
        : active_(fmt->iformat && (fmt->iformat->flags & AVFMT_TS_DISCONT)),
          limit_(av_rescale_q(10, AVRational{1, 1}, st->time_base)) {
        const AVRational rate = st->avg_frame_rate.num > 0 ? st->avg_frame_rate : st->r_frame_rate;
        step_ =
            rate.num > 0 ? std::max<int64_t>(av_rescale_q(1, av_inv_q(rate), st->time_base), 1) : 1;
    }

    // Moves the packet's timestamps onto the continuous clock; true when it had to jump.
    bool mend(AVPacket& p) {
        if (!active_ || p.dts == AV_NOPTS_VALUE) return false;
        bool jumped = false;
        const int64_t dts = p.dts + shift_;
        if (last_dts_ != AV_NOPTS_VALUE && (dts < last_dts_ || dts > last_dts_ + limit_)) {
            shift_ = last_dts_ + (p.duration > 0 ? p.duration : step_) - p.dts;
            jumped = true;
        }
        p.dts += shift_;
        if (p.pts != AV_NOPTS_VALUE) p.pts += shift_;
        last_dts_ = p.dts;
        return jumped;
    }

  private:
    bool active_;
    int64_t limit_;
    int64_t step_ = 1;
    int64_t shift_ = 0;
    int64_t last_dts_ = AV_NOPTS_VALUE;
};

}  // namespace

Result<FrameIndex> build_frame_index(Demuxer& demuxer, int video_stream, size_t file_size,
                                     bool accept_truncated) {
    AVStream* st = demuxer.stream(video_stream);
    FrameIndex index;
    index.time_base = st->time_base;
    index.declared_frames = st->nb_frames;
    demuxer.keep_only({video_stream});

    // Containers like AVI carry only decode times; without frame reordering they are the
    // presentation times too.
    const AVCodecDescriptor* desc = avcodec_descriptor_get(st->codecpar->codec_id);
    const bool intra_only = desc && (desc->props & AV_CODEC_PROP_INTRA_ONLY);
    const bool dts_is_pts = intra_only || st->codecpar->video_delay == 0;
    // MPEG-4 ASP may be a packed bitstream (DivX/Xvid: a P-frame and the B-frame before it in
    // one packet, then a placeholder), which the stream parameters do not reveal: its decode
    // times are slots, not the pictures' presentation times.
    const bool maybe_packed = st->codecpar->codec_id == AV_CODEC_ID_MPEG4;

    ClockMender clock(demuxer.format(), st);
    bool mended = false;
    std::vector<Seen> seen;
    // The container's count is a claim, not a fact (a damaged or hostile header may promise
    // billions of frames): reserve no more than the file could hold at a few bytes a frame,
    // and no more than an hour at 300 fps; a longer video grows the vector as it goes.
    if (st->nb_frames > 0) {
        seen.reserve(
            std::min({static_cast<size_t>(st->nb_frames), file_size / 8 + 1, size_t{1} << 20}));
    }
    av::PacketPtr pkt = av::make_packet();
    CaptureFfmpegError reason;  // a cut-off file is reported once, below, in our words
    bool missing_pts = false;
    bool damaged_pts = false;
    const int64_t ten_seconds = av_rescale_q(10, AVRational{1, 1}, st->time_base);
    bool read_error = false;
    int64_t packets = 0;  // complete video packets
    int64_t cut = 0;      // video packets the end of the file cuts short
    while (true) {
        int ret = demuxer.read(pkt.get());
        if (ret == AVERROR_EOF) break;
        if (ret < 0) {
            if (!accept_truncated || packets == 0) {
                return make_error(
                    Errc::media,
                    "unreadable after " + std::to_string(packets) + " video packets: " +
                        (reason.last().empty() ? av::error_string(ret) : reason.last()));
            }
            read_error = true;  // like the ffmpeg CLI: what precedes the damage is the file
            break;
        }
        if (pkt->stream_index != video_stream) {
            av_packet_unref(pkt.get());
            continue;
        }
        const bool ends_past_eof =
            pkt->pos >= 0 &&
            static_cast<size_t>(pkt->pos) + static_cast<size_t>(pkt->size) >= file_size;
        if (ends_past_eof &&
            (static_cast<size_t>(pkt->pos) + static_cast<size_t>(pkt->size) > file_size ||
             (pkt->flags & AV_PKT_FLAG_CORRUPT))) {
            ++cut;  // a short read at the very end: the file was cut off
            av_packet_unref(pkt.get());
            continue;
        }
        ++packets;
        if (pkt->size == 0) {  // an empty AVI chunk: no picture, no frame
            av_packet_unref(pkt.get());
            continue;
        }
        if (clock.mend(*pkt)) mended = true;
        // A picture is never shown before it is decoded, nor (in any stream we can encode)
        // more than 10 s after: such a presentation time is damage. The ffmpeg CLI keeps the
        // frame; so do we, in its decode-order slot.
        if (pkt->pts != AV_NOPTS_VALUE && pkt->dts != AV_NOPTS_VALUE &&
            (pkt->pts < pkt->dts || pkt->pts - pkt->dts > ten_seconds)) {
            pkt->pts = AV_NOPTS_VALUE;
            damaged_pts = true;
        }
        if (pkt->pts == AV_NOPTS_VALUE && maybe_packed) missing_pts = true;
        if (pkt->pts == AV_NOPTS_VALUE && dts_is_pts) pkt->pts = pkt->dts;
        if (pkt->pts == AV_NOPTS_VALUE) missing_pts = true;
        if (pkt->flags & AV_PKT_FLAG_KEY) {
            const int64_t at = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
            if (at != AV_NOPTS_VALUE) index.keys.push_back({at, pkt->dts});
        }
        if (!(pkt->flags & AV_PKT_FLAG_DISCARD))
            seen.push_back({pkt->pts, pkt->dts, pkt->duration});
        av_packet_unref(pkt.get());
    }
    const int64_t promised_past_eof = entries_beyond(st, file_size);
    if (cut > 0 || read_error || promised_past_eof > 0) {
        const int64_t missing =
            std::max({cut, promised_past_eof, index.declared_frames - packets, int64_t{0}});
        if (!accept_truncated) {
            return make_error(Errc::media, "truncated: only " + std::to_string(packets) + " of " +
                                               std::to_string(packets + missing) +
                                               " video frames are present");
        }
        index.missing_at_end = missing;
    }
    if (seen.empty()) return make_error(Errc::media, "the video stream has no frames");

    std::sort(index.keys.begin(), index.keys.end(),
              [](const KeyPacket& a, const KeyPacket& b) { return a.pts < b.pts; });
    bool duplicates = false;
    if (missing_pts) {
        index.pts = slots_without_pts(seen, st);
        // Decode times run ahead of presentation by the reorder delay: where only damage took
        // presentation times away, the slots start where the intact ones do.
        int64_t first_pts = AV_NOPTS_VALUE;
        for (const auto& s : seen)
            if (s.pts != AV_NOPTS_VALUE && (first_pts == AV_NOPTS_VALUE || s.pts < first_pts))
                first_pts = s.pts;
        if (damaged_pts && first_pts != AV_NOPTS_VALUE && !maybe_packed) {
            const int64_t shift = first_pts - index.pts.front();
            for (auto& slot : index.pts) slot += shift;
        }
    } else {
        std::sort(seen.begin(), seen.end(),
                  [](const Seen& a, const Seen& b) { return a.pts < b.pts; });
        index.pts.reserve(seen.size());
        for (const auto& s : seen) {
            if (!index.pts.empty() && index.pts.back() == s.pts) {
                duplicates = true;
                continue;
            }
            index.pts.push_back(s.pts);
        }
    }
    // A mended clock is ours, not the file's: seeking by it would land in the wrong segment,
    // so the decoder's frames take the mended slots in order, from the start.
    index.exact = !missing_pts && !duplicates && !mended && !index.keys.empty() &&
                  !index.pts.empty() && index.keys.front().pts <= index.pts.front();
    index.last_duration = missing_pts ? 0 : seen.back().duration;
    if (index.last_duration <= 0 && index.pts.size() >= 2) {
        index.last_duration = index.pts[index.pts.size() - 1] - index.pts[index.pts.size() - 2];
    }
    if (index.last_duration <= 0) index.last_duration = 1;
    return index;
}

}  // namespace rr::media
