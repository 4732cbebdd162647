#define BOOST_TEST_MODULE stages_trajectory
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <random>

#include "stages/trajectory.h"

using namespace rr::stages;
using boost::test_tools::tolerance;

BOOST_AUTO_TEST_CASE(a_steady_pan_is_kept_exactly_to_the_last_frame) {
    std::vector<double> path;
    for (int i = 0; i < 100; ++i) path.push_back(3.0 + 1.5 * i);
    const auto s = smooth_path(path, 30);
    for (size_t i = 0; i < path.size(); ++i) BOOST_TEST(s[i] == path[i], tolerance(1e-9));
}

BOOST_AUTO_TEST_CASE(jitter_is_smoothed_away_and_the_zoom_covers_the_corrections) {
    std::mt19937 rng(1);
    std::uniform_real_distribution<double> jitter(-8, 8);
    std::vector<Motion> motions(200);
    double prev = 0;
    for (size_t i = 1; i < motions.size(); ++i) {
        const double j = jitter(rng);
        motions[i] = {1.0 + j - prev, 0.0, 0.0, true};  // pan 1 px/frame plus jitter
        prev = j;
    }
    StabilizeOptions o;
    o.max_shift = 40;
    const auto plan = plan_stabilization(motions, 640, 360, o);
    BOOST_TEST(plan.shake_before_mean > 5.0);
    BOOST_TEST(plan.shake_after_mean < 0.2 * plan.shake_before_mean);
    BOOST_TEST(plan.zoom > 1.0);
    BOOST_TEST(plan.zoom < 1.1);
    // The zoom is just enough for the largest horizontal correction.
    double largest = 0;
    for (const auto& c : plan.correction) largest = std::max(largest, std::abs(c.x));
    BOOST_TEST(plan.zoom == 640.0 / (640.0 - 2 * largest), tolerance(1e-6));
    BOOST_TEST(plan.clamped_frames == 0);
}

BOOST_AUTO_TEST_CASE(corrections_respect_the_limits) {
    std::vector<Motion> motions(60);
    motions[30] = {50.0, 0.0, 0.1, true};  // a sudden 50 px, 5.7 degree jolt
    StabilizeOptions o;
    o.max_shift = 10;
    o.max_angle = 0.02;
    o.zoom = false;
    const auto plan = plan_stabilization(motions, 320, 240, o);
    BOOST_TEST(plan.clamped_frames > 0);
    for (const auto& c : plan.correction) {
        BOOST_TEST(std::abs(c.x) <= 10.0 + 1e-9);
        BOOST_TEST(std::abs(c.a) <= 0.02 + 1e-12);
    }
    BOOST_TEST(plan.zoom == 1.0);
}

BOOST_AUTO_TEST_CASE(short_inputs_need_no_correction) {
    const auto plan = plan_stabilization({Motion{}}, 320, 240, StabilizeOptions{});
    BOOST_TEST(plan.correction.size() == 1u);
    BOOST_TEST(plan.zoom == 1.0);
}
