#define BOOST_TEST_MODULE service_throughput
// The dashboard's frames-per-minute ring: progress counts once per frame, a job's end adds
// what progress had not reported, and minutes older than an hour fall out.
#include <boost/test/unit_test.hpp>

#include "service/throughput.h"

using namespace rr;
using namespace std::chrono_literals;

namespace {

control::Event progress(int64_t id, int64_t frames) {
    control::ProgressEvent p;
    p.job.id = id;
    p.job.frames_done = frames;
    return p;
}

control::Event done(int64_t id, int64_t frames) {
    control::JobEvent j;
    j.id = id;
    j.state = store::JobState::done;
    j.totals = control::JobTotals{frames, frames, 0, 0};
    return j;
}

}  // namespace

BOOST_AUTO_TEST_CASE(frames_land_in_the_minute_they_were_processed) {
    const auto t0 = SteadyClock::now();
    service::Throughput t(t0);
    t.observe(progress(1, 100), t0 + 10s);
    t.observe(progress(1, 250), t0 + 20s);
    t.observe(done(1, 300), t0 + 30s);
    t.observe(done(2, 40), t0 + 70s);  // a job too short for any progress event
    auto j = t.to_json(t0 + 80s);
    BOOST_REQUIRE(j["minutes"].size() == 60u);
    BOOST_TEST(j["minutes"][58] == 300);
    BOOST_TEST(j["minutes"][59] == 40);
    BOOST_TEST(j["fps"].get<double>() == 5.0);
    int64_t total = 0;
    for (const auto& m : j["minutes"]) total += m.get<int64_t>();
    BOOST_TEST(total == 340);
}

BOOST_AUTO_TEST_CASE(an_hour_later_the_ring_is_empty) {
    const auto t0 = SteadyClock::now();
    service::Throughput t(t0);
    t.observe(progress(1, 100), t0 + 1s);
    t.observe(progress(1, 50), t0 + 2s);  // never counted backwards
    BOOST_TEST(t.to_json(t0 + 59min)["minutes"][0] == 100);
    auto j = t.to_json(t0 + 3h);
    for (const auto& m : j["minutes"]) BOOST_TEST(m == 0);
}
