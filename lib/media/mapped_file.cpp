#include "media/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/errno_error.h"

namespace rr::media {

void Unmap::operator()(uint8_t* p) const {
    if (p) ::munmap(p, length);
}

Result<MappedFile> MappedFile::open(const std::filesystem::path& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno_error(errno, path.string());
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        int err = errno;
        ::close(fd);
        return errno_error(err, path.string());
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        return make_error(Errc::media, "not a regular file");
    }
    MappedFile file;
    file.path_ = path;
    file.size_ = static_cast<size_t>(st.st_size);
    file.mtime_ns_ = int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    if (file.size_ > 0) {
        void* p = ::mmap(nullptr, file.size_, PROT_READ, MAP_SHARED, fd, 0);
        int err = errno;
        ::close(fd);
        if (p == MAP_FAILED) return errno_error(err, path.string() + ": mmap");
        file.region_ = std::unique_ptr<uint8_t, Unmap>(static_cast<uint8_t*>(p), Unmap{file.size_});
        ::madvise(p, file.size_, MADV_SEQUENTIAL);
    } else {
        ::close(fd);
    }
    return file;
}

void MappedFile::release(size_t offset, size_t length) const {
    if (!region_ || length == 0) return;
    const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
    size_t begin = (offset + page - 1) / page * page;  // only whole pages inside the range
    size_t end = std::min(offset + length, size_) / page * page;
    if (end > begin) ::madvise(region_.get() + begin, end - begin, MADV_DONTNEED);
}

void ReleasingCursor::advanced_to(size_t pos) {
    if (pos > released_upto_ + 2 * kWindow) {
        size_t upto = pos - kWindow;
        file_->release(released_upto_, upto - released_upto_);
        released_upto_ = upto;
    }
}

void ReleasingCursor::moved_to(size_t pos) {
    if (pos < released_upto_)
        released_upto_ = pos;
    else
        advanced_to(pos);
}

}  // namespace rr::media
