#include "vision/tracker.h"

#include <algorithm>
#include <opencv2/imgproc.hpp>

namespace rr::vision {
namespace {

// Templates are matched at most this large (pixels on the longer side): enough detail to
// lock on, and cheap enough to run for every object in every frame.
constexpr float kPatchSide = 32.0f;

float shrink_for(const cv::Rect2f& box) {
    return std::min(1.0f, kPatchSide / std::max(1.0f, std::max(box.width, box.height)));
}

cv::Rect pixel_rect(const cv::Rect2f& r, const cv::Size& bounds) {
    cv::Rect px(cvRound(r.x), cvRound(r.y), cvRound(r.width), cvRound(r.height));
    return px & cv::Rect(0, 0, bounds.width, bounds.height);
}

}  // namespace

void Tracker::remember(Track& t, const cv::Mat& gray) {
    const cv::Rect px = pixel_rect(t.obj.box, gray.size());
    if (px.width < 4 || px.height < 4) {
        t.patch.release();
        return;
    }
    const float s = shrink_for(t.obj.box);
    cv::resize(gray(px), t.patch, cv::Size(), s, s, cv::INTER_AREA);
}

void Tracker::follow(const cv::Mat& gray) {
    std::erase_if(tracks_, [&](const Track& t) {
        return t.frames_since_detection >= options_.max_coast_frames;
    });
    for (auto& t : tracks_) {
        ++t.frames_since_detection;
        t.obj.detected = false;
        if (t.patch.empty()) continue;
        // Search half a box around the last position, at the template's scale.
        const cv::Rect2f& b = t.obj.box;
        const float pad = 0.5f * std::max(b.width, b.height);
        const cv::Rect area = pixel_rect(
            cv::Rect2f(b.x - pad, b.y - pad, b.width + 2 * pad, b.height + 2 * pad), gray.size());
        const float s = shrink_for(b);
        cv::Mat region, score;
        cv::resize(gray(area), region, cv::Size(), s, s, cv::INTER_AREA);
        if (region.cols < t.patch.cols || region.rows < t.patch.rows) continue;
        cv::matchTemplate(region, t.patch, score, cv::TM_CCOEFF_NORMED);
        double best = 0;
        cv::Point at;
        cv::minMaxLoc(score, nullptr, &best, nullptr, &at);
        if (best < options_.min_match_score) continue;
        t.obj.box.x = static_cast<float>(area.x) + static_cast<float>(at.x) / s;
        t.obj.box.y = static_cast<float>(area.y) + static_cast<float>(at.y) / s;
    }
}

void Tracker::update(const std::vector<Detection>& detections, const cv::Mat& gray) {
    struct Pair {
        float overlap;
        size_t track, det;
    };
    std::vector<Pair> pairs;
    for (size_t i = 0; i < tracks_.size(); ++i) {
        for (size_t j = 0; j < detections.size(); ++j) {
            if (tracks_[i].obj.label != detections[j].label) continue;
            const float o = iou(tracks_[i].obj.box, detections[j].box);
            if (o >= options_.match_iou) pairs.push_back({o, i, j});
        }
    }
    std::sort(pairs.begin(), pairs.end(),
              [](const Pair& a, const Pair& b) { return a.overlap > b.overlap; });
    std::vector<bool> track_used(tracks_.size(), false), det_used(detections.size(), false);
    for (const auto& p : pairs) {
        if (track_used[p.track] || det_used[p.det]) continue;
        track_used[p.track] = det_used[p.det] = true;
        Track& t = tracks_[p.track];
        t.obj.box = detections[p.det].box;
        t.obj.score = detections[p.det].score;
        t.obj.detected = true;
        t.frames_since_detection = 0;
        remember(t, gray);
    }
    for (size_t j = 0; j < detections.size(); ++j) {
        if (det_used[j]) continue;
        Track t;
        t.obj = {next_id_++, detections[j].label, detections[j].score, detections[j].box, true};
        remember(t, gray);
        tracks_.push_back(std::move(t));
    }
}

std::vector<TrackedObject> Tracker::objects() const {
    std::vector<TrackedObject> out;
    for (const auto& t : tracks_) out.push_back(t.obj);
    return out;
}

}  // namespace rr::vision
