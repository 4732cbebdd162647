#define BOOST_TEST_MODULE integration_color
#include <boost/test/unit_test.hpp>
#include <cmath>

#include "support/cli.h"
#include "support/measure.h"
#include "support/media.h"
#include "support/sandbox.h"

namespace t = rr::test;

namespace {

std::filesystem::path config(const t::Sandbox& box) {
    t::write_file(box / "c.yaml",
                  "profiles:\n  default:\n    video: {codec: h264, crf: 0, preset: ultrafast, "
                  "hwaccel: none}\n");
    return box / "c.yaml";
}

// A neutral scene (testsrc2 without its colours) seen through a strong red cast: R +30.
std::filesystem::path cast_clip() {
    return t::fixture("co_cast.mkv",
                      "-f lavfi -i testsrc2=size=320x240:rate=25:duration=6 "
                      "-vf hue=s=0,lutrgb=r=val+30,format=yuv420p -c:v ffv1");
}

std::filesystem::path colourful_clip() {
    return t::fixture("co_src.mkv",
                      "-f lavfi -i testsrc2=size=320x240:rate=25:duration=4 -c:v ffv1");
}

double spread(const std::array<double, 3>& m) {
    return std::max({m[0], m[1], m[2]}) - std::min({m[0], m[1], m[2]});
}

t::ProcessRun run_ok(const t::Sandbox& box, const std::filesystem::path& in, const std::string& out,
                     const std::string& stages, const std::string& chunk_seconds = "2") {
    auto r = t::process(in, box / out,
                        {"--config", config(box).string(), "--stages", stages, "--chunk-seconds",
                         chunk_seconds, "--workers", "2"});
    BOOST_REQUIRE_MESSAGE(r.cmd.exit_code == 0, "exit " << r.cmd.exit_code << ": " << r.cmd.err);
    return r;
}

}  // namespace

BOOST_AUTO_TEST_CASE(white_balance_removes_a_strong_cast) {
    t::Sandbox box;
    const auto in = cast_clip();
    const auto before = t::rgb_means(in);
    BOOST_TEST_MESSAGE("input RGB means " << before[0] << " " << before[1] << " " << before[2]);
    BOOST_TEST(spread(before) > 20.0);  // the cast is really there
    auto r = run_ok(box, in, "wb.mp4", "color:white_balance=auto:auto_levels=off");
    const auto after = t::rgb_means(box / "wb.mp4");
    BOOST_TEST_MESSAGE("output RGB means " << after[0] << " " << after[1] << " " << after[2]);
    BOOST_TEST(spread(after) < 5.0);
    auto result = r.sidecar()["stages"][0]["result"];
    BOOST_TEST(result["frames_measured"].get<int>() == 150);  // the whole video, every chunk
    BOOST_TEST(result["white_balance"]["gains"][0].get<double>() < 1.0);  // red comes down
    BOOST_TEST(r.sidecar()["chunks"].size() >= 3u);
}

BOOST_AUTO_TEST_CASE(chunks_share_one_set_of_statistics) {
    // Auto modes are measured over the whole video first: a chunked run makes the same
    // pictures as a single chunk.
    t::Sandbox box;
    const auto in = cast_clip();
    const std::string stage = "color:local_contrast=2:saturation=1.2";
    auto one = run_ok(box, in, "one.mp4", stage, "1000");
    auto many = run_ok(box, in, "many.mp4", stage, "2");
    BOOST_TEST(one.sidecar()["stages"][0]["result"] == many.sidecar()["stages"][0]["result"]);
    const double p = t::psnr(box / "one.mp4", box / "many.mp4");
    BOOST_TEST_MESSAGE("chunked vs unchunked PSNR-Y " << p << " dB");
    BOOST_TEST(p >= 60.0);
}

BOOST_AUTO_TEST_CASE(an_identity_lut_leaves_frames_unchanged) {
    t::Sandbox box;
    t::write_identity_cube(box / "identity.cube", 17);
    const auto in = colourful_clip();
    auto r =
        run_ok(box, in, "lut.mp4",
               "color:white_balance=off:auto_levels=off:lut=" + (box / "identity.cube").string());
    const double p = t::psnr(in, box / "lut.mp4");
    BOOST_TEST_MESSAGE("identity LUT: PSNR-Y " << p << " dB");
    BOOST_TEST(p >= 45.0);
    BOOST_TEST(r.sidecar()["stages"][0]["result"]["lut"]["size"].get<int>() == 17);
}

BOOST_AUTO_TEST_CASE(a_malformed_lut_is_refused_with_its_reason) {
    t::Sandbox box;
    const auto in = colourful_clip();
    struct Case {
        const char* text;
        const char* reason;
    };
    for (const Case& c :
         {Case{"LUT_3D_SIZE 2\n0 0 0\n1 0 0\n0 1 0\n", "needs 8"},
          Case{"LUT_3D_SIZE 2\n0 0 0\n1 0 zz\n", "line 3"}, Case{"0 0 0\n", "before LUT_3D_SIZE"},
          Case{"LUT_1D_SIZE 4\n", "1D LUTs are not supported"}}) {
        t::write_file(box / "bad.cube", c.text);
        auto r = t::process(in, box / "out.mp4",
                            {"--stages", "color:lut=" + (box / "bad.cube").string()});
        BOOST_TEST(r.cmd.exit_code == 2);
        BOOST_TEST(r.cmd.err.find("'color'") != std::string::npos, r.cmd.err);
        BOOST_TEST(r.cmd.err.find("lut") != std::string::npos, r.cmd.err);
        BOOST_TEST(r.cmd.err.find(c.reason) != std::string::npos, r.cmd.err);
        BOOST_TEST(!std::filesystem::exists(box / "out.mp4"));
    }
}
