#include "stages/audio.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "stages/params.h"
#include "stages/rounding.h"

namespace rr::stages {
namespace {

struct AudioSettings {
    double loudness = -16.0;  // LUFS
    double true_peak = -1.5;  // dBTP
    std::string denoise = "off";
    double highpass = 0;  // Hz; 0 = off
    bool compress = false;
};

// loudnorm treats these measured values as "not given"; real measurements never need them.
constexpr double kLoudnormUnsetLra = 0.0;
constexpr double kLoudnormUnsetThresh = -70.0;

std::string num(double v) {
    return fmt::format("{:.2f}", v);
}

class Pass final : public AudioPass {
  public:
    explicit Pass(const AudioSettings& s) : s_(s) {}

    Result<std::string> prepare(const Measure& measure) override {
        RR_ASSIGN(before_, measure(""));
        std::string chain;
        auto add = [&](const std::string& f) { chain += (chain.empty() ? "" : ",") + f; };
        if (s_.highpass > 0) add("highpass=f=" + num(s_.highpass));
        if (s_.denoise != "off") {
            // afftdn needs to know roughly where the noise sits: the level of the quietest
            // tenth of the track (the pauses) plus a margin, within afftdn's range.
            noise_floor_ = std::clamp(std::round(before_.quiet + 6.0), -80.0, -20.0);
            const int nr = s_.denoise == "low" ? 6 : s_.denoise == "medium" ? 12 : 20;
            add("afftdn=nr=" + std::to_string(nr) + ":nf=" + num(noise_floor_) + ":tn=1");
        }
        media::Loudness measured = before_;
        if (!chain.empty()) {
            RR_ASSIGN(measured, measure(chain));
        }
        if (s_.compress) {
            // 3:1 above a level 4 dB over the programme's loudness: tames peaks and loud
            // passages without pumping the rest.
            threshold_ = std::clamp(std::round(measured.integrated + 4.0), -60.0, -1.0);
            add("acompressor=threshold=" + num(threshold_) +
                "dB:ratio=3:attack=10:release=200:knee=4:makeup=1");
            RR_ASSIGN(measured, measure(chain));
        }
        measured_ = measured;
        if (measured.integrated <= -70.0 || measured.seconds < 0.4) {
            mode_ = "none";  // silence (or too short to gate): no gain would make sense
            filter_ = chain;
            return filter_;
        }
        // Two-pass loudnorm. It runs linearly (one gain for the whole track) when that gain
        // keeps the true peak under the limit and the range fits; otherwise it falls back to
        // its dynamic mode with a true-peak limiter. The condition below is loudnorm's own,
        // evaluated on the very values it is given, so the recorded mode is the mode that ran.
        const double lra = std::max(measured.lra, 0.01);  // a steady tone measures LRA 0
        const double thresh =
            measured.threshold == kLoudnormUnsetThresh ? -70.01 : measured.threshold;
        gain_ = s_.loudness - measured.integrated;
        const bool linear = measured.true_peak + gain_ <= s_.true_peak && lra != kLoudnormUnsetLra;
        mode_ = linear ? "linear" : "dynamic";
        const double target_lra = linear ? 50.0 : std::clamp(lra, 7.0, 20.0);
        add("loudnorm=I=" + num(s_.loudness) + ":TP=" + num(s_.true_peak) +
            ":LRA=" + num(target_lra) + ":measured_I=" + num(measured.integrated) +
            ":measured_TP=" + num(std::clamp(measured.true_peak, -99.0, 98.0)) +
            ":measured_LRA=" + num(lra) + ":measured_thresh=" + num(thresh) + ":linear=true");
        filter_ = chain;
        return filter_;
    }

    Result<nlohmann::json> finish(const media::Loudness& output) override {
        nlohmann::json r = {
            {"before", before_.to_json()},
            {"after", output.to_json()},
            {"target", {{"integrated_lufs", s_.loudness}, {"true_peak_dbtp", s_.true_peak}}},
            {"normalization", mode_},
            {"filter", filter_}};
        if (mode_ == "linear") r["gain_db"] = round_to(gain_, 2);
        if (mode_ != "none") r["measured_before_normalization"] = measured_.to_json();
        if (s_.highpass > 0) r["highpass_hz"] = s_.highpass;
        if (s_.denoise != "off")
            r["denoise"] = {
                {"strength", s_.denoise}, {"method", "afftdn"}, {"noise_floor_db", noise_floor_}};
        if (s_.compress) r["compress"] = {{"threshold_db", threshold_}, {"ratio", 3}};
        return r;
    }

  private:
    const AudioSettings& s_;
    media::Loudness before_, measured_;
    std::string mode_, filter_;
    double gain_ = 0, noise_floor_ = 0, threshold_ = 0;
};

class Audio final : public Stage {
  public:
    Audio(AudioSettings s, nlohmann::json params) : s_(std::move(s)), params_(std::move(params)) {}

    std::string name() const override { return "audio"; }
    nlohmann::json params() const override { return params_; }
    Result<FrameFormat> configure(const FrameFormat& input) override { return input; }
    std::unique_ptr<AudioPass> audio_pass() const override { return std::make_unique<Pass>(s_); }

    Result<std::unique_ptr<StageInstance>> open(const ChunkContext&) const override {
        return std::unique_ptr<StageInstance>(std::make_unique<Untouched>());
    }

  private:
    // The audio stage leaves every video frame as it is.
    class Untouched final : public StageInstance {
      public:
        Status process(av::FramePtr in, std::vector<av::FramePtr>& out) override {
            out.push_back(std::move(in));
            return {};
        }
    };

    AudioSettings s_;
    nlohmann::json params_;
};

}  // namespace

Result<std::unique_ptr<Stage>> make_audio(const StageSpec& spec) {
    Params p(spec);
    AudioSettings s;
    s.loudness = p.number("loudness", -16.0, -70.0, -5.0);
    s.true_peak = p.number("true_peak", -1.5, -9.0, 0.0);
    s.denoise = p.choice("denoise", "off", {"off", "low", "medium", "high"});
    s.highpass = p.number("highpass", 0.0, 0.0, 2000.0);
    s.compress = p.choice("compress", "off", {"on", "off"}) == "on";
    RR_TRY(p.finish());
    return std::unique_ptr<Stage>(std::make_unique<Audio>(std::move(s), p.effective()));
}

}  // namespace rr::stages
