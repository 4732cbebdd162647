#define BOOST_TEST_MODULE pipeline_prepare
#include <boost/test/unit_test.hpp>
#include <opencv2/core.hpp>

#include "core/logging.h"
#include "pipeline/job.h"
#include "support/media.h"

namespace t = rr::test;

// OpenCV's thread pool belongs to the whole process, and the daemon prepares one job while
// another runs: preparing a job must leave the process's setting alone.
BOOST_AUTO_TEST_CASE(preparing_a_job_leaves_opencv_threads_alone) {
    const auto in = t::fixture("prepare_1s.mp4",
                               "-f lavfi -i testsrc2=size=160x120:rate=25:duration=1 -c:v libx264 "
                               "-preset ultrafast -g 25");
    cv::setNumThreads(1);
    const int before = cv::getNumThreads();
    rr::pipeline::JobSettings settings;
    settings.workers = 4;  // one short chunk: the job's own share would be all 4 threads
    auto job = rr::pipeline::prepare_job(in, settings, rr::null_logger());
    BOOST_REQUIRE_MESSAGE(job.ok(), (job.ok() ? "" : job.error().message));
    BOOST_TEST((*job)->threads_per_worker == 4);
    BOOST_TEST(cv::getNumThreads() == before);
}

BOOST_AUTO_TEST_CASE(opencv_gets_each_workers_share_of_the_cores) {
    const int cores = rr::pipeline::available_cores();
    BOOST_TEST(rr::pipeline::opencv_threads(cores) == 1);
    BOOST_TEST(rr::pipeline::opencv_threads(1) == cores);
    BOOST_TEST(rr::pipeline::opencv_threads(4 * cores) == 1);  // never below one
    rr::pipeline::configure_opencv_threads(cores);
    BOOST_TEST(cv::getNumThreads() == 1);
}

// In cluster mode every active node takes a job's chunks: a short file is cut for the farm's
// workers, not only for the node that prepares it.
BOOST_AUTO_TEST_CASE(a_short_file_is_cut_for_the_farms_workers) {
    const auto in = t::fixture("prepare_8s.mp4",
                               "-f lavfi -i testsrc2=size=160x120:rate=25:duration=8 -c:v libx264 "
                               "-preset ultrafast -g 25");
    rr::pipeline::JobSettings settings;
    settings.workers = 1;
    settings.chunk_seconds = 10;
    auto alone = rr::pipeline::prepare_job(in, settings, rr::null_logger());
    BOOST_REQUIRE_MESSAGE(alone.ok(), (alone.ok() ? "" : alone.error().message));
    BOOST_TEST((*alone)->chunks.size() == 1u);  // one node of one worker: no use cutting it
    settings.plan_workers = 3;
    auto farm = rr::pipeline::prepare_job(in, settings, rr::null_logger());
    BOOST_REQUIRE_MESSAGE(farm.ok(), (farm.ok() ? "" : farm.error().message));
    const auto& chunks = (*farm)->chunks;
    BOOST_REQUIRE(chunks.size() == 3u);
    int64_t frames = 0;
    for (const auto& c : chunks) {
        frames += c.frames();
        BOOST_TEST(c.frames() >= 60);  // even lengths: none of them holds the job up
        BOOST_TEST(c.frames() <= 70);
    }
    BOOST_TEST(frames == 200);
    BOOST_TEST((*farm)->plan_workers() == 3);
}
