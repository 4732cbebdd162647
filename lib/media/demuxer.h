#pragma once
// An opened input container reading through its own MmapAvio. Each worker opens its own.

#include <memory>
#include <string>

#include "core/result.h"
#include "media/av_handles.h"
#include "media/mapped_file.h"
#include "media/mmap_avio.h"

namespace rr::media {

class Demuxer {
  public:
    // `find_streams` runs avformat_find_stream_info (needed once per job, for probing).
    [[nodiscard]] static Result<Demuxer> open(const MappedFile& file, bool find_streams);
    Demuxer(Demuxer&&) noexcept = default;
    Demuxer& operator=(Demuxer&&) noexcept = default;

    [[nodiscard]] AVFormatContext* format() const { return fmt_.get(); }
    [[nodiscard]] AVStream* stream(int index) const { return fmt_->streams[index]; }
    // The first video stream that is not a cover picture, or -1.
    [[nodiscard]] int best_video_stream() const;
    [[nodiscard]] int best_audio_stream() const;

    // Reads the next packet; AVERROR_EOF at the end.
    [[nodiscard]] int read(AVPacket* pkt) { return av_read_frame(fmt_.get(), pkt); }
    // Only packets of the listed streams are delivered afterwards.
    void keep_only(std::initializer_list<int> streams);

  private:
    Demuxer() = default;
    std::unique_ptr<MmapAvio> io_;  // must outlive fmt_: declared first, destroyed last
    av::InputFormatPtr fmt_;
};

}  // namespace rr::media
