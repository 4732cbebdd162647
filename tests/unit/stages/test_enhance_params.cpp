#define BOOST_TEST_MODULE stages_enhance_params
#include <boost/test/unit_test.hpp>

#include "core/stage_spec.h"
#include "stages/color_stats.h"
#include "stages/factory.h"
#include "support/frames.h"
#include "support/stages.h"

using namespace rr;
namespace t = rr::test;

namespace {

bool names(const std::string& message, const std::string& stage, const std::string& key) {
    return message.find("'" + stage + "'") != std::string::npos &&
           message.find("'" + key + "'") != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_CASE(defaults_are_recorded) {
    auto d = t::stage_from("denoise");
    BOOST_TEST(d->params()["method"].get<std::string>() == "hqdn3d");
    BOOST_TEST(d->params()["strength"].get<std::string>() == "medium");
    BOOST_TEST(d->preroll_frames() > 0);
    BOOST_TEST(t::stage_from("denoise:method=temporal")->postroll_frames() > 0);
    BOOST_TEST(t::stage_from("denoise:method=nlmeans")->preroll_frames() == 0);
    auto a = t::stage_from("audio");
    BOOST_TEST(a->params()["loudness"].get<double>() == -16.0);
    BOOST_TEST(a->params()["true_peak"].get<double>() == -1.5);
    BOOST_TEST(a->params()["denoise"].get<std::string>() == "off");
    BOOST_TEST(a->audio_pass() != nullptr);
    auto s = t::stage_from("stabilize");
    BOOST_TEST(s->params()["smoothing"].get<int>() == 30);
    BOOST_TEST(s->analysis_preroll_frames() == 1);
    auto h = t::stage_from("hdr:mode=passthrough");
    BOOST_TEST(h->needs_source_depth());
    VideoSettings v;
    h->require_encoding(v);
    BOOST_TEST(v.codec == VideoCodec::hevc);
    auto c = t::stage_from("color");
    BOOST_TEST(c->params()["white_balance"].get<std::string>() == "auto");
}

BOOST_AUTO_TEST_CASE(bad_values_name_stage_and_key) {
    BOOST_TEST(names(t::stage_error("denoise:strength=extreme"), "denoise", "strength"));
    BOOST_TEST(names(t::stage_error("denoise:radius=3"), "denoise", "radius"));
    BOOST_TEST(names(t::stage_error("color:saturation=9"), "color", "saturation"));
    BOOST_TEST(names(t::stage_error("color:white_balance=daylight"), "color", "white_balance"));
    BOOST_TEST(names(t::stage_error("stabilize:crop=mirror"), "stabilize", "crop"));
    BOOST_TEST(names(t::stage_error("stabilize:smoothing=1"), "stabilize", "smoothing"));
    BOOST_TEST(names(t::stage_error("audio:loudness=3"), "audio", "loudness"));
    BOOST_TEST(names(t::stage_error("audio:denoise=max"), "audio", "denoise"));
    BOOST_TEST(names(t::stage_error("hdr:operator=aces"), "hdr", "operator"));
    BOOST_TEST(names(t::stage_error("hdr:input_transfer=log"), "hdr", "input_transfer"));
    BOOST_TEST(names(t::stage_error("color:lut=/nonexistent.cube"), "color", "lut"));
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
    auto gray = t::stage_from("color:white_balance=off:auto_levels=off:saturation=0");
    auto out = t::run_one(*gray, t::yuv420_format(32, 16), t::make_yuv420(32, 16, 120, 90, 170));
    BOOST_TEST(std::abs(t::plane_mean(*out, 1) - 128.0) <= 1.0);
    BOOST_TEST(std::abs(t::plane_mean(*out, 2) - 128.0) <= 1.0);
    BOOST_TEST(std::abs(t::plane_mean(*out, 0) - 120.0) <= 1.0);
    auto bright = t::stage_from("color:white_balance=off:auto_levels=off:gamma=2");
    out = t::run_one(*bright, t::yuv420_format(32, 16), t::make_yuv420(32, 16, 126, 128, 128));
    BOOST_TEST(t::plane_mean(*out, 0) > 160.0);  // 0.5^(1/2) of the range
    BOOST_TEST(std::abs(t::plane_mean(*out, 1) - 128.0) <= 1.0);
}
