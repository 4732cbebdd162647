#include "media/chunk_source.h"

#include "media/av_error.h"

namespace rr::media {
namespace {

int64_t frame_ts(const AVFrame* f) {
    return f->pts != AV_NOPTS_VALUE ? f->pts : f->best_effort_timestamp;
}

}  // namespace

Result<ChunkSource> ChunkSource::open(const MappedFile& file, int video_stream,
                                      const FrameIndex& index, int64_t first_frame,
                                      int64_t end_frame, int threads) {
    RR_ASSIGN(Demuxer demuxer, Demuxer::open(file, true));
    demuxer.keep_only({video_stream});
    RR_ASSIGN(Decoder decoder, Decoder::open(demuxer.stream(video_stream), threads));
    ChunkSource src(std::move(demuxer), std::move(decoder));
    src.index_ = &index;
    src.stream_ = video_stream;
    src.exact_ = index.exact;
    src.next_frame_ = index.exact ? first_frame : 0;
    src.end_frame_ = index.exact ? end_frame : INT64_MAX;
    if (src.exact_ && first_frame > 0) RR_TRY(src.seek_to_start());
    return src;
}

Status ChunkSource::seek_to_start() {
    const KeyPacket* key = index_->key_before(index_->pts[next_frame_]);
    if (!key) return {};
    int ret = seek_before(*key);
    if (ret < 0) ret = seek_before(index_->keys.front());
    if (ret < 0) return av::error(ret, "cannot seek to the chunk's keyframe");
    decoder_.reset();
    want_key_pts_ = key->pts;
    return {};
}

int ChunkSource::seek_before(const KeyPacket& key) {
    // Containers index either dts (MP4) or pts (Matroska); seeking backwards to the smaller
    // of the two lands at or before the keyframe in both.
    int64_t target = key.dts != AV_NOPTS_VALUE ? std::min(key.dts, key.pts) : key.pts;
    return av_seek_frame(demuxer_.format(), stream_, target, AVSEEK_FLAG_BACKWARD);
}

bool ChunkSource::admit(const AVPacket& pkt) {
    if (want_key_pts_ == AV_NOPTS_VALUE) return true;
    if ((pkt.flags & AV_PKT_FLAG_KEY) && pkt.pts == want_key_pts_) {
        want_key_pts_ = AV_NOPTS_VALUE;
        return true;
    }
    // Everything before the keyframe in decode order presents before it too; a later
    // timestamp means the seek overshot. Start over from the beginning of the file.
    if (pkt.pts != AV_NOPTS_VALUE && pkt.pts > want_key_pts_ && !restarted_) {
        restarted_ = true;
        if (seek_before(index_->keys.front()) < 0) {
            want_key_pts_ = AV_NOPTS_VALUE;  // cannot go back: decode what follows
            return true;
        }
    }
    return false;
}

Result<av::FramePtr> ChunkSource::decode_one() {
    av::FramePtr frame = av::make_frame();
    while (true) {
        int ret = decoder_.receive(frame.get());
        if (ret == 0) return frame;
        if (ret == AVERROR_EOF) {
            drained_ = true;
            return av::FramePtr();
        }
        if (ret != AVERROR(EAGAIN)) continue;  // a damaged frame; its slot is concealed later
        if (eof_sent_) {
            drained_ = true;
            return av::FramePtr();
        }
        ret = demuxer_.read(pkt_.get());
        if (ret < 0) {
            // End of file, or unreadable beyond this point: drain what the decoder holds.
            (void)decoder_.send(nullptr);
            eof_sent_ = true;
            continue;
        }
        if (pkt_->stream_index == stream_ && pkt_->size > 0 && admit(*pkt_)) {
            // A rejected packet only costs its frame, which is concealed and counted.
            (void)decoder_.send(pkt_.get());
        }
        av_packet_unref(pkt_.get());
    }
}

av::FramePtr ChunkSource::duplicate(const AVFrame* src, int64_t pts) const {
    av::FramePtr copy = av::ref_frame(src);
    copy->pts = pts;
    copy->pkt_dts = AV_NOPTS_VALUE;
    return copy;
}

Result<av::FramePtr> ChunkSource::next() {
    if (!exact_) {
        if (drained_) return av::FramePtr();
        RR_ASSIGN(av::FramePtr frame, decode_one());
        if (!frame) {
            // Slots the decoder never filled: their pictures are lost, not concealed.
            for (size_t k = inexact_count_; k < index_->pts.size(); ++k)
                lost_.push_back(index_->pts[k]);
            return frame;
        }
        // The decoder delivers in presentation order; frame k takes slot k. Frames beyond the
        // index follow the last one at the stream's pace.
        int64_t ts = 0;
        if (inexact_count_ < index_->pts.size()) {
            ts = index_->pts[inexact_count_];
        } else if (last_out_) {
            ts = last_out_->pts + std::max<int64_t>(index_->last_duration, 1);
        }
        frame->pts = ts;
        if (is_damaged(*frame)) damaged_.push_back(ts);
        last_out_ = av::ref_frame(frame.get());
        ++inexact_count_;
        return frame;
    }
    if (next_frame_ >= end_frame_) return av::FramePtr();
    const int64_t expected = index_->pts[next_frame_];
    av::FramePtr candidate = std::move(pending_);
    while (true) {
        if (!candidate) {
            if (drained_) break;
            RR_ASSIGN(candidate, decode_one());
            if (!candidate) break;
        }
        if (frame_ts(candidate.get()) >= expected) break;
        candidate.reset();  // before the chunk (decoded from the keyframe), or a stray
    }
    ++next_frame_;
    if (candidate && frame_ts(candidate.get()) == expected) {
        candidate->pts = expected;
        if (is_damaged(*candidate)) damaged_.push_back(expected);
        last_out_ = av::ref_frame(candidate.get());
        return candidate;
    }
    // The decoder produced nothing for this timestamp: conceal with the nearest good picture.
    lost_.push_back(expected);
    const AVFrame* model = last_out_ ? last_out_.get() : candidate.get();
    if (!model) {
        return make_error(Errc::media, "no decodable frame near " +
                                           std::to_string(index_->seconds(expected)) + " s");
    }
    av::FramePtr concealed = duplicate(model, expected);
    pending_ = std::move(candidate);
    if (!last_out_) last_out_ = av::ref_frame(concealed.get());
    return concealed;
}

}  // namespace rr::media
