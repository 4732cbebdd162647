#pragma once
// A connection of its own that LISTENs on one channel, so idle nodes wake the moment a job's
// tasks are queued instead of at their next poll. Only a wake-up: polling stays the fallback,
// and a notification lost while the connection was down costs at most one poll interval.

#include <chrono>
#include <string>

#include "core/result.h"
#include "store/pg.h"

namespace rr::store {

// The channel the queue notifies when tasks become available (insert, start, release).
inline constexpr const char* kTasksChannel = "renderrush_tasks";

class PgListener {
  public:
    // `silent_seconds`: PgConn::connect's.
    [[nodiscard]] static Result<PgListener> open(const std::string& conninfo,
                                                 double silent_seconds = 0,
                                                 const std::string& channel = kTasksChannel);
    // Waits up to `timeout` for a notification; true when at least one came (all pending ones
    // are consumed). A broken connection is re-established, and LISTEN issued again, on the
    // next call after the failed one.
    [[nodiscard]] Result<bool> wait(std::chrono::milliseconds timeout);

  private:
    PgListener(PgConn c, std::string channel) : conn_(std::move(c)), channel_(std::move(channel)) {}
    [[nodiscard]] Status listen();
    PgConn conn_;
    std::string channel_;
    bool broken_ = false;
};

}  // namespace rr::store
