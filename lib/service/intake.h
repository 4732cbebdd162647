#pragma once
// Turns files that settle in watched folders into queued jobs: inotify events and periodic
// full scans feed the settler; settled files with an acceptable name, inside their watch,
// not seen before (same path, size and mtime) become job rows, inserted in batches.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "service/context.h"
#include "uv/loop.h"
#include "watch/inotify_watcher.h"
#include "watch/settler.h"

namespace rr::service {

class Intake {
  public:
    // `queued()` runs after new jobs were inserted.
    [[nodiscard]] static Result<std::unique_ptr<Intake>> create(Context& ctx,
                                                                std::function<void()> queued);

    // Arms the configured watches (again, after a reload) and scans them.
    [[nodiscard]] Status configure();
    void scan_all();

    void set_paused(bool paused) { paused_ = paused; }
    [[nodiscard]] bool paused() const { return paused_; }
    void set_low_disk(bool low) { low_disk_ = low; }
    [[nodiscard]] bool low_disk() const { return low_disk_; }
    // A file a user named (control `submit`), already resolved with realpath and allowed: in
    // `watch` (nullptr: a submit root). An empty `profile` takes the watch's. Errors:
    // not_found (no such profile, e.g. a by-folder watch's default_profile), conflict (already
    // queued), io (the job database).
    struct Submitted {
        int64_t id = 0;
        std::string profile;
        std::optional<std::string> output;  // chosen now for submit roots; watches decide later
    };
    [[nodiscard]] Result<Submitted> submit(const std::filesystem::path& file, const Watch* watch,
                                           std::string profile, unsigned requested_by);

    // A new job for an ended `done`, `done_with_warnings` or `duplicate` job's file, wherever it
    // is now, that dedupe leaves alone (control `reprocess`). Errors: conflict (the job has not
    // ended that way), not_found (its file is gone), io (the job database).
    [[nodiscard]] Result<Submitted> reprocess(const store::JobRow& earlier, unsigned requested_by);

    // Per-watch pause; false when no watch has that path.
    bool set_watch_paused(const std::string& path, bool paused);
    [[nodiscard]] bool watch_paused(const std::string& path) const {
        return paused_watches_.count(path) > 0;
    }
    [[nodiscard]] size_t pending() const { return settler_.pending(); }

  private:
    explicit Intake(Context& ctx) : ctx_(ctx) {}
    void on_event(const watch::FsEvent& ev);
    void consider(const std::filesystem::path& path);
    void tick();

    Context& ctx_;
    std::function<void()> queued_;
    std::unique_ptr<watch::InotifyWatcher> watcher_;
    watch::Settler settler_;
    uv::Timer tick_timer_, rescan_timer_;
    std::set<std::filesystem::path> roots_;
    std::set<std::string> paused_watches_;
    bool paused_ = false;
    bool low_disk_ = false;
    std::set<std::string> warned_;  // files at the top of by-folder watches: logged once each
};

}  // namespace rr::service
