#include "web/server.h"

#include <libwebsockets.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>

#include "web/auth.h"

namespace rr::web {
namespace {

// Pages and their assets: plain names in the root folder, nothing below it, so no URL can
// reach a file outside it.
const char* mime_of(const std::string& name) {
    auto ends = [&](std::string_view ext) {
        return name.size() > ext.size() &&
               name.compare(name.size() - ext.size(), ext.size(), ext) == 0;
    };
    if (ends(".html")) return "text/html; charset=utf-8";
    if (ends(".css")) return "text/css; charset=utf-8";
    if (ends(".js")) return "text/javascript; charset=utf-8";
    if (ends(".svg")) return "image/svg+xml";
    if (ends(".png")) return "image/png";
    if (ends(".ico")) return "image/x-icon";
    if (ends(".jpg")) return "image/jpeg";
    if (ends(".json")) return "application/json";
    return nullptr;
}

bool plain_name(const std::string& name) {
    if (name.empty() || name.front() == '.') return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
    });
}

std::string percent_encode(std::string_view v) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : v) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    return out;
}

// The request's query minus token=..., so a login link can lead to any page (/job?id=7).
std::string query_without_token(lws* wsi) {
    std::string out;
    char buf[1024];
    for (int i = 0; i < 32; ++i) {
        const int n = lws_hdr_copy_fragment(wsi, buf, sizeof buf, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (n <= 0) break;
        std::string_view arg(buf, static_cast<size_t>(n));
        if (arg.substr(0, 6) == "token=") continue;
        const size_t eq = arg.find('=');
        out += out.empty() ? "?" : "&";
        out += percent_encode(arg.substr(0, eq));
        if (eq != std::string_view::npos) out += "=" + percent_encode(arg.substr(eq + 1));
    }
    return out;
}

int lws_thunk(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len) {
    return Server::callback(wsi, static_cast<int>(reason), user, in, len);
}

const lws_protocols kProtocols[] = {
    // Browsers open /api/events without a subprotocol, so the first (default) protocol takes
    // both the HTTP requests and the WebSocket.
    {"renderrush", lws_thunk, 0, 64 * 1024, 0, nullptr, 0},
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},
};

// Headers every answer carries: nothing cached, no MIME sniffing, no framing by other sites.
const std::array<std::pair<const char*, const char*>, 4> kSecurityHeaders = {{
    {"cache-control:", "no-store"},
    {"x-content-type-options:", "nosniff"},
    {"x-frame-options:", "DENY"},
    {"content-security-policy:",
     "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
     "connect-src 'self'"},
}};

}  // namespace

Result<std::unique_ptr<Server>> Server::start(uv::Loop& loop, ServerOptions options,
                                              const control::Registry& registry, LoggerPtr logger) {
    std::unique_ptr<Server> s(new Server(std::move(options), registry, std::move(logger)));
    RR_TRY(s->listen(loop));
    return s;
}

Status Server::listen(uv::Loop& loop) {
    lws_set_log_level(LLL_ERR, nullptr);
    if (auto gid = control::group_id(options_.group))
        access_.socket_gid = *gid;
    else
        access_.socket_gid = getgid();
    access_.admin_gid = control::group_id(options_.admin_group);

    lws_context_creation_info info{};
    // The daemon's loop, not one of lws' own: every callback runs on the loop thread, beside
    // the control socket's.
    void* loops[] = {loop.get(), nullptr};
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    info.foreign_loops = loops;
    info.user = this;
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.max_http_header_data = 4096;
    info.timeout_secs = 30;
    context_ = lws_create_context(&info);
    if (!context_)
        return make_error(Errc::io,
                          "web: cannot start libwebsockets with the libuv loop (is "
                          "libwebsockets-evlib-uv installed?)");

    auto vhost_info = [&](const char* name) {
        lws_context_creation_info v{};
        v.vhost_name = name;
        v.protocols = kProtocols;
        v.keepalive_timeout = 30;
        v.user = this;
        return v;
    };
    if (!options_.listen.empty()) {
        const size_t colon = options_.listen.rfind(':');
        int port = 0;
        std::string host;
        if (colon != std::string::npos) {
            host = options_.listen.substr(0, colon);
            port = std::atoi(options_.listen.c_str() + colon + 1);
        }
        if (port <= 0 || port > 65535)
            return make_error(Errc::config,
                              "web.listen: expected host:port, got \"" + options_.listen + "\"");
        if (host.size() > 2 && host.front() == '[' && host.back() == ']')
            host = host.substr(1, host.size() - 2);
        auto v = vhost_info("tcp");
        v.port = port;
        v.iface = host.empty() || host == "*" ? nullptr : host.c_str();
        tcp_vhost_ = lws_create_vhost(context_, &v);
        if (!tcp_vhost_) return make_error(Errc::io, "web: cannot listen on " + options_.listen);
    }
    if (!options_.socket_path.empty()) {
        std::error_code ec;
        std::filesystem::create_directories(options_.socket_path.parent_path(), ec);
        auto v = vhost_info("unix");
        v.options = LWS_SERVER_OPTION_UNIX_SOCK;
        const std::string path = options_.socket_path.string();
        v.iface = path.c_str();
        unix_vhost_ = lws_create_vhost(context_, &v);
        if (!unix_vhost_) return make_error(Errc::io, "web: cannot listen on " + path);
        // The control socket's rules: the group may connect, the filesystem refuses the rest.
        ::chmod(path.c_str(), 0660);
        if (::chown(path.c_str(), static_cast<uid_t>(-1), access_.socket_gid) != 0)
            logger_->warn("web: cannot give {} to group {}", path, access_.socket_gid);
    }
    return {};
}

