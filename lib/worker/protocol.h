#pragma once
// The conversation between the daemon (or `renderrushd process`) and one worker process over
// a socketpair: frames of a 4-byte little-endian length and that many bytes of JSON.
//
//   parent -> worker   one request: {"task": ..., everything the task needs}
//   worker -> parent   any number of {"progress": frames} and {"note": text}, then exactly one
//                      {"ok": true, "result": {...}} or {"ok": false, "error": {code, message}}
//
// A frame larger than kMaxMessage, text that is not JSON, or a worker that closes the socket
// without a final message breaks the protocol: that attempt fails.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/result.h"

namespace rr::worker {

inline constexpr size_t kMaxMessage = size_t{64} << 20;

// Writes one frame, retrying short writes and EINTR.
[[nodiscard]] Status send_message(int fd, const nlohmann::json& message);

// Blocking read of one frame; nullopt at a clean end of stream before any byte of a frame.
[[nodiscard]] Result<std::optional<nlohmann::json>> read_message(int fd);

// Incremental reader for a non-blocking socket: feed() what arrived, then take whole frames.
class MessageReader {
  public:
    // Reads what is available. Returns false at end of stream.
    [[nodiscard]] Result<bool> feed(int fd);
    // The next complete frame, if any; an error when the bytes break the protocol.
    [[nodiscard]] Result<std::optional<nlohmann::json>> next();

  private:
    std::string buffer_;
};

// Errors cross the socket as {code, message}.
[[nodiscard]] nlohmann::json error_to_json(const Error& e);
[[nodiscard]] Error error_from_json(const nlohmann::json& j);

}  // namespace rr::worker
