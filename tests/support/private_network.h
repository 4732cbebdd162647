#pragma once
// A network that a test can cut, as a partition cuts a real one: a Linux network namespace of
// one thread's own (CAP_NET_ADMIN: CI runs as root), whose loopback carries a TCP port that
// forwards to a Unix socket (the throwaway PostgreSQL listens on one only). cut() takes the
// loopback down: the peers' sockets stay open and every packet, data or keepalive, is
// dropped, so a call in flight gets no answer and no error, exactly what a client of a
// database behind a partition sees. restore() brings it back and TCP retransmits what waited.

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>

namespace rr::test {

class PrivateNetwork {
  public:
    // Forwards connections to 127.0.0.1:<returned port> (in this network) to `unix_socket`,
    // on a thread of its own, until the network's body returns.
    int forward_to(const std::filesystem::path& unix_socket);
    void cut();
    void restore();

    PrivateNetwork(const PrivateNetwork&) = delete;
    PrivateNetwork& operator=(const PrivateNetwork&) = delete;
    ~PrivateNetwork();

  private:
    friend void in_private_network(const std::function<void(PrivateNetwork&)>& body);
    PrivateNetwork();
    void set_loopback(bool up);
    int control_fd_ = -1;  // a socket of this network, for its interface ioctls
    std::atomic<bool> stopping_{false};
    std::vector<std::jthread> forwarders_;
};

// Runs `body` on a new thread inside a new network namespace (only that thread's; sockets
// made there stay in it). Rethrows what body throws; throws std::runtime_error when the
// namespace cannot be made.
void in_private_network(const std::function<void(PrivateNetwork&)>& body);

// Precondition for cases that need one: unshare(CLONE_NEWNET) is allowed here.
boost::test_tools::assertion_result can_make_private_network(boost::unit_test::test_unit_id);

}  // namespace rr::test
