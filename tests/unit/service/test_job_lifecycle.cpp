#define BOOST_TEST_MODULE unit_service_job_lifecycle
#include <boost/test/unit_test.hpp>
#include <deque>
#include <random>

#include "service/job_lifecycle.h"

using namespace rr;
using namespace rr::service;
using store::JobState;
using store::TaskRef;

namespace {

// The scheduler and the job's surroundings as the lifecycle sees them: work it submitted waits
// here until the test runs it, in any order, and everything else it asked for is recorded.
struct FakeJob : JobEffects {
    enum class Kind { prepare, task, join, dispose, hooks };
    struct Work {
        Kind kind;
        TaskRef task = TaskRef::audio();
    };
    std::deque<Work> queue;
    std::vector<std::pair<JobState, std::optional<std::string>>> states;
    std::vector<JobEnding> disposals;
    std::vector<std::string> warnings, cluster_ends;
    int prepares = 0, joins = 0, follows = 0, cancels = 0, hook_runs = 0, finishes = 0;
    std::map<TaskRef, int> submitted;

    void set_state(JobState s, const std::optional<std::string>& e) override {
        states.emplace_back(s, e);
    }
    void submit_prepare() override {
        ++prepares;
        queue.push_back({Kind::prepare});
    }
    void submit_task(TaskRef t) override {
        ++submitted[t];
        queue.push_back({Kind::task, t});
    }
    void submit_join() override {
        ++joins;
        queue.push_back({Kind::join});
    }
    void follow_cluster_job() override { ++follows; }
    void end_cluster_job(JobState s, const std::string& e) override {
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
    Work take_task(TaskRef t) {
        for (auto it = queue.begin(); it != queue.end(); ++it) {
            if (it->kind == Kind::task && it->task == t) {
                Work w = *it;
                queue.erase(it);
                return w;
            }
        }
        BOOST_FAIL("task " + t.name() + " was not submitted");
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

const std::set<TaskRef> kTasks = {TaskRef::chunk(0), TaskRef::chunk(1), TaskRef::chunk(2),
                                  TaskRef::audio()};

Error media_error(const std::string& m) {
    return make_error(Errc::media, m);
}

}  // namespace

BOOST_AUTO_TEST_CASE(tasks_finishing_in_any_order_make_one_join_then_done_then_hooks) {
    FakeJob fx;
    FakeClock clock;
    JobLifecycle job(fx, 3, clock.fn());
    job.start();
    fx.take(FakeJob::Kind::prepare);
    job.planned(kTasks, false);
    BOOST_TEST(fx.queue.size() == 4u);
    // Out of order, the audio task in the middle.
    job.task_done(fx.take_task(TaskRef::chunk(2)).task);
    job.task_done(fx.take_task(TaskRef::audio()).task);
    job.task_done(fx.take_task(TaskRef::chunk(0)).task);
    BOOST_TEST(fx.joins == 0);
    job.task_done(fx.take_task(TaskRef::chunk(1)).task);
    BOOST_TEST(fx.joins == 1);
    BOOST_TEST(job.state() == JobState::assembling);
    job.task_done(TaskRef::chunk(1));  // a duplicate report changes nothing
    BOOST_TEST(fx.joins == 1);
    fx.take(FakeJob::Kind::join);
    clock.advance(42);
    BOOST_TEST(job.elapsed() == 42.0);
    job.joined();
    job.joined();  // a second join result changes nothing
    BOOST_REQUIRE(fx.disposals.size() == 1u);
    BOOST_TEST(fx.disposals[0].state == JobState::done);
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
}

BOOST_AUTO_TEST_CASE(a_failing_chunk_runs_max_attempts_times_then_fails_the_job_listing_each) {
    FakeJob fx;
    FakeClock clock;
    JobLifecycle job(fx, 3, clock.fn());
    job.start();
    job.planned({TaskRef::chunk(0), TaskRef::chunk(1)}, false);
    job.task_done(fx.take_task(TaskRef::chunk(1)).task);
    for (int i = 0; i < 3; ++i) {
        clock.advance(5);
        fx.take_task(TaskRef::chunk(0));
        job.task_failed(TaskRef::chunk(0), media_error("decoder said no"));
    }
    BOOST_TEST(fx.submitted[TaskRef::chunk(0)] == 3);
    BOOST_TEST(fx.warnings.size() == 2u);
    BOOST_TEST(fx.warnings[0] == "chunk 0 failed (attempt 1 of 3): decoder said no; retrying");
    const auto& r = job.retried();
    BOOST_REQUIRE(r.size() == 3u);
    for (int i = 0; i < 3; ++i) {
        BOOST_TEST(r[i]["task"] == "chunk 0");
        BOOST_TEST(r[i]["attempt"] == i + 1);
        BOOST_TEST(r[i]["at"].get<double>() == 5.0 * (i + 1));
    }
    BOOST_REQUIRE(fx.disposals.size() == 1u);
    BOOST_TEST(fx.disposals[0].state == JobState::failed);
    BOOST_TEST(fx.disposals[0].message == "chunk 0 failed after 3 attempts: decoder said no");
    BOOST_TEST(!fx.disposals[0].no_space);
    BOOST_TEST(fx.cancels == 1);
    BOOST_TEST(fx.cluster_ends.size() == 1u);  // the queue hears of it (a no-op off-cluster)
    BOOST_TEST(fx.joins == 0);
    job.disposed(std::nullopt);
    BOOST_TEST(fx.states.back().first == JobState::failed);
    BOOST_TEST(fx.states.back().second.value_or("") == fx.disposals[0].message);
}

BOOST_AUTO_TEST_CASE(a_full_disk_fails_at_once_and_leaves_the_source_alone) {
    FakeJob fx;
    JobLifecycle job(fx, 3);
    job.start();
    job.planned({TaskRef::chunk(0)}, false);
    fx.take_task(TaskRef::chunk(0));
    job.task_failed(TaskRef::chunk(0), make_error(Errc::no_space, "No space left on device"));
    BOOST_TEST(fx.submitted[TaskRef::chunk(0)] == 1);
    BOOST_REQUIRE(fx.disposals.size() == 1u);
    BOOST_TEST(fx.disposals[0].no_space);
    BOOST_TEST(fx.disposals[0].state == JobState::failed);
}

BOOST_AUTO_TEST_CASE(a_cancel_stops_the_tasks_and_their_late_results_change_nothing) {
    FakeJob fx;
    JobLifecycle job(fx, 3);
    job.start();
    job.planned(kTasks, false);
    job.task_done(fx.take_task(TaskRef::chunk(0)).task);
    job.cancel("cancelled by the operator");
    BOOST_TEST(fx.cancels == 1);
    BOOST_TEST(fx.cluster_ends == std::vector<std::string>{"cancelled: cancelled by the operator"},
               boost::test_tools::per_element());
    // The stopped tasks report in afterwards, some as finished, some as failed.
    job.task_done(TaskRef::chunk(1));
    job.task_done(TaskRef::chunk(2));
    job.task_failed(TaskRef::audio(), media_error("killed"));
    job.task_done(TaskRef::audio());
    job.cancel("again");
    job.fail(media_error("late failure"));
    BOOST_TEST(fx.joins == 0);
    BOOST_TEST(fx.disposals.size() == 1u);
    BOOST_TEST(fx.warnings.empty());
    job.disposed(std::nullopt);
    BOOST_TEST(job.state() == JobState::cancelled);
    BOOST_TEST(fx.states.back().second.value_or("") == "cancelled by the operator");
    job.hooks_done();
    job.hooks_done();
    BOOST_TEST(fx.finishes == 1);
}

BOOST_AUTO_TEST_CASE(a_shutdown_leaves_interrupted_work_for_the_next_start) {
    FakeJob fx;
    JobLifecycle job(fx, 2);
    job.start();
    job.planned({TaskRef::chunk(0), TaskRef::chunk(1)}, false);
    job.shutdown();
    job.task_failed(TaskRef::chunk(0), make_error(Errc::cancelled, "stopped"));
    job.task_interrupted(TaskRef::chunk(1));
    BOOST_TEST(fx.submitted[TaskRef::chunk(0)] == 1);  // not retried
    BOOST_TEST(fx.disposals.empty());                  // not failed
    BOOST_TEST(job.retried().empty());
    BOOST_TEST(job.pending().size() == 2u);

    // Preparing when the daemon stops: the next start prepares again.
    FakeJob fx2;
    JobLifecycle preparing(fx2, 2);
    preparing.start();
    preparing.shutdown();
    preparing.prepare_failed(make_error(Errc::cancelled, "stopped"), false);
    BOOST_TEST(fx2.prepares == 1);
    BOOST_TEST(fx2.disposals.empty());
}

BOOST_AUTO_TEST_CASE(prepare_and_join_run_again_only_when_their_worker_died) {
    FakeJob fx;
    JobLifecycle job(fx, 3);
    job.start();
    job.prepare_failed(media_error("worker killed by signal 9"), true);
    job.prepare_failed(media_error("worker killed by signal 9"), true);
    BOOST_TEST(fx.prepares == 3);
    job.planned({TaskRef::chunk(0)}, false);
    job.task_done(TaskRef::chunk(0));
    job.join_failed(media_error("worker killed by signal 11"), true);
    BOOST_TEST(fx.joins == 2);
    job.join_failed(media_error("output folder is read-only"), false);  // a refusal: no retry
    BOOST_TEST(fx.joins == 2);
    BOOST_REQUIRE(fx.disposals.size() == 1u);
    BOOST_TEST(fx.disposals[0].message == "output folder is read-only");
    BOOST_TEST(job.retried().size() == 3u);  // two prepares, one join

    FakeJob refused;
    JobLifecycle bad(refused, 3);
    bad.start();
    bad.prepare_failed(media_error("not a media file"), false);
    BOOST_TEST(refused.prepares == 1);
    BOOST_REQUIRE(refused.disposals.size() == 1u);
    BOOST_TEST(refused.disposals[0].state == JobState::failed);

    FakeJob dying;
    JobLifecycle always(dying, 2);
    always.start();
    always.prepare_failed(media_error("worker killed"), true);
    always.prepare_failed(media_error("worker killed"), true);
    BOOST_TEST(dying.prepares == 2);  // max_attempts runs in all
    BOOST_TEST(dying.disposals.size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_cluster_job_is_followed_and_the_queue_decides_its_end) {
    FakeJob fx;
    JobLifecycle job(fx, 3);
    job.start();
    job.planned(kTasks, true);
    BOOST_TEST(fx.follows == 1);
    BOOST_TEST(fx.submitted.empty());  // the nodes claim the tasks from the queue
    BOOST_TEST(job.following_cluster());
    BOOST_TEST(fx.joins == 0);
    job.cluster_joining();
    BOOST_TEST(job.state() == JobState::assembling);
    BOOST_TEST(fx.joins == 0);  // the node whose completion was the last joins
    job.joined();
    BOOST_TEST(fx.disposals.size() == 1u);
    BOOST_TEST(!job.following_cluster());
    job.disposed(std::nullopt);
    BOOST_TEST(job.state() == JobState::done);

    FakeJob failed;
    JobLifecycle other(failed, 3);
    other.start();
    other.attached();  // planned before a restart
    BOOST_TEST(failed.follows == 1);
    other.cluster_ended(media_error("chunk 4 failed after 3 attempts"));
    BOOST_REQUIRE(failed.disposals.size() == 1u);
    BOOST_TEST(failed.disposals[0].state == JobState::failed);
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
    job.cluster_joining();
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

// Any interleaving of results, failures, cancels and the queue's verdicts: the job is disposed
// of once, finished once, and submits nothing after its end.
BOOST_AUTO_TEST_CASE(random_event_orders_dispose_once_finish_once_and_submit_nothing_after) {
    for (unsigned seed = 1; seed <= 2000; ++seed) {
        std::mt19937 rng(seed);
        auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
        FakeJob fx;
        JobLifecycle job(fx, 1 + pick(3));
        job.start();
        const bool cluster = pick(4) == 0;
        size_t submitted_at_end = 0;
        bool ended = false;
        for (int step = 0; step < 60 && job.step() != JobLifecycle::Step::finished; ++step) {
            const int e = pick(12);
            const TaskRef t = pick(4) == 0 ? TaskRef::audio() : TaskRef::chunk(pick(3));
            switch (e) {
                case 0:
                    job.planned(kTasks, cluster);
                    break;
                case 1:
                    job.prepare_failed(media_error("p"), pick(2) == 0);
                    break;
                case 2:
                case 3:
                case 4:
                    job.task_done(t);
                    break;
                case 5:
                    job.task_failed(t, media_error("t"));
                    break;
                case 6:
                    job.joined();
                    break;
                case 7:
                    job.join_failed(media_error("j"), pick(2) == 0);
                    break;
                case 8:
                    if (pick(5) == 0)
                        job.cancel("c");
                    else
                        job.cluster_joining();
                    break;
                case 9:
                    if (pick(5) == 0)
                        job.fail(media_error("f"));
                    else
                        job.cluster_ended(media_error("q"));
                    break;
                case 10:
                    job.disposed(std::nullopt);
                    break;
                case 11:
                    job.hooks_done();
                    break;
            }
            if (!ended && job.ended()) {
                ended = true;
                submitted_at_end = fx.prepares + fx.joins;
                for (const auto& [task, n] : fx.submitted) submitted_at_end += n;
            }
        }
        BOOST_TEST_CONTEXT("seed " << seed) {
            BOOST_TEST(fx.disposals.size() <= 1u);
            BOOST_TEST(fx.finishes <= 1);
            BOOST_TEST(fx.hook_runs <= 1);
            if (ended) {
                size_t now = fx.prepares + fx.joins;
                for (const auto& [task, n] : fx.submitted) now += n;
                BOOST_TEST(now == submitted_at_end);
                BOOST_TEST(fx.disposals.size() == 1u);
            }
            if (cluster) BOOST_TEST(fx.submitted.empty());
            for (const auto& [task, n] : fx.submitted) BOOST_TEST(n <= 3);
        }
    }
}
