#include "stages/detect.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "core/atomic_file.h"
#include "media/frame_converter.h"
#include "stages/detect_result.h"
#include "stages/frame_views.h"
#include "stages/params.h"
#include "stages/privacy_mask.h"
#include "stages/rounding.h"
#include "vision/face_detector.h"
#include "vision/people_detector.h"
#include "vision/tracker.h"

namespace rr::stages {
namespace {

// Faces are looked for and followed in frames no larger than this (longer side): BlazeFace
// sees at most 256 pixels of it anyway.
constexpr int kAnalysisSide = 960;
// HOG looks for people in the luma scaled to this height: people down to 15% of the frame
// height fill its 128-pixel window. Its cost grows with the area.
constexpr int kPeopleHeight = 864;

struct DetectOptions {
    bool faces = true;
    bool people = false;
    int every = 1;
    float min_score = 0.75f;
    MaskAction action = MaskAction::none;
    std::filesystem::path models_dir;
};

class Detect final : public Stage {
  public:
    Detect(nlohmann::json params, DetectOptions options)
        : params_(std::move(params)), opt_(std::move(options)) {}

    std::string name() const override { return "detect"; }
    nlohmann::json params() const override { return params_; }
    // The previous chunk's last frames: the first is a detection frame, so the tracker
    // starts warm, and the shared frames tell which tracks continue across the boundary.
    // More than ten add decoding and nothing else.
    int preroll_frames() const override { return std::clamp(opt_.every, 2, 10); }

    Result<FrameFormat> configure(const FrameFormat& input) override {
        RR_ASSIGN(layout_, yuv_layout(input.pix_fmt, input.range));
        in_ = input;
        const double s =
            std::min(1.0, static_cast<double>(kAnalysisSide) / std::max(input.width, input.height));
        analysis_ = packed_format(
            input, std::max(2, static_cast<int>(std::lround(input.width * s / 2)) * 2),
            std::max(2, static_cast<int>(std::lround(input.height * s / 2)) * 2), AV_PIX_FMT_RGB24);
        return input;
    }

    Result<std::unique_ptr<StageInstance>> open(const ChunkContext& ctx) const override {
        auto inst = std::make_unique<Instance>(*this, ctx);
        RR_ASSIGN(inst->to_rgb, media::FrameConverter::create(in_, analysis_, false, SWS_AREA));
        if (opt_.faces) {
            RR_ASSIGN(inst->faces, vision::FaceDetector::create(opt_.models_dir));
        }
        if (opt_.people) inst->people.emplace();
        return std::unique_ptr<StageInstance>(std::move(inst));
    }

    nlohmann::json summarize(const std::vector<nlohmann::json>& chunks) const override {
        nlohmann::json r = merge_detections(chunks, in_.time_base);
        int64_t runs = 0;
        double ms = 0;
        for (const auto& c : chunks) {
            if (!c.is_object()) continue;
            runs += c.value("detector_runs", int64_t{0});
            ms += c.value("ms", 0.0);
        }
        const auto seen = r.value("frames_processed", int64_t{0});
        r["detector_runs"] = runs;
        r["ms_per_frame"] = seen ? round_to(ms / static_cast<double>(seen), 3) : 0.0;
        r["analysis_size"] = {analysis_.width, analysis_.height};
        return r;
    }

    Result<std::vector<TempFile>> stage_extras(const PublishContext& where,
                                               const nlohmann::json& result) const override {
        RR_ASSIGN(TempFile file,
                  write_temp_file(where.output.string() + std::string(kDetectionsSuffix),
                                  result.dump(1) + "\n"));
        std::vector<TempFile> out;
        out.push_back(std::move(file));
        return out;
    }

  private:
    struct Instance final : StageInstance {
        Instance(const Detect& stage, const ChunkContext& ctx)
            : s(stage),
              start_pts(ctx.start_pts),
              first_frame(ctx.first_frame),
              tracker(vision::TrackerOptions{0.3f, std::max(5, 2 * stage.opt_.every), 0.5f}) {}

        const Detect& s;
        int64_t start_pts, first_frame;
        std::optional<media::FrameConverter> to_rgb;
        std::optional<vision::FaceDetector> faces;
        std::optional<vision::PeopleDetector> people;
        vision::Tracker tracker;
        cv::Mat gray, luma_scratch;
        int64_t seen = 0, emitted = 0, runs = 0;
        double ms = 0;
        nlohmann::json frames = nlohmann::json::array(), overlap = nlohmann::json::array();
        nlohmann::json first = nullptr;

