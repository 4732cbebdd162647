#define BOOST_TEST_MODULE unit_service_job_lifecycle
#include <boost/test/unit_test.hpp>
#include <deque>
#include <map>
#include <random>

#include "service/job_lifecycle.h"

using namespace rr;
using namespace rr::service;
using store::JobState;

namespace {

// The scheduler, the queue and the job's surroundings as the lifecycle sees them: work it
// submitted waits here until the test runs it, and everything else it asked for is recorded.
// The queue's side (its nodes running chunks, audio and the join) is the test's events.
struct FakeJob : JobEffects {
    enum class Kind { prepare, dispose, hooks };
    struct Work {
        Kind kind;
    };
    std::deque<Work> queue;
    std::vector<std::pair<JobState, std::optional<std::string>>> states;
    std::vector<JobEnding> disposals;
    std::vector<std::string> warnings, cluster_ends;
    int prepares = 0, follows = 0, cancels = 0, hook_runs = 0, finishes = 0;

    void set_state(JobState s, const std::optional<std::string>& e) override {
        states.emplace_back(s, e);
    }
    void submit_prepare() override {
        ++prepares;
        queue.push_back({Kind::prepare});
    }
    void follow_queue_job() override { ++follows; }
    void end_queue_job(JobState s, const std::string& e) override {
        cluster_ends.push_back(std::string(store::to_string(s)) + ": " + e);
    }
    void cancel_tasks() override { ++cancels; }
    void dispose(const JobEnding& e) override {
        disposals.push_back(e);
        queue.push_back({Kind::dispose});
    }
    void run_after_hooks(JobState) override {
        ++hook_runs;
        queue.push_back({Kind::hooks});
    }
    void finish() override { ++finishes; }
    void warn(const std::string& m) override { warnings.push_back(m); }

