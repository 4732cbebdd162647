#include "support/stages.h"

#include <boost/test/unit_test.hpp>

#include "core/stage_spec.h"
#include "stages/factory.h"

namespace rr::test {

Result<std::unique_ptr<stages::Stage>> try_stage(const std::string& spec,
                                                 const std::filesystem::path& models) {
    auto specs = parse_stage_list(spec);
    BOOST_REQUIRE_MESSAGE(specs.ok(), spec);
    return stages::make_stage(specs->at(0), stages::StageEnv{models, nullptr});
}

std::unique_ptr<stages::Stage> stage_from(const std::string& spec) {
    auto stage = try_stage(spec);
    BOOST_REQUIRE_MESSAGE(stage.ok(), (stage.ok() ? "" : stage.error().message));
    return std::move(stage).value();
}

std::string stage_error(const std::string& spec, const std::filesystem::path& models) {
    auto stage = try_stage(spec, models);
    BOOST_REQUIRE_MESSAGE(!stage.ok(), spec << " was accepted");
    BOOST_TEST(stage.error().code == Errc::invalid_argument);
    return stage.error().message;
}

}  // namespace rr::test
