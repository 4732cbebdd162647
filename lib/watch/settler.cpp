#include "watch/settler.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "watch/fd.h"

namespace rr::watch {

void Settler::observe(const std::filesystem::path& path, size_t tag, Clock::time_point now) {
    auto [it, inserted] = pending_.try_emplace(path);
    Entry& e = it->second;
    if (inserted) {
        e.file.path = path;
        e.file.tag = tag;
        e.file.size = -1;
        e.since = now;
    }
    bool changed = false;
    if (!restat(e, now, changed)) pending_.erase(it);
}

bool Settler::restat(Entry& e, Clock::time_point now, bool& changed) {
    struct stat st {};
    if (::stat(e.file.path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
    const int64_t mtime = int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    changed = st.st_size != e.file.size || mtime != e.file.mtime_ns;
    if (changed) {
        e.file.size = st.st_size;
        e.file.mtime_ns = mtime;
        e.since = now;
    }
    return true;
}

bool Settler::open_for_writing(const std::filesystem::path& path) {
    // A read lease cannot be taken while any process has the file open for writing.
    Fd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOATIME));
    if (!fd.valid()) fd = Fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (!fd.valid()) return false;
    if (::fcntl(fd.get(), F_SETLEASE, F_RDLCK) == 0) {
        ::fcntl(fd.get(), F_SETLEASE, F_UNLCK);
        return false;
    }
    return errno ==
           EAGAIN;  // EACCES, EINVAL: this filesystem or user cannot tell; rely on settling
}

}  // namespace rr::watch
