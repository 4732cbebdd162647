#pragma once
// Video frames of one size and pixel format whose pixel memory is recycled. A frame handed
// downstream keeps its buffer until its last reference goes (an encoder or filter may hold it
// for many frames); only then does the buffer return to the pool for the next frame. Freeing
// the pool while frames are out is safe: FFmpeg frees it when the last buffer comes back.

#include "core/result.h"
#include "media/av_handles.h"
#include "media/frame_format.h"

namespace rr::media {

struct BufferPoolDeleter {
    void operator()(AVBufferPool* p) const { av_buffer_pool_uninit(&p); }
};
using BufferPoolPtr = std::unique_ptr<AVBufferPool, BufferPoolDeleter>;

class FramePool {
  public:
    // Frames laid out exactly as av_frame_get_buffer() lays them out (same strides, padding
    // and alignment), so code that reads past a row's width or a plane's height stays safe.
    [[nodiscard]] static Result<FramePool> create(int width, int height, AVPixelFormat pix_fmt);

    // A writable frame with uninitialised pixels; only size and format are set.
    [[nodiscard]] Result<av::FramePtr> get();

    [[nodiscard]] int width() const { return width_; }
    [[nodiscard]] int height() const { return height_; }
    [[nodiscard]] AVPixelFormat pix_fmt() const { return pix_fmt_; }

  private:
    FramePool() = default;
    int width_ = 0, height_ = 0;
    AVPixelFormat pix_fmt_ = AV_PIX_FMT_NONE;
    int linesize_[AV_NUM_DATA_POINTERS] = {};
    ptrdiff_t offset_[AV_NUM_DATA_POINTERS] = {};  // of each plane in the buffer; -1: none
    BufferPoolPtr pool_;
};

// A frame from `pool` carrying `from`'s timestamps, colour tags and side data, its pixels
// uninitialised: what a converter writes a picture made from `from` into.
[[nodiscard]] Result<av::FramePtr> frame_from(const AVFrame& from, FramePool& pool);

// A frame like `like` (same size and format, which must be the pool's) with the same
// timestamps, colour tags and side data, pixels uninitialised: what a stage that cannot work
// in place writes its picture into.
[[nodiscard]] Result<av::FramePtr> frame_like(const AVFrame& like, FramePool& pool);

}  // namespace rr::media
