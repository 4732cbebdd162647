#include "core/atomic_file.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <random>

#include "core/errno_error.h"

namespace rr {
namespace {

constexpr std::string_view kSuffixChars = "abcdefghijklmnopqrstuvwxyz0123456789";
constexpr size_t kSuffixLength = 10;

std::string random_suffix() {
    std::random_device rd;
    std::string s(kSuffixLength, 'x');
    for (char& c : s) c = kSuffixChars[rd() % kSuffixChars.size()];
    return s;
}

}  // namespace

std::filesystem::path temp_sibling(const std::filesystem::path& final_path) {
    // Leading dot keeps watchers and users from picking up half-written files.
    return final_path.parent_path() /
           ("." + final_path.filename().string() + std::string(kTempMarker) + random_suffix());
}

TempFile::TempFile(std::filesystem::path final_path)
    : final_(std::move(final_path)), temp_(temp_sibling(final_)) {}

TempFile TempFile::adopt(std::filesystem::path final_path, std::filesystem::path temp) {
    TempFile t(std::move(final_path));
    t.temp_ = std::move(temp);
    return t;
}

std::filesystem::path TempFile::release() {
    done_ = true;
    return temp_;
}

TempFile::~TempFile() {
    if (!done_ && !temp_.empty()) {
        std::error_code ec;
        std::filesystem::remove_all(temp_, ec);  // our own name: a staged folder goes whole
    }
}

TempFile::TempFile(TempFile&& other) noexcept
    : final_(std::move(other.final_)), temp_(std::move(other.temp_)), done_(other.done_) {
    other.done_ = true;
}

Status TempFile::commit() {
    std::error_code ec;
    if (std::filesystem::is_directory(temp_, ec)) {
        RR_TRY(publish_dir_atomic(temp_, final_));
        done_ = true;
        return {};
    }
    RR_TRY(fsync_path(temp_));
    if (::rename(temp_.c_str(), final_.c_str()) != 0) return errno_error(errno, final_.string());
    done_ = true;
    return fsync_dir(final_.parent_path().empty() ? "." : final_.parent_path());
}

Status TempFile::commit_exclusive() {
    RR_TRY(fsync_path(temp_));
    if (::link(temp_.c_str(), final_.c_str()) != 0) {
        const int err = errno;
        if (err == EEXIST)
            return make_error(Errc::conflict, final_.string() + " was already published");
        return errno_error(err, final_.string());
    }
    ::unlink(temp_.c_str());
    done_ = true;
    return fsync_dir(final_.parent_path().empty() ? "." : final_.parent_path());
}

Status fsync_path(const std::filesystem::path& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno_error(errno, path.string());
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) return errno_error(err, path.string() + ": fsync");
    return {};
}

Status fsync_dir(const std::filesystem::path& dir) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return errno_error(errno, dir.string());
    ::fsync(fd);  // some filesystems refuse directory fsync; the rename is still ordered
    ::close(fd);
    return {};
}

Status write_file_atomic(const std::filesystem::path& path, std::string_view content) {
    RR_ASSIGN(TempFile tmp, write_temp_file(path, content));
    return tmp.commit();
}

Result<TempFile> write_temp_file(const std::filesystem::path& path, std::string_view content) {
    TempFile tmp(path);
    int fd = ::open(tmp.path().c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return errno_error(errno, tmp.path().string());
    size_t off = 0;
    while (off < content.size()) {
        ssize_t n = ::write(fd, content.data() + off, content.size() - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            int err = errno;
            ::close(fd);
            return errno_error(err, path.string());
        }
        off += static_cast<size_t>(n);
    }
    if (::fsync(fd) != 0) {
        int err = errno;
        ::close(fd);
        return errno_error(err, path.string() + ": fsync");
    }
    if (::close(fd) != 0) return errno_error(errno, path.string());
    return Result<TempFile>(std::move(tmp));
}

Status fsync_folder(const std::filesystem::path& dir) {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
        if (e.is_regular_file()) RR_TRY(fsync_path(e.path()));
    }
    if (ec) return errno_error(ec.value(), dir.string());
    return fsync_dir(dir);
}

Status publish_dir_atomic(const std::filesystem::path& staged,
                          const std::filesystem::path& final_dir) {
    std::error_code ec;
    RR_TRY(fsync_folder(staged));
    const auto parent =
        final_dir.parent_path().empty() ? std::filesystem::path(".") : final_dir.parent_path();
    if (std::filesystem::exists(final_dir, ec)) {
        // Swap both names in one step; the old set then sits at the staged name.
        if (::renameat2(AT_FDCWD, staged.c_str(), AT_FDCWD, final_dir.c_str(), RENAME_EXCHANGE) !=
            0)
            return errno_error(errno, final_dir.string());
        std::filesystem::remove_all(staged, ec);
    } else if (::rename(staged.c_str(), final_dir.c_str()) != 0) {
        return errno_error(errno, final_dir.string());
    }
    return fsync_dir(parent);
}

bool is_temp_name(const std::filesystem::path& path) {
    return path.filename().string().find(kTempMarker) != std::string::npos;
}

bool is_temp_sibling_of(const std::filesystem::path& temp,
                        const std::filesystem::path& final_path) {
    const std::string prefix = "." + final_path.filename().string() + std::string(kTempMarker);
    const std::string name = temp.filename().string();
    return temp.parent_path() == final_path.parent_path() &&
           name.size() == prefix.size() + kSuffixLength &&
           name.compare(0, prefix.size(), prefix) == 0 &&
           name.find_first_not_of(kSuffixChars, prefix.size()) == std::string::npos;
}

}  // namespace rr
