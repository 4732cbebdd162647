#include "stages/motion.h"

#include <cmath>
#include <opencv2/calib3d.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/video/tracking.hpp>

#include "stages/frame_views.h"

namespace rr::stages {

Motion MotionEstimator::next(const AVFrame& frame, const YuvLayout& layout) {
    cv::Mat gray;
    const cv::Mat y = luma8(frame, layout, gray);
    scale_ = std::min(1.0, static_cast<double>(max_width_) / y.cols);
    cv::Mat small;
    if (scale_ < 1.0)
        cv::resize(y, small, cv::Size(), scale_, scale_, cv::INTER_AREA);
    else
        small = y.clone();

    Motion m;
    if (!prev_.empty() && prev_points_.size() >= 8) {
        std::vector<cv::Point2f> moved;
        std::vector<uchar> status;
        std::vector<float> err;
        cv::calcOpticalFlowPyrLK(prev_, small, prev_points_, moved, status, err, cv::Size(21, 21),
                                 3);
        // Centred coordinates keep rotation and shift apart (rotation about the centre).
        const cv::Point2f c(small.cols / 2.0f, small.rows / 2.0f);
        std::vector<cv::Point2f> a, b;
        for (size_t i = 0; i < status.size(); ++i) {
            if (!status[i]) continue;
            a.push_back(prev_points_[i] - c);
            b.push_back(moved[i] - c);
        }
        if (a.size() >= 8) {
            std::vector<uchar> inliers;
            cv::Mat t =
                cv::estimateAffinePartial2D(a, b, inliers, cv::RANSAC, 1.0, 2000, 0.995, 10);
            if (!t.empty() && cv::countNonZero(inliers) >= 6) {
                m.dx = t.at<double>(0, 2) / scale_;
                m.dy = t.at<double>(1, 2) / scale_;
                m.da = std::atan2(t.at<double>(1, 0), t.at<double>(0, 0));
                m.found = true;
            }
        }
    }
    prev_points_.clear();
    cv::goodFeaturesToTrack(small, prev_points_, 300, 0.01, std::max(4.0, small.cols / 80.0));
    prev_ = small;
    return m;
}

}  // namespace rr::stages
