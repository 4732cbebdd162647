#include "service/metrics_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/atomic_file.h"
#include "core/errno_error.h"

namespace rr::service {

Status write_metrics_textfile(const std::filesystem::path& path, std::string_view text) {
    TempFile tmp(path);
    int fd = ::open(tmp.path().c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return errno_error(errno, tmp.path().string());
    // open() applied the umask; fchmod() does not.
    bool ok = ::fchmod(fd, 0644) == 0;
    for (size_t off = 0; ok && off < text.size();) {
        const ssize_t n = ::write(fd, text.data() + off, text.size() - off);
        if (n < 0 && errno == EINTR) continue;
        ok = n >= 0;
        if (ok) off += static_cast<size_t>(n);
    }
    const int err = errno;
    if (::close(fd) != 0 && ok) return errno_error(errno, path.string());
    if (!ok) return errno_error(err, path.string());
    return tmp.commit();
}

Status remove_metrics_textfile(const std::filesystem::path& path) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return errno_error(errno, path.string());
    return {};
}

}  // namespace rr::service
