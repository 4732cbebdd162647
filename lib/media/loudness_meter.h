#pragma once
// Several loudness measurements of one stream that share its decode.

#include <cstddef>
#include <memory>
#include <stop_token>
#include <string>

#include "core/result.h"
#include "media/loudness.h"
#include "media/mapped_file.h"

namespace rr::media {

// Several measurements of one stream under different chains (the audio stages measure the
// stream, then their chain so far, each depending on the last). The first measurement keeps the
// decoded frames when they fit in `keep_bytes`, so the others filter them without decoding the
// stream again; a longer stream is decoded once per measurement.
class LoudnessMeter {
  public:
    LoudnessMeter(const MappedFile& file, int stream, size_t keep_bytes);
    LoudnessMeter(LoudnessMeter&&) noexcept;
    LoudnessMeter& operator=(LoudnessMeter&&) noexcept;
    ~LoudnessMeter();

    [[nodiscard]] Result<Loudness> measure(const std::string& filter, std::stop_token stop);
    // How many times the stream was decoded so far.
    [[nodiscard]] int decodes() const;

  private:
    struct Kept;
    const MappedFile* file_;
    int stream_;
    size_t keep_bytes_;
    std::unique_ptr<Kept> kept_;
};

}  // namespace rr::media
