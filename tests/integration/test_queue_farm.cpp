#define BOOST_TEST_MODULE queue_farm
// The queue at small farm scale through rr-queue-farm (tests/bench/queue_farm): separate node
// processes with their own connections claim, heartbeat and complete through PgQueue; two of
// them are killed with SIGKILL mid-run and two are stopped (SIGSTOP) for longer than a lease and
// then continued, and every task must still be completed exactly once.

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "support/pg_fixture.h"
#include "support/process.h"

namespace t = rr::test;
namespace utf = boost::unit_test;

BOOST_AUTO_TEST_CASE(killed_and_frozen_nodes_tasks_are_completed_exactly_once_by_the_others,
                     *utf::precondition(t::have_postgres)) {
    const auto r = t::run({(t::bin_dir() / "rr-queue-farm").string(),
                           "--nodes",
                           "10",
                           "--workers",
                           "2",
                           "--tasks",
                           "400",
                           "--jobs",
                           "8",
                           "--task-ms",
                           "50",
                           "--kill",
                           "2",
                           "--freeze",
                           "2",
                           "--freeze-seconds",
                           "5",
                           "--kill-at",
                           "0.4",
                           "--timeout",
                           "120"},
                          std::chrono::seconds(180));
    BOOST_TEST_MESSAGE(r.out + r.err);
    BOOST_REQUIRE(!r.timed_out);
    const auto report = nlohmann::json::parse(r.out.substr(r.out.find('{')));
    const auto& once = report["exactly_once"];
    BOOST_TEST(once["queue_drained"].get<bool>());
    // The database accepted exactly one completion per task, and no node saw two.
    BOOST_TEST(once["accepted_completions_db"].get<int>() == 400);
    BOOST_TEST(once["duplicate_completions_db"].get<int>() == 0);
    BOOST_TEST(once["tasks_logged_twice"].get<int>() == 0);
    // Every job's counter reached zero; each was joined, unless its joiner was a killed node.
    BOOST_TEST(once["jobs_wrong"].get<int>() == 0);
    BOOST_TEST(once["jobs_done"].get<int>() + once["jobs_joining_with_killed_joiner"].get<int>() ==
               8);
    BOOST_TEST(report["errors"]["count"].get<int>() == 0);
    BOOST_TEST(report["node_exit_failures"].get<int>() == 0);
    // The killed and frozen nodes held leases (they were chosen holding some), and survivors
    // took each over.
    const auto& takeover = report["takeover"];
    BOOST_TEST(takeover["killed"].get<int>() == 2);
    BOOST_TEST(takeover["dead_leases_reaped"].get<int>() >= 1);
    BOOST_TEST(takeover["dead_leases_reclaimed"].get<int>() ==
               takeover["dead_leases_reaped"].get<int>());
    // Lease 2 s, heartbeat 0.5 s, back-off 2 s: about 4.5 s; far more means leases were stuck.
    BOOST_TEST(takeover["all_reclaimed_after_s"].get<double>() < 15.0);
    // The frozen nodes came back holding leases others had taken over: their late completions
    // were refused, and no node that kept running lost one.
    BOOST_TEST(takeover["frozen"].get<int>() == 2);
    BOOST_TEST(once["rejected_completions"].get<int>() >= 1);
    BOOST_TEST(once["rejected_completions_live_nodes"].get<int>() == 0);
    BOOST_TEST(report["ok"].get<bool>());
    BOOST_TEST(r.exit_code == 0);
}
