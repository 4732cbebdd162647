#define BOOST_TEST_MODULE task_queue
// The chunk queue's contract (store/task_queue.h, docs/CLUSTER.md "The queue"): every case runs
// against every backend, through open_task_queue only, so PostgreSQL and SQLite are held to
// the same outcomes. PostgreSQL's SQL (store/pg_statements.cpp) is the reference semantics.
//
// RR_TASK_QUEUE_BACKENDS (comma-separated, default "postgresql,sqlite") picks the backends to
// run; a backend whose open_task_queue fails fails every case it is asked for.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "store/task_queue.h"
#include "support/must.h"
#include "support/pg_fixture.h"
#include "support/sandbox.h"

using namespace rr::store;
namespace t = rr::test;
namespace bdata = boost::unit_test::data;
using namespace std::chrono_literals;
using rr::test::must;
using Clock = std::chrono::steady_clock;

namespace {

// The backends asked for. PostgreSQL is left out, with a message, only when it was not asked
// for by name and its server binaries are missing (as integration.pg_queue skips then).
std::vector<std::string> backends() {
    std::vector<std::string> out;
    const char* env = std::getenv("RR_TASK_QUEUE_BACKENDS");
    if (env && *env) {
        std::stringstream in(env);
        for (std::string name; std::getline(in, name, ',');) {
            if (!name.empty()) out.push_back(name);
        }
        return out;
    }
    if (t::PgCluster::bin_dir()) {
        out.emplace_back("postgresql");
    } else {
        std::cerr << "task_queue: PostgreSQL server binaries (initdb, pg_ctl) are not installed; "
                     "the postgresql variants are not run (install postgresql or set "
                     "RR_PG_BINDIR)\n";
    }
    out.emplace_back("sqlite");
    return out;
}

struct Timing {
    double lease = 30;
    double backoff = 0;
    double backoff_max = 60;
    int max_attempts = 3;
};

// One fresh queue database per case, for one backend; nodes are TaskQueue instances opened on
// it (each its own connection).
class Backend {
  public:
    explicit Backend(const std::string& name) : name_(name) {
        if (name == "postgresql") {
            static int n = 0;
            database_ = t::shared_pg_server().create_database("contract_" + std::to_string(++n));
        } else if (name == "sqlite") {
            dir_.emplace();
            database_ = "sqlite:" + (*dir_ / "queue.db").string();
        } else {
            BOOST_FAIL("unknown backend '" << name << "' in RR_TASK_QUEUE_BACKENDS");
        }
    }

    [[nodiscard]] const std::string& database() const { return database_; }

    // A queue for node_id that has not registered its node row.
    std::unique_ptr<TaskQueue> open(const std::string& node_id, Timing timing = {}) const {
        QueueOptions o;
        o.database = database_;
        o.node_id = node_id;
        o.lease_seconds = timing.lease;
        o.backoff_seconds = timing.backoff;
        o.backoff_max_seconds = timing.backoff_max;
        o.max_attempts = timing.max_attempts;
        auto q = open_task_queue(o);
        BOOST_REQUIRE_MESSAGE(q.ok(), name_ << ": open_task_queue(" << database_ << ") for node "
                                            << node_id
                                            << " failed: " << (q.ok() ? "" : q.error().message));
        BOOST_REQUIRE_EQUAL((*q)->backend(), name_);
        BOOST_REQUIRE_EQUAL((*q)->node_id(), node_id);
        return std::move(q).value();
    }

    // A registered, active node.
    std::unique_ptr<TaskQueue> node(const std::string& node_id, Timing timing = {}) const {
        auto q = open(node_id, timing);
        must(q->register_node(
            NodeRegistration{"host-" + node_id, static_cast<int>(::getpid()), "test", 2, 30}));
        return q;
    }

  private:
    std::string name_;
    std::optional<t::Sandbox> dir_;
    std::string database_;
};

// Payloads with the characters a backend could mangle on the way in (quotes, backslashes,
// commas, braces, a newline).
std::vector<std::string> payloads(int n) {
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i) {
        out.push_back(R"({"chunk":)" + std::to_string(i) + R"(,"path":"a\"b\\c, {d}"})" + "\n");
    }
    return out;
}

std::set<int64_t> ids(const std::vector<Lease>& leases) {
    std::set<int64_t> out;
    for (const Lease& l : leases) out.insert(l.task_id);
    return out;
}

const NodeView* find_node(const std::vector<NodeView>& nodes, const std::string& id) {
    for (const NodeView& n : nodes) {
        if (n.node_id == id) return &n;
    }
    return nullptr;
}

// Polls fn (which returns a container) until it yields at least `want` items in all, or the
// deadline passes; returns everything it yielded. Leases are short, so waits stay short.
template <class F>
auto gather(F&& fn, size_t want, std::chrono::milliseconds deadline = 5s) {
    const auto until = Clock::now() + deadline;
    decltype(must(fn())) all;
    for (;;) {
        auto got = must(fn());
        all.insert(all.end(), got.begin(), got.end());
        if (all.size() >= want || Clock::now() > until) return all;
        std::this_thread::sleep_for(20ms);
    }
}

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(task_queue)

BOOST_DATA_TEST_CASE(a_claim_hands_each_task_to_one_node_with_a_new_attempt_and_epoch,
                     bdata::make(backends()), backend) {
    Backend be(backend);
    auto a = be.node("a", {.max_attempts = 5});
    auto b = be.node("b", {.max_attempts = 5});
    const int64_t job = must(a->add_job("in/a.mkv", "web", payloads(3), 0));
    const auto listed = must(b->tasks(job));
    BOOST_REQUIRE_EQUAL(listed.size(), 3u);
    for (int i = 0; i < 3; ++i) {
        const TaskView& tv = listed[static_cast<size_t>(i)];
        BOOST_TEST(tv.idx == i);
        BOOST_TEST(tv.state == "available");
        BOOST_TEST(tv.attempt == 0);
        BOOST_TEST(tv.payload == payloads(3)[static_cast<size_t>(i)]);
    }

    const auto first = must(a->claim(1));
    BOOST_REQUIRE_EQUAL(first.size(), 1u);
    BOOST_TEST(first[0].job_id == job);
    BOOST_TEST(first[0].attempt == 1);
    BOOST_TEST(first[0].epoch == 1);
    BOOST_TEST(first[0].payload == payloads(3)[static_cast<size_t>(first[0].idx)]);
    const auto rest = must(b->claim(5));
    BOOST_REQUIRE_EQUAL(rest.size(), 2u);
    BOOST_TEST(ids(rest).count(first[0].task_id) == 0u);
    std::set<int> idxs{first[0].idx};
    for (const Lease& l : rest) {
        idxs.insert(l.idx);
        BOOST_TEST(l.attempt == 1);
        BOOST_TEST(l.epoch == 1);
        BOOST_TEST(l.payload == payloads(3)[static_cast<size_t>(l.idx)]);
    }
    BOOST_TEST(idxs == (std::set<int>{0, 1, 2}));
    BOOST_TEST(must(a->claim(5)).empty());  // every task is leased
    BOOST_TEST(must(b->claim(5)).empty());
    for (const TaskView& tv : must(a->tasks(job))) {
        BOOST_TEST(tv.state == "leased");
        BOOST_TEST(tv.lease_owner.value_or("") == (tv.idx == first[0].idx ? "a" : "b"));
    }
    BOOST_TEST(must(a->renew()).size() == 1u);
    BOOST_TEST(must(b->renew()).size() == 2u);

    // Each claim after a failed attempt: attempt and epoch go up together, whoever claims.
    Lease held = first[0];
    TaskQueue* holder = a.get();
    for (int n = 2; n <= 4; ++n) {
        const FailOutcome f = must(holder->fail(held, "attempt " + std::to_string(n - 1)));
        BOOST_TEST(f.accepted);
        BOOST_TEST(!f.task_failed);
        holder = holder == a.get() ? b.get() : a.get();
        const auto again = must(holder->claim(5));
        BOOST_REQUIRE_EQUAL(again.size(), 1u);
        BOOST_TEST(again[0].task_id == held.task_id);
        BOOST_TEST(again[0].attempt == n);
        BOOST_TEST(again[0].epoch == n);
        held = again[0];
    }
    BOOST_TEST(must(a->attempts(job, held.idx)).size() == 3u);
}

BOOST_DATA_TEST_CASE(concurrent_claimers_never_get_the_same_task, bdata::make(backends()),
                     backend) {
    Backend be(backend);
    auto producer = be.node("producer");
    const int tasks = 200;
    const int64_t job = must(producer->add_job("in/a.mkv", "web", payloads(tasks), 0));
    const int claimers = 4;
    std::vector<std::unique_ptr<TaskQueue>> nodes;
    for (int n = 0; n < claimers; ++n) nodes.push_back(be.node("node-" + std::to_string(n)));
    std::vector<std::vector<Lease>> claimed(claimers);
    std::vector<std::string> errors(claimers);
    std::barrier go(claimers);
    std::vector<std::thread> threads;
    for (int n = 0; n < claimers; ++n) {
        threads.emplace_back([&, n] {
            const auto i = static_cast<size_t>(n);
            go.arrive_and_wait();
            for (;;) {
                auto got = nodes[i]->claim(3);
                if (!got.ok()) return void(errors[i] = got.error().message);
                if (got->empty()) return;
                claimed[i].insert(claimed[i].end(), got->begin(), got->end());
            }
        });
    }
    for (auto& th : threads) th.join();
    std::set<int64_t> distinct;
    size_t total = 0;
    for (int n = 0; n < claimers; ++n) {
        const auto i = static_cast<size_t>(n);
        BOOST_TEST(errors[i] == "", "node-" << n << ": " << errors[i]);
        total += claimed[i].size();
        distinct.merge(ids(claimed[i]));
        BOOST_TEST(find_node(must(producer->nodes()), "node-" + std::to_string(n))->leases ==
                   int64_t(claimed[i].size()));
    }
    BOOST_TEST(total == size_t(tasks));
    BOOST_TEST(distinct.size() == size_t(tasks));
    const QueueDepth depth = must(producer->queue_depth());
    BOOST_TEST(depth.available == 0);
    BOOST_TEST(depth.leased == tasks);
    for (const TaskView& tv : must(producer->tasks(job))) BOOST_TEST(tv.attempt == 1);
}

BOOST_DATA_TEST_CASE(a_node_that_is_not_active_claims_nothing, bdata::make(backends()), backend) {
    Backend be(backend);
    auto worker = be.node("worker");
    auto ctl = be.node("ctl");
    must(ctl->add_job("in/a.mkv", "web", payloads(3), 0));
    BOOST_TEST(must(be.open("stranger")->claim(5)).empty());  // never registered

    must(ctl->set_node_state("worker", "draining"));
    BOOST_TEST(must(worker->node_heartbeat(0, std::nullopt)) == "draining");
    BOOST_TEST(must(worker->claim(5)).empty());
    must(ctl->set_node_state("worker", "active"));
    BOOST_TEST(must(worker->node_heartbeat(0, std::nullopt)) == "active");
    BOOST_TEST(must(worker->claim(1)).size() == 1u);

    BOOST_TEST(must(worker->leave()) == 1);  // its lease goes back at once
    BOOST_TEST(must(worker->claim(5)).empty());
    const auto taken = must(ctl->claim(5));
    BOOST_TEST(taken.size() == 3u);
    for (const Lease& l : taken) BOOST_TEST(l.attempt == 1);
}

