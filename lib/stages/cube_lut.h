#pragma once
// A 3D colour lookup table in the .cube format (Adobe/Resolve): LUT_3D_SIZE N, optional
// DOMAIN_MIN/DOMAIN_MAX (or LUT_3D_INPUT_RANGE), then N³ lines "r g b" with red changing
// fastest. Malformed files are refused with the line and the reason.

#include <filesystem>
#include <string>
#include <vector>

#include "core/result.h"
#include "stages/rgb_planes.h"

namespace rr::stages {

class CubeLut {
  public:
    [[nodiscard]] static Result<CubeLut> load(const std::filesystem::path& path);
    [[nodiscard]] static Result<CubeLut> parse(const std::string& text, const std::string& name);

    // Maps every pixel through the table (tetrahedral interpolation), in place. Inputs outside
    // the domain are clamped to it.
    void apply(RgbPlanes& rgb) const;
    // The same for one colour.
    void map(float& r, float& g, float& b) const;

    [[nodiscard]] int size() const { return n_; }
    [[nodiscard]] const std::string& title() const { return title_; }

  private:
    CubeLut() = default;
    int n_ = 0;
    std::string title_;
    float min_[3] = {0, 0, 0}, max_[3] = {1, 1, 1};
    float scale_[3] = {1, 1, 1}, offset_[3] = {0, 0, 0};  // domain to grid coordinates
    std::vector<float> table_;                            // n³ RGB triples, red fastest
};

}  // namespace rr::stages
