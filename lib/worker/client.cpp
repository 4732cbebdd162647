#include "worker/client.h"

#include <algorithm>
#include <cmath>

#include "core/atomic_file.h"
#include "pipeline/publish.h"
#include "pipeline/sidecar.h"
#include "worker/settings_json.h"
#include "worker/supervisor.h"

namespace rr::worker {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr uint64_t kMiB = uint64_t{1} << 20;
// Whole-file tasks get the per-chunk time once per this much input (prepare) or per chunk.
constexpr double kPrepareBytesPerPeriod = 256.0 * 1024 * 1024;

uint64_t input_size(const JobSpec& job) {
    std::error_code ec;
    const auto size = fs::file_size(job.input, ec);
    return ec ? 0 : size;
}

json request(const JobSpec& job, const std::string& task,
             const std::vector<fs::path>& extra_writes = {}) {
    const auto& limits = job.settings.limits;
    // The input is mapped whole: the address-space limit is on top of its size.
    const uint64_t space =
        limits.worker_memory_mb > 0
            ? static_cast<uint64_t>(limits.worker_memory_mb) * kMiB + input_size(job)
            : 0;
    json read = json::array({job.input.string()});
    if (!job.settings.models_dir.empty()) read.push_back(job.settings.models_dir.string());
    // Files the operator named in stage parameters (a colour LUT, say): readable too. They come
    // from the configuration or the command line, never from an upload.
    for (const auto& stage : job.settings.profile.stages) {
        if (!stage.params.is_object()) continue;
        for (const auto& [key, value] : stage.params.items()) {
            if (!value.is_string()) continue;
            const fs::path named(value.get<std::string>());
            std::error_code ec;
            if (named.is_absolute() && fs::is_regular_file(named, ec))
                read.push_back(named.string());
        }
    }
    json write = json::array({job.settings.work_dir.string()});
    for (const auto& p : extra_writes) write.push_back(p.string());
    return {{"task", task},
            {"input", job.input.string()},
            {"settings", settings_to_json(job.settings)},
            {"log_level", job.log_level},
            {"allow", {{"read", read}, {"write", write}, {"address_space", space}}}};
}

Launch launch_for(const JobSpec& job, double periods) {
    Launch l;
    l.exe = job.exe;
    l.zygote = job.zygote;
    l.memory_mb = job.settings.limits.worker_memory_mb;
    l.timeout_seconds = job.settings.limits.worker_seconds_per_chunk * std::max(1.0, periods);
    return l;
}

Result<TaskFile> task_file(const json& r) {
    TaskFile f;
    if (r.contains("file")) {
        f.file = r["file"].get<std::string>();
        f.checksum = r.at("checksum").get<std::string>();
        f.bytes = r.at("bytes").get<int64_t>();
    }
    f.outcome = r.value("outcome", json::object());
    return f;
}

// Any mistake in a worker's answer is the worker's fault, not ours.
template <class F>
auto parsed(F&& f) -> decltype(f()) {
    try {
        return f();
    } catch (const json::exception& e) {
        return make_error(Errc::internal, std::string("worker broke the protocol: ") + e.what());
    }
}

}  // namespace

bool is_worker_failure(const Error& e) {
    // Every failure the supervisor reports itself starts so (supervisor.cpp).
    return e.code != Errc::cancelled && e.message.rfind("worker ", 0) == 0;
}

Result<PlanSummary> run_prepare(const JobSpec& job, std::stop_token stop) {
    const double periods = std::ceil(static_cast<double>(input_size(job)) / kPrepareBytesPerPeriod);
    RR_ASSIGN(json r, run_in_worker(request(job, "prepare"), launch_for(job, periods), {}, stop));
    return parsed([&]() -> Result<PlanSummary> {
        PlanSummary s;
        s.checksum = r.at("checksum").get<std::string>();
        s.frames = r.at("frames").get<int64_t>();
        s.output_frames = r.at("output_frames").get<int64_t>();
        for (const auto& c : r.at("chunks")) {
            s.chunks.push_back({c.at("index").get<int>(), c.at("first_frame").get<int64_t>(),
                                c.at("frames").get<int64_t>(), c.at("start_time").get<double>(),
                                c.at("end_time").get<double>()});
        }
        s.audio = r.at("audio").get<bool>();
        s.encoder = r.at("encoder").get<std::string>();
        s.log = r.value("log", std::string());
        s.interlace = r.value("interlace", nlohmann::json());
        return s;
    });
}

