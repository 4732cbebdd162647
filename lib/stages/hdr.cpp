#include "stages/hdr.h"

extern "C" {
#include <libavutil/pixdesc.h>
}

#include <cmath>

#include "media/hdr_metadata.h"
#include "media/video_filter.h"
#include "stages/frame_views.h"
#include "stages/local_tonemap.h"
#include "stages/params.h"
#include "stages/tone_curve.h"

namespace rr::stages {
namespace {

struct HdrSettings {
    std::string mode = "tonemap";
    std::string op = "hable";
    double peak = 0;                       // cd/m²; 0 = from the metadata
    std::string input_transfer = "auto";   // auto | pq | hlg
    std::string input_primaries = "auto";  // auto | bt2020 | p3 | bt709
    double strength = 0.5;                 // sdr_boost
};

std::string name_of(AVColorTransferCharacteristic t) {
    const char* n = av_color_transfer_name(t);
    return n ? n : "unknown";
}
std::string name_of(AVColorPrimaries p) {
    const char* n = av_color_primaries_name(p);
    return n ? n : "unknown";
}

// zscale's spellings of the input's colour description.
std::string zimg_transfer(AVColorTransferCharacteristic t) {
    return t == AVCOL_TRC_ARIB_STD_B67 ? "arib-std-b67" : "smpte2084";
}
std::string zimg_primaries(AVColorPrimaries p) {
    switch (p) {
        case AVCOL_PRI_BT709:
            return "709";
        case AVCOL_PRI_SMPTE432:
            return "smpte432";
        case AVCOL_PRI_SMPTE431:
            return "smpte431";
        default:
            return "2020";
    }
}
std::string zimg_matrix(AVColorSpace m) {
    switch (m) {
        case AVCOL_SPC_BT709:
            return "709";
        case AVCOL_SPC_BT2020_CL:
            return "2020_cl";
        case AVCOL_SPC_BT470BG:
        case AVCOL_SPC_SMPTE170M:
            return "170m";
        default:
            return "2020_ncl";
    }
}

class ToneMapInstance final : public StageInstance {
  public:
    ToneMapInstance(media::VideoFilter to_linear, media::VideoFilter to_sdr, const ToneCurve& curve,
                    double scale, FrameFormat out)
        : to_linear_(std::move(to_linear)),
          to_sdr_(std::move(to_sdr)),
          curve_(curve),
          scale_(scale),
          out_(out) {}

    Status process(av::FramePtr in, std::vector<av::FramePtr>& out) override {
        return run(std::move(in), out);
    }
    Status flush(std::vector<av::FramePtr>& out) override { return run(nullptr, out); }

  private:
    Status run(av::FramePtr in, std::vector<av::FramePtr>& out) {
        const bool end = !in;
        std::vector<av::FramePtr> linear;
        RR_TRY(to_linear_.push(std::move(in), linear));
        for (auto& f : linear) {
            // gbrpf32: plane 0 is G, 1 is B, 2 is R; 1.0 is 100 cd/m² after scaling.
            auto* g = reinterpret_cast<float*>(f->data[0]);
            auto* b = reinterpret_cast<float*>(f->data[1]);
            auto* r = reinterpret_cast<float*>(f->data[2]);
            const int stride = f->linesize[0] / static_cast<int>(sizeof(float));
            if (scale_ != 1.0) {
                for (int p = 0; p < 3; ++p) {
                    cv::Mat m = float_plane(*f, p);
                    m *= scale_;
                }
            }
            curve_.apply(r, g, b, f->width, f->height, stride);
        }
        std::vector<av::FramePtr> sdr;
        for (auto& f : linear) RR_TRY(to_sdr_.push(std::move(f), sdr));
        if (end) RR_TRY(to_sdr_.push(nullptr, sdr));
        for (auto& f : sdr) {
            media::strip_hdr_side_data(f.get());  // an SDR picture must not claim HDR metadata
            out_.tag(f.get());
            out.push_back(std::move(f));
        }
        return {};
    }

    media::VideoFilter to_linear_, to_sdr_;
    const ToneCurve& curve_;
    double scale_;
    FrameFormat out_;
};

class PassInstance final : public StageInstance {
  public:
    explicit PassInstance(FrameFormat out) : out_(out) {}
    Status process(av::FramePtr in, std::vector<av::FramePtr>& out) override {
        out_.tag(in.get());
        out.push_back(std::move(in));
        return {};
    }

