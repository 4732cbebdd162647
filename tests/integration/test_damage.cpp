#define BOOST_TEST_MODULE integration_damage
#include <boost/test/unit_test.hpp>
#include <thread>

#include "store/job_store.h"
#include "support/cli.h"
#include "support/daemon.h"
#include "support/media.h"
#include "support/process.h"
#include "support/sandbox.h"

namespace t = rr::test;
using namespace std::chrono_literals;

namespace {

constexpr int64_t kClipFrames = 50;  // 2 s at 25 fps

struct Clip {
    std::filesystem::path file;
    std::string payload_tag;  // the container's media data box/list ...
    std::string index_tag;    // ... and the index that follows it
};

std::vector<Clip> clips() {
    return {
        {t::fixture("damage_h264_2s.mp4",
                    "-f lavfi -i testsrc2=size=320x240:rate=25:duration=2 -c:v libx264 -preset "
                    "veryfast -g 25"),
         "mdat", "moov"},
        {t::fixture("damage_mpeg4_2s.avi",
                    "-f lavfi -i testsrc2=size=320x240:rate=25:duration=2 -c:v mpeg4 -bf 2 -q:v 4 "
                    "-g 25"),
         "movi", "idx1"},
    };
}

// A copy of `clip` with 1-20 bits flipped in its media data, away from the container's
// headers and index (a flaky transfer or a bad sector, not a broken container).
std::string damaged_copy(const Clip& clip, uint32_t seed, int& flips) {
    std::string data = t::read_file(clip.file);
    const size_t begin = data.find(clip.payload_tag) + 4 + 64;
    size_t end = data.rfind(clip.index_tag);
    if (end == std::string::npos || end < begin) end = data.size();
    end -= 64;
    BOOST_REQUIRE(end > begin + 1000);
    uint32_t x = seed * 2654435761u + 12345u;
    auto next = [&x]() {
        x = x * 1664525u + 1013904223u;
        return x >> 8;
    };
    (void)next();  // the first draw barely depends on the seed
    flips = 1 + static_cast<int>(next() % 20);
    for (int i = 0; i < flips; ++i) {
        const size_t at = begin + next() % (end - begin);
        data[at] = static_cast<char>(data[at] ^ (1 << (next() % 8)));
    }
    return data;
}

// The first stsz box after the first 'soun' handler (the sound track's sample sizes) with
// its body overwritten: the MP4 demuxer indexes no sample of that track.
std::string with_unreadable_audio_table(const std::filesystem::path& file) {
    std::string data = t::read_file(file);
    const size_t sound = data.find("soun");
    BOOST_REQUIRE(sound != std::string::npos);
    const size_t stsz = data.find("stsz", sound);
    BOOST_REQUIRE(stsz != std::string::npos);
    const auto* p = reinterpret_cast<const unsigned char*>(data.data() + stsz - 4);
    const size_t size = size_t{p[0]} << 24 | size_t{p[1]} << 16 | size_t{p[2]} << 8 | p[3];
    std::fill(data.begin() + static_cast<std::ptrdiff_t>(stsz + 4),
              data.begin() + static_cast<std::ptrdiff_t>(stsz - 4 + size), '\xff');
    return data;
}

}  // namespace

BOOST_AUTO_TEST_CASE(flipped_bytes_deliver_where_ffmpeg_delivers) {
    t::Sandbox box;
    int ffmpeg_delivers = 0, we_deliver = 0, with_damage = 0, copies = 0;
    for (const auto& clip : clips()) {
        for (uint32_t seed = 1; seed <= 6; ++seed, ++copies) {
            int flips = 0;
            const auto name = "copy" + std::to_string(seed) + clip.file.extension().string();
            t::write_file(box / name, damaged_copy(clip, seed, flips));
            const int64_t reference = t::ffmpeg_cli_frames(box / name);
            const bool reference_delivers = reference * 10 >= kClipFrames * 9;
            ffmpeg_delivers += reference_delivers ? 1 : 0;

            t::Sandbox out;
            auto r = t::process(box / name, out / "out.mp4");
            BOOST_TEST_MESSAGE(name << " (" << flips << " flipped bits): ffmpeg " << reference
                                    << " frames; renderrushd exit " << r.cmd.exit_code << " "
                                    << r.cmd.err.substr(0, r.cmd.err.find('\n')));
            if (r.cmd.exit_code != 0) {
                BOOST_TEST(!reference_delivers, name << ": refused although ffmpeg delivers "
                                                     << reference << " frames: " << r.cmd.err);
                BOOST_TEST(out.list().empty());
                continue;
            }
            ++we_deliver;
            const auto sc = r.sidecar();
            const auto& frames = sc["frames"];
            BOOST_REQUIRE(frames.contains("damaged"));
            BOOST_REQUIRE(frames.contains("lost"));
            // Every frame slot is delivered: damaged ones as decoded, lost ones concealed.
            BOOST_TEST(t::count_frames(out / "out.mp4") == frames["input"].get<int64_t>());
            BOOST_TEST(frames["input"].get<int64_t>() >= std::min(reference, kClipFrames));
            BOOST_TEST(frames["lost_ranges"].size() <= frames["lost"].get<size_t>());
            int64_t in_ranges = 0;
            for (const auto& range : frames["damaged_ranges"]) {
                in_ranges += range["frames"].get<int64_t>();
                BOOST_TEST(range["end"].get<double>() > range["start"].get<double>());
            }
            BOOST_TEST(in_ranges == frames["damaged"].get<int64_t>());
            if (frames["damaged"].get<int64_t>() + frames["lost"].get<int64_t>() > 0) ++with_damage;
        }
    }
    BOOST_TEST_MESSAGE("ffmpeg CLI delivered >= 90 % of the frames for "
                       << ffmpeg_delivers << "/" << copies << " copies; renderrushd delivered "
                       << we_deliver << "/" << copies << "; " << with_damage
                       << " of its outputs record damaged or lost frames");
    BOOST_TEST(we_deliver >= ffmpeg_delivers);
    // The flips must actually damage pictures, or this test would prove nothing.
    BOOST_TEST(with_damage >= copies / 3);
}

