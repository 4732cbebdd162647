#include "stages/stage.h"

namespace rr::stages {

nlohmann::json Stage::summarize(const std::vector<nlohmann::json>& chunk_results) const {
    // Stages that report per chunk but have no better merge keep the list as is.
    nlohmann::json out = nlohmann::json::array();
    bool any = false;
    for (const auto& r : chunk_results) {
        any = any || !r.is_null();
        out.push_back(r);
    }
    return any ? nlohmann::json{{"chunks", out}} : nlohmann::json::object();
}

}  // namespace rr::stages
