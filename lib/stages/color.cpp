#include "stages/color.h"

#include <cmath>
#include <opencv2/imgproc.hpp>
#include <optional>

#include "stages/color_stats.h"
#include "stages/cube_lut.h"
#include "stages/frame_views.h"
#include "stages/params.h"
#include "stages/rgb_planes.h"
#include "stages/rounding.h"

namespace rr::stages {
namespace {

struct ColorSettings {
    bool white_balance = true;
    bool auto_levels = true;
    double local_contrast = 0;  // CLAHE clip limit; 0 = off
    double saturation = 1;
    double gamma = 1;
    std::string lut_path;
};

// What every chunk applies: fixed once the whole video has been measured.
struct Plan {
    std::array<double, 3> gains{1, 1, 1};
    Levels levels;
};

class Analyzer final : public StageAnalyzer {
  public:
    explicit Analyzer(RgbConverter conv) : conv_(std::move(conv)) {}
    Status observe(const AVFrame& frame, int64_t) override {
        conv_.to_rgb_preview(frame, rgb_, 320);
        stats_.add(rgb_);
        return {};
    }
    nlohmann::json finish() override { return stats_.to_json(); }

  private:
    RgbConverter conv_;
    RgbPlanes rgb_;
    ColorStats stats_;
};

class Instance final : public StageInstance {
  public:
    Instance(RgbConverter conv, const ColorSettings& s, const Plan& plan, const CubeLut* lut,
             YuvLayout layout)
        : conv_(std::move(conv)), s_(s), plan_(plan), lut_(lut), layout_(layout) {
        if (s_.local_contrast > 0) clahe_ = cv::createCLAHE(s_.local_contrast, cv::Size(8, 8));
        adjusts_ = s_.white_balance || s_.auto_levels || s_.gamma != 1.0 || s_.saturation != 1.0;
    }

    Status process(av::FramePtr in, std::vector<av::FramePtr>& out) override {
        RR_TRY(make_writable(in.get()));
        if (adjusts_ || lut_) pixel_pass(*in);
        if (clahe_) local_contrast(*in);
        out.push_back(std::move(in));
        return {};
    }

  private:
    // White balance, levels, gamma, saturation and the LUT, in that order, strip by strip.
    void pixel_pass(AVFrame& frame) {
        const double k = s_.auto_levels ? 1.0 / (plan_.levels.white - plan_.levels.black) : 1.0;
        const double black = s_.auto_levels ? plan_.levels.black : 0.0;
        const auto& w = conv_.weights();
        conv_.transform(frame, [&](RgbPlanes& rgb) {
            if (s_.white_balance || s_.auto_levels) {
                for (size_t c = 0; c < 3; ++c) {
                    const double gain = s_.white_balance ? plan_.gains[c] : 1.0;
                    rgb[c].convertTo(rgb[c], CV_32F, gain * k, -black * k);
                }
            }
            if (s_.gamma != 1.0) {
                for (auto& p : rgb) {
                    cv::max(p, 0.0, p);
                    cv::pow(p, 1.0 / s_.gamma, p);
                }
            }
            if (s_.saturation != 1.0) {
                // Scaled about each pixel's own luma, so brightness stays where it was.
                cv::addWeighted(rgb[0], w.kr, rgb[1], w.kg(), 0.0, y_);
                cv::scaleAdd(rgb[2], w.kb, y_, y_);
                for (auto& p : rgb)
                    cv::addWeighted(p, s_.saturation, y_, 1.0 - s_.saturation, 0, p);
            }
            if (adjusts_) {
                // Displayable colours only: what the statistics assumed and what viewers see.
                for (auto& p : rgb) {
                    cv::max(p, 0.0, p);
                    cv::min(p, 1.0, p);
                }
            }
            if (lut_) lut_->apply(rgb);
        });
    }

    // CLAHE on lightness: the luma plane alone, stretched to the full code range for OpenCV
    // (which equalises over 0..max) and back, so limited-range black and white stay legal.
    void local_contrast(AVFrame& frame) {
        cv::Mat y = plane(frame, 0, layout_);
        const double lo = layout_.luma_min(), hi = layout_.luma_max();
        const double full = layout_.max_value();
        y.convertTo(work_, y.type(), full / (hi - lo), -lo * full / (hi - lo));
        clahe_->apply(work_, work_);
        work_.convertTo(y, y.type(), (hi - lo) / full, lo);
    }

