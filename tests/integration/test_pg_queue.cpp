#define BOOST_TEST_MODULE pg_queue
// What only PostgreSQL needs beyond the queue's contract (test_task_queue.cpp runs every contract
// case on both backends): reconnecting after pg_terminate_backend, the row-lock races repeated
// more often than the contract repeats them (SQLite has one writer, so they are PostgreSQL's to
// get right), and cases whose outcomes the contract does not check.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "store/pg_queue.h"
#include "support/must.h"
#include "support/pg_fixture.h"
#include "support/private_network.h"

using namespace rr::store;
namespace t = rr::test;
namespace utf = boost::unit_test;
using namespace std::chrono_literals;

namespace {

t::PgCluster& server() {
    return t::shared_pg_server();
}

std::string next_database_name() {
    static int n = 0;
    return "queue_" + std::to_string(++n);
}

struct Db {
    t::PgCluster& cluster = server();
    std::string name = next_database_name();
    std::string conninfo = cluster.create_database(name);

    PgQueue node(const std::string& id, double lease_seconds = 30, double backoff = 0,
                 int max_attempts = 3) {
        QueueOptions o;
        o.database = conninfo;
        o.node_id = id;
        o.lease_seconds = lease_seconds;
        o.backoff_seconds = backoff;
        o.backoff_max_seconds = 60;
        o.max_attempts = max_attempts;
        auto q = PgQueue::open(o);
        BOOST_REQUIRE_MESSAGE(q.ok(), (q.ok() ? "" : q.error().message));
        NodeRegistration r;
        r.host = "test";
        r.pid = static_cast<int>(::getpid());
        r.version = "test";
        r.workers = 2;
        auto reg = q->register_node(r);
        BOOST_REQUIRE_MESSAGE(reg.ok(), (reg.ok() ? "" : reg.error().message));
        return std::move(*q);
    }
};

std::vector<std::string> payloads(int n) {
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i) out.push_back("chunk \"" + std::to_string(i) + "\"");
    return out;
}

using rr::test::must;

}  // namespace

BOOST_AUTO_TEST_SUITE(pg_queue, *utf::precondition(t::have_postgres))

BOOST_AUTO_TEST_CASE(heartbeat_renews_leases_and_reports_the_lost_ones) {
    Db db;
    auto a = db.node("a", 1.0);
    auto reaper = db.node("reaper", 1.0);
    const int64_t job = must(a.add_job("in/a.mkv", "web", payloads(2), 0));
    BOOST_TEST(must(a.claim(5)).size() == 2u);
    for (int i = 0; i < 3; ++i) {  // 1.8 s in all: past the first expiry, renewed in time
        std::this_thread::sleep_for(600ms);
        BOOST_TEST(must(a.renew()).size() == 2u);
        BOOST_TEST(must(reaper.reap()).empty());
    }
    std::this_thread::sleep_for(1200ms);  // no renewal: both expire
    const auto reaped = must(reaper.reap());
    BOOST_REQUIRE(reaped.size() == 2u);
    BOOST_TEST(reaped[0].owner == "a");
    BOOST_TEST(!reaped[0].failed);
    BOOST_TEST(must(a.renew()).empty());  // lost: the node must cancel that work
    BOOST_TEST(must(a.attempts(job, 0)).at(0).error == "lease expired");
}

BOOST_AUTO_TEST_CASE(last_two_chunks_completed_at_once_make_exactly_one_joiner) {
    Db db;
    auto a = db.node("a");
    auto b = db.node("b");
    const int rounds = 200;
    int single_joiner = 0;
    for (int round = 0; round < rounds; ++round) {
        const int64_t job = must(a.add_job("in/r.mkv", "web", payloads(2), 0));
        const Lease la = must(a.claim(1)).at(0);
        const Lease lb = must(b.claim(1)).at(0);
        std::barrier go(2);
        Completion ca, cb;
        bool ok_a = false, ok_b = false;
        std::thread ta([&] {
            go.arrive_and_wait();
            auto r = a.complete(la, "a");
            ok_a = r.ok();
            if (ok_a) ca = *r;
        });
        std::thread tb([&] {
            go.arrive_and_wait();
            auto r = b.complete(lb, "b");
            ok_b = r.ok();
            if (ok_b) cb = *r;
        });
        ta.join();
        tb.join();
        BOOST_REQUIRE(ok_a && ok_b);
        BOOST_REQUIRE(ca.accepted && cb.accepted);
        const JobView j = must(a.job(job));
        BOOST_REQUIRE(j.state == "joining");
        BOOST_REQUIRE(j.chunks_remaining == 0);
        if (int(ca.job_ready) + int(cb.job_ready) == 1 &&
            j.joiner.value_or("") == (ca.job_ready ? "a" : "b")) {
            ++single_joiner;
        }
        must(j.joiner == "a" ? a.finish_job(job, "{}") : b.finish_job(job, "{}"));
    }
    BOOST_TEST(single_joiner == rounds);
}

