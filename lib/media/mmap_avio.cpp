#include "media/mmap_avio.h"

#include <algorithm>
#include <cstring>

namespace rr::media {

Result<std::unique_ptr<MmapAvio>> MmapAvio::create(const MappedFile& file) {
    std::unique_ptr<MmapAvio> self(new MmapAvio(file));
    constexpr int kBufferSize = 256 * 1024;
    auto* buffer = static_cast<uint8_t*>(av_malloc(kBufferSize));
    if (!buffer) return make_error(Errc::internal, "out of memory for I/O buffer");
    AVIOContext* io = avio_alloc_context(buffer, kBufferSize, 0, self.get(), &MmapAvio::read,
                                         nullptr, &MmapAvio::seek);
    if (!io) {
        av_free(buffer);
        return make_error(Errc::internal, "out of memory for I/O context");
    }
    self->io_.reset(io);
    return self;
}

int MmapAvio::read(void* opaque, uint8_t* buf, int size) {
    auto* self = static_cast<MmapAvio*>(opaque);
    const size_t total = self->file_.size();
    if (self->pos_ >= total) return AVERROR_EOF;
    size_t n = std::min<size_t>(static_cast<size_t>(size), total - self->pos_);
    std::memcpy(buf, self->file_.data() + self->pos_, n);
    self->pos_ += n;
    self->cursor_.advanced_to(self->pos_);
    return static_cast<int>(n);
}

int64_t MmapAvio::seek(void* opaque, int64_t offset, int whence) {
    auto* self = static_cast<MmapAvio*>(opaque);
    const auto total = static_cast<int64_t>(self->file_.size());
    int64_t target = 0;
    switch (whence & ~AVSEEK_FORCE) {
        case AVSEEK_SIZE:
            return total;
        case SEEK_SET:
            target = offset;
            break;
        case SEEK_CUR:
            target = static_cast<int64_t>(self->pos_) + offset;
            break;
        case SEEK_END:
            target = total + offset;
            break;
        default:
            return AVERROR(EINVAL);
    }
    if (target < 0) return AVERROR(EINVAL);
    self->pos_ = static_cast<size_t>(target);  // past the end is legal; reads then hit EOF
    self->cursor_.moved_to(self->pos_);
    return target;
}

}  // namespace rr::media