Server::~Server() {
    if (context_) lws_context_destroy(context_);
    if (!options_.socket_path.empty()) ::unlink(options_.socket_path.c_str());
}

size_t Server::subscribers() const {
    return static_cast<size_t>(std::count_if(sessions_.begin(), sessions_.end(),
                                             [](const auto& kv) { return kv.second->subscribed; }));
}

int Server::callback(lws* wsi, int reason, void*, void* in, size_t len) {
    auto* self = static_cast<Server*>(lws_context_user(lws_get_context(wsi)));
    return self ? self->on_callback(wsi, reason, in, len) : 0;
}

Server::Session& Server::session(lws* wsi) {
    auto& slot = sessions_[wsi];
    if (!slot) {
        slot = std::make_unique<Session>();
        slot->wsi = wsi;
        slot->allowance = options_.requests_per_second * 2;
        slot->on_socket_file = unix_vhost_ && lws_get_vhost(wsi) == unix_vhost_;
        if (slot->on_socket_file) {
            slot->peer = control::identify_peer(lws_get_socket_fd(wsi), access_);
        } else {
            // Whoever holds the token holds the daemon's own rights: only the daemon's user
            // (and root) can read the token file.
            slot->peer.uid = getuid();
            slot->peer.gid = getgid();
            slot->peer.may_read = slot->peer.may_change = true;
        }
    }
    return *slot;
}

bool Server::rate_ok(Session& s) {
    const auto now = SteadyClock::now();
    const double burst = options_.requests_per_second * 2;
    s.allowance =
        std::min(burst, s.allowance + options_.requests_per_second *
                                          std::chrono::duration<double>(now - s.refilled).count());
    s.refilled = now;
    if (s.allowance < 1) return false;
    s.allowance -= 1;
    return true;
}

std::string Server::header(lws* wsi, int token) const {
    const auto t = static_cast<lws_token_indexes>(token);
    const int n = lws_hdr_total_length(wsi, t);
    if (n <= 0) return {};
    std::string out(static_cast<size_t>(n) + 1, '\0');
    if (lws_hdr_copy(wsi, out.data(), n + 1, t) < 0) return {};
    out.resize(static_cast<size_t>(n));
    return out;
}

unsigned Server::authenticate(lws* wsi, Session& s) {
    if (s.on_socket_file) return s.peer.may_read ? 200 : 403;
    std::optional<std::string> given = bearer_token(header(wsi, WSI_TOKEN_HTTP_AUTHORIZATION));
    if (!given) given = cookie_value(header(wsi, WSI_TOKEN_HTTP_COOKIE), kCookieName);
    return given && token_matches(*given, options_.token) ? 200 : 401;
}

