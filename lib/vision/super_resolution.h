#pragma once
// Super-resolution with the UpscalerJS RDN networks: which file holds which model, and a
// tiled runner whose memory depends on the tile size, not on the picture size.

#include <filesystem>
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#include <string>

#include "core/result.h"
#include "vision/tfjs_model.h"

namespace rr::vision {

struct SrModelInfo {
    std::string name;            // slim | medium | psnr-small
    int scale = 2;               // 2, 3 or 4
    std::filesystem::path file;  // model.json
    double input_range = 255.0;  // the network takes (and returns) RGB in 0..input_range
    std::string package;         // npm package it comes from (for error messages)
    // Peak memory of one OpenCV network per input pixel of a tile, measured (peak RSS over
    // 128 and 256 pixel tiles) with about 10% headroom.
    double bytes_per_tile_pixel = 0;
};

// Where `model` at `scale` lives under `models_dir`. psnr-small exists for x2 only.
[[nodiscard]] Result<SrModelInfo> sr_model_info(const std::filesystem::path& models_dir,
                                                const std::string& model, int scale);

// The largest tile (a multiple of 32, 64 to 256 pixels) whose network fits `budget_bytes`.
[[nodiscard]] int tile_for_memory(const SrModelInfo& info, double budget_bytes);

struct TileLayout {
    cv::Size tile;   // network input size (low-resolution pixels)
    int margin = 0;  // context discarded at inner tile edges, low-resolution pixels
};

// Tiles of at most `tile` pixels with `margin` pixels of context on every inner edge: the
// fewest that cover the picture, each as small as that count allows (less overlap to compute).
[[nodiscard]] TileLayout plan_tiles(cv::Size picture, int tile, int margin);

// One network, for one thread. Pictures are processed in fixed-size tiles that overlap by
// twice the margin; each tile contributes only its centre, so no seam shows.
class SuperResolver {
  public:
    [[nodiscard]] static Result<SuperResolver> create(const TfjsModel& model,
                                                      const SrModelInfo& info, cv::Size picture,
                                                      int tile, int margin);

    // `rgb` is CV_8UC3 or CV_16UC3 in RGB order; `out` gets the same type, `scale` times larger.
    [[nodiscard]] Status upscale(const cv::Mat& rgb, cv::Mat& out);
    [[nodiscard]] const TileLayout& layout() const { return layout_; }

  private:
    SuperResolver() = default;
    cv::dnn::Net net_;
    SrModelInfo info_;
    cv::Size picture_;
    TileLayout layout_;
};

}  // namespace rr::vision
