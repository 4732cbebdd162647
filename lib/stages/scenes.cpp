#include "stages/scenes.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/atomic_file.h"
#include "media/frame_converter.h"
#include "media/sound_span.h"
#include "stages/frame_views.h"
#include "stages/params.h"
#include "stages/rounding.h"
#include "vision/shot_detector.h"

namespace rr::stages {
namespace {

// Frames are compared as small HSV pictures: enough for shot changes, immune to noise.
constexpr int kCompareWidth = 128;
constexpr int kThumbnailWidth = 320;
// Audio quieter than this (RMS over 10 ms) counts as silence for auto_trim.
constexpr double kSilenceDb = -50.0;

media::FrameFormat bgr_format(const FrameFormat& in, int width) {
    const int height =
        std::max(2, static_cast<int>(std::lround(in.height * double(width) / in.width / 2)) * 2);
    return packed_format(in, width, height, AV_PIX_FMT_BGR24);
}

// Mean luma of a frame on a 0..255 full-range scale.
double mean_luma(const AVFrame& f, const YuvLayout& l) {
    const double y = cv::mean(plane(f, 0, l))[0] / (1 << (l.depth - 8));
    return l.full_range ? y : std::clamp((y - 16.0) * 255.0 / 219.0, 0.0, 255.0);
}

nlohmann::json picture(const cv::Mat& hsv) {
    std::vector<uint8_t> bytes(hsv.datastart, hsv.dataend);
    return {
        {"rows", hsv.rows}, {"cols", hsv.cols}, {"data", nlohmann::json::binary(std::move(bytes))}};
}

cv::Mat picture_of(const nlohmann::json& j) {
    const auto& bytes = j.at("data").get_binary();
    return cv::Mat(j.at("rows").get<int>(), j.at("cols").get<int>(), CV_8UC3,
                   const_cast<uint8_t*>(bytes.data()))
        .clone();
}

std::string thumbnail_name(size_t scene) {
    char name[32];
    snprintf(name, sizeof name, "scene-%03zu.jpg", scene);
    return name;
}

class Analyzer final : public StageAnalyzer {
  public:
    Analyzer(media::FrameConverter conv, YuvLayout layout)
        : conv_(std::move(conv)), layout_(layout) {}

    Status observe(const AVFrame& frame, int64_t index) override {
        if (first_ < 0) first_ = index;
        RR_ASSIGN(auto small, conv_.convert(av::ref_frame(&frame)));
        cv::Mat hsv = vision::hsv_of(packed_view(*small));
        content_.push_back(last_.empty() ? nlohmann::json(nullptr)
                                         : nlohmann::json(vision::content_difference(last_, hsv)));
        luma_.push_back(round_to(mean_luma(frame, layout_), 3));
        pts_.push_back(frame.pts);
        if (first_hsv_.empty()) first_hsv_ = hsv;
        last_ = hsv;
        return {};
    }

    nlohmann::json finish() override {
        if (first_ < 0) return nullptr;
        return {{"first_frame", first_},
                {"pts", pts_},
                {"content", content_},
                {"luma", luma_},
                {"first_picture", picture(first_hsv_)},
                {"last_picture", picture(last_)}};
    }

  private:
    media::FrameConverter conv_;
    YuvLayout layout_;
    int64_t first_ = -1;
    cv::Mat first_hsv_, last_;
    nlohmann::json content_ = nlohmann::json::array(), luma_ = nlohmann::json::array(),
                   pts_ = nlohmann::json::array();
};

class Scenes final : public Stage {
  public:
    Scenes(nlohmann::json params, double min_scene_seconds, bool auto_trim,
           const media::MappedFile* input)
        : params_(std::move(params)), auto_trim_(auto_trim), input_(input) {
        options_.min_scene_seconds = min_scene_seconds;
    }

    std::string name() const override { return "scenes"; }
    nlohmann::json params() const override { return params_; }

    Result<FrameFormat> configure(const FrameFormat& input) override {
        RR_ASSIGN(layout_, yuv_layout(input.pix_fmt, input.range));
        in_ = input;
        return input;
    }

    std::unique_ptr<StageAnalyzer> analyzer(const ChunkContext&) const override {
        auto conv =
            media::FrameConverter::create(in_, bgr_format(in_, kCompareWidth), false, SWS_AREA);
        if (!conv) return nullptr;
        return std::make_unique<Analyzer>(std::move(conv).value(), layout_);
    }