int Server::on_callback(lws* wsi, int reason, void* in, size_t len) {
    switch (reason) {
        case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
            if (sessions_.size() >= static_cast<size_t>(options_.max_connections)) {
                logger_->warn("web: refusing a connection, {} already open", sessions_.size());
                return 1;
            }
            return 0;
        case LWS_CALLBACK_HTTP: {
            auto& s = session(wsi);
            return on_http(wsi, s, std::string(static_cast<const char*>(in), len));
        }
        case LWS_CALLBACK_HTTP_BODY: {
            auto& s = session(wsi);
            s.body_received += len;
            if (s.body_received > options_.max_body_bytes) {
                s.pending_post.reset();
                return respond(wsi, s, 413, "application/json", R"({"error":"request too large"})");
            }
            return 0;
        }
        case LWS_CALLBACK_HTTP_BODY_COMPLETION: {
            auto& s = session(wsi);
            if (!s.pending_post) return 0;
            ApiCall call = std::move(*s.pending_post);
            s.pending_post.reset();
            return run_call(wsi, s, call);
        }
        case LWS_CALLBACK_HTTP_WRITEABLE:
            return write_body(wsi, session(wsi));
        case LWS_CALLBACK_HTTP_FILE_COMPLETION:
            return lws_http_transaction_completed(wsi) ? -1 : 0;
        case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
            // The WebSocket handshake: the same door as every other request.
            auto& s = session(wsi);
            const std::string uri = header(wsi, WSI_TOKEN_GET_URI);
            if (uri != "/api/events") return 1;
            const std::string origin = header(wsi, WSI_TOKEN_ORIGIN);
            if (!origin.empty() && !s.on_socket_file &&
                !same_origin(origin, header(wsi, WSI_TOKEN_HOST)))
                return 1;
            return authenticate(wsi, s) == 200 ? 0 : 1;
        }
        case LWS_CALLBACK_ESTABLISHED:
            return on_websocket_open(wsi, session(wsi));
        case LWS_CALLBACK_SERVER_WRITEABLE:
            return write_event(wsi, session(wsi));
        case LWS_CALLBACK_RECEIVE: {
            // The stream is one-way; a client that talks a lot only spends its allowance.
            auto& s = session(wsi);
            return rate_ok(s) ? 0 : -1;
        }
        case LWS_CALLBACK_CLOSED:
        case LWS_CALLBACK_CLOSED_HTTP:
        case LWS_CALLBACK_WSI_DESTROY:
            sessions_.erase(wsi);
            return 0;
        default:
            return 0;
    }
}

int Server::on_http(lws* wsi, Session& s, std::string path) {
    if (!rate_ok(s)) return respond(wsi, s, 429, "application/json", R"({"error":"slow down"})");
    const bool is_get = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0;
    const bool is_post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
    const Method method = is_get ? Method::get : is_post ? Method::post : Method::other;
    const bool api = path.rfind("/api/", 0) == 0;

    if (!s.on_socket_file && !api && is_get) {
        char buf[256];
        if (const char* t = lws_get_urlarg_by_name(wsi, "token=", buf, sizeof buf))
            return login(wsi, s, t, path + query_without_token(wsi));
    }
    if (const unsigned st = authenticate(wsi, s); st != 200) {
        if (api)
            return respond(wsi, s, st, "application/json",
                           nlohmann::json{{"error", st == 401 ? "the web token is missing or wrong"
                                                              : "not allowed for this user"}}
                               .dump());
        return respond(wsi, s, st, "text/html; charset=utf-8",
                       st == 401 ? "<!doctype html><title>RenderRush</title><p>Open the login "
                                   "link that <code>renderrushctl web-url</code> prints.</p>"
                                 : "<!doctype html><title>RenderRush</title><p>Not allowed.</p>");
    }
    if (is_post) {
        // A browser says where a form or script came from; another site may not change anything.
        const std::string origin = header(wsi, WSI_TOKEN_ORIGIN);
        if (!origin.empty() && !same_origin(origin, header(wsi, WSI_TOKEN_HOST))) {
            logger_->warn("web: refused a POST to {} from origin {}", path, origin);
            return respond(wsi, s, 403, "application/json",
                           R"({"error":"cross-origin request refused"})");
        }
    }
    if (!api) {
        if (!is_get) return respond(wsi, s, 405, "text/plain", "use GET");
        return serve_page(wsi, s, path);
    }
    auto routed = route(method, path, [&](const char* name) -> std::optional<std::string> {
        char buf[1024];
        const std::string key = std::string(name) + "=";
        const char* v = lws_get_urlarg_by_name(wsi, key.c_str(), buf, sizeof buf);
        if (!v) return std::nullopt;
        return std::string(v);
    });
    if (auto* err = std::get_if<HttpError>(&routed))
        return respond(wsi, s, err->status, "application/json",
                       nlohmann::json{{"error", err->message}}.dump());
    auto& call = std::get<ApiCall>(routed);
    if (is_post) {
        const std::string length = header(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH);
        const long long n = length.empty() ? 0 : std::atoll(length.c_str());
        if (n > static_cast<long long>(options_.max_body_bytes))
            return respond(wsi, s, 413, "application/json", R"({"error":"request too large"})");
        if (n > 0) {
            // Answer once the body is read, so it is not taken for the next request.
            s.pending_post = std::move(call);
            s.body_received = 0;
            return 0;
        }
    }
    return run_call(wsi, s, call);
}

