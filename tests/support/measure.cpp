#include "support/measure.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <opencv2/imgproc.hpp>
#include <regex>
#include <stdexcept>

#include "support/media.h"
#include "support/process.h"

namespace rr::test {
namespace {

std::string raw_output(const std::vector<std::string>& argv) {
    auto r = run(argv);
    if (r.exit_code != 0) throw std::runtime_error(argv[0] + " failed: " + r.err);
    return r.out;
}

}  // namespace

std::array<double, 3> rgb_means(const std::filesystem::path& file) {
    const std::string raw = raw_output({"ffmpeg", "-v", "error", "-nostdin", "-i", file.string(),
                                        "-f", "rawvideo", "-pix_fmt", "rgb24", "-"});
    std::array<double, 3> sum{0, 0, 0};
    for (size_t i = 0; i + 2 < raw.size(); i += 3) {
        for (size_t c = 0; c < 3; ++c) sum[c] += static_cast<unsigned char>(raw[i + c]);
    }
    const double n = static_cast<double>(raw.size() / 3);
    for (auto& s : sum) s /= n;
    return sum;
}

std::vector<cv::Mat> gray_frames(const std::filesystem::path& file) {
    const auto v = video_stream(file);
    const int w = v["width"].get<int>(), h = v["height"].get<int>();
    // The Y plane as coded (no range conversion).
    const std::string raw =
        raw_output({"ffmpeg", "-v", "error", "-nostdin", "-i", file.string(), "-vf",
                    "extractplanes=y", "-f", "rawvideo", "-pix_fmt", "gray", "-"});
    std::vector<cv::Mat> frames;
    const size_t size = static_cast<size_t>(w) * h;
    for (size_t off = 0; off + size <= raw.size(); off += size) {
        cv::Mat m(h, w, CV_8UC1);
        std::memcpy(m.data, raw.data() + off, size);
        frames.push_back(m);
    }
    return frames;
}

std::vector<cv::Point2d> frame_shifts(const std::vector<cv::Mat>& frames) {
    std::vector<cv::Point2d> shifts;
    cv::Mat prev, cur, window;
    for (size_t i = 0; i < frames.size(); ++i) {
        frames[i].convertTo(cur, CV_64F);
        if (window.empty()) cv::createHanningWindow(window, cur.size(), CV_64F);
        if (i > 0) shifts.push_back(cv::phaseCorrelate(prev, cur, window));
        std::swap(prev, cur);
    }
    return shifts;
}

std::vector<float> audio_samples(const std::filesystem::path& file, int rate) {
    const std::string raw =
        raw_output({"ffmpeg", "-v", "error", "-nostdin", "-i", file.string(), "-vn", "-ac", "1",
                    "-ar", std::to_string(rate), "-f", "f32le", "-"});
    std::vector<float> s(raw.size() / sizeof(float));
    std::memcpy(s.data(), raw.data(), s.size() * sizeof(float));
    return s;
}

double tone_snr_db(const std::vector<float>& x, int rate, double freq, double skip_seconds) {
    const size_t skip = static_cast<size_t>(skip_seconds * rate);
    if (x.size() <= 2 * skip + 16) throw std::runtime_error("too few samples for an SNR");
    const double w = 2.0 * M_PI * freq / rate;
    double c = 0, s = 0, total = 0;
    const size_t n = x.size() - 2 * skip;
    for (size_t i = skip; i < skip + n; ++i) {
        c += x[i] * std::cos(w * static_cast<double>(i));
        s += x[i] * std::sin(w * static_cast<double>(i));
        total += static_cast<double>(x[i]) * x[i];
    }
    c *= 2.0 / static_cast<double>(n);
    s *= 2.0 / static_cast<double>(n);
    const double tone = (c * c + s * s) / 2.0;
    const double rest = std::max(total / static_cast<double>(n) - tone, 1e-20);
    return 10.0 * std::log10(tone / rest);
}

CliLoudness cli_loudness(const std::filesystem::path& file) {
    auto r = run({"ffmpeg", "-hide_banner", "-nostdin", "-i", file.string(), "-vn", "-af",
                  "ebur128=peak=true", "-f", "null", "-"});
    const auto at = r.err.rfind("Summary:");
    if (r.exit_code != 0 || at == std::string::npos)
        throw std::runtime_error("ebur128 failed: " + r.err);
    const std::string summary = r.err.substr(at);
    auto value = [&](const std::string& label) {
        std::smatch m;
        if (!std::regex_search(summary, m, std::regex(label + R"(:\s+(-?[0-9.]+|-inf))")))
            throw std::runtime_error("no " + label + " in ebur128 summary");
        return m[1].str() == "-inf" ? -99.0 : std::stod(m[1].str());
    };
    CliLoudness l;
    l.integrated = value("I");
    l.lra = value("LRA");
    l.true_peak = value("Peak");  // the true-peak section's "Peak:" line
    return l;
}

void write_identity_cube(const std::filesystem::path& path, int n) {
    std::ofstream out(path);
    out << "TITLE \"identity\"\nLUT_3D_SIZE " << n << "\n";
    for (int b = 0; b < n; ++b)
        for (int g = 0; g < n; ++g)
            for (int r = 0; r < n; ++r)
                out << static_cast<double>(r) / (n - 1) << ' ' << static_cast<double>(g) / (n - 1)
                    << ' ' << static_cast<double>(b) / (n - 1) << '\n';
}

}  // namespace rr::test
