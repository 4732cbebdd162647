#define BOOST_TEST_MODULE cluster
// Cluster mode's node layer with real daemons against a throwaway PostgreSQL: nodes see each
// other, duplicate ids are refused, drain/undrain, a killed node becomes lost, the storage
// marker gates claiming, the database going away and coming back, --check-config and
// `renderrushd cluster init`. Short settings: lease 2 s, heartbeat 0.5 s.

#include <signal.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "core/atomic_file.h"
#include "support/ctl.h"
#include "support/daemon.h"
#include "support/pg_fixture.h"
#include "support/private_network.h"
#include "support/process.h"
#include "support/sandbox.h"

namespace t = rr::test;
namespace utf = boost::unit_test;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

using t::ctl;
using t::ctl_json;
using t::node_of;

t::PgCluster& server() {
    return t::shared_pg_server();
}

struct Cluster {
    t::Sandbox shared;  // the "share": storage root and work_dir
    std::string db_name;
    std::string conninfo;
    explicit Cluster(const std::string& name)
        : db_name(name), conninfo(server().create_database(name)) {
        fs::create_directories(shared / "storage");
    }
    [[nodiscard]] fs::path root() const { return shared / "storage"; }
};

// Each node watches its own folders on the share: in cluster mode every job's files must lie
// under storage.root (a config naming others is refused).
fs::path inbox_of(const fs::path& root, const std::string& node_id) {
    return root / ("inbox-" + node_id);
}
fs::path outbox_of(const fs::path& root, const std::string& node_id) {
    return root / ("outbox-" + node_id);
}

std::string node_config(const Cluster& c, const std::string& node_id, const fs::path& root,
                        const std::string& database = "") {
    fs::create_directories(inbox_of(root, node_id));
    fs::create_directories(outbox_of(root, node_id));
    return "workers: 1\nwatches:\n  - {path: " + inbox_of(root, node_id).string() +
           ", profile: plain, output: " + outbox_of(root, node_id).string() +
           "}\nprofiles:\n  plain:\n    video: {codec: h264, preset: ultrafast, hwaccel: none}\n"
           "storage:\n  root: " +
           root.string() + "\ncluster:\n  database: \"" +
           (database.empty() ? c.conninfo : database) + "\"\n  node_id: " + node_id +
           "\n  lease_seconds: 2\n  heartbeat_seconds: 0.5\n  work_dir: " +
           (root / ".renderrush-work").string() + "\n";
}

// Waits until `node` shows `id` in `state`.
bool wait_state(const t::Daemon& node, const std::string& id, const std::string& state,
                std::chrono::seconds timeout) {
    return t::wait_until([&] { return t::node_state(node, id) == state; }, timeout);
}

t::CommandResult renderrushd(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {t::renderrushd().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return t::run(argv, 60s);
}

void cluster_init(const t::Daemon& d) {
    auto r = renderrushd({"cluster", "init", "--config", d.config_path().string()});
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.out + r.err);
}

// Starts `d` as node `id`, alone on the share, once the cluster is initialised; waits until
// it lists itself active.
void start_alone(const Cluster& c, t::Daemon& d, const std::string& id) {
    d.write_config(node_config(c, id, c.root()));
    cluster_init(d);
    d.start();
    BOOST_REQUIRE_MESSAGE(wait_state(d, id, "active", 20s), d.log());
}

// Whether `node`'s status says it claims work now.
bool claiming(const t::Daemon& node) {
    return ctl_json(node, {"status"})["cluster"]["claiming"] == true;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cluster, *utf::precondition(t::have_postgres))

