#define BOOST_TEST_MODULE vision_detection
#include <boost/test/unit_test.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "support/media.h"
#include "support/photos.h"
#include "support/sandbox.h"
#include "vision/face_detector.h"
#include "vision/people_detector.h"
#include "vision/tracker.h"

using namespace rr;
namespace t = rr::test;

namespace {

cv::Mat rgb_photo(const std::string& name) {
    cv::Mat bgr = cv::imread(t::skimage_photo(name).string(), cv::IMREAD_COLOR), rgb;
    BOOST_REQUIRE(!bgr.empty());
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    return rgb;
}

std::vector<vision::Detection> faces_in(const cv::Mat& rgb, float min_score = 0.75f) {
    auto detector = vision::FaceDetector::create(t::models_dir());
    BOOST_REQUIRE_MESSAGE(detector.ok(), (detector.ok() ? "" : detector.error().message));
    auto faces = detector->detect(rgb, min_score);
    BOOST_REQUIRE_MESSAGE(faces.ok(), (faces.ok() ? "" : faces.error().message));
    return *faces;
}

cv::Point2f centre(const cv::Rect2f& r) {
    return {r.x + r.width / 2, r.y + r.height / 2};
}

}  // namespace

BOOST_AUTO_TEST_CASE(finds_the_astronauts_face_where_it_is) {
    auto faces = faces_in(rgb_photo("astronaut.png"));
    BOOST_REQUIRE_EQUAL(faces.size(), 1u);
    // Eileen Collins' face: centred near (225, 127), about 95 pixels wide.
    BOOST_TEST_MESSAGE("face " << faces[0].box << " score " << faces[0].score);
    BOOST_TEST(cv::norm(centre(faces[0].box) - cv::Point2f(225, 127)) < 12);
    BOOST_TEST(faces[0].box.width > 70);
    BOOST_TEST(faces[0].box.width < 130);
    BOOST_TEST(faces[0].score > 0.9);
}

BOOST_AUTO_TEST_CASE(finds_a_small_face_in_a_wide_frame) {
    // The photo at half size in a 1280x720 frame: letterboxed for the 128-pixel model the face
    // would be 5 pixels wide; the back model's squares keep it at 17.
    cv::Mat canvas(720, 1280, CV_8UC3, cv::Scalar(90, 110, 100)), small;
    cv::resize(rgb_photo("astronaut.png"), small, {256, 256}, 0, 0, cv::INTER_AREA);
    small.copyTo(canvas(cv::Rect(900, 300, 256, 256)));
    auto faces = faces_in(canvas);
    BOOST_REQUIRE_EQUAL(faces.size(), 1u);
    BOOST_TEST(cv::norm(centre(faces[0].box) - cv::Point2f(900 + 112.5f, 300 + 63.5f)) < 10);
}

BOOST_AUTO_TEST_CASE(no_faces_in_pictures_without_people) {
    BOOST_TEST(faces_in(rgb_photo("coffee.png")).empty());
    cv::Mat noise(480, 640, CV_8UC3);
    cv::randu(noise, 0, 255);
    BOOST_TEST(faces_in(noise).empty());
}

BOOST_AUTO_TEST_CASE(hog_finds_the_pedestrians_of_opencvs_sample_clip) {
    t::Sandbox box;
    // Frame 100 of vtest.avi: five people walking on a campus road, filmed from above.
    t::ffmpeg("-i '" + t::opencv_sample("vtest.avi").string() +
              "' -vf \"select=eq(n\\,100)\" -frames:v 1 '" + (box / "f.png").string() + "'");
    cv::Mat gray = cv::imread((box / "f.png").string(), cv::IMREAD_GRAYSCALE), big;
    BOOST_REQUIRE(!gray.empty());
    cv::resize(gray, big, cv::Size(), 1.5, 1.5, cv::INTER_LINEAR);  // as the stage does (864 rows)
    vision::PeopleDetector hog;
    auto people = hog.detect(big, 0.75f);
    for (const auto& p : people) BOOST_TEST_MESSAGE("person " << p.box << " " << p.score);
    BOOST_TEST(people.size() >= 3u);
    // All of them on the road, where the people are (rows 140..280 at 576 lines).
    for (const auto& p : people) {
        const float y = centre(p.box).y / 1.5f;
        BOOST_TEST(y > 130);
        BOOST_TEST(y < 290);
    }
}

BOOST_AUTO_TEST_CASE(weighted_nms_merges_overlaps_by_score) {
    std::vector<vision::Detection> c = {{"face", 0.9f, {10, 10, 20, 20}},
                                        {"face", 0.6f, {14, 10, 20, 20}},
                                        {"face", 0.8f, {100, 100, 20, 20}},
                                        {"person", 0.7f, {12, 10, 20, 20}}};
    auto out = vision::weighted_nms(c, 0.3f);
    BOOST_REQUIRE_EQUAL(out.size(), 3u);
    BOOST_TEST(out[0].score == 0.9f);
    BOOST_TEST(out[0].box.x == (0.9f * 10 + 0.6f * 14) / 1.5f, boost::test_tools::tolerance(1e-4f));
    BOOST_TEST(out[2].label == "person");  // labels never merge
}

BOOST_AUTO_TEST_CASE(tracker_keeps_ids_while_objects_move_and_coast) {
    // A bright square moving right 3 pixels a frame over a textured background.
    cv::Mat bg(240, 320, CV_8UC1);
    cv::randu(bg, 60, 120);
    cv::Mat sq(40, 40, CV_8UC1);
    cv::randu(sq, 150, 255);
    vision::Tracker tracker({0.3f, 10, 0.5f});
    for (int f = 0; f < 30; ++f) {
        cv::Mat frame = bg.clone();
        const int x = 50 + 3 * f;
        sq.copyTo(frame(cv::Rect(x, 100, 40, 40)));
        tracker.follow(frame);
        if (f % 5 == 0) tracker.update({{"face", 0.9f, cv::Rect2f(x, 100, 40, 40)}}, frame);
        auto objs = tracker.objects();
        BOOST_REQUIRE_EQUAL(objs.size(), 1u);
        BOOST_TEST(objs[0].track == 1);
        BOOST_TEST(objs[0].detected == (f % 5 == 0));
        // Between detections the template follows the square.
        BOOST_TEST(std::abs(objs[0].box.x - x) <= 2.0f);
    }
    // Without detections a track is dropped after max_coast_frames.
    for (int f = 0; f < 12; ++f) tracker.follow(bg);
    BOOST_TEST(tracker.objects().empty());
    // A new object gets a new id.
    tracker.follow(bg);
    tracker.update({{"face", 0.9f, cv::Rect2f(10, 10, 30, 30)}}, bg);
    BOOST_TEST(tracker.objects().at(0).track == 2);
}