// A node whose share is not mounted tells the others why at each heartbeat, and stops saying
// so once its storage is the cluster's again.
BOOST_DATA_TEST_CASE(a_node_tells_the_others_why_its_storage_keeps_it_from_claiming,
                     bdata::make(backends()), backend) {
    Backend be(backend);
    auto worker = be.node("worker");
    auto other = be.node("other");
    BOOST_TEST(!find_node(must(other->nodes()), "worker")->storage_problem);
    const std::string why = "storage marker /srv/renderrush/.renderrush-cluster is missing";
    BOOST_TEST(must(worker->node_heartbeat(0, why)) == "active");
    const auto nodes = must(other->nodes());
    const NodeView* seen = find_node(nodes, "worker");
    BOOST_REQUIRE(seen->storage_problem.has_value());
    BOOST_TEST(*seen->storage_problem == why);
    BOOST_TEST(seen->state == "active");  // still alive, not drained: it only claims nothing
    BOOST_TEST(!find_node(must(other->nodes()), "other")->storage_problem);
    must(worker->node_heartbeat(0, std::nullopt));
    BOOST_TEST(!find_node(must(other->nodes()), "worker")->storage_problem);
}

// What the farm is working on, as every node lists it (`cluster-jobs`): the jobs being
// prepared, run or joined and those that ended with their source not yet disposed of,
// highest priority first, each with the tasks every node holds leases on; a job whose
// disposition is finished is no longer in hand.
BOOST_DATA_TEST_CASE(every_node_lists_the_farms_jobs_in_hand_with_the_leases_per_node,
                     bdata::make(backends()), backend) {
    Backend be(backend);
    auto owner = be.node("owner");
    auto a = be.node("a");
    auto b = be.node("b");
    const int64_t preparing =
        must(owner->open_job("in/preparing.mkv", "1:1", "web", R"({"owner_job":7})", 0)).id;
    const int64_t running = must(owner->open_job("in/running.mkv", "2:2", "web", "{}", 5)).id;
    must(owner->start_tasks(running, payloads(4)));
    const int64_t ended = must(owner->open_job("in/ended.mkv", "3:3", "web", "{}", 0)).id;
    must(owner->end_job(ended, "failed", "not a readable media file"));
    const int64_t disposed = must(owner->open_job("in/disposed.mkv", "4:4", "web", "{}", 0)).id;
    must(owner->end_job(disposed, "cancelled", "cancelled by the operator"));
    BOOST_REQUIRE(must(owner->claim_disposal(disposed)));
    BOOST_REQUIRE(must(owner->finish_disposal(disposed)));
    const auto by_a = must(a->claim(2));
    const auto by_b = must(b->claim(1));
    BOOST_REQUIRE_EQUAL(by_a.size(), 2u);
    BOOST_REQUIRE_EQUAL(by_b.size(), 1u);
    BOOST_REQUIRE(must(a->complete(by_a[0], "{}")).accepted);

    const auto jobs = must(b->farm_jobs(100));
    std::vector<int64_t> ids;
    for (const auto& f : jobs) ids.push_back(f.job.id);
    // Priority 5 first, then the oldest; the finished disposition is gone.
    BOOST_TEST(ids == (std::vector<int64_t>{running, preparing, ended}),
               boost::test_tools::per_element());
    const FarmJob& r = jobs[0];
    BOOST_TEST(r.job.state == "running");
    BOOST_TEST(r.job.owner == "owner");
    BOOST_TEST(r.job.chunks_total == 4);
    BOOST_TEST(r.job.chunks_total - r.job.chunks_remaining == 1);
    BOOST_TEST(r.leases.size() == 2u);
    BOOST_TEST(r.leases.at("a") == 1);  // one completed, one still leased
    BOOST_TEST(r.leases.at("b") == 1);
    BOOST_TEST(jobs[1].job.state == "preparing");
    BOOST_TEST(jobs[1].job.payload == R"({"owner_job":7})");
    BOOST_TEST(jobs[1].leases.empty());
    BOOST_TEST(jobs[2].job.state == "failed");
    BOOST_TEST(jobs[2].job.error.value_or("") == "not a readable media file");
    BOOST_TEST(must(b->farm_jobs(1)).size() == 1u);  // the limit holds

    // Its last tasks done, the job is joining; published and disposed of, it is gone.
    must(a->complete(by_a[1], "{}"));
    must(b->complete(by_b[0], "{}"));
    const auto rest = must(owner->claim(5));
    BOOST_REQUIRE_EQUAL(rest.size(), 1u);
    const Completion last = must(owner->complete(rest[0], "{}"));
    BOOST_REQUIRE(last.job_ready);
    auto state_of = [&](int64_t id) {
        for (const auto& f : must(a->farm_jobs(100)))
            if (f.job.id == id) return f.job.state;
        return std::string("(not listed)");
    };
    BOOST_TEST(state_of(running) == "joining");
    must(owner->finish_job(running, "{}"));
    BOOST_TEST(state_of(running) == "done");  // published; its source still to move
    BOOST_REQUIRE(must(owner->claim_disposal(running)));
    BOOST_REQUIRE(must(owner->finish_disposal(running)));
    BOOST_TEST(state_of(running) == "(not listed)");
}

BOOST_DATA_TEST_CASE(the_tasks_of_an_ended_job_are_not_claimed, bdata::make(backends()), backend) {
    Backend be(backend);
    auto owner = be.node("owner");
    auto holder = be.node("holder");
    const int64_t ended = must(owner->add_job("in/a.mkv", "web", payloads(3), 0));
    const auto held = must(holder->claim(1));
    BOOST_REQUIRE_EQUAL(held.size(), 1u);
    BOOST_TEST(held[0].job_id == ended);
    const int64_t other = must(owner->add_job("in/b.mkv", "web", payloads(1), 0));

    must(owner->end_job(ended, "cancelled", "cancelled by the operator"));
    BOOST_TEST(must(holder->renew()).empty());  // the holder learns at its heartbeat
    const auto claimed = must(owner->claim(5));
    BOOST_REQUIRE_EQUAL(claimed.size(), 1u);
    BOOST_TEST(claimed[0].job_id == other);
    BOOST_TEST(!must(holder->complete(held[0], "late")).accepted);
    BOOST_TEST(!must(holder->fail(held[0], "late")).accepted);

    const JobView j = must(owner->job(ended));
    BOOST_TEST(j.state == "cancelled");
    BOOST_TEST(j.error.value_or("") == "cancelled by the operator");
    BOOST_TEST(j.chunks_remaining == 3);
    for (const TaskView& tv : must(owner->tasks(ended))) {
        BOOST_TEST(tv.state == "failed");
        BOOST_TEST(!tv.lease_owner.has_value());
        BOOST_TEST(!tv.node.has_value());
    }
    const QueueDepth depth = must(owner->queue_depth());
    BOOST_TEST(depth.available == 0);
    BOOST_TEST(depth.leased == 1);

    must(holder->end_job(ended, "failed", "again"));  // a finished job stays as it ended
    BOOST_TEST(must(owner->job(ended)).state == "cancelled");
    BOOST_TEST(owner->end_job(other + 1000, "cancelled", "").error().code == rr::Errc::not_found);
    BOOST_TEST(owner->end_job(other, "done", "").error().code == rr::Errc::invalid_argument);
}

BOOST_DATA_TEST_CASE(a_fenced_node_can_neither_complete_nor_fail_a_reclaimed_task,
                     bdata::make(backends()), backend) {
    Backend be(backend);
    auto a = be.node("a", {.lease = 0.8});
    auto b = be.node("b", {.lease = 30});
    const int64_t job = must(a->add_job("in/a.mkv", "web", payloads(1), 0));
    const Lease old = must(a->claim(1)).at(0);
    BOOST_TEST(must(b->reap()).empty());  // not expired yet

    const auto reaped = gather([&] { return b->reap(); }, 1);  // a is "paused" past its lease
    BOOST_REQUIRE_EQUAL(reaped.size(), 1u);
    BOOST_TEST(reaped[0].task_id == old.task_id);
    BOOST_TEST(reaped[0].job_id == job);
    BOOST_TEST(reaped[0].owner == "a");
    BOOST_TEST(!reaped[0].failed);
    BOOST_TEST(must(a->renew()).empty());  // a learns it lost the lease
    const Lease fresh = must(b->claim(1)).at(0);
    BOOST_TEST(fresh.task_id == old.task_id);
    BOOST_TEST(fresh.epoch == old.epoch + 1);
    BOOST_TEST(fresh.attempt == 2);

    const Completion late = must(a->complete(old, "a's output"));
    BOOST_TEST(!late.accepted);
    BOOST_TEST(!late.job_ready);  // a refused completion never makes its node the joiner
    const FailOutcome late_fail = must(a->fail(old, "a's error"));
    BOOST_TEST(!late_fail.accepted);
    BOOST_TEST(!late_fail.task_failed);
    BOOST_TEST(!late_fail.job_failed);
    BOOST_TEST(must(a->renew()).empty());
    BOOST_TEST(must(b->renew()).size() == 1u);
    const TaskView tv = must(a->tasks(job)).at(0);
    BOOST_TEST(tv.state == "leased");
    BOOST_TEST(tv.lease_owner.value_or("") == "b");
    BOOST_TEST(tv.attempt == 2);
    BOOST_TEST(!tv.result.has_value());
    const auto history = must(a->attempts(job, 0));  // the expiry only, not a's refused fail
    BOOST_REQUIRE_EQUAL(history.size(), 1u);
    BOOST_TEST(history[0].node == "a");
    BOOST_TEST(history[0].error == "lease expired");
    BOOST_TEST(history[0].attempt == 1);
    BOOST_TEST(history[0].epoch == old.epoch);
    JobView j = must(a->job(job));
    BOOST_TEST(j.state == "running");
    BOOST_TEST(j.chunks_remaining == 1);

    const Completion good = must(b->complete(fresh, "b's output"));
    BOOST_TEST(good.accepted);
    BOOST_TEST(good.job_ready);
    BOOST_TEST(good.job_id == job);
    j = must(a->job(job));
    BOOST_TEST(j.state == "joining");
    BOOST_TEST(j.joiner.value_or("") == "b");
    BOOST_TEST(!must(a->complete(old, "again")).accepted);
    const TaskView done = must(a->tasks(job)).at(0);
    BOOST_TEST(done.state == "done");
    BOOST_TEST(done.node.value_or("") == "b");
    BOOST_TEST(done.result.value_or("") == "b's output");
}