BOOST_AUTO_TEST_CASE(nodes_see_each_other_drain_duplicate_ids_and_a_killed_node) {
    Cluster c("nodes");
    t::Daemon a(""), b(""), dup("");
    // A password in the conninfo must never show in status (trust auth ignores it).
    a.write_config(node_config(c, "node-a", c.root(), c.conninfo + " password=s3cret"));
    b.write_config(node_config(c, "node-b", c.root()));
    dup.write_config(node_config(c, "node-a", c.root()));
    cluster_init(a);
    a.start();
    b.start();
    BOOST_REQUIRE_MESSAGE(wait_state(a, "node-b", "active", 20s), a.log() + b.log());
    BOOST_REQUIRE(wait_state(b, "node-a", "active", 10s));

    const auto nodes = ctl_json(a, {"nodes"});
    const auto na = node_of(nodes, "node-a");
    std::set<std::string> keys;
    for (const auto& [k, v] : na.items()) keys.insert(k);
    BOOST_TEST((keys == std::set<std::string>{"node_id", "host", "pid", "version", "state",
                                              "heartbeat_age_s", "workers", "busy", "chunks_done",
                                              "leases", "storage_problem"}));
    BOOST_TEST(na["storage_problem"].is_null());
    BOOST_TEST(na["workers"] == 1);
    BOOST_TEST(na["heartbeat_age_s"].get<double>() < 2.0);
    BOOST_TEST(nodes["nodes"].size() == 2u);

    const auto status = ctl_json(a, {"status"});
    BOOST_REQUIRE(status.contains("cluster"));
    BOOST_TEST(status["cluster"]["node_id"] == "node-a");
    BOOST_TEST(status["cluster"]["nodes_active"] == 2);
    BOOST_TEST(status["cluster"]["nodes_lost"] == 0);
    BOOST_TEST(status["cluster"]["queue_depth"] == 0);
    BOOST_TEST(status["cluster"]["claiming"] == true);
    BOOST_TEST(status["cluster"]["database"].get<std::string>().find("s3cret") ==
               std::string::npos);
    BOOST_TEST(status.dump().find("s3cret") == std::string::npos);

    // A second live node with the same id is refused at start, saying why.
    dup.start();
    const int rc = dup.wait_exit(30s);
    BOOST_TEST(rc == 1);
    BOOST_TEST(dup.log().find("node id 'node-a' is in use by a live node") != std::string::npos,
               dup.log());

    // drain from one node, seen by the other; undrain.
    auto drained = ctl(a, {"drain", "node-b"});
    BOOST_TEST(drained.exit_code == 0, drained.err);
    BOOST_TEST(wait_state(b, "node-b", "draining", 5s));
    // The drained node learns it at its next heartbeat (0.5 s here), not at once.
    BOOST_TEST(
        t::wait_until([&] { return ctl_json(b, {"status"})["cluster"]["claiming"] == false; }, 5s));
    BOOST_TEST(ctl(b, {"undrain"}).exit_code == 0);
    BOOST_TEST(wait_state(a, "node-b", "active", 5s));
    BOOST_TEST(ctl(a, {"drain", "nobody"}).exit_code != 0);

    // kill -9: the other node reports it lost once its lease ran out.
    b.kill9();
    const auto killed = std::chrono::steady_clock::now();
    BOOST_TEST(wait_state(a, "node-b", "lost", 10s));
    const double took =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count();
    BOOST_TEST_MESSAGE("killed node reported lost after " << took << " s (lease 2 s)");
    BOOST_TEST(took >= 1.0);

    // SIGTERM: the node signs off at once (lost, no leases), long before a lease would tell.
    a.signal(SIGTERM);
    BOOST_TEST(a.wait_exit(30s) == 0);
    BOOST_TEST(a.log().find("left the cluster") != std::string::npos, a.log());
}

BOOST_AUTO_TEST_CASE(a_missing_storage_marker_stops_claiming_until_it_is_back) {
    Cluster c("marker");
    t::Daemon a("");
    t::Sandbox unmounted;  // an empty mount point
    a.write_config(node_config(c, "node-m", unmounted.path()));
    {
        // The cluster is initialised on the real share; this node's root lacks the marker.
        t::Daemon init("");
        init.write_config(node_config(c, "init", c.root()));
        cluster_init(init);
    }
    a.start();
    BOOST_REQUIRE_MESSAGE(wait_state(a, "node-m", "active", 20s), a.log());
    auto status = ctl_json(a, {"status"});
    BOOST_TEST(status["cluster"]["claiming"] == false);
    BOOST_TEST(status["cluster"]["not_claiming"].get<std::string>().find("storage marker") !=
               std::string::npos);
    BOOST_TEST(a.log().find("not claiming") != std::string::npos, a.log());
    auto human = ctl(a, {"status"});
    BOOST_TEST(human.out.find("NOT CLAIMING") != std::string::npos, human.out);
    // The others learn it from the node's heartbeat, not only the node itself.
    t::Daemon b("");
    b.write_config(node_config(c, "node-b", c.root()));
    b.start();
    BOOST_REQUIRE_MESSAGE(wait_state(b, "node-m", "active", 20s), b.log());
    const auto seen = t::listed_node(b, "node-m");
    BOOST_TEST(
        seen["storage_problem"].get<std::string>().find("storage marker") != std::string::npos,
        seen.dump());
    BOOST_TEST(t::listed_node(b, "node-b")["storage_problem"].is_null());
    auto listed = ctl(b, {"nodes"});
    BOOST_TEST(listed.out.find("node-m is not claiming: storage marker") != std::string::npos,
               listed.out);
    // Another cluster's marker is no better.
    t::write_file(unmounted / ".renderrush-cluster", "0123456789abcdef\n");
    std::this_thread::sleep_for(1500ms);
    BOOST_TEST(ctl_json(a, {"status"})["cluster"]["not_claiming"].get<std::string>().find(
                   "belongs to cluster") != std::string::npos);
    // The share mounted: the node claims again, with no restart.
    fs::copy_file(c.root() / ".renderrush-cluster", unmounted / ".renderrush-cluster",
                  fs::copy_options::overwrite_existing);
    BOOST_TEST(t::wait_until([&] { return claiming(a); }, 5s));
    BOOST_TEST(t::wait_until(
        [&] { return t::listed_node(b, "node-m")["storage_problem"].is_null(); }, 5s));
}

