#include "control/server.h"

#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <vector>

namespace rr::control {
namespace {

struct WriteRequest {
    uv_write_t req{};
    std::string data;
};

std::optional<unsigned> group_id(const std::string& name) {
    if (name.empty()) return std::nullopt;
    std::vector<char> buf(16384);
    struct group gr {
    }, *out = nullptr;
    if (getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &out) != 0 || !out)
        return std::nullopt;
    return out->gr_gid;
}

// The groups a user belongs to (primary and supplementary).
std::vector<gid_t> groups_of(uid_t uid, gid_t primary) {
    std::vector<gid_t> groups{primary};
    std::vector<char> buf(16384);
    struct passwd pw {
    }, *out = nullptr;
    if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &out) != 0 || !out) return groups;
    int n = 64;
    std::vector<gid_t> list(static_cast<size_t>(n));
    if (getgrouplist(out->pw_name, out->pw_gid, list.data(), &n) == -1) {
        list.resize(static_cast<size_t>(n));
        getgrouplist(out->pw_name, out->pw_gid, list.data(), &n);
    }
    list.resize(static_cast<size_t>(std::max(n, 0)));
    groups.insert(groups.end(), list.begin(), list.end());
    return groups;
}

// A socket file nobody answers on is left over from a crash; one that answers is in use.
Status clear_stale_socket(const std::filesystem::path& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return {};
    if (!S_ISSOCK(st.st_mode))
        return make_error(Errc::conflict, path.string() + " exists and is not a socket");
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    const bool alive = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    if (alive)
        return make_error(Errc::conflict, "another renderrushd is listening on " + path.string());
    ::unlink(path.c_str());
    return {};
}

}  // namespace

Result<std::unique_ptr<Server>> Server::start(uv::Loop& loop, ServerOptions options,
                                              const Registry& registry, LoggerPtr logger) {
    std::unique_ptr<Server> s(new Server(loop, std::move(options), registry, std::move(logger)));
    RR_TRY(s->listen());
    return s;
}

Status Server::listen() {
    listener_ = new uv_pipe_t{};
    uv_pipe_init(loop_.get(), listener_, 0);
    listener_->data = this;
    if (auto gid = group_id(options_.group)) {
        socket_gid_ = *gid;
    } else {
        socket_gid_ = getgid();
        if (!options_.group.empty())
            logger_->warn("control: group '{}' does not exist; the socket keeps the daemon's group",
                          options_.group);
    }
    if (auto gid = group_id(options_.admin_group)) {
        admin_gid_ = *gid;
        have_admin_group_ = true;
    }
    if (options_.inherited_fd >= 0) {
        if (int rc = uv_pipe_open(listener_, options_.inherited_fd); rc != 0) {
            return make_error(
                Errc::io,
                std::string("control: cannot use the socket from systemd: ") + uv_strerror(rc));
        }
    } else {
        std::error_code ec;
        std::filesystem::create_directories(options_.socket_path.parent_path(), ec);
        RR_TRY(clear_stale_socket(options_.socket_path));
        if (int rc = uv_pipe_bind(listener_, options_.socket_path.c_str()); rc != 0) {
            return make_error(Errc::io, "control: cannot bind " + options_.socket_path.string() +
                                            ": " + uv_strerror(rc));
        }
        owns_socket_file_ = true;
        // Group members may connect; everyone else is refused by the filesystem itself.
        ::chmod(options_.socket_path.c_str(), 0660);
        if (::chown(options_.socket_path.c_str(), static_cast<uid_t>(-1), socket_gid_) != 0) {
            logger_->warn("control: cannot give {} to group {}", options_.socket_path.string(),
                          socket_gid_);
        }
    }
    int rc = uv_listen(reinterpret_cast<uv_stream_t*>(listener_), 128,
                       [](uv_stream_t* server, int status) {
                           if (status == 0) static_cast<Server*>(server->data)->on_connection();
                       });
    if (rc != 0) return make_error(Errc::io, std::string("control: listen: ") + uv_strerror(rc));
    return {};
}

Server::~Server() {
    for (auto& [id, c] : std::map<uint64_t, Connection*>(connections_)) c->close();
    if (listener_) {
        uv_close(reinterpret_cast<uv_handle_t*>(listener_),
                 [](uv_handle_t* h) { delete reinterpret_cast<uv_pipe_t*>(h); });
    }
    if (owns_socket_file_) ::unlink(options_.socket_path.c_str());
}

Peer Server::identify(int fd) const {
    Peer p;
    ucred cred{};
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return p;
    p.pid = cred.pid;
    p.uid = cred.uid;
    p.gid = cred.gid;
    const bool privileged = cred.uid == 0 || cred.uid == getuid();
    bool in_socket_group = false, in_admin_group = false;
    for (gid_t g : groups_of(cred.uid, cred.gid)) {
        in_socket_group = in_socket_group || g == socket_gid_;
        in_admin_group = in_admin_group || (have_admin_group_ && g == admin_gid_);
    }
    p.may_read = privileged || in_socket_group || in_admin_group;
    p.may_change = privileged || in_admin_group;
    return p;
}

