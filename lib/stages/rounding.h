#pragma once
// Figures in sidecar results are rounded so they read well and compare stably in tests.

#include <cmath>

namespace rr::stages {

[[nodiscard]] inline double round_to(double v, int digits) {
    const double scale = std::pow(10.0, digits);
    return std::round(v * scale) / scale;
}

}  // namespace rr::stages
