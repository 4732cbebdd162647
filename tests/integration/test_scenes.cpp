#define BOOST_TEST_MODULE integration_scenes
#include <boost/test/unit_test.hpp>
#include <opencv2/imgcodecs.hpp>

#include "support/cli.h"
#include "support/measure.h"
#include "support/media.h"
#include "support/sandbox.h"

namespace t = rr::test;

namespace {

// Six 2-second shots at 25 fps: hard cuts at frames 50, 100, 150 and 250, and a fade through
// black (0.5 s out, 0.5 s in) at frame 200. The third shot is a continuous pan.
std::filesystem::path shots_clip() {
    const std::string s = "size=320x240:rate=25";
    return t::fixture(
        "it_shots.mp4",
        "-f lavfi -i testsrc2=" + s + ":duration=2 -f lavfi -i mandelbrot=" + s +
            ",trim=duration=2 -f lavfi -i \"smptehdbars=size=640x240:rate=25:duration=2,"
            "crop=320:240:x='t*80':y=0\" -f lavfi -i cellauto=" +
            s + ",trim=duration=2,fade=t=out:st=1.5:d=0.5 -f lavfi -i testsrc=" + s +
            ":duration=2,fade=t=in:st=0:d=0.5 -f lavfi -i gradients=" + s +
            ":speed=0.05,trim=duration=2 -filter_complex \""
            "[0:v]setpts=PTS-STARTPTS,format=yuv420p[a];[1:v]setpts=PTS-STARTPTS,format=yuv420p[b];"
            "[2:v]setpts=PTS-STARTPTS,format=yuv420p[c];[3:v]setpts=PTS-STARTPTS,format=yuv420p[d];"
            "[4:v]setpts=PTS-STARTPTS,format=yuv420p[e];[5:v]setpts=PTS-STARTPTS,format=yuv420p[f];"
            "[a][b][c][d][e][f]concat=n=6:v=1:a=0[v]\" -map \"[v]\" -c:v libx264 -preset veryfast "
            "-g 25");
}

// 1 s black and silent, 3 s picture with a tone, 1 s black and silent.
std::filesystem::path trim_clip() {
    return t::fixture(
        "it_trim.mp4",
        "-f lavfi -i color=c=black:size=320x240:rate=25:duration=1 -f lavfi -i "
        "anullsrc=r=48000:cl=stereo,atrim=duration=1 -f lavfi -i "
        "testsrc2=size=320x240:rate=25:duration=3 -f lavfi -i "
        "sine=frequency=440:sample_rate=48000:duration=3 -f lavfi -i "
        "color=c=black:size=320x240:rate=25:duration=1 -f lavfi -i "
        "anullsrc=r=48000:cl=stereo,atrim=duration=1 -filter_complex "
        "\"[0:v]format=yuv420p[v0];[2:v]format=yuv420p[v1];[4:v]format=yuv420p[v2];"
        "[3:a]aformat=channel_layouts=stereo[a1];[v0][1:a][v1][a1][v2][5:a]concat=n=3:v="
        "1:a=1[v][a]\" "
        "-map \"[v]\" -map \"[a]\" -c:v libx264 -preset veryfast -g 25 -c:a aac");
}

void require_ok(const t::ProcessRun& r) {
    BOOST_REQUIRE_MESSAGE(r.cmd.exit_code == 0, "exit " << r.cmd.exit_code << ": " << r.cmd.err);
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_cut_and_the_fade_are_found_and_become_chapters_and_chunks) {
    t::Sandbox box;
    auto r = t::process(shots_clip(), box / "out.mp4",
                        {"--stages", "scenes", "--chunk-seconds", "2", "--workers", "2"});
    require_ok(r);
    const auto sc = r.sidecar();
    const auto result = sc["stages"][0]["result"];
    const std::vector<int64_t> truth = {50, 100, 150, 200, 250};
    std::vector<int64_t> found;
    std::string fade_kind;
    for (const auto& c : result["cuts"]) {
        found.push_back(c["frame"].get<int64_t>());
        if (std::abs(found.back() - 200) <= 1) fade_kind = c["kind"];
    }
    int hits = 0;
    for (int64_t want : truth) {
        bool hit = false;
        for (int64_t f : found) hit = hit || std::abs(f - want) <= 1;
        if (!hit) BOOST_ERROR("cut at frame " << want << " not found");
        hits += hit;
    }
    const double precision = found.empty() ? 0.0 : double(hits) / found.size();
    const double recall = double(hits) / truth.size();
    const double f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0;
    BOOST_TEST_MESSAGE("cuts found: " << found.size() << ", F1 " << f1);
    BOOST_TEST(f1 == 1.0);
    BOOST_TEST(fade_kind == "fade");
    BOOST_REQUIRE_EQUAL(result["scenes"].size(), 6u);
    BOOST_TEST(result["scenes"][0]["start_frame"] == 0);
    BOOST_TEST(result["scenes"][5]["end_frame"] == 300);
    BOOST_TEST(result["scenes"][1]["start_time"].get<double>() == 2.0);
    // Chapters in the container, one per scene.
    auto chapters = t::ffprobe(box / "out.mp4", "-show_chapters")["chapters"];
    BOOST_REQUIRE_EQUAL(chapters.size(), 6u);
    BOOST_TEST(chapters[1]["tags"]["title"] == "Scene 2");
    BOOST_TEST(std::stod(chapters[1]["start_time"].get<std::string>()) == 2.0);
    // One thumbnail per scene, real JPEGs of the output's aspect.
    for (int i = 1; i <= 6; ++i) {
        char name[32];
        snprintf(name, sizeof name, "scene-%03d.jpg", i);
        cv::Mat thumb = cv::imread((box / "out.mp4.scenes" / name).string());
        BOOST_REQUIRE_MESSAGE(!thumb.empty(), name);
        BOOST_TEST(thumb.cols == 320);
        BOOST_TEST(thumb.rows == 240);
    }
    // Chunks were planned again on the cuts (all keyframes here).
    std::vector<int64_t> starts;
    for (const auto& c : sc["chunks"]) starts.push_back(c["first_frame"].get<int64_t>());
    for (int64_t cut : {50, 100, 150, 250})
        BOOST_TEST((std::find(starts.begin(), starts.end(), cut) != starts.end()));
    BOOST_TEST(t::count_frames(box / "out.mp4") == 300);
    BOOST_TEST(t::only_contains(box.path(), {"out.mp4", "out.mp4.scenes", "out.renderrush.json"}));
}

BOOST_AUTO_TEST_CASE(chunked_analysis_finds_the_same_cuts_as_one_pass) {
    t::Sandbox box;
    auto one = t::process(shots_clip(), box / "one.mp4",
                          {"--stages", "scenes", "--chunk-seconds", "1000"});
    auto many = t::process(shots_clip(), box / "many.mp4",
                           {"--stages", "scenes", "--chunk-seconds", "1", "--workers", "2"});
    require_ok(one);
    require_ok(many);
    BOOST_TEST(one.sidecar()["stages"][0]["result"]["cuts"] ==
               many.sidecar()["stages"][0]["result"]["cuts"]);
}

BOOST_AUTO_TEST_CASE(auto_trim_drops_black_silent_ends_from_video_and_audio) {
    t::Sandbox box;
    auto in = trim_clip();
    auto r =
        t::process(in, box / "out.mp4",
                   {"--stages", "scenes:auto_trim=on", "--chunk-seconds", "2", "--workers", "2"});
    require_ok(r);
    const auto sc = r.sidecar();
    const auto trim = sc["stages"][0]["result"]["trim"];
    BOOST_TEST(trim["start_frame"] == 25);
    BOOST_TEST(trim["end_frame"] == 100);
    BOOST_TEST(t::count_frames(box / "out.mp4") == 75);
    auto v = t::video_stream(box / "out.mp4"), a = t::audio_stream(box / "out.mp4");
    BOOST_REQUIRE(!a.is_null());
    BOOST_TEST(t::stream_duration(v) == 3.0, boost::test_tools::tolerance(0.01));
    BOOST_TEST(std::abs(t::stream_duration(a) - 3.0) < 0.05);
    // The picture starts at once: the first output frame is the first lit one.
    auto stats = t::signal_stats(box / "out.mp4");
    BOOST_REQUIRE_EQUAL(stats.size(), 75u);
    BOOST_TEST(stats.front().at("YAVG") > 50);
    BOOST_TEST(stats.back().at("YAVG") > 50);
    // The tone starts at once too (trimmed in step with the video): loud from the first 50 ms.
    auto levels = t::run({"ffmpeg", "-hide_banner", "-nostdin", "-i", (box / "out.mp4").string(),
                          "-af", "atrim=duration=0.05,volumedetect", "-f", "null", "-"});
    const auto at = levels.err.find("mean_volume:");
    BOOST_REQUIRE(at != std::string::npos);
    BOOST_TEST(std::stod(levels.err.substr(at + 12)) > -30.0);
}

BOOST_AUTO_TEST_CASE(an_audio_stage_after_auto_trim_treats_only_the_kept_audio) {
    t::Sandbox box;
    auto r = t::process(trim_clip(), box / "out.mp4",
                        {"--stages", "scenes:auto_trim=on,audio", "--chunk-seconds", "2"});
    require_ok(r);
    const auto sc = r.sidecar();
    const std::string filter = sc["audio"][0]["filter"];
    BOOST_TEST_MESSAGE(filter);
    // The trim comes first, then the loudness chain; both stay.
    BOOST_TEST(filter.find("atrim") < filter.find("loudnorm"));
    BOOST_TEST(filter.find("loudnorm") != std::string::npos);
    BOOST_TEST(t::count_frames(box / "out.mp4") == 75);
    auto a = t::audio_stream(box / "out.mp4");
    BOOST_REQUIRE(!a.is_null());
    BOOST_TEST(std::abs(t::stream_duration(a) - 3.0) < 0.05);
    const auto loud = t::cli_loudness(box / "out.mp4");
    BOOST_TEST(std::abs(loud.integrated + 16.0) <= 1.0);
    BOOST_TEST(sc["stages"][1]["result"]["normalization"].get<std::string>() == "linear");
}

BOOST_AUTO_TEST_CASE(auto_trim_keeps_black_while_there_is_sound) {
    t::Sandbox box;
    // 1 s black with a tone (a title card's music), then 2 s of picture with the tone.
    auto in = t::fixture(
        "it_trim_sound.mp4",
        "-f lavfi -i color=c=black:size=320x240:rate=25:duration=1 -f lavfi -i "
        "testsrc2=size=320x240:rate=25:duration=2 -f lavfi -i "
        "sine=frequency=440:sample_rate=48000:duration=3 -filter_complex "
        "\"[0:v]format=yuv420p[v0];[1:v]format=yuv420p[v1];[v0][v1]concat=n=2:v=1:a=0[v]\" "
        "-map \"[v]\" -map 2:a -c:v libx264 -preset veryfast -g 25 -c:a aac");
    auto r = t::process(in, box / "out.mp4", {"--stages", "scenes:auto_trim=on"});
    require_ok(r);
    BOOST_TEST(r.sidecar()["stages"][0]["result"]["trim"]["start_frame"] == 0);
    BOOST_TEST(t::count_frames(box / "out.mp4") == 75);
}
