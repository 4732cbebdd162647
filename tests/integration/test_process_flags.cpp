#define BOOST_TEST_MODULE integration_process_flags
// `renderrushd process` as ffmpeg and HandBrakeCLI users drive it: encoding flags that change
// what ffprobe sees, outputs refused before any work, and plans and lists for scripts.
#include <boost/test/unit_test.hpp>
#include <chrono>
extern "C" {
#include <libavcodec/avcodec.h>
}
#include <fstream>
#include <set>

#include "support/cli.h"
#include "support/media.h"
#include "support/sandbox.h"

namespace t = rr::test;
using namespace std::chrono_literals;

namespace {

std::filesystem::path clip() {
    return t::fixture("flags_clip_2s.mp4",
                      "-f lavfi -i testsrc2=size=320x240:rate=25:duration=2 -f lavfi -i "
                      "sine=frequency=440:duration=2 "
                      "-c:v libx264 -preset veryfast -g 25 -c:a aac -b:a 96k -shortest");
}

// A longer clip, to show that refusals come before the input is read.
std::filesystem::path long_clip() {
    return t::fixture("flags_clip_60s.mp4",
                      "-f lavfi -i testsrc2=size=640x360:rate=25:duration=60 -f lavfi -i "
                      "sine=duration=60 -c:v libx264 -preset ultrafast -g 50 -c:a aac -shortest");
}

void require_ok(const t::ProcessRun& r) {
    BOOST_REQUIRE_MESSAGE(r.cmd.exit_code == 0, "exit " << r.cmd.exit_code << ": " << r.cmd.err);
}

// The encoder renderrushd uses for `--codec av1 --hwaccel none`.
boost::test_tools::assertion_result have_svtav1(boost::unit_test::test_unit_id) {
    boost::test_tools::assertion_result r(avcodec_find_encoder_by_name("libsvtav1") != nullptr);
    r.message() << "skipped: this FFmpeg has no libsvtav1, the AV1 encoder renderrushd uses";
    return r;
}

std::string head_bytes(const std::filesystem::path& file, size_t n) {
    std::ifstream in(file, std::ios::binary);
    std::string s(n, '\0');
    in.read(s.data(), static_cast<std::streamsize>(n));
    s.resize(static_cast<size_t>(in.gcount()));
    return s;
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

const std::vector<std::string> kFast = {"--preset", "ultrafast", "--hwaccel", "none"};

std::vector<std::string> with_fast(std::vector<std::string> args) {
    args.insert(args.end(), kFast.begin(), kFast.end());
    return args;
}

}  // namespace

BOOST_AUTO_TEST_CASE(codec_flag_picks_the_video_codec) {
    t::Sandbox box;
    auto r = t::process(clip(), box / "out.mp4", with_fast({"--codec", "hevc"}));
    require_ok(r);
    BOOST_TEST(t::video_stream(box / "out.mp4")["codec_name"].get<std::string>() == "hevc");
    BOOST_TEST(t::count_frames(box / "out.mp4") == 50);
}

BOOST_AUTO_TEST_CASE(crf_and_preset_reach_the_encoder_settings) {
    t::Sandbox box;
    // x264 writes its settings into the stream (an SEI): the flags must show up there.
    require_ok(t::process(clip(), box / "q30.mp4", {"--crf", "30", "--preset", "ultrafast"}));
    require_ok(t::process(clip(), box / "q18.mp4", {"--crf", "18", "--preset", "slow"}));
    const std::string q30 = t::read_file(box / "q30.mp4");
    const std::string q18 = t::read_file(box / "q18.mp4");
    BOOST_TEST(contains(q30, "crf=30.0"));
    BOOST_TEST(contains(q18, "crf=18.0"));
    BOOST_TEST(contains(q30, "subme=0"));  // ultrafast
    BOOST_TEST(contains(q18, "subme=8"));  // slow
}

BOOST_AUTO_TEST_CASE(pix_fmt_flag_sets_the_output_pixel_format) {
    t::Sandbox box;
    require_ok(t::process(clip(), box / "out.mkv",
                          with_fast({"--codec", "hevc", "--pix-fmt", "yuv444p"})));
    BOOST_TEST(t::video_stream(box / "out.mkv")["pix_fmt"].get<std::string>() == "yuv444p");
}

BOOST_AUTO_TEST_CASE(audio_codec_and_bitrate_flags) {
    t::Sandbox box;
    require_ok(t::process(clip(), box / "opus.mkv", with_fast({"--audio-codec", "opus"})));
    BOOST_TEST(t::audio_stream(box / "opus.mkv")["codec_name"].get<std::string>() == "opus");
    require_ok(t::process(clip(), box / "low.mp4",
                          with_fast({"--audio-codec", "aac", "--audio-bitrate", "48k"})));
    require_ok(t::process(clip(), box / "high.mp4",
                          with_fast({"--audio-codec", "aac", "--audio-bitrate", "256k"})));
    const auto low = std::stol(t::audio_stream(box / "low.mp4")["bit_rate"].get<std::string>());
    const auto high = std::stol(t::audio_stream(box / "high.mp4")["bit_rate"].get<std::string>());
    BOOST_TEST_MESSAGE("aac at 48k: " << low << " b/s, at 256k: " << high << " b/s");
    BOOST_TEST(low < 64000);
    BOOST_TEST(high > low);
    auto bad = t::process(clip(), box / "x.mp4", {"--audio-bitrate", "loud"});
    BOOST_TEST(bad.cmd.exit_code == 2);
}

BOOST_AUTO_TEST_CASE(hwaccel_flag_decides_which_encoders_are_tried) {
    t::Sandbox box;
    auto none = t::process(clip(), box / "a.mp4", {"--dry-run", "--json", "--hwaccel", "none"});
    auto any = t::process(clip(), box / "a.mp4", {"--dry-run", "--json", "--hwaccel", "auto"});
    require_ok(none);
    require_ok(any);
    const auto n = nlohmann::json::parse(none.cmd.out)["video"];
    const auto a = nlohmann::json::parse(any.cmd.out)["video"];
    BOOST_TEST(n["requested_hwaccel"].get<std::string>() == "none");
    BOOST_TEST(n["attempts"].size() == 1u);
    BOOST_TEST(n["encoder"].get<std::string>() == "libx264");
    // auto tries QSV, VAAPI and NVENC first; on a machine without them it ends in software.
    BOOST_TEST(a["requested_hwaccel"].get<std::string>() == "auto");
    BOOST_TEST((a["hwaccel"].get<std::string>() != "none" || a["attempts"].size() > 1u));
    auto bad = t::process(clip(), box / "a.mp4", {"--hwaccel", "cuda"});
    BOOST_TEST(bad.cmd.exit_code == 2);
}

BOOST_AUTO_TEST_CASE(existing_output_is_refused_unless_overwrite) {
    t::Sandbox box;
    t::write_file(box / "out.mp4", "precious");
    const auto t0 = std::chrono::steady_clock::now();
    auto r = t::process(long_clip(), box / "out.mp4");
    const auto took = std::chrono::steady_clock::now() - t0;
    BOOST_TEST(r.cmd.exit_code == 2);
    BOOST_TEST(contains(r.cmd.err, (box / "out.mp4").string()));
    BOOST_TEST(contains(r.cmd.err, "--overwrite"));
    BOOST_TEST(t::read_file(box / "out.mp4") == "precious");
    BOOST_TEST(took < 5s);
    BOOST_TEST(t::only_contains(box.path(), {"out.mp4"}));

    require_ok(t::process(clip(), box / "out.mp4", with_fast({"-y"})));
    BOOST_TEST(t::count_frames(box / "out.mp4") == 50);
    require_ok(t::process(clip(), box / "out.mp4", with_fast({"--overwrite"})));
    BOOST_TEST(t::count_frames(box / "out.mp4") == 50);
}

BOOST_AUTO_TEST_CASE(webm_output_is_webm_with_vp9_or_av1_and_opus) {
    t::Sandbox box;
    require_ok(t::process(clip(), box / "out.webm", with_fast({"--codec", "vp9"})));
    const auto fmt = t::ffprobe(box / "out.webm", "-show_format")["format"];
    BOOST_TEST(contains(fmt["format_name"].get<std::string>(), "webm"));
    // Matroska and WebM share a demuxer; the EBML DocType says which one was written.
    const std::string head = head_bytes(box / "out.webm", 64);
    BOOST_TEST(contains(head, "webm"));
    BOOST_TEST(!contains(head, "matroska"));
    BOOST_TEST(t::video_stream(box / "out.webm")["codec_name"].get<std::string>() == "vp9");
    BOOST_TEST(t::audio_stream(box / "out.webm")["codec_name"].get<std::string>() == "opus");
    BOOST_TEST(t::count_frames(box / "out.webm") == 50);

    // H.264 does not go into WebM: refused before any work, naming what would.
    auto h264 = t::process(clip(), box / "h264.webm", kFast);
    BOOST_TEST(h264.cmd.exit_code == 2);
    BOOST_TEST(contains(h264.cmd.err, "VP9"));
    BOOST_TEST(contains(h264.cmd.err, "AV1"));
    auto aac =
        t::process(clip(), box / "aac.webm", with_fast({"--codec", "vp9", "--audio-codec", "aac"}));
    BOOST_TEST(aac.cmd.exit_code == 2);
    BOOST_TEST(contains(aac.cmd.err, "Opus"));
    BOOST_TEST(t::only_contains(box.path(), {"out.renderrush.json", "out.webm"}));
}

BOOST_AUTO_TEST_CASE(outputs_we_cannot_write_are_refused_before_any_work) {
    t::Sandbox box;
    std::filesystem::create_directories(box / "somedir");
    for (const std::string& out :
         {(box / "out.avi").string(), (box / "out").string(), (box / "somedir").string(),
          (box / "somedir").string() + "/", std::string("-")}) {
        const auto t0 = std::chrono::steady_clock::now();
        auto r = t::process(long_clip(), out);
        const auto took = std::chrono::steady_clock::now() - t0;
        BOOST_TEST_CONTEXT("-o " << out) {
            BOOST_TEST(r.cmd.exit_code == 2);
            BOOST_TEST(contains(r.cmd.err, ".mp4"));  // names what is accepted
            BOOST_TEST(took < 5s);
        }
    }
    BOOST_TEST(!std::filesystem::exists("-"));
    BOOST_TEST(t::only_contains(box.path(), {"somedir"}));
    BOOST_TEST(std::filesystem::is_empty(box / "somedir"));
}

BOOST_AUTO_TEST_CASE(dry_run_prints_the_plan_and_writes_nothing) {
    t::Sandbox box;
    auto r = t::process(clip(), box / "out.mkv",
                        {"--dry-run", "--stages", "grayscale", "--chunk-seconds", "1", "--workers",
                         "2", "--codec", "hevc", "--crf", "26"});
    require_ok(r);
    BOOST_TEST(contains(r.cmd.out, "libx265"));
    BOOST_TEST(contains(r.cmd.out, "crf 26"));
    BOOST_TEST(contains(r.cmd.out, "chunks:"));
    BOOST_TEST(box.list().empty());
    // One worker: the plan keeps 1 s chunks (more workers would even them out to 2 s).
    auto j = t::process(clip(), box / "out.mp4",
                        {"--dry-run", "--json", "--chunk-seconds", "1", "--workers", "1"});
    require_ok(j);
    const auto plan = nlohmann::json::parse(j.cmd.out);
    int64_t frames = 0;
    for (const auto& c : plan["chunks"]) frames += c["frames"].get<int64_t>();
    BOOST_TEST(frames == 50);
    BOOST_TEST(plan["chunks"].size() >= 2u);
    BOOST_TEST(plan["container"].get<std::string>() == "mp4");
    BOOST_TEST(box.list().empty());
    // An existing output is no obstacle to a plan, and stays as it was.
    t::write_file(box / "out.mp4", "kept");
    require_ok(t::process(clip(), box / "out.mp4", {"--dry-run"}));
    BOOST_TEST(t::read_file(box / "out.mp4") == "kept");
}

BOOST_AUTO_TEST_CASE(list_stages_names_every_stage_with_its_parameters) {
    auto r = t::run({t::renderrushd().string(), "process", "--list-stages", "--json"});
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    const auto stages = nlohmann::json::parse(r.out);
    std::set<std::string> names;
    for (const auto& s : stages) names.insert(s["name"].get<std::string>());
    const std::set<std::string> expected = {
        "audio",     "blur", "brightness", "color",  "contrast",  "denoise", "detect",
        "grayscale", "hdr",  "scale",      "scenes", "stabilize", "upscale"};
    BOOST_TEST(names == expected, boost::test_tools::per_element());
    for (const auto& s : stages) {
        if (s["name"] != "blur") continue;
        BOOST_REQUIRE(!s["params"].empty());
        const auto& radius = s["params"][0];
        BOOST_TEST(radius["name"].get<std::string>() == "radius");
        BOOST_TEST(radius.contains("min"));
        BOOST_TEST(radius.contains("max"));
        BOOST_TEST(radius.contains("default"));
    }
    auto human = t::run({t::renderrushd().string(), "process", "--list-stages"});
    BOOST_REQUIRE(human.exit_code == 0);
    size_t lines = 0;
    for (char c : human.out) lines += c == '\n';
    BOOST_TEST(lines == expected.size());
    BOOST_TEST(contains(human.out, "blur: radius="));
}

BOOST_AUTO_TEST_CASE(list_profiles_shows_each_profile_with_its_settings) {
    t::Sandbox box;
    t::write_file(
        box / "c.yaml",
        "profiles:\n  web:\n    stages: [{blur: {radius: 3}}]\n"
        "    video: {codec: hevc, crf: 24, preset: fast}\n  gray:\n    stages: [grayscale]\n");
    auto r = t::run({t::renderrushd().string(), "process", "--list-profiles", "--config",
                     (box / "c.yaml").string()});
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    BOOST_TEST(contains(r.out, "web: stages=blur:radius=3 codec=hevc crf=24 preset=fast"));
    BOOST_TEST(contains(r.out, "gray: stages=grayscale codec=h264"));
    auto j = t::run({t::renderrushd().string(), "process", "--list-profiles", "--json", "--config",
                     (box / "c.yaml").string()});
    BOOST_REQUIRE(j.exit_code == 0);
    const auto profiles = nlohmann::json::parse(j.out);
    BOOST_TEST(profiles.size() == 2u);
}

BOOST_AUTO_TEST_CASE(stage_errors_name_the_stage_not_an_empty_profile) {
    t::Sandbox box;
    auto r = t::process(clip(), box / "out.mp4", {"--stages", "blur:radius=0"});
    BOOST_TEST(r.cmd.exit_code == 2);
    BOOST_TEST(contains(r.cmd.err, "renderrushd: stage 'blur'"));
    BOOST_TEST(!contains(r.cmd.err, "profile ''"));
    BOOST_TEST(box.list().empty());
}

// SVT-AV1 1.4 never returned from closing an encoder that got no frame: the encoder probe of
// every job did that, so `--codec av1` hung before encoding anything.
BOOST_AUTO_TEST_CASE(av1_codec_flag_finishes_with_an_av1_output,
                     *boost::unit_test::precondition(have_svtav1)) {
    t::Sandbox box;
    const auto tiny =
        t::fixture("flags_clip_1s_128x96.mp4",
                   "-f lavfi -i testsrc2=size=128x96:rate=25:duration=1 -f lavfi -i "
                   "sine=duration=1 -c:v libx264 -preset veryfast -g 25 -c:a aac -shortest");
    auto av1 = [&](const std::filesystem::path& out, std::vector<std::string> extra) {
        std::vector<std::string> argv = {t::renderrushd().string(),
                                         "process",
                                         tiny.string(),
                                         "-o",
                                         out.string(),
                                         "--codec",
                                         "av1",
                                         "--preset",
                                         "ultrafast",
                                         "--hwaccel",
                                         "none",
                                         "--config",
                                         (t::source_dir() / "config/renderrush.yaml").string()};
        argv.insert(argv.end(), extra.begin(), extra.end());
        return t::run(argv, 60s);
    };
    const auto t0 = std::chrono::steady_clock::now();
    auto mkv = av1(box / "out.mkv", {});
    BOOST_TEST_MESSAGE(
        "--codec av1 on 1 s at 128x96: "
        << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s");
    BOOST_REQUIRE_MESSAGE(!mkv.timed_out, "renderrushd process --codec av1 hung");
    BOOST_REQUIRE_MESSAGE(mkv.exit_code == 0, "exit " << mkv.exit_code << ": " << mkv.err);
    BOOST_TEST(t::video_stream(box / "out.mkv")["codec_name"].get<std::string>() == "av1");
    BOOST_TEST(t::count_frames(box / "out.mkv") == 25);

    // WebM holds AV1 with Opus; the plan alone (probe, no encode) returns too.
    auto webm = av1(box / "out.webm", {"--audio-codec", "opus"});
    BOOST_REQUIRE_MESSAGE(!webm.timed_out && webm.exit_code == 0, webm.err);
    BOOST_TEST(t::video_stream(box / "out.webm")["codec_name"].get<std::string>() == "av1");
    BOOST_TEST(t::audio_stream(box / "out.webm")["codec_name"].get<std::string>() == "opus");
    auto plan = av1(box / "plan.mp4", {"--dry-run", "--json"});
    BOOST_REQUIRE_MESSAGE(!plan.timed_out && plan.exit_code == 0, plan.err);
    BOOST_TEST(nlohmann::json::parse(plan.out)["video"]["encoder"].get<std::string>() ==
               "libsvtav1");
    BOOST_TEST(!std::filesystem::exists(box / "plan.mp4"));
}