BOOST_AUTO_TEST_CASE(a_draining_node_claims_nothing_until_undrained) {
    Db db;
    auto worker = db.node("worker");
    auto operator_ = db.node("ctl");
    must(worker.add_job("in/a.mkv", "web", payloads(3), 0));
    const Lease held = must(worker.claim(1)).at(0);
    must(operator_.set_node_state("worker", "draining"));
    BOOST_TEST(must(worker.node_heartbeat(1, std::nullopt)) == "draining");
    BOOST_TEST(must(worker.claim(2)).empty());
    BOOST_TEST(must(worker.complete(held, "ok")).accepted);  // it finishes what it has
    BOOST_TEST(!operator_.set_node_state("nobody", "draining").ok());
    must(operator_.set_node_state("worker", "active"));
    BOOST_TEST(must(worker.claim(2)).size() == 2u);
}

BOOST_AUTO_TEST_CASE(a_terminated_connection_is_reopened_and_the_call_succeeds) {
    Db db;
    auto a = db.node("a");
    const int64_t job = must(a.add_job("in/a.mkv", "web", payloads(1), 0));
    const Lease l = must(a.claim(1)).at(0);
    const int pid = a.conn().backend_pid();
    db.cluster.sql(db.name, "SELECT pg_terminate_backend(" + std::to_string(pid) + ")");
    std::this_thread::sleep_for(200ms);
    BOOST_TEST(must(a.renew()).size() == 1u);
    BOOST_TEST(a.conn().backend_pid() != pid);
    db.cluster.sql(db.name,
                   "SELECT pg_terminate_backend(" + std::to_string(a.conn().backend_pid()) + ")");
    std::this_thread::sleep_for(200ms);
    const Completion c = must(a.complete(l, "ok"));
    BOOST_TEST(c.accepted);
    BOOST_TEST(c.job_ready);
    BOOST_TEST(must(a.job(job)).state == "joining");
}

// A library dropped into a new queue: 2,000 tasks before autovacuum ever analysed the table.
// With the statistics saying "few tasks", a plain claim statement was planned to read every
// available task of every running job and sort them, for each claim; on a 50-node farm that
// was most of the server's CPU (queue migration 8). A claim must read the next tasks only.
// A database host that takes the connection and never answers (a hung server; over a real
// network, a partition) must fail the connect in bounded time: libpq alone waits for ever.
// The port listens but nobody accepts, so the kernel completes the handshake and the startup
// packet gets no reply. A conninfo that sets connect_timeout itself keeps its own.
BOOST_AUTO_TEST_CASE(a_server_that_never_answers_fails_the_connect_within_the_silence_bound) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    BOOST_REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    BOOST_REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    BOOST_REQUIRE(::listen(fd, 8) == 0);
    BOOST_REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    const std::string silent = "host=127.0.0.1 port=" + std::to_string(ntohs(addr.sin_port)) +
                               " dbname=renderrush user=renderrush sslmode=disable";
    auto timed = [](const std::string& conninfo, double bound) {
        const auto start = std::chrono::steady_clock::now();
        auto c = PgConn::connect(conninfo, bound);
        BOOST_TEST(!c.ok());
        if (!c.ok()) BOOST_TEST_MESSAGE(c.error().message);
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    // libpq counts connect_timeout in whole seconds of the wall clock (time(NULL) + N), so it
    // gives up between N - 1 and N seconds after it started, by the sub-second phase.
    const double bounded = timed(silent, 2);
    BOOST_TEST_MESSAGE("gave up after " << bounded << " s (bound 2 s)");
    BOOST_TEST(bounded >= 0.9);
    BOOST_TEST(bounded < 10);
    const double own = timed(silent + " connect_timeout=4", 2);
    BOOST_TEST_MESSAGE("with connect_timeout=4: gave up after " << own << " s");
    BOOST_TEST(own >= 2.9);  // its own 4 s, not the bound's 2
    BOOST_TEST(own < 12);
    ::close(fd);
}

