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
    return std::make_shared<spdlog::logger>("null", std::make_shared<spdlog::sinks::null_sink_mt>());
}

namespace {

// Per-thread nesting depth of QuietFfmpegLogs; threads never share it.
thread_local int quiet_depth = 0;

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
        if (cls && cls->category == AV_CLASS_CATEGORY_DECODER) mapped = spdlog::level::debug;
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

QuietFfmpegLogs::QuietFfmpegLogs() { ++quiet_depth; }
QuietFfmpegLogs::~QuietFfmpegLogs() { --quiet_depth; }

void install_ffmpeg_log_bridge(const LoggerPtr& logger) {
    spdlog::set_default_logger(logger);
    // Decoders report every damaged macroblock as an error; those are counted per job instead.
    av_log_set_level(logger->should_log(spdlog::level::debug) ? AV_LOG_VERBOSE : AV_LOG_WARNING);
    av_log_set_callback(ffmpeg_log_callback);
}

}  // namespace rr
