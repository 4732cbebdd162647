#pragma once
// A video stage transforms frames. One Stage object exists per job (configured once, then
// shared read-only by all chunk threads); each chunk gets its own StageInstance.

#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/atomic_file.h"
#include "core/config.h"
#include "core/result.h"
#include "media/assembler.h"
#include "media/av_handles.h"
#include "media/frame_format.h"
#include "media/loudness.h"

namespace rr::stages {

using media::FrameFormat;

struct ChunkContext {
    int chunk_index = 0;
    int64_t first_frame = 0;         // global index of the chunk's first frame
    int64_t start_pts = 0;           // frames before this are preroll: processed, never emitted
    int threads = 1;                 // this worker's share of cores
    std::filesystem::path work_dir;  // the job's private scratch directory
};

// Frames [first, end) by index in presentation order.
struct FrameRange {
    int64_t first = 0;
    int64_t end = 0;
};

// The files stages write beside the output are named `<output><suffix>` with one of these
// suffixes (pipeline::accompanying_paths lists them), so that the daemon can tell the staged
// files of a job (and only those) apart.
inline constexpr std::string_view kDetectionsSuffix = ".detections.json";
inline constexpr std::string_view kScenesSuffix = ".scenes";

// Where a finished job's files go; given to stages that write files beside the output.
struct PublishContext {
    std::filesystem::path output;    // final output path (not yet published when called)
    std::filesystem::path work_dir;  // the job's scratch directory (chunk intermediates live here)
};

class StageInstance {
  public:
    virtual ~StageInstance() = default;
    // Consumes `in` and appends zero or more finished frames to `out`, in timestamp order.
    [[nodiscard]] virtual Status process(av::FramePtr in, std::vector<av::FramePtr>& out) = 0;
    // End of the chunk: hands over anything still buffered.
    [[nodiscard]] virtual Status flush(std::vector<av::FramePtr>&) { return {}; }
    // What this chunk contributed to the stage's sidecar result (merged by Stage::summarize).
    [[nodiscard]] virtual nlohmann::json chunk_result() const { return nullptr; }
};

// A per-chunk observer for stages that need whole-video statistics before processing
// (colour levels, camera paths, scene cuts). It sees the frames this stage would receive.
class StageAnalyzer {
  public:
    virtual ~StageAnalyzer() = default;
    [[nodiscard]] virtual Status observe(const AVFrame& frame, int64_t frame_index) = 0;
    [[nodiscard]] virtual nlohmann::json finish() = 0;  // serialisable chunk statistics
};

// Audio stages shape the job's single audio pass (which runs once over the whole track, beside
// the chunks). One AudioPass exists per audio stream.
class AudioPass {
  public:
    // Runs `filter` (appended to the chain of the audio stages before this one) over the whole
    // decoded stream and returns what FFmpeg's ebur128 measured at its end.
    using Measure = std::function<Result<media::Loudness>(const std::string& filter)>;

    virtual ~AudioPass() = default;
    // Before encoding: this stage's libavfilter chain for the stream, measuring first if needed.
    [[nodiscard]] virtual Result<std::string> prepare(const Measure& input) = 0;
    // After encoding: `output` is the encoded stream as written. Returns the sidecar result.
    [[nodiscard]] virtual Result<nlohmann::json> finish(const media::Loudness& output) = 0;
};

class Stage {
  public:
    virtual ~Stage() = default;
    [[nodiscard]] virtual std::string name() const = 0;
    // The parameters in effect, defaults filled in (recorded in the sidecar).
    [[nodiscard]] virtual nlohmann::json params() const = 0;
    // Called once, in chain order, with the format this stage receives; returns what it emits.
    [[nodiscard]] virtual Result<FrameFormat> configure(const FrameFormat& input) = 0;
    // Frames before a chunk's start the stage needs to see (temporal filters).
    [[nodiscard]] virtual int preroll_frames() const { return 0; }
    // Frames after a chunk's end the stage needs to see (filters centred on the frame, such as
    // temporal averaging). They pass through the chain and are dropped before encoding.
    [[nodiscard]] virtual int postroll_frames() const { return 0; }

    // Asked before configure(): a stage that must see the source's full bit depth (HDR tone
    // mapping) makes the chain's working format deep even when the encoder is 8-bit.
    [[nodiscard]] virtual bool needs_source_depth() const { return false; }
    // Asked before configure(): a stage whose output needs a particular encoding (HDR
    // passthrough: 10-bit HEVC) edits the job's video settings.
    virtual void require_encoding(VideoSettings& /*video*/) const {}
    // Audio: a pass per audio stream when this stage shapes the audio (null otherwise).
    [[nodiscard]] virtual std::unique_ptr<AudioPass> audio_pass() const { return nullptr; }

    // Whole-video analysis: null when the stage needs none.
    [[nodiscard]] virtual std::unique_ptr<StageAnalyzer> analyzer(const ChunkContext&) const {
        return nullptr;
    }
    // Frames before a chunk's start its analyzer must also observe (e.g. the motion into the
    // chunk's first frame). They arrive first, with their global indices (below first_frame).
    [[nodiscard]] virtual int analysis_preroll_frames() const { return 0; }
    // Receives every chunk's analysis, in chunk order, before any chunk is processed.
    [[nodiscard]] virtual Status finish_analysis(const std::vector<nlohmann::json>&) { return {}; }

    [[nodiscard]] virtual Result<std::unique_ptr<StageInstance>> open(
        const ChunkContext& chunk) const = 0;
    // Merges the chunks' results (in chunk order) into the sidecar's `result` object.
    [[nodiscard]] virtual nlohmann::json summarize(
        const std::vector<nlohmann::json>& chunk_results) const;

    // Stages that drop or add frames (trimming, rate changes) opt out of the per-chunk
    // frame-count check.
    [[nodiscard]] virtual bool changes_frame_count() const { return false; }
    // Frame indices where a chunk boundary suits this stage (e.g. scene cuts). Asked after
    // analysis; when any stage has some, the job's chunks are planned again around them.
    [[nodiscard]] virtual std::vector<int64_t> preferred_cuts() const { return {}; }
    // The frames the output keeps, asked after analysis (e.g. leading and trailing black
    // trimmed); nullopt keeps them all. The pipeline then decodes and encodes only those
    // frames, trims the audio to the same span and starts the output's timeline at the first.
    [[nodiscard]] virtual std::optional<FrameRange> kept_frames() const { return std::nullopt; }
    // Chapters the output should carry instead of the source's, given this stage's result.
    [[nodiscard]] virtual std::optional<std::vector<media::Chapter>> chapters(
        const nlohmann::json& /*result*/) const {
        return std::nullopt;
    }
    // Writes the files that accompany the output (detections, thumbnails), after the output
    // is assembled, under temporary names beside their final ones (`<output><suffix>`, see
    // kDetectionsSuffix), fsynced; the caller puts them in place with the output or drops
    // them. `result` is this stage's summary.
    [[nodiscard]] virtual Result<std::vector<TempFile>> stage_extras(
        const PublishContext& /*where*/, const nlohmann::json& /*result*/) const {
        return std::vector<TempFile>{};
    }
};

}  // namespace rr::stages
