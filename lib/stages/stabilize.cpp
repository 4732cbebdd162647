#include "stages/stabilize.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <opencv2/imgproc.hpp>

#include "stages/frame_views.h"
#include "stages/motion.h"
#include "stages/params.h"
#include "stages/rounding.h"
#include "stages/trajectory.h"

namespace rr::stages {
namespace {

constexpr double kDegree = std::numbers::pi / 180.0;

class Analyzer final : public StageAnalyzer {
  public:
    Analyzer(YuvLayout layout, int64_t first_frame) : layout_(layout), first_(first_frame) {}

    Status observe(const AVFrame& frame, int64_t index) override {
        // The frame before the chunk (analysis pre-roll) only primes the tracker.
        const Motion m = tracker_.next(frame, layout_);
        if (index >= first_) {
            rows_.push_back({index, frame.pts, m.dx, m.dy, m.da, m.found});
        }
        return {};
    }
    nlohmann::json finish() override { return rows_; }

  private:
    YuvLayout layout_;
    int64_t first_;
    MotionEstimator tracker_;
    nlohmann::json rows_ = nlohmann::json::array();  // [index, pts, dx, dy, da, found]
};

class Instance final : public StageInstance {
  public:
    Instance(const StabilizePlan& plan, const std::vector<int64_t>& pts, YuvLayout layout,
             FramePool pool)
        : plan_(plan), pts_(pts), layout_(layout), pool_(std::move(pool)) {}

    Status process(av::FramePtr in, std::vector<av::FramePtr>& out) override {
        auto it = std::lower_bound(pts_.begin(), pts_.end(), in->pts);
        if (it == pts_.end() || *it != in->pts) {
            // Not seen by the analysis (cannot happen with an exact index): left as it is.
            out.push_back(std::move(in));
            return {};
        }
        const PathPoint& c = plan_.correction[static_cast<size_t>(it - pts_.begin())];
        RR_ASSIGN(auto dst, frame_like(*in, pool_));
        for (int p = 0; p < layout_.planes; ++p) warp(*in, *dst, p, c);
        out.push_back(std::move(dst));
        return {};
    }

  private:
    void warp(const AVFrame& src, AVFrame& dst, int index, const PathPoint& c) const {
        const cv::Mat s = plane(src, index, layout_);
        cv::Mat d = plane(dst, index, layout_);
        // Subsampled planes see the same motion in their own (coarser) coordinates.
        const double fx = index ? 1.0 / (1 << layout_.chroma_shift_w) : 1.0;
        const double fy = index ? 1.0 / (1 << layout_.chroma_shift_h) : 1.0;
        const double z = plan_.zoom, cs = std::cos(c.a), sn = std::sin(c.a);
        const double cx = s.cols / 2.0 - 0.5, cy = s.rows / 2.0 - 0.5;
        // Forward map: q = centre + z * (R(a) * (p - centre) + shift).
        const double a00 = z * cs, a01 = -z * sn * fx / fy, a10 = z * sn * fy / fx, a11 = z * cs;
        cv::Matx23d m(a00, a01, cx + z * c.x * fx - (a00 * cx + a01 * cy), a10, a11,
                      cy + z * c.y * fy - (a10 * cx + a11 * cy));
        const double fill = index ? layout_.neutral_chroma() : layout_.luma_min();
        // With zoom the borders are outside the picture anyway; replicating the edge keeps a
        // rounding sliver from turning black.
        cv::warpAffine(s, d, m, d.size(), cv::INTER_LINEAR,
                       plan_.zoom > 1.0 ? cv::BORDER_REPLICATE : cv::BORDER_CONSTANT,
                       cv::Scalar(fill));
    }

    const StabilizePlan& plan_;
    const std::vector<int64_t>& pts_;
    YuvLayout layout_;
    FramePool pool_;  // the warped frames (the input cannot be warped in place)
};

class Stabilize final : public Stage {
  public:
    Stabilize(int smoothing, bool zoom, double max_shift, double max_angle_deg,
              nlohmann::json params)
        : smoothing_(smoothing),
          zoom_(zoom),
          max_shift_(max_shift),
          max_angle_deg_(max_angle_deg),
          params_(std::move(params)) {}

