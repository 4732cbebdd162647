#define BOOST_TEST_MODULE control_events
#include <boost/test/unit_test.hpp>

#include "control/events.h"

using namespace rr::control;
using rr::store::ChunkState;
using rr::store::JobState;

namespace {

// The exact line a subscriber reads, and the same event back from it.
void pin(const Event& event, const std::string& line) {
    BOOST_TEST(encode(event) == line + "\n");
    const auto back = parse_event(nlohmann::json::parse(line));
    BOOST_REQUIRE(back.has_value());
    BOOST_TEST(encode(*back) == line + "\n");
}

}  // namespace

BOOST_AUTO_TEST_CASE(job_events_keep_their_wire_form) {
    pin(JobEvent{.id = 12, .state = JobState::queued, .input = "/in/talk.mov"},
        R"({"event":"job","id":12,"input":"/in/talk.mov","state":"queued"})");
    pin(JobEvent{.id = 13,
                 .state = JobState::failed,
                 .input = "/in/bad.mov",
                 .error = "not a readable media file"},
        R"({"error":"not a readable media file","event":"job","id":13,"input":"/in/bad.mov","state":"failed"})");
    pin(JobEvent{.id = 12,
                 .state = JobState::done,
                 .input = "/done/talk.mov",
                 .output = "/out/talk.mp4",
                 .totals = JobTotals{1800, 1799, 1234567, 765432}},
        R"({"bytes_in":1234567,"bytes_out":765432,"event":"job","frames_damaged":0,"frames_in":1800,"frames_lost":0,"frames_missing_at_end":0,"frames_out":1799,"id":12,"input":"/done/talk.mov","output":"/out/talk.mp4","state":"done"})");
}

BOOST_AUTO_TEST_CASE(a_done_event_reads_back_with_its_totals) {
    const auto ev = parse_event(nlohmann::json::parse(
        R"({"event":"job","id":4,"state":"done","input":"a","output":"b","frames_in":10,"frames_out":9,"bytes_in":100,"bytes_out":50})"));
    BOOST_REQUIRE(ev.has_value());
    const auto* job = std::get_if<JobEvent>(&*ev);
    BOOST_REQUIRE(job != nullptr);
    BOOST_TEST(job->state == JobState::done);
    BOOST_REQUIRE(job->totals.has_value());
    BOOST_TEST(job->totals->frames_out == 9);
    BOOST_TEST(job->totals->bytes_in == 100);
    BOOST_TEST(job->output.value_or("") == "b");
}

BOOST_AUTO_TEST_CASE(chunk_events_keep_their_wire_form) {
    pin(ChunkEvent{12, 3, ChunkState::done, 4.25},
        R"({"chunk":3,"event":"chunk","id":12,"seconds":4.25,"state":"done"})");
    pin(ChunkEvent{12, -1, ChunkState::done, 0.5},
        R"({"chunk":-1,"event":"chunk","id":12,"seconds":0.5,"state":"done"})");
}

BOOST_AUTO_TEST_CASE(progress_events_keep_their_wire_form) {
    JobProgress p{12, "/in/talk.mov", "web", JobState::running, "/out/talk.mp4", 0.5, 900, 1800, 2,
                  6,  57.5,           31.0};
    pin(ProgressEvent{p},
        R"({"chunks_done":2,"chunks_total":6,"eta":31.0,"event":"progress","fps":57.5,"frames_done":900,"frames_total":1800,"id":12,"input":"/in/talk.mov","output":"/out/talk.mp4","profile":"web","progress":0.5,"state":"running"})");
    // status.running and job.live carry the same snapshot without the event tag.
    BOOST_TEST(
        nlohmann::json(p).dump() ==
        R"({"chunks_done":2,"chunks_total":6,"eta":31.0,"fps":57.5,"frames_done":900,"frames_total":1800,"id":12,"input":"/in/talk.mov","output":"/out/talk.mp4","profile":"web","progress":0.5,"state":"running"})");
}

BOOST_AUTO_TEST_CASE(error_events_keep_their_wire_form) {
    pin(ErrorEvent{"subscriber too slow; events were dropped and the stream is closed"},
        R"({"error":"subscriber too slow; events were dropped and the stream is closed","event":"error"})");
}

BOOST_AUTO_TEST_CASE(unknown_or_malformed_lines_are_skipped_not_thrown) {
    BOOST_TEST(!parse_event(nlohmann::json::parse(R"({"event":"log","text":"x"})")));
    BOOST_TEST(!parse_event(nlohmann::json::parse(R"({"event":"job","id":"x","state":"queued"})")));
    BOOST_TEST(!parse_event(nlohmann::json::parse(R"({"event":"job","id":1,"state":"lost"})")));
    BOOST_TEST(!parse_event(nlohmann::json::parse(R"([1,2])")));
    BOOST_TEST(!parse_event(nlohmann::json::parse(R"({"id":1})")));
}

BOOST_AUTO_TEST_CASE(file_names_that_are_not_utf8_still_encode_to_one_line) {
    const std::string line =
        encode(JobEvent{.id = 1, .state = JobState::queued, .input = "/in/caf\xe9.mov"});
    BOOST_TEST(line.back() == '\n');
    BOOST_TEST(line.find('\n') == line.size() - 1);
    BOOST_TEST(!nlohmann::json::parse(line, nullptr, false).is_discarded());
}