BOOST_AUTO_TEST_CASE(truncated_file_is_processed_as_far_as_it_goes) {
    t::Sandbox box;
    // Index at the front (faststart): the index promises frames the file no longer holds.
    t::ffmpeg("-i '" + clips()[0].file.string() + "' -c copy -movflags +faststart '" +
              (box / "fs.mp4").string() + "'");
    const std::string fs = t::read_file(box / "fs.mp4");
    t::write_file(box / "cut.mp4", fs.substr(0, fs.size() * 6 / 10));
    const int64_t reference = t::ffmpeg_cli_frames(box / "cut.mp4");
    BOOST_REQUIRE(reference > 0);

    t::Sandbox out;
    auto r = t::process(box / "cut.mp4", out / "out.mp4");
    BOOST_REQUIRE_MESSAGE(r.cmd.exit_code == 0, r.cmd.err);
    const auto frames = r.sidecar()["frames"];
    const int64_t present = frames["input"].get<int64_t>();
    BOOST_TEST_MESSAGE("cut at 60 %: ffmpeg " << reference << " frames, renderrushd " << present
                                              << " + " << frames["missing_at_end"]
                                              << " missing at the end");
    BOOST_TEST(present + frames["missing_at_end"].get<int64_t>() == kClipFrames);
    BOOST_TEST(frames["missing_at_end"].get<int64_t>() > 0);
    BOOST_TEST(t::count_frames(out / "out.mp4") == present);
    BOOST_TEST(present >= reference - 2);  // at most the B-frames orphaned by the cut differ
    BOOST_TEST(r.cmd.err.find("truncated") != std::string::npos);

    // limits.truncated: fail keeps the refusal, naming the file and the counts.
    t::write_file(box / "strict.yaml", "limits: {truncated: fail}\n");
    t::Sandbox out2;
    auto f =
        t::process(box / "cut.mp4", out2 / "out.mp4", {"--config", (box / "strict.yaml").string()});
    BOOST_TEST(f.cmd.exit_code == 1);
    BOOST_TEST(
        f.cmd.err.find((box / "cut.mp4").string() + ": truncated: only") != std::string::npos,
        f.cmd.err);
    BOOST_TEST(out2.list().empty());
}

BOOST_AUTO_TEST_CASE(an_unreadable_audio_track_is_dropped_and_the_daemon_says_so) {
    const auto clip = t::fixture("damage_h264_aac_2s.mp4",
                                 "-f lavfi -i testsrc2=size=320x240:rate=25:duration=2 -f lavfi "
                                 "-i sine=duration=2 -c:v libx264 -preset veryfast -g 25 -c:a aac");
    t::Daemon d("");
    d.write_config("chunk_seconds: 1\nwatches:\n  - {path: " + d.dir("inbox").string() +
                   ", profile: plain, output: " + d.dir("outbox").string() +
                   ", settle_seconds: 1}\nprofiles:\n  plain:\n    video: {codec: h264, preset: "
                   "ultrafast, hwaccel: none}\n");
    d.start();
    const auto part = d.dir("inbox") / ".broken.mp4.part";
    t::write_file(part, with_unreadable_audio_table(clip));
    std::filesystem::rename(part, d.dir("inbox") / "broken.mp4");
    std::optional<rr::store::JobRow> job;
    BOOST_REQUIRE_MESSAGE(t::wait_until(
                              [&] {
                                  for (auto& j : d.jobs())
                                      if (rr::store::is_final(j.state)) job = j;
                                  return job.has_value();
                              },
                              90s),
                          d.log());
    BOOST_TEST_MESSAGE("error: " << job->error.value_or(""));
    BOOST_REQUIRE(job->state == rr::store::JobState::done);
    // The video, every frame; no audio stream; the sidecar and an event say why.
    const auto out = d.dir("outbox") / "broken.mp4";
    BOOST_TEST(t::count_frames(out) == kClipFrames);
    BOOST_TEST(t::ffprobe(out, "-select_streams a -show_entries stream=index")["streams"].empty());
    const auto sidecar = nlohmann::json::parse(job->sidecar.value_or("{}"));
    BOOST_REQUIRE(sidecar["audio"].size() == 1u);
    BOOST_TEST(sidecar["audio"][0]["mode"] == "dropped");
    BOOST_TEST(sidecar["audio"][0]["reason"].get<std::string>().find("sample table") !=
               std::string::npos);
    auto store = rr::store::JobStore::open_read_only(d.dir("state") / "renderrush.db");
    BOOST_REQUIRE(store.ok());
    auto events = store->events(job->id, 1000);
    BOOST_REQUIRE(events.ok());
    bool told = false;
    for (const auto& e : *events)
        told = told || e.message.find("audio stream 1 dropped") != std::string::npos;
    BOOST_TEST(told);
}
