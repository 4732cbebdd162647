#pragma once
// Decides when a file is complete: its size and mtime stayed the same for the settle time and,
// where the kernel can tell, nobody has it open for writing.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <vector>

namespace rr::watch {

struct SettledFile {
    std::filesystem::path path;
    int64_t size = 0;
    int64_t mtime_ns = 0;
    size_t tag = 0;  // the caller's watch index
};

class Settler {
  public:
    using Clock = std::chrono::steady_clock;

    // Notes (or re-notes) a candidate; a change in size or mtime restarts its clock.
    void observe(const std::filesystem::path& path, size_t tag, Clock::time_point now);
    // Files settled for at least `settle(tag)` seconds, removed from the tracker.
    template <class SettleSeconds>
    std::vector<SettledFile> take_settled(Clock::time_point now, SettleSeconds&& settle);
    [[nodiscard]] size_t pending() const { return pending_.size(); }

  private:
    struct Entry {
        SettledFile file;
        Clock::time_point since;
    };
    // Re-stats an entry; false when it vanished or stopped being a regular file.
    static bool restat(Entry& e, Clock::time_point now, bool& changed);
    std::map<std::filesystem::path, Entry> pending_;

  public:
    // True when some process holds the file open for writing (checked with a read lease);
    // false when it does not or when this filesystem cannot tell.
    [[nodiscard]] static bool open_for_writing(const std::filesystem::path& path);
};

template <class SettleSeconds>
std::vector<SettledFile> Settler::take_settled(Clock::time_point now, SettleSeconds&& settle) {
    std::vector<SettledFile> ready;
    for (auto it = pending_.begin(); it != pending_.end();) {
        bool changed = false;
        if (!restat(it->second, now, changed)) {
            it = pending_.erase(it);
            continue;
        }
        const auto wait = std::chrono::duration<double>(settle(it->second.file.tag));
        if (!changed && now - it->second.since >= wait && !open_for_writing(it->first)) {
            ready.push_back(it->second.file);
            it = pending_.erase(it);
        } else {
            ++it;
        }
    }
    return ready;
}

}  // namespace rr::watch
