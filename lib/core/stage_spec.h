#pragma once
// A stage as the user wrote it, before any stage validated it: a name and its parameters.
// Specs come from `--stages grayscale,blur:radius=4` or from a profile's YAML list.

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace rr {

struct SourceMark {
    int line = 0;    // 1-based
    int column = 0;  // 1-based
};

struct StageSpec {
    std::string name;
    nlohmann::json params = nlohmann::json::object();
    std::optional<SourceMark> mark;  // where in the config file it was written, if anywhere
    // When set, the stage's parameter reader appends one record per parameter it accepts
    // (name, type, default, range or values): how `--list-stages` learns them from the
    // stages themselves instead of from a second list that could drift.
    std::shared_ptr<nlohmann::json> describe;
};

// Parses the `--stages` grammar: `name[:key=value[:key=value...]][,name...]`.
// List values use `+` as separator (`targets=faces+people`) since `,` separates stages.
[[nodiscard]] Result<std::vector<StageSpec>> parse_stage_list(std::string_view text);

// Converts one `key=value` text value into JSON: integers, reals, booleans, lists, strings.
[[nodiscard]] nlohmann::json parse_param_value(std::string_view text);

}  // namespace rr
