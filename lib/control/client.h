#pragma once
// A blocking client for the control socket (renderrushctl, tests, scripts).

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include "control/protocol.h"
#include "core/result.h"
#include "watch/fd.h"

namespace rr::control {

struct Response {
    Code code = Code::ok;
    nlohmann::json data;
    std::string error;
};

class Client {
  public:
    // Errc::not_found / Errc::io when nothing listens there; the message names the path.
    [[nodiscard]] static Result<Client> connect(const std::filesystem::path& socket);

    // Sends one request and waits for its reply (events on the connection are skipped).
    [[nodiscard]] Result<Response> call(const std::string& cmd,
                                        const nlohmann::json& args = nlohmann::json::object());
    // The next line from the daemon (events after `subscribe`); nullopt on timeout.
    [[nodiscard]] Result<std::optional<nlohmann::json>> next(std::chrono::milliseconds timeout);
    [[nodiscard]] Status send_raw(const std::string& bytes);

  private:
    Client() = default;
    Result<std::optional<std::string>> read_line(std::chrono::milliseconds timeout);
    watch::Fd fd_;
    std::string buffer_;
    int64_t next_id_ = 1;
};

}  // namespace rr::control
