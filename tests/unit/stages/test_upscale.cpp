#define BOOST_TEST_MODULE stages_upscale
#include <boost/test/unit_test.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/stage_spec.h"
#include "media/frame_converter.h"
#include "stages/factory.h"
#include "support/frames.h"
#include "support/photos.h"
#include "support/sandbox.h"
#include "support/stages.h"

using namespace rr;
namespace t = rr::test;

namespace {

cv::Mat photo(const std::string& name) {
    cv::Mat bgr = cv::imread(t::skimage_photo(name).string(), cv::IMREAD_COLOR), rgb;
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    return rgb;
}

double plane_psnr(const AVFrame& a, const AVFrame& b, int plane) {
    return cv::PSNR(t::plane_copy(a, plane), t::plane_copy(b, plane));
}

}  // namespace

// The stage's own path (YUV -> RGB network -> luma, Lanczos chroma) on a real photo.
BOOST_AUTO_TEST_CASE(upscales_a_yuv_photo_better_than_bicubic) {
    cv::Mat rgb = photo("astronaut.png");
    auto original = t::yuv420_from_rgb(rgb);
    cv::Mat low_rgb;
    cv::resize(rgb, low_rgb, rgb.size() / 2, 0, 0, cv::INTER_AREA);
    auto low = t::yuv420_from_rgb(low_rgb);
    auto stage = t::try_stage("upscale:model=psnr-small:scale=2", t::models_dir());
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
    const auto msg = t::stage_error("upscale:model=medium:scale=3", empty.path());
    BOOST_TEST_MESSAGE(msg);
    BOOST_TEST(msg.find("stage 'upscale'") != std::string::npos);
    BOOST_TEST(msg.find((empty.path() / "esrgan-medium/models/x3/model.json").string()) !=
               std::string::npos);
    BOOST_TEST(msg.find("fallback: lanczos") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(fallback_lanczos_is_used_and_recorded_only_when_asked) {
    t::Sandbox empty;
    auto stage = t::try_stage("upscale:scale=3:fallback=lanczos", empty.path());
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
    auto real = t::try_stage("upscale:scale=3:fallback=lanczos", t::models_dir());
    BOOST_REQUIRE(real.ok());
    BOOST_REQUIRE((*real)->configure(t::yuv420_format(64, 48)).ok());
    BOOST_TEST((*real)->summarize({})["model"] == "slim");
    BOOST_TEST(!(*real)->summarize({}).contains("fallback"));
}

BOOST_AUTO_TEST_CASE(parameters_are_validated) {
    const auto models = t::models_dir();
    BOOST_TEST(t::stage_error("upscale:scale=5", models).find("'scale'") != std::string::npos);
    BOOST_TEST(t::stage_error("upscale:model=huge", models).find("'model'") != std::string::npos);
    BOOST_TEST(t::stage_error("upscale:model=psnr-small:scale=4", models).find("x2 only") !=
               std::string::npos);
    BOOST_TEST(t::stage_error("upscale:tile=20", models).find("'tile'") != std::string::npos);
    BOOST_TEST(t::stage_error("upscale:fallback=bicubic", models).find("'fallback'") !=
               std::string::npos);
    BOOST_TEST(t::stage_error("upscale:tiles=128", models).find("unknown parameter") !=
               std::string::npos);
}

// 10-bit frames (HEVC/AV1 jobs) go through 16-bit RGB; chroma must land where luma is.
BOOST_AUTO_TEST_CASE(ten_bit_frames_keep_their_colours_in_place) {
    cv::Mat rgb = photo("astronaut.png"), low_rgb;
    cv::resize(rgb, low_rgb, {128, 128}, 0, 0, cv::INTER_AREA);
    auto low8 = t::yuv420_from_rgb(low_rgb);
    media::FrameFormat f8 = t::yuv420_format(128, 128), f10 = f8;
    f10.pix_fmt = AV_PIX_FMT_YUV420P10LE;
    auto to10 = media::FrameConverter::create(f8, f10);
    BOOST_REQUIRE(to10.ok());
    auto low10 = to10->convert(av::ref_frame(low8.get()));
    BOOST_REQUIRE(low10.ok());
    auto stage = t::try_stage("upscale:model=slim", t::models_dir());
    BOOST_REQUIRE(stage.ok());
    auto out = t::run_one(**stage, f10, std::move(*low10));
    BOOST_REQUIRE_EQUAL(out->format, AV_PIX_FMT_YUV420P10LE);
    // Against the same frame upscaled in 8 bits: the chroma planes agree closely.
    auto stage8 = t::try_stage("upscale:model=slim", t::models_dir());
    auto out8 = t::run_one(**stage8, f8, av::ref_frame(low8.get()));
    for (int p = 0; p < 3; ++p) {
        const int w = p ? 128 : 256, h = w;
        cv::Mat m10(h, w, CV_16UC1, out->data[p], static_cast<size_t>(out->linesize[p])), m8;
        m10.convertTo(m8, CV_8U, 1.0 / 4);
        const double psnr = cv::PSNR(m8, t::plane_copy(*out8, p));
        BOOST_TEST_MESSAGE("plane " << p << ": 10-bit vs 8-bit path " << psnr << " dB");
        BOOST_TEST(psnr > 40.0);
    }
}

BOOST_AUTO_TEST_CASE(ten_bit_chroma_never_leaves_the_ten_bit_range) {
    // Bars of extreme chroma: Lanczos overshoots their edges.
    media::FrameFormat f10 = t::yuv420_format(64, 32);
    f10.pix_fmt = AV_PIX_FMT_YUV420P10LE;
    av::FramePtr in = av::make_frame();
    in->width = 64;
    in->height = 32;
    in->format = AV_PIX_FMT_YUV420P10LE;
    BOOST_REQUIRE(av_frame_get_buffer(in.get(), 0) >= 0);
    for (int p = 0; p < 3; ++p) {
        const int w = p ? 32 : 64, h = p ? 16 : 32;
        cv::Mat m(h, w, CV_16UC1, in->data[p], static_cast<size_t>(in->linesize[p]));
        for (int x = 0; x < w; ++x) m.col(x).setTo(p == 0 ? 512 : ((x / 4) % 2 ? 1023 : 0));
    }
    auto stage = t::try_stage("upscale:model=slim", t::models_dir());
    BOOST_REQUIRE(stage.ok());
    auto out = t::run_one(**stage, f10, std::move(in));
    for (int p = 0; p < 3; ++p) {
        const int w = p ? 64 : 128, h = p ? 32 : 64;
        cv::Mat m(h, w, CV_16UC1, out->data[p], static_cast<size_t>(out->linesize[p]));
        double max = 0;
        cv::minMaxLoc(m, nullptr, &max);
        BOOST_TEST(max <= 1023.0, "plane " << p << " reaches " << max);
    }
}
