#pragma once
// Joins chunk files (each an independently encoded run of frames) into the final container
// without re-encoding, muxing in the processed audio and the source's subtitles, chapters and
// metadata.
//
// Chunks are encoded separately, so each chunk's decode timestamps carry its encoder's own
// reorder delay and need not line up at the seams. The joined stream's DTS are therefore
// regenerated: with all presentation timestamps sorted, packet k in decode order gets
// dts = sorted_pts[k - R], where R is the largest reorder depth seen in any chunk. That keeps
// DTS strictly increasing and never above PTS.

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/choices.h"
#include "core/result.h"
#include "media/hdr_metadata.h"
#include "media/mapped_file.h"

namespace rr::media {

struct Chapter {
    double start = 0;  // seconds on the output timeline
    double end = 0;
    std::string title;
};

struct AssemblyInputs {
    std::vector<std::filesystem::path> chunk_files;   // in order; one video stream each
    std::optional<std::filesystem::path> audio_file;  // audio streams, input timeline
    // The source stream each of audio_file's streams was made from, in order (the audio
    // plan's input indices): their language, title and disposition carry over.
    std::vector<int> audio_source_streams;
    const MappedFile* source = nullptr;  // subtitles, metadata, chapters
    int source_video_stream = -1;
    double last_frame_duration = 0;  // seconds
    Container container = Container::mp4;
    std::optional<std::vector<Chapter>> chapters;  // replaces the source's chapters
    // Seconds after the source's start that the output leaves out (trimmed): every stream,
    // and the source's chapters, move earlier by this much.
    double start_offset = 0;
    bool keep_hdr_metadata = false;  // copy mastering/light-level side data
    HdrMetadata hdr_metadata;        // what the video was encoded with; preferred over the source's
};

struct AssemblyReport {
    int64_t video_packets = 0;
    int64_t audio_packets = 0;
    int reorder_depth = 0;
    nlohmann::json subtitles = nlohmann::json::array();  // kept and skipped, with reasons
    int chapters = 0;
};

[[nodiscard]] Result<AssemblyReport> assemble(const AssemblyInputs& inputs,
                                              const std::filesystem::path& output);

}  // namespace rr::media
