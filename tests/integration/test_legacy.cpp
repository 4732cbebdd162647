#define BOOST_TEST_MODULE integration_legacy
#include <boost/test/unit_test.hpp>
#include <cmath>

#include "support/cli.h"
#include "support/media.h"
#include "support/process.h"
#include "support/sandbox.h"

namespace t = rr::test;

namespace {

constexpr const char* kSource = "-f lavfi -i testsrc2=size=320x240:rate=25:duration=4 ";

bool has_encoder(const std::string& name) {
    auto r = t::run({"ffmpeg", "-hide_banner", "-encoders"});
    return r.out.find(" " + name + " ") != std::string::npos;
}

// Processes `input` and checks that every frame the ffmpeg CLI decodes comes out, that the
// sidecar counts them as the input's frames, and returns the output's frame times.
std::vector<double> delivers_every_frame(const std::filesystem::path& input) {
    const int64_t reference = t::ffmpeg_cli_frames(input);
    BOOST_REQUIRE(reference > 0);
    t::Sandbox out;
    auto r = t::process(input, out / "out.mp4");
    BOOST_REQUIRE_MESSAGE(r.cmd.exit_code == 0, r.cmd.err);
    const auto frames = r.sidecar()["frames"];
    BOOST_TEST_MESSAGE(input.filename()
                       << ": ffmpeg " << reference << " frames; sidecar " << frames.dump());
    BOOST_TEST(frames["input"].get<int64_t>() == reference);
    BOOST_TEST(frames["output"].get<int64_t>() == reference);
    BOOST_TEST(frames["lost"].get<int64_t>() == 0);
    BOOST_TEST(t::count_frames(out / "out.mp4") == reference);
    auto times = t::frame_times(out / "out.mp4");
    for (size_t i = 1; i < times.size(); ++i) BOOST_TEST(times[i] > times[i - 1]);
    return times;
}

// Frame k at k/25 s, from the first.
void evenly_timed(const std::vector<double>& times, size_t from = 0) {
    for (size_t k = from; k < times.size(); ++k)
        BOOST_TEST(std::abs(times[k] - times[from] - static_cast<double>(k - from) / 25) < 0.002,
                   "frame " << k << " at " << times[k]);
}

}  // namespace

BOOST_AUTO_TEST_CASE(avi_mpeg4_with_b_frames_unpacked) {
    // FFmpeg's own MPEG-4 ASP encoder writes one frame per AVI chunk; only B-frames carry a
    // presentation time.
    auto in = t::fixture("legacy_mpeg4_bf2_xvid.avi",
                         std::string(kSource) + "-c:v mpeg4 -bf 2 -vtag XVID -q:v 4 -g 50");
    auto times = delivers_every_frame(in);
    BOOST_TEST(times.size() == 100u);
    evenly_timed(times);
}

BOOST_AUTO_TEST_CASE(avi_mpeg4_with_b_frames_packed_and_unpacked_by_bsf) {
    if (!has_encoder("libxvid")) {
        BOOST_TEST_MESSAGE("no libxvid encoder: packed bitstream not tested");
        return;
    }
    // Xvid packs each P-frame with the B-frame before it into one chunk, followed by a
    // placeholder (N-VOP): DivX/Xvid files as cameras and old tools wrote them.
    auto packed = t::fixture("legacy_xvid_packed.avi",
                             std::string(kSource) + "-c:v libxvid -bf 2 -q:v 4 -g 50");
    auto times = delivers_every_frame(packed);
    // The encoder's two frames of delay are empty chunks: the first picture shows three
    // frame times, then one picture per frame time.
    evenly_timed(times, 1);
    t::Sandbox box;
    t::ffmpeg("-i '" + packed.string() + "' -c copy -bsf:v mpeg4_unpack_bframes '" +
              (box / "unpacked.avi").string() + "'");
    auto unpacked = delivers_every_frame(box / "unpacked.avi");
    BOOST_TEST(unpacked == times, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(avi_h264_with_b_frames_has_no_presentation_times) {
    auto in = t::fixture("legacy_h264_bf2.avi",
                         std::string(kSource) + "-c:v libx264 -preset veryfast -bf 2 -g 50");
    auto times = delivers_every_frame(in);
    BOOST_TEST(times.size() == 100u);
    evenly_timed(times);
}
