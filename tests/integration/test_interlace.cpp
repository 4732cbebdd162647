#define BOOST_TEST_MODULE integration_interlace
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <regex>

#include "support/cli.h"
#include "support/media.h"
#include "support/process.h"
#include "support/sandbox.h"

namespace t = rr::test;

namespace {

// Moving pictures, smooth enough vertically that idet calls the progressive ones progressive
// (testsrc2's one-pixel edges at full size fool it into a tff/bff mix).
constexpr const char* kMoving50 = "-f lavfi -i testsrc2=size=160x120:rate=50,scale=320x240 ";
constexpr const char* kMoving25 = "-f lavfi -i testsrc2=size=160x120:rate=25,scale=320x240 ";
// 50 fields/s woven top field first into 25 frames/s: 100 interlaced frames.
constexpr const char* kWoven = "-vf interlace=scan=tff -t 4 ";
constexpr int64_t kFrames = 100;

// Interlaced H.264 flagged top field first (ffprobe: field_order tt).
std::filesystem::path tt_clip() {
    return t::fixture("il_tt_x264.mp4", std::string(kMoving50) + kWoven +
                                            "-c:v libx264 -preset veryfast -flags +ildct+ilme "
                                            "-x264opts tff=1 -g 25");
}

// The same fields in MPEG-4 Part 2 in AVI: the stream says nothing about its field order.
std::filesystem::path unknown_interlaced_clip() {
    return t::fixture("il_unknown_woven.avi",
                      std::string(kMoving50) + kWoven + "-c:v mpeg4 -q:v 2 -g 25");
}

std::filesystem::path unknown_progressive_clip() {
    return t::fixture("il_unknown_progressive.avi",
                      std::string(kMoving25) + "-t 4 -c:v mpeg4 -q:v 2 -g 25");
}

std::filesystem::path progressive_clip() {
    return t::fixture("il_progressive_x264.mp4",
                      std::string(kMoving25) + "-t 4 -c:v libx264 -preset veryfast -g 25");
}

struct Idet {
    int64_t tff = 0, bff = 0, progressive = 0;
};

// idet's multi-frame verdicts over the whole file: the combing measure.
Idet idet(const std::filesystem::path& file) {
    auto r = t::run({"ffmpeg", "-hide_banner", "-nostats", "-i", file.string(), "-map", "0:v:0",
                     "-vf", "idet", "-f", "null", "-"});
    std::smatch m;
    const std::regex re(R"(Multi frame detection: TFF:\s*(\d+) BFF:\s*(\d+) Progressive:\s*(\d+))");
    BOOST_REQUIRE_MESSAGE(std::regex_search(r.err, m, re), r.err);
    return {std::stoll(m[1]), std::stoll(m[2]), std::stoll(m[3])};
}

std::string field_order(const std::filesystem::path& file) {
    return t::video_stream(file).value("field_order", std::string("unknown"));
}

void require_ok(const t::ProcessRun& r) {
    BOOST_REQUIRE_MESSAGE(r.cmd.exit_code == 0, "exit " << r.cmd.exit_code << ": " << r.cmd.err);
}

t::ProcessRun run_profile(const std::filesystem::path& in, const std::filesystem::path& out,
                          const std::string& video, std::vector<std::string> extra = {}) {
    const auto config = out.parent_path() / "c.yaml";
    t::write_file(config, "profiles:\n  p:\n    video: " + video + "\n");
    extra.insert(extra.end(), {"--config", config.string(), "--profile", "p"});
    return t::process(in, out, extra);
}

const std::vector<std::string> kChunked = {"--chunk-seconds", "1", "--workers", "2"};

}  // namespace

BOOST_AUTO_TEST_CASE(the_fixtures_are_what_they_claim) {
    BOOST_TEST(field_order(tt_clip()) == "tt");
    BOOST_TEST(field_order(unknown_interlaced_clip()) == "unknown");
    BOOST_TEST(field_order(unknown_progressive_clip()) == "unknown");
    BOOST_TEST(field_order(progressive_clip()) == "progressive");
    const Idet woven = idet(unknown_interlaced_clip());
    BOOST_TEST(woven.tff > 9 * (woven.bff + woven.progressive));
}

BOOST_AUTO_TEST_CASE(auto_deinterlaces_tt_input_frame_exactly_in_chunks) {
    t::Sandbox box;
    auto r = t::process(tt_clip(), box / "out.mp4", kChunked);
    require_ok(r);
    const auto sc = r.sidecar();
    const auto il = sc["video"]["interlace"];
    BOOST_TEST_MESSAGE("sidecar video.interlace " << il.dump() << ", chunks "
                                                  << sc["chunks"].size());
    BOOST_TEST(sc["chunks"].size() >= 3u);
    BOOST_TEST(il["detected"] == "tt");
    BOOST_TEST(il["method"] == "field_order");
    BOOST_TEST(il["action"] == "deinterlaced");
    BOOST_TEST(il["filter"].get<std::string>().find("bwdif=mode=send_frame:parity=tff") == 0u);
    BOOST_TEST(field_order(box / "out.mp4") == "progressive");
    BOOST_TEST(t::count_frames(box / "out.mp4") == kFrames);
    BOOST_TEST(sc["frames"]["output"].get<int64_t>() == kFrames);
    // Same instants as the input.
    const auto in_times = t::frame_times(tt_clip());
    const auto out_times = t::frame_times(box / "out.mp4");
    BOOST_REQUIRE_EQUAL(in_times.size(), out_times.size());
    for (size_t i = 0; i < in_times.size(); ++i)
        BOOST_TEST(std::abs((out_times[i] - out_times[0]) - (in_times[i] - in_times[0])) < 0.001);
    // Combing gone: idet finds interlaced frames in the input, (almost) none in the output.
    const Idet before = idet(tt_clip()), after = idet(box / "out.mp4");
    BOOST_TEST_MESSAGE("idet before tff " << before.tff << " bff " << before.bff << " prog "
                                          << before.progressive << "; after tff " << after.tff
                                          << " bff " << after.bff << " prog " << after.progressive);
    BOOST_TEST(before.tff > 80);
    BOOST_TEST(after.tff + after.bff < 10);
    BOOST_TEST(after.progressive > 80);
}

