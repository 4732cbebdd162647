#define BOOST_TEST_MODULE pipeline_profiles
#include <boost/test/unit_test.hpp>

#include "core/config.h"
#include "pipeline/job.h"
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
