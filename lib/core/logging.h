#pragma once
#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace rr {

using LoggerPtr = std::shared_ptr<spdlog::logger>;

// A stderr logger (journald adds timestamps under systemd, so `plain` drops ours there).
[[nodiscard]] LoggerPtr make_logger(const std::string& name, const std::string& level, bool plain);

// Returns a logger that writes nothing; handy for tests and library callers that don't care.
[[nodiscard]] LoggerPtr null_logger();

// Routes FFmpeg's av_log into `logger` at a mapped level. FFmpeg's callback is process-wide
// and takes no user data, so the bridge goes through spdlog's default logger, which this sets.
void install_ffmpeg_log_bridge(const LoggerPtr& logger);

// While alive, FFmpeg messages from this thread are logged at debug level. Used around
// expected failures (probing for hardware encoders) whose outcome is reported by the caller.
class QuietFfmpegLogs {
  public:
    QuietFfmpegLogs();
    ~QuietFfmpegLogs();
    QuietFfmpegLogs(const QuietFfmpegLogs&) = delete;
    QuietFfmpegLogs& operator=(const QuietFfmpegLogs&) = delete;
};

// While alive, FFmpeg error messages from this thread are kept (the last one) instead of
// logged, so the caller can name the reason in its own error.
class CaptureFfmpegError {
  public:
    CaptureFfmpegError();
    ~CaptureFfmpegError();
    CaptureFfmpegError(const CaptureFfmpegError&) = delete;
    CaptureFfmpegError& operator=(const CaptureFfmpegError&) = delete;
    [[nodiscard]] const std::string& last() const { return last_; }

  private:
    std::string last_;
    std::string* previous_;
};

}  // namespace rr
