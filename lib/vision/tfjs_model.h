#pragma once
// Reads a TensorFlow.js "layers-model" (model.json: the Keras topology and a weights manifest,
// plus binary weight shards) into memory, dequantizing uint8/uint16 weights, and turns it into
// an OpenCV DNN network. Only the layer kinds image-to-image CNNs use are supported (Conv2D,
// Activation relu, Concatenate, Add, UpSampling2D nearest); anything else is refused by name.

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/dnn.hpp>
#include <string>
#include <vector>

#include "core/result.h"

namespace rr::vision {

struct TfjsTensor {
    std::vector<int> shape;   // as stored: Keras conv kernels are [h, w, in, out]
    std::vector<float> data;  // row-major, dequantized
};

struct TfjsLayer {
    std::string name;
    std::string kind;  // Keras class_name
    nlohmann::json config;
    std::vector<std::string> inputs;  // names of the layers feeding this one, in order
};

struct TfjsModel {
    std::filesystem::path source;   // model.json it came from
    std::vector<TfjsLayer> layers;  // topological order, as Keras lists them
    std::string input;              // the InputLayer's name
    std::string output;             // the single output layer
    std::map<std::string, TfjsTensor> weights;

    // The weight named "<layer>/<what>" (e.g. "F_0/kernel"), or null.
    [[nodiscard]] const TfjsTensor* weight(const std::string& layer, const std::string& what) const;
    // Number of weights in the model (for reporting and memory estimates).
    [[nodiscard]] size_t parameter_count() const;
};

// Reads model.json and every shard it names (from the same directory). Errors name the file.
[[nodiscard]] Result<TfjsModel> load_tfjs_model(const std::filesystem::path& model_json);

// Builds an OpenCV network (NCHW float input, named after the model's input layer). Keras
// kernels [h, w, in, out] become OIHW blobs, NHWC concat axes become NCHW.
[[nodiscard]] Result<cv::dnn::Net> build_dnn(const TfjsModel& model);

}  // namespace rr::vision