BOOST_DATA_TEST_CASE(progress_counts_only_from_the_lease_holder_and_a_take_over_starts_from_0,
                     bdata::make(backends()), backend) {
    Backend be(backend);
    auto a = be.node("a", {.lease = 0.8});
    auto b = be.node("b", {.lease = 30});
    const int64_t job = must(a->add_job("in/a.mkv", "web", payloads(2), 0));
    const auto held = must(a->claim(2));
    BOOST_REQUIRE_EQUAL(held.size(), 2u);
    auto frames_of = [&](int idx) {
        return must(b->tasks(job)).at(static_cast<size_t>(idx)).frames_done;
    };
    BOOST_TEST(frames_of(held[0].idx) == 0);
    BOOST_TEST(frames_of(held[1].idx) == 0);

    // The holder's report, both tasks in one batch, is what everyone reads; a later one
    // replaces it.
    must(a->report_progress(
        {{held[0].task_id, held[0].epoch, 12}, {held[1].task_id, held[1].epoch, 5}}));
    BOOST_TEST(frames_of(held[0].idx) == 12);
    BOOST_TEST(frames_of(held[1].idx) == 5);
    must(a->report_progress({{held[0].task_id, held[0].epoch, 20}}));
    BOOST_TEST(frames_of(held[0].idx) == 20);
    BOOST_TEST(frames_of(held[1].idx) == 5);

    // Another node's report on a's lease, and a's own with an epoch that is not its lease's,
    // change nothing.
    must(b->report_progress({{held[0].task_id, held[0].epoch, 99}}));
    must(a->report_progress({{held[1].task_id, held[1].epoch + 1, 99}}));
    BOOST_TEST(frames_of(held[0].idx) == 20);
    BOOST_TEST(frames_of(held[1].idx) == 5);

    // a is "paused" past its lease: b takes both tasks over, and they start again from 0.
    const auto reaped = gather([&] { return b->reap(); }, 2);
    BOOST_REQUIRE_EQUAL(reaped.size(), 2u);
    BOOST_TEST(frames_of(held[0].idx) == 0);
    const auto fresh = must(b->claim(2));
    BOOST_REQUIRE_EQUAL(fresh.size(), 2u);
    BOOST_TEST(fresh[0].task_id == held[0].task_id);
    BOOST_TEST(fresh[0].epoch == held[0].epoch + 1);
    BOOST_TEST(frames_of(held[0].idx) == 0);
    BOOST_TEST(frames_of(held[1].idx) == 0);
    // a comes back and reports with its old epoch: refused, b's count stands.
    must(a->report_progress({{held[0].task_id, held[0].epoch, 40}}));
    BOOST_TEST(frames_of(held[0].idx) == 0);
    must(b->report_progress({{fresh[0].task_id, fresh[0].epoch, 3}}));
    must(a->report_progress({{held[0].task_id, held[0].epoch, 40}}));
    BOOST_TEST(frames_of(held[0].idx) == 3);
    const TaskView tv = must(a->tasks(job)).at(static_cast<size_t>(held[0].idx));
    BOOST_TEST(tv.lease_owner.value_or("") == "b");
    BOOST_TEST(tv.state == "leased");
}

BOOST_DATA_TEST_CASE(the_last_completion_of_two_racing_nodes_makes_exactly_one_joiner,
                     bdata::make(backends()), backend) {
    Backend be(backend);
    auto a = be.node("a");
    auto b = be.node("b");
    const int rounds = 50;
    int one_joiner = 0;
    for (int round = 0; round < rounds; ++round) {
        const int64_t job = must(a->add_job("in/r.mkv", "web", payloads(4), 0));
        const auto la = must(a->claim(2));
        const auto lb = must(b->claim(2));
        BOOST_REQUIRE(la.size() == 2u && lb.size() == 2u);
        BOOST_REQUIRE(!must(a->complete(la[0], "a")).job_ready);
        BOOST_REQUIRE(!must(b->complete(lb[0], "b")).job_ready);
        // Each node completes its last task in its own thread, on its own instance.
        std::barrier go(2);
        rr::Result<Completion> ca = Completion{}, cb = Completion{};
        std::thread ta([&] {
            go.arrive_and_wait();
            ca = a->complete(la[1], "a");
        });
        std::thread tb([&] {
            go.arrive_and_wait();
            cb = b->complete(lb[1], "b");
        });
        ta.join();
        tb.join();
        BOOST_REQUIRE_MESSAGE(ca.ok() && cb.ok(), "round " << round << ": "
                                                           << (!ca.ok()   ? ca.error().message
                                                               : !cb.ok() ? cb.error().message
                                                                          : ""));
        BOOST_REQUIRE(ca->accepted && cb->accepted);
        const JobView j = must(a->job(job));
        BOOST_REQUIRE(j.state == "joining");
        BOOST_REQUIRE(j.chunks_remaining == 0);
        const int ready = int(ca->job_ready) + int(cb->job_ready);
        const std::string said = ca->job_ready ? "a" : "b";
        if (ready == 1 && j.joiner.value_or("") == said) {
            ++one_joiner;
        } else {
            BOOST_TEST_MESSAGE("round " << round << ": " << ready << " completions said job_ready"
                                        << ", joiner " << j.joiner.value_or("(none)"));
        }
        must((said == "a" ? a : b)->finish_job(job, "{}"));
    }
    BOOST_TEST(one_joiner == rounds);
    const auto nodes = must(a->nodes());
    BOOST_REQUIRE(find_node(nodes, "a") && find_node(nodes, "b"));
    BOOST_TEST(find_node(nodes, "a")->chunks_done == 2 * rounds);
    BOOST_TEST(find_node(nodes, "b")->chunks_done == 2 * rounds);
}

BOOST_DATA_TEST_CASE(a_task_out_of_attempts_fails_its_job_with_every_attempt_listed,
                     bdata::make(backends()), backend) {
    Backend be(backend);
    auto a = be.node("a", {.lease = 0.4});
    auto b = be.node("b", {.lease = 0.4});
    auto c = be.node("c", {.lease = 0.4});
    const int64_t job = must(a->add_job("in/poison.mkv", "web", payloads(1), 0));
    // The chunk fails on a, then on b, then c dies holding it.
    const Lease first = must(a->claim(1)).at(0);
    FailOutcome f = must(a->fail(first, "decoder exploded"));
    BOOST_TEST(f.accepted);
    BOOST_TEST(!f.task_failed);
    BOOST_TEST(!f.job_failed);
    BOOST_TEST(f.job_id == job);
    f = must(b->fail(must(b->claim(1)).at(0), "out of memory"));
    BOOST_TEST(f.accepted);
    BOOST_TEST(!f.task_failed);
    BOOST_TEST(must(a->job(job)).state == "running");
    const Lease third = must(c->claim(1)).at(0);
    BOOST_TEST(third.attempt == 3);
    const auto reaped = gather([&] { return a->reap(); }, 1);
    BOOST_REQUIRE_EQUAL(reaped.size(), 1u);
    BOOST_TEST(reaped[0].failed);
    BOOST_TEST(reaped[0].owner == "c");

    const JobView j = must(a->job(job));
    BOOST_TEST(j.state == "failed");
    const std::string e = j.error.value_or("");
    BOOST_TEST_MESSAGE(backend << " job error: " << e);
    BOOST_TEST(e.find("chunk 0 failed after 3 attempts") != std::string::npos);
    BOOST_TEST(e.find("attempt 1 on a: decoder exploded") != std::string::npos);
    BOOST_TEST(e.find("attempt 2 on b: out of memory") != std::string::npos);
    BOOST_TEST(e.find("attempt 3 on c: lease expired") != std::string::npos);
    const auto history = must(a->attempts(job, 0));
    BOOST_REQUIRE_EQUAL(history.size(), 3u);
    const char* who[] = {"a", "b", "c"};
    const char* what[] = {"decoder exploded", "out of memory", "lease expired"};
    for (size_t i = 0; i < 3; ++i) {
        BOOST_TEST(history[i].attempt == int(i) + 1);
        BOOST_TEST(history[i].epoch == int64_t(i) + 1);
        BOOST_TEST(history[i].node == who[i]);
        BOOST_TEST(history[i].error == what[i]);
    }
    BOOST_TEST(must(a->tasks(job)).at(0).state == "failed");
    BOOST_TEST(must(a->claim(5)).empty());
    BOOST_TEST(!must(c->complete(third, "too late")).accepted);

    // Out of attempts through fail() alone: the failing call says the job failed with it, and
    // the job's waiting chunk is nobody's work any more.
    auto d = be.node("d", {.max_attempts = 1});
    const int64_t second_job = must(d->add_job("in/poison2.mkv", "web", payloads(2), 0));
    const Lease doomed = must(d->claim(1)).at(0);
    f = must(d->fail(doomed, "bad frame"));
    BOOST_TEST(f.accepted);
    BOOST_TEST(f.task_failed);
    BOOST_TEST(f.job_failed);
    BOOST_TEST(f.job_id == second_job);
    const JobView j2 = must(d->job(second_job));
    BOOST_TEST(j2.state == "failed");
    BOOST_TEST(j2.error.value_or("").find("chunk " + std::to_string(doomed.idx) +
                                          " failed after 1 attempts: attempt 1 on d: bad frame") !=
               std::string::npos);
    BOOST_TEST(must(d->claim(5)).empty());
    for (const TaskView& tv : must(d->tasks(second_job))) BOOST_TEST(tv.state == "failed");
    const QueueDepth depth = must(d->queue_depth());
    BOOST_TEST(depth.available == 0);
    BOOST_TEST(depth.leased == 0);
}

BOOST_DATA_TEST_CASE(a_failed_or_expired_task_waits_out_its_back_off, bdata::make(backends()),
                     backend) {
    Backend be(backend);
    auto a = be.node("a", {.lease = 0.4, .backoff = 0.5, .backoff_max = 0.6, .max_attempts = 5});
    const int64_t job = must(a->add_job("in/a.mkv", "web", payloads(1), 0));
    const auto claim_when_due = [&](double at_least, double at_most) {
        const auto start = Clock::now();
        BOOST_TEST(must(a->claim(1)).empty());  // backing off
        const QueueDepth depth = must(a->queue_depth());
        BOOST_TEST(depth.available == 1);  // waiting counts, even while it backs off
        BOOST_TEST(depth.leased == 0);
        const auto got = gather([&] { return a->claim(1); }, 1);
        const double waited = seconds_since(start);
        BOOST_TEST_MESSAGE(backend << ": claimable again after " << waited << " s");
        BOOST_TEST(waited >= at_least);
        BOOST_TEST(waited <= at_most);
        BOOST_REQUIRE_EQUAL(got.size(), 1u);
        return got[0];
    };

    Lease l = must(a->claim(1)).at(0);
    BOOST_TEST(must(a->fail(l, "first")).accepted);
    l = claim_when_due(0.4, 3.0);  // 0.5 s
    BOOST_TEST(l.attempt == 2);
    BOOST_TEST(must(a->fail(l, "second")).accepted);
    l = claim_when_due(0.5, 3.0);  // 0.5 · 2 = 1 s, at most 0.6 s
    BOOST_TEST(l.attempt == 3);
    // An expired lease backs off too (0.5 · 4 = 2 s, at most 0.6 s).
    const auto reaped = gather([&] { return a->reap(); }, 1);
    BOOST_REQUIRE_EQUAL(reaped.size(), 1u);
    BOOST_TEST(!reaped[0].failed);
    l = claim_when_due(0.5, 1.8);
    BOOST_TEST(l.attempt == 4);
    BOOST_TEST(must(a->attempts(job, 0)).size() == 3u);
}

