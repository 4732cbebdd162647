#define BOOST_TEST_MODULE integration_damage
#include <boost/test/unit_test.hpp>

#include "support/cli.h"
#include "support/media.h"
#include "support/sandbox.h"

namespace t = rr::test;

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
