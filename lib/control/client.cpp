#include "control/client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace rr::control {

Result<Client> Client::connect(const std::filesystem::path& socket) {
    Client c;
    c.fd_ = watch::Fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!c.fd_.valid()) return make_error(Errc::io, std::string("socket: ") + std::strerror(errno));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (socket.string().size() >= sizeof addr.sun_path)
        return make_error(Errc::invalid_argument, "socket path too long");
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", socket.c_str());
    if (::connect(c.fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        const int err = errno;
        return make_error(
            err == ENOENT ? Errc::not_found : Errc::io,
            "cannot reach renderrushd at " + socket.string() + ": " + std::strerror(err));
    }
    return c;
}

Status Client::send_raw(const std::string& bytes) {
    size_t off = 0;
    while (off < bytes.size()) {
        ssize_t n = ::send(fd_.get(), bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            return make_error(Errc::io, std::string("send: ") + std::strerror(errno));
        }
        off += static_cast<size_t>(n);
    }
    return {};
}

Result<std::optional<std::string>> Client::read_line(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
            std::string line = buffer_.substr(0, nl);
            buffer_.erase(0, nl + 1);
            return std::optional<std::string>(std::move(line));
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return std::optional<std::string>();
        pollfd p{fd_.get(), POLLIN, 0};
        int r = ::poll(&p, 1, static_cast<int>(left.count()));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) continue;
        char buf[65536];
        ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
        if (n == 0) return make_error(Errc::io, "renderrushd closed the connection");
        if (n < 0) {
            if (errno == EINTR) continue;
            return make_error(Errc::io, std::string("recv: ") + std::strerror(errno));
        }
        buffer_.append(buf, static_cast<size_t>(n));
    }
}

Result<std::optional<nlohmann::json>> Client::next(std::chrono::milliseconds timeout) {
    RR_ASSIGN(auto line, read_line(timeout));
    if (!line) return std::optional<nlohmann::json>();
    auto j = nlohmann::json::parse(*line, nullptr, false);
    if (j.is_discarded())
        return make_error(Errc::io, "renderrushd sent something that is not JSON");
    return std::optional<nlohmann::json>(std::move(j));
}

Result<Response> Client::call(const std::string& cmd, const nlohmann::json& args) {
    const int64_t id = next_id_++;
    nlohmann::json req = {{"id", id}, {"cmd", cmd}, {"args", args}};
    RR_TRY(send_raw(req.dump() + "\n"));
    while (true) {
        RR_ASSIGN(auto msg, next(std::chrono::minutes(5)));
        if (!msg) return make_error(Errc::io, "no reply from renderrushd within 5 minutes");
        if (!msg->contains("code") || (*msg)["id"] != id) continue;  // an event, not our reply
        Response r;
        r.code = static_cast<Code>((*msg)["code"].get<int>());
        if (r.code == Code::ok)
            r.data = (*msg)["data"];
        else
            r.error = msg->value("error", "");
        return r;
    }
}

}  // namespace rr::control