BOOST_DATA_TEST_CASE(release_gives_the_attempt_back_and_fences_the_old_leases,
                     bdata::make(backends()), backend) {
    Backend be(backend);
    auto a = be.node("a");
    auto b = be.node("b");
    const int64_t job = must(a->add_job("in/a.mkv", "web", payloads(3), 0));
    const auto held = must(a->claim(2));
    BOOST_REQUIRE_EQUAL(held.size(), 2u);
    BOOST_TEST(must(a->release()) == 2);
    BOOST_TEST(must(a->renew()).empty());
    BOOST_TEST(find_node(must(b->nodes()), "a")->leases == 0);

    const auto taken = must(b->claim(5));  // at once: a clean release is no failure
    BOOST_REQUIRE_EQUAL(taken.size(), 3u);
    for (const Lease& l : taken) {
        const bool released = ids(held).count(l.task_id) == 1;
        BOOST_TEST(l.attempt == 1);
        BOOST_TEST(l.epoch == (released ? 2 : 1));
    }
    BOOST_TEST(!must(a->complete(held[0], "late")).accepted);
    BOOST_TEST(!must(a->fail(held[1], "late")).accepted);
    for (const TaskView& tv : must(b->tasks(job))) {
        BOOST_TEST(tv.state == "leased");
        BOOST_TEST(tv.lease_owner.value_or("") == "b");
        BOOST_TEST(tv.attempt == 1);
        BOOST_TEST(must(b->attempts(job, tv.idx)).empty());
    }
    int ready = 0;
    for (const Lease& l : taken) ready += must(b->complete(l, "ok")).job_ready ? 1 : 0;
    BOOST_TEST(ready == 1);
    const JobView j = must(a->job(job));
    BOOST_TEST(j.state == "joining");
    BOOST_TEST(j.joiner.value_or("") == "b");
}

BOOST_DATA_TEST_CASE(nodes_register_once_heartbeat_drain_and_are_found_lost,
                     bdata::make(backends()), backend) {
    Backend be(backend);
    auto first = be.node("render-07");
    auto twin = be.open("render-07");
    const NodeRegistration r{"other-host", 99, "v2", 4, 30};
    const auto refused = twin->register_node(r);
    BOOST_REQUIRE(!refused.ok());
    BOOST_TEST(refused.error().code == rr::Errc::conflict);
    BOOST_TEST(refused.error().message.find("render-07") != std::string::npos);  // says which
    BOOST_TEST(must(first->node_heartbeat(1, std::nullopt)) == "active");

    BOOST_TEST(must(first->leave()) == 0);  // a clean stop frees the id at once
    must(twin->register_node(r));
    const auto taken_over = first->node_heartbeat(0, std::nullopt);
    BOOST_REQUIRE(!taken_over.ok());
    BOOST_TEST(taken_over.error().code == rr::Errc::conflict);
    auto nodes = must(twin->nodes());
    BOOST_REQUIRE_EQUAL(nodes.size(), 1u);
    BOOST_TEST(nodes[0].node_id == "render-07");
    BOOST_TEST(nodes[0].host == "other-host");
    BOOST_TEST(nodes[0].pid == 99);
    BOOST_TEST(nodes[0].version == "v2");
    BOOST_TEST(nodes[0].workers == 4);
    BOOST_TEST(nodes[0].state == "active");

    auto ctl = be.node("ctl");
    must(ctl->set_node_state("render-07", "draining"));
    BOOST_TEST(must(twin->node_heartbeat(0, std::nullopt)) == "draining");
    BOOST_TEST(find_node(must(ctl->nodes()), "render-07")->state == "draining");
    must(ctl->set_node_state("render-07", "active"));
    BOOST_TEST(must(twin->node_heartbeat(0, std::nullopt)) == "active");
    BOOST_TEST(ctl->set_node_state("nobody", "draining").error().code == rr::Errc::not_found);
    BOOST_TEST(ctl->set_node_state("ctl", "lost").error().code == rr::Errc::invalid_argument);

    // Leases and completed chunks per node.
    const int64_t job = must(ctl->add_job("in/a.mkv", "web", payloads(3), 0));
    const auto mine = must(twin->claim(2));
    BOOST_REQUIRE_EQUAL(mine.size(), 2u);
    BOOST_TEST(must(twin->complete(mine[0], "ok")).accepted);
    BOOST_TEST(must(ctl->claim(5)).size() == 1u);
    BOOST_TEST(must(twin->node_heartbeat(1, std::nullopt)) == "active");
    nodes = must(ctl->nodes());
    BOOST_REQUIRE_EQUAL(nodes.size(), 2u);
    BOOST_TEST(nodes[0].node_id == "ctl");  // ordered by id
    BOOST_TEST(nodes[0].leases == 1);
    BOOST_TEST(nodes[0].chunks_done == 0);
    BOOST_TEST(nodes[1].node_id == "render-07");
    BOOST_TEST(nodes[1].leases == 1);
    BOOST_TEST(nodes[1].chunks_done == 1);
    BOOST_TEST(nodes[1].busy == 1);
    BOOST_TEST(must(ctl->job(job)).chunks_remaining == 2);

    // Silence: the silent node is lost, the one that spoke is not.
    std::this_thread::sleep_for(800ms);
    must(ctl->node_heartbeat(0, std::nullopt));
    nodes = must(ctl->nodes());
    BOOST_TEST(find_node(nodes, "render-07")->heartbeat_age_s >= 0.7);
    BOOST_TEST(find_node(nodes, "ctl")->heartbeat_age_s < 0.5);
    BOOST_TEST(must(ctl->mark_lost(0.5)) == std::vector<std::string>{"render-07"});
    BOOST_TEST(must(ctl->mark_lost(0.5)).empty());  // once
    BOOST_TEST(find_node(must(ctl->nodes()), "render-07")->state == "lost");
    BOOST_TEST(find_node(must(ctl->nodes()), "ctl")->state == "active");
    BOOST_TEST(ctl->set_node_state("render-07", "draining").error().code == rr::Errc::not_found);
    must(ctl->add_job("in/b.mkv", "web", payloads(1), 0));
    BOOST_TEST(must(twin->claim(1)).empty());  // a lost node claims nothing
    BOOST_TEST(must(twin->node_heartbeat(0, std::nullopt)) == "active");  // until it speaks again
    BOOST_TEST(must(twin->claim(1)).size() == 1u);
}

BOOST_DATA_TEST_CASE(a_silent_nodes_id_is_taken_over_and_its_leases_are_reaped,
                     bdata::make(backends()), backend) {
    Backend be(backend);
    auto old = be.node("render-07");
    auto other = be.node("other");
    const int64_t job = must(other->add_job("in/a.mkv", "web", payloads(2), 0));
    const auto held = must(old->claim(2));
    BOOST_REQUIRE_EQUAL(held.size(), 2u);
    BOOST_TEST(must(other->reap()).empty());  // 30 s leases

    // The process holding the id goes silent; a new one may take the id over once the row is
    // older than its staleness bound, and the old incarnation's leases become reapable at once.
    std::this_thread::sleep_for(500ms);
    auto fresh = be.open("render-07");
    BOOST_TEST(fresh->register_node(NodeRegistration{"new-host", 7, "test", 2, 60}).error().code ==
               rr::Errc::conflict);  // not silent for 60 s
    must(fresh->register_node(NodeRegistration{"new-host", 7, "test", 2, 0.3}));
    BOOST_TEST(old->node_heartbeat(0, std::nullopt).error().code == rr::Errc::conflict);
    const auto reaped = must(other->reap());
    BOOST_REQUIRE_EQUAL(reaped.size(), 2u);
    for (const Reaped& r : reaped) {
        BOOST_TEST(r.owner == "render-07");
        BOOST_TEST(!r.failed);
    }
    BOOST_TEST(must(other->attempts(job, 0)).at(0).error == "lease expired");
    BOOST_TEST(must(fresh->renew()).empty());  // the leases were the old incarnation's
    BOOST_TEST(!must(old->complete(held[0], "late")).accepted);
    BOOST_TEST(must(fresh->claim(5)).size() == 2u);
    const auto nodes = must(other->nodes());
    BOOST_TEST(find_node(nodes, "render-07")->host == "new-host");
    BOOST_TEST(find_node(nodes, "render-07")->leases == 2);
}

BOOST_DATA_TEST_CASE(a_task_handed_back_to_a_failed_job_is_never_claimed, bdata::make(backends()),
                     backend) {
    Backend be(backend);
    auto a = be.node("a", {.lease = 0.4, .max_attempts = 2});
    auto b = be.node("b", {.lease = 30, .max_attempts = 2});
    const int64_t job = must(a->add_job("in/a.mkv", "web", payloads(2), 0));
    const Lease x = must(a->claim(1)).at(0);
    BOOST_TEST(!must(a->fail(x, "first")).task_failed);
    const auto both = must(a->claim(2));  // x's second attempt and the other's first
    BOOST_REQUIRE_EQUAL(both.size(), 2u);
    const Lease& again = both[0].task_id == x.task_id ? both[0] : both[1];
    const Lease& y = both[0].task_id == x.task_id ? both[1] : both[0];
    BOOST_REQUIRE_EQUAL(again.task_id, x.task_id);
    BOOST_TEST(must(a->fail(again, "second")).job_failed);
    // y was leased when its job failed: its lease expires and the reaper hands it back (one
    // attempt left), but its job is over.
    const auto reaped = gather([&] { return b->reap(); }, 1);
    BOOST_REQUIRE_EQUAL(reaped.size(), 1u);
    BOOST_TEST(reaped[0].task_id == y.task_id);
    BOOST_TEST(!reaped[0].failed);
    BOOST_TEST(must(b->claim(5)).empty());
    BOOST_TEST(must(b->queue_depth()).available == 0);  // nobody's work
    BOOST_TEST(must(b->job(job)).state == "failed");
    BOOST_TEST(!must(a->complete(y, "late")).accepted);
}

