#define BOOST_TEST_MODULE integration_daemon
#include <signal.h>

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <set>
#include <thread>

#include "support/daemon.h"
#include "support/measure.h"
#include "support/media.h"
#include "support/process.h"
#include "support/sandbox.h"

namespace t = rr::test;
using rr::store::JobState;
using namespace std::chrono_literals;

namespace {

const std::string kProfiles = R"(profiles:
  gray:
    stages: [grayscale]
    video: {codec: h264, preset: veryfast, hwaccel: none}
  plain:
    video: {codec: h264, preset: ultrafast, hwaccel: none}
)";

std::string watch_yaml(const t::Daemon& d, const std::string& extra = "") {
    return "watches:\n  - {path: " + d.dir("inbox").string() +
           ", profile: by-folder, output: " + d.dir("outbox").string() + ", settle_seconds: 1" +
           extra + "}\n";
}

std::filesystem::path clip() {
    return t::fixture(
        "daemon_clip_6s.mp4",
        "-f lavfi -i testsrc2=size=320x240:rate=25:duration=6 -f lavfi -i sine=duration=6 "
        "-c:v libx264 -preset veryfast -g 25 -c:a aac");
}

// Copies a file into place atomically, the way most tools deliver (write elsewhere, rename in).
void drop(const std::filesystem::path& from, const std::filesystem::path& to) {
    std::filesystem::create_directories(to.parent_path());
    const auto tmp = to.parent_path() / ("." + to.filename().string() + ".part");
    std::filesystem::copy_file(from, tmp, std::filesystem::copy_options::overwrite_existing);
    std::filesystem::rename(tmp, to);
}

size_t count_in(const std::vector<rr::store::JobRow>& jobs, JobState state) {
    return static_cast<size_t>(
        std::count_if(jobs.begin(), jobs.end(), [&](const auto& j) { return j.state == state; }));
}

bool no_temporaries(const std::filesystem::path& root) {
    for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
        if (e.path().filename().string().find(".rr-tmp-") != std::string::npos) {
            BOOST_TEST_MESSAGE("temporary left: " << e.path());
            return false;
        }
    }
    return true;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_dropped_file_becomes_an_output_and_moves_to_done) {
    t::Daemon d("chunk_seconds: 2\n" + kProfiles);
    d.write_config("chunk_seconds: 2\n" + watch_yaml(d) + kProfiles);
    d.start();
    // A second daemon on the same state folder is refused, naming it, and the first keeps
    // its queue: it still takes and finishes the file below.
    BOOST_REQUIRE_MESSAGE(
        t::wait_until([&] { return d.log().find("ready") != std::string::npos; }, 30s), d.log());
    auto twin = t::run({t::renderrushd().string(), "--config", d.config_path().string()}, 60s);
    BOOST_TEST(twin.exit_code != 0);
    BOOST_TEST(twin.err.find("another renderrushd uses the state folder") != std::string::npos,
               twin.err);
    drop(clip(), d.dir("inbox") / "gray" / "talk.mov.mp4");
    BOOST_REQUIRE_MESSAGE(
        t::wait_until([&] { return count_in(d.jobs(), JobState::done) == 1; }, 60s), d.log());
    const auto out = d.dir("outbox") / "gray" / "talk.mov.mp4";
    BOOST_TEST(std::filesystem::exists(out));
    BOOST_TEST(std::filesystem::exists(d.dir("outbox") / "gray" / "talk.mov.renderrush.json"));
    BOOST_TEST(std::filesystem::exists(d.dir("done") / "gray" / "talk.mov.mp4"));
    BOOST_TEST(!std::filesystem::exists(d.dir("inbox") / "gray" / "talk.mov.mp4"));
    BOOST_TEST(t::count_frames(out) == 150);
    auto jobs = d.jobs();
    BOOST_REQUIRE_EQUAL(jobs.size(), 1u);
    BOOST_TEST(jobs[0].profile == "gray");
    BOOST_TEST(jobs[0].checksum.value_or("").size() == 32u);
    BOOST_TEST(jobs[0].output_path.value_or("") == out.string());
    BOOST_TEST(jobs[0].input_path == (d.dir("done") / "gray" / "talk.mov.mp4").string());
    auto chunks = d.chunks(jobs[0].id);
    BOOST_TEST(chunks.size() == 4u);  // 3 video chunks and the audio track
    for (const auto& c : chunks) BOOST_TEST(c.state == rr::store::ChunkState::done);
    // The same content dropped again under another name is recorded, not redone.
    drop(clip(), d.dir("inbox") / "gray" / "again.mp4");
    BOOST_REQUIRE(t::wait_until([&] { return count_in(d.jobs(), JobState::duplicate) == 1; }, 60s));
    BOOST_TEST(!std::filesystem::exists(d.dir("outbox") / "gray" / "again.mp4"));
    d.signal(SIGTERM);
    BOOST_TEST(d.wait_exit(30s) == 0);
    BOOST_TEST(no_temporaries(d.box().path()));
}

