#pragma once
// Test media, generated at test time with ffmpeg's lavfi sources into a shared cache under
// build/, and an ffprobe-based oracle for checking what the product wrote.

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace rr::test {

[[nodiscard]] std::filesystem::path cache_dir();

// Returns cache_dir()/name, creating it first with `ffmpeg -y <args> <path>` if missing.
// Concurrent test processes wait on a lock instead of generating twice.
[[nodiscard]] std::filesystem::path fixture(const std::string& name,
                                            const std::string& ffmpeg_args);

// Returns cache_dir()/name, creating it first with the shell command `recipe`, in which
// $OUT names the file to write and $CACHE the cache folder (for recipes built from other
// fixtures). For media that takes more than one ffmpeg call or a muxer the extension does not
// choose.
[[nodiscard]] std::filesystem::path fixture_by(const std::string& name, const std::string& recipe);

// Runs ffmpeg with the given arguments (a shell string); throws on failure.
void ffmpeg(const std::string& args);

[[nodiscard]] nlohmann::json ffprobe(const std::filesystem::path& file, const std::string& args);
// Presentation times of every decoded video frame, in seconds.
[[nodiscard]] std::vector<double> frame_times(const std::filesystem::path& file);
[[nodiscard]] int64_t count_frames(const std::filesystem::path& file);
// Video frames the ffmpeg CLI delivers for `file` (`ffmpeg -i FILE -map 0:v:0 -f null -`, its
// last frame= figure), or -1 when it fails: the reference RenderRush is held to.
[[nodiscard]] int64_t ffmpeg_cli_frames(const std::filesystem::path& file);
// The first video (or audio) stream's ffprobe record.
[[nodiscard]] nlohmann::json video_stream(const std::filesystem::path& file);
[[nodiscard]] nlohmann::json audio_stream(const std::filesystem::path& file);
[[nodiscard]] double stream_duration(const nlohmann::json& stream);

// Per-frame signalstats of the first video stream (keys like YAVG, UMIN, UMAX, VMIN, VMAX).
[[nodiscard]] std::vector<std::map<std::string, double>> signal_stats(
    const std::filesystem::path& file);
// Average PSNR (Y) of `test` against `reference`, frame by frame ("inf" → 100).
[[nodiscard]] double psnr(const std::filesystem::path& reference,
                          const std::filesystem::path& test);

}  // namespace rr::test
