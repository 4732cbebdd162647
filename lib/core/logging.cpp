#include "core/logging.h"

#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

extern "C" {
#include <libavutil/log.h>
}

#include <cstdio>
#include <cstring>

namespace rr {

LoggerPtr make_logger(const std::string& name, const std::string& level, bool plain) {
    auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    auto logger = std::make_shared<spdlog::logger>(name, sink);
    logger->set_level(spdlog::level::from_str(level));
    logger->set_pattern(plain ? "<%^%l%$> %v" : "%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v");
    logger->flush_on(spdlog::level::warn);
    return logger;
}

LoggerPtr null_logger() {
    return std::make_shared<spdlog::logger>("null",
                                            std::make_shared<spdlog::sinks::null_sink_mt>());
}

namespace {

// Per-thread nesting depth of QuietFfmpegLogs, and the active error capture, if any;
// threads never share them.
thread_local int quiet_depth = 0;
thread_local std::string* error_capture = nullptr;

void ffmpeg_log_callback(void* avcl, int level, const char* fmt, va_list vl) {
    if (level > av_log_get_level()) return;
    if (level <= AV_LOG_QUIET) return;
    auto* logger = spdlog::default_logger_raw();
    if (!logger) return;
    spdlog::level::level_enum mapped = level <= AV_LOG_ERROR     ? spdlog::level::err
                                       : level <= AV_LOG_WARNING ? spdlog::level::warn
                                       : level <= AV_LOG_INFO    ? spdlog::level::info
                                       : level <= AV_LOG_VERBOSE ? spdlog::level::debug
                                                                 : spdlog::level::trace;
    if (quiet_depth > 0) mapped = spdlog::level::debug;
    if (avcl && mapped >= spdlog::level::warn) {
        // Damaged-input complaints from decoders are counted per job and reported there;
        // logging every broken macroblock would bury the one line that matters.
        const AVClass* cls = *static_cast<AVClass**>(avcl);
        const AVClassCategory category = cls && cls->get_category ? cls->get_category(avcl)
                                         : cls                    ? cls->category
                                                                  : AV_CLASS_CATEGORY_NA;
        if (category == AV_CLASS_CATEGORY_DECODER) mapped = spdlog::level::debug;
    }
    if (error_capture && level <= AV_LOG_ERROR) {
        // The caller turns the reason into its own one-line error; no separate log line.
        char text[1024];
        vsnprintf(text, sizeof text, fmt, vl);
        size_t n = std::strlen(text);
        while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r')) text[--n] = '\0';
        if (n > 0) *error_capture = text;
        return;
    }
    if (!logger->should_log(mapped)) return;
    char line[1024];
    int print_prefix = 1;  // per call: FFmpeg's own state for this is not thread safe
    av_log_format_line2(avcl, level, fmt, vl, line, sizeof line, &print_prefix);
    size_t n = std::strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
    if (n == 0) return;
    logger->log(mapped, "ffmpeg: {}", line);
}

}  // namespace

CaptureFfmpegError::CaptureFfmpegError() : previous_(error_capture) {
    error_capture = &last_;
}
CaptureFfmpegError::~CaptureFfmpegError() {
    error_capture = previous_;
}

QuietFfmpegLogs::QuietFfmpegLogs() {
    ++quiet_depth;
}
QuietFfmpegLogs::~QuietFfmpegLogs() {
    --quiet_depth;
}

void install_ffmpeg_log_bridge(const LoggerPtr& logger) {
    spdlog::set_default_logger(logger);
    // Decoders report every damaged macroblock as an error; those are counted per job instead.
    av_log_set_level(logger->should_log(spdlog::level::debug) ? AV_LOG_VERBOSE : AV_LOG_WARNING);
    av_log_set_callback(ffmpeg_log_callback);
}

}  // namespace rr
