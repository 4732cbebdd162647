#include "stages/filters.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <opencv2/imgproc.hpp>

#include "stages/frame_views.h"
#include "stages/params.h"

namespace rr::stages {
namespace {

// A stage that edits each frame in place with a function of the frame's YUV planes.
class PlaneFilter final : public Stage {
  public:
    using Prepare = std::function<std::function<void(AVFrame&)>(const YuvLayout&)>;

    PlaneFilter(std::string name, nlohmann::json params, Prepare prepare)
        : name_(std::move(name)), params_(std::move(params)), prepare_(std::move(prepare)) {}

    std::string name() const override { return name_; }
    nlohmann::json params() const override { return params_; }

    Result<FrameFormat> configure(const FrameFormat& input) override {
        auto layout = yuv_layout(input.pix_fmt, input.range);
        if (!layout) return layout.error().context("stage '" + name_ + "'");
        apply_ = prepare_(*layout);
        return input;
    }

    Result<std::unique_ptr<StageInstance>> open(const ChunkContext&) const override {
        return std::unique_ptr<StageInstance>(std::make_unique<Instance>(apply_));
    }

  private:
    class Instance final : public StageInstance {
      public:
        explicit Instance(const std::function<void(AVFrame&)>& apply) : apply_(apply) {}
        Status process(av::FramePtr in, std::vector<av::FramePtr>& out) override {
            RR_TRY(make_writable(in.get()));
            apply_(*in);
            out.push_back(std::move(in));
            return {};
        }

      private:
        const std::function<void(AVFrame&)>& apply_;
    };

    std::string name_;
    nlohmann::json params_;
    Prepare prepare_;
    std::function<void(AVFrame&)> apply_;
};

// Applies a lookup table to the luma plane; 8-bit goes through cv::LUT.
std::function<void(AVFrame&)> luma_lut(const YuvLayout& layout,
                                       const std::function<double(double)>& curve) {
    const int size = layout.max_value() + 1;
    const int lo = layout.luma_min(), hi = layout.luma_max();
    std::vector<uint16_t> table(static_cast<size_t>(size));
    for (int v = 0; v < size; ++v) {
        table[static_cast<size_t>(v)] =
            static_cast<uint16_t>(std::clamp<long>(std::lround(curve(v)), lo, hi));
    }
    if (layout.depth <= 8) {
        cv::Mat lut(1, 256, CV_8UC1);
        for (int v = 0; v < 256; ++v)
            lut.at<uint8_t>(v) = static_cast<uint8_t>(table[static_cast<size_t>(v)]);
        return [layout, lut](AVFrame& f) {
            cv::Mat y = plane(f, 0, layout);
            cv::LUT(y, lut, y);
        };
    }
    return [layout, table](AVFrame& f) {
        cv::Mat y = plane(f, 0, layout);
        for (int r = 0; r < y.rows; ++r) {
            auto* row = y.ptr<uint16_t>(r);
            for (int c = 0; c < y.cols; ++c)
                row[c] = table[std::min<size_t>(row[c], table.size() - 1)];
        }
    };
}

template <class Make>
Result<std::unique_ptr<Stage>> finish(const StageSpec& spec, Params& p, Make&& prepare) {
    RR_TRY(p.finish());
    return std::unique_ptr<Stage>(
        std::make_unique<PlaneFilter>(spec.name, p.effective(), std::forward<Make>(prepare)));
}

}  // namespace

Result<std::unique_ptr<Stage>> make_grayscale(const StageSpec& spec) {
    Params p(spec);
    return finish(spec, p, [](const YuvLayout& layout) -> std::function<void(AVFrame&)> {
        return [layout](AVFrame& f) {
            // Neutral chroma is grey at every luma level, in every YUV matrix.
            for (int i = 1; i < layout.planes; ++i)
                plane(f, i, layout).setTo(layout.neutral_chroma());
        };
    });
}

Result<std::unique_ptr<Stage>> make_blur(const StageSpec& spec) {
    Params p(spec);
    const int radius = p.integer("radius", 4, 1, 100);
    return finish(spec, p, [radius](const YuvLayout& layout) -> std::function<void(AVFrame&)> {
        return [layout, radius](AVFrame& f) {
            for (int i = 0; i < layout.planes; ++i) {
                // Chroma planes are smaller; the same blur there spans fewer samples.
                int r =
                    i == 0
                        ? radius
                        : std::max(radius >> std::max(layout.chroma_shift_w, layout.chroma_shift_h),
                                   0);
                if (r < 1) continue;
                cv::Mat m = plane(f, i, layout);
                cv::GaussianBlur(m, m, cv::Size(2 * r + 1, 2 * r + 1), r / 2.0, r / 2.0,
                                 cv::BORDER_REPLICATE);
            }
        };
    });
}

Result<std::unique_ptr<Stage>> make_brightness(const StageSpec& spec) {
    Params p(spec);
    const double amount = p.number("amount", 0.1, -1.0, 1.0);
    return finish(spec, p, [amount](const YuvLayout& layout) {
        const double offset = amount * (layout.luma_max() - layout.luma_min());
        return luma_lut(layout, [offset](double v) { return v + offset; });
    });
}

Result<std::unique_ptr<Stage>> make_contrast(const StageSpec& spec) {
    Params p(spec);
    const double factor = p.number("amount", 1.2, 0.0, 4.0);
    return finish(spec, p, [factor](const YuvLayout& layout) {
        const double mid = (layout.luma_max() + layout.luma_min()) / 2.0;
        return luma_lut(layout, [factor, mid](double v) { return mid + (v - mid) * factor; });
    });
}

}  // namespace rr::stages
