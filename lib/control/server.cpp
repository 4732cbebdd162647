#include "control/server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <vector>

#include "control/peer.h"

namespace rr::control {
namespace {

// One queued write: libuv holds it from uv_write until the write callback, which frees it.
struct WriteRequest {
    uv_write_t req{};
    std::string data;
};

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
    RR_ASSIGN(listener_,
              detail::Pipe<std::function<void()>>::create(loop_, [this] { on_connection(); }));
    if (auto gid = group_id(options_.group)) {
        access_.socket_gid = *gid;
    } else {
        access_.socket_gid = getgid();
        if (!options_.group.empty())
            logger_->warn("control: group '{}' does not exist; the socket keeps the daemon's group",
                          options_.group);
    }
    access_.admin_gid = group_id(options_.admin_group);
    if (options_.inherited_fd >= 0) {
        if (int rc = uv_pipe_open(listener_.get(), options_.inherited_fd); rc != 0) {
            return make_error(
                Errc::io,
                std::string("control: cannot use the socket from systemd: ") + uv_strerror(rc));
        }
    } else {
        std::error_code ec;
        std::filesystem::create_directories(options_.socket_path.parent_path(), ec);
        RR_TRY(clear_stale_socket(options_.socket_path));
        if (int rc = uv_pipe_bind(listener_.get(), options_.socket_path.c_str()); rc != 0) {
            return make_error(Errc::io, "control: cannot bind " + options_.socket_path.string() +
                                            ": " + uv_strerror(rc));
        }
        owns_socket_file_ = true;
        // Group members may connect; everyone else is refused by the filesystem itself.
        ::chmod(options_.socket_path.c_str(), 0660);
        if (::chown(options_.socket_path.c_str(), static_cast<uid_t>(-1), access_.socket_gid) !=
            0) {
            logger_->warn("control: cannot give {} to group {}", options_.socket_path.string(),
                          access_.socket_gid);
        }
    }
    int rc = uv_listen(listener_.stream(), 128, [](uv_stream_t* server, int status) {
        if (status == 0) detail::Pipe<std::function<void()>>::state_of(server)();
    });
    if (rc != 0) return make_error(Errc::io, std::string("control: listen: ") + uv_strerror(rc));
    return {};
}

Server::~Server() {
    // Each connection outlives this server until its pipe's close callback; closing ones never
    // call back into it.
    for (auto& [id, c] : std::map(connections_)) c->close();
    listener_.close();
    if (owns_socket_file_) ::unlink(options_.socket_path.c_str());
}

Peer Server::identify(int fd) const {
    return identify_peer(fd, access_);
}

void Server::on_connection() {
    std::shared_ptr<Connection> c(new Connection(*this, next_id_++));
    auto pipe = Connection::ClientPipe::create(loop_, Connection::Link{c});
    auto idle = uv::Timer::create(loop_, [raw = c.get()] { raw->close(); });
    if (!pipe || !idle) {
        logger_->warn("control: cannot take a connection: {}",
                      (!pipe ? pipe.error() : idle.error()).message);
        if (pipe) pipe->close();
        return;
    }
    c->pipe_ = std::move(*pipe);
    c->idle_ = std::move(*idle);
    if (uv_accept(listener_.stream(), c->pipe_.stream()) != 0) {
        c->close();
        return;
    }
    connections_[c->id_] = c;
    if (connections_.size() > static_cast<size_t>(options_.max_connections)) {
        logger_->warn("control: refusing a connection, {} already open", options_.max_connections);
        c->send(Reply::failure(Code::error, "too many connections").encode());
        c->close_after_writes();
        return;
    }
    uv_os_fd_t fd = -1;
    uv_fileno(reinterpret_cast<uv_handle_t*>(c->pipe_.get()), &fd);
    c->peer_ = identify(fd);
    c->touch();
    uv_read_start(
        c->pipe_.stream(),
        [](uv_handle_t* h, size_t, uv_buf_t* buf) {
            auto& chunk = Connection::ClientPipe::state_of(h).self->read_chunk_;
            *buf = uv_buf_init(chunk.data(), static_cast<unsigned>(chunk.size()));
        },
        [](uv_stream_t* stream, ssize_t nread, const uv_buf_t*) {
            Connection::ClientPipe::state_of(stream).self->on_read(nread);
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

void Server::broadcast(const Event& event) {
    const std::string line = encode(event);
    for (auto& [id, c] : std::map(connections_)) {
        if (c->subscribed()) c->send(line);
    }
}

void Server::forget(uint64_t id) {
    connections_.erase(id);
}

void Connection::subscribe() {
    subscribed_ = true;
    idle_.stop();
    // Keep the kernel's share of an unread stream small too, so the backlog limit bites.
    uv_os_fd_t fd = -1;
    if (uv_fileno(reinterpret_cast<uv_handle_t*>(pipe_.get()), &fd) == 0) {
        int size = 64 * 1024;
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    }
}

void Connection::touch() {
    if (subscribed_ || closing_) return;
    idle_.start(static_cast<uint64_t>(server_.options_.idle_timeout_seconds * 1000), 0);
}

void Connection::on_read(ssize_t nread) {
    if (nread < 0) {
        close();  // EOF or error: the client went away
        return;
    }
    if (closing_ || close_when_flushed_) return;
    touch();
    buffer_.append(read_chunk_.data(), static_cast<size_t>(nread));
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
    auto w = std::make_unique<WriteRequest>();
    w->data = data;
    w->req.data = w.get();
    uv_buf_t b = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
    int rc = uv_write(&w->req, pipe_.stream(), &b, 1, [](uv_write_t* req, int status) {
        std::unique_ptr<WriteRequest> done(static_cast<WriteRequest*>(req->data));
        ClientPipe::state_of(req->handle).self->on_written(status);
    });
    if (rc != 0) {
        close();
        return false;
    }
    w.release();  // the write callback owns it now
    return true;
}

void Connection::on_written(int status) {
    if (closing_) return;  // cancelled by the close, or the close came first
    if (status < 0)
        close();
    else if (close_when_flushed_ && uv_stream_get_write_queue_size(pipe_.stream()) == 0)
        close();
}

bool Connection::send(const std::string& line) {
    if (closing_ || close_when_flushed_) return false;
    auto* stream = pipe_.stream();
    if (subscribed_ &&
        uv_stream_get_write_queue_size(stream) > server_.options_.max_subscriber_backlog) {
        // A reader this slow would grow our memory without bound: tell it why and let it go.
        server_.logger_->warn("control: dropping a subscriber (uid {}) that does not keep up",
                              peer_.uid);
        subscribed_ = false;
        write(encode(
            ErrorEvent{"subscriber too slow; events were dropped and the stream is closed"}));
        close_after_writes();
        return false;
    }
    return write(line);
}

void Connection::close_after_writes() {
    if (closing_) return;
    close_when_flushed_ = true;
    uv_read_stop(pipe_.stream());
    if (uv_stream_get_write_queue_size(pipe_.stream()) == 0) close();
}

void Connection::close() {
    if (closing_) return;
    closing_ = true;
    idle_.close();
    pipe_.close();  // its close callback drops the last reference to this connection
    server_.forget(id_);
}

}  // namespace rr::control
