#pragma once
// A one-line progress bar on a terminal, redrawn in place from its own thread.

#include <cstdio>
#include <thread>

#include "pipeline/progress.h"

namespace rr::app {

[[nodiscard]] std::string format_duration(double seconds);  // "1:02:03", "4:05"
[[nodiscard]] std::string render_progress_line(const pipeline::ProgressSnapshot& s, int width);

class ProgressBar {
  public:
    // Draws only when `out` is a terminal.
    ProgressBar(const pipeline::Progress& progress, FILE* out);
    ~ProgressBar();  // stops and clears the line
    ProgressBar(const ProgressBar&) = delete;
    ProgressBar& operator=(const ProgressBar&) = delete;

  private:
    const pipeline::Progress& progress_;
    FILE* out_;
    std::jthread thread_;
};

}  // namespace rr::app
