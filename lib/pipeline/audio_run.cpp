// run_audio: the job's single audio pass, with the audio stages' measurements around it.

#include "core/clock.h"
#include "media/loudness_meter.h"
#include "pipeline/job.h"
#include "pipeline/no_audio.h"

namespace rr::pipeline {
namespace {

std::string join_filters(const std::string& a, const std::string& b) {
    if (a.empty()) return b;
    if (b.empty()) return a;
    return a + "," + b;
}

// The audio stages measure one stream up to three times each, each chain depending on the
// last measurement; holding up to this much decoded audio (about 11 minutes of 48 kHz stereo
// float) lets those measurements share one decode.
constexpr size_t kKeepDecodedBytes = size_t{256} << 20;

struct StagePass {
    size_t stage = 0;
    size_t stream = 0;  // position in the plan (= stream index in the intermediate)
    std::unique_ptr<stages::AudioPass> pass;
};

}  // namespace

std::vector<nlohmann::json> no_audio_results(const PreparedJob& job) {
    std::vector<nlohmann::json> results(job.stages.size());
    for (size_t k = 0; k < job.stages.size(); ++k)
        if (job.stages[k]->audio_pass())
            results[k] = {{"applied", false}, {"reason", "the input has no audio"}};
    return results;
}

Result<AudioOutcome> run_audio(const PreparedJob& job, const std::filesystem::path& out,
                               std::stop_token stop) {
    const auto t0 = SteadyClock::now();
    AudioOutcome outcome;
    outcome.plan = job.audio;
    outcome.stage_results.resize(job.stages.size());
    std::vector<StagePass> passes;
    for (size_t s = 0; s < outcome.plan.streams.size(); ++s) {
        auto& stream = outcome.plan.streams[s];
        // Filters already planned (a trim with the video) come first: the stages measure and
        // treat only what the output keeps.
        std::string chain = stream.filter;
        media::LoudnessMeter meter(job.file, stream.input_index, kKeepDecodedBytes);
        for (size_t k = 0; k < job.stages.size(); ++k) {
            auto pass = job.stages[k]->audio_pass();
            if (!pass) continue;
            // Each stage measures what the audio stages before it made of the stream.
            const std::string before = chain;
            auto measure = [&, before](const std::string& filter) {
                return meter.measure(join_filters(before, filter), stop);
            };
            auto filter = pass->prepare(measure);
            if (!filter) return filter.error().context("stage '" + job.stages[k]->name() + "'");
            chain = join_filters(chain, *filter);
            passes.push_back({k, s, std::move(pass)});
        }
        if (!chain.empty()) stream.filter = chain;
    }
    if (outcome.plan.empty()) {
        outcome.stage_results = no_audio_results(job);
        return outcome;
    }
    RR_TRY(media::write_audio(job.file, outcome.plan, out, stop));
    outcome.written = true;
    outcome.seconds = seconds_since(t0);
    if (passes.empty()) return outcome;

    // What the listener gets: the encoded intermediate, measured the same way.
    RR_ASSIGN(media::MappedFile written, media::MappedFile::open(out));
    std::vector<std::optional<media::Loudness>> measured(outcome.plan.streams.size());
    for (auto& p : passes) {
        auto& m = measured[p.stream];
        if (!m) {
            RR_ASSIGN(m, media::measure_loudness(written, static_cast<int>(p.stream), "", stop));
        }
        auto result = p.pass->finish(*m);
        if (!result) return result.error().context("stage '" + job.stages[p.stage]->name() + "'");
        nlohmann::json& slot = outcome.stage_results[p.stage];
        if (outcome.plan.streams.size() == 1) {
            slot = std::move(result).value();
        } else {
            if (slot.is_null()) slot = {{"streams", nlohmann::json::array()}};
            (*result)["input_stream"] = outcome.plan.streams[p.stream].input_index;
            slot["streams"].push_back(std::move(result).value());
        }
    }
    outcome.seconds = seconds_since(t0);
    return outcome;
}

}  // namespace rr::pipeline
