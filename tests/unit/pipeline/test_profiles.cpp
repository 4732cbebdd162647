#define BOOST_TEST_MODULE pipeline_profiles
#include <boost/test/unit_test.hpp>

#include "core/config.h"
#include "pipeline/job.h"
#include "stages/factory.h"
#include "support/frames.h"
#include "support/photos.h"
#include "support/process.h"

// The shipped configuration's profiles, the neural ones included, validate with the models
// scripts/fetch-models puts where that configuration says.
BOOST_AUTO_TEST_CASE(every_shipped_profile_validates) {
    (void)rr::test::models_dir();  // a clear message when the models were never fetched
    auto cfg = rr::load_config_file(rr::test::source_dir() / "config/renderrush.yaml");
    BOOST_REQUIRE_MESSAGE(cfg.ok(), (cfg.ok() ? "" : cfg.error().message));
    for (const char* name : {"upscale-x2", "privacy-blur", "scenes-chapters"})
        BOOST_TEST(cfg->profiles.count(name) == 1u);
    for (const auto& [name, profile] : cfg->profiles) {
        auto st = rr::pipeline::validate_profile(profile, cfg->paths.models_dir);
        BOOST_TEST(st.ok(), name << ": " << (st.ok() ? "" : st.error().message));
    }
}

// A small source dropped into web-1080p stays small: the shipped profiles never enlarge.
BOOST_AUTO_TEST_CASE(shipped_web_1080p_keeps_a_320x240_source_at_320x240) {
    auto cfg = rr::load_config_file(rr::test::source_dir() / "config/renderrush.yaml");
    BOOST_REQUIRE_MESSAGE(cfg.ok(), (cfg.ok() ? "" : cfg.error().message));
    const auto& profile = cfg->profiles.at("web-1080p");
    auto stages = rr::stages::make_stages(profile.stages, {cfg->paths.models_dir, nullptr});
    BOOST_REQUIRE_MESSAGE(stages.ok(), (stages.ok() ? "" : stages.error().message));
    auto format = rr::test::yuv420_format(320, 240);
    for (auto& stage : *stages) {
        auto next = stage->configure(format);
        BOOST_REQUIRE(next.ok());
        format = *next;
    }
    BOOST_TEST(format.width == 320);
    BOOST_TEST(format.height == 240);
}