int Server::run_call(lws* wsi, Session& s, const ApiCall& call) {
    control::Request req;
    req.cmd = call.cmd;
    req.args = call.args;
    const control::Reply reply = registry_.dispatch(control::CommandContext{req, s.peer, s});
    if (reply.code == control::Code::forbidden) {
        logger_->warn("web: refused \"{}\" for uid {} (pid {})", req.cmd, s.peer.uid, s.peer.pid);
    } else if (registry_.mutating(req.cmd)) {
        logger_->info("web: \"{}\" from uid {}: {}", req.cmd, s.peer.uid,
                      reply.code == control::Code::ok ? std::string("ok") : reply.error);
    }
    if (call.shape == ApiCall::Shape::file && reply.code == control::Code::ok) {
        const std::string path = file_path(call, reply.data);
        std::error_code ec;
        if (path.empty() || !std::filesystem::is_regular_file(path, ec))
            return respond(wsi, s, 404, "application/json", R"({"error":"no such picture"})");
        return send_file(wsi, path, "image/jpeg");
    }
    std::vector<std::pair<std::string, std::string>> headers;
    if (call.shape == ApiCall::Shape::sidecar && reply.code == control::Code::ok) {
        headers.emplace_back("content-disposition:",
                             "attachment; filename=\"job-" +
                                 std::to_string(call.args.value("id", int64_t{0})) +
                                 ".sidecar.json\"");
    }
    return respond(
        wsi, s, http_status(reply.code), "application/json",
        response_body(call, reply).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
        headers);
}

int Server::login(lws* wsi, Session& s, const std::string& token, const std::string& to) {
    if (!token_matches(token, options_.token)) {
        logger_->warn("web: a login link with a wrong token");
        return respond(wsi, s, 401, "text/html; charset=utf-8",
                       "<!doctype html><title>RenderRush</title><p>This login link is not "
                       "valid (any more). Ask <code>renderrushctl web-url</code> for a new "
                       "one.</p>");
    }
    // The token leaves the address bar at once and lives on only in a cookie scripts cannot read.
    return respond(wsi, s, 302, "text/plain", "",
                   {{"set-cookie:", std::string(kCookieName) + "=" + token +
                                        "; Path=/; HttpOnly; SameSite=Strict"},
                    {"location:", to}});
}

int Server::serve_page(lws* wsi, Session& s, const std::string& path) {
    std::string name = path == "/" ? "index.html" : path.substr(1);
    if (name == "job" || name == "jobs") name += ".html";
    const char* mime = plain_name(name) ? mime_of(name) : nullptr;
    const auto file = options_.root / name;
    std::error_code ec;
    if (!mime || !std::filesystem::is_regular_file(file, ec))
        return respond(wsi, s, 404, "text/plain", "not found");
    return send_file(wsi, file, mime);
}

int Server::send_file(lws* wsi, const std::filesystem::path& file, const char* mime) {
    std::string extra;
    {
        unsigned char buf[1024];
        unsigned char *p = buf, *end = buf + sizeof buf;
        for (const auto& [k, v] : kSecurityHeaders) {
            if (lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char*>(k),
                                            reinterpret_cast<const unsigned char*>(v),
                                            static_cast<int>(std::strlen(v)), &p, end))
                return -1;
        }
        extra.assign(reinterpret_cast<char*>(buf), static_cast<size_t>(p - buf));
    }
    const int rc =
        lws_serve_http_file(wsi, file.c_str(), mime, extra.c_str(), static_cast<int>(extra.size()));
    if (rc < 0) return -1;
    if (rc > 0) return lws_http_transaction_completed(wsi) ? -1 : 0;
    return 0;
}

