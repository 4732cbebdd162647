#include "media/interlace.h"

extern "C" {
#include <libavutil/dict.h>
}

#include <algorithm>
#include <cstdlib>

#include "media/chunk_source.h"
#include "media/filter_graph.h"

namespace rr::media {
namespace {

int64_t metadata_count(const AVFrame& frame, const char* key) {
    const AVDictionaryEntry* e = av_dict_get(frame.metadata, key, nullptr, 0);
    return e ? std::strtoll(e->value, nullptr, 10) : 0;
}

// idet keeps running totals on every frame it passes on; the last frame has the sample's.
IdetCounts read_counts(const AVFrame& frame, int64_t sampled) {
    IdetCounts c;
    c.tff = metadata_count(frame, "lavfi.idet.multiple.tff");
    c.bff = metadata_count(frame, "lavfi.idet.multiple.bff");
    c.progressive = metadata_count(frame, "lavfi.idet.multiple.progressive");
    c.undetermined = metadata_count(frame, "lavfi.idet.multiple.undetermined");
    c.sampled = sampled;
    return c;
}

Result<IdetCounts> run_idet(const MappedFile& file, int video_stream, const FrameIndex& index,
                            const FrameFormat& decoded, int threads) {
    const auto total = static_cast<int64_t>(index.frames());
    const int64_t first = std::max<int64_t>(0, total / 2 - kIdetSampleFrames / 2);
    const int64_t end = std::min(total, first + kIdetSampleFrames);
    RR_ASSIGN(auto source, ChunkSource::open(file, video_stream, index, first, end, threads));
    RR_ASSIGN(auto graph, FilterGraph::video(decoded, "idet", threads));
    int64_t sampled = 0;
    av::FramePtr last = av::make_frame();
    bool have_last = false;
    auto pull_all = [&]() -> Status {
        while (true) {
            av::FramePtr f = av::make_frame();
            RR_ASSIGN(const bool got, graph.pull(f.get()));
            if (!got) return {};
            last = std::move(f);
            have_last = true;
        }
    };
    // An inexact index delivers the whole stream; the sample still stops at its size.
    while (sampled < kIdetSampleFrames) {
        RR_ASSIGN(av::FramePtr frame, source.next());
        if (!frame) break;
        if (frame->width != decoded.width || frame->height != decoded.height ||
            frame->format != decoded.pix_fmt)
            break;  // a format change mid-stream is refused later, by the chunk run
        ++sampled;
        RR_TRY(graph.push(frame.get()));
        RR_TRY(pull_all());
    }
    RR_TRY(graph.push(nullptr));
    RR_TRY(pull_all());
    if (!have_last) return IdetCounts{};
    return read_counts(*last, sampled);
}

}  // namespace

bool InterlaceDetection::interlaced() const {
    return order == AV_FIELD_TT || order == AV_FIELD_BB || order == AV_FIELD_TB ||
           order == AV_FIELD_BT;
}

bool InterlaceDetection::top_first() const {
    // TB: top coded first, bottom displayed first; BT the other way round.
    return order == AV_FIELD_TT || order == AV_FIELD_BT;
}

const char* field_order_name(AVFieldOrder order) {
    switch (order) {
        case AV_FIELD_PROGRESSIVE:
            return "progressive";
        case AV_FIELD_TT:
            return "tt";
        case AV_FIELD_BB:
            return "bb";
        case AV_FIELD_TB:
            return "tb";
        case AV_FIELD_BT:
            return "bt";
        case AV_FIELD_UNKNOWN:
            break;
    }
    return "unknown";
}

AVFieldOrder decide_from_idet(const IdetCounts& c) {
    const int64_t decided = c.tff + c.bff + c.progressive;
    if (decided <= 0 ||
        static_cast<double>(decided) < kIdetDecided * static_cast<double>(c.sampled))
        return AV_FIELD_PROGRESSIVE;
    const auto share = [&](int64_t n) {
        return static_cast<double>(n) / static_cast<double>(decided);
    };
    if (share(c.tff) >= kIdetShare) return AV_FIELD_TT;
    if (share(c.bff) >= kIdetShare) return AV_FIELD_BB;
    return AV_FIELD_PROGRESSIVE;
}

Result<InterlaceDetection> detect_interlace(const MappedFile& file, int video_stream,
                                            const FrameIndex& index, const FrameFormat& decoded,
                                            AVFieldOrder stream_order, int threads) {
    InterlaceDetection d;
    if (stream_order != AV_FIELD_UNKNOWN) {
        d.order = stream_order;
        d.method = "field_order";
        return d;
    }
    d.method = "idet";
    RR_ASSIGN(auto counts, run_idet(file, video_stream, index, decoded, threads));
    d.order = decide_from_idet(counts);
    d.idet = counts;
    return d;
}

AVFieldOrder InterlacePlan::encoded_order() const {
    if (action != InterlaceAction::kept) return AV_FIELD_PROGRESSIVE;
    return detected.top_first() ? AV_FIELD_TT : AV_FIELD_BB;
}

nlohmann::json InterlacePlan::to_json() const {
    nlohmann::json j = {{"detected", field_order_name(detected.order)},
                        {"method", detected.method}};
    if (detected.idet) {
        const auto& c = *detected.idet;
        j["idet"] = {{"tff", c.tff},
                     {"bff", c.bff},
                     {"progressive", c.progressive},
                     {"undetermined", c.undetermined},
                     {"sampled", c.sampled}};
    }
    switch (action) {
        case InterlaceAction::none:
            j["action"] = "none";
            break;
        case InterlaceAction::deinterlaced:
            j["action"] = "deinterlaced";
            j["rate"] = field_rate ? "field" : "frame";
            j["filter"] = filter;
            break;
        case InterlaceAction::kept:
            j["action"] = "kept";
            j["encoded_field_order"] = field_order_name(encoded_order());
            break;
    }
    return j;
}

Result<InterlacePlan> plan_interlace(const InterlaceDetection& detected, Interlace mode,
                                     DeinterlaceRate rate, VideoCodec codec) {
    InterlacePlan plan;
    plan.detected = detected;
    const bool interlaced = detected.interlaced();
    const bool deinterlace =
        mode == Interlace::deinterlace || (mode == Interlace::automatic && interlaced);
    if (deinterlace) {
        plan.action = InterlaceAction::deinterlaced;
        plan.field_rate = rate == DeinterlaceRate::field;
        // Parity from what was detected (frames detected by idet carry no flags, and bwdif
        // would assume top first); an input that is not interlaced at all is read as top first.
        const bool top = interlaced ? detected.top_first() : true;
        plan.filter = std::string("bwdif=mode=") + (plan.field_rate ? "send_field" : "send_frame") +
                      ":parity=" + (top ? "tff" : "bff") + ":deint=all";
        return plan;
    }
    if (mode == Interlace::keep && interlaced) {
        if (codec != VideoCodec::h264) {
            return make_error(Errc::unsupported,
                              std::string("video.interlace: keep: the input is interlaced (") +
                                  field_order_name(detected.order) + ") and " +
                                  std::string(to_string(codec)) +
                                  " is not encoded interlaced here (only h264 is); use "
                                  "interlace: auto or deinterlace, or codec: h264");
        }
        plan.action = InterlaceAction::kept;
    }
    return plan;
}

}  // namespace rr::media
