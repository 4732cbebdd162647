#include "stages/upscale.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <opencv2/imgproc.hpp>

#include "media/frame_converter.h"
#include "stages/frame_views.h"
#include "stages/params.h"
#include "vision/super_resolution.h"

namespace rr::stages {
namespace {

// Context kept around every inner tile edge (low-resolution pixels). Measured: with 16 the
// tiled output of every model equals whole-picture inference to within rounding.
constexpr int kTileMargin = 16;
// The automatic tile keeps one network within RAM / (8 x cores) and at most 512 MiB, so
// every worker's network together stays under an eighth of the machine's memory.
constexpr double kMaxAutoBytes = 512.0 * 1024 * 1024;

int auto_tile(const vision::SrModelInfo& info) {
    const double ram = static_cast<double>(::sysconf(_SC_PHYS_PAGES)) *
                       static_cast<double>(::sysconf(_SC_PAGESIZE));
    const double cores = static_cast<double>(std::max<long>(1, ::sysconf(_SC_NPROCESSORS_ONLN)));
    return vision::tile_for_memory(info, std::min(kMaxAutoBytes, ram / (8 * cores)));
}

media::FrameFormat rgb_format(const FrameFormat& yuv, int width, int height) {
    return packed_format(yuv, width, height,
                         yuv.bit_depth() > 8 ? AV_PIX_FMT_RGB48LE : AV_PIX_FMT_RGB24);
}

// The luma plane of `yuv` alone: swscale computes it exactly as for the whole YUV format
// (same matrix, range and rounding) and spends nothing on chroma the stage replaces.
Result<media::FrameFormat> luma_format(const FrameFormat& yuv) {
    media::FrameFormat f = yuv;
    switch (yuv.bit_depth()) {
        case 8:
            f.pix_fmt = AV_PIX_FMT_GRAY8;
            break;
        case 9:
            f.pix_fmt = AV_PIX_FMT_GRAY9LE;
            break;
        case 10:
            f.pix_fmt = AV_PIX_FMT_GRAY10LE;
            break;
        case 12:
            f.pix_fmt = AV_PIX_FMT_GRAY12LE;
            break;
        case 14:
            f.pix_fmt = AV_PIX_FMT_GRAY14LE;
            break;
        case 16:
            f.pix_fmt = AV_PIX_FMT_GRAY16LE;
            break;
        default:
            return make_error(Errc::unsupported, "no luma format for " + yuv.describe());
    }
    return f;
}

class Upscale final : public Stage {
  public:
    Upscale(nlohmann::json params, int scale, int tile, std::optional<vision::SrModelInfo> info,
            std::shared_ptr<const vision::TfjsModel> model, std::string fallback_reason)
        : params_(std::move(params)),
          scale_(scale),
          tile_(tile),
          info_(std::move(info)),
          model_(std::move(model)),
          fallback_reason_(std::move(fallback_reason)) {}

    std::string name() const override { return "upscale"; }
    nlohmann::json params() const override { return params_; }

    Result<FrameFormat> configure(const FrameFormat& input) override {
        if (!is_planar_yuv(input.pix_fmt))
            return make_error(Errc::unsupported, "stage 'upscale' needs planar YUV input");
        in_ = input;
        out_ = input;
        out_.width = input.width * scale_;
        out_.height = input.height * scale_;
        if (info_ && tile_ == 0) tile_ = auto_tile(*info_);
        return out_;
    }

    Result<std::unique_ptr<StageInstance>> open(const ChunkContext&) const override {
        auto inst = std::make_unique<Instance>();
        if (!model_) {
            RR_ASSIGN(inst->lanczos, media::FrameConverter::create(in_, out_, false, SWS_LANCZOS));
            return std::unique_ptr<StageInstance>(std::move(inst));
        }
        const auto rgb_in = rgb_format(in_, in_.width, in_.height);
        const auto rgb_out = rgb_format(in_, out_.width, out_.height);
        RR_ASSIGN(const auto luma_out, luma_format(out_));
        RR_ASSIGN(inst->to_rgb, media::FrameConverter::create(in_, rgb_in, false, SWS_BICUBIC));
        RR_ASSIGN(inst->to_luma, media::FrameConverter::create(rgb_out, luma_out, false, SWS_AREA));
        RR_ASSIGN(inst->resolver,
                  vision::SuperResolver::create(*model_, *info_, {in_.width, in_.height}, tile_,
                                                kTileMargin));
        // The network's picture never leaves the instance: one buffer serves every frame.
        RR_ASSIGN(auto big_pool, FramePool::create(rgb_out.width, rgb_out.height, rgb_out.pix_fmt));
        RR_ASSIGN(inst->big, big_pool.get());
        RR_ASSIGN(inst->out_pool, FramePool::create(out_.width, out_.height, out_.pix_fmt));
        inst->out_format = out_;
        RR_ASSIGN(inst->layout, yuv_layout(in_.pix_fmt, in_.range));
        return std::unique_ptr<StageInstance>(std::move(inst));
    }

