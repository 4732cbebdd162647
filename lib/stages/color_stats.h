#pragma once
// Whole-video colour statistics for the colour stage's automatic modes: per-channel means and
// histograms of R'G'B', gathered per chunk and merged in chunk order.

#include <array>
#include <nlohmann/json.hpp>
#include <vector>

#include "stages/rgb_planes.h"

namespace rr::stages {

class ColorStats {
  public:
    static constexpr int kBins = 1024;

    void add(const RgbPlanes& rgb);
    void merge(const ColorStats& other);
    [[nodiscard]] nlohmann::json to_json() const;
    [[nodiscard]] static ColorStats from_json(const nlohmann::json& j);

    [[nodiscard]] int64_t frames() const { return frames_; }
    // Mean of each channel over all frames (each frame weighs the same), 0..1.
    [[nodiscard]] std::array<double, 3> means() const;
    // Mean of channel `c` after scaling by `gain` and clipping to 0..1 (what a viewer sees).
    [[nodiscard]] double clipped_mean(int c, double gain) const;
    // The value below which `fraction` of channel `c`'s samples lie.
    [[nodiscard]] double percentile(int c, double fraction) const;

  private:
    int64_t frames_ = 0;
    std::array<double, 3> mean_sum_{0, 0, 0};
    std::array<std::vector<int64_t>, 3> hist_;
};

// Grey-world gains: each channel scaled so the three means meet at their average, each gain
// kept within [0.5, 2] so a single-coloured scene is not turned grey. Gains are solved on the
// clipped result: raising a channel that is already saturated in places raises its mean less
// than the gain says, so the meeting point is lowered until every channel can reach it.
[[nodiscard]] std::array<double, 3> grey_world_gains(const ColorStats& stats);

struct Levels {
    double black = 0;  // input level mapped to black (0..1)
    double white = 1;  // input level mapped to white
};
// Auto levels after `gains`: the darkest and brightest 0.5% of every channel are allowed to
// clip; the stretch is at most 3x.
[[nodiscard]] Levels auto_levels(const ColorStats& stats, const std::array<double, 3>& gains);

}  // namespace rr::stages
