#pragma once
// inotify inside the libuv loop. libuv's own fs_event cannot report close-after-write, which
// is the moment a copied file is complete, so the inotify descriptor is polled directly.

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <unordered_map>

#include "core/result.h"
#include "uv/loop.h"
#include "watch/fd.h"

namespace rr::watch {

struct FsEvent {
    enum class Kind {
        file,       // a file was closed after writing, moved in, or created
        directory,  // a directory appeared (its contents need a scan)
        overflow,   // the kernel dropped events: everything needs a scan
    };
    Kind kind = Kind::file;
    std::filesystem::path path;
};

class InotifyWatcher {
  public:
    using Callback = std::function<void(const FsEvent&)>;
    [[nodiscard]] static Result<std::unique_ptr<InotifyWatcher>> create(uv::Loop& loop,
                                                                        Callback callback);

    // Watches `root` (and, if recursive, every directory below it, including new ones).
    [[nodiscard]] Status add_root(const std::filesystem::path& root, bool recursive);
    void remove_root(const std::filesystem::path& root);
    [[nodiscard]] size_t watch_count() const { return dirs_.size(); }

  private:
    InotifyWatcher() = default;
    Status add_dir(const std::filesystem::path& dir, bool recursive);
    void on_readable();
    [[nodiscard]] bool recursive_for(const std::filesystem::path& dir) const;

    Fd fd_;
    uv::Poll poll_;
    Callback callback_;
    std::unordered_map<int, std::filesystem::path> dirs_;  // watch descriptor → directory
    std::map<std::filesystem::path, bool> roots_;          // root → recursive
};

}  // namespace rr::watch
