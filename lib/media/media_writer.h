#pragma once
// Writes a container to a temporary sibling of its final path; finish() makes it durable
// and atomically visible. Destroying an unfinished writer leaves nothing behind.

#include <filesystem>
#include <string>

#include "core/atomic_file.h"
#include "core/result.h"
#include "media/av_handles.h"

namespace rr::media {

class MediaWriter {
  public:
    // `format` is an FFmpeg muxer name: "mp4", "matroska", "nut".
    [[nodiscard]] static Result<MediaWriter> create(const std::filesystem::path& final_path,
                                                    const std::string& format);
    MediaWriter(MediaWriter&&) noexcept = default;

    [[nodiscard]] AVFormatContext* format() const { return fmt_.get(); }
    [[nodiscard]] Result<AVStream*> add_stream(const AVCodecParameters* par, AVRational time_base);
    [[nodiscard]] Status write_header(AVDictionary** options = nullptr);
    // Interleaves across streams; `pkt` is in the stream's time base and is consumed.
    [[nodiscard]] Status write(AVPacket* pkt);
    // Trailer, close, fsync, rename into place.
    [[nodiscard]] Status finish();
    [[nodiscard]] const std::filesystem::path& temp_path() const { return temp_.path(); }

  private:
    MediaWriter(TempFile temp) : temp_(std::move(temp)) {}
    TempFile temp_;
    av::OutputFormatPtr fmt_;
    bool header_written_ = false;
};

}  // namespace rr::media
