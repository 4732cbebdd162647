#define BOOST_TEST_MODULE integration_process
#include <boost/test/unit_test.hpp>
#include <cmath>

#include "support/cli.h"
#include "support/media.h"
#include "support/sandbox.h"

namespace t = rr::test;
using boost::test_tools::tolerance;

namespace {

std::filesystem::path basic_clip() {
    return t::fixture("it_basic_12s.mp4",
                      "-f lavfi -i testsrc2=size=320x240:rate=30:duration=12 -f lavfi -i "
                      "sine=frequency=440:duration=12 "
                      "-c:v libx264 -preset veryfast -g 30 -bf 3 -c:a aac -b:a 96k -shortest");
}

void require_ok(const t::ProcessRun& r) {
    BOOST_REQUIRE_MESSAGE(r.cmd.exit_code == 0, "exit " << r.cmd.exit_code << ": " << r.cmd.err);
}

// Same number of frames at the same times (within half a millisecond).
void check_same_timeline(const std::vector<double>& a, const std::vector<double>& b) {
    BOOST_REQUIRE_EQUAL(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
        if (std::abs(a[i] - b[i]) > 0.0005) {
            BOOST_ERROR("frame " << i << " at " << b[i] << " s, expected " << a[i] << " s");
            return;
        }
    }
}

}  // namespace

BOOST_AUTO_TEST_CASE(chunked_run_is_frame_exact_with_audio_in_sync) {
    t::Sandbox box;
    auto in = basic_clip();
    auto r = t::process(
        in, box / "out.mp4",
        {"--stages", "grayscale,blur:radius=2", "--chunk-seconds", "2", "--workers", "2"});
    require_ok(r);
    check_same_timeline(t::frame_times(in), t::frame_times(box / "out.mp4"));
    auto v = t::video_stream(box / "out.mp4"), a = t::audio_stream(box / "out.mp4");
    BOOST_REQUIRE(!a.is_null());
    BOOST_TEST(std::abs(t::stream_duration(v) - t::stream_duration(a)) <= 1.0 / 30);
    auto sc = r.sidecar();
    BOOST_TEST(sc["chunks"].size() >= 5u);
    int64_t frames = 0;
    for (const auto& c : sc["chunks"]) frames += c["frames"].get<int64_t>();
    BOOST_TEST(frames == 360);
    BOOST_TEST(sc["frames"]["output"].get<int64_t>() == 360);
    // Grayscale: chroma is neutral in every output frame (allowing encoder rounding).
    auto stats = t::signal_stats(box / "out.mp4");
    BOOST_REQUIRE_EQUAL(stats.size(), 360u);
    for (const auto& f : stats) {
        BOOST_TEST(f.at("UMIN") >= 126);
        BOOST_TEST(f.at("UMAX") <= 130);
    }
    BOOST_TEST(t::only_contains(box.path(), {"out.mp4", "out.renderrush.json"}));
}

BOOST_AUTO_TEST_CASE(chunked_and_unchunked_runs_agree) {
    t::Sandbox box;
    auto in = basic_clip();
    require_ok(t::process(
        in, box / "one.mp4",
        {"--stages", "contrast:amount=1.3", "--chunk-seconds", "1000", "--workers", "1"}));
    require_ok(
        t::process(in, box / "many.mp4",
                   {"--stages", "contrast:amount=1.3", "--chunk-seconds", "1", "--workers", "2"}));
    check_same_timeline(t::frame_times(box / "one.mp4"), t::frame_times(box / "many.mp4"));
    // Same pictures: only the encoder's decisions near the seams differ.
    const double p = t::psnr(box / "one.mp4", box / "many.mp4");
    BOOST_TEST_MESSAGE("PSNR-Y chunked vs unchunked: " << p << " dB");
    BOOST_TEST(p > 38.0);
}

BOOST_AUTO_TEST_CASE(sparse_keyframes_are_cut_between_keyframes_exactly) {
    t::Sandbox box;
    auto in = t::fixture(
        "it_one_gop.mp4",
        "-f lavfi -i testsrc2=size=256x144:rate=25:duration=8 -c:v libx264 -preset veryfast "
        "-g 1000 -keyint_min 1000 -x264-params scenecut=0 -bf 2");
    auto r = t::process(in, box / "out.mp4", {"--chunk-seconds", "2", "--workers", "2"});
    require_ok(r);
    auto sc = r.sidecar();
    BOOST_TEST(sc["chunks"].size() == 4u);
    BOOST_TEST(sc["chunks"][1]["starts_on_keyframe"].get<bool>() == false);
    check_same_timeline(t::frame_times(in), t::frame_times(box / "out.mp4"));
}

