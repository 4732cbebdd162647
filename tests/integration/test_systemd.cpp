#define BOOST_TEST_MODULE integration_systemd
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include "control/client.h"
#include "support/daemon.h"
#include "support/process.h"
#include "support/sandbox.h"

namespace t = rr::test;
using namespace std::chrono_literals;

namespace {

// What systemd would receive on its notification socket.
class NotifySocket {
  public:
    explicit NotifySocket(const std::filesystem::path& path) : path_(path) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
        BOOST_REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        struct timeval tv {
            0, 200000
        };
        setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    ~NotifySocket() { ::close(fd_); }
    // Collects datagrams until `done` holds or the time is up.
    void collect_until(const std::function<bool()>& done, std::chrono::seconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!done() && std::chrono::steady_clock::now() < deadline) {
            char buf[4096];
            ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n > 0) messages.emplace_back(buf, static_cast<size_t>(n));
        }
    }
    // Index of the first message containing `what` at or after `from`, or -1.
    int find(const std::string& what, int from = 0) const {
        for (size_t i = static_cast<size_t>(from); i < messages.size(); ++i) {
            if (messages[i].find(what) != std::string::npos) return static_cast<int>(i);
        }
        return -1;
    }
    std::vector<std::string> messages;

  private:
    std::filesystem::path path_;
    int fd_ = -1;
};

std::string config_for(const t::Daemon& d) {
    return "watches:\n  - {path: " + d.dir("inbox").string() +
           ", profile: plain, output: " + d.dir("outbox").string() + "}\nprofiles:\n  plain: {}\n";
}

}  // namespace

BOOST_AUTO_TEST_CASE(readiness_status_watchdog_reload_and_stop_reach_systemd_in_order) {
    t::Daemon d("");
    d.write_config(config_for(d));
    NotifySocket notify(d.dir("notify.sock"));
    d.start({{"NOTIFY_SOCKET", d.dir("notify.sock").string()}, {"WATCHDOG_USEC", "400000"}});
    notify.collect_until(
        [&] { return notify.find("WATCHDOG=1", std::max(0, notify.find("READY=1"))) >= 0; }, 20s);
    const int ready = notify.find("READY=1");
    BOOST_REQUIRE_MESSAGE(ready >= 0, d.log());
    // READY only once the socket is bound and the watches are armed.
    BOOST_TEST(std::filesystem::exists(d.dir("run") / "control.sock"));
    BOOST_TEST(d.log().find("watching " + d.dir("inbox").string()) != std::string::npos);
    BOOST_TEST(notify.messages[static_cast<size_t>(ready)].find("STATUS=0 running, 0 queued") !=
               std::string::npos);
    BOOST_TEST(notify.find("WATCHDOG=1", ready) > ready);
    // The watchdog keeps coming at half the 400 ms interval.
    const size_t before = notify.messages.size();
    notify.collect_until([] { return false; }, 1s);
    int pings = 0;
    for (size_t i = before; i < notify.messages.size(); ++i)
        pings += notify.messages[i] == "WATCHDOG=1";
    BOOST_TEST(pings >= 3);

    d.signal(SIGHUP);
    notify.collect_until(
        [&] { return notify.find("READY=1", std::max(ready + 1, notify.find("RELOADING=1"))) > 0; },
        20s);
    const int reloading = notify.find("RELOADING=1");
    BOOST_REQUIRE(reloading > ready);
    BOOST_TEST(notify.find("READY=1", reloading) > reloading);

    d.signal(SIGTERM);
    notify.collect_until([&] { return notify.find("STOPPING=1") >= 0; }, 20s);
    BOOST_TEST(notify.find("STOPPING=1") > reloading);
    BOOST_TEST(d.wait_exit(30s) == 0);
}

BOOST_AUTO_TEST_CASE(socket_activation_uses_the_socket_systemd_passes) {
    t::Daemon d("");
    d.write_config(config_for(d));
    const auto sock = d.dir("activated.sock");
    d.start({}, sock);
    auto reached = t::wait_until([&] { return rr::control::Client::connect(sock).ok(); }, 20s);
    BOOST_REQUIRE(reached);
    auto c = rr::control::Client::connect(sock);
    auto v = c->call("version");
    BOOST_REQUIRE(v.ok());
    BOOST_TEST(v->data["name"].get<std::string>() == "renderrushd");
    // It did not bind a socket of its own.
    BOOST_TEST(!std::filesystem::exists(d.dir("run") / "control.sock"));
    d.signal(SIGTERM);
    BOOST_TEST(d.wait_exit(30s) == 0);
}
