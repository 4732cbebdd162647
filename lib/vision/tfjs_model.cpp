#include "vision/tfjs_model.h"

#include <cstring>
#include <fstream>
#include <sstream>

namespace rr::vision {
namespace {

Result<std::string> read_all(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return make_error(Errc::not_found, "cannot read model file " + path.string());
    std::ostringstream buf;
    buf << in.rdbuf();
    return buf.str();
}

Error bad(const TfjsModel& m, const std::string& why) {
    return make_error(Errc::invalid_argument, m.source.string() + ": " + why);
}

// Keras 2 topologies list inbound nodes as [[[name, node, tensor, kwargs], ...]].
Result<std::vector<std::string>> inbound_names(const TfjsModel& m, const nlohmann::json& layer) {
    std::vector<std::string> names;
    const auto& nodes = layer.value("inbound_nodes", nlohmann::json::array());
    if (nodes.empty()) return names;
    if (nodes.size() != 1 || !nodes[0].is_array()) {
        return bad(m, "layer '" + layer.value("name", "?") + "' is shared or uses an unknown " +
                          "inbound_nodes format");
    }
    for (const auto& ref : nodes[0]) {
        if (!ref.is_array() || ref.empty() || !ref[0].is_string())
            return bad(m, "layer '" + layer.value("name", "?") + "' has a malformed input");
        names.push_back(ref[0].get<std::string>());
    }
    return names;
}

size_t element_count(const std::vector<int>& shape) {
    size_t n = 1;
    for (int d : shape) n *= static_cast<size_t>(d);
    return n;
}

float half_to_float(uint16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits = 0;
    if (exp == 0) {
        if (mant != 0) {  // subnormal: normalise
            exp = 127 - 15 + 1;
            while (!(mant & 0x400)) {
                mant <<= 1;
                --exp;
            }
            bits = sign | (exp << 23) | ((mant & 0x3ff) << 13);
        } else {
            bits = sign;
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000 | (mant << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    }
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

// Decodes one weight from `bytes` at `offset`, advancing it.
Result<TfjsTensor> decode_weight(const TfjsModel& m, const nlohmann::json& spec,
                                 const std::string& bytes, size_t& offset) {
    TfjsTensor t;
    const std::string name = spec.value("name", "?");
    for (const auto& d : spec.at("shape")) t.shape.push_back(d.get<int>());
    const size_t n = element_count(t.shape);
    t.data.resize(n);
    const std::string dtype = spec.value("dtype", "float32");
    auto need = [&](size_t size) -> Status {
        if (offset + size > bytes.size())
            return bad(m, "weight shards end before weight '" + name + "'");
        return {};
    };
    if (spec.contains("quantization")) {
        const auto& q = spec["quantization"];
        const std::string qtype = q.value("dtype", "");
        if (qtype == "uint8" || qtype == "uint16") {
            // Affine quantization: value = min + scale * q.
            const double min = q.at("min").get<double>(), scale = q.at("scale").get<double>();
            const size_t width = qtype == "uint8" ? 1 : 2;
            RR_TRY(need(n * width));
            for (size_t i = 0; i < n; ++i) {
                uint32_t v = 0;
                if (width == 1) {
                    v = static_cast<uint8_t>(bytes[offset + i]);
                } else {
                    uint16_t w;
                    std::memcpy(&w, bytes.data() + offset + 2 * i, 2);
                    v = w;
                }
                t.data[i] = static_cast<float>(min + scale * v);
            }
            offset += n * width;
        } else if (qtype == "float16") {
            RR_TRY(need(n * 2));
            for (size_t i = 0; i < n; ++i) {
                uint16_t w;
                std::memcpy(&w, bytes.data() + offset + 2 * i, 2);
                t.data[i] = half_to_float(w);
            }
            offset += n * 2;
        } else {
            return bad(m, "weight '" + name + "' uses unsupported quantization '" + qtype + "'");
        }
    } else if (dtype == "float32") {
        RR_TRY(need(n * 4));
        std::memcpy(t.data.data(), bytes.data() + offset, n * 4);
        offset += n * 4;
    } else {
        return bad(m, "weight '" + name + "' has unsupported dtype '" + dtype + "'");
    }
    return t;
}

Status read_weights(TfjsModel& m, const nlohmann::json& manifest) {
    const auto dir = m.source.parent_path();
    for (const auto& group : manifest) {
        std::string bytes;
        for (const auto& shard : group.at("paths")) {
            RR_ASSIGN(std::string part, read_all(dir / shard.get<std::string>()));
            bytes += part;
        }
        size_t offset = 0;
        for (const auto& spec : group.at("weights")) {
            RR_ASSIGN(TfjsTensor t, decode_weight(m, spec, bytes, offset));
            m.weights[spec.at("name").get<std::string>()] = std::move(t);
        }
        if (offset != bytes.size())
            return bad(m, "weight shards hold " + std::to_string(bytes.size() - offset) +
                              " bytes more than the manifest describes");
    }
    return {};
}

}  // namespace

const TfjsTensor* TfjsModel::weight(const std::string& layer, const std::string& what) const {
    const std::string key = layer + "/" + what;
    if (auto it = weights.find(key); it != weights.end()) return &it->second;
    // Some converters prefix weights with a scope ("model/F_0/kernel").
    for (const auto& [name, tensor] : weights) {
        if (name.size() > key.size() &&
            name.compare(name.size() - key.size(), key.size(), key) == 0 &&
            name[name.size() - key.size() - 1] == '/')
            return &tensor;
    }
    return nullptr;
}

size_t TfjsModel::parameter_count() const {
    size_t n = 0;
    for (const auto& [name, t] : weights) n += t.data.size();
    return n;
}

Result<TfjsModel> load_tfjs_model(const std::filesystem::path& model_json) {
    TfjsModel m;
    m.source = model_json;
    RR_ASSIGN(std::string text, read_all(model_json));
    try {
        const auto doc = nlohmann::json::parse(text);
        if (doc.value("format", "") != "layers-model")
            return bad(
                m, "not a TensorFlow.js layers model (format '" + doc.value("format", "") + "')");
        const auto& topo = doc.at("modelTopology");
        const auto& cfg = topo.contains("model_config") ? topo["model_config"] : topo;
        const auto& graph = cfg.at("config");
        for (const auto& l : graph.at("layers")) {
            TfjsLayer layer;
            layer.name = l.at("name").get<std::string>();
            layer.kind = l.at("class_name").get<std::string>();
            layer.config = l.value("config", nlohmann::json::object());
            RR_ASSIGN(layer.inputs, inbound_names(m, l));
            m.layers.push_back(std::move(layer));
        }
        const auto& ins = graph.at("input_layers");
        const auto& outs = graph.at("output_layers");
        if (ins.size() != 1 || outs.size() != 1)
            return bad(m, "only models with one input and one output are supported");
        m.input = ins[0][0].get<std::string>();
        m.output = outs[0][0].get<std::string>();
        RR_TRY(read_weights(m, doc.at("weightsManifest")));
    } catch (const nlohmann::json::exception& e) {
        return bad(m, std::string("malformed model.json: ") + e.what());
    }
    return m;
}

namespace {

// Keras HWIO kernel -> OpenCV OIHW blob.
cv::Mat oihw_kernel(const TfjsTensor& k) {
    const int kh = k.shape[0], kw = k.shape[1], in = k.shape[2], out = k.shape[3];
    const int sizes[] = {out, in, kh, kw};
    cv::Mat blob(4, sizes, CV_32F);
    auto* dst = blob.ptr<float>();
    for (int y = 0; y < kh; ++y)
        for (int x = 0; x < kw; ++x)
            for (int i = 0; i < in; ++i)
                for (int o = 0; o < out; ++o) {
                    const size_t src = ((static_cast<size_t>(y) * kw + x) * in + i) * out + o;
                    const size_t idx = ((static_cast<size_t>(o) * in + i) * kh + y) * kw + x;
                    dst[idx] = k.data[src];
                }
    return blob;
}

class NetBuilder {
  public:
    explicit NetBuilder(const TfjsModel& m) : m_(m) {}

    Result<cv::dnn::Net> build() {
        net_.setInputsNames({m_.input});
        ids_[m_.input] = 0;  // layer 0 is the network's input
        for (const auto& layer : m_.layers) {
            if (layer.kind == "InputLayer") continue;
            RR_TRY(add(layer));
        }
        if (!ids_.count(m_.output)) return bad(m_, "output layer '" + m_.output + "' not built");
        return net_;
    }

  private:
    Result<int> source(const TfjsLayer& layer, size_t i) {
        if (i >= layer.inputs.size()) return bad(m_, "layer '" + layer.name + "' has no input");
        auto it = ids_.find(layer.inputs[i]);
        if (it == ids_.end())
            return bad(m_, "layer '" + layer.name + "' reads '" + layer.inputs[i] +
                               "' before it is defined");
        return it->second;
    }

    Result<int> add_layer(const TfjsLayer& layer, const std::string& name, const std::string& type,
                          cv::dnn::LayerParams& lp, size_t inputs) {
        lp.name = name;
        lp.type = type;
        const int id = net_.addLayer(name, type, lp);
        if (id < 0) return bad(m_, "OpenCV refused layer '" + name + "'");
        for (size_t i = 0; i < inputs; ++i) {
            RR_ASSIGN(int from, source(layer, i));
            net_.connect(from, 0, id, static_cast<int>(i));
        }
        return id;
    }

    Status activation(const TfjsLayer& layer, int from, const std::string& fn) {
        if (fn == "linear") {
            ids_[layer.name] = from;
            return {};
        }
        if (fn != "relu")
            return bad(m_, "layer '" + layer.name + "': activation '" + fn + "' is not supported");
        cv::dnn::LayerParams lp;
        const std::string name = layer.kind == "Activation" ? layer.name : layer.name + "/relu";
        lp.name = name;
        lp.type = "ReLU";
        const int id = net_.addLayer(name, "ReLU", lp);
        net_.connect(from, 0, id, 0);
        ids_[layer.name] = id;
        return {};
    }

    Status conv(const TfjsLayer& layer) {
        const auto& c = layer.config;
        if (c.value("data_format", "channels_last") != "channels_last")
            return bad(m_, "layer '" + layer.name + "': only channels_last is supported");
        if (c.value("groups", 1) != 1)
            return bad(m_, "layer '" + layer.name + "': grouped convolution is not supported");
        const TfjsTensor* kernel = m_.weight(layer.name, "kernel");
        if (!kernel || kernel->shape.size() != 4)
            return bad(m_, "layer '" + layer.name + "': kernel weights missing");
        const int kh = kernel->shape[0], kw = kernel->shape[1], out = kernel->shape[3];
        const auto strides = c.value("strides", std::vector<int>{1, 1});
        const auto dilation = c.value("dilation_rate", std::vector<int>{1, 1});
        const std::string padding = c.value("padding", "valid");
        int pad_h = 0, pad_w = 0;
        if (padding == "same") {
            // TensorFlow pads "same" asymmetrically unless the kernel is odd and unstrided.
            if (kh % 2 == 0 || kw % 2 == 0 || strides != std::vector<int>{1, 1})
                return bad(m_, "layer '" + layer.name +
                                   "': 'same' padding needs an odd kernel and stride 1");
            pad_h = dilation[0] * (kh - 1) / 2;
            pad_w = dilation[1] * (kw - 1) / 2;
        } else if (padding != "valid") {
            return bad(m_, "layer '" + layer.name + "': padding '" + padding + "' unsupported");
        }
        cv::dnn::LayerParams lp;
        lp.set("kernel_h", kh);
        lp.set("kernel_w", kw);
        lp.set("stride_h", strides[0]);
        lp.set("stride_w", strides[1]);
        lp.set("dilation_h", dilation[0]);
        lp.set("dilation_w", dilation[1]);
        lp.set("pad_h", pad_h);
        lp.set("pad_w", pad_w);
        lp.set("num_output", out);
        lp.set("group", 1);
        const bool use_bias = c.value("use_bias", true);
        lp.set("bias_term", use_bias);
        lp.blobs.push_back(oihw_kernel(*kernel));
        if (use_bias) {
            const TfjsTensor* bias = m_.weight(layer.name, "bias");
            if (!bias || bias->data.size() != static_cast<size_t>(out))
                return bad(m_, "layer '" + layer.name + "': bias weights missing");
            lp.blobs.push_back(
                cv::Mat(1, out, CV_32F, const_cast<float*>(bias->data.data())).clone());
        }
        RR_ASSIGN(int id, add_layer(layer, layer.name, "Convolution", lp, 1));
        return activation(layer, id, c.value("activation", "linear"));
    }

    Status add(const TfjsLayer& layer) {
        const auto& c = layer.config;
        if (layer.kind == "Conv2D") return conv(layer);
        if (layer.kind == "Activation" || layer.kind == "ReLU") {
            RR_ASSIGN(int from, source(layer, 0));
            return activation(layer, from,
                              layer.kind == "ReLU" ? "relu" : c.value("activation", "linear"));
        }
        cv::dnn::LayerParams lp;
        if (layer.kind == "Concatenate") {
            const int axis = c.value("axis", -1);
            if (axis != -1 && axis != 3)
                return bad(m_, "layer '" + layer.name + "': only channel concatenation works");
            lp.set("axis", 1);  // NHWC channels are NCHW axis 1
            RR_ASSIGN(ids_[layer.name],
                      add_layer(layer, layer.name, "Concat", lp, layer.inputs.size()));
            return {};
        }
        if (layer.kind == "Add") {
            lp.set("operation", "sum");
            RR_ASSIGN(ids_[layer.name],
                      add_layer(layer, layer.name, "Eltwise", lp, layer.inputs.size()));
            return {};
        }
        if (layer.kind == "UpSampling2D") {
            if (c.value("interpolation", "nearest") != "nearest")
                return bad(m_, "layer '" + layer.name + "': only nearest upsampling works");
            const auto size = c.value("size", std::vector<int>{2, 2});
            lp.set("interpolation", "nearest");
            lp.set("zoom_factor_y", size.at(0));
            lp.set("zoom_factor_x", size.at(1));
            RR_ASSIGN(ids_[layer.name], add_layer(layer, layer.name, "Resize", lp, 1));
            return {};
        }
        return bad(m_, "layer '" + layer.name + "' of kind " + layer.kind + " is not supported");
    }

    const TfjsModel& m_;
    cv::dnn::Net net_;
    std::map<std::string, int> ids_;
};

}  // namespace

Result<cv::dnn::Net> build_dnn(const TfjsModel& model) {
    try {
        return NetBuilder(model).build();
    } catch (const cv::Exception& e) {
        return bad(model, std::string("OpenCV could not build the network: ") + e.what());
    }
}

}  // namespace rr::vision