BOOST_DATA_TEST_CASE(a_cancel_racing_the_last_completions_leaves_a_consistent_job,
                     bdata::make(backends()), backend) {
    Backend be(backend);
    auto a = be.node("a");
    auto b = be.node("b");
    auto ctl = be.node("ctl");
    const int rounds = 30;
    int clean = 0;
    for (int round = 0; round < rounds; ++round) {
        const int64_t job =
            must(a->open_job("in/c.mkv", std::to_string(round) + ":0", "web", "{}", 0)).id;
        must(a->start_tasks(job, payloads(2)));
        const Lease la = must(a->claim(1)).at(0);
        const Lease lb = must(b->claim(1)).at(0);
        std::barrier go(3);
        rr::Result<Completion> ca = Completion{}, cb = Completion{};
        rr::Status ended;
        std::thread ta([&] {
            go.arrive_and_wait();
            ca = a->complete(la, "a");
        });
        std::thread tb([&] {
            go.arrive_and_wait();
            cb = b->complete(lb, "b");
        });
        std::thread tc([&] {
            go.arrive_and_wait();
            ended = ctl->end_job(job, "cancelled", "race");
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
        // Either the cancel came first for a chunk (its completion refused) or both chunks were
        // done first (the job was joining when cancelled): a joiner only when both were done.
        const JobView j = must(ctl->job(job));
        const int accepted = int(ca->accepted) + int(cb->accepted);
        const bool ready = ca->job_ready || cb->job_ready;
        if (j.state == "cancelled" && j.chunks_remaining == 2 - accepted &&
            ready == (accepted == 2)) {
            ++clean;
        }
    }
    BOOST_TEST(clean == rounds);
}

BOOST_DATA_TEST_CASE(one_job_per_file_version_and_one_adopter_of_a_lost_owners_job,
                     bdata::make(backends()), backend) {
    Backend be(backend);
    auto a = be.node("a");
    auto b = be.node("b");
    const OpenedJob opened = must(a->open_job("in/a.mkv", "100:5", "web", R"({"plan":1})", 0));
    BOOST_TEST(opened.created);
    BOOST_TEST(opened.owner == "a");
    BOOST_TEST(opened.state == "preparing");
    BOOST_TEST(opened.adopted_from.empty());
    const OpenedJob seen = must(b->open_job("in/a.mkv", "100:5", "web", R"({"plan":2})", 0));
    BOOST_TEST(!seen.created);
    BOOST_TEST(seen.id == opened.id);
    BOOST_TEST(seen.owner == "a");
    BOOST_TEST(seen.state == "preparing");
    const JobView j = must(b->job(opened.id));
    BOOST_TEST(j.owner == "a");
    BOOST_TEST(j.source_path == "in/a.mkv");
    BOOST_TEST(j.source_key == "100:5");
    BOOST_TEST(j.profile == "web");
    BOOST_TEST(j.payload == R"({"plan":1})");  // the first opener's, not the second's
    BOOST_TEST(j.state == "preparing");
    BOOST_TEST(j.chunks_total == 0);
    const OpenedJob newer = must(b->open_job("in/a.mkv", "200:9", "web", "{}", 0));
    BOOST_TEST(newer.created);
    BOOST_TEST(newer.owner == "b");
    BOOST_TEST(newer.id != opened.id);
    BOOST_TEST(a->open_job("in/c.mkv", "", "web", "{}", 0).error().code ==
               rr::Errc::invalid_argument);
    BOOST_TEST(must(a->orphaned_jobs()).empty());  // every owner is alive
    BOOST_TEST(must(b->orphaned_jobs()).empty());

    // Two nodes open one new file at the same moment: one job, one creator.
    const int rounds = 20;
    int one_creator = 0;
    for (int round = 0; round < rounds; ++round) {
        const std::string path = "in/race" + std::to_string(round) + ".mkv";
        std::barrier go(2);
        rr::Result<OpenedJob> ga = OpenedJob{}, gb = OpenedJob{};
        std::thread ta([&] {
            go.arrive_and_wait();
            ga = a->open_job(path, "7:7", "web", R"({"by":"a"})", 0);
        });
        std::thread tb([&] {
            go.arrive_and_wait();
            gb = b->open_job(path, "7:7", "web", R"({"by":"b"})", 0);
        });
        ta.join();
        tb.join();
        BOOST_REQUIRE_MESSAGE(ga.ok() && gb.ok(), "round " << round << ": "
                                                           << (!ga.ok()   ? ga.error().message
                                                               : !gb.ok() ? gb.error().message
                                                                          : ""));
        const std::string creator = ga->created ? "a" : "b";
        if (ga->created != gb->created && ga->id == gb->id && ga->owner == creator &&
            gb->owner == creator &&
            must(a->job(ga->id)).payload == R"({"by":")" + creator + "\"}") {
            ++one_creator;
        }
    }
    BOOST_TEST(one_creator == rounds);

    // The owner opens files and goes away before queuing their tasks.
    auto owner = be.node("owner");
    const int orphans = 10;
    std::vector<int64_t> jobs;
    for (int i = 0; i < orphans; ++i) {
        jobs.push_back(
            must(owner->open_job("in/p" + std::to_string(i) + ".mkv", "5:5", "web", "{}", 0)).id);
    }
    const int64_t started = must(owner->open_job("in/started.mkv", "5:5", "web", "{}", 0)).id;
    must(owner->start_tasks(started, payloads(1)));
    BOOST_TEST(must(a->orphaned_jobs()).empty());  // while it lives they are its own
    BOOST_TEST(!must(a->open_job("in/p0.mkv", "5:5", "web", "{}", 0)).created);
    must(owner->leave());

    const auto listed = must(a->orphaned_jobs());
    BOOST_REQUIRE_EQUAL(listed.size(), size_t(orphans));  // not the started one
    for (int i = 0; i < orphans; ++i) {
        const OrphanedJob& o = listed[static_cast<size_t>(i)];
        BOOST_TEST(o.id == jobs[static_cast<size_t>(i)]);  // oldest first
        BOOST_TEST(o.source_path == "in/p" + std::to_string(i) + ".mkv");
        BOOST_TEST(o.source_key == "5:5");
        BOOST_TEST(o.profile == "web");
        BOOST_TEST(o.owner == "owner");
    }
    int one_adopter = 0;
    for (int i = 0; i < orphans; ++i) {
        const std::string path = "in/p" + std::to_string(i) + ".mkv";
        std::barrier go(2);
        rr::Result<OpenedJob> ga = OpenedJob{}, gb = OpenedJob{};
        std::thread ta([&] {
            go.arrive_and_wait();
            ga = a->open_job(path, "5:5", "web", R"({"by":"a"})", 0);
        });
        std::thread tb([&] {
            go.arrive_and_wait();
            gb = b->open_job(path, "5:5", "web", R"({"by":"b"})", 0);
        });
        ta.join();
        tb.join();
        BOOST_REQUIRE(ga.ok() && gb.ok());
        const OpenedJob& winner = ga->created ? *ga : *gb;
        const OpenedJob& loser = ga->created ? *gb : *ga;
        const JobView adopted = must(a->job(jobs[static_cast<size_t>(i)]));
        if (ga->created != gb->created && winner.id == jobs[static_cast<size_t>(i)] &&
            loser.id == winner.id && winner.adopted_from == "owner" &&
            winner.owner == (ga->created ? "a" : "b") && loser.owner == winner.owner &&
            adopted.owner == winner.owner && adopted.state == "preparing" &&
            adopted.payload == R"({"by":")" + winner.owner + "\"}") {
            ++one_adopter;
        }
    }
    BOOST_TEST(one_adopter == orphans);
    BOOST_TEST(must(a->orphaned_jobs()).empty());
    BOOST_TEST(!must(a->open_job("in/started.mkv", "5:5", "web", "{}", 0)).created);
    BOOST_TEST(must(a->job(started)).owner == "owner");
}

BOOST_DATA_TEST_CASE(an_ended_jobs_source_is_disposed_of_once_even_when_its_owner_is_lost,
                     bdata::make(backends()), backend) {
    Backend be(backend);
    auto owner = be.node("owner");
    auto a = be.node("a");
    auto b = be.node("b");
    // Done: its owner claims the disposition, once; nobody else may, and none is orphaned.
    const int64_t kept = must(owner->open_job("in/kept.mkv", "1:1", "web", "{}", 0)).id;
    must(owner->start_tasks(kept, {}));  // no tasks: joining at once, the owner joins
    must(owner->finish_job(kept, "{}"));
    BOOST_TEST(!must(owner->job(kept)).disposed_by.has_value());
    BOOST_TEST(!must(a->claim_disposal(kept)));  // not a's job
    BOOST_TEST(must(owner->claim_disposal(kept)));
    BOOST_TEST(must(owner->claim_disposal(kept)));  // the retry after a lost reply
    BOOST_TEST(must(a->job(kept)).disposed_by.value_or("") == "owner");
    BOOST_TEST(!must(a->job(kept)).disposed);
    BOOST_TEST(!must(a->finish_disposal(kept)));  // only the claimer records it done
    BOOST_TEST(must(owner->finish_disposal(kept)));
    BOOST_TEST(must(owner->finish_disposal(kept)));  // the retry after a lost reply
    BOOST_TEST(must(a->job(kept)).disposed);
    // Not ended yet: nothing to dispose of.
    const int64_t going = must(owner->open_job("in/going.mkv", "2:2", "web", "{}", 0)).id;
    must(owner->start_tasks(going, payloads(1)));
    BOOST_TEST(!must(owner->claim_disposal(going)));
    // Ended without a disposition (one done, one failed), then the owner is lost.
    const int64_t done = must(owner->open_job("in/done.mkv", "3:3", "web", "{}", 0)).id;
    must(owner->start_tasks(done, {}));
    must(owner->finish_job(done, "{}"));
    const int64_t failed = must(owner->open_job("in/failed.mkv", "4:4", "web", "{}", 0)).id;
    must(owner->end_job(failed, "failed", "not media"));
    BOOST_TEST(must(a->orphaned_jobs()).empty());  // its owner is alive
    must(owner->leave());

    const auto listed = must(a->orphaned_jobs());
    std::map<int64_t, std::string> states;
    for (const OrphanedJob& o : listed) states[o.id] = o.state;
    BOOST_TEST(states.size() == 2u);  // not the disposed one, not the running one
    BOOST_TEST(states[done] == "done");
    BOOST_TEST(states[failed] == "failed");
    // The finder is the job's version, without making a job for it.
    const auto found = must(a->find_job("in/done.mkv", "3:3"));
    BOOST_REQUIRE(found.has_value());
    BOOST_TEST(found->id == done);
    BOOST_TEST(found->owner == "owner");
    BOOST_TEST(!must(a->find_job("in/done.mkv", "9:9")).has_value());
    BOOST_TEST(!must(a->find_job("in/nothing.mkv", "3:3")).has_value());

    // Two nodes open each at once: one adopts it (not created: nothing to prepare), once.
    for (int64_t id : {done, failed}) {
        const std::string path = id == done ? "in/done.mkv" : "in/failed.mkv";
        const std::string key = id == done ? "3:3" : "4:4";
        std::barrier go(2);
        rr::Result<OpenedJob> ga = OpenedJob{}, gb = OpenedJob{};
        std::thread ta([&] {
            go.arrive_and_wait();
            ga = a->open_job(path, key, "web", "{}", 0);
        });
        std::thread tb([&] {
            go.arrive_and_wait();
            gb = b->open_job(path, key, "web", "{}", 0);
        });
        ta.join();
        tb.join();
        BOOST_REQUIRE(ga.ok() && gb.ok());
        BOOST_TEST_CONTEXT("job " << id) {
            BOOST_TEST(!ga->created);
            BOOST_TEST(!gb->created);
            BOOST_TEST(ga->owner == gb->owner);
            BOOST_TEST((ga->owner == "a" || ga->owner == "b"));
            BOOST_TEST((ga->adopted_from == "owner") != (gb->adopted_from == "owner"));
            const JobView j = must(a->job(id));
            BOOST_TEST(j.owner == ga->owner);
            BOOST_TEST(j.state == (id == done ? "done" : "failed"));
            auto& adopter = ga->owner == "a" ? a : b;
            auto& other = ga->owner == "a" ? b : a;
            BOOST_TEST(!must(other->claim_disposal(id)));
            BOOST_TEST(must(adopter->claim_disposal(id)));
        }
    }
    BOOST_TEST(must(a->orphaned_jobs()).empty());
    // The old owner, back, finds its claim taken.
    auto back = be.node("owner");
    BOOST_TEST(!must(back->claim_disposal(done)));
    BOOST_TEST(!must(back->claim_disposal(failed)));
}

