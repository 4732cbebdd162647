#define BOOST_TEST_MODULE pg_queue
#include <unistd.h>

#include <atomic>
#include <barrier>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "store/pg_queue.h"
#include "support/pg_fixture.h"

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
        PgQueueOptions o;
        o.conninfo = conninfo;
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

template <class T>
T must(rr::Result<T> r) {
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
    return std::move(r).value();
}

void must(rr::Status s) {
    BOOST_REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error().message));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(pg_queue, *utf::precondition(t::have_postgres))

BOOST_AUTO_TEST_CASE(concurrent_claimers_never_get_the_same_task) {
    Db db;
    auto producer = db.node("producer");
    const int tasks = 300;
    must(producer.add_job("in/a.mkv", "web", payloads(tasks)));

    std::mutex mu;
    std::vector<int64_t> claimed;
    std::vector<std::thread> threads;
    std::atomic<int> errors{0};
    for (int n = 0; n < 6; ++n) {
        threads.emplace_back([&, n] {
            PgQueueOptions o;
            o.conninfo = db.conninfo;
            o.node_id = "node-" + std::to_string(n);
            auto q = PgQueue::open(o);
            NodeRegistration r{"test", 1, "test", 2, 60};
            if (!q.ok() || !q->register_node(r).ok()) return void(++errors);
            for (;;) {
                auto got = q->claim(3);
                if (!got.ok()) return void(++errors);
                if (got->empty()) return;
                std::lock_guard lock(mu);
                for (const Lease& l : *got) claimed.push_back(l.task_id);
            }
        });
    }
    for (auto& th : threads) th.join();
    BOOST_TEST(errors.load() == 0);
    BOOST_TEST(claimed.size() == static_cast<size_t>(tasks));
    BOOST_TEST(std::set<int64_t>(claimed.begin(), claimed.end()).size() == claimed.size());
    const auto nodes = must(producer.nodes());
    int64_t leases = 0;
    for (const auto& n : nodes) leases += n.leases;
    BOOST_TEST(leases == tasks);
}

