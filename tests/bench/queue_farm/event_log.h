#pragma once
// Each node appends one line per event to a file of its own, with write(2) at once, so that a
// node killed with SIGKILL leaves everything it did up to that moment. Times are
// CLOCK_MONOTONIC microseconds, which every process on the machine shares.

#include <cstdint>
#include <string>
#include <vector>

namespace rr::farm {

enum class Ev : char {
    claimed = 'C',   // a lease granted: task, epoch, latency of the claim() call
    empty = 'E',     // a claim() that found nothing: latency
    done = 'D',      // a completion accepted: task, epoch, job_ready, latency of complete()
    rejected = 'X',  // a completion refused (the lease was lost): task, epoch
    reaped = 'R',    // this node's reaper put a task back: task, owner
    lost = 'L',      // this node marked a node lost: owner
    error = 'F',     // a queue call failed: text
};

struct Event {
    Ev kind{};
    int64_t t_us = 0;
    int64_t task = 0, epoch = 0, latency_us = 0;
    bool job_ready = false;
    std::string text;  // owner (reaped, lost) or message (error)
};

[[nodiscard]] int64_t now_us();

// Owns the file descriptor; every append is one write(2) of one line (O_APPEND).
class EventLog {
  public:
    explicit EventLog(const std::string& path);
    ~EventLog();
    EventLog(const EventLog&) = delete;
    EventLog& operator=(const EventLog&) = delete;
    void append(const Event& e) const;

  private:
    int fd_ = -1;
};

// Every complete line of the file; a torn last line (killed mid-write) is skipped.
[[nodiscard]] std::vector<Event> read_events(const std::string& path);

}  // namespace rr::farm