BOOST_AUTO_TEST_CASE(a_slowly_written_file_is_taken_once_when_complete) {
    t::Daemon d("");
    d.write_config(watch_yaml(d) + kProfiles);
    d.start();
    const std::string data = t::read_file(clip());
    const auto target = d.dir("inbox") / "plain" / "slow.mp4";
    std::filesystem::create_directories(target.parent_path());
    {
        std::ofstream out(target, std::ios::binary);
        const size_t piece = data.size() / 6 + 1;
        for (size_t off = 0; off < data.size(); off += piece) {
            out.write(data.data() + off,
                      static_cast<std::streamsize>(std::min(piece, data.size() - off)));
            out.flush();
            std::this_thread::sleep_for(800ms);  // slower than nothing, faster than settle_seconds
        }
    }
    BOOST_REQUIRE_MESSAGE(
        t::wait_until([&] { return count_in(d.jobs(), JobState::done) == 1; }, 60s), d.log());
    auto jobs = d.jobs();
    BOOST_REQUIRE_EQUAL(jobs.size(), 1u);
    BOOST_TEST(jobs[0].size == static_cast<int64_t>(data.size()));
    BOOST_TEST(t::count_frames(d.dir("outbox") / "plain" / "slow.mp4") == 150);
}

BOOST_AUTO_TEST_CASE(two_hundred_files_at_once_are_each_processed_exactly_once) {
    t::Daemon d("");
    d.write_config("max_concurrent_jobs: 4\n" + watch_yaml(d) + kProfiles);
    // Distinct content per file: a tiny clip plus an MP4 `free` box carrying its number.
    const auto tiny = t::fixture(
        "daemon_tiny.mp4",
        "-f lavfi -i testsrc2=size=64x48:rate=10:duration=0.3 -c:v libx264 -preset ultrafast");
    const std::string base = t::read_file(tiny);
    const auto staging = d.dir("staging");
    std::filesystem::create_directories(staging);
    for (int i = 0; i < 200; ++i) {
        std::string box = std::string("\0\0\0\x10", 4) + "free" + std::string(8, '\0');
        std::snprintf(box.data() + 8, 8, "%07d", i);
        t::write_file(staging / ("f" + std::to_string(i) + ".mp4"), base + box);
    }
    d.start();
    std::filesystem::create_directories(d.dir("inbox") / "plain");
    for (int i = 0; i < 200; ++i) {
        std::filesystem::rename(staging / ("f" + std::to_string(i) + ".mp4"),
                                d.dir("inbox") / "plain" / ("f" + std::to_string(i) + ".mp4"));
    }
    BOOST_REQUIRE_MESSAGE(
        t::wait_until([&] { return count_in(d.jobs(), JobState::done) == 200; }, 240s),
        "done: " << count_in(d.jobs(), JobState::done));
    auto jobs = d.jobs();
    BOOST_TEST(jobs.size() == 200u);
    std::set<std::string> sources;
    for (const auto& j : jobs) sources.insert(j.source_path);
    BOOST_TEST(sources.size() == 200u);
    size_t outputs = 0;
    for (const auto& e : std::filesystem::directory_iterator(d.dir("outbox") / "plain"))
        outputs += e.path().extension() == ".mp4";
    BOOST_TEST(outputs == 200u);
    BOOST_TEST(std::filesystem::is_empty(d.dir("inbox") / "plain"));
}

