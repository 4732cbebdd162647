#include "support/private_network.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <exception>
#include <stdexcept>

namespace rr::test {

namespace {

std::runtime_error failure(const std::string& what) {
    return std::runtime_error(what + ": " + std::strerror(errno));
}

bool write_all(int fd, const char* data, ssize_t n) {
    while (n > 0) {
        const ssize_t w = ::write(fd, data, static_cast<size_t>(n));
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        data += w;
        n -= w;
    }
    return true;
}

// Copies bytes both ways until either side closes or the network is torn down.
void relay(int tcp, int unix_fd, const std::atomic<bool>& stopping) {
    std::array<char, 65536> buf{};
    std::array<pollfd, 2> fds{pollfd{tcp, POLLIN, 0}, pollfd{unix_fd, POLLIN, 0}};
    while (!stopping) {
        if (::poll(fds.data(), fds.size(), 100) < 0 && errno != EINTR) break;
        bool done = false;
        for (int i = 0; i < 2 && !done; ++i) {
            if (fds[i].revents == 0) continue;
            const ssize_t n = ::read(fds[i].fd, buf.data(), buf.size());
            done = n <= 0 || !write_all(fds[1 - i].fd, buf.data(), n);
        }
        if (done) break;
    }
    ::close(tcp);
    ::close(unix_fd);
}

}  // namespace

PrivateNetwork::PrivateNetwork() {
    if (::unshare(CLONE_NEWNET) != 0) throw failure("unshare(CLONE_NEWNET)");
    control_fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (control_fd_ < 0) throw failure("socket");
    set_loopback(true);  // a new namespace's loopback starts down
}

PrivateNetwork::~PrivateNetwork() {
    stopping_ = true;
    forwarders_.clear();  // joins
    if (control_fd_ >= 0) ::close(control_fd_);
}

void PrivateNetwork::set_loopback(bool up) {
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    if (::ioctl(control_fd_, SIOCGIFFLAGS, &ifr) != 0) throw failure("SIOCGIFFLAGS lo");
    if (up)
        ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    else
        ifr.ifr_flags = static_cast<short>(ifr.ifr_flags & ~IFF_UP);
    if (::ioctl(control_fd_, SIOCSIFFLAGS, &ifr) != 0) throw failure("SIOCSIFFLAGS lo");
}

void PrivateNetwork::cut() {
    set_loopback(false);
}

void PrivateNetwork::restore() {
    set_loopback(true);
}

int PrivateNetwork::forward_to(const std::filesystem::path& unix_socket) {
    const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listener < 0) throw failure("socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listener, 8) != 0 ||
        ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        ::close(listener);
        throw failure("listen on 127.0.0.1");
    }
    forwarders_.emplace_back([this, listener, unix_socket] {
        std::vector<std::jthread> relays;
        pollfd p{listener, POLLIN, 0};
        while (!stopping_) {
            if (::poll(&p, 1, 100) <= 0) continue;
            const int tcp = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
            if (tcp < 0) continue;
            const int peer = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            sockaddr_un to{};
            to.sun_family = AF_UNIX;
            std::strncpy(to.sun_path, unix_socket.c_str(), sizeof to.sun_path - 1);
            if (peer < 0 || ::connect(peer, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
                ::close(tcp);
                if (peer >= 0) ::close(peer);
                continue;
            }
            relays.emplace_back([this, tcp, peer] { relay(tcp, peer, stopping_); });
        }
        relays.clear();
        ::close(listener);
    });
    return ntohs(addr.sin_port);
}

void in_private_network(const std::function<void(PrivateNetwork&)>& body) {
    std::exception_ptr error;
    std::thread inside([&] {
        try {
            PrivateNetwork net;
            body(net);
        } catch (...) {
            error = std::current_exception();
        }
    });
    inside.join();
    if (error) std::rethrow_exception(error);
}

boost::test_tools::assertion_result can_make_private_network(boost::unit_test::test_unit_id) {
    bool ok = false;
    std::thread probe([&] { ok = ::unshare(CLONE_NEWNET) == 0; });
    probe.join();
    boost::test_tools::assertion_result r(ok);
    r.message() << "cannot make a network namespace (unshare(CLONE_NEWNET) needs "
                   "CAP_NET_ADMIN; CI runs as root)";
    return r;
}

}  // namespace rr::test
