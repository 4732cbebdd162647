#include "media/av_error.h"

extern "C" {
#include <libavutil/error.h>
}

#include <cerrno>

namespace rr::av {

std::string error_string(int averror) {
    char buf[AV_ERROR_MAX_STRING_SIZE] = {};
    av_strerror(averror, buf, sizeof buf);
    return buf;
}

Error error(int averror, const std::string& what, Errc fallback) {
    Errc code = averror == AVERROR(ENOSPC)   ? Errc::no_space
                : averror == AVERROR(ENOENT) ? Errc::not_found
                : averror == AVERROR(EIO)    ? Errc::io
                                             : fallback;
    return Error{code, what + ": " + error_string(averror)};
}

}  // namespace rr::av
