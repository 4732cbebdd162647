#include "watch/inotify_watcher.h"

#include <sys/inotify.h>

#include <cerrno>

#include "core/errno_error.h"

namespace rr::watch {
namespace {

constexpr uint32_t kMask =
    IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;

}  // namespace

Result<std::unique_ptr<InotifyWatcher>> InotifyWatcher::create(uv::Loop& loop, Callback callback) {
    std::unique_ptr<InotifyWatcher> w(new InotifyWatcher());
    w->fd_ = Fd(inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    if (!w->fd_.valid()) return errno_error(errno, "inotify_init1");
    w->callback_ = std::move(callback);
    auto* self = w.get();
    RR_ASSIGN(w->poll_, uv::Poll::create(loop, w->fd_.get(), [self](int status, int) {
                  if (status == 0) self->on_readable();
              }));
    w->poll_.start(UV_READABLE);
    return w;
}

bool InotifyWatcher::recursive_for(const std::filesystem::path& dir) const {
    for (const auto& [root, recursive] : roots_) {
        if (!recursive) continue;
        auto [r, d] = std::mismatch(root.begin(), root.end(), dir.begin(), dir.end());
        if (r == root.end()) return true;
    }
    return false;
}

Status InotifyWatcher::add_dir(const std::filesystem::path& dir, bool recursive) {
    int wd = inotify_add_watch(fd_.get(), dir.c_str(), kMask);
    if (wd < 0) return errno_error(errno, "cannot watch " + dir.string());
    dirs_[wd] = dir;
    if (!recursive) return {};
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator(dir, ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
        if (it->is_directory(ec) && !it->is_symlink(ec) &&
            it->path().filename().string().front() != '.') {
            RR_TRY(add_dir(it->path(), true));
        }
    }
    return {};
}

Status InotifyWatcher::add_root(const std::filesystem::path& root, bool recursive) {
    roots_[root] = recursive;
    return add_dir(root, recursive);
}

void InotifyWatcher::remove_root(const std::filesystem::path& root) {
    roots_.erase(root);
    for (auto it = dirs_.begin(); it != dirs_.end();) {
        auto [r, d] = std::mismatch(root.begin(), root.end(), it->second.begin(), it->second.end());
        const bool inside = r == root.end();
        if (inside && !recursive_for(it->second)) {
            inotify_rm_watch(fd_.get(), it->first);
            it = dirs_.erase(it);
        } else {
            ++it;
        }
    }
}

void InotifyWatcher::on_readable() {
    alignas(inotify_event) char buf[64 * 1024];
    while (true) {
        ssize_t n = ::read(fd_.get(), buf, sizeof buf);
        if (n <= 0) return;  // EAGAIN: drained
        for (char* p = buf; p < buf + n;) {
            auto* ev = reinterpret_cast<inotify_event*>(p);
            p += sizeof(inotify_event) + ev->len;
            if (ev->mask & IN_Q_OVERFLOW) {
                callback_({FsEvent::Kind::overflow, {}});
                continue;
            }
            auto dir = dirs_.find(ev->wd);
            if (dir == dirs_.end()) continue;
            if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
                if (ev->mask & IN_IGNORED) dirs_.erase(dir);
                continue;
            }
            if (ev->len == 0) continue;
            const auto path = dir->second / ev->name;
            if (ev->mask & IN_ISDIR) {
                if ((ev->mask & (IN_CREATE | IN_MOVED_TO)) && recursive_for(dir->second) &&
                    ev->name[0] != '.') {
                    (void)add_dir(path, true);  // a vanished directory is simply not watched
                    callback_({FsEvent::Kind::directory, path});
                }
                continue;
            }
            callback_({FsEvent::Kind::file, path});
        }
    }
}

}  // namespace rr::watch
