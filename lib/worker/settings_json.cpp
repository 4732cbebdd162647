#include "worker/settings_json.h"

namespace rr::worker {
namespace {

template <Choice E>
E choice(const nlohmann::json& j) {
    auto e = parse_choice<E>(j.get<std::string>());
    if (!e) throw nlohmann::json::other_error::create(501, "unknown choice " + j.dump(), nullptr);
    return *e;
}

}  // namespace

nlohmann::json settings_to_json(const pipeline::JobSettings& s) {
    nlohmann::json stages = nlohmann::json::array();
    for (const auto& st : s.profile.stages)
        stages.push_back({{"name", st.name}, {"params", st.params}});
    const auto& v = s.profile.video;
    const auto& a = s.profile.audio;
    const auto& l = s.limits;
    return {{"profile",
             {{"name", s.profile.name},
              {"stages", std::move(stages)},
              {"video",
               {{"codec", to_string(v.codec)},
                {"crf", v.crf},
                {"preset", v.preset},
                {"hwaccel", to_string(v.hwaccel)},
                {"pix_fmt", v.pix_fmt},
                {"interlace", to_string(v.interlace)},
                {"deinterlace_rate", to_string(v.deinterlace_rate)}}},
              {"audio", {{"codec", to_string(a.codec)}, {"bitrate", a.bitrate}}},
              {"container", to_string(s.profile.container)}}},
            {"workers", s.workers},
            {"plan_workers", s.plan_workers},
            {"chunk_seconds", s.chunk_seconds},
            {"limits",
             {{"max_pixels", l.max_pixels},
              {"decode_error_ratio", l.decode_error_ratio},
              {"truncated", l.truncated},
              {"worker_memory_mb", l.worker_memory_mb},
              {"worker_seconds_per_chunk", l.worker_seconds_per_chunk}}},
            {"models_dir", s.models_dir.string()},
            {"work_dir", s.work_dir.string()}};
}

Result<pipeline::JobSettings> settings_from_json(const nlohmann::json& j) {
    try {
        pipeline::JobSettings s;
        const auto& p = j.at("profile");
        s.profile.name = p.at("name").get<std::string>();
        for (const auto& st : p.at("stages"))
            s.profile.stages.push_back({st.at("name").get<std::string>(), st.at("params"), {}, {}});
        const auto& v = p.at("video");
        s.profile.video.codec = choice<VideoCodec>(v.at("codec"));
        s.profile.video.crf = v.at("crf").get<int>();
        s.profile.video.preset = v.at("preset").get<std::string>();
        s.profile.video.hwaccel = choice<HwAccel>(v.at("hwaccel"));
        s.profile.video.pix_fmt = v.at("pix_fmt").get<std::string>();
        s.profile.video.interlace = choice<Interlace>(v.at("interlace"));
        s.profile.video.deinterlace_rate = choice<DeinterlaceRate>(v.at("deinterlace_rate"));
        s.profile.audio.codec = choice<AudioCodec>(p.at("audio").at("codec"));
        s.profile.audio.bitrate = p.at("audio").at("bitrate").get<std::string>();
        s.profile.container = choice<Container>(p.at("container"));
        s.workers = j.at("workers").get<int>();
        s.plan_workers = j.value("plan_workers", 0);  // absent from an older node's payload
        s.chunk_seconds = j.at("chunk_seconds").get<double>();
        const auto& l = j.at("limits");
        s.limits.max_pixels = l.at("max_pixels").get<int64_t>();
        s.limits.decode_error_ratio = l.at("decode_error_ratio").get<double>();
        s.limits.truncated = l.at("truncated").get<std::string>();
        s.limits.worker_memory_mb = l.at("worker_memory_mb").get<int64_t>();
        s.limits.worker_seconds_per_chunk = l.at("worker_seconds_per_chunk").get<double>();
        s.models_dir = j.at("models_dir").get<std::string>();
        s.work_dir = j.at("work_dir").get<std::string>();
        return s;
    } catch (const nlohmann::json::exception& e) {
        return make_error(Errc::internal, std::string("worker request: ") + e.what());
    }
}

}  // namespace rr::worker
