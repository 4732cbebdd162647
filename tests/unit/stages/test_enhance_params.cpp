#define BOOST_TEST_MODULE stages_enhance_params
#include <boost/test/unit_test.hpp>

#include "core/stage_spec.h"
#include "stages/color_stats.h"
#include "stages/factory.h"
#include "support/frames.h"

using namespace rr;
namespace t = rr::test;

namespace {

std::unique_ptr<stages::Stage> make(const std::string& spec) {
    auto specs = parse_stage_list(spec);
    BOOST_REQUIRE(specs.ok());
    auto stage = stages::make_stage(specs->at(0), stages::StageEnv{});
    BOOST_REQUIRE_MESSAGE(stage.ok(), (stage.ok() ? "" : stage.error().message));
    return std::move(stage).value();
}

std::string error_of(const std::string& spec) {
    auto specs = parse_stage_list(spec);
    BOOST_REQUIRE(specs.ok());
    auto stage = stages::make_stage(specs->at(0), stages::StageEnv{});
    BOOST_REQUIRE(!stage.ok());
    BOOST_TEST(stage.error().code == Errc::invalid_argument);
    return stage.error().message;
}

bool names(const std::string& message, const std::string& stage, const std::string& key) {
    return message.find("'" + stage + "'") != std::string::npos &&
           message.find("'" + key + "'") != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_CASE(defaults_are_recorded) {
    auto d = make("denoise");
    BOOST_TEST(d->params()["method"].get<std::string>() == "hqdn3d");
    BOOST_TEST(d->params()["strength"].get<std::string>() == "medium");
    BOOST_TEST(d->preroll_frames() > 0);
    BOOST_TEST(make("denoise:method=temporal")->postroll_frames() > 0);
    BOOST_TEST(make("denoise:method=nlmeans")->preroll_frames() == 0);
    auto a = make("audio");
    BOOST_TEST(a->params()["loudness"].get<double>() == -16.0);
    BOOST_TEST(a->params()["true_peak"].get<double>() == -1.5);
    BOOST_TEST(a->params()["denoise"].get<std::string>() == "off");
    BOOST_TEST(a->audio_pass() != nullptr);
    auto s = make("stabilize");
    BOOST_TEST(s->params()["smoothing"].get<int>() == 30);
    BOOST_TEST(s->analysis_preroll_frames() == 1);
    auto h = make("hdr:mode=passthrough");
    BOOST_TEST(h->needs_source_depth());
    VideoSettings v;
    h->require_encoding(v);
    BOOST_TEST(v.codec == "hevc");
    auto c = make("color");
    BOOST_TEST(c->params()["white_balance"].get<std::string>() == "auto");
}

BOOST_AUTO_TEST_CASE(bad_values_name_stage_and_key) {
    BOOST_TEST(names(error_of("denoise:strength=extreme"), "denoise", "strength"));
    BOOST_TEST(names(error_of("denoise:radius=3"), "denoise", "radius"));
    BOOST_TEST(names(error_of("color:saturation=9"), "color", "saturation"));
    BOOST_TEST(names(error_of("color:white_balance=daylight"), "color", "white_balance"));
    BOOST_TEST(names(error_of("stabilize:crop=mirror"), "stabilize", "crop"));
    BOOST_TEST(names(error_of("stabilize:smoothing=1"), "stabilize", "smoothing"));
    BOOST_TEST(names(error_of("audio:loudness=3"), "audio", "loudness"));
    BOOST_TEST(names(error_of("audio:denoise=max"), "audio", "denoise"));
    BOOST_TEST(names(error_of("hdr:operator=aces"), "hdr", "operator"));
    BOOST_TEST(names(error_of("hdr:input_transfer=log"), "hdr", "input_transfer"));
    BOOST_TEST(names(error_of("color:lut=/nonexistent.cube"), "color", "lut"));
}

BOOST_AUTO_TEST_CASE(grey_world_gains_account_for_clipping) {
    // Half the pixels are saturated in green: a nominal gain cannot raise green's mean by
    // as much, so the solved gain is larger and the clipped means meet.
    cv::Mat r(10, 10, CV_32F, cv::Scalar(0.6)), g(10, 10, CV_32F, cv::Scalar(0.3)),
        b(10, 10, CV_32F, cv::Scalar(0.5));
    g(cv::Rect(0, 0, 10, 5)).setTo(1.0);
    stages::ColorStats stats;
    stats.add({r, g, b});
    const auto gains = stages::grey_world_gains(stats);
    const double mr = stats.clipped_mean(0, gains[0]), mg = stats.clipped_mean(1, gains[1]),
                 mb = stats.clipped_mean(2, gains[2]);
    BOOST_TEST(std::abs(mr - mg) < 0.002);
    BOOST_TEST(std::abs(mb - mg) < 0.002);
    BOOST_TEST(gains[0] < 1.0);
    // JSON round trip (how chunks hand their statistics over).
    auto back = stages::ColorStats::from_json(stats.to_json());
    BOOST_TEST(back.frames() == 1);
    BOOST_TEST(back.clipped_mean(1, 1.0) == stats.clipped_mean(1, 1.0));
}

BOOST_AUTO_TEST_CASE(color_adjustments_on_a_frame) {
    // Saturation 0 leaves grey; gamma brightens mid-grey; neither moves a neutral pixel's chroma.
    auto gray = make("color:white_balance=off:auto_levels=off:saturation=0");
    auto out = t::run_one(*gray, t::yuv420_format(32, 16), t::make_yuv420(32, 16, 120, 90, 170));
    BOOST_TEST(std::abs(t::plane_mean(*out, 1) - 128.0) <= 1.0);
    BOOST_TEST(std::abs(t::plane_mean(*out, 2) - 128.0) <= 1.0);
    BOOST_TEST(std::abs(t::plane_mean(*out, 0) - 120.0) <= 1.0);
    auto bright = make("color:white_balance=off:auto_levels=off:gamma=2");
    out = t::run_one(*bright, t::yuv420_format(32, 16), t::make_yuv420(32, 16, 126, 128, 128));
    BOOST_TEST(t::plane_mean(*out, 0) > 160.0);  // 0.5^(1/2) of the range
    BOOST_TEST(std::abs(t::plane_mean(*out, 1) - 128.0) <= 1.0);
}