    nlohmann::json summarize(const std::vector<nlohmann::json>& chunks) const override {
        int64_t frames = 0;
        double ms = 0;
        for (const auto& c : chunks) {
            if (c.is_null()) continue;
            frames += c.value("frames", int64_t{0});
            ms += c.value("ms", 0.0);
        }
        nlohmann::json r = {{"model", info_ ? info_->name : "lanczos"},
                            {"scale", scale_},
                            {"input", {in_.width, in_.height}},
                            {"output", {out_.width, out_.height}},
                            {"frames", frames},
                            {"ms_per_frame", frames ? ms / static_cast<double>(frames) : 0.0}};
        if (info_) {
            r["tile"] = tile_;
            const auto layout = vision::plan_tiles({in_.width, in_.height}, tile_, kTileMargin);
            r["tile_size"] = {layout.tile.width, layout.tile.height};  // as cut for this frame
            r["tile_margin"] = kTileMargin;
            r["chroma"] = "lanczos";  // luma from the network, chroma planes by Lanczos
            r["model_file"] = info_->file.string();
        } else {
            r["tile"] = nullptr;
            r["fallback"] = "lanczos";
            r["fallback_reason"] = fallback_reason_;
        }
        return r;
    }

  private:
    struct Instance final : StageInstance {
        std::optional<media::FrameConverter> lanczos, to_rgb, to_luma;
        std::optional<vision::SuperResolver> resolver;
        av::FramePtr big;                   // the network's RGB picture
        std::optional<FramePool> out_pool;  // the frames handed downstream
        media::FrameFormat out_format;
        YuvLayout layout;
        int64_t frames = 0;
        double ms = 0;

        Status process(av::FramePtr in, std::vector<av::FramePtr>& out) override {
            const auto t0 = std::chrono::steady_clock::now();
            if (lanczos) {
                RR_ASSIGN(auto scaled, lanczos->convert(std::move(in)));
                out.push_back(std::move(scaled));
            } else {
                RR_ASSIGN(auto rgb, to_rgb->convert(av::ref_frame(in.get())));
                cv::Mat dst = packed_view(*big);
                RR_TRY(resolver->upscale(packed_view(*rgb), dst));
                RR_ASSIGN(auto yuv, media::frame_from(*in, *out_pool));
                out_format.tag(yuv.get());
                // Luma comes from the network; chroma from Lanczos on the source's own chroma
                // planes, which measured 0.9 dB closer to the original than the network's.
                uint8_t* const luma[4] = {yuv->data[0], nullptr, nullptr, nullptr};
                const int luma_stride[4] = {yuv->linesize[0], 0, 0, 0};
                RR_TRY(to_luma->convert_into(*big, luma, luma_stride));
                for (int p = 1; p < layout.planes; ++p) {
                    cv::Mat dst_plane = plane(*yuv, p, layout);
                    cv::resize(plane(*in, p, layout), dst_plane, dst_plane.size(), 0, 0,
                               cv::INTER_LANCZOS4);
                    // Lanczos overshoots at sharp edges; 16-bit samples saturate at 65535,
                    // not at the format's maximum, and an encoder would wrap 1024 to 0.
                    if (layout.depth > 8) cv::min(dst_plane, layout.max_value(), dst_plane);
                }
                out.push_back(std::move(yuv));
            }
            ++frames;
            ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                      .count();
            return {};
        }
        nlohmann::json chunk_result() const override { return {{"frames", frames}, {"ms", ms}}; }
    };

    nlohmann::json params_;
    int scale_;
    int tile_;
    std::optional<vision::SrModelInfo> info_;
    std::shared_ptr<const vision::TfjsModel> model_;
    std::string fallback_reason_;
    FrameFormat in_, out_;
};

}  // namespace

Result<std::unique_ptr<Stage>> make_upscale(const StageSpec& spec, const StageEnv& env) {
    Params p(spec);
    const int scale = std::stoi(p.choice("scale", "2", {"2", "3", "4"}));
    const std::string model = p.choice("model", "slim", {"slim", "medium", "psnr-small"});
    const int tile = p.integer("tile", 0, 0, 4096);
    const std::string fallback = p.choice("fallback", "none", {"none", "lanczos"});
    RR_TRY(p.finish());
    nlohmann::json effective = p.effective();
    effective["scale"] = scale;  // a number in the sidecar, however it was written
    const std::string where = "stage 'upscale'";
    if (tile != 0 && tile <= 2 * kTileMargin + 16) {
        return make_error(Errc::invalid_argument,
                          where + ": parameter 'tile' must be 0 (automatic) or more than " +
                              std::to_string(2 * kTileMargin + 16) + " pixels");
    }
    if (model == "psnr-small" && scale != 2) {
        return make_error(Errc::invalid_argument,
                          where +
                              ": model 'psnr-small' upscales x2 only; use scale 2 or model "
                              "slim|medium");
    }
    auto info = vision::sr_model_info(env.models_dir, model, scale);
    if (!info) {
        if (info.error().code != Errc::not_found || fallback != "lanczos")
            return make_error(Errc::invalid_argument,
                              where + ": " + info.error().message +
                                  (info.error().code == Errc::not_found
                                       ? "; or set fallback: lanczos to upscale without it"
                                       : ""));
        if (env.logger) env.logger->warn("{}: {}; using Lanczos", where, info.error().message);
        return std::unique_ptr<Stage>(std::make_unique<Upscale>(
            effective, scale, tile, std::nullopt, nullptr, info.error().message));
    }
    auto loaded = vision::load_tfjs_model(info->file);
    if (!loaded) return make_error(Errc::invalid_argument, where + ": " + loaded.error().message);
    auto shared = std::make_shared<const vision::TfjsModel>(std::move(loaded).value());
    // Building the network once here catches unsupported layers at validation time.
    if (auto net = vision::build_dnn(*shared); !net)
        return make_error(Errc::invalid_argument, where + ": " + net.error().message);
    return std::unique_ptr<Stage>(
        std::make_unique<Upscale>(effective, scale, tile, *info, std::move(shared), ""));
}

}  // namespace rr::stages