    std::string name() const override { return "stabilize"; }
    nlohmann::json params() const override { return params_; }
    int analysis_preroll_frames() const override { return 1; }

    Result<FrameFormat> configure(const FrameFormat& input) override {
        auto layout = yuv_layout(input.pix_fmt, input.range);
        if (!layout) return layout.error().context("stage 'stabilize'");
        layout_ = *layout;
        format_ = input;
        // 0 means automatic: 6% of the width is about what a hand-held shot needs.
        shift_px_ = max_shift_ > 0 ? max_shift_ : std::round(0.06 * input.width);
        return input;
    }

    std::unique_ptr<StageAnalyzer> analyzer(const ChunkContext& chunk) const override {
        return std::make_unique<Analyzer>(layout_, chunk.first_frame);
    }

    Status finish_analysis(const std::vector<nlohmann::json>& chunks) override {
        std::vector<nlohmann::json> rows;
        for (const auto& c : chunks)
            for (const auto& r : c) rows.push_back(r);
        std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
            return a[0].template get<int64_t>() < b[0].template get<int64_t>();
        });
        std::vector<Motion> motions;
        pts_.clear();
        lost_ = 0;
        for (size_t i = 0; i < rows.size(); ++i) {
            const auto& r = rows[i];
            Motion m{r[2].get<double>(), r[3].get<double>(), r[4].get<double>(), r[5].get<bool>()};
            if (i > 0 && !m.found) ++lost_;
            motions.push_back(m);
            pts_.push_back(r[1].get<int64_t>());
        }
        StabilizeOptions o;
        o.smoothing = smoothing_;
        o.zoom = zoom_;
        o.max_shift = shift_px_;
        o.max_angle = max_angle_deg_ * kDegree;
        plan_ = plan_stabilization(motions, format_.width, format_.height, o);
        return {};
    }

    Result<std::unique_ptr<StageInstance>> open(const ChunkContext&) const override {
        RR_ASSIGN(auto pool, FramePool::create(format_.width, format_.height, format_.pix_fmt));
        return std::unique_ptr<StageInstance>(
            std::make_unique<Instance>(plan_, pts_, layout_, std::move(pool)));
    }

    nlohmann::json summarize(const std::vector<nlohmann::json>&) const override {
        auto r2 = [](double v) { return round_to(v, 2); };
        return {{"frames", pts_.size()},
                {"smoothing_frames", smoothing_},
                {"crop", zoom_ ? "zoom" : "black"},
                {"zoom", std::round(plan_.zoom * 10000.0) / 10000.0},
                {"max_shift_px", shift_px_},
                {"max_angle_deg", max_angle_deg_},
                {"shake_before_px",
                 {{"mean", r2(plan_.shake_before_mean)}, {"max", r2(plan_.shake_before_max)}}},
                {"shake_after_px",
                 {{"mean", r2(plan_.shake_after_mean)}, {"max", r2(plan_.shake_after_max)}}},
                {"frames_without_motion_estimate", lost_},
                {"clamped_frames", plan_.clamped_frames}};
    }

  private:
    int smoothing_;
    bool zoom_;
    double max_shift_, max_angle_deg_;
    nlohmann::json params_;
    YuvLayout layout_;
    FrameFormat format_;
    double shift_px_ = 0;
    std::vector<int64_t> pts_;
    StabilizePlan plan_;
    int lost_ = 0;
};

}  // namespace

Result<std::unique_ptr<Stage>> make_stabilize(const StageSpec& spec) {
    Params p(spec);
    const int smoothing = p.integer("smoothing", 30, 2, 600);
    const bool zoom = p.choice("crop", "zoom", {"zoom", "black"}) == "zoom";
    const double max_shift = p.number("max_shift", 0, 0, 4096);
    const double max_angle = p.number("max_angle", 3, 0, 45);
    RR_TRY(p.finish());
    return std::unique_ptr<Stage>(
        std::make_unique<Stabilize>(smoothing, zoom, max_shift, max_angle, p.effective()));
}

}  // namespace rr::stages
