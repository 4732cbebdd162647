#include "app/dry_run.h"

#include <cstdio>
#include <sstream>

#include "worker/client.h"

namespace rr::app {

Result<nlohmann::json> plan_dry_run(const pipeline::LocalJob& spec, const LoggerPtr& logger,
                                    std::stop_token stop) {
    // The input is parsed in a confined worker, as in a run; this process only prints.
    worker::JobSpec job{spec.input, spec.settings,
                        std::string(spdlog::level::to_string_view(logger->level()).data())};
    job.zygote = spec.zygote;
    RR_ASSIGN(nlohmann::json planned, worker::run_dry_run(job, stop));
    const Profile& profile = spec.settings.profile;
    try {
        nlohmann::json plan = {{"input", spec.input.string()},
                               {"output", spec.output.string()},
                               {"profile", spec.profile_name},
                               {"container", std::string(to_string(profile.container))},
                               {"source", planned.at("source")},
                               {"output_size", planned.at("output_size")},
                               {"stages", planned.at("stages")},
                               {"video", planned.at("video")},
                               {"audio",
                                {{"codec", std::string(to_string(profile.audio.codec))},
                                 {"bitrate", profile.audio.bitrate},
                                 {"streams", planned.at("audio_streams")}}},
                               {"workers", planned.at("workers")},
                               {"threads_per_worker", planned.at("threads_per_worker")},
                               {"chunks", planned.at("chunks")}};
        return plan;
    } catch (const nlohmann::json::exception& e) {
        return make_error(Errc::internal, std::string("worker broke the protocol: ") + e.what());
    }
}

std::string format_plan(const nlohmann::json& plan) {
    std::ostringstream out;
    const auto& v = plan["video"];
    out << "input:     " << plan["input"].get<std::string>() << " (" << plan["source"]["width"]
        << "x" << plan["source"]["height"] << ", " << plan["source"]["frames"] << " frames)\n";
    out << "output:    " << plan["output"].get<std::string>() << " ("
        << plan["container"].get<std::string>() << ", " << plan["output_size"]["width"] << "x"
        << plan["output_size"]["height"] << ") -- dry run, not written\n";
    std::string stages;
    for (const auto& s : plan["stages"]) {
        stages += (stages.empty() ? "" : ", ") + s["name"].get<std::string>();
        if (!s["params"].empty()) stages += " " + s["params"].dump();
    }
    out << "profile:   "
        << (plan["profile"].get<std::string>().empty() ? "(--stages)"
                                                       : plan["profile"].get<std::string>())
        << "\n";
    out << "stages:    " << (stages.empty() ? "none" : stages) << "\n";
    out << "video:     " << v["encoder"].get<std::string>() << " (" << v["codec"].get<std::string>()
        << ", hwaccel " << v["hwaccel"].get<std::string>() << ", crf " << v["crf"] << ", preset "
        << v["preset"].get<std::string>() << ", " << v["pix_fmt"].get<std::string>() << ")\n";
    out << "audio:     " << plan["audio"]["codec"].get<std::string>() << " at "
        << plan["audio"]["bitrate"].get<std::string>();
    for (const auto& s : plan["audio"]["streams"])
        out << "; stream " << s["input_stream"] << " " << s["reason"].get<std::string>();
    if (plan["audio"]["streams"].empty()) out << "; the input has no audio";
    out << "\n";
    out << "workers:   " << plan["workers"] << " x " << plan["threads_per_worker"] << " threads\n";
    out << "chunks:    " << plan["chunks"].size() << " (before analysis; stages may move cuts)\n";
    for (const auto& c : plan["chunks"]) {
        char line[160];
        std::snprintf(line, sizeof line, "  #%-3d frames %lld..%lld (%lld)  %.3f s .. %.3f s\n",
                      c["index"].get<int>(), c["first_frame"].get<long long>(),
                      c["end_frame"].get<long long>() - 1, c["frames"].get<long long>(),
                      c["start"].get<double>(), c["end"].get<double>());
        out << line;
    }
    return out.str();
}

}  // namespace rr::app
