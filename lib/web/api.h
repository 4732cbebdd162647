#pragma once
// The JSON API as a mapping onto control commands: each URL names a command of the control
// registry and its arguments, and each reply maps back to an HTTP status and body. Pure
// functions; the server does the I/O and the registry does the work.

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "control/protocol.h"

namespace rr::web {

enum class Method { get, post, other };

// One request for the registry, and how its reply is shaped for the browser.
struct ApiCall {
    std::string cmd;
    nlohmann::json args = nlohmann::json::object();
    enum class Shape { data, nodes, sidecar, file } shape = Shape::data;
    // Shape::file: a picture the job published beside its output, as "<kind>/<name>" with kind
    // frames (the before/after pair) or scenes (the scene thumbnails).
    std::string file{};
};

struct HttpError {
    unsigned status = 404;
    std::string message;
};

// A query argument by name (already URL-decoded), or nullopt.
using QueryArg = std::function<std::optional<std::string>(const char* name)>;

// /api/... to its command; 404 for unknown paths, 405 for the wrong method.
[[nodiscard]] std::variant<ApiCall, HttpError> route(Method method, std::string_view path,
                                                     const QueryArg& query);

[[nodiscard]] unsigned http_status(control::Code code);

// The reply's `data` when it succeeded, else {"error", "code"}; shaped as the call asks.
[[nodiscard]] nlohmann::json response_body(const ApiCall& call, const control::Reply& reply);

// Where a Shape::file call's picture lies, from the `job` reply; "" when the job has none.
[[nodiscard]] std::string file_path(const ApiCall& call, const nlohmann::json& job);

// The nodes for the dashboard, from `status`: this daemon alone, or in cluster mode every node
// of status.cluster.nodes (this one with its local detail).
[[nodiscard]] nlohmann::json nodes_from_status(const nlohmann::json& status);

}  // namespace rr::web
