#define BOOST_TEST_MODULE stages_tone_curve
#include <boost/test/unit_test.hpp>

#include "stages/tone_curve.h"

using namespace rr::stages;
using boost::test_tools::tolerance;

BOOST_AUTO_TEST_CASE(pq_round_trips_and_hits_its_reference_points) {
    BOOST_TEST(pq_from_nits(10000) == 1.0, tolerance(1e-9));
    BOOST_TEST(pq_from_nits(100) == 0.5081, tolerance(1e-3));  // SDR white in PQ
    for (double nits : {0.01, 1.0, 92.0, 203.0, 1000.0, 4000.0})
        BOOST_TEST(nits_from_pq(pq_from_nits(nits)) == nits, tolerance(1e-6));
}

BOOST_AUTO_TEST_CASE(every_operator_is_monotonic_and_maps_the_peak_to_white) {
    for (const char* op : {"hable", "mobius", "reinhard", "bt2390"}) {
        ToneCurve c(op, 10.0);  // a 1000 cd/m² peak
        BOOST_TEST(c.eval(10.0) == 1.0, tolerance(1e-3));
        double prev = -1;
        for (double s = 0.001; s <= 10.0; s *= 1.1) {
            const double v = c.eval(s);
            BOOST_TEST(v >= prev, op << " falls at " << s);
            BOOST_TEST(v <= 1.0 + 1e-9);
            prev = v;
        }
    }
}

BOOST_AUTO_TEST_CASE(bt2390_leaves_the_range_below_its_knee_alone) {
    ToneCurve c("bt2390", 10.0);
    // Dark and mid tones pass unchanged; only the top of the range is rolled off.
    for (double s : {0.001, 0.01, 0.1, 0.2}) BOOST_TEST(c.eval(s) == s, tolerance(1e-6));
    BOOST_TEST(c.eval(1.0) < 1.0);
    // Content no brighter than SDR white needs no mapping at all.
    ToneCurve sdr("bt2390", 1.0);
    BOOST_TEST(sdr.eval(0.5) == 0.5, tolerance(1e-6));
}

BOOST_AUTO_TEST_CASE(applying_keeps_colour_ratios) {
    ToneCurve c("hable", 10.0);
    float r[2] = {4.0f, 0.5f}, g[2] = {2.0f, 0.25f}, b[2] = {1.0f, 0.125f};
    c.apply(r, g, b, 2, 1, 2);
    BOOST_TEST(r[0] / g[0] == 2.0f, tolerance(1e-4f));
    BOOST_TEST(g[0] / b[0] == 2.0f, tolerance(1e-4f));
    BOOST_TEST(r[0] == static_cast<float>(c.eval(4.0)), tolerance(2e-3f));
    BOOST_TEST(r[1] == static_cast<float>(c.eval(0.5)), tolerance(2e-3f));
}
