#pragma once
// Independent measurements of what the product wrote, for enhancement tests: decoded pixels
// and samples come from the ffmpeg CLI (an oracle outside the product), the arithmetic is here.

#include <array>
#include <filesystem>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace rr::test {

// Mean of R, G and B (0..255) over every pixel of every frame, as ffmpeg converts to rgb24.
[[nodiscard]] std::array<double, 3> rgb_means(const std::filesystem::path& file);

// Every frame's luma plane as coded (8-bit samples, limited range stays 16..235), in order.
[[nodiscard]] std::vector<cv::Mat> gray_frames(const std::filesystem::path& file);

// Translation of each frame against the one before (phase correlation, in pixels); the
// first entry is for frame 1.
[[nodiscard]] std::vector<cv::Point2d> frame_shifts(const std::vector<cv::Mat>& frames);

// The first audio stream, downmixed to mono float samples at `rate`.
[[nodiscard]] std::vector<float> audio_samples(const std::filesystem::path& file, int rate);

// Power of the sinusoid at `freq` against everything else, in dB (edges of `skip_seconds`
// left out).
[[nodiscard]] double tone_snr_db(const std::vector<float>& samples, int rate, double freq,
                                 double skip_seconds = 1.0);

struct CliLoudness {
    double integrated = 0;  // LUFS
    double true_peak = 0;   // dBTP
    double lra = 0;         // LU
};
// FFmpeg's ebur128 filter run by the ffmpeg CLI (true-peak mode) on the first audio stream.
[[nodiscard]] CliLoudness cli_loudness(const std::filesystem::path& file);

// Writes an identity .cube LUT with n points per axis.
void write_identity_cube(const std::filesystem::path& path, int n);

}  // namespace rr::test