BOOST_AUTO_TEST_CASE(kill_9_at_any_point_loses_nothing_and_redoes_no_finished_chunk) {
    t::Daemon d("");
    d.write_config("chunk_seconds: 2\nworkers: 2\n" + watch_yaml(d) +
                   "profiles:\n  slow:\n    stages: [grayscale, blur]\n    video: {codec: h264, "
                   "preset: medium, hwaccel: none}\n");
    const auto in = t::fixture(
        "daemon_long_24s.mp4",
        "-f lavfi -i testsrc2=size=480x270:rate=25:duration=24 -f lavfi -i sine=duration=24 "
        "-c:v libx264 -preset veryfast -g 25 -c:a aac");
    d.start();
    drop(in, d.dir("inbox") / "slow" / "long.mp4");
    std::map<int, double> finished;  // chunk → finished_at, as first recorded
    auto done_chunks = [&] {
        auto jobs = d.jobs();
        if (jobs.empty()) return size_t{0};
        size_t n = 0;
        for (const auto& c : d.chunks(jobs[0].id)) {
            if (c.state == rr::store::ChunkState::done && !c.task.is_audio()) {
                ++n;
                finished.try_emplace(c.task.index(), c.finished_at.value_or(0));
            }
        }
        return n;
    };
    for (size_t at : {2u, 5u, 8u}) {
        BOOST_REQUIRE_MESSAGE(t::wait_until([&] { return done_chunks() >= at; }, 120s), d.log());
        d.kill9();
        // The last start comes with other settings: the job keeps the cuts it was planned with
        // (plan.cbor's cut_for) instead of refusing its chunks as no longer the recorded plan.
        if (at == 8u)
            d.write_config("chunk_seconds: 5\nworkers: 1\n" + watch_yaml(d) +
                           "profiles:\n  slow:\n    stages: [grayscale, blur]\n    video: {codec: "
                           "h264, preset: medium, hwaccel: none}\n");
        d.start();
    }
    BOOST_REQUIRE_MESSAGE(
        t::wait_until([&] { return count_in(d.jobs(), JobState::done) == 1; }, 180s), d.log());
    auto jobs = d.jobs();
    for (const auto& c : d.chunks(jobs[0].id)) {
        auto first = finished.find(c.task.index());
        if (first != finished.end())
            BOOST_TEST(c.finished_at.value_or(-1) == first->second, c.task.name() << " was redone");
    }
    BOOST_TEST(finished.size() >= 8u);
    size_t video_chunks = 0;
    for (const auto& c : d.chunks(jobs[0].id)) video_chunks += c.task.is_audio() ? 0 : 1;
    BOOST_TEST(video_chunks == 12u);  // 24 s in 2 s chunks, as first planned
    BOOST_TEST(d.log().find("kept from before") != std::string::npos);
    t::Sandbox scratch;
    BOOST_TEST(t::count_frames(d.dir("outbox") / "slow" / "long.mp4") == 600);
    d.signal(SIGTERM);
    BOOST_TEST(d.wait_exit(30s) == 0);
    BOOST_TEST(no_temporaries(d.box().path()));
    BOOST_TEST(std::filesystem::is_empty(d.dir("state") / "work"));
}