// A partition in the middle of a call: the query went out and was acknowledged, then the
// network dropped every packet (a private network's loopback taken down). The connection
// stays open and silent, so only TCP keepalives can end the wait; with the silence bound the
// call fails after about the bound. Without keepalives (the conninfo turns them off) the same
// call waits for the network to come back, however long that takes.
BOOST_AUTO_TEST_CASE(a_partition_mid_call_fails_the_call_within_the_silence_bound,
                     *utf::precondition(t::can_make_private_network)) {
    Db db;
    struct Call {
        bool connected = false, answered = false;
        double seconds = 0;
        std::string error;
    };
    // Connects through the network, starts a 6 s query and cuts the network under it;
    // `heal_after` brings it back that long after the cut.
    auto partitioned_call = [&](const std::string& extra, std::chrono::milliseconds heal_after) {
        Call call;
        t::in_private_network([&](t::PrivateNetwork& net) {
            const int port = net.forward_to(db.cluster.socket_path());
            auto c = PgConn::connect(
                "host=127.0.0.1 port=" + std::to_string(port) + " dbname=" + db.name +
                    " user=postgres sslmode=disable gssencmode=disable" + extra,
                2);
            if (!c.ok()) {
                call.error = c.error().message;
                return;
            }
            call.connected = c->query("SELECT 1").ok();
            std::jthread cutter([&](std::stop_token stop) {
                std::this_thread::sleep_for(500ms);
                net.cut();
                std::mutex m;
                std::condition_variable_any healed;
                std::unique_lock lock(m);
                healed.wait_for(lock, stop, heal_after, [] { return false; });
                net.restore();
            });
            const auto start = std::chrono::steady_clock::now();
            auto r = c->query("SELECT pg_sleep(6)");
            call.seconds =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            call.answered = r.ok();
            if (!r.ok()) call.error = r.error().message;
        });
        return call;
    };
    // The network stays cut far longer than the call and the bound.
    const Call bounded = partitioned_call("", 15s);
    BOOST_TEST_MESSAGE("bounded: failed after " << bounded.seconds << " s: " << bounded.error);
    BOOST_REQUIRE_MESSAGE(bounded.connected, bounded.error);
    BOOST_TEST(!bounded.answered);
    BOOST_TEST(bounded.seconds < 6);  // the query alone takes 6 s
    BOOST_TEST(bounded.seconds >= 1.5);
    // Without keepalives nothing notices the silence: the call ends when the network is back
    // (cut at 0.5 s, healed 8 s later), with the query's answer.
    const Call unbounded = partitioned_call(" keepalives=0", 8s);
    BOOST_TEST_MESSAGE("keepalives=0: answered after " << unbounded.seconds << " s");
    BOOST_REQUIRE_MESSAGE(unbounded.connected, unbounded.error);
    BOOST_TEST(unbounded.answered, unbounded.error);
    BOOST_TEST(unbounded.seconds >= 8);
}