void Server::on_connection() {
    auto* c = new Connection(*this, next_id_++);
    uv_pipe_init(loop_.get(), &c->pipe_, 0);
    c->pipe_.data = c;
    c->open_handles_ = 1;
    if (uv_accept(reinterpret_cast<uv_stream_t*>(listener_),
                  reinterpret_cast<uv_stream_t*>(&c->pipe_)) != 0) {
        c->close();
        return;
    }
    uv_timer_init(loop_.get(), &c->idle_);
    c->idle_.data = c;
    c->open_handles_ = 2;
    connections_[c->id_] = c;
    if (connections_.size() > static_cast<size_t>(options_.max_connections)) {
        logger_->warn("control: refusing a connection, {} already open", options_.max_connections);
        c->send(Reply::failure(Code::error, "too many connections").encode());
        c->close_after_writes();
        return;
    }
    uv_os_fd_t fd = -1;
    uv_fileno(reinterpret_cast<uv_handle_t*>(&c->pipe_), &fd);
    c->peer_ = identify(fd);
    c->touch();
    uv_read_start(
        reinterpret_cast<uv_stream_t*>(&c->pipe_),
        [](uv_handle_t*, size_t suggested, uv_buf_t* buf) {
            buf->base = new char[suggested];
            buf->len = suggested;
        },
        [](uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
            static_cast<Connection*>(stream->data)->on_read(nread, buf);
            delete[] buf->base;
        });
}

void Server::handle_line(Connection& c, std::string_view line) {
    auto parsed = parse_request(line);
    if (auto* reply = std::get_if<Reply>(&parsed)) {
        c.send(reply->encode());  // the connection survives a malformed request
        return;
    }
    const Request& req = std::get<Request>(parsed);
    Reply reply = registry_.dispatch(CommandContext{req, c.peer(), c});
    if (reply.code == Code::forbidden) {
        logger_->warn("control: refused \"{}\" for uid {} (pid {})", req.cmd, c.peer().uid,
                      c.peer().pid);
    } else if (registry_.mutating(req.cmd)) {
        logger_->info("control: \"{}\" from uid {}: {}", req.cmd, c.peer().uid,
                      reply.code == Code::ok ? std::string("ok") : reply.error);
    }
    c.send(reply.encode());
}

void Server::broadcast(const nlohmann::json& event) {
    const std::string line =
        event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    for (auto& [id, c] : std::map<uint64_t, Connection*>(connections_)) {
        if (c->subscribed()) c->send(line);
    }
}

void Server::forget(uint64_t id) {
    connections_.erase(id);
}

void Connection::subscribe() {
    subscribed_ = true;
    uv_timer_stop(&idle_);
    // Keep the kernel's share of an unread stream small too, so the backlog limit bites.
    uv_os_fd_t fd = -1;
    if (uv_fileno(reinterpret_cast<uv_handle_t*>(&pipe_), &fd) == 0) {
        int size = 64 * 1024;
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    }
}

void Connection::touch() {
    if (subscribed_ || closing_) return;
    const auto ms = static_cast<uint64_t>(server_.options_.idle_timeout_seconds * 1000);
    uv_timer_start(
        &idle_, [](uv_timer_t* t) { static_cast<Connection*>(t->data)->close(); }, ms, 0);
}

void Connection::on_read(ssize_t nread, const uv_buf_t* buf) {
    if (nread < 0) {
        close();  // EOF or error: the client went away
        return;
    }
    if (closing_ || close_when_flushed_) return;
    touch();
    buffer_.append(buf->base, static_cast<size_t>(nread));
    size_t start = 0;
    while (true) {
        const size_t nl = buffer_.find('\n', start);
        if (nl == std::string::npos) break;
        if (nl - start > kMaxLineBytes) break;
        server_.handle_line(*this, std::string_view(buffer_).substr(start, nl - start));
        if (closing_) return;
        start = nl + 1;
    }
    buffer_.erase(0, start);
    if (buffer_.size() > kMaxLineBytes) {
        send(Reply::failure(Code::error, "request line longer than 1 MiB; closing the connection")
                 .encode());
        buffer_.clear();
        close_after_writes();
    }
}

bool Connection::write(const std::string& data) {
    auto* w = new WriteRequest{};
    w->data = data;
    w->req.data = this;
    uv_buf_t b = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
    int rc = uv_write(
        &w->req, reinterpret_cast<uv_stream_t*>(&pipe_), &b, 1, [](uv_write_t* req, int status) {
            auto* c = static_cast<Connection*>(req->data);
            delete reinterpret_cast<WriteRequest*>(req);
            if (status < 0)
                c->close();
            else if (c->close_when_flushed_ &&
                     uv_stream_get_write_queue_size(reinterpret_cast<uv_stream_t*>(&c->pipe_)) == 0)
                c->close();
        });
    if (rc != 0) {
        delete w;
        close();
        return false;
    }
    return true;
}

bool Connection::send(const std::string& line) {
    if (closing_ || close_when_flushed_) return false;
    auto* stream = reinterpret_cast<uv_stream_t*>(&pipe_);
    if (subscribed_ &&
        uv_stream_get_write_queue_size(stream) > server_.options_.max_subscriber_backlog) {
        // A reader this slow would grow our memory without bound: tell it why and let it go.
        server_.logger_->warn("control: dropping a subscriber (uid {}) that does not keep up",
                              peer_.uid);
        subscribed_ = false;
        write(
            R"({"event":"error","error":"subscriber too slow; events were dropped and the stream is closed"})"
            "\n");
        close_after_writes();
        return false;
    }
    return write(line);
}

void Connection::close_after_writes() {
    close_when_flushed_ = true;
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&pipe_));
    if (uv_stream_get_write_queue_size(reinterpret_cast<uv_stream_t*>(&pipe_)) == 0) close();
}

void Connection::close() {
    if (closing_) return;
    closing_ = true;
    server_.forget(id_);
    auto done = [](uv_handle_t* h) {
        auto* c = static_cast<Connection*>(h->data);
        if (--c->open_handles_ == 0) delete c;
    };
    if (open_handles_ >= 2) uv_close(reinterpret_cast<uv_handle_t*>(&idle_), done);
    if (open_handles_ >= 1)
        uv_close(reinterpret_cast<uv_handle_t*>(&pipe_), done);
    else
        delete this;
}

}  // namespace rr::control