Result<json> run_dry_run(const JobSpec& job, std::stop_token stop) {
    JobSpec reader = job;
    reader.settings.work_dir.clear();  // a plan writes nothing: no folder to write in
    const double periods = std::ceil(static_cast<double>(input_size(job)) / kPrepareBytesPerPeriod);
    RR_ASSIGN(json r,
              run_in_worker(request(reader, "dry_run"), launch_for(reader, periods), {}, stop));
    if (!r.is_object()) return make_error(Errc::internal, "worker broke the protocol: no plan");
    return r;
}

Result<TaskFile> run_chunk(const JobSpec& job, int chunk, pipeline::Progress* progress,
                           std::stop_token stop, const fs::path& file) {
    json req = request(job, "chunk");
    req["chunk"] = chunk;
    if (!file.empty()) req["file"] = file.string();
    auto on_message = [progress](const json& m) {
        if (progress && m.contains("progress") && m["progress"].is_number_integer())
            progress->add_frames(m["progress"].get<int64_t>());
    };
    RR_ASSIGN(json r, run_in_worker(req, launch_for(job, 1), on_message, stop));
    auto f = parsed([&] { return task_file(r); });
    if (f && progress) progress->chunk_done();
    return f;
}

Result<TaskFile> run_audio(const JobSpec& job, int chunks, std::stop_token stop,
                           const fs::path& file) {
    json req = request(job, "audio");
    if (!file.empty()) req["file"] = file.string();
    RR_ASSIGN(json r, run_in_worker(req, launch_for(job, chunks), {}, stop));
    return parsed([&] { return task_file(r); });
}

Result<PublishResult> run_publish(const JobSpec& job, const PublishSpec& spec,
                                  std::stop_token stop) {
    const fs::path out_dir =
        spec.output.parent_path().empty() ? fs::path(".") : spec.output.parent_path();
    json req = request(job, "publish", {out_dir});
    req["output"] = spec.output.string();
    req["profile_name"] = spec.profile_name;
    req["chunks"] = spec.chunks;
    req["audio"] = spec.audio;
    req["audio_written"] = spec.audio_written;
    req["timings"] = spec.timings;
    req["retried"] = spec.retried;
    req["elapsed"] = spec.elapsed;
    req["frame_pair"] = spec.frame_pair;
    if (!spec.chunk_files.empty()) {
        req["chunk_files"] = json::array();
        for (const auto& f : spec.chunk_files) req["chunk_files"].push_back(f.string());
    }
    if (spec.audio_file) req["audio_file"] = spec.audio_file->string();
    req["stage_only"] = spec.stage_only;
    auto answer =
        run_in_worker(req, launch_for(job, static_cast<double>(spec.chunks.size())), {}, stop);
    if (!answer) {
        // A join worker that was killed could not remove what it had staged beside the output.
        pipeline::remove_staged_files(spec.output);
        return answer.error();
    }
    const json& r = *answer;
    return parsed([&]() -> Result<PublishResult> {
        PublishResult out{r.at("sidecar"), r.at("sidecar_path").get<std::string>(), {}, {}, {}};
        if (!spec.stage_only) return out;
        // The daemon renames and links these: they must be what a publish stages, nothing else.
        out.staged_output = r.at("staged_output").get<std::string>();
        out.staged_sidecar = r.at("staged_sidecar").get<std::string>();
        const fs::path sidecar = pipeline::sidecar_path_for(spec.output);
        bool ours = out.sidecar_path == sidecar &&
                    is_temp_sibling_of(out.staged_output, spec.output) &&
                    is_temp_sibling_of(out.staged_sidecar, sidecar);
        std::string named = out.staged_output.string() + ", " + out.staged_sidecar.string();
        const auto allowed = pipeline::accompanying_paths(spec.output);
        for (const auto& e : r.value("staged_extras", json::array())) {
            StagedPath p{e.at("final").get<std::string>(), e.at("temp").get<std::string>()};
            ours = ours &&
                   std::find(allowed.begin(), allowed.end(), p.final_path) != allowed.end() &&
                   is_temp_sibling_of(p.temp, p.final_path);
            named += ", " + p.temp.string();
            out.staged_extras.push_back(std::move(p));
        }
        if (!ours) {
            pipeline::remove_staged_files(spec.output);
            return make_error(Errc::internal,
                              "publish worker named files it may not stage: " + named);
        }
        return out;
    });
}

}  // namespace rr::worker
