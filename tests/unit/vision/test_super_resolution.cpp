#define BOOST_TEST_MODULE vision_super_resolution
#include <boost/test/unit_test.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "support/photos.h"
#include "vision/super_resolution.h"

using namespace rr;
namespace t = rr::test;

namespace {

cv::Mat load_rgb(const std::string& name) {
    cv::Mat bgr = cv::imread(t::skimage_photo(name).string(), cv::IMREAD_COLOR);
    BOOST_REQUIRE(!bgr.empty());
    cv::Mat rgb;
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    return rgb;
}

// PSNR of the luma (OpenCV YCrCb) of two RGB images.
double psnr_y(const cv::Mat& a, const cv::Mat& b) {
    cv::Mat ya, yb;
    cv::cvtColor(a, ya, cv::COLOR_RGB2YCrCb);
    cv::cvtColor(b, yb, cv::COLOR_RGB2YCrCb);
    cv::extractChannel(ya, ya, 0);
    cv::extractChannel(yb, yb, 0);
    return cv::PSNR(ya, yb);
}

double sharpness(const cv::Mat& rgb) {
    cv::Mat gray, lap;
    cv::cvtColor(rgb, gray, cv::COLOR_RGB2GRAY);
    cv::Laplacian(gray, lap, CV_64F);
    cv::Scalar mean, dev;
    cv::meanStdDev(lap, mean, dev);
    return dev[0] * dev[0];
}

cv::Mat upscale(const std::string& model, const cv::Mat& low, int tile = 1024, int margin = 16) {
    auto info = vision::sr_model_info(t::models_dir(), model, 2);
    BOOST_REQUIRE_MESSAGE(info.ok(), (info.ok() ? "" : info.error().message));
    auto net = vision::load_tfjs_model(info->file);
    BOOST_REQUIRE_MESSAGE(net.ok(), (net.ok() ? "" : net.error().message));
    auto sr = vision::SuperResolver::create(*net, *info, low.size(), tile, margin);
    BOOST_REQUIRE_MESSAGE(sr.ok(), (sr.ok() ? "" : sr.error().message));
    cv::Mat out;
    auto st = sr->upscale(low, out);
    BOOST_REQUIRE_MESSAGE(st.ok(), (st.ok() ? "" : st.error().message));
    return out;
}

struct Halved {
    cv::Mat original, low;
    explicit Halved(const std::string& name) : original(load_rgb(name)) {
        cv::resize(original, low, original.size() / 2, 0, 0, cv::INTER_AREA);
    }
    cv::Mat resized(int interpolation) const {
        cv::Mat out;
        cv::resize(low, out, original.size(), 0, 0, interpolation);
        return out;
    }
};

}  // namespace

BOOST_AUTO_TEST_CASE(psnr_small_beats_bicubic_on_a_real_photo) {
    Halved img("astronaut.png");
    const double bicubic = psnr_y(img.original, img.resized(cv::INTER_CUBIC));
    const double lanczos = psnr_y(img.original, img.resized(cv::INTER_LANCZOS4));
    const double net = psnr_y(img.original, upscale("psnr-small", img.low));
    BOOST_TEST_MESSAGE("astronaut x2 PSNR-Y: bicubic " << bicubic << ", lanczos " << lanczos
                                                       << ", psnr-small " << net);
    BOOST_TEST(net >= bicubic + 0.5);
}

BOOST_AUTO_TEST_CASE(slim_stays_within_1_db_of_bicubic) {
    Halved img("astronaut.png");
    cv::Mat bicubic = img.resized(cv::INTER_CUBIC);
    cv::Mat slim = upscale("slim", img.low);
    const double p_bic = psnr_y(img.original, bicubic), p_slim = psnr_y(img.original, slim);
    // Recorded, not asserted: the published slim network smooths (its own sample output is
    // softer than bicubic too), so it is not sharper by Laplacian variance (docs/STAGES.md).
    BOOST_TEST_MESSAGE("astronaut x2: bicubic PSNR-Y " << p_bic << " dB, Laplacian variance "
                                                       << sharpness(bicubic) << "; slim " << p_slim
                                                       << " dB, " << sharpness(slim));
    BOOST_TEST(p_slim >= p_bic - 1.0);
}

// The packages ship the output their own runtime produced for assets/fixture.png: the loader
// must reproduce it (a wrong input range, kernel layout or concatenation order cannot).
BOOST_AUTO_TEST_CASE(slim_and_medium_reproduce_the_published_samples) {
    auto load = [](const std::filesystem::path& p) {
        cv::Mat bgr = cv::imread(p.string(), cv::IMREAD_COLOR), rgb;
        BOOST_REQUIRE(!bgr.empty());
        cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
        return rgb;
    };
    const auto samples = t::model_samples_dir();
    const cv::Mat fixture = load(samples / "esrgan-slim/assets/fixture.png");
    for (const std::string model : {"slim", "medium"}) {
        const cv::Mat published =
            load(samples / ("esrgan-" + model) / "assets/samples/2x/result.png");
        const double p = cv::PSNR(upscale(model, fixture), published);
        BOOST_TEST_MESSAGE(model << " x2 vs the package's published sample: " << p << " dB");
        BOOST_TEST(p >= 60.0);
    }
}

BOOST_AUTO_TEST_CASE(tiles_leave_no_seams) {
    Halved img("astronaut.png");
    cv::Mat whole = upscale("slim", img.low);
    cv::Mat tiled = upscale("slim", img.low, 96, 16);
    const double p = cv::PSNR(whole, tiled);
    BOOST_TEST_MESSAGE("slim tiled (96 px, margin 16) vs whole picture: " << p << " dB");
    BOOST_TEST(p >= 50.0);
    // Without context at the inner edges the seams would show.
    const double bare = cv::PSNR(whole, upscale("slim", img.low, 96, 0));
    BOOST_TEST_MESSAGE("slim tiled without margin vs whole picture: " << bare << " dB");
    BOOST_TEST(bare < p);
}

BOOST_AUTO_TEST_CASE(tiles_are_as_few_and_as_small_as_cover_the_picture) {
    auto l = vision::plan_tiles({960, 540}, 256, 16);
    BOOST_TEST(l.tile.width == 218);   // 5 tiles: 5 * (218 - 32) >= 960 - 32
    BOOST_TEST(l.tile.height == 202);  // 3 tiles
    auto small = vision::plan_tiles({200, 100}, 256, 16);
    BOOST_TEST(small.tile.width == 200);
    BOOST_TEST(small.tile.height == 100);
}
