#include "control/protocol.h"

namespace rr::control {

std::string Reply::encode() const {
    nlohmann::json j = {{"id", id}, {"code", static_cast<int>(code)}};
    if (code == Code::ok)
        j["data"] = data;
    else
        j["error"] = error;
    // Replace invalid UTF-8 rather than throw: file names are bytes, replies must still go out.
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::variant<Request, Reply> parse_request(std::string_view line) {
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) return Reply::failure(Code::error, "invalid JSON");
    if (!j.is_object()) return Reply::failure(Code::error, "a request is a JSON object");
    Request req;
    if (auto it = j.find("id"); it != j.end()) req.id = *it;
    auto fail = [&](std::string message) {
        Reply r = Reply::failure(Code::error, std::move(message));
        r.id = req.id;
        return r;
    };
    auto cmd = j.find("cmd");
    if (cmd == j.end()) return fail("missing \"cmd\"");
    if (!cmd->is_string()) return fail("\"cmd\" must be a string");
    req.cmd = cmd->get<std::string>();
    if (auto args = j.find("args"); args != j.end() && !args->is_null()) {
        if (!args->is_object()) return fail("\"args\" must be an object");
        req.args = *args;
    }
    for (const auto& [key, value] : j.items()) {
        if (key != "id" && key != "cmd" && key != "args")
            return fail("unknown field \"" + key + "\"");
    }
    return req;
}

std::variant<int64_t, ArgError> int_arg(const nlohmann::json& args, const char* key,
                                        std::optional<int64_t> fallback) {
    auto it = args.find(key);
    if (it == args.end() || it->is_null()) {
        if (fallback) return *fallback;
        return ArgError{std::string("missing argument \"") + key + "\""};
    }
    if (it->is_number_integer()) return it->get<int64_t>();
    if (it->is_string()) {
        // Shell users type ids as strings; accept digits only.
        const auto& s = it->get_ref<const std::string&>();
        if (!s.empty() && s.size() < 19 && s.find_first_not_of("0123456789") == std::string::npos)
            return std::stoll(s);
    }
    return ArgError{std::string("argument \"") + key + "\" must be an integer"};
}

std::variant<std::string, ArgError> string_arg(const nlohmann::json& args, const char* key,
                                               std::optional<std::string> fallback) {
    auto it = args.find(key);
    if (it == args.end() || it->is_null()) {
        if (fallback) return *fallback;
        return ArgError{std::string("missing argument \"") + key + "\""};
    }
    if (it->is_string()) return it->get<std::string>();
    return ArgError{std::string("argument \"") + key + "\" must be a string"};
}

std::variant<bool, ArgError> bool_arg(const nlohmann::json& args, const char* key,
                                      std::optional<bool> fallback) {
    auto it = args.find(key);
    if (it == args.end() || it->is_null()) {
        if (fallback) return *fallback;
        return ArgError{std::string("missing argument \"") + key + "\""};
    }
    if (it->is_boolean()) return it->get<bool>();
    return ArgError{std::string("argument \"") + key + "\" must be true or false"};
}

}  // namespace rr::control
