#include "stages/denoise.h"

#include <map>

#include "media/video_filter.h"
#include "stages/params.h"
#include "stages/planes.h"

namespace rr::stages {
namespace {

// What each method and strength runs. Calibrated on testsrc2 with Gaussian noise of σ≈15
// (8-bit): medium gains ≥ 5 dB PSNR there, low leaves a clean picture above 45 dB.
struct Setting {
    std::string filter;
    int preroll = 0;   // frames before a chunk that make its first frames match an unchunked run
    int postroll = 0;  // frames after a chunk that a centred window needs
};

Setting setting_for(const std::string& method, const std::string& strength) {
    static const std::map<std::string, Setting> kTable = {
        // hqdn3d=luma_spatial:chroma_spatial:luma_temporal:chroma_temporal. Its temporal part
        // is recursive: a chunk's first frames match an unchunked run bit for bit once this
        // many earlier frames have gone through (measured: 8 / 32 / 48 suffice).
        {"hqdn3d/low", {"hqdn3d=4:3:6:4.5", 16, 0}},
        {"hqdn3d/medium", {"hqdn3d=20:15:30:22.5", 32, 0}},
        {"hqdn3d/high", {"hqdn3d=30:22.5:45:34", 48, 0}},
        // Non-local means, 5x5 patches searched in a 9x9 window (sharper and 2.5x faster
        // than FFmpeg's 7/15 defaults on the calibration clip). Spatial only.
        {"nlmeans/low", {"nlmeans=s=4:p=5:r=9", 0, 0}},
        {"nlmeans/medium", {"nlmeans=s=8:p=5:r=9", 0, 0}},
        {"nlmeans/high", {"nlmeans=s=12:p=5:r=9", 0, 0}},
        // Adaptive temporal averaging over s frames centred on the output frame; pixels whose
        // difference exceeds the thresholds (motion) are left out of the average.
        {"temporal/low", {"atadenoise=0a=0.04:0b=0.08:1a=0.04:1b=0.08:2a=0.04:2b=0.08:s=7", 3, 3}},
        {"temporal/medium", {"atadenoise=0a=0.2:0b=0.4:1a=0.2:1b=0.4:2a=0.2:2b=0.4:s=9", 4, 4}},
        {"temporal/high", {"atadenoise=0a=0.3:0b=0.6:1a=0.3:1b=0.6:2a=0.3:2b=0.6:s=15", 7, 7}},
    };
    return kTable.at(method + "/" + strength);
}

class Denoise final : public Stage {
  public:
    Denoise(std::string method, std::string strength, nlohmann::json params)
        : method_(std::move(method)),
          strength_(std::move(strength)),
          setting_(setting_for(method_, strength_)),
          params_(std::move(params)) {}

    std::string name() const override { return "denoise"; }
    nlohmann::json params() const override { return params_; }
    int preroll_frames() const override { return setting_.preroll; }
    int postroll_frames() const override { return setting_.postroll; }

    Result<FrameFormat> configure(const FrameFormat& input) override {
        auto layout = yuv_layout(input.pix_fmt, input.range);
        if (!layout) return layout.error().context("stage 'denoise'");
        format_ = input;
        // Built once here so a filter this FFmpeg lacks fails the job before any chunk runs.
        auto probe = media::VideoFilter::create(format_, setting_.filter, format_.pix_fmt, 1);
        if (!probe) return probe.error().context("stage 'denoise'");
        return input;
    }

    Result<std::unique_ptr<StageInstance>> open(const ChunkContext& chunk) const override {
        RR_ASSIGN(auto filter, media::VideoFilter::create(format_, setting_.filter, format_.pix_fmt,
                                                          chunk.threads));
        return std::unique_ptr<StageInstance>(
            std::make_unique<Instance>(std::move(filter), format_));
    }

    nlohmann::json summarize(const std::vector<nlohmann::json>&) const override {
        return {{"method", method_},
                {"strength", strength_},
                {"filter", setting_.filter},
                {"preroll_frames", setting_.preroll},
                {"postroll_frames", setting_.postroll}};
    }

  private:
    class Instance final : public StageInstance {
      public:
        Instance(media::VideoFilter filter, FrameFormat format)
            : filter_(std::move(filter)), format_(format) {}
        Status process(av::FramePtr in, std::vector<av::FramePtr>& out) override {
            return push(std::move(in), out);
        }
        Status flush(std::vector<av::FramePtr>& out) override { return push(nullptr, out); }

      private:
        Status push(av::FramePtr in, std::vector<av::FramePtr>& out) {
            const size_t before = out.size();
            RR_TRY(filter_.push(std::move(in), out));
            for (size_t i = before; i < out.size(); ++i) format_.tag(out[i].get());
            return {};
        }
        media::VideoFilter filter_;
        FrameFormat format_;
    };

    std::string method_, strength_;
    Setting setting_;
    nlohmann::json params_;
    FrameFormat format_;
};

}  // namespace

Result<std::unique_ptr<Stage>> make_denoise(const StageSpec& spec) {
    Params p(spec);
    const std::string method = p.choice("method", "hqdn3d", {"nlmeans", "hqdn3d", "temporal"});
    const std::string strength = p.choice("strength", "medium", {"low", "medium", "high"});
    RR_TRY(p.finish());
    return std::unique_ptr<Stage>(std::make_unique<Denoise>(method, strength, p.effective()));
}

}  // namespace rr::stages
