#include "stages/trajectory.h"

#include <algorithm>
#include <cmath>

namespace rr::stages {
namespace {

// Least-squares line through path[first .. first+count).
void fit_line(const std::vector<double>& p, size_t first, size_t count, double& a, double& b) {
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (size_t i = 0; i < count; ++i) {
        const double x = static_cast<double>(first + i), y = p[first + i];
        sx += x, sy += y, sxx += x * x, sxy += x * y;
    }
    const double n = static_cast<double>(count);
    const double d = n * sxx - sx * sx;
    b = d != 0 ? (n * sxy - sx * sy) / d : 0.0;
    a = (sy - b * sx) / n;
}

// Where a frame's corner goes under shift (x, y) and rotation a about the centre.
double corner_motion(double x, double y, double a, double half_diag) {
    return std::hypot(x, y) + std::abs(a) * half_diag;
}

// Smallest zoom (about the centre) that keeps the corrected frame covering the whole output.
double zoom_needed(const PathPoint& c, double w, double h, double max_zoom) {
    auto covers = [&](double z) {
        const double cs = std::cos(-c.a), sn = std::sin(-c.a);
        for (double qx : {-w / 2, w / 2}) {
            for (double qy : {-h / 2, h / 2}) {
                // Output corner back to the source: undo zoom, shift, then rotation.
                const double ux = qx / z - c.x, uy = qy / z - c.y;
                const double px = cs * ux - sn * uy, py = sn * ux + cs * uy;
                if (std::abs(px) > w / 2 + 1e-9 || std::abs(py) > h / 2 + 1e-9) return false;
            }
        }
        return true;
    };
    if (covers(1.0)) return 1.0;
    if (!covers(max_zoom)) return max_zoom;
    double lo = 1.0, hi = max_zoom;
    for (int i = 0; i < 50; ++i) {
        const double mid = (lo + hi) / 2;
        (covers(mid) ? hi : lo) = mid;
    }
    return hi;
}

}  // namespace

std::vector<double> smooth_path(const std::vector<double>& path, int smoothing) {
    const size_t n = path.size();
    const int radius = std::max(1, smoothing / 2);
    if (n < 3 || smoothing < 2) return path;
    const size_t fit = std::min(n, static_cast<size_t>(radius));
    double a0, b0, a1, b1;
    fit_line(path, 0, std::max<size_t>(2, fit), a0, b0);
    fit_line(path, n - std::max<size_t>(2, fit), std::max<size_t>(2, fit), a1, b1);
    auto at = [&](long i) {
        if (i < 0) return a0 + b0 * static_cast<double>(i);
        if (i >= static_cast<long>(n)) return a1 + b1 * static_cast<double>(i);
        return path[static_cast<size_t>(i)];
    };
    const double sigma = std::max(0.5, smoothing / 4.0);
    std::vector<double> weights(static_cast<size_t>(2 * radius + 1));
    double total = 0;
    for (int k = -radius; k <= radius; ++k) {
        weights[static_cast<size_t>(k + radius)] = std::exp(-0.5 * k * k / (sigma * sigma));
        total += weights[static_cast<size_t>(k + radius)];
    }
    std::vector<double> out(n);
    for (size_t i = 0; i < n; ++i) {
        double s = 0;
        for (int k = -radius; k <= radius; ++k)
            s += weights[static_cast<size_t>(k + radius)] * at(static_cast<long>(i) + k);
        out[i] = s / total;
    }
    return out;
}

StabilizePlan plan_stabilization(const std::vector<Motion>& motions, int width, int height,
                                 const StabilizeOptions& o) {
    StabilizePlan plan;
    const size_t n = motions.size();
    plan.correction.assign(n, PathPoint{});
    if (n == 0) return plan;
    std::vector<double> tx(n, 0), ty(n, 0), ta(n, 0);
    for (size_t i = 1; i < n; ++i) {
        tx[i] = tx[i - 1] + motions[i].dx;
        ty[i] = ty[i - 1] + motions[i].dy;
        ta[i] = ta[i - 1] + motions[i].da;
    }
    const auto sx = smooth_path(tx, o.smoothing);
    const auto sy = smooth_path(ty, o.smoothing);
    const auto sa = smooth_path(ta, o.smoothing);
    const double half_diag = std::hypot(width, height) / 2.0;
    double zoom = 1.0;
    for (size_t i = 0; i < n; ++i) {
        PathPoint c{sx[i] - tx[i], sy[i] - ty[i], sa[i] - ta[i]};
        bool clamped = false;
        if (o.max_shift > 0) {
            const double cx = std::clamp(c.x, -o.max_shift, o.max_shift);
            const double cy = std::clamp(c.y, -o.max_shift, o.max_shift);
            clamped = cx != c.x || cy != c.y;
            c.x = cx, c.y = cy;
        }
        if (o.max_angle > 0) {
            const double ca = std::clamp(c.a, -o.max_angle, o.max_angle);
            clamped = clamped || ca != c.a;
            c.a = ca;
        }
        plan.clamped_frames += clamped ? 1 : 0;
        plan.correction[i] = c;
        if (o.zoom) zoom = std::max(zoom, zoom_needed(c, width, height, o.max_zoom));
    }
    plan.zoom = o.zoom ? zoom : 1.0;
    double before_sum = 0, after_sum = 0;
    for (size_t i = 1; i < n; ++i) {
        const double before = corner_motion(motions[i].dx, motions[i].dy, motions[i].da, half_diag);
        const auto& c = plan.correction;
        const double after =
            corner_motion(motions[i].dx + c[i].x - c[i - 1].x, motions[i].dy + c[i].y - c[i - 1].y,
                          motions[i].da + c[i].a - c[i - 1].a, half_diag) *
            plan.zoom;
        before_sum += before, after_sum += after;
        plan.shake_before_max = std::max(plan.shake_before_max, before);
        plan.shake_after_max = std::max(plan.shake_after_max, after);
    }
    if (n > 1) {
        plan.shake_before_mean = before_sum / static_cast<double>(n - 1);
        plan.shake_after_mean = after_sum / static_cast<double>(n - 1);
    }
    return plan;
}

}  // namespace rr::stages