  private:
    FrameFormat out_;
};

class BoostInstance final : public StageInstance {
  public:
    BoostInstance(double strength, YuvLayout layout) : map_(strength, layout) {}
    Status process(av::FramePtr in, std::vector<av::FramePtr>& out) override {
        RR_TRY(make_writable(in.get()));
        map_.apply(*in);
        out.push_back(std::move(in));
        return {};
    }

  private:
    LocalToneMap map_;
};

class Hdr final : public Stage {
  public:
    Hdr(HdrSettings s, nlohmann::json params) : s_(std::move(s)), params_(std::move(params)) {}

    std::string name() const override { return "hdr"; }
    nlohmann::json params() const override { return params_; }
    bool needs_source_depth() const override { return s_.mode != "sdr_boost"; }
    void require_encoding(VideoSettings& video) const override {
        if (s_.mode != "passthrough") return;
        // HDR10 is 10-bit HEVC; any other codec or an 8-bit format would lose it.
        video.codec = VideoCodec::hevc;
        video.pix_fmt.clear();
    }

    Result<FrameFormat> configure(const FrameFormat& input) override {
        in_ = input;
        out_ = input;
        RR_ASSIGN(layout_, yuv_layout(input.pix_fmt, input.range));
        // Explicit parameters describe untagged (or mistagged) input.
        if (s_.input_transfer == "pq") in_.transfer = AVCOL_TRC_SMPTE2084;
        if (s_.input_transfer == "hlg") in_.transfer = AVCOL_TRC_ARIB_STD_B67;
        if (s_.input_primaries == "bt2020") in_.primaries = AVCOL_PRI_BT2020;
        if (s_.input_primaries == "p3") in_.primaries = AVCOL_PRI_SMPTE432;
        if (s_.input_primaries == "bt709") in_.primaries = AVCOL_PRI_BT709;
        const bool hdr = media::is_hdr_transfer(in_.transfer);
        if (hdr && in_.primaries == AVCOL_PRI_UNSPECIFIED) in_.primaries = AVCOL_PRI_BT2020;
        if (hdr && in_.matrix == AVCOL_SPC_UNSPECIFIED) in_.matrix = AVCOL_SPC_BT2020_NCL;

        if (s_.mode == "sdr_boost") {
            if (hdr) {
                return make_error(Errc::invalid_argument,
                                  "stage 'hdr': mode sdr_boost takes SDR input; this input is " +
                                      name_of(in_.transfer) + " (use mode=tonemap)");
            }
            return out_;
        }
        if (!hdr) {
            if (s_.mode == "passthrough") {
                return make_error(Errc::invalid_argument,
                                  "stage 'hdr': mode passthrough needs HDR input (PQ or HLG); "
                                  "this input's transfer is " +
                                      name_of(input.transfer) +
                                      (input.transfer == AVCOL_TRC_UNSPECIFIED
                                           ? " (set input_transfer=pq|hlg for untagged input)"
                                           : ""));
            }
            // Tone mapping SDR would only damage it: the stage steps aside and says why.
            skip_reason_ = input.transfer == AVCOL_TRC_UNSPECIFIED
                               ? "input transfer is untagged; set input_transfer=pq|hlg to tone "
                                 "map it"
                               : "input is not HDR (transfer " + name_of(input.transfer) + ")";
            return out_;
        }
        peak_ = s_.peak > 0 ? s_.peak : input.hdr.peak_nits();
        peak_source_ = s_.peak > 0                                      ? "parameter"
                       : input.hdr.light && input.hdr.light->MaxCLL > 0 ? "max_cll"
                       : peak_ > 0                                      ? "mastering_display"
                                                                        : "default";
        if (peak_ <= 0) peak_ = 1000.0;  // the usual HDR10 grading peak and HLG's nominal peak
        if (s_.mode == "passthrough") {
            out_.transfer = in_.transfer;
            out_.primaries = in_.primaries;
            out_.matrix = in_.matrix;
            return out_;
        }
        // tonemap: 8-bit BT.709 limited range, no HDR metadata.
        out_.pix_fmt = AV_PIX_FMT_YUV420P;
        out_.primaries = AVCOL_PRI_BT709;
        out_.transfer = AVCOL_TRC_BT709;
        out_.matrix = AVCOL_SPC_BT709;
        out_.range = AVCOL_RANGE_MPEG;
        out_.hdr = {};
        curve_ = std::make_unique<ToneCurve>(s_.op, peak_ / 100.0);
        // zimg normalises PQ to the given nominal peak (100: 1.0 is SDR white) and renders HLG
        // for a 1000 cd/m² display with 1.0 at that peak, which we scale back to 1.0 = 100.
        const bool hlg = in_.transfer == AVCOL_TRC_ARIB_STD_B67;
        scale_ = hlg ? 10.0 : 1.0;
        linear_chain_ =
            "zscale=tin=" + zimg_transfer(in_.transfer) + ":min=" + zimg_matrix(in_.matrix) +
            ":pin=" + zimg_primaries(in_.primaries) +
            ":rin=" + (layout_.full_range ? "full" : "limited") +
            ":p=" + zimg_primaries(in_.primaries) + ":t=linear:npl=" + (hlg ? "1000" : "100") +
            ",format=gbrpf32le,zscale=tin=linear:pin=" + zimg_primaries(in_.primaries) + ":p=709";
        sdr_chain_ = "zscale=tin=linear:pin=709:t=709:m=709:r=limited:d=error_diffusion";
        // Built once here so a missing filter fails the job before any chunk runs.
        auto probe = open_filters(1);
        if (!probe) return probe.error().context("stage 'hdr'");
        return out_;
    }

