#define BOOST_TEST_MODULE integration_check_config
// `--check-config` proves each profile can run (encoder opened with its settings, stages
// built); the daemon runs without a profile that cannot, instead of not starting at all.
#include <signal.h>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>
extern "C" {
#include <libavcodec/avcodec.h>
}

#include "support/daemon.h"
#include "support/media.h"
#include "support/process.h"
#include "support/sandbox.h"

namespace t = rr::test;
using rr::store::JobState;
using namespace std::chrono_literals;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

t::CommandResult check(const std::filesystem::path& config) {
    return t::run({t::renderrushd().string(), "--check-config", "--config", config.string()}, 120s);
}

std::filesystem::path clip() {
    return t::fixture(
        "daemon_clip_6s.mp4",
        "-f lavfi -i testsrc2=size=320x240:rate=25:duration=6 -f lavfi -i sine=duration=6 "
        "-c:v libx264 -preset veryfast -g 25 -c:a aac");
}

boost::test_tools::assertion_result have_svtav1(boost::unit_test::test_unit_id) {
    boost::test_tools::assertion_result r(avcodec_find_encoder_by_name("libsvtav1") != nullptr);
    r.message() << "skipped: this FFmpeg has no libsvtav1, the AV1 encoder renderrushd uses";
    return r;
}

void drop(const std::filesystem::path& from, const std::filesystem::path& to) {
    std::filesystem::create_directories(to.parent_path());
    const auto tmp = to.parent_path() / ("." + to.filename().string() + ".part");
    std::filesystem::copy_file(from, tmp, std::filesystem::copy_options::overwrite_existing);
    std::filesystem::rename(tmp, to);
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_preset_the_encoder_refuses_is_reported_with_its_line) {
    t::Sandbox box;
    t::write_file(box / "bad.yaml",
                  "profiles:\n"
                  "  good:\n"
                  "    video: {codec: h264, preset: veryfast, hwaccel: none}\n"
                  "  web:\n"
                  "    stages: [grayscale]\n"
                  "    video:\n"
                  "      codec: h264\n"
                  "      preset: veryfst\n");
    auto r = check(box / "bad.yaml");
    BOOST_TEST_MESSAGE(r.err);
    BOOST_TEST(r.exit_code == 2);
    BOOST_TEST(contains(r.err, "bad.yaml:8:15: profiles.web.video.preset"));
    BOOST_TEST(contains(r.err, "profiles.web.video.preset"));
    BOOST_TEST(contains(r.err, "veryfst"));
    BOOST_TEST(!contains(r.out, "OK"));

    // The same profile with a real preset passes, naming the encoder it opened.
    t::write_file(box / "good.yaml",
                  "profiles:\n  web:\n    video: {codec: hevc, preset: ultrafast, hwaccel: none, "
                  "pix_fmt: yuv420p10le}\n");
    auto ok = check(box / "good.yaml");
    BOOST_TEST(ok.exit_code == 0, ok.err);
    BOOST_TEST(contains(ok.out, "web: libx265"));
}

BOOST_AUTO_TEST_CASE(every_failing_profile_is_reported_not_just_the_first) {
    t::Sandbox box;
    t::write_file(box / "bad.yaml", "paths: {models_dir: " + (box / "no-models").string() +
                                        "}\n"
                                        "profiles:\n"
                                        "  a:\n"
                                        "    stages: [{upscale: {scale: 2}}]\n"
                                        "  b:\n"
                                        "    video: {codec: hevc, preset: bogus}\n");
    auto r = check(box / "bad.yaml");
    BOOST_TEST_MESSAGE(r.err);
    BOOST_TEST(r.exit_code == 2);
    BOOST_TEST(contains(r.err, "bad.yaml:4:"));
    BOOST_TEST(contains(r.err, "profiles.a.stages[0]"));
    BOOST_TEST(contains(r.err, "bad.yaml:6:"));
    BOOST_TEST(contains(r.err, "profiles.b.video.preset"));
}

