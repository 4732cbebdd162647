#include "web/api.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <filesystem>

namespace rr::web {
namespace {

std::optional<int64_t> to_id(std::string_view s) {
    int64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || v <= 0) return std::nullopt;
    return v;
}

std::variant<ApiCall, HttpError> only(Method want, Method got, ApiCall call) {
    if (want != got) return HttpError{405, want == Method::get ? "use GET" : "use POST"};
    return call;
}

// A JPEG's plain name: nothing that could climb out of the job's folders.
bool picture_name(std::string_view name) {
    constexpr std::string_view kExt = ".jpg";
    if (name.size() <= kExt.size() || name.front() == '.' ||
        name.substr(name.size() - kExt.size()) != kExt)
        return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
    });
}

}  // namespace

std::variant<ApiCall, HttpError> route(Method method, std::string_view path,
                                       const QueryArg& query) {
    constexpr std::string_view kApi = "/api/";
    if (path.substr(0, kApi.size()) != kApi) return HttpError{404, "not an API path"};
    path.remove_prefix(kApi.size());
    if (!path.empty() && path.back() == '/') path.remove_suffix(1);

    if (path == "status") return only(Method::get, method, {"status"});
    if (path == "nodes") return only(Method::get, method, {"status", {}, ApiCall::Shape::nodes});
    if (path == "cluster-jobs") return only(Method::get, method, {"cluster-jobs"});
    if (path == "pause" || path == "resume") {
        ApiCall call{std::string(path)};
        if (auto w = query("watch"); w && !w->empty()) call.args["watch"] = *w;
        return only(Method::post, method, call);
    }
    if (path == "jobs") {
        ApiCall call{"jobs"};
        if (auto s = query("state"); s && !s->empty()) call.args["state"] = *s;
        for (const char* key : {"limit", "offset"}) {
            if (auto v = query(key); v && !v->empty()) {
                int64_t n = 0;
                auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
                if (ec != std::errc() || end != v->data() + v->size())
                    return HttpError{400, std::string(key) + " must be a number"};
                call.args[key] = n;
            }
        }
        return only(Method::get, method, call);
    }
    constexpr std::string_view kJobs = "jobs/";
    if (path.substr(0, kJobs.size()) == kJobs) {
        path.remove_prefix(kJobs.size());
        const size_t slash = path.find('/');
        const auto id = to_id(path.substr(0, slash));
        if (!id) return HttpError{404, "no such job"};
        const std::string_view action =
            slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
        if (action.empty()) return only(Method::get, method, {"job", {{"id", *id}}});
        if (action == "sidecar")
            return only(Method::get, method, {"job", {{"id", *id}}, ApiCall::Shape::sidecar});
        for (std::string_view kind : {"frames/", "scenes/"}) {
            if (action.substr(0, kind.size()) != kind) continue;
            const std::string_view name = action.substr(kind.size());
            if (!picture_name(name)) return HttpError{404, "no such picture"};
            ApiCall call{"job", {{"id", *id}}, ApiCall::Shape::file};
            call.file = std::string(action);
            return only(Method::get, method, call);
        }
        if (action == "cancel" || action == "retry")
            return only(Method::post, method, {std::string(action), {{"id", *id}}});
        return HttpError{404, "no such job action"};
    }
    return HttpError{404, "no such API path"};
}

unsigned http_status(control::Code code) {
    switch (code) {
        case control::Code::ok:
            return 200;
        case control::Code::error:
            return 400;
        case control::Code::unsupported:
            return 404;
        case control::Code::not_found:
            return 404;
        case control::Code::conflict:
            return 409;
        case control::Code::forbidden:
            return 403;
    }
    return 500;
}

nlohmann::json nodes_from_status(const nlohmann::json& status) {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    nlohmann::json node = {{"name", host},
                           {"self", true},
                           {"version", status.value("version", "")},
                           {"uptime", status.value("uptime", 0.0)},
                           {"paused", status.value("paused", false)},
                           {"workers", status.value("workers", nlohmann::json::object())},
                           {"running", status.value("running", nlohmann::json::array()).size()},
                           {"hardware", status.value("hardware", nlohmann::json::object())}};
    if (!status.contains("cluster")) return {{"nodes", nlohmann::json::array({node})}};
    // Cluster mode: every node the cluster knows, this one with its local detail.
    const auto& cluster = status["cluster"];
    const std::string self = cluster.value("node_id", "");
    nlohmann::json nodes = nlohmann::json::array();
    for (const auto& n : cluster.value("nodes", nlohmann::json::array())) {
        nlohmann::json item = n.get<nlohmann::json::object_t>();
        const bool is_self = n.value("node_id", "") == self;
        item["name"] = n.value("node_id", "");
        item["self"] = is_self;
        if (is_self) {
            for (const char* key : {"uptime", "paused", "workers", "running", "hardware"})
                item[key] = node[key];
        } else {
            item["workers"] = {{"busy", n.value("busy", 0)}, {"total", n.value("workers", 0)}};
        }
        nodes.push_back(std::move(item));
    }
    return {{"nodes", nodes}};
}

std::string file_path(const ApiCall& call, const nlohmann::json& job) {
    const auto& sidecar = job.value("sidecar", nlohmann::json::object());
    if (!sidecar.is_object()) return {};
    const std::string output = sidecar.value("output", nlohmann::json::object()).value("path", "");
    const size_t slash = call.file.find('/');
    if (output.empty() || slash == std::string::npos) return {};
    const std::string kind = call.file.substr(0, slash), name = call.file.substr(slash + 1);
    const std::filesystem::path out(output);
    if (kind == "frames") {
        const auto& preview = sidecar.value("preview", nlohmann::json::object());
        const std::string folder = preview.value("folder", "");
        if (folder.empty() || folder.find('/') != std::string::npos) return {};
        return (out.parent_path() / folder / name).string();
    }
    // Scene thumbnails only under the names the scene stage recorded.
    for (const auto& stage : sidecar.value("stages", nlohmann::json::array())) {
        if (stage.value("name", "") != "scenes") continue;
        for (const auto& t : stage.value("result", nlohmann::json::object())
                                 .value("thumbnails", nlohmann::json::array()))
            if (t.is_string() && t.get<std::string>() == name)
                return (out.string() + ".scenes/") + name;
    }
    return {};
}

nlohmann::json response_body(const ApiCall& call, const control::Reply& reply) {
    if (reply.code != control::Code::ok)
        return {{"error", reply.error}, {"code", static_cast<int>(reply.code)}};
    switch (call.shape) {
        case ApiCall::Shape::data:
            return reply.data;
        case ApiCall::Shape::nodes:
            return nodes_from_status(reply.data);
        case ApiCall::Shape::sidecar:
            return reply.data.value("sidecar", nlohmann::json(nullptr));
        case ApiCall::Shape::file:
            return reply.data;
    }
    return reply.data;
}

}  // namespace rr::web
