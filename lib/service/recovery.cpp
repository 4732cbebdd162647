#include "service/recovery.h"

#include <chrono>
#include <optional>
#include <set>

#include "core/atomic_file.h"
#include "core/paths.h"
#include "service/layout.h"

namespace rr::service {
namespace {

// `older_than`: only temporaries not written since then (a folder shared with other nodes holds
// their live ones too).
size_t remove_temporaries(const std::filesystem::path& root,
                          std::optional<std::filesystem::file_time_type> older_than = {}) {
    size_t removed = 0;
    std::error_code ec;
    if (!std::filesystem::is_directory(root, ec)) return 0;
    std::vector<std::filesystem::path> doomed;
    for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        if (is_temp_name(it->path())) {
            std::error_code te;
            if (older_than && std::filesystem::last_write_time(it->path(), te) >= *older_than) {
                if (it->is_directory(ec)) it.disable_recursion_pending();
                continue;
            }
            doomed.push_back(it->path());
            if (it->is_directory(ec)) it.disable_recursion_pending();
        }
    }
    for (const auto& p : doomed) removed += std::filesystem::remove_all(p, ec) > 0 ? 1 : 0;
    return removed;
}

std::filesystem::path clean_stop_marker(const Config& cfg) {
    return cfg.paths.state_dir / "clean-stop";
}

}  // namespace

void mark_clean_stop(const Config& cfg, const LoggerPtr& logger) {
    if (Status st = write_file_atomic(clean_stop_marker(cfg), "stopped cleanly\n"); !st)
        logger->warn("cannot record the clean stop: {}", st.error().message);
}

bool take_clean_stop(const Config& cfg) {
    std::error_code ec;
    return std::filesystem::remove(clean_stop_marker(cfg), ec);
}

Result<size_t> recover(const Config& cfg, store::JobStore& store, const LoggerPtr& logger,
                       bool clean_stop) {
    using store::JobState;
    RR_ASSIGN(auto interrupted,
              store.jobs_in({JobState::probing, JobState::running, JobState::assembling}));
    for (const auto& job : interrupted) {
        const std::string was(store::to_string(job.state));
        if (!clean_stop) {
            RR_ASSIGN(int times, store.add_interruption(job.id));
            logger->warn("recovery: job {} ({}) was {} when the daemon died ({} of {} allowed)",
                         job.id, job.input_path, was, times, cfg.max_attempts);
        }
        RR_TRY(store.requeue(job.id));
        RR_TRY(store.add_event(job.id, "state",
                               std::string(clean_stop ? "queued again after a restart"
                                                      : "queued again after the daemon died") +
                                   " (was " + was + ")"));
    }
    if (!interrupted.empty())
        logger->info("recovery: {} interrupted jobs will resume", interrupted.size());

    // Work directories belong to jobs that can still run; everything else is leftover.
    RR_ASSIGN(auto live, store.jobs_in({JobState::queued}));
    std::set<std::string> keep;
    for (const auto& j : live) keep.insert(job_work_dir(cfg, j.id).filename().string());
    std::error_code ec;
    size_t stale = 0;
    for (auto it = std::filesystem::directory_iterator(work_root(cfg), ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
        if (!keep.count(it->path().filename().string())) {
            std::error_code rm;
            std::filesystem::remove_all(it->path(), rm);
            ++stale;
        }
    }
    size_t temps = remove_temporaries(work_root(cfg));
    // In cluster mode the folders on the share are other nodes' too: a temporary there may be a
    // joiner's staged output this very moment. Only those untouched for an hour are leftovers
    // (a dead joiner's are removed by the node that takes its join over, at once).
    const auto an_hour_ago = std::filesystem::file_time_type::clock::now() - std::chrono::hours(1);
    for (const auto& w : cfg.watches) {
        for (const auto& dir : {w.output, w.done_dir, w.failed_dir, w.path}) {
            const bool shared =
                !cluster_of_one(cfg) && relative_under(cfg.storage.root, dir).has_value();
            temps += remove_temporaries(dir, shared ? std::optional(an_hour_ago) : std::nullopt);
        }
    }
    if (stale || temps)
        logger->info("recovery: removed {} stale work folders and {} temporary files", stale,
                     temps);
    return interrupted.size();
}

}  // namespace rr::service
