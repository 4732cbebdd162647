#include "media/assembler.h"

extern "C" {
#include <libavutil/mathematics.h>
}

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/choices.h"
#include "media/av_error.h"
#include "media/demuxer.h"
#include "media/intermediate.h"
#include "media/media_writer.h"

namespace rr::media {
namespace {

// Opens a file written by us (chunk or audio intermediates) with plain file I/O.
Result<av::InputFormatPtr> open_intermediate(const std::filesystem::path& path) {
    AVFormatContext* ctx = nullptr;
    int ret = avformat_open_input(&ctx, path.c_str(), nullptr, nullptr);
    if (ret < 0) return av::error(ret, path.filename().string(), Errc::io);
    av::InputFormatPtr fmt(ctx);
    ret = avformat_find_stream_info(ctx, nullptr);
    if (ret < 0) return av::error(ret, path.filename().string());
    return fmt;
}

// Yields packets in decode order with a timestamp for interleaving.
class PacketSource {
  public:
    virtual ~PacketSource() = default;
    // Fills `pkt` (stream_index already mapped to the output) or returns false at the end.
    [[nodiscard]] virtual Result<bool> next(AVPacket* pkt) = 0;
};

class VideoChunks final : public PacketSource {
  public:
    static Result<std::unique_ptr<VideoChunks>> open(
        const std::vector<std::filesystem::path>& files, double last_duration) {
        auto v = std::unique_ptr<VideoChunks>(new VideoChunks());
        v->files_ = files;
        RR_TRY(v->scan(last_duration));
        return v;
    }

    AVCodecParameters* parameters() const { return first_->streams[0]->codecpar; }
    AVRational time_base() const { return tb_; }
    int reorder_depth() const { return reorder_; }
    // Output stream, its time base, and the source's start time to subtract (microseconds).
    void set_output(int index, AVRational tb, int64_t origin_us) {
        out_index_ = index;
        out_tb_ = tb;
        shift_ = av_rescale_q(origin_us, AV_TIME_BASE_Q, tb_);
    }

    Result<bool> next(AVPacket* pkt) override {
        while (true) {
            if (!current_) {
                if (file_ >= files_.size()) return false;
                RR_ASSIGN(current_, open_intermediate(files_[file_]));
                ++file_;
            }
            int ret = av_read_frame(current_.get(), pkt);
            if (ret == AVERROR_EOF) {
                current_.reset();
                continue;
            }
            if (ret < 0)
                return av::error(ret, "reading chunk " + std::to_string(file_ - 1), Errc::io);
            const AVRational tb = current_->streams[0]->time_base;
            pkt->pts -= intermediate_offset(tb);
            if (pkt->dts != AV_NOPTS_VALUE) pkt->dts -= intermediate_offset(tb);
            av_packet_rescale_ts(pkt, tb, tb_);
            const size_t k = emitted_++;
            auto pos = std::lower_bound(sorted_.begin(), sorted_.end(), pkt->pts) - sorted_.begin();
            const size_t p = static_cast<size_t>(pos);
            pkt->dts = k >= static_cast<size_t>(reorder_)
                           ? sorted_[k - static_cast<size_t>(reorder_)]
                           : sorted_[0] - static_cast<int64_t>(static_cast<size_t>(reorder_) - k) *
                                              first_step_;
            pkt->duration = p + 1 < sorted_.size() ? sorted_[p + 1] - sorted_[p] : last_duration_;
            pkt->pts -= shift_;
            pkt->dts -= shift_;
            pkt->stream_index = out_index_;
            pkt->pos = -1;
            av_packet_rescale_ts(pkt, tb_, out_tb_);
            return true;
        }
    }

  private:
    VideoChunks() = default;

