#pragma once
// Keeps stable identities for detections across frames. Detections are associated to tracks
// by IoU (greedy, best overlap first, same label only); between detections, and when a
// detection is missed, each track follows its own picture by template matching around its
// last position. A track that is not re-detected for a while is dropped.

#include <opencv2/core.hpp>
#include <vector>

#include "vision/detection.h"

namespace rr::vision {

struct TrackedObject {
    int track = 0;  // identity, unique within this tracker
    std::string label;
    float score = 0;  // of the last detection
    cv::Rect2f box;
    bool detected = false;  // found by the detector in this frame (not followed by the tracker)
};

struct TrackerOptions {
    float match_iou = 0.3f;        // detections overlapping a track this much continue it
    int max_coast_frames = 5;      // frames a track survives without being re-detected
    float min_match_score = 0.5f;  // template correlation needed to move a coasting box
};

class Tracker {
  public:
    explicit Tracker(TrackerOptions options = {}) : options_(options) {}

    // A new frame: every track follows its picture into `gray` (CV_8UC1, the same size as the
    // detector's boxes).
    void follow(const cv::Mat& gray);
    // The detector's findings for the frame last given to follow().
    void update(const std::vector<Detection>& detections, const cv::Mat& gray);
    [[nodiscard]] std::vector<TrackedObject> objects() const;

  private:
    struct Track {
        TrackedObject obj;
        cv::Mat patch;  // the object's picture at its last detection
        int frames_since_detection = 0;
    };
    void remember(Track& t, const cv::Mat& gray);

    TrackerOptions options_;
    std::vector<Track> tracks_;
    int next_id_ = 1;
};

}  // namespace rr::vision