BOOST_AUTO_TEST_CASE(variable_frame_rate_timestamps_survive) {
    t::Sandbox box;
    // 25 fps for 6 s with 3 of every 10 frames missing (gaps of 0.16 s), then a steady tail.
    auto in = t::fixture("it_vfr.mp4",
                         "-f lavfi -i testsrc2=size=320x180:rate=25:duration=9 "
                         "-vf \"select='lt(mod(n,10),7)+gt(n,150)'\" -fps_mode passthrough "
                         "-c:v libx264 -preset veryfast -g 20");
    auto r = t::process(in, box / "out.mp4", {"--chunk-seconds", "2", "--workers", "2"});
    require_ok(r);
    BOOST_TEST(r.sidecar()["chunks"].size() >= 3u);
    auto want = t::frame_times(in);
    BOOST_REQUIRE_EQUAL(want.size(), 180u);
    check_same_timeline(want, t::frame_times(box / "out.mp4"));

    // Matroska keeps milliseconds: the same timeline at that precision.
    require_ok(t::process(in, box / "out.mkv", {"--chunk-seconds", "2", "--workers", "2"}));
    auto got = t::frame_times(box / "out.mkv");
    BOOST_REQUIRE_EQUAL(want.size(), got.size());
    for (size_t i = 0; i < want.size(); ++i) {
        BOOST_TEST(std::abs((got[i] - got[0]) - (want[i] - want[0])) < 0.0011);
    }
}

BOOST_AUTO_TEST_CASE(odd_sizes_are_cropped_to_even_and_keep_every_frame) {
    t::Sandbox box;
    auto in = t::fixture("it_odd_319x241.mkv",
                         "-f lavfi -i testsrc2=size=320x240:rate=24:duration=5 -vf "
                         "scale=319:241,format=yuv420p -c:v ffv1");
    auto r = t::process(in, box / "out.mp4",
                        {"--chunk-seconds", "1", "--workers", "2", "--stages", "blur:radius=1"});
    require_ok(r);
    auto v = t::video_stream(box / "out.mp4");
    BOOST_TEST(v["width"].get<int>() == 318);
    BOOST_TEST(v["height"].get<int>() == 240);
    BOOST_TEST(t::count_frames(box / "out.mp4") == 120);
    BOOST_TEST(r.sidecar()["frames"]["cropped_to_even"].get<bool>());
}

BOOST_AUTO_TEST_CASE(colour_tags_subtitles_chapters_and_metadata_are_kept) {
    t::Sandbox box;
    t::write_file(
        box / "subs.srt",
        "1\n00:00:01,000 --> 00:00:02,500\nHello\n\n2\n00:00:04,000 --> 00:00:05,000\nWorld\n");
    t::write_file(box / "meta.txt",
                  ";FFMETADATA1\ntitle=Test "
                  "Title\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=3000\ntitle=Intro\n"
                  "[CHAPTER]\nTIMEBASE=1/1000\nSTART=3000\nEND=6000\ntitle=Main\n");
    t::ffmpeg(
        "-f lavfi -i testsrc2=size=320x240:rate=25:duration=6 -f lavfi -i sine=duration=6 -i '" +
        (box / "subs.srt").string() + "' -i '" + (box / "meta.txt").string() +
        "' -map 0 -map 1 -map 2 -map_metadata 3 -map_chapters 3 "
        "-c:v libx264 -preset veryfast -g 25 -color_primaries bt709 -color_trc bt709 -colorspace "
        "bt709 -c:a aac -c:s srt "
        "'" +
        (box / "in.mkv").string() + "'");
    auto r = t::process(box / "in.mkv", box / "out.mkv", {"--chunk-seconds", "2"});
    require_ok(r);
    auto j = t::ffprobe(box / "out.mkv", "-show_streams -show_chapters -show_format");
    BOOST_TEST(j["chapters"].size() == 2u);
    BOOST_TEST(j["chapters"][1]["tags"]["title"].get<std::string>() == "Main");
    BOOST_TEST(j["format"]["tags"]["title"].get<std::string>() == "Test Title");
    bool has_subs = false;
    for (const auto& s : j["streams"]) has_subs = has_subs || s["codec_type"] == "subtitle";
    BOOST_TEST(has_subs);
    auto v = t::video_stream(box / "out.mkv");
    BOOST_TEST(v["color_primaries"].get<std::string>() == "bt709");
    BOOST_TEST(v["color_transfer"].get<std::string>() == "bt709");
    BOOST_TEST(v["color_space"].get<std::string>() == "bt709");

    // MP4 cannot hold SubRip: the sidecar says the subtitle was dropped and why.
    auto mp4 = t::process(box / "in.mkv", box / "out.mp4", {});
    require_ok(mp4);
    auto subs = mp4.sidecar()["subtitles"];
    BOOST_REQUIRE_EQUAL(subs.size(), 1u);
    BOOST_TEST(subs[0]["kept"].get<bool>() == false);
    BOOST_TEST(subs[0]["reason"].get<std::string>().find("subrip") != std::string::npos);
    BOOST_TEST(t::ffprobe(box / "out.mp4", "-show_chapters")["chapters"].size() == 2u);
}