    // Pass 1: every chunk's timestamps, to regenerate consistent DTS for the whole stream.
    Status scan(double last_duration) {
        if (files_.empty()) return make_error(Errc::internal, "no chunks to join");
        av::PacketPtr pkt = av::make_packet();
        for (size_t i = 0; i < files_.size(); ++i) {
            RR_ASSIGN(av::InputFormatPtr fmt, open_intermediate(files_[i]));
            if (fmt->nb_streams != 1 ||
                fmt->streams[0]->codecpar->codec_type != AVMEDIA_TYPE_VIDEO) {
                return make_error(Errc::internal,
                                  "chunk " + std::to_string(i) + " is not a single video stream");
            }
            const AVRational tb = fmt->streams[0]->time_base;
            if (i == 0) tb_ = tb;
            std::vector<int64_t> local;
            int ret = 0;
            while ((ret = av_read_frame(fmt.get(), pkt.get())) == 0) {
                if (pkt->pts == AV_NOPTS_VALUE)
                    return make_error(Errc::internal, "chunk packet without pts");
                local.push_back(av_rescale_q(pkt->pts - intermediate_offset(tb), tb, tb_));
                av_packet_unref(pkt.get());
            }
            if (ret != AVERROR_EOF)
                return av::error(ret, "reading chunk " + std::to_string(i), Errc::io);
            if (local.empty())
                return make_error(Errc::internal, "chunk " + std::to_string(i) + " is empty");
            std::vector<int64_t> order = local;
            std::sort(order.begin(), order.end());
            if (std::adjacent_find(order.begin(), order.end()) != order.end()) {
                return make_error(Errc::internal,
                                  "chunk " + std::to_string(i) + " repeats a timestamp");
            }
            if (!sorted_.empty() && order.front() <= sorted_.back()) {
                return make_error(Errc::internal,
                                  "chunk " + std::to_string(i) + " overlaps the previous one");
            }
            for (size_t k = 0; k < local.size(); ++k) {
                auto rank = std::lower_bound(order.begin(), order.end(), local[k]) - order.begin();
                reorder_ = std::max(reorder_, static_cast<int>(static_cast<int64_t>(k) - rank));
            }
            sorted_.insert(sorted_.end(), order.begin(), order.end());
            if (i == 0) first_ = std::move(fmt);
        }
        last_duration_ = std::max<int64_t>(1, std::llround(last_duration / av_q2d(tb_)));
        first_step_ =
            sorted_.size() > 1 ? sorted_[1] - sorted_[0] : std::max<int64_t>(last_duration_, 1);
        return {};
    }

    std::vector<std::filesystem::path> files_;
    av::InputFormatPtr first_;  // keeps chunk 0's parameters (extradata) alive
    av::InputFormatPtr current_;
    size_t file_ = 0;
    std::vector<int64_t> sorted_;
    int reorder_ = 0;
    int64_t first_step_ = 1;
    int64_t last_duration_ = 1;
    size_t emitted_ = 0;
    AVRational tb_{1, 1};
    int out_index_ = 0;
    AVRational out_tb_{1, 1};
    int64_t shift_ = 0;
};

// Packets of an already-demuxed file, with stream indices remapped and time shifted.
class Remux final : public PacketSource {
  public:
    // `shift_us` is subtracted from every timestamp (source start time, intermediate offset).
    Remux(AVFormatContext* fmt, std::vector<int> map, std::vector<AVRational> out_tb,
          int64_t shift_us)
        : fmt_(fmt), map_(std::move(map)), out_tb_(std::move(out_tb)), shift_us_(shift_us) {}

    Result<bool> next(AVPacket* pkt) override {
        while (true) {
            int ret = av_read_frame(fmt_, pkt);
            if (ret == AVERROR_EOF) return false;
            if (ret < 0) return false;  // a damaged tail of side streams ends them, not the job
            int out = pkt->stream_index < static_cast<int>(map_.size())
                          ? map_[static_cast<size_t>(pkt->stream_index)]
                          : -1;
            if (out < 0) {
                av_packet_unref(pkt);
                continue;
            }
            const AVStream* st = fmt_->streams[pkt->stream_index];
            const AVRational tb = st->time_base;
            const int64_t shift = av_rescale_q(shift_us_, AV_TIME_BASE_Q, tb);
            if (pkt->pts != AV_NOPTS_VALUE) pkt->pts -= shift;
            if (pkt->dts != AV_NOPTS_VALUE) pkt->dts -= shift;
            // Subtitles that ended before a trimmed output begins have nowhere to go.
            if (st->codecpar->codec_type == AVMEDIA_TYPE_SUBTITLE && pkt->pts != AV_NOPTS_VALUE &&
                pkt->pts + pkt->duration <= 0) {
                av_packet_unref(pkt);
                continue;
            }
            av_packet_rescale_ts(pkt, tb, out_tb_[static_cast<size_t>(out)]);
            pkt->stream_index = out;
            pkt->pos = -1;
            return true;
        }
    }

