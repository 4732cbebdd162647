#include "media/frame_pool.h"

#include "media/av_error.h"

namespace rr::media {

Result<FramePool> FramePool::create(int width, int height, AVPixelFormat pix_fmt) {
    // One frame allocated the usual way is the template: its strides and plane offsets are
    // what every pooled frame gets.
    av::FramePtr probe = av::make_frame();
    probe->width = width;
    probe->height = height;
    probe->format = pix_fmt;
    const int ret = av_frame_get_buffer(probe.get(), 0);
    if (ret < 0) return av::error(ret, "frame allocation", Errc::internal);
    if (!probe->buf[0] || probe->buf[1])
        return make_error(Errc::internal, "unexpected frame buffer layout");
    FramePool p;
    p.width_ = width;
    p.height_ = height;
    p.pix_fmt_ = pix_fmt;
    for (int i = 0; i < AV_NUM_DATA_POINTERS; ++i) {
        p.linesize_[i] = probe->linesize[i];
        p.offset_[i] = probe->data[i] ? probe->data[i] - probe->buf[0]->data : -1;
    }
    p.pool_.reset(av_buffer_pool_init(probe->buf[0]->size, nullptr));
    if (!p.pool_) return make_error(Errc::internal, "out of memory for a frame pool");
    return p;
}

Result<av::FramePtr> FramePool::get() {
    av::FramePtr f = av::make_frame();
    f->buf[0] = av_buffer_pool_get(pool_.get());
    if (!f->buf[0]) return make_error(Errc::internal, "out of memory for a video frame");
    f->width = width_;
    f->height = height_;
    f->format = pix_fmt_;
    for (int i = 0; i < AV_NUM_DATA_POINTERS; ++i) {
        f->linesize[i] = linesize_[i];
        f->data[i] = offset_[i] >= 0 ? f->buf[0]->data + offset_[i] : nullptr;
    }
    f->extended_data = f->data;
    return f;
}

Result<av::FramePtr> frame_from(const AVFrame& from, FramePool& pool) {
    RR_ASSIGN(auto f, pool.get());
    const int ret = av_frame_copy_props(f.get(), &from);
    if (ret < 0) return av::error(ret, "frame properties", Errc::internal);
    return f;
}

Result<av::FramePtr> frame_like(const AVFrame& like, FramePool& pool) {
    if (like.width != pool.width() || like.height != pool.height() || like.format != pool.pix_fmt())
        return make_error(Errc::internal, "frame does not match its pool");
    return frame_from(like, pool);
}

}  // namespace rr::media
