#include "stages/factory.h"

#include <functional>
#include <map>

#include "stages/audio.h"
#include "stages/color.h"
#include "stages/denoise.h"
#include "stages/detect.h"
#include "stages/filters.h"
#include "stages/hdr.h"
#include "stages/scale.h"
#include "stages/scenes.h"
#include "stages/stabilize.h"
#include "stages/upscale.h"

namespace rr::stages {
namespace {

using Maker = std::function<Result<std::unique_ptr<Stage>>(const StageSpec&, const StageEnv&)>;

const std::map<std::string, Maker>& makers() {
    // Immutable after first use: a registry of constructors, not mutable state.
    static const std::map<std::string, Maker> kMakers = {
        {"grayscale", [](const StageSpec& s, const StageEnv&) { return make_grayscale(s); }},
        {"blur", [](const StageSpec& s, const StageEnv&) { return make_blur(s); }},
        {"brightness", [](const StageSpec& s, const StageEnv&) { return make_brightness(s); }},
        {"contrast", [](const StageSpec& s, const StageEnv&) { return make_contrast(s); }},
        {"scale", [](const StageSpec& s, const StageEnv&) { return make_scale(s); }},
        {"upscale", [](const StageSpec& s, const StageEnv& e) { return make_upscale(s, e); }},
        {"detect", [](const StageSpec& s, const StageEnv& e) { return make_detect(s, e); }},
        {"scenes", [](const StageSpec& s, const StageEnv& e) { return make_scenes(s, e); }},
        {"denoise", [](const StageSpec& s, const StageEnv&) { return make_denoise(s); }},
        {"color", [](const StageSpec& s, const StageEnv&) { return make_color(s); }},
        {"stabilize", [](const StageSpec& s, const StageEnv&) { return make_stabilize(s); }},
        {"audio", [](const StageSpec& s, const StageEnv&) { return make_audio(s); }},
        {"hdr", [](const StageSpec& s, const StageEnv&) { return make_hdr(s); }},
    };
    return kMakers;
}

}  // namespace

std::vector<std::string> stage_names() {
    std::vector<std::string> names;
    for (const auto& [name, maker] : makers()) names.push_back(name);
    return names;
}

nlohmann::json describe_stages() {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& [name, maker] : makers()) {
        StageSpec spec;
        spec.name = name;
        spec.describe = std::make_shared<nlohmann::json>(nlohmann::json::array());
        (void)maker(spec, StageEnv{{}, null_logger()});
        out.push_back({{"name", name}, {"params", *spec.describe}});
    }
    return out;
}

Result<std::unique_ptr<Stage>> make_stage(const StageSpec& spec, const StageEnv& env) {
    auto it = makers().find(spec.name);
    if (it == makers().end()) {
        std::string list;
        for (const auto& n : stage_names()) list += (list.empty() ? "" : ", ") + n;
        std::string where = spec.mark ? " (line " + std::to_string(spec.mark->line) + ")" : "";
        return make_error(Errc::invalid_argument,
                          "unknown stage '" + spec.name + "'" + where + " (known: " + list + ")");
    }
    return it->second(spec, env);
}

Result<std::vector<std::unique_ptr<Stage>>> make_stages(const std::vector<StageSpec>& specs,
                                                        const StageEnv& env) {
    std::vector<std::unique_ptr<Stage>> out;
    for (const auto& spec : specs) {
        RR_ASSIGN(auto stage, make_stage(spec, env));
        out.push_back(std::move(stage));
    }
    return out;
}

}  // namespace rr::stages
