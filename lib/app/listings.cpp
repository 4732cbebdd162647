#include "app/listings.h"

#include <nlohmann/json.hpp>
#include <sstream>

#include "stages/factory.h"

namespace rr::app {
namespace {

std::string value_text(const nlohmann::json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_boolean()) return v.get<bool>() ? "on" : "off";
    if (v.is_array()) {
        std::string s;
        for (const auto& item : v) s += (s.empty() ? "" : "+") + value_text(item);
        return s;
    }
    return v.dump();
}

// `radius=2 (integer 1..50)`, `action=none (none|boxes|blur)`.
std::string param_text(const nlohmann::json& p) {
    std::string s = p["name"].get<std::string>() + "=" + value_text(p["default"]) + " (" +
                    p["type"].get<std::string>();
    if (p.contains("min")) s += " " + value_text(p["min"]) + ".." + value_text(p["max"]);
    if (p.contains("values")) {
        std::string list;
        for (const auto& v : p["values"]) list += (list.empty() ? "" : "|") + value_text(v);
        s += " " + list;
    }
    return s + ")";
}

nlohmann::json profile_json(const Profile& p) {
    nlohmann::json stages = nlohmann::json::array();
    for (const auto& s : p.stages) stages.push_back({{"name", s.name}, {"params", s.params}});
    return {
        {"name", p.name},
        {"stages", stages},
        {"video",
         {{"codec", std::string(to_string(p.video.codec))},
          {"crf", p.video.crf},
          {"preset", p.video.preset},
          {"hwaccel", std::string(to_string(p.video.hwaccel))},
          {"pix_fmt", p.video.pix_fmt}}},
        {"audio", {{"codec", std::string(to_string(p.audio.codec))}, {"bitrate", p.audio.bitrate}}},
        {"container", std::string(to_string(p.container))}};
}

}  // namespace

std::string list_stages(bool json) {
    const nlohmann::json stages = stages::describe_stages();
    if (json) return stages.dump(2) + "\n";
    std::ostringstream out;
    for (const auto& stage : stages) {
        out << stage["name"].get<std::string>() << ":";
        if (stage["params"].empty()) out << " (no parameters)";
        for (const auto& p : stage["params"]) out << ' ' << param_text(p);
        out << '\n';
    }
    return out.str();
}

std::string list_profiles(const Config& config, bool json) {
    nlohmann::json all = nlohmann::json::array();
    for (const auto& [name, profile] : config.profiles) all.push_back(profile_json(profile));
    if (json) return all.dump(2) + "\n";
    std::ostringstream out;
    for (const auto& p : all) {
        std::string stages;
        for (const auto& s : p["stages"]) {
            stages += (stages.empty() ? "" : ",") + s["name"].get<std::string>();
            for (const auto& [k, v] : s["params"].items()) stages += ":" + k + "=" + value_text(v);
        }
        const auto& v = p["video"];
        const int crf = v["crf"].get<int>();
        out << p["name"].get<std::string>() << ": stages=" << (stages.empty() ? "none" : stages)
            << " codec=" << v["codec"].get<std::string>()
            << " crf=" << (crf < 0 ? std::string("default") : std::to_string(crf))
            << " preset=" << v["preset"].get<std::string>()
            << " hwaccel=" << v["hwaccel"].get<std::string>() << " pix_fmt="
            << (v["pix_fmt"].get<std::string>().empty() ? "auto" : v["pix_fmt"].get<std::string>())
            << " audio=" << p["audio"]["codec"].get<std::string>() << "@"
            << p["audio"]["bitrate"].get<std::string>()
            << " container=" << p["container"].get<std::string>() << '\n';
    }
    if (all.empty())
        out << "no profiles in "
            << (config.source.empty() ? "built-in defaults" : config.source.string()) << '\n';
    return out.str();
}

}  // namespace rr::app
