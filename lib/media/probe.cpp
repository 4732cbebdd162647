#include "media/probe.h"

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/pixdesc.h>
}

#include <cstring>

#include "media/checksum.h"

namespace rr::media {
namespace {

std::string str_or_empty(const char* s) {
    return s ? s : "";
}

double q2d_or_zero(AVRational r) {
    return r.num > 0 && r.den > 0 ? av_q2d(r) : 0.0;
}

StreamInfo describe_stream(const AVStream* st) {
    const AVCodecParameters* par = st->codecpar;
    StreamInfo s;
    s.index = st->index;
    s.type = str_or_empty(av_get_media_type_string(par->codec_type));
    s.codec = str_or_empty(avcodec_get_name(par->codec_id));
    s.profile = str_or_empty(avcodec_profile_name(par->codec_id, par->profile));
    s.bit_rate = par->bit_rate;
    s.frames = st->nb_frames;
    if (st->duration != AV_NOPTS_VALUE) s.duration = st->duration * av_q2d(st->time_base);
    if (const AVDictionaryEntry* lang = av_dict_get(st->metadata, "language", nullptr, 0)) {
        s.language = lang->value;
    }
    if (par->codec_type == AVMEDIA_TYPE_VIDEO) {
        s.width = par->width;
        s.height = par->height;
        s.fps = q2d_or_zero(st->avg_frame_rate);
        if (s.fps == 0) s.fps = q2d_or_zero(st->r_frame_rate);
        auto fmt = static_cast<AVPixelFormat>(par->format);
        s.pix_fmt = str_or_empty(av_get_pix_fmt_name(fmt));
        if (const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(fmt)) s.bit_depth = d->comp[0].depth;
        s.color_primaries = str_or_empty(av_color_primaries_name(par->color_primaries));
        s.color_transfer = str_or_empty(av_color_transfer_name(par->color_trc));
        s.color_matrix = str_or_empty(av_color_space_name(par->color_space));
        s.color_range = str_or_empty(av_color_range_name(par->color_range));
        s.attached_picture = (st->disposition & AV_DISPOSITION_ATTACHED_PIC) != 0;
    } else if (par->codec_type == AVMEDIA_TYPE_AUDIO) {
        s.channels = par->ch_layout.nb_channels;
        s.sample_rate = par->sample_rate;
        char layout[128] = {};
        if (av_channel_layout_describe(&par->ch_layout, layout, sizeof layout) > 0)
            s.channel_layout = layout;
        s.sample_fmt =
            str_or_empty(av_get_sample_fmt_name(static_cast<AVSampleFormat>(par->format)));
    }
    return s;
}

}  // namespace

const StreamInfo* MediaInfo::first(const std::string& type) const {
    for (const auto& s : streams) {
        if (s.type == type && !s.attached_picture) return &s;
    }
    return nullptr;
}

MediaInfo describe(const Demuxer& demuxer) {
    const AVFormatContext* fmt = demuxer.format();
    MediaInfo info;
    info.path = fmt->url ? fmt->url : "";
    info.container = fmt->iformat ? fmt->iformat->name : "";
    if (fmt->duration != AV_NOPTS_VALUE) info.duration = fmt->duration / double(AV_TIME_BASE);
    if (fmt->start_time != AV_NOPTS_VALUE) info.start_time = fmt->start_time / double(AV_TIME_BASE);
    info.bit_rate = fmt->bit_rate;
    info.chapters = static_cast<int>(fmt->nb_chapters);
    for (unsigned i = 0; i < fmt->nb_streams; ++i)
        info.streams.push_back(describe_stream(fmt->streams[i]));
    return info;
}

nlohmann::json to_json(const MediaInfo& info) {
    nlohmann::json streams = nlohmann::json::array();
    for (const auto& s : info.streams) {
        nlohmann::json j = {{"index", s.index}, {"type", s.type}, {"codec", s.codec}};
        if (!s.profile.empty()) j["profile"] = s.profile;
        if (s.bit_rate) j["bit_rate"] = s.bit_rate;
        if (s.frames) j["frames"] = s.frames;
        if (s.duration > 0) j["duration"] = s.duration;
        if (!s.language.empty()) j["language"] = s.language;
        if (s.type == "video") {
            j["width"] = s.width;
            j["height"] = s.height;
            j["fps"] = s.fps;
            j["pix_fmt"] = s.pix_fmt;
            j["bit_depth"] = s.bit_depth;
            j["color_primaries"] = s.color_primaries;
            j["color_transfer"] = s.color_transfer;
            j["color_matrix"] = s.color_matrix;
            j["color_range"] = s.color_range;
            if (s.attached_picture) j["attached_picture"] = true;
        } else if (s.type == "audio") {
            j["channels"] = s.channels;
            j["sample_rate"] = s.sample_rate;
            j["channel_layout"] = s.channel_layout;
            j["sample_fmt"] = s.sample_fmt;
        }
        streams.push_back(std::move(j));
    }
    return {{"path", info.path},
            {"size", info.size},
            {"checksum", info.checksum},
            {"checksum_algorithm", "xxh3-128"},
            {"container", info.container},
            {"duration", info.duration},
            {"start_time", info.start_time},
            {"bit_rate", info.bit_rate},
            {"chapters", info.chapters},
            {"streams", std::move(streams)}};
}

Result<MediaInfo> probe_file(const std::filesystem::path& path) {
    RR_ASSIGN(MappedFile file, MappedFile::open(path));
    auto demuxer = Demuxer::open(file, true);
    if (!demuxer) return demuxer.error().context(path.string());
    MediaInfo info = describe(*demuxer);
    info.path = path.string();
    info.size = static_cast<int64_t>(file.size());
    info.checksum = xxh3_128_hex(file);
    return info;
}

bool is_still_image(const Demuxer& demuxer, int video_stream) {
    const AVFormatContext* fmt = demuxer.format();
    const char* name = fmt->iformat ? fmt->iformat->name : "";
    const size_t len = std::strlen(name);
    if (std::strcmp(name, "image2") == 0 ||
        (len > 5 && std::strcmp(name + len - 5, "_pipe") == 0)) {
        return true;
    }
    // A picture muxed into a video container: an image codec with a single frame.
    const AVCodecID id = demuxer.stream(video_stream)->codecpar->codec_id;
    const bool image_codec = id == AV_CODEC_ID_PNG || id == AV_CODEC_ID_BMP ||
                             id == AV_CODEC_ID_TIFF || id == AV_CODEC_ID_WEBP ||
                             id == AV_CODEC_ID_JPEG2000;
    return image_codec && demuxer.stream(video_stream)->nb_frames <= 1;
}

}  // namespace rr::media
