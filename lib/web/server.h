#pragma once
// The web dashboard's server: HTTP and WebSocket through libwebsockets on the daemon's own libuv
// loop. It is one more adapter on the control registry (every API call dispatches a control
// command, with the same access check) and on the typed event stream (/api/events).
// Over TCP a token authenticates; on web.sock the peer's credentials do, as on the control
// socket.

#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <string>
#include <unordered_map>

#include "control/events.h"
#include "control/peer.h"
#include "control/registry.h"
#include "core/clock.h"
#include "core/logging.h"
#include "core/result.h"
#include "uv/loop.h"
#include "web/api.h"

struct lws;
struct lws_context;
struct lws_vhost;

namespace rr::web {

struct ServerOptions {
    std::string listen;                 // "host:port"; "" = no TCP
    std::filesystem::path socket_path;  // web.sock; "" = none
    std::string group = "renderrush";   // web.sock's group, as control.group
    std::string admin_group;            // as control.admin_group
    std::string token;                  // required over TCP
    std::filesystem::path root;         // the pages
    int max_connections = 256;
    size_t max_body_bytes = 64 * 1024;
    double requests_per_second = 50;  // per connection, with a burst of twice that
    size_t max_subscriber_backlog = 4u << 20;
};

class Server {
  public:
    [[nodiscard]] static Result<std::unique_ptr<Server>> start(uv::Loop& loop,
                                                               ServerOptions options,
                                                               const control::Registry& registry,
                                                               LoggerPtr logger);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Queues the event for every WebSocket subscriber; one too far behind is dropped.
    void broadcast(const control::Event& event);
    [[nodiscard]] size_t connections() const { return sessions_.size(); }
    [[nodiscard]] size_t subscribers() const;

    // libwebsockets' protocol callback (public for the C protocol table only).
    static int callback(lws* wsi, int reason, void* user, void* in, size_t len);

  private:
    struct Session final : control::Subscriber {
        void subscribe() override { subscribed = true; }
        lws* wsi = nullptr;
        bool on_socket_file = false;
        control::Peer peer;
        // Rate limit: a token bucket refilled at requests_per_second.
        double allowance = 0;
        SteadyClock::time_point refilled = SteadyClock::now();
        // HTTP: the response body still to write, and a POST waiting for its body's end.
        std::string body;
        size_t body_sent = 0;
        std::optional<ApiCall> pending_post;
        size_t body_received = 0;
        // WebSocket
        bool subscribed = false;
        bool dropping = false;
        std::deque<std::string> queue;
        size_t queued_bytes = 0;
    };

    Server(ServerOptions options, const control::Registry& registry, LoggerPtr logger)
        : options_(std::move(options)), registry_(registry), logger_(std::move(logger)) {}
    Status listen(uv::Loop& loop);
    int on_callback(lws* wsi, int reason, void* in, size_t len);
    Session& session(lws* wsi);
    bool rate_ok(Session& s);
    // Who the request is from, or the HTTP status refusing it (401/403).
    unsigned authenticate(lws* wsi, Session& s);
    int on_http(lws* wsi, Session& s, std::string path);
    int run_call(lws* wsi, Session& s, const ApiCall& call);
    int serve_page(lws* wsi, Session& s, const std::string& path);
    // A file from disk with the security headers, sent by libwebsockets.
    int send_file(lws* wsi, const std::filesystem::path& file, const char* mime);
    // Sets the cookie and sends the browser on to `to` (the page without the token).
    int login(lws* wsi, Session& s, const std::string& token, const std::string& to);
    int respond(lws* wsi, Session& s, unsigned status, const char* mime, std::string body,
                const std::vector<std::pair<std::string, std::string>>& headers = {});
    int write_body(lws* wsi, Session& s);
    int on_websocket_open(lws* wsi, Session& s);
    int write_event(lws* wsi, Session& s);
    void enqueue(Session& s, std::string message);
    [[nodiscard]] std::string header(lws* wsi, int token) const;

    ServerOptions options_;
    const control::Registry& registry_;
    LoggerPtr logger_;
    control::AccessRules access_;
    lws_context* context_ = nullptr;
    lws_vhost* tcp_vhost_ = nullptr;
    lws_vhost* unix_vhost_ = nullptr;
    std::unordered_map<lws*, std::unique_ptr<Session>> sessions_;
};

}  // namespace rr::web
