#include "stages/scale.h"

extern "C" {
#include <libavutil/pixdesc.h>
}

#include <cmath>

#include "media/frame_converter.h"
#include "stages/params.h"

namespace rr::stages {
namespace {

class Scale final : public Stage {
  public:
    Scale(int width, int height, bool upscale, nlohmann::json params)
        : width_(width), height_(height), upscale_(upscale), params_(std::move(params)) {}

    std::string name() const override { return "scale"; }
    nlohmann::json params() const override { return params_; }

    Result<FrameFormat> configure(const FrameFormat& input) override {
        in_ = input;
        out_ = input;
        const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(input.pix_fmt);
        const int step_w = d ? 1 << d->log2_chroma_w : 1;
        const int step_h = d ? 1 << d->log2_chroma_h : 1;
        // Display aspect (with the sample aspect) is what "keep aspect" means to a viewer.
        const double sar = input.sample_aspect.num > 0 ? av_q2d(input.sample_aspect) : 1.0;
        const double dar = input.width * sar / input.height;
        double w = width_, h = height_;
        if (width_ < 0) w = h * dar / sar;
        if (height_ < 0) h = w * sar / dar;
        auto round_to = [](double v, int step) {
            return std::max(step, static_cast<int>(std::lround(v / step)) * step);
        };
        out_.width = round_to(w, step_w);
        out_.height = round_to(h, step_h);
        // A "1080p" profile is a ceiling for most users: enlarging a small source only adds
        // bytes and softness, so it needs an explicit upscale: true.
        kept_ = !upscale_ && (out_.width > in_.width || out_.height > in_.height);
        if (kept_) {
            out_.width = in_.width;
            out_.height = in_.height;
        }
        return out_;
    }

    Result<std::unique_ptr<StageInstance>> open(const ChunkContext&) const override {
        if (out_.width == in_.width && out_.height == in_.height)
            return std::unique_ptr<StageInstance>(std::make_unique<PassThrough>());
        RR_ASSIGN(auto conv, media::FrameConverter::create(in_, out_, false, SWS_LANCZOS));
        return std::unique_ptr<StageInstance>(std::make_unique<Instance>(std::move(conv)));
    }

    nlohmann::json summarize(const std::vector<nlohmann::json>&) const override {
        return {{"input", {in_.width, in_.height}},
                {"output", {out_.width, out_.height}},
                {"filter", "lanczos"},
                {"kept_input_size", kept_}};
    }

  private:
    class Instance final : public StageInstance {
      public:
        explicit Instance(media::FrameConverter conv) : conv_(std::move(conv)) {}
        Status process(av::FramePtr in, std::vector<av::FramePtr>& out) override {
            RR_ASSIGN(auto frame, conv_.convert(std::move(in)));
            out.push_back(std::move(frame));
            return {};
        }

      private:
        media::FrameConverter conv_;
    };

    // Same size in and out: a Lanczos pass would only cost time and sharpness.
    class PassThrough final : public StageInstance {
      public:
        Status process(av::FramePtr in, std::vector<av::FramePtr>& out) override {
            out.push_back(std::move(in));
            return {};
        }
    };

    int width_, height_;
    bool upscale_;
    bool kept_ = false;
    nlohmann::json params_;
    FrameFormat in_, out_;
};

}  // namespace

Result<std::unique_ptr<Stage>> make_scale(const StageSpec& spec) {
    Params p(spec);
    const int width = p.integer("width", -1, -1, 16384);
    const int height = p.integer("height", -1, -1, 16384);
    const bool upscale = p.boolean("upscale", false);
    RR_TRY(p.finish());
    if (width == 0 || height == 0 || (width < 0 && height < 0)) {
        return make_error(
            Errc::invalid_argument,
            "stage 'scale': give 'width' and/or 'height' (positive; -1 keeps the aspect ratio)");
    }
    return std::unique_ptr<Stage>(std::make_unique<Scale>(width, height, upscale, p.effective()));
}

}  // namespace rr::stages
