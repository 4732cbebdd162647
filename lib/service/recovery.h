#pragma once
#include "core/config.h"
#include "core/logging.h"
#include "store/job_store.h"

namespace rr::service {

// After a crash or stop: unfinished jobs go back to the queue (their verified chunks are kept
// when they start again), work directories of ended jobs and orphaned temporary files are
// removed. Returns how many jobs will resume.
//
// Unless the last run stopped cleanly (`clean_stop`), each unfinished job counts an
// interruption: a file that crashes the daemon is not requeued forever (JobRunner fails a
// job interrupted `max_attempts` times).
[[nodiscard]] Result<size_t> recover(const Config& cfg, store::JobStore& store,
                                     const LoggerPtr& logger, bool clean_stop);

// Written when the daemon stops cleanly, taken (read and removed) at the next start.
void mark_clean_stop(const Config& cfg, const LoggerPtr& logger);
[[nodiscard]] bool take_clean_stop(const Config& cfg);

}  // namespace rr::service
