#define BOOST_TEST_MODULE integration_bad_input
#include <boost/test/unit_test.hpp>
#include <fstream>

#include "support/cli.h"
#include "support/media.h"
#include "support/sandbox.h"

namespace t = rr::test;

namespace {

std::filesystem::path good_clip() {
    return t::fixture(
        "bad_source_6s.mp4",
        "-f lavfi -i testsrc2=size=320x240:rate=25:duration=6 -f lavfi -i sine=duration=6 "
        "-c:v libx264 -preset veryfast -g 25 -c:a aac");
}

// Fails with exit 1, a single line naming the file and containing `reason`, and leaves the
// output directory exactly as it was.
void expect_refused(const std::filesystem::path& input, const std::string& reason,
                    const std::vector<std::string>& extra = {}) {
    t::Sandbox out;
    auto r = t::process(input, out / "out.mp4", extra);
    BOOST_TEST_MESSAGE(input.filename() << ": " << r.cmd.err);
    BOOST_TEST(r.cmd.exit_code == 1);
    // The one line that says what happened: program, file, reason.
    const std::string prefix = "renderrushd: " + input.string() + ": ";
    const auto at = r.cmd.err.find(prefix);
    BOOST_REQUIRE(at != std::string::npos);
    const std::string line = r.cmd.err.substr(at, r.cmd.err.find('\n', at) - at);
    BOOST_TEST(line.find(reason) != std::string::npos, "error line: " << line);
    BOOST_TEST(out.list().empty(), "left behind: " << (out.list().empty() ? "" : out.list()[0]));
    BOOST_TEST(std::filesystem::exists(input));
}

}  // namespace

BOOST_AUTO_TEST_CASE(zero_byte_file) {
    t::Sandbox box;
    t::write_file(box / "empty.mp4", "");
    expect_refused(box / "empty.mp4", "file is empty");
}

BOOST_AUTO_TEST_CASE(random_bytes_with_a_video_name) {
    t::Sandbox box;
    std::string junk(200000, '\0');
    uint32_t x = 12345;
    for (auto& c : junk) {
        x = x * 1664525u + 1013904223u;
        c = static_cast<char>(x >> 24);
    }
    t::write_file(box / "random.mp4", junk);
    expect_refused(box / "random.mp4", "not a readable media file");
}

BOOST_AUTO_TEST_CASE(truncated_files) {
    t::Sandbox box;
    // Index at the end (the usual camera layout): the index is gone.
    std::string whole = t::read_file(good_clip());
    t::write_file(box / "cut.mp4", whole.substr(0, whole.size() * 6 / 10));
    expect_refused(box / "cut.mp4", "moov atom not found");
    // Index at the front (faststart): the index promises frames the file no longer holds.
    t::ffmpeg("-i '" + good_clip().string() + "' -c copy -movflags +faststart '" +
              (box / "fs.mp4").string() + "'");
    std::string fs = t::read_file(box / "fs.mp4");
    t::write_file(box / "cut_fs.mp4", fs.substr(0, fs.size() * 6 / 10));
    // limits.truncated: fail refuses it (the default processes the frames present: see
    // integration.damage).
    t::write_file(box / "strict.yaml", "limits: {truncated: fail}\n");
    expect_refused(box / "cut_fs.mp4", "truncated", {"--config", (box / "strict.yaml").string()});
}

BOOST_AUTO_TEST_CASE(audio_only_file) {
    auto in = t::fixture("bad_audio_only.m4a.mp4", "-f lavfi -i sine=duration=3 -c:a aac");
    expect_refused(in, "audio-only file");
}

BOOST_AUTO_TEST_CASE(still_image) {
    t::Sandbox box;
    t::ffmpeg("-f lavfi -i testsrc2=size=320x240 -frames:v 1 '" + (box / "photo.png").string() +
              "'");
    expect_refused(box / "photo.png", "still image");
    t::ffmpeg("-f lavfi -i testsrc2=size=320x240 -frames:v 1 '" + (box / "photo.jpg").string() +
              "'");
    expect_refused(box / "photo.jpg", "still image");
}

BOOST_AUTO_TEST_CASE(absurd_dimensions) {
    t::Sandbox box;
    // A real 8640x8640 picture stream, well beyond the default 8192x4320 budget.
    t::ffmpeg("-f lavfi -i color=c=gray:size=8640x8640:rate=2:duration=1 -c:v ffv1 '" +
              (box / "huge.mkv").string() + "'");
    expect_refused(box / "huge.mkv", "exceed limits.max_pixels");
}