// A share nearly full would fail every chunk claimed (ENOSPC) until the farm's queue had spent
// all its attempts; below min_free_mb in work_dir a node claims nothing instead, says why
// (to the others too), and claims again once there is space (here: min_free_mb reloaded).
BOOST_AUTO_TEST_CASE(a_node_whose_share_is_nearly_full_claims_nothing_until_there_is_space) {
    Cluster c("space");
    t::Daemon a(""), b("");
    // More than any disk holds: the share is "full" for node-f.
    const std::string full = "min_free_mb: 1099511627776\n";
    a.write_config(full + node_config(c, "node-f", c.root()));
    b.write_config(node_config(c, "node-b", c.root()));
    cluster_init(a);
    // --check-config warns before the node starts; free space is no config error.
    const auto checked = renderrushd({"--check-config", "--config", a.config_path().string()});
    BOOST_TEST(checked.exit_code == 0, checked.out + checked.err);
    BOOST_TEST(checked.out.find("cluster: warning: work_dir ") != std::string::npos, checked.out);
    BOOST_TEST(checked.out.find("below min_free_mb 1099511627776") != std::string::npos,
               checked.out);
    BOOST_TEST(renderrushd({"--check-config", "--config", b.config_path().string()})
                   .out.find("min_free_mb") == std::string::npos);
    a.start();
    b.start();
    BOOST_REQUIRE_MESSAGE(wait_state(b, "node-f", "active", 20s), a.log() + b.log());
    BOOST_REQUIRE_MESSAGE(
        t::wait_until([&] { return t::listed_node(b, "node-f")["storage_problem"].is_string(); },
                      5s),
        a.log());
    const auto seen = t::listed_node(b, "node-f")["storage_problem"].get<std::string>();
    BOOST_TEST(seen.find("work_dir " + (c.root() / ".renderrush-work").string() + " has ") == 0u,
               seen);
    BOOST_TEST(seen.find("below min_free_mb 1099511627776") != std::string::npos, seen);
    const auto status = ctl_json(a, {"status"});
    BOOST_TEST(status["cluster"]["claiming"] == false);
    // The same reason; the free megabytes move between the two readings (other processes
    // write to this disk), so the figure is left out of the comparison.
    const auto figure_out = [](std::string why) {
        const auto at = why.find(" has ") + 5;
        return why.erase(at, why.find(" MB free") - at);
    };
    BOOST_TEST(figure_out(status["cluster"]["not_claiming"].get<std::string>()) ==
               figure_out(seen));
    BOOST_TEST(status["intake"]["low_disk"] == true);  // the local disk guard, as before
    BOOST_TEST(t::listed_node(b, "node-b")["storage_problem"].is_null());
    BOOST_TEST(claiming(b));
    BOOST_TEST(a.log().find("not claiming: work_dir") != std::string::npos, a.log());

    a.write_config("min_free_mb: 0\n" + node_config(c, "node-f", c.root()));
    a.signal(SIGHUP);
    BOOST_TEST(t::wait_until([&] { return claiming(a); }, 5s));
    BOOST_TEST(t::wait_until(
        [&] { return t::listed_node(b, "node-f")["storage_problem"].is_null(); }, 5s));
    BOOST_TEST(a.log().find("claiming again") != std::string::npos, a.log());
    BOOST_TEST(
        t::wait_until([&] { return ctl_json(a, {"status"})["intake"]["low_disk"] == false; }, 10s));
}