    Result<std::unique_ptr<StageInstance>> open(const ChunkContext& chunk) const override {
        if (s_.mode == "sdr_boost") {
            return std::unique_ptr<StageInstance>(
                std::make_unique<BoostInstance>(s_.strength, layout_));
        }
        if (s_.mode == "passthrough" || !skip_reason_.empty())
            return std::unique_ptr<StageInstance>(std::make_unique<PassInstance>(out_));
        RR_ASSIGN(auto filters, open_filters(chunk.threads));
        return std::unique_ptr<StageInstance>(std::make_unique<ToneMapInstance>(
            std::move(filters.first), std::move(filters.second), *curve_, scale_, out_));
    }

    nlohmann::json summarize(const std::vector<nlohmann::json>&) const override {
        nlohmann::json r = {{"mode", s_.mode},
                            {"input_transfer", name_of(in_.transfer)},
                            {"input_primaries", name_of(in_.primaries)},
                            {"output_transfer", name_of(out_.transfer)},
                            {"output_primaries", name_of(out_.primaries)},
                            {"output_bit_depth", out_.bit_depth()}};
        if (!skip_reason_.empty()) {
            r["applied"] = false;
            r["reason"] = skip_reason_;
            return r;
        }
        r["applied"] = true;
        if (s_.mode == "sdr_boost") {
            r["strength"] = s_.strength;
            return r;
        }
        r["peak_nits"] = peak_;
        r["peak_from"] = peak_source_;
        if (!in_.hdr.empty()) r["input_metadata"] = in_.hdr.to_json();
        if (s_.mode == "tonemap") {
            r["operator"] = s_.op;
            r["dither"] = "error_diffusion";
        } else {
            r["metadata_kept"] = !out_.hdr.empty();
        }
        return r;
    }

  private:
    Result<std::pair<media::VideoFilter, media::VideoFilter>> open_filters(int threads) const {
        FrameFormat linear = in_;
        linear.pix_fmt = AV_PIX_FMT_GBRPF32LE;
        RR_ASSIGN(auto a,
                  media::VideoFilter::create(in_, linear_chain_, AV_PIX_FMT_GBRPF32LE, threads));
        RR_ASSIGN(auto b, media::VideoFilter::create(linear, sdr_chain_, out_.pix_fmt, threads));
        return std::make_pair(std::move(a), std::move(b));
    }

    HdrSettings s_;
    nlohmann::json params_;
    FrameFormat in_, out_;
    YuvLayout layout_;
    std::string skip_reason_;
    double peak_ = 0;
    std::string peak_source_;
    std::unique_ptr<ToneCurve> curve_;
    double scale_ = 1.0;
    std::string linear_chain_, sdr_chain_;
};

}  // namespace

Result<std::unique_ptr<Stage>> make_hdr(const StageSpec& spec) {
    Params p(spec);
    HdrSettings s;
    s.mode = p.choice("mode", "tonemap", {"tonemap", "passthrough", "sdr_boost"});
    s.op = p.choice("operator", "hable", {"hable", "mobius", "reinhard", "bt2390"});
    s.peak = p.number("peak", 0, 0, 10000);
    s.input_transfer = p.choice("input_transfer", "auto", {"auto", "pq", "hlg"});
    s.input_primaries = p.choice("input_primaries", "auto", {"auto", "bt2020", "p3", "bt709"});
    s.strength = p.number("strength", 0.5, 0, 1);
    RR_TRY(p.finish());
    return std::unique_ptr<Stage>(std::make_unique<Hdr>(std::move(s), p.effective()));
}

}  // namespace rr::stages