BOOST_AUTO_TEST_CASE(a_resumed_job_keeps_its_finished_audio_pass_and_its_loudness_result) {
    // The audio stage measures and normalises the whole track in the audio task; a restart
    // after that task finished must neither redo it nor lose its measurements.
    t::Daemon d("");
    d.write_config("chunk_seconds: 2\nworkers: 2\n" + watch_yaml(d) +
                   "profiles:\n  loud:\n    stages: [blur, audio]\n    video: {codec: h264, "
                   "preset: medium, hwaccel: none}\n");
    const auto in = t::fixture(
        "daemon_quiet_12s.mp4",
        "-f lavfi -i testsrc2=size=480x270:rate=25:duration=12 -f lavfi -i "
        "\"anoisesrc=color=pink:amplitude=1:sample_rate=48000:duration=12:seed=3,volume=-15dB\" "
        "-c:v libx264 -preset veryfast -g 25 -c:a aac -b:a 192k -shortest");
    d.start();
    drop(in, d.dir("inbox") / "loud" / "quiet.mp4");
    std::optional<double> audio_finished;
    bool video_left = false;
    BOOST_REQUIRE_MESSAGE(
        t::wait_until(
            [&] {
                auto jobs = d.jobs();
                if (jobs.empty()) return false;
                video_left = false;
                for (const auto& c : d.chunks(jobs[0].id)) {
                    if (c.task.is_audio() && c.state == rr::store::ChunkState::done)
                        audio_finished = c.finished_at;
                    if (!c.task.is_audio() && c.state != rr::store::ChunkState::done)
                        video_left = true;
                }
                return audio_finished.has_value();
            },
            120s),
        d.log());
    BOOST_REQUIRE_MESSAGE(video_left, "every chunk finished before the audio task");
    d.kill9();
    d.start();
    BOOST_REQUIRE_MESSAGE(
        t::wait_until([&] { return count_in(d.jobs(), JobState::done) == 1; }, 180s), d.log());
    auto jobs = d.jobs();
    for (const auto& c : d.chunks(jobs[0].id)) {
        if (c.task.is_audio())
            BOOST_TEST(c.finished_at.value_or(-1) == audio_finished.value_or(-2),
                       "the audio task was redone");
    }
    const auto out = d.dir("outbox") / "loud" / "quiet.mp4";
    BOOST_TEST(t::count_frames(out) == 300);
    const auto loud = t::cli_loudness(out);
    BOOST_TEST(std::abs(loud.integrated + 16.0) <= 1.0);
    BOOST_TEST(loud.true_peak <= -1.0);
    const auto sidecar =
        nlohmann::json::parse(t::read_file(d.dir("outbox") / "loud" / "quiet.renderrush.json"));
    const auto result = sidecar["stages"][1]["result"];
    BOOST_TEST_MESSAGE(result.dump());
    BOOST_TEST(result["normalization"].get<std::string>() == "linear");
    BOOST_TEST(std::abs(result["before"]["integrated_lufs"].get<double>() + 30.0) <= 1.5);
    BOOST_TEST(std::abs(result["after"]["integrated_lufs"].get<double>() - loud.integrated) <= 0.2);
    BOOST_TEST(sidecar["audio"][0]["filter"].get<std::string>().find("loudnorm") !=
               std::string::npos);
    BOOST_TEST(sidecar["timings"].contains("audio"));
    d.signal(SIGTERM);
    BOOST_TEST(d.wait_exit(30s) == 0);
}

