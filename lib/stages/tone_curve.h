#pragma once
// HDR-to-SDR tone curves on linear light where 1.0 is SDR reference white (100 cd/m²):
// FFmpeg's vf_tonemap operators (hable, mobius, reinhard) and the ITU-R BT.2390 EETF. They
// map [0, peak] into [0, 1]; applied to max(R, G, B) with the colour ratios kept, as
// vf_tonemap does, so hues do not shift.

#include <string>
#include <vector>

namespace rr::stages {

// SMPTE ST 2084: cd/m² <-> PQ signal (0..1).
[[nodiscard]] double pq_from_nits(double nits);
[[nodiscard]] double nits_from_pq(double signal);

class ToneCurve {
  public:
    // `op`: hable | mobius | reinhard | bt2390. `peak`: the content's peak in units of 100 cd/m².
    ToneCurve(const std::string& op, double peak);

    // Exact curve value for a signal level.
    [[nodiscard]] double eval(double sig) const;
    // Tone-maps planar linear RGB in place (rows of `width` floats, `count` rows each).
    void apply(float* r, float* g, float* b, int width, int rows, int stride_floats) const;

  private:
    [[nodiscard]] float lookup(float sig) const;
    std::string op_;
    double peak_;
    std::vector<float> gain_;  // curve(sig)/sig sampled on sig = peak * t^4, t uniform
};

}  // namespace rr::stages
