#include "media/encoder.h"

extern "C" {
#include <libavutil/hwcontext.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
}

#include <map>

#include "media/av_error.h"

namespace rr::media {
namespace {

int default_crf(const std::string& codec) {
    if (codec == "hevc") return 28;
    if (codec == "av1") return 35;
    if (codec == "vp9") return 31;
    return 23;
}

std::string software_encoder(const std::string& codec) {
    if (codec == "hevc") return "libx265";
    if (codec == "av1") return "libsvtav1";
    if (codec == "vp9") return "libvpx-vp9";
    return "libx264";
}

std::string hardware_encoder(const std::string& codec, const std::string& hw) {
    const std::string base = codec == "h264" ? "h264" : codec;
    return base + "_" + hw;
}

// SVT-AV1 counts presets 0 (slowest) to 13; NVENC p1 (fastest) to p7; libvpx's cpu-used
// 8 (fastest) to 0.
struct PresetNames {
    const char* svtav1;
    const char* nvenc;
    const char* vpx;
};

std::string map_preset(const std::string& encoder, const std::string& preset) {
    static const std::map<std::string, PresetNames> kNames = {
        {"ultrafast", {"12", "p1", "8"}}, {"superfast", {"11", "p1", "7"}},
        {"veryfast", {"10", "p2", "6"}},  {"faster", {"9", "p3", "5"}},
        {"fast", {"8", "p3", "4"}},       {"medium", {"6", "p4", "3"}},
        {"slow", {"4", "p5", "2"}},       {"slower", {"3", "p6", "1"}},
        {"veryslow", {"2", "p7", "0"}},
    };
    auto it = kNames.find(preset);
    if (encoder == "libsvtav1") return it != kNames.end() ? it->second.svtav1 : preset;
    if (encoder == "libvpx-vp9") return it != kNames.end() ? it->second.vpx : preset;
    if (encoder.find("nvenc") != std::string::npos)
        return it != kNames.end() ? it->second.nvenc : preset;
    return preset;
}

bool is_10bit(AVPixelFormat f) {
    const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(f);
    return d && d->comp[0].depth > 8;
}

AVPixelFormat hw_input_format(const std::string& hw, AVPixelFormat wanted) {
    if (hw == "none") return wanted;
    return is_10bit(wanted) ? AV_PIX_FMT_P010LE : AV_PIX_FMT_NV12;
}

Status set_opt(AVCodecContext* ctx, const char* key, const std::string& value) {
    int ret = av_opt_set(ctx->priv_data, key, value.c_str(), 0);
    if (ret < 0)
        return av::error(ret, std::string("encoder option ") + key + "=" + value, Errc::config);
    return {};
}

Status apply_settings(AVCodecContext* ctx, const EncoderChoice& choice, int threads,
                      const FrameFormat& format) {
    const VideoSettings& s = choice.settings;
    const int crf = s.crf >= 0 ? s.crf : default_crf(s.codec);
    const std::string preset = map_preset(choice.name, s.preset);
    const std::string& n = choice.name;
    if (n == "libx264") {
        RR_TRY(set_opt(ctx, "preset", preset));
        RR_TRY(set_opt(ctx, "crf", std::to_string(crf)));
        ctx->thread_count = threads;
    } else if (n == "libx265") {
        RR_TRY(set_opt(ctx, "preset", preset));
        RR_TRY(set_opt(ctx, "crf", std::to_string(crf)));
        std::string params = "log-level=error:pools=" + std::to_string(threads);
        // libx265 in this FFmpeg does not turn frame side data into SEI; HDR10 metadata only
        // reaches the bitstream as encoder parameters.
        const std::string hdr = format.hdr.x265_params();
        if (is_hdr_transfer(format.transfer) && !hdr.empty()) params += ":hdr10=1:" + hdr;
        RR_TRY(set_opt(ctx, "x265-params", params));
    } else if (n == "libsvtav1") {
        RR_TRY(set_opt(ctx, "preset", preset));
        RR_TRY(set_opt(ctx, "crf", std::to_string(crf)));
        RR_TRY(set_opt(ctx, "svtav1-params", "lp=" + std::to_string(threads)));
    } else if (n == "libvpx-vp9") {
        // Constant quality needs a zero bitrate; cpu-used takes the preset's place.
        RR_TRY(set_opt(ctx, "crf", std::to_string(crf)));
        RR_TRY(set_opt(ctx, "cpu-used", preset));
        RR_TRY(set_opt(ctx, "deadline", "good"));
        RR_TRY(set_opt(ctx, "row-mt", "1"));
        ctx->bit_rate = 0;
        ctx->thread_count = threads;
    } else if (choice.hwaccel == "qsv") {
        RR_TRY(set_opt(ctx, "preset", preset));
        ctx->global_quality = crf;
    } else if (choice.hwaccel == "nvenc") {
        RR_TRY(set_opt(ctx, "preset", preset));
        RR_TRY(set_opt(ctx, "rc", "vbr"));
        RR_TRY(set_opt(ctx, "cq", std::to_string(crf)));
    } else if (choice.hwaccel == "vaapi") {
        RR_TRY(set_opt(ctx, "rc_mode", "CQP"));
        ctx->global_quality = crf;
    }
    return {};
}

}  // namespace

AVPixelFormat output_pix_fmt(const VideoSettings& settings, int source_bit_depth) {
    if (!settings.pix_fmt.empty()) return av_get_pix_fmt(settings.pix_fmt.c_str());
    // 10-bit H.264 plays almost nowhere; HEVC and AV1 keep deep sources deep.
    if (source_bit_depth > 8 && settings.codec != "h264") return AV_PIX_FMT_YUV420P10LE;
    return AV_PIX_FMT_YUV420P;
}

nlohmann::json EncoderChoice::to_json() const {
    return {{"encoder", name},
            {"hwaccel", hwaccel},
            {"requested_hwaccel", settings.hwaccel},
            {"codec", settings.codec},
            {"crf", settings.crf >= 0 ? settings.crf : default_crf(settings.codec)},
            {"preset", settings.preset},
            {"pix_fmt", av_get_pix_fmt_name(input_format) ? av_get_pix_fmt_name(input_format) : ""},
            {"attempts", attempts}};
}

Result<VideoEncoder> VideoEncoder::open(const EncoderChoice& choice, const FrameFormat& format,
                                        int threads) {
    const AVCodec* codec = avcodec_find_encoder_by_name(choice.name.c_str());
    if (!codec)
        return make_error(Errc::unsupported,
                          "encoder " + choice.name + " is not in this FFmpeg build");
    VideoEncoder enc;
    enc.ctx_.reset(avcodec_alloc_context3(codec));
    if (!enc.ctx_) return make_error(Errc::internal, "out of memory");
    AVCodecContext* ctx = enc.ctx_.get();
    ctx->width = format.width;
    ctx->height = format.height;
    ctx->time_base = format.time_base;
    ctx->framerate = format.frame_rate;
    ctx->sample_aspect_ratio = format.sample_aspect;
    ctx->color_primaries = format.primaries;
    ctx->color_trc = format.transfer;
    ctx->colorspace = format.matrix;
    ctx->color_range = format.range;
    ctx->pix_fmt = choice.input_format;
    ctx->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;  // parameter sets once, shared by all chunks
    RR_TRY(apply_settings(ctx, choice, threads, format));

    if (choice.hwaccel == "vaapi") {
        AVBufferRef* device = nullptr;
        int ret = av_hwdevice_ctx_create(&device, AV_HWDEVICE_TYPE_VAAPI, nullptr, nullptr, 0);
        if (ret < 0) return av::error(ret, "no VAAPI device", Errc::unsupported);
        enc.device_.reset(device);
        av::BufferRefPtr frames(av_hwframe_ctx_alloc(device));
        if (!frames) return make_error(Errc::internal, "out of memory");
        auto* fc = reinterpret_cast<AVHWFramesContext*>(frames->data);
        fc->format = AV_PIX_FMT_VAAPI;
        fc->sw_format = choice.input_format;
        fc->width = format.width;
        fc->height = format.height;
        fc->initial_pool_size = 20;
        ret = av_hwframe_ctx_init(frames.get());
        if (ret < 0) return av::error(ret, "VAAPI frame pool", Errc::unsupported);
        ctx->pix_fmt = AV_PIX_FMT_VAAPI;
        ctx->hw_frames_ctx = av_buffer_ref(frames.get());
    }
    int ret = avcodec_open2(ctx, codec, nullptr);
    if (ret < 0) return av::error(ret, "cannot open encoder " + choice.name, Errc::unsupported);
    return enc;
}

Status VideoEncoder::send(const AVFrame* frame) {
    int ret = 0;
    if (frame && ctx_->hw_frames_ctx) {
        av::FramePtr hw = av::make_frame();
        ret = av_hwframe_get_buffer(ctx_->hw_frames_ctx, hw.get(), 0);
        if (ret >= 0) ret = av_hwframe_transfer_data(hw.get(), frame, 0);
        if (ret >= 0) ret = av_frame_copy_props(hw.get(), frame);
        if (ret < 0) return av::error(ret, "upload to GPU");
        ret = avcodec_send_frame(ctx_.get(), hw.get());
    } else {
        ret = avcodec_send_frame(ctx_.get(), frame);
    }
    if (ret < 0 && ret != AVERROR_EOF) return av::error(ret, "encode");
    return {};
}

Result<EncoderChoice> choose_encoder(const VideoSettings& settings, const FrameFormat& format,
                                     const LoggerPtr& logger) {
    std::vector<std::string> order;
    if (settings.hwaccel == "auto")
        order = {"qsv", "vaapi", "nvenc"};
    else if (settings.hwaccel != "none")
        order = {settings.hwaccel};
    order.push_back("none");

    EncoderChoice choice;
    choice.settings = settings;
    const AVPixelFormat wanted = format.pix_fmt;
    for (const auto& hw : order) {
        EncoderChoice candidate = choice;
        candidate.hwaccel = hw;
        candidate.name =
            hw == "none" ? software_encoder(settings.codec) : hardware_encoder(settings.codec, hw);
        candidate.input_format = hw_input_format(hw, wanted);
        auto probe = [&] {
            QuietFfmpegLogs quiet;  // a missing GPU is an expected answer, reported below
            return VideoEncoder::open(candidate, format, 1);
        }();
        nlohmann::json attempt = {{"encoder", candidate.name}, {"hwaccel", hw}, {"ok", probe.ok()}};
        if (probe.ok()) {
            logger->info("encoder: using {} ({})", candidate.name, hw == "none" ? "software" : hw);
            candidate.attempts.push_back(attempt);
            return candidate;
        }
        attempt["error"] = probe.error().message;
        choice.attempts.push_back(attempt);
        if (hw == "none") return probe.error();
        logger->info("encoder: {} unavailable ({}), trying the next option", candidate.name,
                     probe.error().message);
    }
    return make_error(Errc::unsupported, "no usable encoder");
}

}  // namespace rr::media