  private:
    AVFormatContext* fmt_;
    std::vector<int> map_;
    std::vector<AVRational> out_tb_;
    int64_t shift_us_;
};

double packet_seconds(const AVPacket* pkt, AVRational tb) {
    int64_t t = pkt->dts != AV_NOPTS_VALUE ? pkt->dts : pkt->pts;
    return t == AV_NOPTS_VALUE ? -1e18 : static_cast<double>(t) * av_q2d(tb);
}

Status add_chapter(AVFormatContext* out, int64_t id, double start, double end,
                   const std::string& title, const AVDictionary* metadata) {
    auto** grown = static_cast<AVChapter**>(
        av_realloc_array(out->chapters, out->nb_chapters + 1, sizeof(AVChapter*)));
    if (!grown) return make_error(Errc::internal, "out of memory");
    out->chapters = grown;
    auto* ch = static_cast<AVChapter*>(av_mallocz(sizeof(AVChapter)));
    if (!ch) return make_error(Errc::internal, "out of memory");
    ch->id = id;
    ch->time_base = AVRational{1, 1000};
    ch->start = static_cast<int64_t>(start * 1000.0 + 0.5);
    ch->end = static_cast<int64_t>(end * 1000.0 + 0.5);
    if (metadata) av_dict_copy(&ch->metadata, metadata, 0);
    if (!title.empty()) av_dict_set(&ch->metadata, "title", title.c_str(), 0);
    out->chapters[out->nb_chapters++] = ch;
    return {};
}

void copy_stream_metadata(const AVStream* in, AVStream* out) {
    for (const char* key : {"language", "title"}) {
        if (const AVDictionaryEntry* e = av_dict_get(in->metadata, key, nullptr, 0)) {
            av_dict_set(&out->metadata, key, e->value, 0);
        }
    }
    out->disposition = in->disposition;
}

void copy_side_data(const AVStream* in, AVStream* out, AVPacketSideDataType type) {
    size_t size = 0;
    const uint8_t* data = av_stream_get_side_data(in, type, &size);
    if (!data || !size) return;
    if (uint8_t* dst = av_stream_new_side_data(out, type, size)) std::memcpy(dst, data, size);
}

template <class T>
void add_side_data(AVStream* out, AVPacketSideDataType type, const T* value) {
    if (uint8_t* dst = av_stream_new_side_data(out, type, sizeof(T)))
        std::memcpy(dst, value, sizeof(T));
}

void copy_video_metadata(const AVFormatContext* src, const AssemblyInputs& in, AVStream* vst) {
    if (in.container == Container::mp4 && vst->codecpar->codec_id == AV_CODEC_ID_HEVC) {
        vst->codecpar->codec_tag = MKTAG('h', 'v', 'c', '1');  // what Apple players require
    }
    if (in.source_video_stream >= 0 && in.source_video_stream < static_cast<int>(src->nb_streams)) {
        const AVStream* sv = src->streams[in.source_video_stream];
        copy_stream_metadata(sv, vst);
        copy_side_data(sv, vst, AV_PKT_DATA_DISPLAYMATRIX);
        if (in.keep_hdr_metadata && in.hdr_metadata.empty()) {
            copy_side_data(sv, vst, AV_PKT_DATA_MASTERING_DISPLAY_METADATA);
            copy_side_data(sv, vst, AV_PKT_DATA_CONTENT_LIGHT_LEVEL);
        }
    }
    if (in.keep_hdr_metadata) {
        // Sources often carry HDR10 metadata only in the bitstream; the container gets it too.
        const HdrMetadata& h = in.hdr_metadata;
        if (h.mastering) add_side_data(vst, AV_PKT_DATA_MASTERING_DISPLAY_METADATA, &*h.mastering);
        if (h.light) add_side_data(vst, AV_PKT_DATA_CONTENT_LIGHT_LEVEL, &*h.light);
    }
}

// An intermediate or source file whose chosen streams go into the output.
struct SideInput {
    av::InputFormatPtr owned;  // the audio intermediate; null for the source itself
    std::vector<int> map;      // input stream -> output stream, -1 when left out
    [[nodiscard]] bool any() const {
        return std::any_of(map.begin(), map.end(), [](int o) { return o >= 0; });
    }
};

// The audio intermediate's streams, each labelled like the source stream it was made from.
Result<SideInput> add_audio(MediaWriter& writer, const AVFormatContext* src,
                            const AssemblyInputs& in) {
    SideInput audio;
    if (!in.audio_file) return audio;
    RR_ASSIGN(audio.owned, open_intermediate(*in.audio_file));
    const AVFormatContext* file = audio.owned.get();
    for (unsigned i = 0; i < file->nb_streams; ++i) {
        RR_ASSIGN(AVStream * ast,
                  writer.add_stream(file->streams[i]->codecpar, file->streams[i]->time_base));
        if (i < in.audio_source_streams.size()) {
            const int from = in.audio_source_streams[i];
            if (from >= 0 && from < static_cast<int>(src->nb_streams))
                copy_stream_metadata(src->streams[from], ast);
        }
        audio.map.push_back(ast->index);
    }
    return audio;
}

// The source's subtitles that the container can store as they are; the others are reported.
Result<SideInput> add_subtitles(MediaWriter& writer, const AVFormatContext* src,
                                Container container, nlohmann::json& report) {
    SideInput subs;
    subs.map.assign(src->nb_streams, -1);
    for (unsigned i = 0; i < src->nb_streams; ++i) {
        const AVStream* st = src->streams[i];
        if (st->codecpar->codec_type != AVMEDIA_TYPE_SUBTITLE) continue;
        const char* codec = avcodec_get_name(st->codecpar->codec_id);
        if (avformat_query_codec(writer.format()->oformat, st->codecpar->codec_id,
                                 FF_COMPLIANCE_NORMAL) != 1) {
            report.push_back({{"input_stream", i},
                              {"codec", codec},
                              {"kept", false},
                              {"reason", std::string(codec) + " cannot be stored in " +
                                             std::string(to_string(container))}});
            continue;
        }
        RR_ASSIGN(AVStream * sst, writer.add_stream(st->codecpar, st->time_base));
        copy_stream_metadata(st, sst);
        subs.map[i] = sst->index;
        report.push_back({{"input_stream", i}, {"codec", codec}, {"kept", true}});
    }
    return subs;
}

// The stages' chapters when one replaced them, else the source's, moved by the trim.
Status add_chapters(AVFormatContext* out, const AVFormatContext* src, const AssemblyInputs& in,
                    int64_t origin_us) {
    if (in.chapters) {
        int64_t id = 1;
        for (const auto& c : *in.chapters)
            RR_TRY(add_chapter(out, id++, c.start, c.end, c.title, nullptr));
        return {};
    }
    const double shift = static_cast<double>(origin_us) / AV_TIME_BASE;
    for (unsigned i = 0; i < src->nb_chapters; ++i) {
        const AVChapter* c = src->chapters[i];
        const double end = static_cast<double>(c->end) * av_q2d(c->time_base) - shift;
        if (end <= 0) continue;  // trimmed away
        RR_TRY(add_chapter(
            out, c->id, std::max(0.0, static_cast<double>(c->start) * av_q2d(c->time_base) - shift),
            end, "", c->metadata));
    }
    return {};
}

// Writes every source's packets, merged by timestamp so the muxer's interleaving queue stays
// short, and counts them by kind.
Status interleave(MediaWriter& writer, std::vector<std::unique_ptr<PacketSource>>& sources,
                  AssemblyReport& report) {
    const AVFormatContext* out = writer.format();
    std::vector<av::PacketPtr> heads;
    for (auto& s : sources) {
        av::PacketPtr p = av::make_packet();
        RR_ASSIGN(bool has, s->next(p.get()));
        heads.push_back(has ? std::move(p) : av::PacketPtr());
    }
    while (true) {
        size_t best = heads.size();
        double best_t = std::numeric_limits<double>::infinity();
        for (size_t i = 0; i < heads.size(); ++i) {
            if (!heads[i]) continue;
            double t =
                packet_seconds(heads[i].get(), out->streams[heads[i]->stream_index]->time_base);
            if (t < best_t) {
                best_t = t;
                best = i;
            }
        }
        if (best == heads.size()) break;
        switch (out->streams[heads[best]->stream_index]->codecpar->codec_type) {
            case AVMEDIA_TYPE_VIDEO:
                ++report.video_packets;
                break;
            case AVMEDIA_TYPE_AUDIO:
                ++report.audio_packets;
                break;
            default:
                break;
        }
        RR_TRY(writer.write(heads[best].get()));
        av::PacketPtr p = av::make_packet();
        RR_ASSIGN(bool has, sources[best]->next(p.get()));
        heads[best] = has ? std::move(p) : av::PacketPtr();
    }
    return {};
}

}  // namespace

Result<AssemblyReport> assemble(const AssemblyInputs& in, const std::filesystem::path& output) {
    AssemblyReport report;
    RR_ASSIGN(auto video, VideoChunks::open(in.chunk_files, in.last_frame_duration));
    report.reorder_depth = video->reorder_depth();

    RR_ASSIGN(MediaWriter writer, MediaWriter::create(output, muxer_name(in.container)));
    AVFormatContext* out = writer.format();

    // The source, for metadata, chapters and subtitles.
    RR_ASSIGN(Demuxer source, Demuxer::open(*in.source, true));
    AVFormatContext* src = source.format();
    const int64_t origin = (src->start_time != AV_NOPTS_VALUE ? src->start_time : 0) +
                           std::llround(in.start_offset * AV_TIME_BASE);
    av_dict_copy(&out->metadata, src->metadata, 0);
    av_dict_set(&out->metadata, "encoder", nullptr, 0);

    RR_ASSIGN(AVStream * vst, writer.add_stream(video->parameters(), video->time_base()));
    copy_video_metadata(src, in, vst);
    RR_ASSIGN(SideInput audio, add_audio(writer, src, in));
    RR_ASSIGN(SideInput subs, add_subtitles(writer, src, in.container, report.subtitles));
    RR_TRY(add_chapters(out, src, in, origin));
    report.chapters = static_cast<int>(out->nb_chapters);

    AVDictionary* opts = nullptr;
    if (in.container == Container::mp4) av_dict_set(&opts, "movflags", "+faststart", 0);
    Status header = writer.write_header(&opts);
    av_dict_free(&opts);
    RR_TRY(header);

    // Sources, in output time bases (fixed only after the header is written).
    video->set_output(vst->index, vst->time_base, origin);
    std::vector<std::unique_ptr<PacketSource>> sources;
    sources.push_back(std::move(video));
    std::vector<AVRational> out_tbs(out->nb_streams);
    for (unsigned i = 0; i < out->nb_streams; ++i) out_tbs[i] = out->streams[i]->time_base;
    if (audio.owned) {
        sources.push_back(std::make_unique<Remux>(audio.owned.get(), audio.map, out_tbs,
                                                  origin + kIntermediateOffsetUs));
    }
    if (subs.any()) {
        for (unsigned i = 0; i < src->nb_streams; ++i)
            src->streams[i]->discard = subs.map[i] >= 0 ? AVDISCARD_DEFAULT : AVDISCARD_ALL;
        sources.push_back(std::make_unique<Remux>(src, subs.map, out_tbs, origin));
    }
    RR_TRY(interleave(writer, sources, report));
    RR_TRY(writer.finish());
    return report;
}

}  // namespace rr::media