    Status finish_analysis(const std::vector<nlohmann::json>& chunks) override {
        std::vector<double> content, luma;
        cv::Mat previous;
        for (const auto& c : chunks) {
            if (!c.is_object()) continue;
            const auto& values = c.at("content");
            for (size_t i = 0; i < values.size(); ++i) {
                // A chunk's first frame is compared with the previous chunk's last one here.
                double v = values[i].is_null() ? 0.0 : values[i].get<double>();
                if (i == 0 && !previous.empty())
                    v = vision::content_difference(previous, picture_of(c.at("first_picture")));
                content.push_back(v);
            }
            for (const auto& l : c.at("luma")) luma.push_back(l.get<double>());
            for (const auto& p : c.at("pts")) pts_.push_back(p.get<int64_t>());
            previous = picture_of(c.at("last_picture"));
        }
        if (pts_.empty()) return make_error(Errc::media, "stage 'scenes': no frames to analyse");
        const double tb = av_q2d(in_.time_base);
        for (int64_t p : pts_) times_.push_back(static_cast<double>(p - pts_.front()) * tb);
        shots_ = vision::detect_shots(content, luma, times_, options_);
        const auto n = static_cast<int64_t>(pts_.size());
        kept_ = {0, n};
        if (auto_trim_) RR_TRY(decide_trim());
        // Scene boundaries within the kept frames; each scene's middle frame is its picture.
        bounds_ = {kept_.first};
        for (const auto& c : shots_.cuts) {
            if (c.frame > kept_.first && c.frame < kept_.end) bounds_.push_back(c.frame);
        }
        bounds_.push_back(kept_.end);
        for (size_t s = 0; s + 1 < bounds_.size(); ++s)
            thumbnails_[(bounds_[s] + bounds_[s + 1]) / 2] = s + 1;
        return {};
    }

    std::vector<int64_t> preferred_cuts() const override {
        std::vector<int64_t> cuts;
        for (const auto& c : shots_.cuts) cuts.push_back(c.frame);
        return cuts;
    }

    std::optional<FrameRange> kept_frames() const override {
        if (!auto_trim_ || (kept_.first == 0 && kept_.end == static_cast<int64_t>(pts_.size())))
            return std::nullopt;
        return kept_;
    }

    Result<std::unique_ptr<StageInstance>> open(const ChunkContext& ctx) const override {
        RR_ASSIGN(auto conv,
                  media::FrameConverter::create(
                      in_, bgr_format(in_, std::min(kThumbnailWidth, in_.width)), false, SWS_AREA));
        return std::unique_ptr<StageInstance>(
            std::make_unique<Instance>(*this, ctx, std::move(conv)));
    }

    nlohmann::json summarize(const std::vector<nlohmann::json>& chunks) const override {
        const double origin = kept_.first < static_cast<int64_t>(times_.size())
                                  ? times_[static_cast<size_t>(kept_.first)]
                                  : 0.0;
        auto out_time = [&](int64_t f) {
            if (f < static_cast<int64_t>(times_.size()))
                return round_to(times_[static_cast<size_t>(f)] - origin, 3);
            // The end of the last frame: one frame interval after it.
            const size_t n = times_.size();
            const double step = n >= 2 ? times_[n - 1] - times_[n - 2] : 0.0;
            return round_to(times_.back() + step - origin, 3);
        };
        nlohmann::json scenes = nlohmann::json::array();
        for (size_t s = 0; s + 1 < bounds_.size(); ++s) {
            scenes.push_back({{"index", s + 1},
                              {"start_frame", bounds_[s] - kept_.first},
                              {"end_frame", bounds_[s + 1] - kept_.first},
                              {"start_time", out_time(bounds_[s])},
                              {"end_time", out_time(bounds_[s + 1])}});
        }
        nlohmann::json cuts = nlohmann::json::array();
        for (const auto& c : shots_.cuts) {
            if (c.frame <= kept_.first || c.frame >= kept_.end) continue;
            cuts.push_back({{"frame", c.frame - kept_.first},
                            {"time", out_time(c.frame)},
                            {"kind", c.kind},
                            {"score", round_to(c.score, 3)}});
        }
        nlohmann::json thumbs = nlohmann::json::array();
        for (const auto& c : chunks) {
            if (!c.is_object()) continue;
            for (const auto& t : c.value("thumbnails", nlohmann::json::array()))
                thumbs.push_back(t);
        }
        std::sort(thumbs.begin(), thumbs.end());
        nlohmann::json r = {{"frames_analysed", pts_.size()},
                            {"scenes", std::move(scenes)},
                            {"cuts", std::move(cuts)},
                            {"thumbnails", std::move(thumbs)}};
        if (auto_trim_) {
            r["trim"] = {
                {"start_frame", kept_.first},
                {"end_frame", kept_.end},
                {"dropped_frames", static_cast<int64_t>(pts_.size()) - (kept_.end - kept_.first)},
                {"start_time", round_to(origin, 3)},
                {"end_time", round_to(out_time(kept_.end) + origin, 3)},
                {"audio", sound_}};
        }
        return r;
    }

    std::optional<std::vector<media::Chapter>> chapters(
        const nlohmann::json& result) const override {
        std::vector<media::Chapter> out;
        for (const auto& s : result.value("scenes", nlohmann::json::array())) {
            out.push_back({s.at("start_time").get<double>(), s.at("end_time").get<double>(),
                           "Scene " + std::to_string(s.at("index").get<int>())});
        }
        return out;
    }

