#include "stages/cube_lut.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

namespace rr::stages {
namespace {

std::string trim(const std::string& s) {
    const auto a = s.find_first_not_of(" \t\r\n");
    if (a == std::string::npos) return {};
    const auto b = s.find_last_not_of(" \t\r\n");
    return s.substr(a, b - a + 1);
}

// Reads exactly `count` finite numbers from `rest`; false if there are more, fewer or junk.
bool numbers(const std::string& rest, int count, float* out) {
    std::istringstream in(rest);
    in.imbue(std::locale::classic());
    for (int i = 0; i < count; ++i) {
        double v = 0;
        if (!(in >> v) || !std::isfinite(v)) return false;
        out[i] = static_cast<float>(v);
    }
    std::string extra;
    return !(in >> extra);
}

}  // namespace

Result<CubeLut> CubeLut::load(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return make_error(Errc::invalid_argument, "cannot read LUT file '" + path.string() + "'");
    std::ostringstream text;
    text << in.rdbuf();
    return parse(text.str(), path.string());
}

Result<CubeLut> CubeLut::parse(const std::string& text, const std::string& name) {
    CubeLut lut;
    std::istringstream lines(text);
    std::string raw;
    int line_no = 0;
    size_t expected = 0;
    auto fail = [&](const std::string& why) {
        return make_error(Errc::invalid_argument,
                          "LUT '" + name + "' line " + std::to_string(line_no) + ": " + why);
    };
    while (std::getline(lines, raw)) {
        ++line_no;
        std::string line = trim(raw.substr(0, raw.find('#')));
        if (line.empty()) continue;
        const auto space = line.find_first_of(" \t");
        const std::string key = line.substr(0, space);
        const std::string rest = space == std::string::npos ? "" : line.substr(space + 1);
        if (key == "TITLE") {
            lut.title_ = trim(rest);
            if (lut.title_.size() >= 2 && lut.title_.front() == '"' && lut.title_.back() == '"')
                lut.title_ = lut.title_.substr(1, lut.title_.size() - 2);
        } else if (key == "LUT_3D_SIZE") {
            float n = 0;
            if (lut.n_ || !numbers(rest, 1, &n) || n != std::floor(n) || n < 2 || n > 256)
                return fail("LUT_3D_SIZE must be given once, as a whole number from 2 to 256");
            lut.n_ = static_cast<int>(n);
            expected = static_cast<size_t>(lut.n_) * lut.n_ * lut.n_;
            lut.table_.reserve(expected * 3);
        } else if (key == "LUT_1D_SIZE") {
            return fail("1D LUTs are not supported; give a 3D LUT (LUT_3D_SIZE)");
        } else if (key == "DOMAIN_MIN" || key == "DOMAIN_MAX") {
            if (!numbers(rest, 3, key == "DOMAIN_MIN" ? lut.min_ : lut.max_))
                return fail(key + " needs three numbers");
        } else if (key == "LUT_3D_INPUT_RANGE") {
            float r[2];
            if (!numbers(rest, 2, r)) return fail("LUT_3D_INPUT_RANGE needs two numbers");
            std::fill(lut.min_, lut.min_ + 3, r[0]);
            std::fill(lut.max_, lut.max_ + 3, r[1]);
        } else if ((key[0] >= '0' && key[0] <= '9') || key[0] == '-' || key[0] == '+' ||
                   key[0] == '.') {
            if (!lut.n_) return fail("table data before LUT_3D_SIZE");
            float rgb[3];
            if (!numbers(line, 3, rgb)) return fail("expected three numbers, got '" + line + "'");
            if (lut.table_.size() / 3 >= expected)
                return fail("more than " + std::to_string(expected) + " table entries");
            lut.table_.insert(lut.table_.end(), rgb, rgb + 3);
        } else {
            return fail("unknown keyword '" + key + "'");
        }
    }
    if (!lut.n_) return make_error(Errc::invalid_argument, "LUT '" + name + "': no LUT_3D_SIZE");
    if (lut.table_.size() / 3 != expected) {
        return make_error(Errc::invalid_argument,
                          "LUT '" + name + "': " + std::to_string(lut.table_.size() / 3) +
                              " table entries, LUT_3D_SIZE " + std::to_string(lut.n_) + " needs " +
                              std::to_string(expected));
    }
    for (int c = 0; c < 3; ++c) {
        if (!(lut.max_[c] > lut.min_[c]))
            return make_error(Errc::invalid_argument,
                              "LUT '" + name + "': DOMAIN_MAX must exceed DOMAIN_MIN");
        lut.scale_[c] = static_cast<float>(lut.n_ - 1) / (lut.max_[c] - lut.min_[c]);
        lut.offset_[c] = -lut.min_[c] * lut.scale_[c];
    }
    return lut;
}

void CubeLut::apply(RgbPlanes& rgb) const {
    for (int row = 0; row < rgb[0].rows; ++row) {
        float* pr = rgb[0].ptr<float>(row);
        float* pg = rgb[1].ptr<float>(row);
        float* pb = rgb[2].ptr<float>(row);
        for (int col = 0; col < rgb[0].cols; ++col) map(pr[col], pg[col], pb[col]);
    }
}

void CubeLut::map(float& pr, float& pg, float& pb) const {
    const int n = n_;
    const float last = static_cast<float>(n - 1);
    const size_t sx = 3, sy = 3 * static_cast<size_t>(n), sz = sy * static_cast<size_t>(n);
    const float r = std::clamp(pr * scale_[0] + offset_[0], 0.0f, last);
    const float g = std::clamp(pg * scale_[1] + offset_[1], 0.0f, last);
    const float b = std::clamp(pb * scale_[2] + offset_[2], 0.0f, last);
    const int r0 = std::min(static_cast<int>(r), n - 2);
    const int g0 = std::min(static_cast<int>(g), n - 2);
    const int b0 = std::min(static_cast<int>(b), n - 2);
    const float fr = r - r0, fg = g - g0, fb = b - b0;
    const float* c000 = table_.data() + b0 * sz + g0 * sy + r0 * sx;
    // Tetrahedral interpolation: the unit cube is split into six tetrahedra along its grey
    // diagonal; the fractions' order picks the one holding the point.
    const float* c111 = c000 + sx + sy + sz;
    const float *p1, *p2;
    float w0, w1, w2, w3;
    if (fr >= fg && fg >= fb) {
        p1 = c000 + sx, p2 = c000 + sx + sy;
        w0 = 1 - fr, w1 = fr - fg, w2 = fg - fb, w3 = fb;
    } else if (fr >= fb && fb >= fg) {
        p1 = c000 + sx, p2 = c000 + sx + sz;
        w0 = 1 - fr, w1 = fr - fb, w2 = fb - fg, w3 = fg;
    } else if (fb >= fr && fr >= fg) {
        p1 = c000 + sz, p2 = c000 + sx + sz;
        w0 = 1 - fb, w1 = fb - fr, w2 = fr - fg, w3 = fg;
    } else if (fg >= fr && fr >= fb) {
        p1 = c000 + sy, p2 = c000 + sx + sy;
        w0 = 1 - fg, w1 = fg - fr, w2 = fr - fb, w3 = fb;
    } else if (fg >= fb && fb >= fr) {
        p1 = c000 + sy, p2 = c000 + sy + sz;
        w0 = 1 - fg, w1 = fg - fb, w2 = fb - fr, w3 = fr;
    } else {
        p1 = c000 + sz, p2 = c000 + sy + sz;
        w0 = 1 - fb, w1 = fb - fg, w2 = fg - fr, w3 = fr;
    }
    pr = w0 * c000[0] + w1 * p1[0] + w2 * p2[0] + w3 * c111[0];
    pg = w0 * c000[1] + w1 * p1[1] + w2 * p2[1] + w3 * c111[1];
    pb = w0 * c000[2] + w1 * p1[2] + w2 * p2[2] + w3 * c111[2];
}

}  // namespace rr::stages
