#pragma once
// The control protocol: newline-delimited JSON over a Unix stream socket.
//   request  {"id": <any>, "cmd": "<name>", "args": {...}}
//   reply    {"id": <same>, "code": 0, "data": {...}}  or  {"id": <same>, "code": N, "error":
//   "..."}
// Pure functions, no I/O: the server and the fuzzer share them.

#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <variant>

namespace rr::control {

enum class Code : int {
    ok = 0,
    error = 1,
    unsupported = 2,
    not_found = 3,
    conflict = 4,
    forbidden = 5
};

inline std::ostream& operator<<(std::ostream& os, Code c) {
    return os << static_cast<int>(c);
}

inline constexpr size_t kMaxLineBytes = 1u << 20;  // longer requests close the connection

struct Request {
    nlohmann::json id;  // null when the client sent none
    std::string cmd;
    nlohmann::json args = nlohmann::json::object();
};

struct Reply {
    nlohmann::json id;
    Code code = Code::ok;
    nlohmann::json data = nlohmann::json::object();
    std::string error;

    [[nodiscard]] static Reply success(nlohmann::json data) {
        return Reply{nullptr, Code::ok, std::move(data), {}};
    }
    [[nodiscard]] static Reply failure(Code code, std::string message) {
        return Reply{nullptr, code, nlohmann::json::object(), std::move(message)};
    }
    // One line, with the trailing newline.
    [[nodiscard]] std::string encode() const;
};

// A request, or the error reply to send back (the id is kept when it could be read).
[[nodiscard]] std::variant<Request, Reply> parse_request(std::string_view line);

// Typed access to `args` that produces protocol errors naming the argument.
struct ArgError {
    std::string message;
};
[[nodiscard]] std::variant<int64_t, ArgError> int_arg(
    const nlohmann::json& args, const char* key, std::optional<int64_t> fallback = std::nullopt);
[[nodiscard]] std::variant<std::string, ArgError> string_arg(
    const nlohmann::json& args, const char* key,
    std::optional<std::string> fallback = std::nullopt);
[[nodiscard]] std::variant<bool, ArgError> bool_arg(const nlohmann::json& args, const char* key,
                                                    std::optional<bool> fallback = std::nullopt);

}  // namespace rr::control