    Result<std::vector<TempFile>> stage_extras(const PublishContext& where,
                                               const nlohmann::json& result) const override {
        TempFile staged(where.output.string() + std::string(kScenesSuffix));
        std::error_code ec;
        std::filesystem::create_directory(staged.path(), ec);
        if (ec) return make_error(Errc::io, staged.path().string() + ": " + ec.message());
        for (const auto& name : result.value("thumbnails", nlohmann::json::array())) {
            const auto from = where.work_dir / "scenes" / name.get<std::string>();
            std::filesystem::rename(from, staged.path() / from.filename(), ec);
            if (ec) return make_error(Errc::io, "thumbnail " + from.string() + " missing");
        }
        RR_TRY(fsync_folder(staged.path()));
        std::vector<TempFile> out;
        out.push_back(std::move(staged));
        return out;
    }

  private:
    // Black at either end is dropped where the audio is silent too: sound over black (an
    // intro under a title card) is kept.
    Status decide_trim() {
        kept_ = {shots_.first_lit, shots_.end_lit};
        if (kept_.end <= kept_.first) {  // all dark: keep everything rather than nothing
            kept_ = {0, static_cast<int64_t>(pts_.size())};
            return {};
        }
        if (!input_) return {};
        RR_ASSIGN(auto sound, media::find_sound(*input_, kSilenceDb));
        sound_ = {{"has_audio", sound.has_audio}, {"audible", sound.audible}};
        if (!sound.audible) return {};
        sound_["sound_start"] = round_to(sound.first, 3);
        sound_["sound_end"] = round_to(sound.last, 3);
        const double tb = av_q2d(in_.time_base);
        auto frame_at = [&](double seconds) {  // the frame showing at `seconds`
            const auto it = std::upper_bound(
                pts_.begin(), pts_.end(), seconds,
                [&](double s, int64_t p) { return s < static_cast<double>(p) * tb; });
            return std::max<int64_t>(0, (it - pts_.begin()) - 1);
        };
        kept_.first = std::min(kept_.first, frame_at(sound.first));
        kept_.end = std::max(kept_.end, frame_at(sound.last) + 1);
        kept_.end = std::min<int64_t>(kept_.end, static_cast<int64_t>(pts_.size()));
        return {};
    }

    struct Instance final : StageInstance {
        Instance(const Scenes& stage, const ChunkContext& ctx, media::FrameConverter conv)
            : s(stage), ctx(ctx), conv(std::move(conv)) {}
        const Scenes& s;
        ChunkContext ctx;
        media::FrameConverter conv;
        int64_t emitted = 0;
        nlohmann::json written = nlohmann::json::array();

        Status process(av::FramePtr in, std::vector<av::FramePtr>& out) override {
            if (in->pts >= ctx.start_pts) {
                const int64_t index = ctx.first_frame + emitted++;
                if (auto it = s.thumbnails_.find(index); it != s.thumbnails_.end())
                    RR_TRY(write_thumbnail(*in, it->second));
            }
            out.push_back(std::move(in));
            return {};
        }

        Status write_thumbnail(const AVFrame& frame, size_t scene) {
            RR_ASSIGN(auto small, conv.convert(av::ref_frame(&frame)));
            const auto dir = ctx.work_dir / "scenes";
            std::error_code ec;
            std::filesystem::create_directories(dir, ec);
            const std::string name = thumbnail_name(scene);
            try {
                if (!cv::imwrite((dir / name).string(), packed_view(*small),
                                 {cv::IMWRITE_JPEG_QUALITY, 90}))
                    return make_error(Errc::io, "cannot write " + (dir / name).string());
            } catch (const cv::Exception& e) {
                return make_error(Errc::io,
                                  "cannot write " + (dir / name).string() + ": " + e.what());
            }
            written.push_back(name);
            return {};
        }

        nlohmann::json chunk_result() const override { return {{"thumbnails", written}}; }
    };

    nlohmann::json params_;
    bool auto_trim_;
    const media::MappedFile* input_;
    vision::ShotOptions options_;
    YuvLayout layout_;
    FrameFormat in_;
    // Decided by finish_analysis, read-only while chunks run.
    std::vector<int64_t> pts_;
    std::vector<double> times_;
    vision::ShotAnalysis shots_;
    FrameRange kept_;
    std::vector<int64_t> bounds_;
    std::map<int64_t, size_t> thumbnails_;  // frame -> scene number
    nlohmann::json sound_ = nlohmann::json::object();
};

}  // namespace

Result<std::unique_ptr<Stage>> make_scenes(const StageSpec& spec, const StageEnv& env) {
    Params p(spec);
    const double min_scene = p.number("min_scene_seconds", 0.6, 0.0, 3600.0);
    const bool auto_trim = p.boolean("auto_trim", false);
    RR_TRY(p.finish());
    return std::unique_ptr<Stage>(
        std::make_unique<Scenes>(p.effective(), min_scene, auto_trim, env.input));
}

}  // namespace rr::stages
