#define BOOST_TEST_MODULE integration_stabilize
#include <boost/test/unit_test.hpp>
#include <cmath>

#include "support/cli.h"
#include "support/measure.h"
#include "support/media.h"
#include "support/sandbox.h"

namespace t = rr::test;

namespace {

// A still, textured picture filmed by a camera that pans 1 px per frame and shakes by up to
// ±10 px horizontally and ±8 px vertically, independently every frame.
std::filesystem::path shaky_clip() {
    return t::fixture(
        "st_shaky.mp4",
        "-f lavfi -i \"testsrc2=size=640x480:rate=25,trim=end_frame=1,noise=alls=30,"
        "loop=loop=149:size=1:start=0,setpts=N/25/TB,format=rgb24,"
        "crop=320:240:x='40+n+10*(2*random(0)-1)':y='120+8*(2*mod(n*7919\\,23)/22-1)':exact=1,"
        "format=yuv420p\" -c:v libx264 -qp 0 -g 25");
}

std::filesystem::path config(const t::Sandbox& box) {
    t::write_file(box / "c.yaml",
                  "profiles:\n  default:\n    video: {codec: h264, crf: 0, preset: ultrafast, "
                  "hwaccel: none}\n");
    return box / "c.yaml";
}

// Mean deviation of the frame-to-frame motion from the clip's steady motion (the pan).
double jitter(const std::vector<cv::Point2d>& s) {
    cv::Point2d mean(0, 0);
    for (const auto& p : s) mean += p;
    mean *= 1.0 / static_cast<double>(s.size());
    double sum = 0;
    for (const auto& p : s) sum += cv::norm(p - mean);
    return sum / static_cast<double>(s.size());
}

double median_motion(const std::vector<cv::Point2d>& s) {
    std::vector<double> m;
    for (const auto& p : s) m.push_back(cv::norm(p));
    std::nth_element(m.begin(), m.begin() + static_cast<long>(m.size() / 2), m.end());
    return m[m.size() / 2];
}

}  // namespace

BOOST_AUTO_TEST_CASE(shake_is_reduced_and_chunks_join_without_jumps) {
    t::Sandbox box;
    const auto in = shaky_clip();
    const auto cfg = config(box).string();
    auto one = t::process(
        in, box / "one.mp4",
        {"--config", cfg, "--stages", "stabilize", "--chunk-seconds", "1000", "--workers", "1"});
    BOOST_REQUIRE_MESSAGE(one.cmd.exit_code == 0, one.cmd.err);
    auto many = t::process(
        in, box / "many.mp4",
        {"--config", cfg, "--stages", "stabilize", "--chunk-seconds", "2", "--workers", "2"});
    BOOST_REQUIRE_MESSAGE(many.cmd.exit_code == 0, many.cmd.err);
    const auto chunks = many.sidecar()["chunks"];
    BOOST_REQUIRE(chunks.size() >= 3u);
    BOOST_TEST(t::frame_times(in) == t::frame_times(box / "many.mp4"));

    const auto in_shifts = t::frame_shifts(t::gray_frames(in));
    const auto out_shifts = t::frame_shifts(t::gray_frames(box / "many.mp4"));
    BOOST_REQUIRE_EQUAL(in_shifts.size(), out_shifts.size());
    const double before = jitter(in_shifts), after = jitter(out_shifts);
    BOOST_TEST_MESSAGE("residual shake: input " << before << " px, output " << after
                                                << " px per frame");
    BOOST_TEST(before > 5.0);  // the fixture really shakes
    BOOST_TEST(after <= 0.3 * before);

    // Chunked and unchunked runs agree: the trajectory is smoothed once for the whole video.
    const double p = t::psnr(box / "one.mp4", box / "many.mp4");
    BOOST_TEST_MESSAGE("chunked vs unchunked PSNR-Y " << p << " dB");
    BOOST_TEST(p >= 60.0);
    BOOST_TEST(one.sidecar()["stages"][0]["result"] == many.sidecar()["stages"][0]["result"]);

    // No jump where chunks meet: the motion into each chunk's first frame is ordinary.
    const double median = median_motion(out_shifts);
    BOOST_TEST_MESSAGE("median output motion " << median << " px");
    for (size_t c = 1; c < chunks.size(); ++c) {
        const auto first = chunks[c]["first_frame"].get<size_t>();
        const double jump = cv::norm(out_shifts.at(first - 1));
        BOOST_TEST_MESSAGE("chunk " << c << " starts at frame " << first << ": motion " << jump
                                    << " px");
        BOOST_TEST(jump <= 2.0 * median);
    }

    auto result = many.sidecar()["stages"][0]["result"];
    BOOST_TEST(result["zoom"].get<double>() > 1.0);
    BOOST_TEST(result["shake_after_px"]["mean"].get<double>() <
               0.3 * result["shake_before_px"]["mean"].get<double>());
    BOOST_TEST(result["frames"].get<int>() == 150);
}

BOOST_AUTO_TEST_CASE(black_borders_instead_of_zoom) {
    t::Sandbox box;
    auto r = t::process(shaky_clip(), box / "black.mp4",
                        {"--config", config(box).string(), "--stages",
                         "stabilize:crop=black:smoothing=20", "--chunk-seconds", "2"});
    BOOST_REQUIRE_MESSAGE(r.cmd.exit_code == 0, r.cmd.err);
    auto result = r.sidecar()["stages"][0]["result"];
    BOOST_TEST(result["zoom"].get<double>() == 1.0);
    BOOST_TEST(result["crop"].get<std::string>() == "black");
    // Some frames are shifted, which leaves limited-range black at an edge.
    auto stats = t::signal_stats(box / "black.mp4");
    double darkest = 255;
    for (const auto& f : stats) darkest = std::min(darkest, f.at("YMIN"));
    BOOST_TEST(darkest <= 17.0);
}
