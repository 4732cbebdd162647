#define BOOST_TEST_MODULE vision_shots
#include <boost/test/unit_test.hpp>
#include <opencv2/imgproc.hpp>

#include "vision/shot_detector.h"

using namespace rr;

namespace {

struct Series {
    std::vector<double> content, luma, times;
    explicit Series(size_t n, double motion = 3.0) {
        for (size_t i = 0; i < n; ++i) {
            content.push_back(motion + (i % 3) * 0.5);  // steady motion with a little jitter
            luma.push_back(120);
            times.push_back(static_cast<double>(i) / 25.0);
        }
    }
};

}  // namespace

BOOST_AUTO_TEST_CASE(sudden_changes_are_cuts_and_steady_motion_is_not) {
    Series s(200, 12.0);  // a fast pan: every frame differs a lot from the last
    s.content[60] = 70;
    s.content[140] = 45;
    auto r = vision::detect_shots(s.content, s.luma, s.times);
    BOOST_REQUIRE_EQUAL(r.cuts.size(), 2u);
    BOOST_TEST(r.cuts[0].frame == 60);
    BOOST_TEST(r.cuts[0].kind == "cut");
    BOOST_TEST(r.cuts[1].frame == 140);
    // The same jump within motion that is just as large is no cut.
    Series busy(200, 40.0);
    busy.content[60] = 70;
    BOOST_TEST(vision::detect_shots(busy.content, busy.luma, busy.times).cuts.empty());
}

BOOST_AUTO_TEST_CASE(a_fade_through_black_is_found_in_its_middle) {
    Series s(200);
    for (int i = 90; i < 110; ++i)
        s.luma[static_cast<size_t>(i)] = 120 - 12 * (10 - std::abs(100 - i));
    for (int i = 97; i < 103; ++i) s.luma[static_cast<size_t>(i)] = 4;  // dark 97..102
    auto r = vision::detect_shots(s.content, s.luma, s.times);
    BOOST_REQUIRE_EQUAL(r.cuts.size(), 1u);
    BOOST_TEST(r.cuts[0].kind == "fade");
    BOOST_TEST(r.cuts[0].frame == 100);
}

BOOST_AUTO_TEST_CASE(short_scenes_merge_and_dark_ends_are_not_cuts) {
    Series s(200);
    s.content[50] = 80;
    s.content[55] = 80;                                // 0.2 s later: too short a scene
    for (size_t i = 0; i < 20; ++i) s.luma[i] = 2;     // black lead-in
    for (size_t i = 185; i < 200; ++i) s.luma[i] = 3;  // black tail
    s.content[20] = 90;                                // the picture appearing
    auto r = vision::detect_shots(s.content, s.luma, s.times);
    BOOST_REQUIRE_EQUAL(r.cuts.size(), 1u);
    BOOST_TEST(r.cuts[0].frame == 50);
    BOOST_TEST(r.first_lit == 20);
    BOOST_TEST(r.end_lit == 185);
}

BOOST_AUTO_TEST_CASE(hue_differences_wrap_around) {
    cv::Mat a(8, 8, CV_8UC3, cv::Scalar(178, 100, 100)), b(8, 8, CV_8UC3, cv::Scalar(1, 100, 100));
    BOOST_TEST(vision::content_difference(a, b) == 1.0);  // 3 hue steps / 3 channels
    cv::Mat c(8, 8, CV_8UC3, cv::Scalar(90, 40, 160));
    BOOST_TEST(vision::content_difference(a, c) == (88 + 60 + 60) / 3.0);
}
