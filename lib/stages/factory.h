#pragma once
// Builds stages from their specs, validating every parameter.

#include <filesystem>
#include <memory>
#include <vector>

#include "core/logging.h"
#include "core/stage_spec.h"
#include "media/mapped_file.h"
#include "stages/stage.h"

namespace rr::stages {

struct StageEnv {
    std::filesystem::path models_dir;
    LoggerPtr logger;
    // The job's input, for stages that look at more than video frames (audio levels);
    // null when stages are only validated.
    const media::MappedFile* input = nullptr;
};

[[nodiscard]] Result<std::unique_ptr<Stage>> make_stage(const StageSpec& spec, const StageEnv& env);
[[nodiscard]] Result<std::vector<std::unique_ptr<Stage>>> make_stages(
    const std::vector<StageSpec>& specs, const StageEnv& env);
// Every stage name the factory knows, for help texts and error messages.
[[nodiscard]] std::vector<std::string> stage_names();
// Every stage with the parameters it accepts, as its own parameter reader declares them:
// [{name, params: [{name, type, default, min?, max?, values?}]}]. Builds each stage once with
// its defaults and no models (a stage that then fails to load one still lists its parameters).
[[nodiscard]] nlohmann::json describe_stages();

}  // namespace rr::stages