    [[nodiscard]] std::vector<JobState> state_names() const {
        std::vector<JobState> out;
        for (const auto& s : states) out.push_back(s.first);
        return out;
    }
    Work take(Kind kind) {
        for (auto it = queue.begin(); it != queue.end(); ++it) {
            if (it->kind == kind) {
                Work w = *it;
                queue.erase(it);
                return w;
            }
        }
        BOOST_FAIL("nothing of that kind was submitted");
        return {};
    }
};

// A clock the test moves by hand.
struct FakeClock {
    SteadyClock::time_point now{};
    void advance(double seconds) {
        now += std::chrono::duration_cast<SteadyClock::duration>(
            std::chrono::duration<double>(seconds));
    }
    JobLifecycle::Clock fn() {
        return [this] { return now; };
    }
};

Error media_error(const std::string& m) {
    return make_error(Errc::media, m);
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_job_is_prepared_followed_in_the_queue_published_disposed_then_hooked) {
    FakeJob fx;
    FakeClock clock;
    JobLifecycle job(fx, 3, clock.fn());
    job.start();
    fx.take(FakeJob::Kind::prepare);
    BOOST_TEST(!job.following_queue());
    job.planned();
    BOOST_TEST(fx.follows == 1);  // the queue's nodes run the tasks, this one among them
    BOOST_TEST(job.following_queue());
    BOOST_TEST(!job.wants_join_result());
    job.joined();  // not before the queue moved the job to joining
    BOOST_TEST(fx.disposals.empty());
    job.queue_joining();
    BOOST_TEST(job.state() == JobState::assembling);
    job.queue_joining();  // every later poll says so again
    clock.advance(42);
    BOOST_TEST(job.elapsed() == 42.0);
    job.joined();
    job.joined();  // a second publish report changes nothing
    BOOST_REQUIRE(fx.disposals.size() == 1u);
    BOOST_TEST(fx.disposals[0].state == JobState::done);
    BOOST_TEST(fx.disposals[0].here);
    BOOST_TEST(!job.following_queue());
    job.disposed(std::nullopt);
    BOOST_TEST(fx.hook_runs == 1);
    BOOST_TEST(fx.finishes == 0);
    job.hooks_done();
    BOOST_TEST(fx.finishes == 1);
    BOOST_TEST(job.step() == JobLifecycle::Step::finished);
    const std::vector<JobState> expected = {JobState::probing, JobState::running,
                                            JobState::assembling, JobState::done};
    BOOST_TEST(fx.state_names() == expected, boost::test_tools::per_element());
    BOOST_TEST(!fx.states.back().second.has_value());  // done carries no error
    BOOST_TEST(fx.cancels == 0);
    BOOST_TEST(fx.cluster_ends.empty());  // a published job's queue job is the joiner's to end
}

BOOST_AUTO_TEST_CASE(a_job_the_queue_failed_ends_failed_with_the_queues_reason) {
    FakeJob fx;
    JobLifecycle job(fx, 3);
    job.start();
    job.planned();
    job.queue_failed(media_error("chunk 0 failed after 3 attempts: attempt 1 on local: no"));
    BOOST_REQUIRE(fx.disposals.size() == 1u);
    BOOST_TEST(fx.disposals[0].state == JobState::failed);
    BOOST_TEST(fx.disposals[0].message ==
               "chunk 0 failed after 3 attempts: attempt 1 on local: no");
    BOOST_TEST(!fx.disposals[0].no_space);
    BOOST_TEST(fx.cancels == 1);
    BOOST_TEST(fx.cluster_ends.size() == 1u);  // ending an ended queue job is a no-op there
    job.queue_failed(media_error("again"));
    job.joined();
    BOOST_TEST(fx.disposals.size() == 1u);
    job.disposed(std::nullopt);
    BOOST_TEST(fx.states.back().first == JobState::failed);
    BOOST_TEST(fx.states.back().second.value_or("") == fx.disposals[0].message);

    FakeJob joining;
    JobLifecycle late(joining, 3);
    late.start();
    late.attached();  // planned before a restart
    BOOST_TEST(joining.follows == 1);
    late.queue_joining();
    late.queue_failed(media_error("join failed after 3 attempts"));  // the joiner gave up
    BOOST_REQUIRE(joining.disposals.size() == 1u);
    BOOST_TEST(joining.disposals[0].state == JobState::failed);
}

BOOST_AUTO_TEST_CASE(a_full_disk_fails_at_once_and_leaves_the_source_alone) {
    FakeJob fx;
    JobLifecycle job(fx, 3);
    job.start();
    job.prepare_failed(make_error(Errc::no_space, "No space left on device"), false);
    BOOST_TEST(fx.prepares == 1);
    BOOST_REQUIRE(fx.disposals.size() == 1u);
    BOOST_TEST(fx.disposals[0].no_space);
    BOOST_TEST(fx.disposals[0].state == JobState::failed);
}

BOOST_AUTO_TEST_CASE(a_cancel_ends_the_queue_job_and_late_updates_change_nothing) {
    FakeJob fx;
    JobLifecycle job(fx, 3);
    job.start();
    job.planned();
    job.cancel("cancelled by the operator");
    BOOST_TEST(fx.cancels == 1);
    BOOST_TEST(fx.cluster_ends == std::vector<std::string>{"cancelled: cancelled by the operator"},
               boost::test_tools::per_element());
    BOOST_TEST(!job.following_queue());
    // The queue's view arrives afterwards: joining, published, failed.
    job.queue_joining();
    job.joined();
    job.queue_failed(media_error("cancelled"));
    job.cancel("again");
    job.fail(media_error("late failure"));
    BOOST_TEST(fx.disposals.size() == 1u);
    BOOST_TEST(fx.warnings.empty());
    job.disposed(std::nullopt);
    BOOST_TEST(job.state() == JobState::cancelled);
    BOOST_TEST(fx.states.back().second.value_or("") == "cancelled by the operator");
    job.hooks_done();
    job.hooks_done();
    BOOST_TEST(fx.finishes == 1);
}

BOOST_AUTO_TEST_CASE(a_shutdown_leaves_the_job_for_the_next_start) {
    // Preparing when the daemon stops: the next start prepares again.
    FakeJob fx;
    JobLifecycle preparing(fx, 2);
    preparing.start();
    preparing.shutdown();
    preparing.prepare_failed(make_error(Errc::cancelled, "stopped"), false);
    BOOST_TEST(fx.prepares == 1);
    BOOST_TEST(fx.disposals.empty());
    BOOST_TEST(fx.cluster_ends.empty());  // its queue job stays for the restarted owner
    BOOST_TEST(preparing.step() == JobLifecycle::Step::probing);

    // Following the queue: the nodes go on; nothing is ended or disposed of here.
    FakeJob running;
    JobLifecycle followed(running, 2);
    followed.start();
    followed.planned();
    followed.shutdown();
    BOOST_TEST(followed.shutting_down());
    BOOST_TEST(running.disposals.empty());
    BOOST_TEST(running.cluster_ends.empty());
    BOOST_TEST(running.cancels == 0);
}

BOOST_AUTO_TEST_CASE(prepare_runs_again_only_when_its_worker_died) {
    FakeJob fx;
    JobLifecycle job(fx, 3);
    job.start();
    job.prepare_failed(media_error("worker killed by signal 9"), true);
    job.prepare_failed(media_error("worker killed by signal 9"), true);
    BOOST_TEST(fx.prepares == 3);
    BOOST_REQUIRE(fx.warnings.size() == 2u);
    BOOST_TEST(fx.warnings[0] ==
               "preparing failed (attempt 1 of 3): worker killed by signal 9; retrying");
    BOOST_TEST(fx.warnings[1] ==
               "preparing failed (attempt 2 of 3): worker killed by signal 9; retrying");
    job.planned();
    BOOST_TEST(fx.disposals.empty());

    FakeJob refused;
    JobLifecycle bad(refused, 3);
    bad.start();
    bad.prepare_failed(media_error("not a media file"), false);  // a refusal: no retry
    BOOST_TEST(refused.prepares == 1);
    BOOST_REQUIRE(refused.disposals.size() == 1u);
    BOOST_TEST(refused.disposals[0].state == JobState::failed);
    BOOST_TEST(refused.disposals[0].message == "not a media file");

    FakeJob dying;
    JobLifecycle always(dying, 2);
    always.start();
    always.prepare_failed(media_error("worker killed"), true);
    always.prepare_failed(media_error("worker killed"), true);
    BOOST_TEST(dying.prepares == 2);  // max_attempts runs in all
    BOOST_REQUIRE(dying.disposals.size() == 1u);
    BOOST_TEST(dying.disposals[0].message == "worker killed");
}

BOOST_AUTO_TEST_CASE(a_duplicate_is_disposed_of_here_with_its_hooks) {
    FakeJob fx;
    JobLifecycle job(fx, 3);
    job.start();
    job.duplicate("duplicate of job 3");
    BOOST_REQUIRE(fx.disposals.size() == 1u);
    BOOST_TEST(fx.disposals[0].here);
    BOOST_TEST(fx.disposals[0].state == JobState::duplicate);
    BOOST_TEST(fx.follows == 0);
    job.disposed(std::nullopt);
    BOOST_TEST(job.state() == JobState::duplicate);
    BOOST_TEST(fx.hook_runs == 1);
}

BOOST_AUTO_TEST_CASE(a_file_owned_by_another_node_ends_here_without_disposition_or_hooks) {
    FakeJob fx;
    JobLifecycle job(fx, 3);
    job.start();
    job.elsewhere("processed by cluster node render-02 (cluster job 7)");
    BOOST_REQUIRE(fx.disposals.size() == 1u);
    BOOST_TEST(!fx.disposals[0].here);
    BOOST_TEST(fx.cancels == 0);
    job.disposed(std::nullopt);
    BOOST_TEST(job.state() == JobState::duplicate);
    BOOST_TEST(fx.hook_runs == 0);
    BOOST_TEST(fx.finishes == 1);
}

BOOST_AUTO_TEST_CASE(a_disposition_taken_over_by_another_node_ends_done_without_hooks_here) {
    FakeJob fx;
    JobLifecycle job(fx, 3);
    job.start();
    job.attached();
    job.queue_joining();
    job.joined();
    BOOST_REQUIRE(fx.disposals.size() == 1u);
    BOOST_TEST(fx.disposals[0].here);
    job.disposed_elsewhere();  // the queue said another node claimed it
    BOOST_TEST(job.state() == JobState::done);
    BOOST_TEST(!fx.states.back().second.has_value());
    BOOST_TEST(fx.hook_runs == 0);  // the adopter runs them
    BOOST_TEST(fx.finishes == 1);
    const auto recorded = fx.states.size();
    job.disposed(std::nullopt);  // late: changes nothing
    job.disposed_elsewhere();
    BOOST_TEST(fx.finishes == 1);
    BOOST_TEST(fx.states.size() == recorded);
}

BOOST_AUTO_TEST_CASE(a_published_output_whose_source_could_not_move_is_done_with_warnings) {
    FakeJob fx;
    JobLifecycle job(fx, 3);
    job.resume_published();
    BOOST_TEST(fx.prepares == 0);
    BOOST_REQUIRE(fx.disposals.size() == 1u);
    job.disposed(std::string("cannot move /in/a.mp4: Permission denied"));
    BOOST_TEST(job.state() == JobState::done_with_warnings);
    BOOST_TEST(fx.states.back().second.value_or("") ==
               "source disposition: cannot move /in/a.mp4: Permission denied");
}

// Any interleaving of preparation results, the queue's verdicts, cancels and the source's
// disposition: the job is disposed of once, finished once, follows the queue at most once and
// prepares nothing after its end.
BOOST_AUTO_TEST_CASE(random_event_orders_dispose_once_finish_once_and_submit_nothing_after) {
    for (unsigned seed = 1; seed <= 2000; ++seed) {
        std::mt19937 rng(seed);
        auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
        FakeJob fx;
        const int max_attempts = 1 + pick(3);
        JobLifecycle job(fx, max_attempts);
        job.start();
        int prepares_at_end = 0;
        bool ended = false;
        for (int step = 0; step < 60 && job.step() != JobLifecycle::Step::finished; ++step) {
            switch (pick(11)) {
                case 0:
                    if (pick(2) == 0)
                        job.planned();
                    else
                        job.attached();
                    break;
                case 1:
                    job.prepare_failed(media_error("p"), pick(2) == 0);
                    break;
                case 2:
                    if (pick(3) == 0)
                        job.duplicate("d");
                    else
                        job.elsewhere("e");
                    break;
                case 3:
                    job.queue_joining();
                    break;
                case 4:
                    job.joined();
                    break;
                case 5:
                    job.queue_failed(media_error("q"));
                    break;
                case 6:
                    job.cancel("c");
                    break;
                case 7:
                    job.fail(media_error("f"));
                    break;
                case 8:
                    if (pick(3) == 0)
                        job.disposed_elsewhere();
                    else
                        job.disposed(std::nullopt);
                    break;
                case 9:
                    job.hooks_done();
                    break;
                case 10:
                    job.shutdown();
                    break;
            }
            if (!ended && job.ended()) {
                ended = true;
                prepares_at_end = fx.prepares;
            }
        }
        BOOST_TEST_CONTEXT("seed " << seed) {
            BOOST_TEST(fx.disposals.size() <= 1u);
            BOOST_TEST(fx.finishes <= 1);
            BOOST_TEST(fx.hook_runs <= 1);
            BOOST_TEST(fx.follows <= 1);
            BOOST_TEST(fx.prepares <= max_attempts);
            if (ended) {
                BOOST_TEST(fx.prepares == prepares_at_end);
                BOOST_TEST(fx.disposals.size() == 1u);
            }
        }
    }
}