// A claim is not a disposition: an owner lost after claiming it and before finishing it (the
// source maybe moved, maybe not) leaves it to another node, which claims it afresh; the old
// owner, back, can record nothing. A finished one is nobody's orphan.
BOOST_DATA_TEST_CASE(a_disposition_claimed_but_not_finished_by_a_lost_owner_is_taken_over,
                     bdata::make(backends()), backend) {
    Backend be(backend);
    auto owner = be.node("owner");
    auto a = be.node("a");
    const int64_t half = must(owner->open_job("in/half.mkv", "1:1", "web", "{\"out\":1}", 0)).id;
    must(owner->start_tasks(half, {}));
    must(owner->finish_job(half, "{}"));
    BOOST_REQUIRE(must(owner->claim_disposal(half)));
    const int64_t whole = must(owner->open_job("in/whole.mkv", "2:2", "web", "{}", 0)).id;
    must(owner->end_job(whole, "failed", "not media"));
    BOOST_REQUIRE(must(owner->claim_disposal(whole)));
    BOOST_REQUIRE(must(owner->finish_disposal(whole)));
    BOOST_TEST(must(a->orphaned_jobs()).empty());  // its owner is alive
    must(owner->leave());

    const auto listed = must(a->orphaned_jobs());
    BOOST_REQUIRE(listed.size() == 1u);
    BOOST_TEST(listed[0].id == half);
    BOOST_TEST(listed[0].state == "done");
    BOOST_TEST(listed[0].owner == "owner");
    const OpenedJob opened = must(a->open_job("in/half.mkv", "1:1", "web", "{\"out\":1}", 0));
    BOOST_TEST(opened.id == half);
    BOOST_TEST(!opened.created);  // nothing to prepare: the disposition only
    BOOST_TEST(opened.owner == "a");
    BOOST_TEST(opened.adopted_from == "owner");
    BOOST_TEST(!must(a->job(half)).disposed_by.has_value());  // the lost owner's claim let go
    BOOST_TEST(must(a->claim_disposal(half)));
    // The old owner, back, can neither claim again nor record its old claim done.
    auto back = be.node("owner");
    BOOST_TEST(!must(back->claim_disposal(half)));
    BOOST_TEST(!must(back->finish_disposal(half)));
    BOOST_TEST(!must(a->job(half)).disposed);
    BOOST_TEST(must(a->finish_disposal(half)));
    const JobView j = must(a->job(half));
    BOOST_TEST(j.disposed);
    BOOST_TEST(j.disposed_by.value_or("") == "a");
    BOOST_TEST(j.state == "done");
    must(back->leave());
    auto b = be.node("b");
    BOOST_TEST(must(b->orphaned_jobs()).empty());
    // The finished one stays the lost owner's: nobody opens it for a disposition again.
    const OpenedJob kept = must(b->open_job("in/whole.mkv", "2:2", "web", "{}", 0));
    BOOST_TEST(kept.owner == "owner");
    BOOST_TEST(kept.adopted_from.empty());
}

// A file whose preparation takes its node down each time does not go round the farm for ever:
// each take-over is an attempt, and the one after max_attempts fails the job, naming the
// lost owners; the node that found it so disposes of the source.
BOOST_DATA_TEST_CASE(a_preparation_lost_max_attempts_times_fails_its_job_naming_every_lost_owner,
                     bdata::make(backends()), backend) {
    Backend be(backend);
    auto first = be.node("n1");
    const int64_t id = must(first->open_job("in/p.mkv", "5:5", "web", "{}", 0)).id;
    BOOST_TEST(must(first->job(id)).prepare_attempt == 1);
    must(first->leave());
    // Attempts 2 and 3: each adopter prepares it and is lost in turn.
    for (const std::string node : {"n2", "n3"}) {
        auto q = be.node(node);
        const OpenedJob o = must(q->open_job("in/p.mkv", "5:5", "web", "{}", 0));
        BOOST_TEST_CONTEXT(node) {
            BOOST_TEST(o.created);
            BOOST_TEST(o.state == "preparing");
            BOOST_TEST(must(q->job(id)).prepare_attempt == (node == "n2" ? 2 : 3));
        }
        must(q->leave());
    }
    // A node with a higher max_attempts would prepare it again; this one's is 3.
    auto last = be.node("n4");
    const OpenedJob o = must(last->open_job("in/p.mkv", "5:5", "web", "{}", 0));
    BOOST_TEST(!o.created);
    BOOST_TEST(o.id == id);
    BOOST_TEST(o.owner == "n4");
    BOOST_TEST(o.state == "failed");
    BOOST_TEST(o.adopted_from == "n3");
    const JobView j = must(last->job(id));
    BOOST_TEST(j.state == "failed");
    BOOST_TEST(j.prepare_attempt == 3);
    BOOST_TEST(j.error.value_or("") ==
               "preparing was interrupted 3 times, each time by its node being lost (n1, n2, n3)");
    BOOST_TEST(must(last->tasks(id)).empty());
    // Its source waits for n4 alone; nobody else adopts it, and n4 disposes of it once.
    BOOST_TEST(must(be.node("n5")->orphaned_jobs()).empty());
    BOOST_TEST(must(last->claim_disposal(id)));
    // Opening it again finds the failed job; nothing is prepared a fourth time.
    const OpenedJob again = must(be.node("n6")->open_job("in/p.mkv", "5:5", "web", "{}", 0));
    BOOST_TEST(!again.created);
    BOOST_TEST(again.owner == "n4");
    BOOST_TEST(must(last->job(id)).prepare_attempt == 3);
}

BOOST_DATA_TEST_CASE(a_job_run_again_on_request_gets_a_new_job_and_the_ended_one_keeps_its_history,
                     bdata::make(backends()), backend) {
    Backend be(backend);
    auto owner = be.node("owner");
    auto other = be.node("other");
    // Cancelled, its disposition claimed: an operator's retry makes a new job for the version.
    const int64_t first = must(owner->open_job("in/a.mkv", "1:1", "web", "{}", 0)).id;
    must(owner->start_tasks(first, payloads(2)));
    BOOST_TEST(!must(owner->retire_job(first)));  // running: nothing to run again
    must(owner->end_job(first, "cancelled", "by the operator"));
    BOOST_TEST(!must(owner->retire_job(first)));  // its source not disposed of yet
    BOOST_TEST(must(owner->claim_disposal(first)));
    BOOST_TEST(must(owner->retire_job(first)));
    BOOST_TEST(!must(owner->retire_job(first)));  // once
    const OpenedJob again = must(owner->open_job("in/a.mkv", "1:1", "web", "{}", 0));
    BOOST_TEST(again.created);
    BOOST_TEST(again.id != first);
    BOOST_TEST(again.state == "preparing");
    // Another node's watcher finds the new job, not the retired one.
    const OpenedJob seen = must(other->open_job("in/a.mkv", "1:1", "web", "{}", 0));
    BOOST_TEST(!seen.created);
    BOOST_TEST(seen.id == again.id);
    BOOST_TEST(must(other->find_job("in/a.mkv", "1:1"))->id == again.id);
    // The retired job keeps its end and its tasks, under a key no version has.
    const JobView old = must(other->job(first));
    BOOST_TEST(old.state == "cancelled");
    BOOST_TEST(old.source_key == "1:1#" + std::to_string(first));
    BOOST_TEST(must(other->tasks(first)).size() == 2u);
    // A lost owner's ended job waiting to be adopted is not retired (no disposition yet).
    const int64_t waiting = must(owner->open_job("in/b.mkv", "2:2", "web", "{}", 0)).id;
    must(owner->end_job(waiting, "failed", "not media"));
    must(owner->leave());
    BOOST_TEST(!must(other->retire_job(waiting)));
    bool listed = false;  // as the new job, still preparing, is
    for (const OrphanedJob& o : must(other->orphaned_jobs())) listed = listed || o.id == waiting;
    BOOST_TEST(listed);
}

// Dedupe across the farm: a content (checksum and profile) is held by one job that will publish
// or has published, whichever node owns it; another owner of the same content learns that job
// instead of recording. Ending without publishing, or being retired, lets go of it; so does a
// published job whose output the caller found gone, when the caller says so.
BOOST_DATA_TEST_CASE(one_job_holds_a_content_while_it_is_going_or_published,
                     bdata::make(backends()), backend) {
    Backend be(backend);
    auto a = be.node("a");
    auto b = be.node("b");
    const int64_t first = must(a->open_job("in/a.mkv", "1:1", "web", R"({"output":"o/a"})", 0)).id;
    const int64_t second = must(b->open_job("in/b.mkv", "2:2", "web", "{}", 0)).id;
    const int64_t small = must(b->open_job("in/c.mkv", "3:3", "small", "{}", 0)).id;
    BOOST_TEST(!must(a->record_content(first, "sum")).has_value());
    BOOST_TEST(!must(a->record_content(first, "sum")).has_value());  // a second call: its own
    const auto held = must(b->record_content(second, "sum"));
    BOOST_REQUIRE(held.has_value());
    BOOST_TEST(held->id == first);
    BOOST_TEST(held->owner == "a");
    BOOST_TEST(held->state == "preparing");
    BOOST_TEST(held->payload == R"({"output":"o/a"})");
    BOOST_TEST(!must(b->record_content(small, "sum")).has_value());  // another profile
    BOOST_TEST(!must(b->record_content(second, "other")).has_value());
    BOOST_TEST(b->record_content(first + 1000, "sum").error().code == rr::Errc::not_found);
    // Going, then published: it counts all along.
    must(a->start_tasks(first, {}));  // no tasks: joining at once
    BOOST_TEST(must(b->record_content(second, "sum"))->state == "joining");
    BOOST_TEST(must(b->record_content(second, "sum", first))->id == first);  // not published
    must(a->finish_job(first, "{}"));
    BOOST_TEST(must(b->record_content(second, "sum"))->state == "done");
    // Its output gone (the caller looked): the second job takes the content over.
    BOOST_TEST(!must(b->record_content(second, "sum", first)).has_value());
    const int64_t third = must(a->open_job("in/d.mkv", "4:4", "web", "{}", 0)).id;
    BOOST_TEST(must(a->record_content(third, "sum"))->id == second);
    // Ending without publishing lets go of it.
    must(b->end_job(second, "cancelled", "by the operator"));
    BOOST_TEST(!must(a->record_content(third, "sum")).has_value());
    // Published, then run again on request (retired): it no longer counts.
    must(a->start_tasks(third, {}));
    must(a->finish_job(third, "{}"));
    const int64_t fourth = must(b->open_job("in/e.mkv", "5:5", "web", "{}", 0)).id;
    BOOST_TEST(must(b->record_content(fourth, "sum"))->id == third);
    BOOST_TEST(must(a->claim_disposal(third)));
    BOOST_TEST(must(a->retire_job(third)));
    BOOST_TEST(!must(b->record_content(fourth, "sum")).has_value());

    // Two owners record one content at the same moment: one records, the other learns its job.
    const int rounds = 20;
    int one_holder = 0;
    for (int round = 0; round < rounds; ++round) {
        const std::string sum = "race" + std::to_string(round);
        const int64_t ja = must(a->open_job("in/ra" + sum, "1:1", "web", "{}", 0)).id;
        const int64_t jb = must(b->open_job("in/rb" + sum, "1:1", "web", "{}", 0)).id;
        std::barrier go(2);
        rr::Result<std::optional<ContentHolder>> ga = std::optional<ContentHolder>();
        rr::Result<std::optional<ContentHolder>> gb = std::optional<ContentHolder>();
        std::thread ta([&] {
            go.arrive_and_wait();
            ga = a->record_content(ja, sum);
        });
        std::thread tb([&] {
            go.arrive_and_wait();
            gb = b->record_content(jb, sum);
        });
        ta.join();
        tb.join();
        BOOST_REQUIRE_MESSAGE(ga.ok() && gb.ok(), "round " << round << ": "
                                                           << (!ga.ok()   ? ga.error().message
                                                               : !gb.ok() ? gb.error().message
                                                                          : ""));
        const bool a_holds = !ga->has_value() && gb->has_value() && (*gb)->id == ja;
        const bool b_holds = !gb->has_value() && ga->has_value() && (*ga)->id == jb;
        if (a_holds != b_holds) ++one_holder;
    }
    BOOST_TEST(one_holder == rounds);
}