    RgbConverter conv_;
    const ColorSettings& s_;
    const Plan& plan_;
    const CubeLut* lut_;
    YuvLayout layout_;
    cv::Ptr<cv::CLAHE> clahe_;
    bool adjusts_ = false;  // anything besides the LUT (which clamps to its own domain)
    cv::Mat work_, y_;
};

class Color final : public Stage {
  public:
    Color(ColorSettings s, std::optional<CubeLut> lut, nlohmann::json params)
        : s_(std::move(s)), lut_(std::move(lut)), params_(std::move(params)) {}

    std::string name() const override { return "color"; }
    nlohmann::json params() const override { return params_; }

    Result<FrameFormat> configure(const FrameFormat& input) override {
        format_ = input;
        auto conv = RgbConverter::create(input);
        if (!conv) return conv.error().context("stage 'color'");
        return input;
    }

    std::unique_ptr<StageAnalyzer> analyzer(const ChunkContext&) const override {
        if (!s_.white_balance && !s_.auto_levels) return nullptr;
        auto conv = RgbConverter::create(format_);
        if (!conv) return nullptr;  // configure() already refused such formats
        return std::make_unique<Analyzer>(std::move(conv).value());
    }

    Status finish_analysis(const std::vector<nlohmann::json>& chunks) override {
        ColorStats all;
        for (const auto& c : chunks) all.merge(ColorStats::from_json(c));
        before_ = all.means();
        if (s_.white_balance) plan_.gains = grey_world_gains(all);
        if (s_.auto_levels)
            plan_.levels =
                auto_levels(all, s_.white_balance ? plan_.gains : std::array{1.0, 1.0, 1.0});
        frames_measured_ = all.frames();
        return {};
    }

    Result<std::unique_ptr<StageInstance>> open(const ChunkContext&) const override {
        RR_ASSIGN(auto conv, RgbConverter::create(format_));
        RR_ASSIGN(auto layout, yuv_layout(format_.pix_fmt, format_.range));
        return std::unique_ptr<StageInstance>(std::make_unique<Instance>(
            std::move(conv), s_, plan_, lut_ ? &*lut_ : nullptr, layout));
    }

    nlohmann::json summarize(const std::vector<nlohmann::json>&) const override {
        auto r3 = [](const std::array<double, 3>& a) {
            return nlohmann::json::array({round_to(a[0], 4), round_to(a[1], 4), round_to(a[2], 4)});
        };
        nlohmann::json r = {{"frames_measured", frames_measured_}};
        if (s_.white_balance || s_.auto_levels) r["rgb_means_before"] = r3(before_);
        if (s_.white_balance)
            r["white_balance"] = {{"method", "grey_world"}, {"gains", r3(plan_.gains)}};
        if (s_.auto_levels)
            r["auto_levels"] = {{"black", round_to(plan_.levels.black, 4)},
                                {"white", round_to(plan_.levels.white, 4)}};
        if (s_.local_contrast > 0)
            r["local_contrast"] = {
                {"method", "clahe"}, {"clip_limit", s_.local_contrast}, {"tiles", 8}};
        if (s_.saturation != 1.0) r["saturation"] = s_.saturation;
        if (s_.gamma != 1.0) r["gamma"] = s_.gamma;
        if (lut_)
            r["lut"] = {{"path", s_.lut_path}, {"size", lut_->size()}, {"title", lut_->title()}};
        return r;
    }

  private:
    ColorSettings s_;
    std::optional<CubeLut> lut_;
    nlohmann::json params_;
    FrameFormat format_;
    Plan plan_;
    std::array<double, 3> before_{0, 0, 0};
    int64_t frames_measured_ = 0;
};

}  // namespace

Result<std::unique_ptr<Stage>> make_color(const StageSpec& spec) {
    Params p(spec);
    ColorSettings s;
    s.white_balance = p.choice("white_balance", "auto", {"auto", "off"}) == "auto";
    s.auto_levels = p.boolean("auto_levels", true);
    s.local_contrast = p.number("local_contrast", 0.0, 0.0, 10.0);
    s.saturation = p.number("saturation", 1.0, 0.0, 3.0);
    s.gamma = p.number("gamma", 1.0, 0.2, 5.0);
    s.lut_path = p.text("lut", "");
    RR_TRY(p.finish());
    std::optional<CubeLut> lut;
    if (!s.lut_path.empty()) {
        auto loaded = CubeLut::load(s.lut_path);
        if (!loaded) return loaded.error().context("stage 'color': parameter 'lut'");
        lut = std::move(loaded).value();
    }
    return std::unique_ptr<Stage>(
        std::make_unique<Color>(std::move(s), std::move(lut), p.effective()));
}

}  // namespace rr::stages
