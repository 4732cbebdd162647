#include "support/media.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <stdexcept>

#include "support/process.h"

namespace rr::test {

std::filesystem::path cache_dir() {
    std::filesystem::path dir = RR_TEST_CACHE_DIR;
    std::filesystem::create_directories(dir);
    return dir;
}

void ffmpeg(const std::string& args) {
    auto r = run({"sh", "-c", "ffmpeg -hide_banner -nostdin -loglevel error -y " + args});
    if (r.exit_code != 0) throw std::runtime_error("ffmpeg " + args + " failed: " + r.err);
}

std::filesystem::path fixture(const std::string& name, const std::string& ffmpeg_args) {
    const auto path = cache_dir() / name;
    const auto lock_path = cache_dir() / (".lock-" + name);
    int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error("cannot open fixture lock");
    ::flock(fd, LOCK_EX);
    if (!std::filesystem::exists(path)) {
        // Build under a temporary name so an interrupted run never leaves a broken fixture.
        const auto tmp = cache_dir() / ("tmp-" + name);
        try {
            ffmpeg(ffmpeg_args + " -f " +
                   (path.extension() == ".mkv"   ? std::string("matroska")
                    : path.extension() == ".mov" ? std::string("mov")
                    : path.extension() == ".ts"  ? std::string("mpegts")
                    : path.extension() == ".avi" ? std::string("avi")
                                                 : std::string("mp4")) +
                   " '" + tmp.string() + "'");
            std::filesystem::rename(tmp, path);
        } catch (...) {
            ::flock(fd, LOCK_UN);
            ::close(fd);
            throw;
        }
    }
    ::flock(fd, LOCK_UN);
    ::close(fd);
    return path;
}

std::filesystem::path fixture_by(const std::string& name, const std::string& recipe) {
    const auto path = cache_dir() / name;
    const auto lock_path = cache_dir() / (".lock-" + name);
    int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error("cannot open fixture lock");
    ::flock(fd, LOCK_EX);
    std::string failure;
    if (!std::filesystem::exists(path)) {
        const auto tmp = cache_dir() / ("tmp-" + name);
        auto r = run({"sh", "-c", recipe}, std::chrono::seconds(120),
                     {{"OUT", tmp.string()}, {"CACHE", cache_dir().string()}});
        if (r.exit_code != 0 || !std::filesystem::exists(tmp))
            failure = "fixture " + name + " (" + recipe + ") failed: " + r.err;
        else
            std::filesystem::rename(tmp, path);
    }
    ::flock(fd, LOCK_UN);
    ::close(fd);
    if (!failure.empty()) throw std::runtime_error(failure);
    return path;
}

nlohmann::json ffprobe(const std::filesystem::path& file, const std::string& args) {
    auto r = run({"sh", "-c", "ffprobe -v error -of json " + args + " '" + file.string() + "'"});
    if (r.exit_code != 0)
        throw std::runtime_error("ffprobe failed on " + file.string() + ": " + r.err);
    return nlohmann::json::parse(r.out);
}

std::vector<double> frame_times(const std::filesystem::path& file) {
    auto j = ffprobe(file,
                     "-select_streams v:0 -show_entries frame=pts_time,best_effort_timestamp_time");
    std::vector<double> times;
    for (const auto& f : j["frames"]) {
        const auto& t = f.contains("pts_time") ? f["pts_time"] : f["best_effort_timestamp_time"];
        times.push_back(std::stod(t.get<std::string>()));
    }
    return times;
}

int64_t count_frames(const std::filesystem::path& file) {
    auto j = ffprobe(file, "-select_streams v:0 -count_frames -show_entries stream=nb_read_frames");
    return std::stoll(j["streams"][0]["nb_read_frames"].get<std::string>());
}

int64_t ffmpeg_cli_frames(const std::filesystem::path& file) {
    auto r = run({"ffmpeg", "-nostdin", "-hide_banner", "-i", file.string(), "-map", "0:v:0", "-f",
                  "null", "-"});
    if (r.exit_code != 0) return -1;
    const auto at = r.err.rfind("frame=");
    if (at == std::string::npos) return 0;
    return std::stoll(r.err.substr(at + 6));
}

static nlohmann::json first_stream(const std::filesystem::path& file, const char* sel) {
    auto j = ffprobe(file, std::string("-select_streams ") + sel + " -show_streams");
    if (j["streams"].empty()) return nullptr;
    return j["streams"][0];
}

nlohmann::json video_stream(const std::filesystem::path& file) {
    return first_stream(file, "v:0");
}
nlohmann::json audio_stream(const std::filesystem::path& file) {
    return first_stream(file, "a:0");
}

double stream_duration(const nlohmann::json& stream) {
    if (stream.contains("duration")) return std::stod(stream["duration"].get<std::string>());
    if (stream.contains("tags") && stream["tags"].contains("DURATION")) {
        // Matroska: "HH:MM:SS.nnnnnnnnn"
        std::string d = stream["tags"]["DURATION"];
        return std::stod(d.substr(0, 2)) * 3600 + std::stod(d.substr(3, 2)) * 60 +
               std::stod(d.substr(6));
    }
    return 0;
}

}  // namespace rr::test

namespace rr::test {

std::vector<std::map<std::string, double>> signal_stats(const std::filesystem::path& file) {
    auto r = run({"ffprobe", "-v", "error", "-of", "json", "-f", "lavfi", "-i",
                  "movie='" + file.string() + "',signalstats", "-show_entries", "frame_tags"});
    if (r.exit_code != 0) throw std::runtime_error("signalstats failed: " + r.err);
    std::vector<std::map<std::string, double>> out;
    const auto doc = nlohmann::json::parse(r.out);  // kept alive: range-for would not extend it
    for (const auto& f : doc["frames"]) {
        std::map<std::string, double> m;
        for (const auto& [k, v] : f["tags"].items()) {
            m[k.substr(k.rfind('.') + 1)] = std::stod(v.get<std::string>());
        }
        out.push_back(std::move(m));
    }
    return out;
}

double psnr(const std::filesystem::path& reference, const std::filesystem::path& test) {
    auto r = run({"ffmpeg", "-hide_banner", "-nostdin", "-i", test.string(), "-i",
                  reference.string(), "-lavfi", "[0:v][1:v]psnr", "-f", "null", "-"});
    const auto pos = r.err.find("PSNR y:");
    if (pos == std::string::npos) throw std::runtime_error("psnr failed: " + r.err);
    const std::string value = r.err.substr(pos + 7, r.err.find(' ', pos + 7) - pos - 7);
    return value == "inf" ? 100.0 : std::stod(value);
}

}  // namespace rr::test
