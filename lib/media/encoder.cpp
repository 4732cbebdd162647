#include "media/encoder.h"

extern "C" {
#include <libavutil/hwcontext.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
}

#include <map>

#include "media/av_error.h"

namespace rr::media {
namespace {

int default_crf(VideoCodec codec) {
    switch (codec) {
        case VideoCodec::hevc:
            return 28;
        case VideoCodec::av1:
            return 35;
        case VideoCodec::vp9:
            return 31;
        case VideoCodec::h264:
            break;
    }
    return 23;
}

std::string software_encoder(VideoCodec codec) {
    switch (codec) {
        case VideoCodec::hevc:
            return "libx265";
        case VideoCodec::av1:
            return "libsvtav1";
        case VideoCodec::vp9:
            return "libvpx-vp9";
        case VideoCodec::h264:
            break;
    }
    return "libx264";
}

// FFmpeg names hardware encoders <codec>_<api>: h264_qsv, hevc_vaapi, av1_nvenc.
std::string encoder_name(VideoCodec codec, HwAccel hw) {
    if (hw == HwAccel::none) return software_encoder(codec);
    return std::string(to_string(codec)) + "_" + std::string(to_string(hw));
}

// SVT-AV1 counts presets 0 (slowest) to 13; NVENC p1 (fastest) to p7; libvpx's cpu-used
// 8 (fastest) to 0.
struct PresetNames {
    const char* svtav1;
    const char* nvenc;
    const char* vpx;
};

std::string map_preset(VideoCodec codec, HwAccel hw, const std::string& preset) {
    static const std::map<std::string, PresetNames> kNames = {
        {"ultrafast", {"12", "p1", "8"}}, {"superfast", {"11", "p1", "7"}},
        {"veryfast", {"10", "p2", "6"}},  {"faster", {"9", "p3", "5"}},
        {"fast", {"8", "p3", "4"}},       {"medium", {"6", "p4", "3"}},
        {"slow", {"4", "p5", "2"}},       {"slower", {"3", "p6", "1"}},
        {"veryslow", {"2", "p7", "0"}},
    };
    auto it = kNames.find(preset);
    if (hw == HwAccel::none && codec == VideoCodec::av1)
        return it != kNames.end() ? it->second.svtav1 : preset;
    if (hw == HwAccel::none && codec == VideoCodec::vp9)
        return it != kNames.end() ? it->second.vpx : preset;
    if (hw == HwAccel::nvenc) return it != kNames.end() ? it->second.nvenc : preset;
    return preset;
}

bool is_10bit(AVPixelFormat f) {
    const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(f);
    return d && d->comp[0].depth > 8;
}

AVPixelFormat hw_input_format(HwAccel hw, AVPixelFormat wanted) {
    if (hw == HwAccel::none) return wanted;
    return is_10bit(wanted) ? AV_PIX_FMT_P010LE : AV_PIX_FMT_NV12;
}

Status set_opt(AVCodecContext* ctx, const char* key, const std::string& value) {
    int ret = av_opt_set(ctx->priv_data, key, value.c_str(), 0);
    if (ret < 0)
        return av::error(ret, std::string("encoder option ") + key + "=" + value, Errc::config);
    return {};
}

bool interlaced(AVFieldOrder o) {
    return o == AV_FIELD_TT || o == AV_FIELD_BB || o == AV_FIELD_TB || o == AV_FIELD_BT;
}

bool top_first(AVFieldOrder o) {
    return o == AV_FIELD_TT || o == AV_FIELD_BT;
}

Status apply_settings(AVCodecContext* ctx, const EncoderChoice& choice, int threads,
                      const FrameFormat& format) {
    const VideoSettings& s = choice.settings;
    if (interlaced(choice.field_order) &&
        (choice.hwaccel != HwAccel::none || s.codec != VideoCodec::h264)) {
        return make_error(Errc::unsupported, "only libx264 encodes interlaced video here");
    }
    const int crf = s.crf >= 0 ? s.crf : default_crf(s.codec);
    const std::string preset = map_preset(s.codec, choice.hwaccel, s.preset);
    switch (choice.hwaccel) {
        case HwAccel::none:
            break;
        case HwAccel::qsv:
            RR_TRY(set_opt(ctx, "preset", preset));
            ctx->global_quality = crf;
            return {};
        case HwAccel::nvenc:
            RR_TRY(set_opt(ctx, "preset", preset));
            RR_TRY(set_opt(ctx, "rc", "vbr"));
            RR_TRY(set_opt(ctx, "cq", std::to_string(crf)));
            return {};
        case HwAccel::vaapi:
            RR_TRY(set_opt(ctx, "rc_mode", "CQP"));
            ctx->global_quality = crf;
            return {};
        case HwAccel::automatic:
            return make_error(Errc::internal, "encoder chosen without a concrete hwaccel");
    }
    if (s.codec == VideoCodec::vp9) {
        // Constant quality needs a zero bitrate; cpu-used takes the preset's place.
        RR_TRY(set_opt(ctx, "crf", std::to_string(crf)));
        RR_TRY(set_opt(ctx, "cpu-used", preset));
        RR_TRY(set_opt(ctx, "deadline", "good"));
        RR_TRY(set_opt(ctx, "row-mt", "1"));
        ctx->bit_rate = 0;
        ctx->thread_count = threads;
        return {};
    }
    RR_TRY(set_opt(ctx, "preset", preset));
    RR_TRY(set_opt(ctx, "crf", std::to_string(crf)));
    switch (s.codec) {
        case VideoCodec::h264:
            ctx->thread_count = threads;
            if (interlaced(choice.field_order)) {
                // MBAFF with the source's field order; x264 then signals it (pic_struct SEI),
                // which is where players and ffprobe read tt/bb from.
                ctx->flags |= AV_CODEC_FLAG_INTERLACED_DCT | AV_CODEC_FLAG_INTERLACED_ME;
                ctx->field_order = choice.field_order;
                RR_TRY(
                    set_opt(ctx, "x264-params", top_first(choice.field_order) ? "tff=1" : "bff=1"));
            }
            break;
        case VideoCodec::hevc: {
            std::string params = "log-level=error:pools=" + std::to_string(threads);
            // libx265 in this FFmpeg does not turn frame side data into SEI; HDR10 metadata
            // only reaches the bitstream as encoder parameters.
            const std::string hdr = format.hdr.x265_params();
            if (is_hdr_transfer(format.transfer) && !hdr.empty()) params += ":hdr10=1:" + hdr;
            RR_TRY(set_opt(ctx, "x265-params", params));
            break;
        }
        case VideoCodec::av1:
            RR_TRY(set_opt(ctx, "svtav1-params", "lp=" + std::to_string(threads)));
            break;
        case VideoCodec::vp9:
            break;
    }
    return {};
}

// SVT-AV1 1.4 (Debian 12) waits forever for a picture when an encoder that got none is
// drained or closed. A black frame costs 0.35 s at 1080p and preset 6, 6 s at preset 2.
bool hangs_unless_fed(const AVCodec* codec) {
    return codec && std::string_view(codec->name) == "libsvtav1";
}

}  // namespace

AVPixelFormat output_pix_fmt(const VideoSettings& settings, int source_bit_depth) {
    if (!settings.pix_fmt.empty()) return av_get_pix_fmt(settings.pix_fmt.c_str());
    // 10-bit H.264 plays almost nowhere; HEVC and AV1 keep deep sources deep.
    if (source_bit_depth > 8 && settings.codec != VideoCodec::h264) return AV_PIX_FMT_YUV420P10LE;
    return AV_PIX_FMT_YUV420P;
}

nlohmann::json EncoderChoice::to_json() const {
    return {{"encoder", name},
            {"hwaccel", to_string(hwaccel)},
            {"requested_hwaccel", to_string(settings.hwaccel)},
            {"codec", to_string(settings.codec)},
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
    enc.sw_format_ = choice.input_format;
    ctx->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;  // parameter sets once, shared by all chunks
    RR_TRY(apply_settings(ctx, choice, threads, format));

    if (choice.hwaccel == HwAccel::vaapi) {
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

VideoEncoder& VideoEncoder::operator=(VideoEncoder&& other) noexcept {
    if (this != &other) {
        close_unfed();
        ctx_ = std::move(other.ctx_);  // freed before the device it may use
        device_ = std::move(other.device_);
        sw_format_ = other.sw_format_;
        fed_ = other.fed_;
        ended_ = other.ended_;
    }
    return *this;
}

VideoEncoder::~VideoEncoder() {
    close_unfed();
}

void VideoEncoder::close_unfed() noexcept {
    if (!ctx_ || fed_ || !hangs_unless_fed(ctx_->codec)) return;
    av::FramePtr black(av_frame_alloc());
    if (!black) return;
    black->format = sw_format_;
    black->width = ctx_->width;
    black->height = ctx_->height;
    black->pts = 0;
    if (av_frame_get_buffer(black.get(), 0) < 0) return;
    const ptrdiff_t linesize[4] = {black->linesize[0], black->linesize[1], black->linesize[2],
                                   black->linesize[3]};
    (void)av_image_fill_black(black->data, linesize, sw_format_, ctx_->color_range, black->width,
                              black->height);
    if (!submit(black.get())) return;
    if (!submit(nullptr)) return;
    av::PacketPtr pkt(av_packet_alloc());
    if (!pkt) return;
    while (avcodec_receive_packet(ctx_.get(), pkt.get()) == 0) av_packet_unref(pkt.get());
}

Status VideoEncoder::send(const AVFrame* frame) {
    if (!frame) {
        ended_ = true;
        // No EOS for an encoder that got nothing: receive() ends it, close_unfed() closes it.
        if (!fed_) return {};
    }
    RR_TRY(submit(frame));
    if (frame) fed_ = true;
    return {};
}

int VideoEncoder::receive(AVPacket* pkt) {
    if (ended_ && !fed_) return AVERROR_EOF;
    return avcodec_receive_packet(ctx_.get(), pkt);
}

Status VideoEncoder::submit(const AVFrame* frame) {
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

void mark_fields(AVFrame& frame, AVFieldOrder order) {
    frame.interlaced_frame = interlaced(order) ? 1 : 0;
    frame.top_field_first = top_first(order) ? 1 : 0;
}

Result<EncoderChoice> choose_encoder(const VideoSettings& settings, const FrameFormat& format,
                                     const LoggerPtr& logger, AVFieldOrder field_order) {
    std::vector<HwAccel> order;
    if (settings.hwaccel == HwAccel::automatic)
        order = {HwAccel::qsv, HwAccel::vaapi, HwAccel::nvenc};
    else if (settings.hwaccel != HwAccel::none)
        order = {settings.hwaccel};
    order.push_back(HwAccel::none);

    EncoderChoice choice;
    choice.settings = settings;
    choice.field_order = field_order;
    const AVPixelFormat wanted = format.pix_fmt;
    for (const HwAccel hw : order) {
        EncoderChoice candidate = choice;
        candidate.hwaccel = hw;
        candidate.name = encoder_name(settings.codec, hw);
        candidate.input_format = hw_input_format(hw, wanted);
        // Opened and closed again inside the quiet scope: a missing GPU is an expected answer,
        // reported below, and the probe's encoding statistics are noise.
        const Status probe = [&]() -> Status {
            QuietFfmpegLogs quiet;
            auto opened = VideoEncoder::open(candidate, format, 1);
            if (!opened) return opened.error();
            return {};
        }();
        nlohmann::json attempt = {
            {"encoder", candidate.name}, {"hwaccel", to_string(hw)}, {"ok", probe.ok()}};
        if (probe.ok()) {
            // Per job, so debug: the daemon logs what the machine offers once at start.
            logger->debug("encoder: using {} ({})", candidate.name,
                          hw == HwAccel::none ? std::string_view("software") : to_string(hw));
            candidate.attempts.push_back(attempt);
            return candidate;
        }
        attempt["error"] = probe.error().message;
        choice.attempts.push_back(attempt);
        if (hw == HwAccel::none) return probe.error();
        logger->debug("encoder: {} unavailable ({}), trying the next option", candidate.name,
                      probe.error().message);
    }
    return make_error(Errc::unsupported, "no usable encoder");
}

}  // namespace rr::media
