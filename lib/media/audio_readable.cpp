// drop_unreadable_audio: audio streams that the container declares but cannot deliver.

#include <algorithm>
#include <cstring>

#include "media/audio_track.h"
#include "media/demuxer.h"

namespace rr::media {
namespace {

// The MP4/MOV demuxer builds every stream's sample index from its sample table when it opens
// the file; a stream left with none has a table it could not read (or is fragmented, which
// the read below tells apart). Other demuxers index as they read, so an empty index says
// nothing there, and reading to find out could cost a pass over the whole file.
bool indexed_at_open(const AVFormatContext* fmt) {
    return fmt->iformat && std::strncmp(fmt->iformat->name, "mov,", 4) == 0;
}

}  // namespace

Status drop_unreadable_audio(const MappedFile& input, const AVFormatContext* probed,
                             AudioPlan& plan) {
    if (!indexed_at_open(probed)) return {};
    std::vector<AudioStreamPlan> kept;
    for (auto& s : plan.streams) {
        if (avformat_index_get_entries_count(probed->streams[s.input_index]) > 0) {
            kept.push_back(std::move(s));
            continue;
        }
        // A fragmented file delivers its samples from the fragments: one packet will do.
        RR_ASSIGN(Demuxer demuxer, Demuxer::open(input, false));
        demuxer.keep_only({s.input_index});
        auto pkt = av::make_packet();
        if (demuxer.read(pkt.get()) >= 0) {
            kept.push_back(std::move(s));
            continue;
        }
        plan.dropped.push_back(
            {s.input_index,
             "dropped: its sample table is damaged and no packet of it can be read (the "
             "ffmpeg CLI drops it too)"});
    }
    plan.streams = std::move(kept);
    return {};
}

}  // namespace rr::media
