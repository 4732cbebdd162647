#pragma once
// The control socket on the daemon's loop: a Unix stream socket (mode 0660, group from the
// config), several requests per connection, idle connections closed, a cap on connections,
// and event streams whose slow readers are dropped instead of blocking the loop.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "control/events.h"
#include "control/peer.h"
#include "control/registry.h"
#include "core/logging.h"
#include "core/result.h"
#include "uv/loop.h"

namespace rr::control {

struct ServerOptions {
    std::filesystem::path socket_path;
    std::string group = "renderrush";  // socket group; missing group: the daemon's own
    std::string admin_group;           // may run mutating commands ("" = nobody extra)
    int max_connections = 64;
    double idle_timeout_seconds = 300;
    size_t max_subscriber_backlog = 4u << 20;  // bytes queued to a subscriber before it is dropped
    int inherited_fd = -1;                     // a listening socket from systemd socket activation
};

class Server;

namespace detail {

// A uv_pipe_t (the listener or one client) owned like every other libuv handle: freed in its
// close callback, with what its callbacks need (`State`) beside it.
template <class State>
class Pipe : public uv::Handle<uv_pipe_t, State> {
    using Base = uv::Handle<uv_pipe_t, State>;

  public:
    [[nodiscard]] static Result<Pipe> create(uv::Loop& loop, State state) {
        Pipe p;
        auto* b = p.make();
        if (int rc = uv_pipe_init(loop.get(), &b->handle, 0); rc != 0)
            return make_error(Errc::io, std::string("control: pipe: ") + uv_strerror(rc));
        b->initialized = true;
        b->state = std::move(state);
        return p;
    }
    [[nodiscard]] uv_pipe_t* get() { return this->box_ ? &this->box_->handle : nullptr; }
    [[nodiscard]] uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(get()); }
    [[nodiscard]] static State& state_of(void* handle) {
        return static_cast<typename Base::Box*>(static_cast<uv_handle_t*>(handle)->data)->state;
    }
};

}  // namespace detail

class Connection : public Subscriber {
  public:
    // Queues one line; false if the connection is closing.
    bool send(const std::string& line);
    // From now on this connection receives broadcast events and is exempt from the idle timeout.
    void subscribe() override;
    [[nodiscard]] bool subscribed() const { return subscribed_; }
    [[nodiscard]] const Peer& peer() const { return peer_; }
    void close_after_writes();

  private:
    friend class Server;
    // The client pipe's box keeps its connection alive until libuv has closed the pipe, so a
    // callback already queued (a cancelled write, the last read) never finds it freed.
    struct Link {
        std::shared_ptr<Connection> self;
    };
    using ClientPipe = detail::Pipe<Link>;

    Connection(Server& server, uint64_t id) : server_(server), id_(id) {}
    void on_read(ssize_t nread);
    void on_written(int status);
    bool write(const std::string& data);
    // Closes both handles; the connection itself goes with the pipe's close callback.
    void close();
    void touch();

    Server& server_;
    uint64_t id_;
    ClientPipe pipe_;
    uv::Timer idle_;
    bool closing_ = false;
    bool subscribed_ = false;
    bool close_when_flushed_ = false;
    std::string buffer_;
    std::string read_chunk_ = std::string(64 * 1024, '\0');  // libuv reads into this, one at a time
    Peer peer_;
};

class Server {
  public:
    [[nodiscard]] static Result<std::unique_ptr<Server>> start(uv::Loop& loop,
                                                               ServerOptions options,
                                                               const Registry& registry,
                                                               LoggerPtr logger);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Sends an event line to every subscriber.
    void broadcast(const Event& event);
    [[nodiscard]] size_t connections() const { return connections_.size(); }
    [[nodiscard]] const std::filesystem::path& socket_path() const { return options_.socket_path; }

  private:
    friend class Connection;
    Server(uv::Loop& loop, ServerOptions options, const Registry& registry, LoggerPtr logger)
        : loop_(loop),
          options_(std::move(options)),
          registry_(registry),
          logger_(std::move(logger)) {}
    Status listen();
    void on_connection();
    void handle_line(Connection& c, std::string_view line);
    Peer identify(int fd) const;
    void forget(uint64_t id);

    uv::Loop& loop_;
    ServerOptions options_;
    const Registry& registry_;
    LoggerPtr logger_;
    detail::Pipe<std::function<void()>> listener_;  // state: accept the next client
    bool owns_socket_file_ = false;
    AccessRules access_;
    uint64_t next_id_ = 1;
    std::map<uint64_t, std::shared_ptr<Connection>> connections_;
};

}  // namespace rr::control