int Server::respond(lws* wsi, Session& s, unsigned status, const char* mime, std::string body,
                    const std::vector<std::pair<std::string, std::string>>& headers) {
    std::vector<unsigned char> buf(LWS_PRE + 4096);
    unsigned char *start = buf.data() + LWS_PRE, *p = start, *end = buf.data() + buf.size() - 1;
    if (lws_add_http_common_headers(wsi, status, mime, body.size(), &p, end)) return -1;
    auto add = [&](const char* k, const std::string& v) {
        return lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char*>(k),
                                           reinterpret_cast<const unsigned char*>(v.data()),
                                           static_cast<int>(v.size()), &p, end);
    };
    for (const auto& [k, v] : kSecurityHeaders)
        if (add(k, v)) return -1;
    for (const auto& [k, v] : headers)
        if (add(k.c_str(), v)) return -1;
    if (lws_finalize_write_http_header(wsi, start, &p, end)) return -1;
    s.body = std::move(body);
    s.body_sent = 0;
    if (s.body.empty()) return lws_http_transaction_completed(wsi) ? -1 : 0;
    lws_callback_on_writable(wsi);
    return 0;
}

int Server::write_body(lws* wsi, Session& s) {
    if (s.body_sent >= s.body.size()) return 0;
    const size_t n = std::min<size_t>(s.body.size() - s.body_sent, 16 * 1024);
    std::vector<unsigned char> buf(LWS_PRE + n);
    std::memcpy(buf.data() + LWS_PRE, s.body.data() + s.body_sent, n);
    s.body_sent += n;
    const bool last = s.body_sent >= s.body.size();
    if (lws_write(wsi, buf.data() + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) !=
        static_cast<int>(n))
        return -1;
    if (!last) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    s.body.clear();
    s.body_sent = 0;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

int Server::on_websocket_open(lws* wsi, Session& s) {
    // The control protocol's own `subscribe`, with its access check, on this connection.
    control::Request req;
    req.cmd = "subscribe";
    const control::Reply reply = registry_.dispatch(control::CommandContext{req, s.peer, s});
    std::string first = reply.encode();
    if (!first.empty() && first.back() == '\n') first.pop_back();
    enqueue(s, std::move(first));
    if (reply.code != control::Code::ok) {
        s.dropping = true;
        return 0;
    }
    // As for a control-socket subscriber: keep the kernel's share of an unread stream small,
    // so the backlog limit bites before memory does.
    int size = 64 * 1024;
    setsockopt(lws_get_socket_fd(wsi), SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    return 0;
}

void Server::enqueue(Session& s, std::string message) {
    s.queued_bytes += message.size();
    s.queue.push_back(std::move(message));
    lws_callback_on_writable(s.wsi);
}

void Server::broadcast(const control::Event& event) {
    std::string line = control::encode(event);
    if (!line.empty() && line.back() == '\n') line.pop_back();
    for (auto& [wsi, s] : sessions_) {
        if (!s->subscribed || s->dropping) continue;
        if (s->queued_bytes > options_.max_subscriber_backlog) {
            // As on the control socket: a reader this slow would grow our memory without bound.
            logger_->warn("web: dropping a WebSocket subscriber (uid {}) that does not keep up",
                          s->peer.uid);
            s->queue.clear();
            s->queued_bytes = 0;
            s->subscribed = false;
            s->dropping = true;
            std::string last = control::encode(control::ErrorEvent{
                "subscriber too slow; events were dropped and the stream is closed"});
            last.pop_back();
            enqueue(*s, std::move(last));
            continue;
        }
        enqueue(*s, line);
    }
}

int Server::write_event(lws* wsi, Session& s) {
    if (s.queue.empty()) return s.dropping ? -1 : 0;
    std::string msg = std::move(s.queue.front());
    s.queue.pop_front();
    s.queued_bytes -= msg.size();
    std::vector<unsigned char> buf(LWS_PRE + msg.size());
    std::memcpy(buf.data() + LWS_PRE, msg.data(), msg.size());
    if (lws_write(wsi, buf.data() + LWS_PRE, msg.size(), LWS_WRITE_TEXT) <
        static_cast<int>(msg.size()))
        return -1;
    if (!s.queue.empty() || s.dropping) lws_callback_on_writable(wsi);
    return 0;
}

}  // namespace rr::web