// Opening SVT-AV1 to check it and closing it unused never returned (SVT-AV1 1.4); nor did
// opening it again to find which setting a bad preset was.
BOOST_AUTO_TEST_CASE(av1_profiles_are_checked_and_the_check_returns,
                     *boost::unit_test::precondition(have_svtav1)) {
    t::Sandbox box;
    t::write_file(box / "av1.yaml",
                  "profiles:\n"
                  "  small:\n"
                  "    video: {codec: av1, preset: veryfast, hwaccel: none}\n"
                  "  web:\n"
                  "    container: webm\n"
                  "    video: {codec: av1, hwaccel: none}\n"
                  "    audio: {codec: opus}\n");
    auto ok = t::run(
        {t::renderrushd().string(), "--check-config", "--config", (box / "av1.yaml").string()},
        60s);
    BOOST_REQUIRE_MESSAGE(!ok.timed_out, "--check-config hung on an AV1 profile");
    BOOST_TEST(ok.exit_code == 0, ok.err);
    BOOST_TEST(contains(ok.out, "small: libsvtav1"));
    BOOST_TEST(contains(ok.out, "web: libsvtav1"));

    t::write_file(box / "bad.yaml",
                  "profiles:\n"
                  "  small:\n"
                  "    video: {codec: av1, preset: bogus, hwaccel: none}\n");
    auto bad = t::run(
        {t::renderrushd().string(), "--check-config", "--config", (box / "bad.yaml").string()},
        60s);
    BOOST_REQUIRE_MESSAGE(!bad.timed_out, "--check-config hung on a bad AV1 preset");
    BOOST_TEST(bad.exit_code == 2);
    BOOST_TEST(contains(bad.err, "bad.yaml:3:"));
    BOOST_TEST(contains(bad.err, "profiles.small.video.preset"));
}

BOOST_AUTO_TEST_CASE(a_profile_missing_its_model_is_disabled_and_the_daemon_runs_the_others) {
    t::Daemon d("");
    // No models are installed where this sandbox's config looks (the default models_dir).
    d.write_config("watches:\n  - {path: " + d.dir("inbox").string() +
                   ", profile: by-folder, output: " + d.dir("outbox").string() +
                   ", settle_seconds: 1}\n"
                   "profiles:\n"
                   "  plain:\n"
                   "    video: {codec: h264, preset: ultrafast, hwaccel: none}\n"
                   "  sharp:\n"
                   "    stages: [{upscale: {scale: 2, model: slim}}]\n"
                   "    video: {codec: h264, preset: ultrafast, hwaccel: none}\n");
    std::filesystem::create_directories(d.dir("inbox") / "plain");
    std::filesystem::create_directories(d.dir("inbox") / "sharp");
    d.start();
    BOOST_REQUIRE_MESSAGE(t::wait_until([&] { return contains(d.log(), "ready"); }, 30s), d.log());
    BOOST_TEST(contains(d.log(), "profile sharp disabled"));

    auto status = t::run({t::renderrushctl().string(), "--socket",
                          (d.dir("run") / "control.sock").string(), "--json", "status"},
                         60s);
    BOOST_REQUIRE_MESSAGE(status.exit_code == 0, status.err);
    const auto s = nlohmann::json::parse(status.out);
    BOOST_REQUIRE(s.contains("disabled_profiles"));
    BOOST_TEST(s["disabled_profiles"].size() == 1u);
    BOOST_TEST(contains(s["disabled_profiles"]["sharp"].get<std::string>(), "upscale"));
    // People see it too, with the reason.
    auto human = t::run({t::renderrushctl().string(), "--socket",
                         (d.dir("run") / "control.sock").string(), "status"},
                        60s);
    BOOST_REQUIRE_MESSAGE(human.exit_code == 0, human.err);
    BOOST_TEST(contains(human.out, "disabled  profile sharp: "), human.out);
    BOOST_TEST(!contains(human.out, "profile plain"), human.out);

    drop(clip(), d.dir("inbox") / "plain" / "a.mp4");
    drop(clip(), d.dir("inbox") / "sharp" / "b.mp4");
    BOOST_REQUIRE_MESSAGE(t::wait_until(
                              [&] {
                                  int finished = 0;
                                  for (const auto& j : d.jobs())
                                      finished +=
                                          j.state == JobState::done || j.state == JobState::failed;
                                  return finished == 2;
                              },
                              90s),
                          d.log());
    for (const auto& j : d.jobs()) {
        if (j.profile == "plain") {
            BOOST_TEST((j.state == JobState::done));
        } else {
            BOOST_TEST((j.state == JobState::failed));
            BOOST_REQUIRE(j.error);
            BOOST_TEST(contains(*j.error, "disabled"));
            BOOST_TEST(contains(*j.error, "upscale"));
        }
    }
    BOOST_TEST(std::filesystem::exists(d.dir("outbox") / "plain" / "a.mp4"));
    d.signal(SIGTERM);
    BOOST_TEST(d.wait_exit(30s) == 0);
}
