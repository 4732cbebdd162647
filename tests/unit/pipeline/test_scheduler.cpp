#define BOOST_TEST_MODULE pipeline_scheduler
#include <atomic>
#include <boost/test/unit_test.hpp>
#include <mutex>
#include <thread>

#include "pipeline/scheduler.h"

using rr::pipeline::Scheduler;
using namespace std::chrono_literals;

namespace {
// Shutdown abandons queued work by design, so tests wait for the queue to empty first.
void drain(Scheduler& s) {
    for (int i = 0; i < 500 && (s.queued() > 0 || s.busy() > 0); ++i)
        std::this_thread::sleep_for(10ms);
}
}  // namespace

BOOST_AUTO_TEST_CASE(round_robin_between_jobs_of_equal_priority) {
    Scheduler s(1);
    std::mutex m;
    std::vector<int64_t> order;
    s.set_paused(true);
    s.add_job(1, 0);
    s.add_job(2, 0);
    for (int i = 0; i < 4; ++i) {
        s.submit(1, [&](int, std::stop_token) {
            std::lock_guard l(m);
            order.push_back(1);
        });
    }
    s.submit(2, [&](int, std::stop_token) {
        std::lock_guard l(m);
        order.push_back(2);
    });
    s.set_paused(false);
    drain(s);
    // The short job is not starved behind the long one: it runs second, not last.
    BOOST_REQUIRE_EQUAL(order.size(), 5u);
    BOOST_TEST(order[1] == 2);
}

BOOST_AUTO_TEST_CASE(higher_priority_runs_first) {
    Scheduler s(1);
    std::vector<int64_t> order;
    s.set_paused(true);
    s.add_job(1, 0);
    s.add_job(2, 10);
    s.submit(1, [&](int, std::stop_token) { order.push_back(1); });
    s.submit(2, [&](int, std::stop_token) { order.push_back(2); });
    s.set_paused(false);
    drain(s);
    BOOST_REQUIRE_EQUAL(order.size(), 2u);
    BOOST_TEST(order[0] == 2);
}

BOOST_AUTO_TEST_CASE(run_parallel_nests_inside_a_task_without_deadlock) {
    Scheduler s(2);
    s.add_job(1, 0);
    std::atomic<int> sum{0};
    std::atomic<bool> finished{false};
    for (int outer = 0; outer < 2; ++outer) {  // both workers busy with tasks that fan out
        s.submit(1, [&](int, std::stop_token) {
            auto st = s.run_parallel(1, 50, [&](size_t i, std::stop_token) -> rr::Status {
                sum += static_cast<int>(i);
                return {};
            });
            BOOST_TEST(st.ok());
            if (sum == 2 * 1225) finished = true;
        });
    }
    for (int i = 0; i < 100 && !finished; ++i) std::this_thread::sleep_for(20ms);
    BOOST_TEST(sum == 2 * 1225);
}

BOOST_AUTO_TEST_CASE(run_parallel_reports_the_first_real_failure) {
    Scheduler s(2);
    s.add_job(1, 0);
    auto st = s.run_parallel(1, 20, [&](size_t i, std::stop_token) -> rr::Status {
        if (i == 7) return rr::make_error(rr::Errc::media, "chunk 7 broke");
        return {};
    });
    BOOST_REQUIRE(!st.ok());
    BOOST_TEST(st.error().message == "chunk 7 broke");
}

BOOST_AUTO_TEST_CASE(cancel_stops_running_tasks_and_drops_queued_ones) {
    Scheduler s(1);
    s.add_job(1, 0);
    std::atomic<bool> saw_stop{false}, started{false}, second_ran{false};
    s.submit(1, [&](int, std::stop_token stop) {
        started = true;
        while (!stop.stop_requested()) std::this_thread::sleep_for(1ms);
        saw_stop = true;
    });
    s.submit(1, [&](int, std::stop_token) { second_ran = true; });
    while (!started) std::this_thread::sleep_for(1ms);
    s.cancel(1);
    BOOST_TEST(s.shutdown(5s));
    BOOST_TEST(saw_stop.load());
    BOOST_TEST(!second_ran.load());
}

BOOST_AUTO_TEST_CASE(shutdown_grace_then_interrupt) {
    Scheduler s(1);
    s.add_job(1, 0);
    std::atomic<bool> started{false}, interrupted{false};
    s.submit(1, [&](int, std::stop_token stop) {
        started = true;
        while (!stop.stop_requested()) std::this_thread::sleep_for(1ms);
        interrupted = true;
    });
    while (!started) std::this_thread::sleep_for(1ms);
    BOOST_TEST(!s.shutdown(100ms));  // did not finish within the grace period
    BOOST_TEST(interrupted.load());
}

// The cluster claimer fills a worker the moment it is free: when the hook runs, the pool's
// counts must already show that worker idle, or the claimer would see no room and sleep.
BOOST_AUTO_TEST_CASE(the_worker_free_hook_runs_once_per_task_with_the_worker_already_idle) {
    Scheduler s(2);
    s.add_job(1, 0);
    std::mutex m;
    std::vector<int> idle_seen;
    s.on_worker_free([&] {
        std::lock_guard lock(m);
        idle_seen.push_back(s.size() - s.busy());
    });
    std::atomic<bool> release{false};
    for (int i = 0; i < 2; ++i)
        s.submit(1, [&](int, std::stop_token) {
            while (!release) std::this_thread::sleep_for(1ms);
        });
    for (int i = 0; i < 500 && s.busy() < 2; ++i) std::this_thread::sleep_for(1ms);
    BOOST_TEST(s.busy() == 2);
    release = true;
    drain(s);
    for (int i = 0; i < 500; ++i) {
        {
            std::lock_guard lock(m);
            if (idle_seen.size() >= 2) break;
        }
        std::this_thread::sleep_for(1ms);
    }
    s.on_worker_free({});  // cleared: later tasks call nothing
    s.submit(1, [](int, std::stop_token) {});
    drain(s);
    std::lock_guard lock(m);
    BOOST_REQUIRE(idle_seen.size() == 2u);
    // Each call saw at least its own worker idle.
    for (int idle : idle_seen) BOOST_TEST(idle >= 1);
}
