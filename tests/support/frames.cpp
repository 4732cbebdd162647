#include "support/frames.h"

#include <stdexcept>

#include "media/frame_converter.h"

namespace rr::test {

media::FrameFormat yuv420_format(int w, int h) {
    media::FrameFormat f;
    f.width = w;
    f.height = h;
    f.pix_fmt = AV_PIX_FMT_YUV420P;
    f.time_base = {1, 25};
    f.frame_rate = {25, 1};
    f.range = AVCOL_RANGE_MPEG;
    f.matrix = AVCOL_SPC_BT709;
    return f;
}

av::FramePtr make_yuv420(int w, int h, int y, int u, int v) {
    av::FramePtr f = av::make_frame();
    f->width = w;
    f->height = h;
    f->format = AV_PIX_FMT_YUV420P;
    f->color_range = AVCOL_RANGE_MPEG;
    if (av_frame_get_buffer(f.get(), 0) < 0) throw std::bad_alloc();
    for (int r = 0; r < h; ++r) {
        for (int c = 0; c < w; ++c)
            f->data[0][r * f->linesize[0] + c] =
                static_cast<uint8_t>(y >= 0 ? y : 16 + c * 219 / std::max(1, w - 1));
    }
    for (int p = 1; p < 3; ++p) {
        for (int r = 0; r < (h + 1) / 2; ++r) {
            for (int c = 0; c < (w + 1) / 2; ++c)
                f->data[p][r * f->linesize[p] + c] = static_cast<uint8_t>(p == 1 ? u : v);
        }
    }
    f->pts = 0;
    return f;
}

av::FramePtr make_textured(int w, int h, unsigned seed) {
    av::FramePtr f = make_yuv420(w, h, 128, 128, 128);
    cv::Mat y(h, w, CV_8UC1, f->data[0], static_cast<size_t>(f->linesize[0]));
    cv::RNG rng(seed);
    rng.fill(y, cv::RNG::UNIFORM, 16, 236);
    return f;
}

cv::Mat plane_copy(const AVFrame& f, int plane) {
    int w = plane ? (f.width + 1) / 2 : f.width;
    int h = plane ? (f.height + 1) / 2 : f.height;
    return cv::Mat(h, w, CV_8UC1, f.data[plane], static_cast<size_t>(f.linesize[plane])).clone();
}

double plane_mean(const AVFrame& f, int plane) {
    return cv::mean(plane_copy(f, plane))[0];
}

double plane_stddev(const AVFrame& f, int plane) {
    cv::Scalar mean, dev;
    cv::meanStdDev(plane_copy(f, plane), mean, dev);
    return dev[0];
}

av::FramePtr yuv420_from_rgb(const cv::Mat& rgb) {
    media::FrameFormat from = yuv420_format(rgb.cols, rgb.rows);
    from.pix_fmt = AV_PIX_FMT_RGB24;
    from.range = AVCOL_RANGE_JPEG;
    auto conv = media::FrameConverter::create(from, yuv420_format(rgb.cols, rgb.rows));
    if (!conv) throw std::runtime_error(conv.error().message);
    av::FramePtr f = av::make_frame();
    f->width = rgb.cols;
    f->height = rgb.rows;
    f->format = AV_PIX_FMT_RGB24;
    if (av_frame_get_buffer(f.get(), 0) < 0) throw std::bad_alloc();
    rgb.copyTo(
        cv::Mat(rgb.rows, rgb.cols, CV_8UC3, f->data[0], static_cast<size_t>(f->linesize[0])));
    f->pts = 0;
    auto out = conv->convert(std::move(f));
    if (!out) throw std::runtime_error(out.error().message);
    return std::move(out).value();
}

cv::Mat rgb_from_yuv420(const AVFrame& frame) {
    media::FrameFormat to = yuv420_format(frame.width, frame.height);
    to.pix_fmt = AV_PIX_FMT_RGB24;
    to.range = AVCOL_RANGE_JPEG;
    auto conv = media::FrameConverter::create(yuv420_format(frame.width, frame.height), to);
    if (!conv) throw std::runtime_error(conv.error().message);
    auto out = conv->convert(av::ref_frame(&frame));
    if (!out) throw std::runtime_error(out.error().message);
    return cv::Mat((*out)->height, (*out)->width, CV_8UC3, (*out)->data[0],
                   static_cast<size_t>((*out)->linesize[0]))
        .clone();
}

av::FramePtr run_one(stages::Stage& stage, const media::FrameFormat& format, av::FramePtr in) {
    auto out_format = stage.configure(format);
    if (!out_format) throw std::runtime_error(out_format.error().message);
    auto inst = stage.open(stages::ChunkContext{});
    if (!inst) throw std::runtime_error(inst.error().message);
    std::vector<av::FramePtr> out;
    auto st = (*inst)->process(std::move(in), out);
    if (!st) throw std::runtime_error(st.error().message);
    auto fl = (*inst)->flush(out);
    if (!fl) throw std::runtime_error(fl.error().message);
    if (out.size() != 1)
        throw std::runtime_error("stage produced " + std::to_string(out.size()) + " frames");
    return std::move(out[0]);
}

}  // namespace rr::test