BOOST_AUTO_TEST_CASE(audio_that_cannot_be_copied_is_encoded) {
    t::Sandbox box;
    auto in = t::fixture(
        "it_pcm.mkv",
        "-f lavfi -i testsrc2=size=160x120:rate=25:duration=4 -f lavfi -i sine=duration=4 "
        "-c:v libx264 -preset veryfast -c:a pcm_s16le");
    auto r = t::process(in, box / "out.mp4", {});
    require_ok(r);
    auto a = t::audio_stream(box / "out.mp4");
    BOOST_TEST(a["codec_name"].get<std::string>() == "aac");
    BOOST_TEST(r.sidecar()["audio"][0]["mode"].get<std::string>() == "encode");
    BOOST_TEST(std::abs(t::stream_duration(a) - 4.0) < 0.05);

    t::write_file(box / "c.yaml",
                  "profiles:\n  o:\n    audio: {codec: opus, bitrate: 64k}\n    container: mkv\n");
    auto o =
        t::process(in, box / "opus.mkv", {"--config", (box / "c.yaml").string(), "--profile", "o"});
    require_ok(o);
    BOOST_TEST(t::audio_stream(box / "opus.mkv")["codec_name"].get<std::string>() == "opus");
}

BOOST_AUTO_TEST_CASE(hardware_encoders_fall_back_visibly) {
    t::Sandbox box;
    t::write_file(box / "c.yaml",
                  "profiles:\n  nv:\n    video: {codec: h264, hwaccel: nvenc}\n  auto:\n    video: "
                  "{hwaccel: auto}\n");
    auto in = basic_clip();
    auto r =
        t::process(in, box / "nv.mp4", {"--config", (box / "c.yaml").string(), "--profile", "nv"});
    require_ok(r);
    auto video = r.sidecar()["video"];
    BOOST_TEST_MESSAGE(video.dump());
    // This machine has no NVIDIA GPU (detected at run time); where it has one, NVENC is used.
    const std::string used = video["encoder"];
    BOOST_TEST((used == "libx264" || used == "h264_nvenc"));
    if (used == "libx264") {
        BOOST_REQUIRE_EQUAL(video["attempts"].size(), 2u);
        BOOST_TEST(video["attempts"][0]["encoder"].get<std::string>() == "h264_nvenc");
        BOOST_TEST(video["attempts"][0]["ok"].get<bool>() == false);
        BOOST_TEST(!video["attempts"][0]["error"].get<std::string>().empty());
    }
    auto a = t::process(in, box / "auto.mp4",
                        {"--config", (box / "c.yaml").string(), "--profile", "auto"});
    require_ok(a);
    auto tried = a.sidecar()["video"]["attempts"];
    std::vector<std::string> order;
    for (const auto& x : tried) order.push_back(x["hwaccel"]);
    BOOST_TEST(order.back() == a.sidecar()["video"]["hwaccel"].get<std::string>());
    BOOST_TEST(order.front() == (order.size() == 1 ? order.back() : std::string("qsv")));
}

BOOST_AUTO_TEST_CASE(json_flag_prints_the_sidecar) {
    t::Sandbox box;
    auto r = t::process(basic_clip(), box / "out.mp4", {"--json", "--workers", "1"});
    require_ok(r);
    auto j = nlohmann::json::parse(r.cmd.out);
    BOOST_TEST(j["input"]["checksum"].get<std::string>().size() == 32u);
    BOOST_TEST(j["output"]["streams"][0]["codec"].get<std::string>() == "h264");
    for (const char* key : {"input", "output", "stages", "chunks", "timings"})
        BOOST_TEST(j.contains(key));
    BOOST_TEST(j == r.sidecar());
}

BOOST_AUTO_TEST_CASE(profiles_come_from_the_yaml_config) {
    t::Sandbox box;
    t::write_file(box / "c.yaml",
                  "profiles:\n  small:\n    stages:\n      - scale: {width: 160, height: -1}\n     "
                  " - grayscale\n"
                  "    video: {codec: hevc, crf: 30, preset: ultrafast, hwaccel: none}\n    "
                  "container: mkv\n");
    auto r = t::process(basic_clip(), box / "small.mkv",
                        {"--config", (box / "c.yaml").string(), "--profile", "small"});
    require_ok(r);
    auto v = t::video_stream(box / "small.mkv");
    BOOST_TEST(v["codec_name"].get<std::string>() == "hevc");
    BOOST_TEST(v["width"].get<int>() == 160);
    BOOST_TEST(v["height"].get<int>() == 120);
    BOOST_TEST(r.sidecar()["profile"].get<std::string>() == "small");
}
