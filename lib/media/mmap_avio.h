#pragma once
// An AVIOContext reading from a shared MappedFile with its own position and seek support.

#include <cstdint>

#include "core/result.h"
#include "media/av_handles.h"
#include "media/mapped_file.h"

namespace rr::media {

class MmapAvio {
  public:
    [[nodiscard]] static Result<std::unique_ptr<MmapAvio>> create(const MappedFile& file);
    MmapAvio(const MmapAvio&) = delete;
    MmapAvio& operator=(const MmapAvio&) = delete;

    [[nodiscard]] AVIOContext* context() const { return io_.get(); }

  private:
    explicit MmapAvio(const MappedFile& file) : file_(file), cursor_(file) {}
    static int read(void* opaque, uint8_t* buf, int size);
    static int64_t seek(void* opaque, int64_t offset, int whence);

    const MappedFile& file_;
    ReleasingCursor cursor_;
    size_t pos_ = 0;
    av::CustomIoPtr io_;
};

}  // namespace rr::media
