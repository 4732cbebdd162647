#pragma once
// Delivers exactly the frames of one chunk, with their original timestamps. It seeks to the
// keyframe at or before the chunk, decodes, drops frames before the chunk and stops at its end.
// A frame the decoder fails to produce is *lost*: its slot gets a copy of its neighbour (same
// timestamp), so frame counts and timing stay exact. A frame the decoder put out with concealed
// errors is *damaged*. Both are recorded by timestamp for the job's sidecar.

#include <cstdint>
#include <deque>
#include <vector>

#include "core/result.h"
#include "media/chunk_plan.h"
#include "media/decoder.h"
#include "media/demuxer.h"
#include "media/frame_index.h"

namespace rr::media {

class ChunkSource {
  public:
    // Frames [first_frame, end_frame) of `index`. With an inexact index the whole stream is
    // delivered as decoded.
    [[nodiscard]] static Result<ChunkSource> open(const MappedFile& file, int video_stream,
                                                  const FrameIndex& index, int64_t first_frame,
                                                  int64_t end_frame, int threads);
    ChunkSource(ChunkSource&&) noexcept = default;

    // The next frame, or nullptr after the last one.
    [[nodiscard]] Result<av::FramePtr> next();

    // Timestamps of the delivered frames that were lost (concealed by a copy) or damaged, in
    // delivery order. With an inexact index, slots the decoder never filled count as lost.
    [[nodiscard]] const std::vector<int64_t>& lost() const { return lost_; }
    [[nodiscard]] const std::vector<int64_t>& damaged() const { return damaged_; }
    [[nodiscard]] const AVCodecContext* decoder() const { return decoder_.context(); }
    [[nodiscard]] const AVStream* stream() const { return demuxer_.stream(stream_); }

  private:
    ChunkSource(Demuxer d, Decoder dec) : demuxer_(std::move(d)), decoder_(std::move(dec)) {}
    Status seek_to_start();
    // Skips packets until the chunk's keyframe after a seek (true: feed this packet).
    bool admit(const AVPacket& pkt);
    int seek_before(const KeyPacket& key);
    // Decodes until one more frame is available; nullptr at end of stream.
    Result<av::FramePtr> decode_one();
    av::FramePtr duplicate(const AVFrame* src, int64_t pts) const;

    Demuxer demuxer_;
    Decoder decoder_;
    const FrameIndex* index_ = nullptr;
    int stream_ = -1;
    int64_t next_frame_ = 0;  // index of the next frame to deliver
    int64_t end_frame_ = 0;
    bool exact_ = true;
    bool eof_sent_ = false;
    bool drained_ = false;
    std::vector<int64_t> lost_;
    std::vector<int64_t> damaged_;
    size_t inexact_count_ = 0;
    av::PacketPtr pkt_ = av::make_packet();
    av::FramePtr pending_;   // decoded but not yet due
    av::FramePtr last_out_;  // for concealing missing frames
    int64_t want_key_pts_ = AV_NOPTS_VALUE;
    bool restarted_ = false;
};

}  // namespace rr::media