BOOST_AUTO_TEST_CASE(heartbeat_renews_leases_and_reports_the_lost_ones) {
    Db db;
    auto a = db.node("a", 1.0);
    auto reaper = db.node("reaper", 1.0);
    const int64_t job = must(a.add_job("in/a.mkv", "web", payloads(2)));
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

BOOST_AUTO_TEST_CASE(a_stale_completion_after_reap_and_reclaim_changes_nothing) {
    Db db;
    auto a = db.node("a", 1.0);
    auto b = db.node("b", 30.0);
    const int64_t job = must(a.add_job("in/a.mkv", "web", payloads(1)));
    const Lease old = must(a.claim(1)).at(0);
    std::this_thread::sleep_for(1200ms);  // a is "paused" past its lease
    BOOST_TEST(must(b.reap()).size() == 1u);
    const Lease fresh = must(b.claim(1)).at(0);
    BOOST_TEST(fresh.task_id == old.task_id);
    BOOST_TEST(fresh.epoch == old.epoch + 1);

    const Completion late = must(a.complete(old, "a's output"));
    BOOST_TEST(!late.accepted);
    BOOST_TEST(!late.job_ready);
    const FailOutcome late_fail = must(a.fail(old, "a's error"));
    BOOST_TEST(!late_fail.accepted);
    JobView j = must(a.job(job));
    BOOST_TEST(j.state == "running");
    BOOST_TEST(j.chunks_remaining == 1);
    BOOST_TEST(must(b.renew()).size() == 1u);  // b still holds it

    const Completion good = must(b.complete(fresh, "b's output"));
    BOOST_TEST(good.accepted);
    BOOST_TEST(good.job_ready);
    j = must(a.job(job));
    BOOST_TEST(j.state == "joining");
    BOOST_TEST(j.joiner.value_or("") == "b");
    BOOST_TEST(must(a.complete(old, "again")).accepted == false);
}

BOOST_AUTO_TEST_CASE(last_two_chunks_completed_at_once_make_exactly_one_joiner) {
    Db db;
    auto a = db.node("a");
    auto b = db.node("b");
    const int rounds = 200;
    int single_joiner = 0;
    for (int round = 0; round < rounds; ++round) {
        const int64_t job = must(a.add_job("in/r.mkv", "web", payloads(2)));
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

BOOST_AUTO_TEST_CASE(expired_leases_return_after_back_off) {
    Db db;
    auto a = db.node("a", 1.0, /*backoff=*/1.5);
    auto b = db.node("b", 30.0, 1.5);
    const int64_t job = must(a.add_job("in/a.mkv", "web", payloads(1)));
    must(a.claim(1));
    std::this_thread::sleep_for(1200ms);
    const auto reaped = must(b.reap());
    BOOST_REQUIRE(reaped.size() == 1u);
    BOOST_TEST(!reaped[0].failed);
    BOOST_TEST(must(b.claim(1)).empty());  // backing off
    std::this_thread::sleep_for(1700ms);
    const auto again = must(b.claim(1));
    BOOST_REQUIRE(again.size() == 1u);
    BOOST_TEST(again[0].attempt == 2);
    BOOST_TEST(again[0].epoch == 2);
    const auto history = must(b.attempts(job, 0));
    BOOST_REQUIRE(history.size() == 1u);
    BOOST_TEST(history[0].node == "a");
    BOOST_TEST(history[0].error == "lease expired");
}

BOOST_AUTO_TEST_CASE(max_attempts_fail_the_job_with_every_attempt_listed) {
    Db db;
    auto a = db.node("a", 1.0, 0, 3);
    auto b = db.node("b", 1.0, 0, 3);
    auto c = db.node("c", 1.0, 0, 3);
    const int64_t job = must(a.add_job("in/poison.mkv", "web", payloads(2)));
    // Chunk 0 fails on a, then on b, then c dies holding it; chunk 1 waits behind it.
    FailOutcome f = must(a.fail(must(a.claim(1)).at(0), "decoder exploded"));
    BOOST_TEST(f.accepted);
    BOOST_TEST(!f.task_failed);
    f = must(b.fail(must(b.claim(1)).at(0), "out of memory"));
    BOOST_TEST(!f.task_failed);
    const Lease third = must(c.claim(1)).at(0);
    BOOST_TEST(third.attempt == 3);
    std::this_thread::sleep_for(1200ms);
    const auto reaped = must(a.reap());
    BOOST_REQUIRE(reaped.size() == 1u);
    BOOST_TEST(reaped[0].failed);

    const JobView j = must(a.job(job));
    BOOST_TEST(j.state == "failed");
    const std::string e = j.error.value_or("");
    BOOST_TEST_MESSAGE("job error: " << e);
    BOOST_TEST(e.find("chunk 0 failed 3 times") != std::string::npos);
    BOOST_TEST(e.find("attempt 1 on a: decoder exploded") != std::string::npos);
    BOOST_TEST(e.find("attempt 2 on b: out of memory") != std::string::npos);
    BOOST_TEST(e.find("attempt 3 on c: lease expired") != std::string::npos);
    BOOST_TEST(must(a.claim(5)).empty());  // chunk 1 is not worth anyone's time now
    BOOST_TEST(!must(c.complete(third, "too late")).accepted);
}

BOOST_AUTO_TEST_CASE(a_second_live_node_with_the_same_id_is_refused) {
    Db db;
    auto first = db.node("render-07");
    PgQueueOptions o;
    o.conninfo = db.conninfo;
    o.node_id = "render-07";
    auto twin = must(PgQueue::open(o));
    NodeRegistration r{"other-host", 99, "test", 2, /*stale_after_seconds=*/1.0};
    const auto refused = twin.register_node(r);
    BOOST_REQUIRE(!refused.ok());
    BOOST_TEST(refused.error().code == rr::Errc::conflict);
    BOOST_TEST(refused.error().message.find("render-07") != std::string::npos);
    BOOST_TEST(must(first.node_heartbeat(0)) == "active");

    // Once the first one has been silent for longer than the staleness bound, the id is free;
    // the silent process learns at its next heartbeat that it must stop.
    std::this_thread::sleep_for(1200ms);
    must(twin.register_node(r));
    const auto hb = first.node_heartbeat(0);
    BOOST_REQUIRE(!hb.ok());
    BOOST_TEST(hb.error().code == rr::Errc::conflict);
    const auto nodes = must(twin.nodes());
    BOOST_REQUIRE(nodes.size() == 1u);
    BOOST_TEST(nodes[0].host == "other-host");
}

BOOST_AUTO_TEST_CASE(a_draining_node_claims_nothing_until_undrained) {
    Db db;
    auto worker = db.node("worker");
    auto operator_ = db.node("ctl");
    must(worker.add_job("in/a.mkv", "web", payloads(3)));
    const Lease held = must(worker.claim(1)).at(0);
    must(operator_.set_node_state("worker", "draining"));
    BOOST_TEST(must(worker.node_heartbeat(1)) == "draining");
    BOOST_TEST(must(worker.claim(2)).empty());
    BOOST_TEST(must(worker.complete(held, "ok")).accepted);  // it finishes what it has
    BOOST_TEST(!operator_.set_node_state("nobody", "draining").ok());
    must(operator_.set_node_state("worker", "active"));
    BOOST_TEST(must(worker.claim(2)).size() == 2u);
}

BOOST_AUTO_TEST_CASE(release_on_shutdown_hands_leases_over_at_once) {
    Db db;
    auto leaving = db.node("leaving");
    auto staying = db.node("staying");
    const int64_t job = must(leaving.add_job("in/a.mkv", "web", payloads(3)));
    const auto held = must(leaving.claim(3));
    BOOST_REQUIRE(held.size() == 3u);
    BOOST_TEST(must(leaving.release()) == 3);
    const auto taken = must(staying.claim(3));
    BOOST_REQUIRE(taken.size() == 3u);
    for (const Lease& l : taken) BOOST_TEST(l.attempt == 1);  // a shutdown is not a failure
    BOOST_TEST(!must(leaving.complete(held[0], "late")).accepted);
    for (const Lease& l : taken) must(staying.complete(l, "ok"));
    BOOST_TEST(must(staying.job(job)).state == "joining");
    BOOST_TEST(must(staying.attempts(job, 0)).empty());
}

BOOST_AUTO_TEST_CASE(a_terminated_connection_is_reopened_and_the_call_succeeds) {
    Db db;
    auto a = db.node("a");
    const int64_t job = must(a.add_job("in/a.mkv", "web", payloads(1)));
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

BOOST_AUTO_TEST_CASE(finished_jobs_are_pruned_and_a_newer_schema_is_refused) {
    Db db;
    auto a = db.node("a");
    const int64_t done = must(a.add_job("in/a.mkv", "web", payloads(1)));
    const int64_t running = must(a.add_job("in/b.mkv", "web", payloads(1)));
    BOOST_TEST(must(a.complete(must(a.claim(1)).at(0), "ok")).job_ready);
    must(a.finish_job(done, "{}"));
    BOOST_TEST(must(a.prune(0)) == 1);
    BOOST_TEST(!a.job(done).ok());
    BOOST_TEST(must(a.job(running)).state == "running");

    db.cluster.sql(db.name, "INSERT INTO schema_migrations (version) VALUES (99)");
    PgQueueOptions o;
    o.conninfo = db.conninfo;
    o.node_id = "new";
    const auto refused = PgQueue::open(o);
    BOOST_REQUIRE(!refused.ok());
    BOOST_TEST(refused.error().message.find("newer than this renderrushd") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
