#pragma once
// JobSettings as they cross to a worker process. Every field of JobSettings (and of the
// Profile and Limits inside it) must appear here, or workers run with the default.

#include <nlohmann/json.hpp>

#include "core/result.h"
#include "pipeline/job_settings.h"

namespace rr::worker {

[[nodiscard]] nlohmann::json settings_to_json(const pipeline::JobSettings& s);
[[nodiscard]] Result<pipeline::JobSettings> settings_from_json(const nlohmann::json& j);

}  // namespace rr::worker