BOOST_AUTO_TEST_CASE(the_node_reconnects_after_the_database_goes_away) {
    Cluster c("restart");
    t::Daemon a("");
    start_alone(c, a, "node-r");

    // Its backend terminated: the next heartbeat reconnects.
    server().sql("postgres",
                 "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" +
                     c.db_name + "'");
    std::this_thread::sleep_for(1500ms);
    auto n = t::listed_node(a, "node-r");
    BOOST_TEST(n["heartbeat_age_s"].get<double>() < 1.5);
    BOOST_TEST(ctl_json(a, {"status"})["cluster"]["connected"] == true);

    // The server gone: the node says it is not claiming; back: heartbeats again.
    server().stop();
    BOOST_TEST(t::wait_until(
        [&] { return ctl_json(a, {"status"})["cluster"]["connected"] == false; }, 10s));
    auto status = ctl_json(a, {"status"});
    BOOST_TEST(status["cluster"]["claiming"] == false);
    BOOST_TEST(status["cluster"]["not_claiming"].get<std::string>().find("unreachable") !=
               std::string::npos);
    std::this_thread::sleep_for(1s);
    server().start();
    BOOST_TEST(t::wait_until(
        [&] {
            auto s = ctl_json(a, {"status"});
            auto node = t::listed_node(a, "node-r");
            return s["cluster"]["connected"] == true && node.is_object() &&
                   node["heartbeat_age_s"].get<double>() < 1.5;
        },
        15s));
    BOOST_TEST(a.log().find("database reachable again") != std::string::npos, a.log());
    a.signal(SIGTERM);
    BOOST_TEST(a.wait_exit(30s) == 0);
}

// A partition or a hung server gives no error: a call just does not come back. The node's
// backends are stopped (SIGSTOP) as if the network between them went silent; the node must
// stop claiming and say so once a lease has passed, not keep showing its last good snapshot.
BOOST_AUTO_TEST_CASE(a_database_that_stops_answering_stops_the_node_claiming_after_a_lease) {
    Cluster c("silent");
    t::Daemon a("");
    start_alone(c, a, "node-s");
    std::vector<pid_t> backends;
    {
        std::istringstream pids(server().sql(
            "postgres",
            "SELECT string_agg(pid::text, ' ') FROM pg_stat_activity WHERE datname = '" +
                c.db_name + "'"));
        for (pid_t pid = 0; pids >> pid;) backends.push_back(pid);
    }
    BOOST_REQUIRE(!backends.empty());
    for (pid_t pid : backends) ::kill(pid, SIGSTOP);
    const auto stopped = std::chrono::steady_clock::now();
    nlohmann::json cluster;
    const bool said = t::wait_until(
        [&] {
            cluster = ctl_json(a, {"status"})["cluster"];
            return cluster["claiming"] == false;
        },
        10s);
    const double took =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - stopped).count();
    std::this_thread::sleep_for(1500ms);  // the status timer (1 s) logs it meanwhile
    for (pid_t pid : backends) ::kill(pid, SIGCONT);
    BOOST_REQUIRE_MESSAGE(said, a.log());
    BOOST_TEST_MESSAGE("not claiming " << took << " s after the database went silent (lease 2 s)");
    BOOST_TEST(took >= 1.5);  // a lease, not at the first slow answer
    BOOST_TEST(cluster["connected"] == false);
    BOOST_TEST(cluster["not_claiming"].get<std::string>().find("no answer from the database") !=
                   std::string::npos,
               cluster.dump());
    BOOST_TEST(t::wait_until([&] { return claiming(a); }, 10s), a.log());
    BOOST_TEST(a.log().find("no answer from the database for") != std::string::npos, a.log());
    BOOST_TEST(a.log().find("the database answered again after") != std::string::npos, a.log());
}

