#include "stages/tone_curve.h"

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace rr::stages {
namespace {

constexpr double kM1 = 2610.0 / 16384.0;
constexpr double kM2 = 2523.0 / 4096.0 * 128.0;
constexpr double kC1 = 3424.0 / 4096.0;
constexpr double kC2 = 2413.0 / 4096.0 * 32.0;
constexpr double kC3 = 2392.0 / 4096.0 * 32.0;
constexpr size_t kTable = 4096;

double hable(double in) {
    const double a = 0.15, b = 0.50, c = 0.10, d = 0.20, e = 0.02, f = 0.30;
    return (in * (in * a + b * c) + d * e) / (in * (in * a + b) + d * f) - e / f;
}

double mobius(double in, double peak) {
    const double j = 0.3;  // vf_tonemap's default: linear below this, rolled off above
    if (in <= j) return in;
    const double a = -j * j * (peak - 1.0) / (j * j - 2.0 * j + peak);
    const double b = (j * j - 2.0 * j * peak + peak) / std::max(peak - 1.0, 1e-6);
    return (b * b + 2.0 * b * j + j * j) / (b - a) * (in + a) / (in + b);
}

double reinhard(double in, double peak) {
    const double param = 0.5;
    const double offset = (1.0 - param) / param;
    return in / (in + offset) * (peak + offset) / peak;
}

// ITU-R BT.2390-8 section 5.4: the EETF in PQ space, from a mastering range [0, peak] onto an
// SDR display of 100 cd/m², with a Hermite spline roll-off above the knee.
double bt2390(double in, double peak) {
    const double src_max = pq_from_nits(peak * 100.0);
    const double e1 = pq_from_nits(in * 100.0) / src_max;
    const double max_lum = pq_from_nits(100.0) / src_max;
    const double ks = 1.5 * max_lum - 0.5;
    double e2 = e1;
    if (e1 >= ks && ks < 1.0) {
        const double t = (e1 - ks) / (1.0 - ks), t2 = t * t, t3 = t2 * t;
        e2 = (2 * t3 - 3 * t2 + 1) * ks + (t3 - 2 * t2 + t) * (1.0 - ks) +
             (-2 * t3 + 3 * t2) * max_lum;
    }
    return nits_from_pq(std::min(e2, max_lum) * src_max) / 100.0;
}

}  // namespace

double pq_from_nits(double nits) {
    const double y = std::pow(std::max(nits, 0.0) / 10000.0, kM1);
    return std::pow((kC1 + kC2 * y) / (1.0 + kC3 * y), kM2);
}

double nits_from_pq(double signal) {
    const double e = std::pow(std::clamp(signal, 0.0, 1.0), 1.0 / kM2);
    return 10000.0 * std::pow(std::max(e - kC1, 0.0) / (kC2 - kC3 * e), 1.0 / kM1);
}

ToneCurve::ToneCurve(const std::string& op, double peak) : op_(op), peak_(std::max(peak, 1.0)) {
    gain_.resize(kTable + 1);
    for (size_t i = 0; i <= kTable; ++i) {
        const double t = static_cast<double>(i) / kTable;
        const double sig = std::max(peak_ * t * t * t * t, 1e-7);
        gain_[i] = static_cast<float>(std::min(eval(sig), 1.0) / sig);
    }
}

double ToneCurve::eval(double sig) const {
    if (op_ == "hable") return hable(sig) / hable(peak_);
    if (op_ == "mobius") return mobius(sig, peak_);
    if (op_ == "reinhard") return reinhard(sig, peak_);
    return bt2390(std::min(sig, peak_), peak_);
}

float ToneCurve::lookup(float sig) const {
    const float t = std::sqrt(std::sqrt(std::clamp(sig / static_cast<float>(peak_), 0.0f, 1.0f)));
    const float x = t * kTable;
    const size_t i = std::min(static_cast<size_t>(x), kTable - 1);
    const float f = x - static_cast<float>(i);
    return gain_[i] + f * (gain_[i + 1] - gain_[i]);
}

void ToneCurve::apply(float* r, float* g, float* b, int width, int rows, int stride) const {
    for (int y = 0; y < rows; ++y) {
        float* pr = r + static_cast<ptrdiff_t>(y) * stride;
        float* pg = g + static_cast<ptrdiff_t>(y) * stride;
        float* pb = b + static_cast<ptrdiff_t>(y) * stride;
        for (int x = 0; x < width; ++x) {
            // Out-of-gamut (negative) components after the primaries conversion are dropped.
            const float rr = std::max(pr[x], 0.0f), gg = std::max(pg[x], 0.0f),
                        bb = std::max(pb[x], 0.0f);
            const float sig = std::max({rr, gg, bb, 1e-6f});
            // Every operator reaches white at the peak; anything brighter clips to white.
            const float k = sig >= static_cast<float>(peak_) ? 1.0f / sig : lookup(sig);
            pr[x] = rr * k, pg[x] = gg * k, pb[x] = bb * k;
        }
    }
}

}  // namespace rr::stages