BOOST_DATA_TEST_CASE(a_restarted_node_finds_the_joins_its_previous_process_left,
                     bdata::make(backends()), backend) {
    Backend be(backend);
    auto a = be.node("a");
    const int64_t first = must(a->open_job("in/1.mkv", "1:1", "web", "{}", 0)).id;
    must(a->start_tasks(first, {}));  // joining, a joins
    const int64_t second = must(a->add_job("in/2.mkv", "web", payloads(1), 0));
    const auto leases = must(a->claim(1));
    BOOST_REQUIRE_EQUAL(leases.size(), 1u);
    BOOST_TEST(must(a->complete(leases[0], "{}")).job_ready);
    const int64_t finished = must(a->open_job("in/3.mkv", "3:3", "web", "{}", 0)).id;
    must(a->start_tasks(finished, {}));
    must(a->finish_job(finished, "{}"));
    BOOST_TEST((must(a->unfinished_joins()) == std::vector<int64_t>{first, second}));
    // Another node has none; once a join is taken over it is no longer a's.
    auto b = be.node("b");
    BOOST_TEST(must(b->unfinished_joins()).empty());
    must(a->leave());
    BOOST_TEST(must(b->take_over_join(first, "a")));
    BOOST_TEST((must(b->unfinished_joins()) == std::vector<int64_t>{first}));
    auto again = be.node("a");  // a new process under the same id
    BOOST_TEST((must(again->unfinished_joins()) == std::vector<int64_t>{second}));
}

// The owner queues a job's whole-file audio pass (its last task) ahead of its chunks: claimed
// first, it runs beside them. Without `last_first` the tasks go in idx order.
BOOST_DATA_TEST_CASE(a_leading_last_task_is_claimed_before_the_chunks, bdata::make(backends()),
                     backend) {
    Backend be(backend);
    auto owner = be.node("owner");
    auto worker = be.node("worker");
    const int64_t led = must(owner->open_job("in/a.mkv", "1:1", "web", "{}", 0)).id;
    must(owner->start_tasks(led, payloads(4), true));
    const int64_t plain = must(owner->open_job("in/b.mkv", "2:2", "web", "{}", 0)).id;
    must(owner->start_tasks(plain, payloads(3), false));
    std::vector<std::pair<int64_t, int>> order;  // (job, idx) as claimed, one at a time
    for (int i = 0; i < 7; ++i) {
        const auto got = must(worker->claim(1));
        BOOST_REQUIRE_EQUAL(got.size(), 1u);
        order.emplace_back(got[0].job_id, got[0].idx);
    }
    const std::vector<std::pair<int64_t, int>> expected = {
        {led, 3}, {led, 0}, {led, 1}, {led, 2}, {plain, 0}, {plain, 1}, {plain, 2}};
    BOOST_TEST((order == expected));
    // The idx and the payloads are the plan's, whatever the order of the ids.
    for (const TaskView& t : must(owner->tasks(led)))
        BOOST_TEST(t.payload == payloads(4)[static_cast<size_t>(t.idx)]);
}

BOOST_DATA_TEST_CASE(start_tasks_plans_a_job_once, bdata::make(backends()), backend) {
    Backend be(backend);
    auto a = be.node("a");
    auto b = be.node("b");
    const int64_t job = must(a->open_job("in/a.mkv", "1:1", "web", "{}", 0)).id;
    BOOST_TEST(b->start_tasks(job, payloads(2)).error().code == rr::Errc::conflict);  // not b's
    BOOST_TEST(must(a->job(job)).state == "preparing");
    BOOST_TEST(must(b->claim(5)).empty());  // a job in preparation has nothing to claim

    must(a->start_tasks(job, payloads(3)));
    must(a->start_tasks(job, payloads(3)));  // the same plan again changes nothing
    BOOST_TEST(a->start_tasks(job, payloads(4)).error().code == rr::Errc::conflict);
    JobView j = must(b->job(job));
    BOOST_TEST(j.state == "running");
    BOOST_TEST(j.chunks_total == 3);
    BOOST_TEST(j.chunks_remaining == 3);
    BOOST_TEST(!j.joiner.has_value());
    const auto listed = must(b->tasks(job));
    BOOST_REQUIRE_EQUAL(listed.size(), 3u);
    for (int i = 0; i < 3; ++i) {
        BOOST_TEST(listed[static_cast<size_t>(i)].idx == i);
        BOOST_TEST(listed[static_cast<size_t>(i)].state == "available");
        BOOST_TEST(listed[static_cast<size_t>(i)].payload == payloads(3)[static_cast<size_t>(i)]);
    }
    BOOST_TEST(must(b->claim(5)).size() == 3u);

    // Nothing to do: the owner joins at once.
    const int64_t empty = must(a->open_job("in/empty.mkv", "0:1", "web", "{}", 0)).id;
    must(a->start_tasks(empty, {}));
    j = must(b->job(empty));
    BOOST_TEST(j.state == "joining");
    BOOST_TEST(j.joiner.value_or("") == "a");
    BOOST_TEST(j.chunks_total == 0);
    BOOST_TEST(j.chunks_remaining == 0);
    BOOST_TEST(must(b->tasks(empty)).empty());
    must(a->start_tasks(empty, {}));
    BOOST_TEST(must(b->job(empty)).state == "joining");
    BOOST_TEST(a->start_tasks(empty, payloads(1)).error().code == rr::Errc::conflict);
    BOOST_TEST(must(b->tasks(empty)).empty());

    const int64_t ended = must(a->open_job("in/broken.mkv", "9:9", "web", "{}", 0)).id;
    must(a->end_job(ended, "failed", "probe: no video stream"));
    BOOST_TEST(a->start_tasks(ended, payloads(1)).error().code == rr::Errc::conflict);
    BOOST_TEST(must(b->job(ended)).state == "failed");
    BOOST_TEST(must(b->tasks(ended)).empty());
    // The version keeps its failed job, so no other node's watcher tries the same file again.
    const OpenedJob again = must(b->open_job("in/broken.mkv", "9:9", "web", "{}", 0));
    BOOST_TEST(!again.created);
    BOOST_TEST(again.id == ended);
    BOOST_TEST(again.state == "failed");
    BOOST_TEST(must(b->job(ended)).error.value_or("") == "probe: no video stream");
}

BOOST_DATA_TEST_CASE(only_the_joiner_records_and_finishes_and_a_join_is_taken_over_once,
                     bdata::make(backends()), backend) {
    Backend be(backend);
    auto owner = be.node("owner");
    auto joiner = be.node("joiner");
    auto other = be.node("other");
    const int64_t job = must(owner->open_job("in/a.mkv", "1:1", "web", "{}", 0)).id;
    must(owner->start_tasks(job, payloads(2)));
    const Lease lo = must(owner->claim(1)).at(0);
    const Lease lj = must(joiner->claim(1)).at(0);
    BOOST_TEST(!must(owner->complete(lo, "o")).job_ready);
    BOOST_TEST(must(joiner->complete(lj, "j")).job_ready);

    BOOST_TEST(owner->record_output(job, 1, "x").error().code == rr::Errc::conflict);
    BOOST_TEST(owner->finish_job(job, "{}").error().code == rr::Errc::conflict);
    must(joiner->record_output(job, 123456, "sha256:abc"));
    JobView j = must(other->job(job));
    BOOST_TEST(j.state == "joining");
    BOOST_TEST(j.joiner.value_or("") == "joiner");
    BOOST_TEST(j.joiner_state.value_or("") == "active");
    BOOST_TEST(j.output_size.value_or(0) == 123456);
    BOOST_TEST(j.output_checksum.value_or("") == "sha256:abc");
    BOOST_TEST(!j.result.has_value());

    must(joiner->leave());  // it goes away mid-join
    BOOST_TEST(must(owner->job(job)).joiner_state.value_or("") == "lost");
    BOOST_TEST(!must(owner->take_over_join(job, "someone-else")));
    BOOST_TEST(must(owner->take_over_join(job, "joiner")));
    BOOST_TEST(!must(owner->take_over_join(job, "joiner")));
    BOOST_TEST(!must(other->take_over_join(job, "joiner")));
    j = must(other->job(job));
    BOOST_TEST(j.joiner.value_or("") == "owner");
    BOOST_TEST(j.joiner_state.value_or("") == "active");
    BOOST_TEST(j.output_size.value_or(0) == 123456);  // the lost joiner's record stays readable

    // The old joiner, back from the dead, can neither record nor publish.
    BOOST_TEST(joiner->record_output(job, 7, "other").error().code == rr::Errc::conflict);
    BOOST_TEST(joiner->finish_job(job, "{}").error().code == rr::Errc::conflict);
    BOOST_TEST(must(other->job(job)).output_size.value_or(0) == 123456);
    must(owner->record_output(job, 123456, "sha256:abc"));
    must(owner->finish_job(job, R"({"chunks":2})"));
    j = must(other->job(job));
    BOOST_TEST(j.state == "done");
    BOOST_TEST(j.result.value_or("") == R"({"chunks":2})");
    BOOST_TEST(owner->finish_job(job, "{}").error().code == rr::Errc::conflict);  // once
    BOOST_TEST(!must(other->take_over_join(job, "owner")));  // nothing to take over when done
    BOOST_TEST(must(other->job(job)).joiner.value_or("") == "owner");
}

