#define BOOST_TEST_MODULE stages_upscale
#include <boost/test/unit_test.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/stage_spec.h"
#include "stages/factory.h"
#include "support/frames.h"
#include "support/photos.h"
#include "support/sandbox.h"

using namespace rr;
namespace t = rr::test;

namespace {

Result<std::unique_ptr<stages::Stage>> make(const std::string& spec,
                                            const std::filesystem::path& models) {
    auto specs = parse_stage_list(spec);
    BOOST_REQUIRE(specs.ok());
    return stages::make_stage(specs->at(0), stages::StageEnv{models, nullptr});
}

cv::Mat photo(const std::string& name) {
    cv::Mat bgr = cv::imread(t::skimage_photo(name).string(), cv::IMREAD_COLOR), rgb;
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    return rgb;
}

double plane_psnr(const AVFrame& a, const AVFrame& b, int plane) {
    return cv::PSNR(t::plane_copy(a, plane), t::plane_copy(b, plane));
}

std::string error_of(const std::string& spec, const std::filesystem::path& models) {
    auto stage = make(spec, models);
    BOOST_REQUIRE(!stage.ok());
    return stage.error().message;
}

}  // namespace

// The stage's own path (YUV -> RGB network -> luma, Lanczos chroma) on a real photo.
BOOST_AUTO_TEST_CASE(upscales_a_yuv_photo_better_than_bicubic) {
    cv::Mat rgb = photo("astronaut.png");
    auto original = t::yuv420_from_rgb(rgb);
    cv::Mat low_rgb;
    cv::resize(rgb, low_rgb, rgb.size() / 2, 0, 0, cv::INTER_AREA);
    auto low = t::yuv420_from_rgb(low_rgb);
    auto stage = make("upscale:model=psnr-small:scale=2", t::models_dir());
    BOOST_REQUIRE_MESSAGE(stage.ok(), (stage.ok() ? "" : stage.error().message));
    auto out = t::run_one(**stage, t::yuv420_format(256, 256), av::ref_frame(low.get()));
    BOOST_REQUIRE_EQUAL(out->width, 512);
    BOOST_REQUIRE_EQUAL(out->height, 512);
    cv::Mat bicubic_y;
    cv::resize(t::plane_copy(*low, 0), bicubic_y, {512, 512}, 0, 0, cv::INTER_CUBIC);
    const double net_y = plane_psnr(*original, *out, 0);
    const double bic_y = cv::PSNR(t::plane_copy(*original, 0), bicubic_y);
    BOOST_TEST_MESSAGE("yuv420 astronaut x2 PSNR-Y: bicubic "
                       << bic_y << ", upscale " << net_y << "; chroma U "
                       << plane_psnr(*original, *out, 1) << " V "
                       << plane_psnr(*original, *out, 2));
    BOOST_TEST(net_y >= bic_y + 0.5);
    // Colours survive the round trip through RGB.
    BOOST_TEST(plane_psnr(*original, *out, 1) > 40.0);
    BOOST_TEST(plane_psnr(*original, *out, 2) > 40.0);
    auto result = (*stage)->summarize({nlohmann::json{{"frames", 1}, {"ms", 5.0}}});
    BOOST_TEST(result["model"] == "psnr-small");
    BOOST_TEST(result["scale"] == 2);
    BOOST_TEST(result["tile"].get<int>() >= 64);
    BOOST_TEST(result["ms_per_frame"].get<double>() == 5.0);
}

BOOST_AUTO_TEST_CASE(a_missing_model_is_an_error_naming_the_file) {
    t::Sandbox empty;
    const auto msg = error_of("upscale:model=medium:scale=3", empty.path());
    BOOST_TEST_MESSAGE(msg);
    BOOST_TEST(msg.find("stage 'upscale'") != std::string::npos);
    BOOST_TEST(msg.find((empty.path() / "esrgan-medium/models/x3/model.json").string()) !=
               std::string::npos);
    BOOST_TEST(msg.find("fallback: lanczos") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(fallback_lanczos_is_used_and_recorded_only_when_asked) {
    t::Sandbox empty;
    auto stage = make("upscale:scale=3:fallback=lanczos", empty.path());
    BOOST_REQUIRE(stage.ok());
    auto out = t::run_one(**stage, t::yuv420_format(64, 48), t::make_yuv420(64, 48, -1, 90, 200));
    BOOST_TEST(out->width == 192);
    BOOST_TEST(out->height == 144);
    BOOST_TEST(t::plane_mean(*out, 1) == 90.0, boost::test_tools::tolerance(0.5));
    auto result = (*stage)->summarize({nlohmann::json{{"frames", 1}, {"ms", 1.0}}});
    BOOST_TEST(result["fallback"] == "lanczos");
    BOOST_TEST(result["model"] == "lanczos");
    BOOST_TEST(result["fallback_reason"].get<std::string>().find("esrgan-slim") !=
               std::string::npos);
    // With the models present the network is used even when a fallback is allowed.
    auto real = make("upscale:scale=3:fallback=lanczos", t::models_dir());
    BOOST_REQUIRE(real.ok());
    BOOST_REQUIRE((*real)->configure(t::yuv420_format(64, 48)).ok());
    BOOST_TEST((*real)->summarize({})["model"] == "slim");
    BOOST_TEST(!(*real)->summarize({}).contains("fallback"));
}

BOOST_AUTO_TEST_CASE(parameters_are_validated) {
    const auto models = t::models_dir();
    BOOST_TEST(error_of("upscale:scale=5", models).find("'scale'") != std::string::npos);
    BOOST_TEST(error_of("upscale:model=huge", models).find("'model'") != std::string::npos);
    BOOST_TEST(error_of("upscale:model=psnr-small:scale=4", models).find("x2 only") !=
               std::string::npos);
    BOOST_TEST(error_of("upscale:tile=20", models).find("'tile'") != std::string::npos);
    BOOST_TEST(error_of("upscale:fallback=bicubic", models).find("'fallback'") !=
               std::string::npos);
    BOOST_TEST(error_of("upscale:tiles=128", models).find("unknown parameter") !=
               std::string::npos);
}
