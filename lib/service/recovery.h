#pragma once
#include "core/config.h"
#include "core/logging.h"
#include "store/job_store.h"

namespace rr::service {

// After a crash or stop: unfinished jobs go back to the queue (their verified chunks are kept
// when they start again), work directories of ended jobs and orphaned temporary files are
// removed. Returns how many jobs will resume.
[[nodiscard]] Result<size_t> recover(const Config& cfg, store::JobStore& store,
                                     const LoggerPtr& logger);

}  // namespace rr::service
