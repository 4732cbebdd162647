// libFuzzer target for the path every input takes before a frame reaches a stage: demux
// (with stream discovery, as probing does) → frame index → chunk plan → exact decode of each
// chunk. The fuzzer's bytes become an in-memory file (memfd) that the product maps and reads
// through its own AVIOContext (MmapAvio), so the code under test is the daemon's own.
//
// Any input must end in a value or an error, never a crash, a sanitizer report, a hang or a
// runaway allocation; a plan must cover the index's frames exactly once, in order, and an
// exact chunk must never yield more frames than it spans.
//
// Built with clang's -fsanitize=fuzzer where available (tests/fuzz/CMakeLists.txt); without
// clang the same entry point is built with RR_FUZZ_REPLAY, whose main() replays the files
// named on the command line (the seeds), so the path is still exercised.

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" {
#include <libavutil/log.h>
}

#include "media/chunk_plan.h"
#include "media/chunk_source.h"
#include "media/demuxer.h"
#include "media/frame_index.h"
#include "media/mapped_file.h"

namespace {

namespace m = rr::media;

// Bounds that keep one input to well under a second: the sanitizers are slow, and a huge
// frame count or picture is a resource question the daemon answers with limits.max_pixels.
constexpr size_t kMaxInput = 1u << 20;
constexpr int64_t kMaxPixels = 1920 * 1088;
constexpr size_t kMaxIndexedFrames = 5000;
constexpr int kMaxDecodedFrames = 120;

void check(bool ok) {
    if (!ok) std::abort();
}

// The fuzzer's bytes as a file the product can map.
rr::Result<m::MappedFile> in_memory_file(const uint8_t* data, size_t size) {
    const int fd = memfd_create("fuzz-input", MFD_CLOEXEC);
    if (fd < 0) std::abort();
    size_t done = 0;
    while (done < size) {
        const ssize_t n = write(fd, data + done, size - done);
        if (n <= 0) std::abort();
        done += static_cast<size_t>(n);
    }
    auto file = m::MappedFile::open("/proc/self/fd/" + std::to_string(fd));
    close(fd);  // the mapping keeps the memory
    return file;
}

void run(const uint8_t* data, size_t size) {
    if (size == 0 || size > kMaxInput) return;
    auto file = in_memory_file(data, size);
    if (!file) return;
    auto demuxer = m::Demuxer::open(*file, true);
    if (!demuxer) return;
    const int video = demuxer->best_video_stream();
    if (video < 0) return;
    const AVCodecParameters* par = demuxer->stream(video)->codecpar;
    if (static_cast<int64_t>(par->width) * par->height > kMaxPixels) return;
    auto index = m::build_frame_index(*demuxer, video, file->size(), true);
    if (!index) return;
    check(!index->pts.empty());
    for (size_t i = 1; i < index->pts.size(); ++i) check(index->pts[i] > index->pts[i - 1]);
    if (index->frames() > kMaxIndexedFrames) return;

    m::PlanOptions options;
    options.chunk_seconds = 0.5;
    const auto chunks = m::plan_chunks(*index, options);
    check(!chunks.empty());
    int64_t next = 0;
    for (const auto& c : chunks) {
        check(c.first_frame == next && c.end_frame > c.first_frame);
        next = c.end_frame;
    }
    check(next == static_cast<int64_t>(index->frames()));

    // Exact indexes run chunk by chunk (seeking); inexact ones as one chunk from the start.
    int budget = kMaxDecodedFrames;
    for (const auto& c : chunks) {
        const int64_t first = index->exact ? c.first_frame : 0;
        const int64_t end = index->exact ? c.end_frame : static_cast<int64_t>(index->frames());
        auto source = m::ChunkSource::open(*file, video, *index, first, end, 1);
        if (!source) continue;
        int64_t got = 0;
        while (budget-- > 0) {
            auto frame = source->next();
            if (!frame || !*frame) break;
            ++got;
        }
        if (index->exact) check(got <= end - first);
        if (budget <= 0 || !index->exact) break;
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    av_log_set_level(AV_LOG_QUIET);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    run(data, size);
    return 0;
}

#ifdef RR_FUZZ_REPLAY
#include <fstream>
#include <iterator>
#include <vector>

int main(int argc, char** argv) {
    LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; ++i) {
        std::ifstream in(argv[i], std::ios::binary);
        const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                         std::istreambuf_iterator<char>());
        LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
    }
    return 0;
}
#endif
