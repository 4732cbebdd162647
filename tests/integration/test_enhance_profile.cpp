#define BOOST_TEST_MODULE integration_enhance_profile
#include <boost/test/unit_test.hpp>
#include <cmath>

#include "support/cli.h"
#include "support/measure.h"
#include "support/media.h"
#include "support/sandbox.h"

namespace t = rr::test;

namespace {

// 6 s of PQ 10-bit HEVC with quiet pink-noise audio: every enhancement stage has work to do.
std::filesystem::path hdr_clip_with_audio() {
    return t::fixture(
        "en_all.mp4",
        "-f lavfi -i \"testsrc2=size=320x240:rate=25:duration=6,noise=alls=12:allf=t\" "
        "-f lavfi -i \"anoisesrc=color=pink:amplitude=1:sample_rate=48000:duration=6:seed=5,"
        "volume=-15dB\" -pix_fmt yuv420p10le -c:v libx265 -preset ultrafast -x265-params "
        "\"log-level=error:keyint=25:colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc:"
        "max-cll=1000,400\" -color_primaries bt2020 -color_trc smpte2084 -colorspace bt2020nc "
        "-c:a aac -b:a 128k -shortest");
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_stage_in_one_profile_stays_frame_exact_over_three_chunks) {
    t::Sandbox box;
    t::write_file(box / "c.yaml", R"(profiles:
  enhance-all:
    stages:
      - hdr: {mode: tonemap, operator: bt2390}
      - denoise: {method: temporal, strength: low}
      - color: {white_balance: auto, auto_levels: on, local_contrast: 1.5, saturation: 1.1, gamma: 1.05}
      - stabilize: {smoothing: 20, crop: zoom}
      - audio: {loudness: -16, true_peak: -1.5, denoise: low, highpass: 80, compress: on}
    video: {codec: h264, crf: 20, preset: veryfast, hwaccel: none}
    audio: {codec: aac, bitrate: 128k}
    container: mp4
)");
    const auto in = hdr_clip_with_audio();
    const auto out = box / "out.mp4";
    auto r = t::process(in, out,
                        {"--config", (box / "c.yaml").string(), "--profile", "enhance-all",
                         "--chunk-seconds", "2", "--workers", "2"});
    BOOST_REQUIRE_MESSAGE(r.cmd.exit_code == 0, "exit " << r.cmd.exit_code << ": " << r.cmd.err);
    auto sc = r.sidecar();
    BOOST_TEST(sc["chunks"].size() >= 3u);

    // Frame-exact: the same frames at the same times.
    const auto want = t::frame_times(in), got = t::frame_times(out);
    BOOST_REQUIRE_EQUAL(want.size(), 150u);
    BOOST_REQUIRE_EQUAL(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) BOOST_TEST(std::abs(want[i] - got[i]) < 0.0005);
    BOOST_TEST(sc["frames"]["output"].get<int64_t>() == 150);

    // Audio in sync and at the target loudness; picture SDR BT.709 8-bit.
    auto v = t::video_stream(out), a = t::audio_stream(out);
    BOOST_REQUIRE(!a.is_null());
    BOOST_TEST(std::abs(t::stream_duration(v) - t::stream_duration(a)) <= 1.0 / 25);
    BOOST_TEST(std::abs(t::cli_loudness(out).integrated + 16.0) <= 1.0);
    BOOST_TEST(v["color_transfer"].get<std::string>() == "bt709");
    BOOST_TEST(v["pix_fmt"].get<std::string>() == "yuv420p");

    // Every stage reported what it did.
    const std::vector<std::string> names = {"hdr", "denoise", "color", "stabilize", "audio"};
    BOOST_REQUIRE_EQUAL(sc["stages"].size(), names.size());
    for (size_t i = 0; i < names.size(); ++i) {
        BOOST_TEST(sc["stages"][i]["name"].get<std::string>() == names[i]);
        BOOST_TEST(!sc["stages"][i]["result"].empty(), names[i] << " has no result");
    }
    BOOST_TEST(sc["stages"][0]["result"]["applied"].get<bool>());
    BOOST_TEST(sc["stages"][3]["result"]["frames"].get<int>() == 150);
    BOOST_TEST(sc["stages"][4]["result"]["compress"]["ratio"].get<int>() == 3);
}
