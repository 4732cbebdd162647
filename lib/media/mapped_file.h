#pragma once
// A read-only memory mapping of a whole input file, shared by all of a job's workers.
// Readers drop pages behind them (MADV_DONTNEED) so resident memory stays bounded even for
// inputs larger than RAM: the page cache keeps the data, our RSS does not.

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>

#include "core/result.h"

namespace rr::media {

struct Unmap {
    size_t length = 0;
    void operator()(uint8_t* p) const;
};

class MappedFile {
  public:
    MappedFile() = default;  // an empty mapping
    [[nodiscard]] static Result<MappedFile> open(const std::filesystem::path& path);

    [[nodiscard]] const uint8_t* data() const { return region_.get(); }
    [[nodiscard]] size_t size() const { return size_; }
    [[nodiscard]] const std::filesystem::path& path() const { return path_; }
    [[nodiscard]] int64_t mtime_ns() const { return mtime_ns_; }

    // Hints that [offset, offset+length) is no longer needed by this reader.
    void release(size_t offset, size_t length) const;

  private:
    std::filesystem::path path_;
    std::unique_ptr<uint8_t, Unmap> region_;
    size_t size_ = 0;
    int64_t mtime_ns_ = 0;
};

// Walks a range sequentially, releasing pages it has passed. One per reader thread.
class ReleasingCursor {
  public:
    explicit ReleasingCursor(const MappedFile& file) : file_(&file) {}
    // Call after reading up to `pos`; releases what lies far enough behind it.
    void advanced_to(size_t pos);
    // Call after a seek; a backwards jump restarts the window.
    void moved_to(size_t pos);

  private:
    // Pages further than this behind the reader are released (checked every kWindow bytes),
    // so each reader keeps at most 2 * kWindow of the input resident.
    static constexpr size_t kWindow = 2u << 20;
    const MappedFile* file_;
    size_t released_upto_ = 0;
};

}  // namespace rr::media