        Status process(av::FramePtr in, std::vector<av::FramePtr>& out) override {
            const auto t0 = std::chrono::steady_clock::now();
            const bool preroll = in->pts < start_pts;
            RR_ASSIGN(auto rgb_frame, to_rgb->convert(av::ref_frame(in.get())));
            const cv::Mat rgb = packed_view(*rgb_frame);
            cv::cvtColor(rgb, gray, cv::COLOR_RGB2GRAY);
            tracker.follow(gray);
            if (seen++ % s.opt_.every == 0) {
                std::vector<vision::Detection> found;
                if (faces) {
                    RR_ASSIGN(found, faces->detect(rgb, s.opt_.min_score));
                }
                if (people) {
                    const cv::Mat luma = luma8(*in, s.layout_, luma_scratch);
                    cv::Mat hog_in;
                    const double up = static_cast<double>(kPeopleHeight) / luma.rows;
                    cv::resize(luma, hog_in, cv::Size(), up, up,
                               up < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
                    // Back to the analysis frame the tracker works in.
                    const auto k = static_cast<float>(gray.rows) / static_cast<float>(hog_in.rows);
                    for (auto d : people->detect(hog_in, s.opt_.min_score)) {
                        d.box =
                            cv::Rect2f(d.box.x * k, d.box.y * k, d.box.width * k, d.box.height * k);
                        found.push_back(std::move(d));
                    }
                }
                tracker.update(found, gray);
                ++runs;
            }
            const float to_frame = static_cast<float>(in->width) / static_cast<float>(rgb.cols);
            nlohmann::json objects = nlohmann::json::array();
            std::vector<std::pair<cv::Rect2f, std::string>> boxes;
            for (const auto& o : tracker.objects()) {
                const cv::Rect2f b(o.box.x * to_frame, o.box.y * to_frame, o.box.width * to_frame,
                                   o.box.height * to_frame);
                boxes.emplace_back(b, o.label);
                objects.push_back({{"label", o.label},
                                   {"score", round_to(o.score, 3)},
                                   {"box",
                                    {std::lround(b.x), std::lround(b.y), std::lround(b.width),
                                     std::lround(b.height)}},
                                   {"track", o.track},
                                   {"tracked", !o.detected}});
            }
            if (preroll) {
                overlap.push_back({{"pts", in->pts}, {"objects", std::move(objects)}});
            } else {
                if (first.is_null()) first = {{"first_frame", first_frame}, {"first_pts", in->pts}};
                if (!objects.empty()) {
                    frames.push_back({{"frame", first_frame + emitted},
                                      {"pts", in->pts},
                                      {"objects", std::move(objects)}});
                }
                ++emitted;
                if (s.opt_.action != MaskAction::none && !boxes.empty()) {
                    RR_TRY(make_writable(in.get()));
                    for (const auto& [box, label] : boxes)
                        apply_mask(*in, s.layout_, s.opt_.action, box, label);
                }
            }
            out.push_back(std::move(in));
            ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                      .count();
            return {};
        }

        nlohmann::json chunk_result() const override {
            nlohmann::json r = {{"frames", frames},
                                {"overlap", overlap},
                                {"frames_seen", emitted},
                                {"detector_runs", runs},
                                {"ms", ms}};
            if (!first.is_null()) r.update(first);
            return r;
        }
    };

    nlohmann::json params_;
    DetectOptions opt_;
    YuvLayout layout_;
    FrameFormat in_, analysis_;
};

}  // namespace

Result<std::unique_ptr<Stage>> make_detect(const StageSpec& spec, const StageEnv& env) {
    Params p(spec);
    const auto targets = p.choices("targets", {"faces"}, {"faces", "people"});
    DetectOptions opt;
    opt.every = p.integer("every", 1, 1, 1000);
    opt.min_score = static_cast<float>(p.number("min_score", 0.75, 0.01, 1.0));
    const std::string action = p.choice("action", "none", {"none", "boxes", "blur", "pixelate"});
    RR_TRY(p.finish());
    if (targets.empty()) {
        return make_error(Errc::invalid_argument,
                          "stage 'detect': parameter 'targets' needs faces and/or people");
    }
    opt.faces = std::find(targets.begin(), targets.end(), "faces") != targets.end();
    opt.people = std::find(targets.begin(), targets.end(), "people") != targets.end();
    opt.action = action == "boxes"      ? MaskAction::boxes
                 : action == "blur"     ? MaskAction::blur
                 : action == "pixelate" ? MaskAction::pixelate
                                        : MaskAction::none;
    opt.models_dir = env.models_dir;
    if (opt.faces) {
        // Loading both networks now reports a missing or unreadable model before any work.
        auto probe = vision::FaceDetector::create(env.models_dir);
        if (!probe) {
            return make_error(Errc::invalid_argument, "stage 'detect': " + probe.error().message);
        }
    }
    return std::unique_ptr<Stage>(std::make_unique<Detect>(p.effective(), std::move(opt)));
}

}  // namespace rr::stages