// A real partition between a node and its database: the node reaches the server over TCP
// through a network the test cuts (tests/support/private_network), so nothing fails at once —
// calls go silent, as over a real network. After about a lease the node says it is not
// claiming; its connections then fail on the TCP silence bounds (tcp_user_timeout, keepalives,
// connect_timeout: about a lease each) and it says the database is unreachable, instead of its
// thread waiting for the kernel's retransmissions (about 15 minutes); once the network is
// back it reconnects, heartbeats and claims again.
BOOST_AUTO_TEST_CASE(a_partitioned_node_says_so_and_reconnects_when_the_network_is_back,
                     *utf::precondition(t::can_make_private_network)) {
    Cluster c("partition");
    t::Daemon a("");
    double silent_after = -1, unreachable_after = -1, back_after = -1;
    std::string silent_reason, unreachable_reason;
    int exit_code = -2;
    // The node runs inside the network: processes forked from its thread are in it.
    t::in_private_network([&](t::PrivateNetwork& net) {
        const int port = net.forward_to(server().socket_path());
        a.write_config(node_config(c, "node-p", c.root(),
                                   "host=127.0.0.1 port=" + std::to_string(port) +
                                       " dbname=" + c.db_name +
                                       " user=postgres sslmode=disable gssencmode=disable"));
        cluster_init(a);
        a.start();
        if (!wait_state(a, "node-p", "active", 20s) || !claiming(a)) return;
        const auto since = [](std::chrono::steady_clock::time_point t0) {
            return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        };
        auto reason = [&] {
            const auto cluster = ctl_json(a, {"status"})["cluster"];
            return cluster["claiming"] == true ? std::string()
                                               : cluster["not_claiming"].get<std::string>();
        };
        net.cut();
        const auto cut = std::chrono::steady_clock::now();
        if (t::wait_until([&] { return !(silent_reason = reason()).empty(); }, 20s))
            silent_after = since(cut);
        // A call that fails, not one that waits: the node thread logs the connection's error.
        const std::string failed = "cluster: database unreachable, not claiming: ";
        if (t::wait_until([&] { return a.log().find(failed) != std::string::npos; }, 20s)) {
            unreachable_after = since(cut);
            const std::string log = a.log();
            const auto at = log.find(failed) + failed.size();
            unreachable_reason = log.substr(at, log.find('\n', at) - at);
        }
        std::this_thread::sleep_for(1s);  // cut for a while longer: reconnecting fails too
        net.restore();
        const auto restored = std::chrono::steady_clock::now();
        if (t::wait_until(
                [&] {
                    const auto n = t::listed_node(a, "node-p");
                    return claiming(a) && n.is_object() && n["heartbeat_age_s"].get<double>() < 1;
                },
                20s))
            back_after = since(restored);
        a.signal(SIGTERM);
        exit_code = a.wait_exit(30s);
    });
    BOOST_TEST_MESSAGE("cut: not claiming after "
                       << silent_after << " s (" << silent_reason << "); a call failed after "
                       << unreachable_after << " s (" << unreachable_reason
                       << "); restored: claiming after " << back_after << " s");
    BOOST_REQUIRE_MESSAGE(silent_after >= 0, a.log());
    BOOST_TEST(silent_after < 6);
    BOOST_TEST(unreachable_after >= 0, a.log());
    BOOST_TEST(unreachable_after < 10, a.log());  // lease 2 s: the kernel alone waits minutes
    BOOST_TEST(back_after >= 0, a.log());
    BOOST_TEST(back_after < 10, a.log());
    BOOST_TEST(a.log().find("database reachable again") != std::string::npos, a.log());
    BOOST_TEST(exit_code == 0, a.log());
}

