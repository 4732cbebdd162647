#include "vision/face_detector.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

namespace rr::vision {
namespace {

constexpr int kFrontSize = 128;
constexpr int kBackSize = 256;
// Overlapping candidates are merged from this IoU on (keijiro's and MediaPipe's value).
constexpr float kNmsIou = 0.3f;

// The two anchor layers: cells per row and anchors per cell (MediaPipe's SSD options).
struct AnchorLayer {
    int cells;
    int anchors;
};
constexpr AnchorLayer kLayers[2] = {{16, 2}, {8, 6}};
const std::vector<std::string> kOutputs = {"Identity:0", "Identity_1:0", "Identity_2:0",
                                           "Identity_3:0"};

Result<cv::dnn::Net> load(const std::filesystem::path& file) {
    try {
        cv::dnn::Net net = cv::dnn::readNetFromONNX(file.string());
        net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
        net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
        const auto names = net.getUnconnectedOutLayersNames();
        for (const auto& want : kOutputs) {
            if (std::find(names.begin(), names.end(), want) == names.end())
                return make_error(
                    Errc::invalid_argument,
                    file.string() + ": not the expected BlazeFace model (no output " + want + ")");
        }
        return net;
    } catch (const cv::Exception& e) {
        return make_error(Errc::invalid_argument,
                          file.string() + ": OpenCV cannot load it: " + e.what());
    }
}

float sigmoid(float x) {
    return 1.0f / (1.0f + std::exp(-std::clamp(x, -100.0f, 100.0f)));
}

}  // namespace

Result<std::filesystem::path> blazeface_file(const std::filesystem::path& models_dir, bool back) {
    const auto file = models_dir / "blazeface" / "ONNX" /
                      (back ? "face_detection_back_256x256_barracuda.onnx"
                            : "face_detection_front_128x128_barracuda.onnx");
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) {
        return make_error(Errc::not_found, "model file " + file.string() + " is missing (" +
                                               kBlazeFacePackage + "; run scripts/fetch-models)");
    }
    return file;
}

Result<FaceDetector> FaceDetector::create(const std::filesystem::path& models_dir) {
    FaceDetector d;
    RR_ASSIGN(auto front, blazeface_file(models_dir, false));
    RR_ASSIGN(auto back, blazeface_file(models_dir, true));
    RR_ASSIGN(d.front_, load(front));
    RR_ASSIGN(d.back_, load(back));
    return d;
}

Status FaceDetector::run(cv::dnn::Net& net, int size, const cv::Mat& square, cv::Point2f offset,
                         float scale, float min_score, std::vector<Detection>& out) {
    cv::resize(square, resized_, cv::Size(size, size), 0, 0, cv::INTER_AREA);
    resized_.convertTo(input_, CV_32F, 2.0 / 255.0, -1.0);
    const int shape[] = {1, size, size, 3};  // the model permutes NHWC itself
    net.setInput(cv::Mat(4, shape, CV_32F, input_.data));
    net.forward(outputs_, kOutputs);
    for (int l = 0; l < 2; ++l) {
        const AnchorLayer layer = kLayers[l];
        const int count = layer.cells * layer.cells * layer.anchors;
        const cv::Mat& scores = outputs_[static_cast<size_t>(l)];
        const cv::Mat& boxes = outputs_[static_cast<size_t>(l) + 2];
        if (static_cast<int>(scores.total()) != count ||
            static_cast<int>(boxes.total()) != count * 16)
            return make_error(Errc::internal, "BlazeFace output has an unexpected shape");
        const auto* s = scores.ptr<float>();
        const auto* b = boxes.ptr<float>();
        for (int i = 0; i < count; ++i) {
            const float score = sigmoid(s[i]);
            if (score < min_score) continue;
            const int cell = i / layer.anchors;
            // Anchors sit at cell centres; regressors are offsets in input pixels.
            const float ax = (static_cast<float>(cell % layer.cells) + 0.5f) / layer.cells;
            const float ay = (static_cast<float>(cell / layer.cells) + 0.5f) / layer.cells;
            const float* r = b + static_cast<ptrdiff_t>(i) * 16;
            const float cx = ax + r[0] / static_cast<float>(size);
            const float cy = ay + r[1] / static_cast<float>(size);
            const float w = r[2] / static_cast<float>(size), h = r[3] / static_cast<float>(size);
            if (w <= 0 || h <= 0) continue;
            out.push_back({"face", score,
                           cv::Rect2f(offset.x + (cx - w / 2) * scale,
                                      offset.y + (cy - h / 2) * scale, w * scale, h * scale)});
        }
    }
    return {};
}

Result<std::vector<Detection>> FaceDetector::detect(const cv::Mat& rgb, float min_score) {
    std::vector<Detection> candidates;
    try {
        // The whole picture, letterboxed into a square (padding right and bottom).
        const int side = std::max(rgb.cols, rgb.rows);
        cv::Mat square;
        cv::copyMakeBorder(rgb, square, 0, side - rgb.rows, 0, side - rgb.cols, cv::BORDER_CONSTANT,
                           cv::Scalar::all(0));
        const auto whole = static_cast<float>(side);
        RR_TRY(run(front_, kFrontSize, square, {0, 0}, whole, min_score, candidates));
        // Small faces: the back model on squares of the short side along the long side
        // (faces shrink less than letterboxed), or on the whole picture when nearly square.
        const int shorter = std::min(rgb.cols, rgb.rows);
        const int longer = side;
        if (longer < shorter * 5 / 4) {
            RR_TRY(run(back_, kBackSize, square, {0, 0}, whole, min_score, candidates));
        } else {
            const int n = (longer + shorter - 1) / shorter;  // enough squares to cover, overlapping
            for (int k = 0; k < n; ++k) {
                const int at = n == 1 ? 0 : (longer - shorter) * k / (n - 1);
                const cv::Rect crop = rgb.cols >= rgb.rows ? cv::Rect(at, 0, shorter, shorter)
                                                           : cv::Rect(0, at, shorter, shorter);
                RR_TRY(run(back_, kBackSize, rgb(crop),
                           {static_cast<float>(crop.x), static_cast<float>(crop.y)},
                           static_cast<float>(shorter), min_score, candidates));
            }
        }
    } catch (const cv::Exception& e) {
        return make_error(Errc::internal, std::string("face detection failed: ") + e.what());
    }
    std::vector<Detection> faces = weighted_nms(std::move(candidates), kNmsIou);
    const cv::Rect2f frame(0, 0, static_cast<float>(rgb.cols), static_cast<float>(rgb.rows));
    std::vector<Detection> kept;
    for (auto& f : faces) {
        f.box &= frame;
        if (f.box.area() > 0) kept.push_back(std::move(f));
    }
    return kept;
}

}  // namespace rr::vision