BOOST_DATA_TEST_CASE(a_higher_priority_jobs_tasks_are_claimed_before_older_lower_ones,
                     bdata::make(backends()), backend) {
    // A farm's priority is the job's (its watch's), not the order files arrived in: a job
    // queued later with a higher priority goes first on every node; a negative one waits.
    Backend be(backend);
    auto owner = be.node("owner");
    auto a = be.node("a");
    auto b = be.node("b");
    const int64_t low = must(owner->add_job("in/low.mkv", "web", payloads(3), 0));
    const int64_t last = must(owner->add_job("in/last.mkv", "web", payloads(1), -5));
    // The daemon's way in: open_job carries the priority, start_tasks queues the tasks with it.
    const int64_t high = must(owner->open_job("in/high.mkv", "1:1", "web", "{}", 10)).id;
    must(owner->start_tasks(high, payloads(2)));
    const int64_t mid = must(owner->add_job("in/mid.mkv", "web", payloads(2), 5));
    BOOST_TEST(must(a->job(high)).priority == 10);
    BOOST_TEST(must(a->job(low)).priority == 0);
    for (const TaskView& tv : must(a->tasks(high))) BOOST_TEST(tv.priority == 10);
    for (const TaskView& tv : must(a->tasks(last))) BOOST_TEST(tv.priority == -5);

    // Priority changes the order, not what waits: every task counts once.
    QueueDepth depth = must(a->queue_depth());
    BOOST_TEST(depth.available == 8);
    BOOST_TEST(depth.leased == 0);

    // b asks for three: both of high's tasks and mid's first, in claim order.
    const auto first = must(b->claim(3));
    BOOST_REQUIRE_EQUAL(first.size(), 3u);
    BOOST_TEST(first[0].job_id == high);
    BOOST_TEST(first[0].idx == 0);
    BOOST_TEST(first[0].priority == 10);
    BOOST_TEST(first[1].job_id == high);
    BOOST_TEST(first[1].idx == 1);
    BOOST_TEST(first[2].job_id == mid);
    BOOST_TEST(first[2].idx == 0);
    BOOST_TEST(first[2].priority == 5);
    // Another node continues where b stopped: mid's second task, then low's, oldest first.
    const auto next = must(a->claim(4));
    BOOST_REQUIRE_EQUAL(next.size(), 4u);
    BOOST_TEST(next[0].job_id == mid);
    BOOST_TEST(next[0].idx == 1);
    for (int i = 1; i < 4; ++i) {
        BOOST_TEST(next[static_cast<size_t>(i)].job_id == low);
        BOOST_TEST(next[static_cast<size_t>(i)].idx == i - 1);
        BOOST_TEST(next[static_cast<size_t>(i)].priority == 0);
    }
    depth = must(a->queue_depth());
    BOOST_TEST(depth.available == 1);
    BOOST_TEST(depth.leased == 7);
    const Lease tail = must(b->claim(5)).at(0);
    BOOST_TEST(tail.job_id == last);
    BOOST_TEST(tail.priority == -5);

    // Completions count as before: per node, and the job's counter elects its joiner.
    for (const Lease& l : first) must(b->complete(l, "ok"));
    const auto nodes = must(a->nodes());
    BOOST_TEST(find_node(nodes, "b")->chunks_done == 3);
    BOOST_TEST(find_node(nodes, "b")->leases == 1);
    BOOST_TEST(find_node(nodes, "a")->leases == 4);
    const JobView h = must(a->job(high));
    BOOST_TEST(h.state == "joining");
    BOOST_TEST(h.joiner.value_or("") == "b");
    BOOST_TEST(must(a->job(mid)).chunks_remaining == 1);
}

BOOST_DATA_TEST_CASE(equal_priorities_are_claimed_first_in_first_out, bdata::make(backends()),
                     backend) {
    Backend be(backend);
    auto owner = be.node("owner");
    auto a = be.node("a");
    auto b = be.node("b");
    const int64_t first = must(owner->add_job("in/1.mkv", "web", payloads(2), 3));
    const int64_t second = must(owner->open_job("in/2.mkv", "2:2", "web", "{}", 3)).id;
    must(owner->start_tasks(second, payloads(2)));
    const int64_t third = must(owner->add_job("in/3.mkv", "web", payloads(2), 3));
    // One task at a time, the nodes taking turns: the order is the queue's, not a node's.
    std::vector<std::pair<int64_t, int>> order;
    for (int i = 0; i < 6; ++i) {
        const auto got = must((i % 2 ? b : a)->claim(1));
        BOOST_REQUIRE_EQUAL(got.size(), 1u);
        order.emplace_back(got[0].job_id, got[0].idx);
    }
    const std::vector<std::pair<int64_t, int>> fifo = {{first, 0},  {first, 1}, {second, 0},
                                                       {second, 1}, {third, 0}, {third, 1}};
    BOOST_TEST((order == fifo));
    BOOST_TEST(must(a->claim(1)).empty());
}

BOOST_DATA_TEST_CASE(a_task_given_back_keeps_its_jobs_priority, bdata::make(backends()), backend) {
    // A failed attempt or a released lease returns a high-priority task to the queue ahead of
    // the lower-priority work that waited meanwhile.
    Backend be(backend);
    auto a = be.node("a", {.max_attempts = 5});
    auto b = be.node("b", {.max_attempts = 5});
    const int64_t low = must(a->add_job("in/low.mkv", "web", payloads(2), 1));
    const int64_t high = must(a->add_job("in/high.mkv", "web", payloads(2), 2));
    const auto held = must(a->claim(2));
    BOOST_REQUIRE_EQUAL(held.size(), 2u);
    BOOST_TEST(held[0].job_id == high);
    BOOST_TEST(held[1].job_id == high);
    BOOST_TEST(must(a->fail(held[0], "broken")).accepted);  // no back-off in these cases
    Lease again = must(b->claim(1)).at(0);
    BOOST_TEST(again.task_id == held[0].task_id);
    BOOST_TEST(again.attempt == 2);
    BOOST_TEST(must(a->release()) == 1);  // held[1]
    again = must(b->claim(1)).at(0);
    BOOST_TEST(again.task_id == held[1].task_id);
    BOOST_TEST(must(b->claim(5)).size() == 2u);  // low's, only now
    BOOST_TEST(must(a->tasks(low)).at(0).lease_owner.value_or("") == "b");
}

BOOST_DATA_TEST_CASE(the_adopter_of_a_lost_owners_job_queues_it_with_its_priority,
                     bdata::make(backends()), backend) {
    Backend be(backend);
    auto owner = be.node("owner");
    auto a = be.node("a");
    const int64_t job = must(owner->open_job("in/p.mkv", "5:5", "web", "{}", 1)).id;
    // Opening an existing job changes nothing about it, priority included.
    BOOST_TEST(!must(a->open_job("in/p.mkv", "5:5", "web", "{}", 9)).created);
    BOOST_TEST(must(a->job(job)).priority == 1);
    must(owner->leave());
    const OpenedJob adopted = must(a->open_job("in/p.mkv", "5:5", "web", "{}", 4));
    BOOST_REQUIRE(adopted.created);
    BOOST_TEST(adopted.adopted_from == "owner");
    must(a->start_tasks(job, payloads(1)));
    BOOST_TEST(must(a->job(job)).priority == 4);
    BOOST_TEST(must(a->tasks(job)).at(0).priority == 4);
}

BOOST_DATA_TEST_CASE(queue_depth_counts_and_prune_removes_only_what_is_old_and_over,
                     bdata::make(backends()), backend) {
    Backend be(backend);
    auto a = be.node("a", {.backoff = 30});  // a failed task stays waiting for this test
    QueueDepth depth = must(a->queue_depth());
    BOOST_TEST(depth.available == 0);
    BOOST_TEST(depth.leased == 0);
    const int64_t cancelled = must(a->add_job("in/a.mkv", "web", payloads(5), 0));
    depth = must(a->queue_depth());
    BOOST_TEST(depth.available == 5);
    BOOST_TEST(depth.leased == 0);
    const auto held = must(a->claim(2));
    BOOST_REQUIRE_EQUAL(held.size(), 2u);
    depth = must(a->queue_depth());
    BOOST_TEST(depth.available == 3);
    BOOST_TEST(depth.leased == 2);
    BOOST_TEST(must(a->complete(held[0], "ok")).accepted);
    BOOST_TEST(must(a->fail(held[1], "transient")).accepted);
    depth = must(a->queue_depth());
    BOOST_TEST(depth.available == 4);
    BOOST_TEST(depth.leased == 0);
    must(a->open_job("in/prep.mkv", "1:1", "web", "{}", 0));  // preparing: no tasks yet
    BOOST_TEST(must(a->queue_depth()).available == 4);
    must(a->end_job(cancelled, "cancelled", "by the operator"));
    depth = must(a->queue_depth());
    BOOST_TEST(depth.available == 0);
    BOOST_TEST(depth.leased == 0);

    const int64_t done = must(a->add_job("in/done.mkv", "web", payloads(1), 0));
    BOOST_TEST(must(a->complete(must(a->claim(1)).at(0), "ok")).job_ready);
    must(a->finish_job(done, "{}"));
    const int64_t running = must(a->add_job("in/running.mkv", "web", payloads(1), 0));
    const int64_t preparing = must(a->open_job("in/p.mkv", "2:2", "web", "{}", 0)).id;
    auto gone = be.node("gone");
    must(gone->leave());
    BOOST_TEST(must(a->queue_depth()).available == 1);

    BOOST_TEST(must(a->prune(1.0)) == 0);  // nothing is a day old
    BOOST_TEST(must(a->job(done)).state == "done");
    BOOST_TEST(find_node(must(a->nodes()), "gone") != nullptr);
    std::this_thread::sleep_for(100ms);
    BOOST_TEST(must(a->prune(0)) == 2);  // the done and the cancelled job
    BOOST_TEST(a->job(done).error().code == rr::Errc::not_found);
    BOOST_TEST(a->job(cancelled).error().code == rr::Errc::not_found);
    BOOST_TEST(must(a->tasks(cancelled)).empty());
    BOOST_TEST(must(a->attempts(cancelled, held[1].idx)).empty());
    BOOST_TEST(must(a->job(running)).state == "running");
    BOOST_TEST(must(a->job(preparing)).state == "preparing");
    const auto nodes = must(a->nodes());
    BOOST_TEST(find_node(nodes, "gone") == nullptr);  // lost and old: pruned
    BOOST_TEST(find_node(nodes, "a") != nullptr);     // alive: kept
    BOOST_TEST(must(a->prune(0)) == 0);
    BOOST_TEST(must(a->queue_depth()).available == 1);
}

BOOST_DATA_TEST_CASE(the_first_cluster_id_written_holds, bdata::make(backends()), backend) {
    Backend be(backend);
    auto a = be.open("a");
    auto b = be.open("b");
    BOOST_TEST(!must(a->cluster_id()).has_value());
    BOOST_TEST(must(a->init_cluster_id("cluster-a")) == "cluster-a");
    BOOST_TEST(must(b->init_cluster_id("cluster-b")) == "cluster-a");
    BOOST_TEST(must(a->init_cluster_id("cluster-a")) == "cluster-a");
    BOOST_TEST(must(a->cluster_id()).value_or("") == "cluster-a");
    BOOST_TEST(must(b->cluster_id()).value_or("") == "cluster-a");
}

// The loser's statement waits on the winner's insert with a snapshot that predates it: it
// must read the id again rather than answer "".
BOOST_DATA_TEST_CASE(two_nodes_initialising_the_cluster_at_once_agree_on_its_id,
                     bdata::make(backends()), backend) {
    for (int round = 0; round < 5; ++round) {
        Backend be(backend);
        auto a = be.open("a");
        auto b = be.open("b");
        std::barrier go(2);
        rr::Result<std::string> ia = std::string(), ib = std::string();
        std::thread ta([&] {
            go.arrive_and_wait();
            ia = a->init_cluster_id("cluster-a");
        });
        std::thread tb([&] {
            go.arrive_and_wait();
            ib = b->init_cluster_id("cluster-b");
        });
        ta.join();
        tb.join();
        BOOST_REQUIRE_MESSAGE(ia.ok() && ib.ok(), (!ia.ok()   ? ia.error().message
                                                   : !ib.ok() ? ib.error().message
                                                              : ""));
        BOOST_TEST_CONTEXT("round " << round) {
            BOOST_TEST(*ia == *ib);
            BOOST_TEST((*ia == "cluster-a" || *ia == "cluster-b"));
            BOOST_TEST(must(a->cluster_id()).value_or("") == *ia);
            BOOST_TEST(must(be.open("c")->init_cluster_id("cluster-c")) == *ia);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