BOOST_AUTO_TEST_CASE(corrupt_packets_in_the_middle) {
    t::Sandbox box;
    // Intra-only MJPEG in AVI: garbage in a few frames loses just those frames.
    auto clean =
        t::fixture("bad_mjpeg_10s.avi",
                   "-f lavfi -i testsrc2=size=320x240:rate=25:duration=10 -c:v mjpeg -q:v 5");
    // Wipe the headers of five JPEG pictures (two runs): no picture comes out for them.
    std::string data = t::read_file(clean);
    std::vector<size_t> pictures;
    for (size_t at = data.find("\xFF\xD8\xFF"); at != std::string::npos;
         at = data.find("\xFF\xD8\xFF", at + 3)) {
        pictures.push_back(at);
    }
    BOOST_REQUIRE(pictures.size() == 250u);
    for (size_t k : {100, 101, 102, 150, 151}) {
        for (size_t i = 0; i < 600; ++i) data[pictures[k] + i] = static_cast<char>((i * 7) & 0x7F);
    }
    t::write_file(box / "damaged.avi", data);

    // Within the default budget the job succeeds, conceals, counts and keeps every frame.
    t::Sandbox out;
    auto ok = t::process(box / "damaged.avi", out / "out.mp4", {"--chunk-seconds", "2"});
    BOOST_REQUIRE_MESSAGE(ok.cmd.exit_code == 0, ok.cmd.err);
    auto sc = ok.sidecar();
    BOOST_TEST(sc["frames"]["lost"].get<int>() == 5);
    BOOST_TEST(sc["frames"]["lost_ranges"].size() == 2u);
    BOOST_TEST(sc["decode_errors"]["count"].get<int>() == 5);
    BOOST_TEST(t::count_frames(out / "out.mp4") == 250);

    // With no budget the same file is refused, naming the count.
    t::write_file(box / "strict.yaml", "limits: {decode_error_ratio: 0}\n");
    expect_refused(box / "damaged.avi", "could not be decoded",
                   {"--config", (box / "strict.yaml").string()});
}

BOOST_AUTO_TEST_CASE(missing_input_and_bad_output_directory) {
    t::Sandbox box;
    auto r = t::process(box / "nope.mp4", box / "out.mp4");
    BOOST_TEST(r.cmd.exit_code == 1);
    BOOST_TEST(r.cmd.err.find("nope.mp4: no such file") != std::string::npos);
    auto d = t::process(good_clip(), box / "missing-dir" / "out.mp4");
    BOOST_TEST(d.cmd.exit_code == 2);
    BOOST_TEST(d.cmd.err.find("output directory") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(usage_errors_exit_2_and_name_the_problem) {
    t::Sandbox box;
    struct Case {
        std::vector<std::string> args;
        std::string message;
    };
    const std::vector<Case> cases = {
        {{"--stages", "sharpen"}, "unknown stage 'sharpen'"},
        {{"--stages", "blur:strength=3"}, "stage 'blur': unknown parameter 'strength'"},
        {{"--stages", "brightness:amount=2"}, "parameter 'amount' value 2 is out of range"},
        {{"--stages", "contrast:amount=lots"}, "parameter 'amount' must be a number"},
        {{"--profile", "nosuch"}, "unknown profile 'nosuch'"},
        {{"--profile", "default", "--stages", "grayscale"}, "excludes"},
        {{"--workers", "0"}, "--workers"},
    };
    for (const auto& c : cases) {
        auto r = t::process(good_clip(), box / "out.mp4", c.args);
        BOOST_TEST(r.cmd.exit_code == 2, c.args[0] << " " << c.args[1]);
        BOOST_TEST(r.cmd.err.find(c.message) != std::string::npos, "stderr was: " << r.cmd.err);
        BOOST_TEST(box.list().empty());
    }
    t::write_file(box / "broken.yaml", "profiles:\n  x:\n    video: {codec: h263}\n");
    auto r = t::process(good_clip(), box / "out.mp4", {"--config", (box / "broken.yaml").string()});
    BOOST_TEST(r.cmd.exit_code == 2);
    BOOST_TEST(r.cmd.err.find("broken.yaml:3:") != std::string::npos);
}