BOOST_AUTO_TEST_CASE(check_config_names_the_unreachable_database_and_an_unwritable_work_dir) {
    Cluster c("check_config");
    t::Daemon d("");
    // A socket folder with no server in it: refused at once.
    d.write_config(node_config(c, "node-c", c.root(),
                               "host=" + (d.dir("state") / "nothing").string() +
                                   " dbname=rr user=postgres password=hidden"));
    auto bad = renderrushd({"--check-config", "--config", d.config_path().string()});
    BOOST_TEST(bad.exit_code == 1);
    BOOST_TEST(bad.err.find("cluster.database") != std::string::npos, bad.err);
    BOOST_TEST(bad.err.find("does not answer") != std::string::npos, bad.err);
    BOOST_TEST(bad.err.find("hidden") == std::string::npos, bad.err);
    BOOST_TEST(bad.err.find("cluster.work_dir") != std::string::npos, bad.err);  // not created

    d.write_config(node_config(c, "node-c", c.root()));
    cluster_init(d);
    auto good = renderrushd({"--check-config", "--config", d.config_path().string()});
    BOOST_TEST(good.exit_code == 0, good.out + good.err);
    BOOST_TEST(good.out.find("schema current") != std::string::npos, good.out);
    BOOST_TEST(good.out.find("writable") != std::string::npos, good.out);
    BOOST_TEST(good.out.find("storage marker") == std::string::npos, good.out);
    // A root without the marker (the share not mounted) is a warning, not an error.
    d.write_config(node_config(c, "node-c", d.box().path()));
    fs::create_directories(d.box() / ".renderrush-work");
    auto unmarked = renderrushd({"--check-config", "--config", d.config_path().string()});
    BOOST_TEST(unmarked.exit_code == 0, unmarked.out + unmarked.err);
    BOOST_TEST(unmarked.out.find("storage marker") != std::string::npos, unmarked.out);

    // A watch or a submit root off the share would leave its jobs to this node alone: refused,
    // by --check-config and by the daemon's start, naming each.
    std::string config = node_config(c, "node-c", c.root());
    const std::string inbox = inbox_of(c.root(), "node-c").string();
    config.replace(config.find(inbox), inbox.size(), d.dir("inbox").string());
    config += "submit_roots: [" + d.dir("uploads").string() + "]\n";
    d.write_config(config);
    auto off = renderrushd({"--check-config", "--config", d.config_path().string()});
    BOOST_TEST(off.exit_code == 2, off.out + off.err);
    BOOST_TEST(off.err.find("watches[0].path: " + d.dir("inbox").string() +
                            " is outside storage.root " + c.root().string()) != std::string::npos,
               off.err);
    BOOST_TEST(off.err.find("submit_roots[0]: " + d.dir("uploads").string() +
                            " is outside storage.root") != std::string::npos,
               off.err);
    BOOST_TEST(off.err.find("watches[0].output") == std::string::npos, off.err);
    d.start();
    BOOST_TEST(d.wait_exit(30s) == 2);
    BOOST_TEST(d.log().find("is outside storage.root") != std::string::npos, d.log());

    // A config error is reported with its line and column.
    t::write_file(d.config_path(), "cluster:\n  database: x\n  work_dir: relative\n  leases: 3\n");
    auto invalid = renderrushd({"--check-config", "--config", d.config_path().string()});
    BOOST_TEST(invalid.exit_code == 2);
    BOOST_TEST(
        invalid.err.find(":3:13: cluster.work_dir: must be an absolute path") != std::string::npos,
        invalid.err);
    BOOST_TEST(invalid.err.find(":4:3: cluster.leases") != std::string::npos, invalid.err);
}

BOOST_AUTO_TEST_CASE(start_up_leaves_fresh_temporaries_on_the_share_to_the_node_writing_them) {
    Cluster c("temps");
    t::Daemon d("");
    d.write_config(node_config(c, "node-t", c.root()));
    const fs::path out = outbox_of(c.root(), "node-t");
    cluster_init(d);
    // Another node's join staging its output right now, and one a dead node left long ago.
    const fs::path live = rr::temp_sibling(out / "clip.mp4");
    const fs::path stale = rr::temp_sibling(out / "old.mp4");
    t::write_file(live, "being written");
    t::write_file(stale, "left behind");
    fs::last_write_time(stale, fs::file_time_type::clock::now() - std::chrono::hours(2));
    d.start();
    // Recovery runs once the control socket is open.
    BOOST_TEST(t::wait_until([&] { return !fs::exists(stale); }, 20s), d.log());
    BOOST_TEST(fs::exists(live));
}

BOOST_AUTO_TEST_CASE(cluster_init_writes_the_marker_once) {
    Cluster c("init");
    t::Daemon d("");
    d.write_config(node_config(c, "node-i", c.root()));
    const fs::path marker = c.root() / ".renderrush-cluster";
    cluster_init(d);
    const std::string id = t::read_file(marker);
    BOOST_TEST(id.size() == 33u);  // 32 hex digits and a newline
    BOOST_TEST(fs::is_directory(c.root() / ".renderrush-work"));
    cluster_init(d);  // again: nothing changes
    BOOST_TEST(t::read_file(marker) == id);
    // Storage that belongs to another cluster is never taken over.
    t::write_file(marker, "ffffffffffffffffffffffffffffffff\n");
    auto other = renderrushd({"cluster", "init", "--config", d.config_path().string()});
    BOOST_TEST(other.exit_code == 1);
    BOOST_TEST(
        other.err.find("belongs to cluster ffffffffffffffffffffffffffffffff") != std::string::npos,
        other.err);
    BOOST_TEST(t::read_file(marker) == "ffffffffffffffffffffffffffffffff\n");
    // Without a cluster: section there is nothing to initialise.
    t::write_file(d.config_path(), "workers: 1\n");
    BOOST_TEST(renderrushd({"cluster", "init", "--config", d.config_path().string()}).exit_code ==
               2);
}

BOOST_AUTO_TEST_SUITE_END()