BOOST_AUTO_TEST_CASE(a_claim_reads_the_next_tasks_not_the_whole_queue_before_any_analyze) {
    Db db;
    const int tasks = 2000, claims = 20;
    const auto rows_read = [&] {
        return std::stoll(
            db.cluster.sql(db.name,
                           "SELECT (SELECT coalesce(sum(idx_tup_read), 0) FROM pg_stat_user_indexes"
                           "        WHERE relname = 'tasks')"
                           "     + (SELECT coalesce(seq_tup_read, 0) FROM pg_stat_user_tables"
                           "        WHERE relname = 'tasks')"));
    };
    long long before = 0;
    std::vector<int> order;
    {
        auto a = db.node("a");  // makes the schema
        db.cluster.sql(db.name, "ALTER TABLE tasks SET (autovacuum_enabled = false)");
        db.cluster.sql(db.name, "ALTER TABLE jobs SET (autovacuum_enabled = false)");
        must(a.add_job("in/library.mkv", "web", payloads(tasks), 0));
        BOOST_TEST(db.cluster.sql(db.name,
                                  "SELECT reltuples FROM pg_class WHERE relname = 'tasks'") ==
                   "-1");  // never analysed
        before = rows_read();
        for (int i = 0; i < claims; ++i) {
            const auto got = must(a.claim(1));
            BOOST_REQUIRE_EQUAL(got.size(), 1u);
            order.push_back(got[0].idx);
        }
    }  // a's backend reports its statistics when it exits (an idle one only every 10 s)
    long long read = 0;
    for (int i = 0; i < 50 && (read = rows_read() - before) == 0; ++i)
        std::this_thread::sleep_for(100ms);
    BOOST_TEST_MESSAGE(claims << " claims read " << read << " task rows of " << tasks);
    BOOST_TEST(read > 0);  // the counters work: this is not a test that cannot fail
    // Walking the index from its start passes the tasks claimed before (at most 1+2+...+20);
    // the plain statement of before migration 8 read about 80,000 here.
    BOOST_TEST(read < 1000);
    std::vector<int> first(claims);
    for (int i = 0; i < claims; ++i) first[i] = i;
    BOOST_TEST(order == first, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(one_job_per_file_version_whichever_node_opens_it_first) {
    Db db;
    auto a = db.node("a");
    auto b = db.node("b");
    const OpenedJob first = must(a.open_job("in/a.mkv", "100:5", "web", R"({"plan":1})", 0));
    BOOST_TEST(first.created);
    BOOST_TEST(first.owner == "a");
    BOOST_TEST(first.state == "preparing");
    const OpenedJob seen = must(b.open_job("in/a.mkv", "100:5", "web", R"({"plan":2})", 0));
    BOOST_TEST(!seen.created);
    BOOST_TEST(seen.id == first.id);
    BOOST_TEST(seen.owner == "a");
    BOOST_TEST(seen.state == "preparing");
    const JobView j = must(b.job(first.id));
    BOOST_TEST(j.owner == "a");
    BOOST_TEST(j.source_key == "100:5");
    BOOST_TEST(j.payload == R"({"plan":1})");  // the first opener's plan, not the second's
    BOOST_TEST(j.chunks_total == 0);

    // The file was replaced: a new version is a new job, owned by whoever saw it.
    const OpenedJob newer = must(b.open_job("in/a.mkv", "200:9", "web", "{}", 0));
    BOOST_TEST(newer.created);
    BOOST_TEST(newer.owner == "b");
    BOOST_TEST(newer.id != first.id);
    BOOST_TEST(must(a.open_job("in/b.mkv", "100:5", "web", "{}", 0)).created);
    BOOST_TEST(a.open_job("in/c.mkv", "", "web", "{}", 0).error().code ==
               rr::Errc::invalid_argument);

    // After the connection dropped the call is made again and still makes the one job.
    db.cluster.sql(db.name,
                   "SELECT pg_terminate_backend(" + std::to_string(a.conn().backend_pid()) + ")");
    std::this_thread::sleep_for(200ms);
    const OpenedJob after = must(a.open_job("in/d.mkv", "1:1", "web", "{}", 0));
    BOOST_TEST(after.created);
    BOOST_TEST(!must(b.open_job("in/d.mkv", "1:1", "web", "{}", 0)).created);
}

BOOST_AUTO_TEST_CASE(nodes_opening_one_file_at_the_same_moment_make_one_job) {
    Db db;
    std::vector<PgQueue> nodes;
    for (int n = 0; n < 3; ++n) nodes.push_back(db.node("n" + std::to_string(n)));
    const int rounds = 50;
    int one_owner = 0;
    for (int round = 0; round < rounds; ++round) {
        const std::string path = "in/race" + std::to_string(round) + ".mkv";
        std::barrier go(3);
        std::vector<OpenedJob> got(3);
        std::atomic<int> errors{0};
        std::vector<std::thread> threads;
        for (int n = 0; n < 3; ++n) {
            threads.emplace_back([&, n] {
                go.arrive_and_wait();
                auto r = nodes[static_cast<size_t>(n)].open_job(path, "7:7", "web", "{}", 0);
                if (!r.ok()) return void(++errors);
                got[static_cast<size_t>(n)] = *r;
            });
        }
        for (auto& th : threads) th.join();
        BOOST_REQUIRE(errors.load() == 0);
        int created = 0;
        std::set<int64_t> ids;
        std::set<std::string> owners;
        for (const OpenedJob& o : got) {
            created += o.created ? 1 : 0;
            ids.insert(o.id);
            owners.insert(o.owner);
        }
        if (created == 1 && ids.size() == 1 && owners.size() == 1) ++one_owner;
    }
    BOOST_TEST(one_owner == rounds);
}

BOOST_AUTO_TEST_CASE(only_the_owner_starts_the_tasks_and_only_once) {
    Db db;
    auto a = db.node("a");
    auto b = db.node("b");
    const int64_t job = must(a.open_job("in/a.mkv", "1:1", "web", "{}", 0)).id;
    const auto stolen = b.start_tasks(job, payloads(3));
    BOOST_REQUIRE(!stolen.ok());
    BOOST_TEST(stolen.error().code == rr::Errc::conflict);
    BOOST_TEST(must(a.job(job)).state == "preparing");
    BOOST_TEST(must(b.claim(5)).empty());

    must(a.start_tasks(job, payloads(3)));
    must(a.start_tasks(job, payloads(3)));  // a retry of the same plan changes nothing
    BOOST_TEST(a.start_tasks(job, payloads(4)).error().code == rr::Errc::conflict);
    JobView j = must(a.job(job));
    BOOST_TEST(j.state == "running");
    BOOST_TEST(j.chunks_total == 3);
    BOOST_TEST(j.chunks_remaining == 3);
    const auto listed = must(a.tasks(job));
    BOOST_REQUIRE(listed.size() == 3u);
    for (int i = 0; i < 3; ++i) {
        BOOST_TEST(listed[static_cast<size_t>(i)].idx == i);
        BOOST_TEST(listed[static_cast<size_t>(i)].state == "available");
        BOOST_TEST(listed[static_cast<size_t>(i)].payload == payloads(3)[static_cast<size_t>(i)]);
    }

    const auto leases = must(b.claim(10));
    BOOST_REQUIRE(leases.size() == 3u);
    int ready = 0;
    for (const Lease& l : leases) ready += must(b.complete(l, "ok")).job_ready ? 1 : 0;
    BOOST_TEST(ready == 1);
    j = must(a.job(job));
    BOOST_TEST(j.state == "joining");
    BOOST_TEST(j.joiner.value_or("") == "b");
    must(a.start_tasks(job, payloads(3)));  // still harmless once the tasks are done

    // A file that needs no task: the owner joins it at once.
    const int64_t empty = must(a.open_job("in/empty.mkv", "0:1", "web", "{}", 0)).id;
    must(a.start_tasks(empty, {}));
    j = must(b.job(empty));
    BOOST_TEST(j.state == "joining");
    BOOST_TEST(j.joiner.value_or("") == "a");
    BOOST_TEST(j.chunks_total == 0);
    BOOST_TEST(must(a.tasks(empty)).empty());
    must(a.start_tasks(empty, {}));
    must(a.finish_job(empty, R"({"chunks":[]})"));
    BOOST_TEST(must(b.job(empty)).state == "done");
}

BOOST_AUTO_TEST_CASE(the_joiner_records_its_output_and_the_sidecar) {
    Db db;
    auto a = db.node("a");
    auto b = db.node("b");
    const int64_t job = must(a.open_job("in/a.mkv", "1:1", "web", R"({"profile":"web"})", 0)).id;
    must(a.start_tasks(job, payloads(2)));
    const Lease la = must(a.claim(1)).at(0);
    const Lease lb = must(b.claim(1)).at(0);
    BOOST_TEST(!must(a.complete(la, R"({"frames":48})")).job_ready);
    BOOST_TEST(must(b.complete(lb, R"({"frames":50})")).job_ready);

    BOOST_TEST(a.record_output(job, 1, "x").error().code == rr::Errc::conflict);  // not a's join
    must(b.record_output(job, 123456, "sha256:abc"));
    JobView j = must(a.job(job));
    BOOST_TEST(j.state == "joining");
    BOOST_TEST(j.output_size.value_or(0) == 123456);
    BOOST_TEST(j.output_checksum.value_or("") == "sha256:abc");
    BOOST_TEST(!j.result.has_value());
    BOOST_TEST(a.finish_job(job, "{}").error().code == rr::Errc::conflict);
    must(b.finish_job(job, R"({"chunks":[{"node":"a"},{"node":"b"}]})"));

    j = must(a.job(job));
    BOOST_TEST(j.state == "done");
    BOOST_TEST(j.result.value_or("") == R"({"chunks":[{"node":"a"},{"node":"b"}]})");
    BOOST_TEST(j.owner == "a");
    BOOST_TEST(j.payload == R"({"profile":"web"})");
    BOOST_TEST(j.joiner.value_or("") == "b");
    BOOST_TEST(j.joiner_state.value_or("") == "active");
    BOOST_TEST(b.finish_job(job, "{}").error().code == rr::Errc::conflict);  // published once

    const auto listed = must(a.tasks(job));
    BOOST_REQUIRE(listed.size() == 2u);
    BOOST_TEST(listed[0].idx == 0);
    BOOST_TEST(listed[0].state == "done");
    BOOST_TEST(listed[0].attempt == 1);
    BOOST_TEST(listed[0].node.value_or("") == (la.idx == 0 ? "a" : "b"));
    BOOST_TEST(listed[0].result.value_or("") ==
               (la.idx == 0 ? R"({"frames":48})" : R"({"frames":50})"));
    BOOST_TEST(listed[1].node.value_or("") == (la.idx == 1 ? "a" : "b"));
    BOOST_TEST(!listed[1].lease_owner.has_value());
}

BOOST_AUTO_TEST_CASE(a_lost_owners_preparation_is_taken_over_by_one_node) {
    Db db;
    auto owner = db.node("owner");
    auto a = db.node("a");
    auto b = db.node("b");
    // The owner opens files and dies before queuing their tasks; one of them it had started.
    const int rounds = 30;
    std::vector<int64_t> jobs;
    for (int i = 0; i < rounds; ++i) {
        jobs.push_back(must(owner.open_job("in/p" + std::to_string(i) + ".mkv", "5:5", "web",
                                           R"({"owner":"owner"})", 0))
                           .id);
    }
    const int64_t started = must(owner.open_job("in/started.mkv", "5:5", "web", "{}", 0)).id;
    must(owner.start_tasks(started, payloads(2)));

    // While the owner is alive its preparation is its own.
    OpenedJob seen = must(a.open_job("in/p0.mkv", "5:5", "web", R"({"owner":"a"})", 0));
    BOOST_TEST(!seen.created);
    BOOST_TEST(seen.owner == "owner");
    BOOST_TEST(must(a.orphaned_jobs()).empty());

    std::this_thread::sleep_for(600ms);  // no heartbeat from anyone for longer than 0.5 s
    const auto lost = must(a.mark_lost(0.5));
    BOOST_TEST(std::count(lost.begin(), lost.end(), "owner") == 1);
    must(a.node_heartbeat(0, std::nullopt));  // a and b are alive again
    must(b.node_heartbeat(0, std::nullopt));
    const auto orphans = must(b.orphaned_jobs());
    BOOST_REQUIRE(orphans.size() == static_cast<size_t>(rounds));  // not the started one
    BOOST_TEST(orphans[0].id == jobs[0]);
    BOOST_TEST(orphans[0].source_path == "in/p0.mkv");
    BOOST_TEST(orphans[0].source_key == "5:5");
    BOOST_TEST(orphans[0].profile == "web");
    BOOST_TEST(orphans[0].owner == "owner");

    // a and b open each file at the same moment: exactly one of them prepares it.
    int one_adopter = 0;
    for (int i = 0; i < rounds; ++i) {
        const std::string path = "in/p" + std::to_string(i) + ".mkv";
        std::barrier go(2);
        OpenedJob got_a, got_b;
        std::atomic<int> errors{0};
        std::thread ta([&] {
            go.arrive_and_wait();
            auto r = a.open_job(path, "5:5", "web", R"({"owner":"a"})", 0);
            if (!r.ok()) return void(++errors);
            got_a = *r;
        });
        std::thread tb([&] {
            go.arrive_and_wait();
            auto r = b.open_job(path, "5:5", "web", R"({"owner":"b"})", 0);
            if (!r.ok()) return void(++errors);
            got_b = *r;
        });
        ta.join();
        tb.join();
        BOOST_REQUIRE(errors.load() == 0);
        const OpenedJob& winner = got_a.created ? got_a : got_b;
        const OpenedJob& loser = got_a.created ? got_b : got_a;
        const JobView j = must(owner.job(jobs[static_cast<size_t>(i)]));
        if (got_a.created != got_b.created && winner.id == jobs[static_cast<size_t>(i)] &&
            loser.id == winner.id && winner.adopted_from == "owner" && !loser.created &&
            loser.owner == winner.owner && j.owner == winner.owner && j.state == "preparing" &&
            j.payload == R"({"owner":")" + winner.owner + R"("})") {
            ++one_adopter;
        }
    }
    BOOST_TEST(one_adopter == rounds);
    BOOST_TEST(must(a.orphaned_jobs()).empty());
    BOOST_TEST(
        !must(a.open_job("in/started.mkv", "5:5", "web", "{}", 0)).created);  // not preparing
    BOOST_TEST(must(a.job(started)).owner == "owner");

    // The adopter plans the file; the old owner, back from the dead, can no longer start it.
    PgQueue& adopter = must(a.job(jobs[0])).owner == "a" ? a : b;
    must(adopter.start_tasks(jobs[0], payloads(3)));
    BOOST_TEST(owner.start_tasks(jobs[0], payloads(3)).error().code == rr::Errc::conflict);
    BOOST_TEST(must(owner.node_heartbeat(0, std::nullopt)) == "active");
    const OpenedJob back = must(owner.open_job("in/p1.mkv", "5:5", "web", "{}", 0));
    BOOST_TEST(!back.created);
    BOOST_TEST(back.owner != "owner");

    // An owner without a node row (pruned) is as good as lost.
    QueueOptions o;
    o.database = db.conninfo;
    o.node_id = "ghost";
    auto ghost = must(PgQueue::open(o));
    const int64_t haunted = must(ghost.open_job("in/ghost.mkv", "1:2", "web", "{}", 0)).id;
    BOOST_TEST(must(a.orphaned_jobs()).size() == 1u);
    const OpenedJob freed = must(a.open_job("in/ghost.mkv", "1:2", "web", "{}", 0));
    BOOST_TEST(freed.created);
    BOOST_TEST(freed.id == haunted);
    BOOST_TEST(freed.adopted_from == "ghost");
    BOOST_TEST(freed.owner == "a");
}

BOOST_AUTO_TEST_CASE(a_cancel_racing_the_completions_neither_deadlocks_nor_lets_one_through) {
    Db db;
    auto a = db.node("a");
    auto b = db.node("b");
    auto ctl = db.node("ctl");
    const int rounds = 60;
    int clean = 0;
    for (int round = 0; round < rounds; ++round) {
        const int64_t job =
            must(a.open_job("in/c.mkv", std::to_string(round) + ":0", "web", "{}", 0)).id;
        must(a.start_tasks(job, payloads(2)));
        const Lease la = must(a.claim(1)).at(0);
        const Lease lb = must(b.claim(1)).at(0);
        std::barrier go(3);
        rr::Result<Completion> ca = Completion{}, cb = Completion{};
        rr::Status ended;
        std::thread ta([&] {
            go.arrive_and_wait();
            ca = a.complete(la, "a");
        });
        std::thread tb([&] {
            go.arrive_and_wait();
            cb = b.complete(lb, "b");
        });
        std::thread tc([&] {
            go.arrive_and_wait();
            ended = ctl.end_job(job, "cancelled", "race");
        });
        ta.join();
        tb.join();
        tc.join();
        BOOST_REQUIRE_MESSAGE(ca.ok() && cb.ok() && ended.ok(),
                              "round " << round << ": "
                                       << (!ca.ok()      ? ca.error().message
                                           : !cb.ok()    ? cb.error().message
                                           : !ended.ok() ? ended.error().message
                                                         : ""));
        const JobView j = must(ctl.job(job));
        // Either the cancel came first (no completion accepted, no joiner) or both chunks
        // were done first (the job was joining when it was cancelled): never a joiner of a job
        // whose chunks were taken away, never a completion after the cancel.
        const int accepted = int(ca->accepted) + int(cb->accepted);
        const bool ready = ca->job_ready || cb->job_ready;
        if (j.state == "cancelled" && j.chunks_remaining == 2 - accepted &&
            ready == (accepted == 2)) {
            ++clean;
        }
    }
    BOOST_TEST(clean == rounds);
}

BOOST_AUTO_TEST_SUITE_END()
