#include "worker/plan_file.h"

#include <fstream>
#include <sstream>

#include "core/atomic_file.h"

namespace rr::worker {
namespace {

nlohmann::json index_to_json(const media::FrameIndex& ix) {
    nlohmann::json keys = nlohmann::json::array();
    for (const auto& k : ix.keys) keys.push_back({k.pts, k.dts});
    return {{"time_base", {ix.time_base.num, ix.time_base.den}},
            {"pts", ix.pts},
            {"keys", std::move(keys)},
            {"last_duration", ix.last_duration},
            {"declared_frames", ix.declared_frames},
            {"missing_at_end", ix.missing_at_end},
            {"exact", ix.exact}};
}

media::FrameIndex index_from_json(const nlohmann::json& j) {
    media::FrameIndex ix;
    ix.time_base = {j.at("time_base").at(0).get<int>(), j.at("time_base").at(1).get<int>()};
    ix.pts = j.at("pts").get<std::vector<int64_t>>();
    for (const auto& k : j.at("keys"))
        ix.keys.push_back({k.at(0).get<int64_t>(), k.at(1).get<int64_t>()});
    ix.last_duration = j.at("last_duration").get<int64_t>();
    ix.declared_frames = j.at("declared_frames").get<int64_t>();
    ix.missing_at_end = j.at("missing_at_end").get<int64_t>();
    ix.exact = j.at("exact").get<bool>();
    return ix;
}

// The detection, not the plan: the plan follows from it and the settings (plan_interlace), and
// the field order goes as FFmpeg's number since only this file reads it back.
nlohmann::json detection_to_json(const media::InterlaceDetection& d) {
    nlohmann::json j = {{"order", static_cast<int>(d.order)}, {"method", d.method}};
    if (d.idet) {
        const auto& c = *d.idet;
        j["idet"] = {c.tff, c.bff, c.progressive, c.undetermined, c.sampled};
    }
    return j;
}

media::InterlaceDetection detection_from_json(const nlohmann::json& j) {
    media::InterlaceDetection d;
    d.order = static_cast<AVFieldOrder>(j.at("order").get<int>());
    d.method = j.at("method").get<std::string>();
    if (j.contains("idet")) {
        const auto& c = j.at("idet");
        d.idet = media::IdetCounts{c.at(0).get<int64_t>(), c.at(1).get<int64_t>(),
                                   c.at(2).get<int64_t>(), c.at(3).get<int64_t>(),
                                   c.at(4).get<int64_t>()};
    }
    return d;
}

nlohmann::json spans_to_json(const std::vector<media::ChunkSpan>& chunks) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& c : chunks) {
        out.push_back({{"index", c.index},
                       {"first_frame", c.first_frame},
                       {"frames", c.frames()},
                       {"start_time", c.start_time},
                       {"end_time", c.end_time}});
    }
    return out;
}

}  // namespace

std::filesystem::path plan_file(const std::filesystem::path& work_dir) {
    // CBOR, not JSON text: analysis results hold binary data (the scenes stage's histograms)
    // that JSON text would turn into objects.
    return work_dir / "plan.cbor";
}

nlohmann::json plan_summary(const pipeline::PreparedJob& job) {
    return {{"checksum", job.info.checksum},        {"frames", job.total_frames()},
            {"output_frames", job.output_frames()}, {"chunks", spans_to_json(job.chunks)},
            {"audio", !job.audio.empty()},          {"encoder", job.encoder.name},
            {"interlace", job.interlace.to_json()}};
}

Status write_plan(const pipeline::PreparedJob& job) {
    const nlohmann::json plan = {
        {"checksum", job.info.checksum},
        {"index", index_to_json(job.index)},
        {"encoder",
         {{"name", job.encoder.name},
          {"hwaccel", to_string(job.encoder.hwaccel)},
          {"attempts", job.encoder.attempts}}},
        {"interlace", detection_to_json(job.interlace.detected)},
        {"analysis", job.analysis},
        {"timings", job.timings},
        {"chunks", spans_to_json(job.chunks)},
        // What the chunks were cut for: a node restoring the plan cuts the same, whatever its
        // own workers and chunk_seconds (or this node's, changed since).
        {"cut_for",
         {{"chunk_seconds", job.settings.chunk_seconds}, {"workers", job.plan_workers()}}}};
    const auto bytes = nlohmann::json::to_cbor(plan);
    return write_file_atomic(
        plan_file(job.work_dir),
        std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

Result<std::unique_ptr<pipeline::PreparedJob>> restore_job(const std::filesystem::path& input,
                                                           const pipeline::JobSettings& settings,
                                                           const LoggerPtr& logger) {
    std::ifstream in(plan_file(settings.work_dir), std::ios::binary);
    if (!in) return make_error(Errc::not_found, "the job's plan is missing from its work folder");
    std::stringstream text;
    text << in.rdbuf();
    const auto plan = nlohmann::json::from_cbor(text.str(), true, false);
    if (plan.is_discarded()) return make_error(Errc::internal, "the job's plan is unreadable");
    try {
        pipeline::PrepareHints hints{plan.at("checksum").get<std::string>(),
                                     index_from_json(plan.at("index")),
                                     detection_from_json(plan.at("interlace"))};
        // The encoder was chosen once; only that one is opened again.
        pipeline::JobSettings pinned = settings;
        const auto hw = parse_choice<HwAccel>(plan.at("encoder").at("hwaccel").get<std::string>());
        if (!hw) return make_error(Errc::internal, "the job's plan names an unknown encoder");
        pinned.profile.video.hwaccel = *hw;
        if (plan.contains("cut_for")) {  // absent from plans written before it was recorded
            pinned.chunk_seconds = plan["cut_for"].at("chunk_seconds").get<double>();
            pinned.plan_workers = plan["cut_for"].at("workers").get<int>();
        }
        // Opening it again is no news: only warnings from here, once per task is enough.
        auto quiet = logger->clone(logger->name());
        quiet->set_level(std::max(logger->level(), spdlog::level::warn));
        RR_ASSIGN(auto job, pipeline::prepare_job(input, pinned, quiet, &hints));
        job->logger = logger;
        job->settings = settings;
        job->settings.chunk_seconds = pinned.chunk_seconds;
        job->settings.plan_workers = pinned.plan_workers;
        job->work_dir = settings.work_dir;
        job->encoder.attempts = plan.at("encoder").at("attempts");
        job->encoder.settings.hwaccel = settings.profile.video.hwaccel;  // as the user asked
        job->timings = plan.at("timings");
        job->analysis = plan.at("analysis");
        RR_TRY(pipeline::restore_analysis(*job));
        if (job->encoder.name != plan.at("encoder").at("name").get<std::string>() ||
            spans_to_json(job->chunks) != plan.at("chunks")) {
            return make_error(Errc::conflict, "the input no longer gives the job's recorded plan");
        }
        return job;
    } catch (const nlohmann::json::exception& e) {
        return make_error(Errc::internal, std::string("the job's plan is unreadable: ") + e.what());
    }
}

}  // namespace rr::worker