BOOST_AUTO_TEST_CASE(keep_encodes_interlaced_with_the_field_order) {
    t::Sandbox box;
    auto r = run_profile(tt_clip(), box / "out.mp4", "{interlace: keep}", kChunked);
    require_ok(r);
    const auto il = r.sidecar()["video"]["interlace"];
    BOOST_TEST_MESSAGE("sidecar video.interlace " << il.dump());
    BOOST_TEST(il["action"] == "kept");
    BOOST_TEST(!il.contains("filter"));
    BOOST_TEST(field_order(box / "out.mp4") == "tt");
    BOOST_TEST(t::count_frames(box / "out.mp4") == kFrames);
    // Still combed: nothing was deinterlaced.
    BOOST_TEST(idet(box / "out.mp4").tff > 80);
}

BOOST_AUTO_TEST_CASE(keep_refuses_an_encoding_that_cannot_carry_fields) {
    t::Sandbox box;
    auto r = run_profile(tt_clip(), box / "out.mp4", "{interlace: keep, codec: hevc}");
    BOOST_TEST(r.cmd.exit_code != 0);
    BOOST_TEST_MESSAGE(r.cmd.err);
    BOOST_TEST(r.cmd.err.find("video.interlace: keep") != std::string::npos);
    BOOST_TEST(!std::filesystem::exists(box / "out.mp4"));
}

BOOST_AUTO_TEST_CASE(progressive_input_under_auto_is_untouched) {
    t::Sandbox box;
    auto r = t::process(progressive_clip(), box / "out.mp4", kChunked);
    require_ok(r);
    const auto il = r.sidecar()["video"]["interlace"];
    BOOST_TEST_MESSAGE("sidecar video.interlace " << il.dump());
    BOOST_TEST(il["detected"] == "progressive");
    BOOST_TEST(il["method"] == "field_order");
    BOOST_TEST(il["action"] == "none");
    BOOST_TEST(!il.contains("filter"));
    BOOST_TEST(t::count_frames(box / "out.mp4") == kFrames);
}

BOOST_AUTO_TEST_CASE(unknown_field_order_is_measured_with_idet) {
    t::Sandbox box;
    auto r = t::process(unknown_interlaced_clip(), box / "woven.mp4", kChunked);
    require_ok(r);
    const auto il = r.sidecar()["video"]["interlace"];
    BOOST_TEST_MESSAGE("woven: sidecar video.interlace " << il.dump());
    BOOST_TEST(il["method"] == "idet");
    BOOST_TEST(il["detected"] == "tt");
    BOOST_TEST(il["action"] == "deinterlaced");
    BOOST_TEST(il["idet"]["sampled"].get<int64_t>() == kFrames);
    BOOST_TEST(il["idet"]["tff"].get<int64_t>() > 80);
    BOOST_TEST(t::count_frames(box / "woven.mp4") == kFrames);
    BOOST_TEST(idet(box / "woven.mp4").progressive > 80);

    auto p = t::process(unknown_progressive_clip(), box / "plain.mp4", kChunked);
    require_ok(p);
    const auto pl = p.sidecar()["video"]["interlace"];
    BOOST_TEST_MESSAGE("progressive: sidecar video.interlace " << pl.dump());
    BOOST_TEST(pl["method"] == "idet");
    BOOST_TEST(pl["detected"] == "progressive");
    BOOST_TEST(pl["action"] == "none");
}

BOOST_AUTO_TEST_CASE(field_rate_doubles_the_frames_evenly) {
    t::Sandbox box;
    auto r = run_profile(tt_clip(), box / "out.mp4", "{deinterlace_rate: field}", kChunked);
    require_ok(r);
    const auto sc = r.sidecar();
    BOOST_TEST_MESSAGE("sidecar video.interlace " << sc["video"]["interlace"].dump());
    BOOST_TEST(sc["video"]["interlace"]["rate"] == "field");
    BOOST_TEST(sc["frames"]["output"].get<int64_t>() == 2 * kFrames);
    BOOST_TEST(t::count_frames(box / "out.mp4") == 2 * kFrames);
    const auto times = t::frame_times(box / "out.mp4");
    for (size_t k = 1; k < times.size(); ++k)
        BOOST_TEST(std::abs(times[k] - times[k - 1] - 0.02) < 0.001, "frame " << k);
    BOOST_TEST(field_order(box / "out.mp4") == "progressive");
}