BOOST_AUTO_TEST_CASE(a_corrupt_file_fails_alone_and_the_daemon_keeps_serving) {
    t::Daemon d("");
    d.write_config(watch_yaml(d) + kProfiles);
    d.start();
    std::string junk(100000, 'x');
    t::write_file(d.dir("staging.mp4"), junk);
    drop(d.dir("staging.mp4"), d.dir("inbox") / "plain" / "broken.mp4");
    BOOST_REQUIRE(t::wait_until([&] { return count_in(d.jobs(), JobState::failed) == 1; }, 60s));
    BOOST_TEST(std::filesystem::exists(d.dir("failed") / "plain" / "broken.mp4"));
    const auto why = t::read_file(d.dir("failed") / "plain" / "broken.mp4.error.txt");
    BOOST_TEST(why.find("not a readable media file") != std::string::npos, why);
    BOOST_TEST(d.jobs()[0].error.value_or("").find("not a readable media file") !=
               std::string::npos);
    BOOST_TEST(!std::filesystem::exists(d.dir("outbox") / "plain" / "broken.mp4"));
    drop(clip(), d.dir("inbox") / "plain" / "good.mp4");
    BOOST_REQUIRE(t::wait_until([&] { return count_in(d.jobs(), JobState::done) == 1; }, 60s));
    // A profile folder nobody configured is a failed job that says so.
    drop(clip(), d.dir("inbox") / "nosuch" / "x.mp4");
    BOOST_REQUIRE(t::wait_until([&] { return count_in(d.jobs(), JobState::failed) == 2; }, 60s));
    BOOST_TEST(t::read_file(d.dir("failed") / "nosuch" / "x.mp4.error.txt")
                   .find("no profile named 'nosuch'") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(sighup_applies_new_watches_and_rejects_broken_configs) {
    t::Daemon d("");
    d.write_config(watch_yaml(d) + kProfiles);
    d.start();
    BOOST_REQUIRE(t::wait_until([&] { return d.log().find("ready") != std::string::npos; }, 20s));
    const auto extra = d.dir("inbox2");
    d.write_config(watch_yaml(d) + "  - {path: " + extra.string() +
                   ", profile: plain, output: " + d.dir("outbox2").string() +
                   ", settle_seconds: 1, on_success: keep}\n" + kProfiles);
    d.signal(SIGHUP);
    BOOST_REQUIRE(t::wait_until(
        [&] { return d.log().find("configuration reloaded: 2 watches") != std::string::npos; },
        20s));
    drop(clip(), extra / "new.mp4");
    BOOST_REQUIRE_MESSAGE(t::wait_until(
                              [&] {
                                  return std::filesystem::exists(d.dir("outbox2") / "new.mp4") &&
                                         count_in(d.jobs(), JobState::done) == 1;
                              },
                              60s),
                          d.log());
    BOOST_TEST(std::filesystem::exists(extra / "new.mp4"));  // on_success: keep

    t::write_file(d.config_path(), "watches: [this is not: valid\n");
    d.signal(SIGHUP);
    BOOST_REQUIRE(
        t::wait_until([&] { return d.log().find("reload rejected") != std::string::npos; }, 20s));
    drop(clip(), d.dir("inbox") / "gray" / "still.mp4");
    BOOST_REQUIRE(t::wait_until([&] { return count_in(d.jobs(), JobState::done) == 2; }, 60s));
    d.signal(SIGTERM);
    BOOST_TEST(d.wait_exit(30s) == 0);
}

BOOST_AUTO_TEST_CASE(check_config_reports_every_problem_with_its_position) {
    t::Sandbox box;
    t::write_file(
        box / "bad.yaml",
        "watches:\n  - {path: /tmp/in, profile: web, output: /tmp/in/out, colour: red}\n"
        "profiles:\n  web:\n    stages: [{blur: {radius: 0}}]\n    video: {codec: h264}\n");
    auto r = t::run(
        {t::renderrushd().string(), "--check-config", "--config", (box / "bad.yaml").string()});
    BOOST_TEST(r.exit_code == 2);
    BOOST_TEST_MESSAGE(r.err);
    BOOST_TEST(r.err.find("bad.yaml:2:") != std::string::npos);
    BOOST_TEST(r.err.find("watches[0].colour: unknown key") != std::string::npos);
    BOOST_TEST(r.err.find("outputs would be taken as new inputs") != std::string::npos);
    t::write_file(box / "stage.yaml", "profiles:\n  web:\n    stages: [{blur: {radius: 0}}]\n");
    auto s = t::run(
        {t::renderrushd().string(), "--check-config", "--config", (box / "stage.yaml").string()});
    BOOST_TEST(s.exit_code == 2);
    BOOST_TEST(s.err.find("line 3") != std::string::npos);
    BOOST_TEST(s.err.find("parameter 'radius' value 0 is out of range") != std::string::npos);
    auto ok = t::run({t::renderrushd().string(), "--check-config", "--config",
                      (t::source_dir() / "config/renderrush.yaml").string()});
    BOOST_TEST(ok.exit_code == 0, ok.err);
}
