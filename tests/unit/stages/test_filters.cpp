#define BOOST_TEST_MODULE stages_filters
#include <boost/test/unit_test.hpp>

#include "core/stage_spec.h"
#include "stages/factory.h"
#include "support/frames.h"
#include "support/stages.h"

using namespace rr;
namespace t = rr::test;
using boost::test_tools::tolerance;

BOOST_AUTO_TEST_CASE(grayscale_neutralises_chroma_and_keeps_luma) {
    auto stage = t::stage_from("grayscale");
    auto out = t::run_one(*stage, t::yuv420_format(64, 48), t::make_yuv420(64, 48, -1, 90, 200));
    BOOST_TEST(t::plane_mean(*out, 1) == 128.0);
    BOOST_TEST(t::plane_mean(*out, 2) == 128.0);
    BOOST_TEST(t::plane_stddev(*out, 2) == 0.0);
    auto ref = t::make_yuv420(64, 48, -1, 90, 200);
    BOOST_TEST(t::plane_mean(*out, 0) == t::plane_mean(*ref, 0));
}

BOOST_AUTO_TEST_CASE(brightness_adds_a_share_of_the_luma_range) {
    auto stage = t::stage_from("brightness:amount=0.1");
    auto out = t::run_one(*stage, t::yuv420_format(32, 32), t::make_yuv420(32, 32, 100, 128, 128));
    BOOST_TEST(t::plane_mean(*out, 0) == 100 + 21.9,
               tolerance(0.6));  // 10% of 219 limited-range steps
    BOOST_TEST(t::plane_mean(*out, 1) == 128.0);
}

BOOST_AUTO_TEST_CASE(brightness_clamps_to_legal_range) {
    auto stage = t::stage_from("brightness:amount=1");
    auto out = t::run_one(*stage, t::yuv420_format(32, 32), t::make_yuv420(32, 32, 200, 128, 128));
    BOOST_TEST(t::plane_mean(*out, 0) == 235.0);
}

BOOST_AUTO_TEST_CASE(contrast_scales_around_mid_grey) {
    auto stage = t::stage_from("contrast:amount=2");
    auto in = t::make_yuv420(64, 8, -1, 128, 128);
    const double in_dev = t::plane_stddev(*in, 0);
    auto out = t::run_one(*stage, t::yuv420_format(64, 8), std::move(in));
    BOOST_TEST(t::plane_mean(*out, 0) == 125.5, tolerance(0.02));  // mid-grey stays put
    // Doubling is clipped at the legal limits, so the spread grows but by less than 2x.
    BOOST_TEST(t::plane_stddev(*out, 0) > 1.3 * in_dev);

    auto flat = t::stage_from("contrast:amount=0");
    auto grey = t::run_one(*flat, t::yuv420_format(64, 8), t::make_yuv420(64, 8, -1, 128, 128));
    BOOST_TEST(t::plane_stddev(*grey, 0) < 0.6);
}

BOOST_AUTO_TEST_CASE(blur_removes_fine_texture_but_keeps_the_mean) {
    auto stage = t::stage_from("blur:radius=4");
    auto in = t::make_textured(128, 96, 7);
    const double mean_in = t::plane_mean(*in, 0), dev_in = t::plane_stddev(*in, 0);
    auto out = t::run_one(*stage, t::yuv420_format(128, 96), std::move(in));
    BOOST_TEST(t::plane_stddev(*out, 0) < dev_in / 3);
    BOOST_TEST(t::plane_mean(*out, 0) == mean_in, tolerance(0.01));
}

BOOST_AUTO_TEST_CASE(scale_keeps_aspect_and_even_sizes) {
    auto stage = t::stage_from("scale:width=-1:height=120");
    auto fmt = stage->configure(t::yuv420_format(320, 180));
    BOOST_REQUIRE(fmt.ok());
    BOOST_TEST(fmt->width == 214);  // 213.3 rounded to an even width
    BOOST_TEST(fmt->height == 120);
    auto out =
        t::run_one(*stage, t::yuv420_format(320, 180), t::make_yuv420(320, 180, 80, 100, 150));
    BOOST_TEST(out->width == 214);
    BOOST_TEST(out->height == 120);
    BOOST_TEST(t::plane_mean(*out, 0) == 80.0, tolerance(0.01));
    BOOST_TEST(t::plane_mean(*out, 2) == 150.0, tolerance(0.01));
}

BOOST_AUTO_TEST_CASE(scale_never_enlarges_unless_asked) {
    // The shipped web-1080p's stage on a 320x240 source: the frame keeps its size, untouched.
    auto ceiling = t::stage_from("scale:width=-1:height=1080");
    auto kept = ceiling->configure(t::yuv420_format(320, 240));
    BOOST_REQUIRE(kept.ok());
    BOOST_TEST(kept->width == 320);
    BOOST_TEST(kept->height == 240);
    auto out =
        t::run_one(*ceiling, t::yuv420_format(320, 240), t::make_yuv420(320, 240, 80, 100, 150));
    BOOST_TEST(out->width == 320);
    BOOST_TEST(out->height == 240);
    BOOST_TEST(ceiling->summarize({}).at("kept_input_size").get<bool>());

    auto asked = t::stage_from("scale:width=-1:height=1080:upscale=true");
    auto grown = asked->configure(t::yuv420_format(320, 240));
    BOOST_REQUIRE(grown.ok());
    BOOST_TEST(grown->width == 1440);
    BOOST_TEST(grown->height == 1080);

    // Shrinking is what the stage is for and still happens by default.
    auto shrink = t::stage_from("scale:width=-1:height=1080");
    auto smaller = shrink->configure(t::yuv420_format(3840, 2160));
    BOOST_REQUIRE(smaller.ok());
    BOOST_TEST(smaller->width == 1920);
    BOOST_TEST(smaller->height == 1080);
}

BOOST_AUTO_TEST_CASE(bad_parameters_name_the_stage_and_key) {
    BOOST_TEST(t::stage_error("brightness:amount=3")
                   .find("stage 'brightness': parameter 'amount' value 3 is out of range") !=
               std::string::npos);
    BOOST_TEST(t::stage_error("blur:radius=soft").find("parameter 'radius' must be an integer") !=
               std::string::npos);
    BOOST_TEST(t::stage_error("blur:sigma=2").find("unknown parameter 'sigma'") !=
               std::string::npos);
    BOOST_TEST(t::stage_error("contrast:amount=-0.5").find("out of range") != std::string::npos);
    BOOST_TEST(t::stage_error("scale").find("width") != std::string::npos);
    BOOST_TEST(t::stage_error("sharpen").find("unknown stage 'sharpen'") != std::string::npos);
}
