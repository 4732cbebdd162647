#define BOOST_TEST_MODULE control_registry
#include <boost/test/unit_test.hpp>

#include "control/registry.h"

using namespace rr::control;

namespace {

Reply run(const Registry& registry, const std::string& cmd) {
    Request req;
    req.id = 7;
    req.cmd = cmd;
    Peer peer;
    peer.may_read = peer.may_change = true;
    // No handler here streams, so the connection is never asked to subscribe.
    struct NoStream : Subscriber {
        void subscribe() override {}
    } no_connection;
    return registry.dispatch(CommandContext{req, peer, no_connection});
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_command_registered_twice_is_refused_and_the_first_handler_stays) {
    Registry registry;
    BOOST_REQUIRE(registry.add("status", "first", false, [](const CommandContext&) {
        return Reply::success({{"from", "first"}});
    }));
    auto again = registry.add("status", "second", true, [](const CommandContext&) {
        return Reply::success({{"from", "second"}});
    });
    BOOST_REQUIRE(!again);
    BOOST_TEST(again.error().code == rr::Errc::conflict);
    BOOST_TEST(again.error().message.find("status") != std::string::npos);

    const Reply reply = run(registry, "status");
    BOOST_TEST(reply.code == Code::ok);
    BOOST_TEST(reply.data["from"] == "first");
    BOOST_TEST(reply.id == 7);
    BOOST_TEST(!registry.mutating("status"));
    BOOST_TEST(registry.list().size() == 1u);
    BOOST_TEST(registry.list()[0]["help"] == "first");
}

BOOST_AUTO_TEST_CASE(distinct_commands_are_all_kept) {
    Registry registry;
    BOOST_REQUIRE(
        registry.add("a", "", false, [](const CommandContext&) { return Reply::success({}); }));
    BOOST_REQUIRE(
        registry.add("b", "", true, [](const CommandContext&) { return Reply::success({}); }));
    BOOST_TEST(registry.list().size() == 2u);
    BOOST_TEST(run(registry, "c").code == Code::unsupported);
}
