#include "watch/disposition.h"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/atomic_file.h"
#include "core/errno_error.h"
#include "watch/fd.h"

namespace rr::watch {
namespace {

Status copy_contents(const std::filesystem::path& from, const std::filesystem::path& to) {
    Fd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
    if (!in.valid()) return errno_error(errno, from.string());
    struct stat st {};
    if (::fstat(in.get(), &st) != 0) return errno_error(errno, from.string());
    Fd out(::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st.st_mode & 0777));
    if (!out.valid()) return errno_error(errno, to.string());
    off_t offset = 0;
    while (offset < st.st_size) {
        ssize_t n =
            ::sendfile(out.get(), in.get(), &offset, static_cast<size_t>(st.st_size - offset));
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno_error(errno, "copy to " + to.string());
        }
        if (n == 0) break;
    }
    if (::fsync(out.get()) != 0) return errno_error(errno, to.string() + ": fsync");
    return {};
}

}  // namespace

std::filesystem::path unused_path(const std::filesystem::path& path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return path;
    const auto stem = path.stem().string(), ext = path.extension().string();
    for (int i = 1;; ++i) {
        auto candidate = path.parent_path() / (stem + "-" + std::to_string(i) + ext);
        if (!std::filesystem::exists(candidate, ec)) return candidate;
    }
}

Result<std::filesystem::path> move_file(const std::filesystem::path& from,
                                        const std::filesystem::path& to_wanted) {
    std::error_code ec;
    std::filesystem::create_directories(to_wanted.parent_path(), ec);
    if (ec) return errno_error(ec.value(), "cannot create " + to_wanted.parent_path().string());
    const auto to = unused_path(to_wanted);
    if (::rename(from.c_str(), to.c_str()) == 0) {
        RR_TRY(fsync_dir(to.parent_path()));
        return to;
    }
    if (errno != EXDEV)
        return errno_error(errno, "cannot move " + from.string() + " to " + to.string());
    // Another filesystem: the source goes only once the copy is durable under its final name.
    TempFile tmp(to);
    RR_TRY(copy_contents(from, tmp.path()));
    RR_TRY(tmp.commit());
    if (::unlink(from.c_str()) != 0)
        return errno_error(errno, "copied, but cannot remove " + from.string());
    return to;
}

Result<std::filesystem::path> dispose_source(const std::filesystem::path& source, Disposition what,
                                             const std::filesystem::path& destination) {
    switch (what) {
        case Disposition::move:
            return move_file(source, destination);
        case Disposition::remove:
            if (::unlink(source.c_str()) != 0)
                return make_error(Errc::io, "cannot delete " + source.string());
            return source;
        case Disposition::keep:
            break;
    }
    return source;
}

Status write_error_file(const std::filesystem::path& file, const std::string& text) {
    return write_file_atomic(file.string() + ".error.txt",
                             text.back() == '\n' ? text : text + "\n");
}

}  // namespace rr::watch
