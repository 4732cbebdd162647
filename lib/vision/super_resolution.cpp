#include "vision/super_resolution.h"

#include <algorithm>

namespace rr::vision {
namespace {

std::vector<int> tile_starts(int size, int tile, int margin) {
    std::vector<int> starts;
    if (tile >= size) return {0};
    const int step = tile - 2 * margin;
    for (int x = 0;; x += step) {
        if (x + tile >= size) {
            starts.push_back(size - tile);
            break;
        }
        starts.push_back(x);
    }
    return starts;
}

}  // namespace

Result<SrModelInfo> sr_model_info(const std::filesystem::path& models_dir, const std::string& model,
                                  int scale) {
    SrModelInfo info;
    info.name = model;
    info.scale = scale;
    const std::string x = "x" + std::to_string(scale);
    if (model == "slim") {
        info.package = "@upscalerjs/esrgan-slim@1.0.0";
        info.file = models_dir / "esrgan-slim" / "models" / x / "model.json";
        info.bytes_per_tile_pixel = 2100;
    } else if (model == "medium") {
        info.package = "@upscalerjs/esrgan-medium@1.0.0";
        info.file = models_dir / "esrgan-medium" / "models" / x / "model.json";
        info.bytes_per_tile_pixel = 9000;
    } else if (model == "psnr-small") {
        if (scale != 2)
            return make_error(
                Errc::invalid_argument,
                "model 'psnr-small' upscales x2 only (got scale " + std::to_string(scale) + ")");
        info.package = "@upscalerjs/esrgan-legacy@1.0.0";
        info.file = models_dir / "esrgan-legacy" / "models" / "psnr-small" / "model.json";
        info.input_range = 1.0;  // trained on RGB scaled to 0..1, unlike the newer packages
        info.bytes_per_tile_pixel = 12800;
    } else {
        return make_error(Errc::invalid_argument, "unknown super-resolution model '" + model + "'");
    }
    std::error_code ec;
    if (!std::filesystem::exists(info.file, ec)) {
        return make_error(Errc::not_found, "model file " + info.file.string() + " is missing (" +
                                               info.package + "; run scripts/fetch-models)");
    }
    return info;
}

int tile_for_memory(const SrModelInfo& info, double budget_bytes) {
    int tile = 64;
    for (int t = 64; t <= 256; t += 32) {
        if (info.bytes_per_tile_pixel * t * t <= budget_bytes) tile = t;
    }
    return tile;
}

TileLayout plan_tiles(cv::Size picture, int tile, int margin) {
    // As few tiles as `tile` allows, then all of them as small as still covers the picture:
    // 960 pixels in tiles of at most 256 with 16 of context are 5 tiles of 218, not 5 of 256.
    auto side = [&](int size) {
        if (size <= tile || tile <= 2 * margin) return std::min(size, tile);
        const int inner = size - 2 * margin, step = tile - 2 * margin;
        const int count = (inner + step - 1) / step;
        return (inner + count - 1) / count + 2 * margin;
    };
    TileLayout l;
    l.tile = cv::Size(side(picture.width), side(picture.height));
    l.margin = margin;
    return l;
}

Result<SuperResolver> SuperResolver::create(const TfjsModel& model, const SrModelInfo& info,
                                            cv::Size picture, int tile, int margin) {
    SuperResolver sr;
    RR_ASSIGN(sr.net_, build_dnn(model));
    sr.net_.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    sr.net_.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    sr.info_ = info;
    sr.picture_ = picture;
    sr.layout_ = plan_tiles(picture, tile, margin);
    if (sr.layout_.tile.width < picture.width && sr.layout_.tile.width <= 2 * margin)
        return make_error(Errc::invalid_argument, "tile must be larger than twice the margin");
    if (sr.layout_.tile.height < picture.height && sr.layout_.tile.height <= 2 * margin)
        return make_error(Errc::invalid_argument, "tile must be larger than twice the margin");
    return sr;
}

Status SuperResolver::upscale(const cv::Mat& rgb, cv::Mat& out) {
    if (rgb.size() != picture_ || (rgb.type() != CV_8UC3 && rgb.type() != CV_16UC3))
        return make_error(Errc::internal, "super-resolution input has the wrong size or type");
    const int s = info_.scale;
    const double max_value = rgb.depth() == CV_8U ? 255.0 : 65535.0;
    out.create(rgb.rows * s, rgb.cols * s, rgb.type());
    const cv::Size t = layout_.tile;
    const int m = layout_.margin;
    cv::Mat tile_f, blob;
    std::vector<cv::Mat> results;
    try {
        for (int y0 : tile_starts(rgb.rows, t.height, m)) {
            for (int x0 : tile_starts(rgb.cols, t.width, m)) {
                rgb(cv::Rect(x0, y0, t.width, t.height))
                    .convertTo(tile_f, CV_32F, info_.input_range / max_value);
                cv::dnn::blobFromImage(tile_f, blob);  // HWC -> NCHW, no scaling or swap
                net_.setInput(blob);
                cv::Mat sr = net_.forward();
                cv::dnn::imagesFromBlob(sr, results);
                // Only the tile's centre is kept: pixels near an inner edge lack context.
                const int left = x0 == 0 ? 0 : x0 + m;
                const int top = y0 == 0 ? 0 : y0 + m;
                const int right = x0 + t.width == rgb.cols ? rgb.cols : x0 + t.width - m;
                const int bottom = y0 + t.height == rgb.rows ? rgb.rows : y0 + t.height - m;
                const cv::Rect src((left - x0) * s, (top - y0) * s, (right - left) * s,
                                   (bottom - top) * s);
                const cv::Rect dst(left * s, top * s, (right - left) * s, (bottom - top) * s);
                results.at(0)(src).convertTo(out(dst), rgb.type(), max_value / info_.input_range);
            }
        }
    } catch (const cv::Exception& e) {
        return make_error(Errc::internal, std::string("super-resolution failed: ") + e.what());
    }
    return {};
}

}  // namespace rr::vision
