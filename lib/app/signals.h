#pragma once
// SIGINT/SIGTERM become a stop request handled on an ordinary thread (via sigwait), so no
// work happens in signal context. Construct before starting any other thread.

#include <stop_token>
#include <thread>

namespace rr::app {

class StopOnSignals {
  public:
    StopOnSignals();
    ~StopOnSignals();
    StopOnSignals(const StopOnSignals&) = delete;
    StopOnSignals& operator=(const StopOnSignals&) = delete;
    [[nodiscard]] std::stop_token token() const { return source_.get_token(); }

  private:
    std::stop_source source_;
    std::jthread waiter_;
};

}  // namespace rr::app
