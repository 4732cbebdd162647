#define BOOST_TEST_MODULE integration_upscale
#include <boost/test/unit_test.hpp>

#include "support/cli.h"
#include "support/media.h"
#include "support/photos.h"
#include "support/sandbox.h"

namespace t = rr::test;

BOOST_AUTO_TEST_CASE(a_two_second_clip_doubles_in_size_and_keeps_every_frame) {
    (void)t::models_dir();  // a clear message when the models were never fetched
    t::Sandbox box;
    auto in = t::fixture("it_upscale_2s.mp4",
                         "-f lavfi -i testsrc2=size=160x120:rate=15:duration=2 -c:v libx264 "
                         "-preset veryfast -g 10");
    auto r = t::process(
        in, box / "out.mp4",
        {"--stages", "upscale:model=slim:scale=2", "--chunk-seconds", "1", "--workers", "2"});
    BOOST_REQUIRE_MESSAGE(r.cmd.exit_code == 0, r.cmd.err);
    auto v = t::video_stream(box / "out.mp4");
    BOOST_TEST(v["width"].get<int>() == 320);
    BOOST_TEST(v["height"].get<int>() == 240);
    BOOST_TEST(t::count_frames(box / "out.mp4") == 30);
    const auto result = r.sidecar()["stages"][0]["result"];
    BOOST_TEST(result["model"] == "slim");
    BOOST_TEST(result["frames"] == 30);
    BOOST_TEST(result["ms_per_frame"].get<double>() > 0);
    // The content is the input's, twice as large.
    t::ffmpeg("-i '" + in.string() + "' -vf scale=320:240:flags=lanczos -c:v libx264 -crf 10 '" +
              (box / "ref.mp4").string() + "'");
    const double p = t::psnr(box / "ref.mp4", box / "out.mp4");
    BOOST_TEST_MESSAGE("upscale slim vs Lanczos x2: " << p << " dB");
    BOOST_TEST(p > 25.0);
}

BOOST_AUTO_TEST_CASE(a_missing_model_stops_before_any_work_with_exit_2) {
    t::Sandbox box;
    t::write_file(box / "rr.yaml", "paths:\n  models_dir: no-models-here\n");
    auto in = t::fixture("it_upscale_2s.mp4",
                         "-f lavfi -i testsrc2=size=160x120:rate=15:duration=2 -c:v libx264 "
                         "-preset veryfast -g 10");
    auto r = t::process(in, box / "out.mp4",
                        {"--config", (box / "rr.yaml").string(), "--stages", "upscale"});
    BOOST_TEST(r.cmd.exit_code == 2);
    BOOST_TEST_MESSAGE(r.cmd.err);
    // Relative to the config file, and named in full.
    BOOST_TEST(r.cmd.err.find((box / "no-models-here/esrgan-slim/models/x2/model.json").string()) !=
               std::string::npos);
    BOOST_TEST(t::only_contains(box.path(), {"rr.yaml"}));

    auto fallback = t::process(
        in, box / "out.mp4",
        {"--config", (box / "rr.yaml").string(), "--stages", "upscale:fallback=lanczos"});
    BOOST_REQUIRE_MESSAGE(fallback.cmd.exit_code == 0, fallback.cmd.err);
    BOOST_TEST(fallback.sidecar()["stages"][0]["result"]["fallback"] == "lanczos");
    BOOST_TEST(t::video_stream(box / "out.mp4")["width"].get<int>() == 320);
}
