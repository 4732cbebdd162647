#define BOOST_TEST_MODULE integration_denoise
#include <boost/test/unit_test.hpp>

#include "support/cli.h"
#include "support/media.h"
#include "support/sandbox.h"

namespace t = rr::test;

namespace {

// Lossless outputs, so PSNR measures the stage and not the encoder.
std::filesystem::path lossless_config(const t::Sandbox& box) {
    t::write_file(box / "c.yaml",
                  "profiles:\n  default:\n    video: {codec: h264, crf: 0, preset: ultrafast, "
                  "hwaccel: none}\n");
    return box / "c.yaml";
}

const char* kSource = "testsrc2=size=320x240:rate=25:duration=6";

std::filesystem::path clean_clip() {
    return t::fixture("dn_clean.mkv", std::string("-f lavfi -i ") + kSource + " -c:v ffv1");
}

// Gaussian noise, σ≈15 on 8-bit luma (vf_noise strength 26, new noise every frame).
std::filesystem::path noisy_clip() {
    return t::fixture("dn_noisy.mkv", std::string("-f lavfi -i ") + kSource +
                                          " -vf noise=alls=26:allf=t -c:v ffv1");
}

t::ProcessRun denoise(const t::Sandbox& box, const std::filesystem::path& in,
                      const std::string& name, const std::string& stage,
                      const std::string& chunk_seconds = "2") {
    auto r = t::process(in, box / name,
                        {"-y", "--config", lossless_config(box).string(), "--stages", stage,
                         "--chunk-seconds", chunk_seconds, "--workers", "2"});
    BOOST_REQUIRE_MESSAGE(r.cmd.exit_code == 0,
                          stage << ": exit " << r.cmd.exit_code << ": " << r.cmd.err);
    return r;
}

}  // namespace

BOOST_AUTO_TEST_CASE(noise_of_sigma_15_is_reduced_by_at_least_4_db) {
    t::Sandbox box;
    const auto clean = clean_clip(), noisy = noisy_clip();
    const double before = t::psnr(clean, noisy);
    BOOST_TEST_MESSAGE("noisy input: PSNR-Y " << before << " dB");
    BOOST_TEST(before < 26.0);  // the fixture really is noisy
    for (const char* method : {"hqdn3d", "temporal", "nlmeans"}) {
        const std::string name = std::string(method) + ".mp4";
        auto r = denoise(box, noisy, name, std::string("denoise:method=") + method);
        const double after = t::psnr(clean, box / name);
        BOOST_TEST_MESSAGE(method << " medium: PSNR-Y " << after << " dB (+" << after - before
                                  << ")");
        BOOST_TEST(after - before >= 4.0, method << " gains " << after - before << " dB");
        BOOST_TEST(t::count_frames(box / name) == 150);
        auto result = r.sidecar()["stages"][0]["result"];
        BOOST_TEST(result["method"].get<std::string>() == method);
        BOOST_TEST(result["strength"].get<std::string>() == "medium");
    }
}

BOOST_AUTO_TEST_CASE(a_clean_clip_survives_low_strength) {
    t::Sandbox box;
    const auto clean = clean_clip();
    for (const char* method : {"hqdn3d", "temporal", "nlmeans"}) {
        const std::string name = std::string(method) + "-low.mp4";
        denoise(box, clean, name, std::string("denoise:strength=low:method=") + method);
        const double p = t::psnr(clean, box / name);
        BOOST_TEST_MESSAGE(method << " low on a clean clip: PSNR-Y " << p << " dB");
        BOOST_TEST(p >= 38.0, method << " damages a clean clip: " << p << " dB");
    }
}

BOOST_AUTO_TEST_CASE(temporal_filters_match_an_unchunked_run_at_the_seams) {
    t::Sandbox box;
    const auto noisy = noisy_clip();
    for (const char* method : {"hqdn3d", "temporal"}) {
        const std::string stage = std::string("denoise:method=") + method;
        denoise(box, noisy, "one.mp4", stage, "1000");
        auto many = denoise(box, noisy, "many.mp4", stage, "2");
        BOOST_TEST(many.sidecar()["chunks"].size() >= 3u);
        // Lossless outputs of identical pictures compare as "inf" (100 here).
        const double p = t::psnr(box / "one.mp4", box / "many.mp4");
        BOOST_TEST_MESSAGE(method << ": chunked vs unchunked PSNR-Y " << p << " dB");
        BOOST_TEST(p >= 60.0, method << " differs at chunk seams: " << p << " dB");
    }
}

BOOST_AUTO_TEST_CASE(bad_parameters_name_the_stage_and_key) {
    t::Sandbox box;
    auto r = t::process(clean_clip(), box / "x.mp4", {"--stages", "denoise:method=median"});
    BOOST_TEST(r.cmd.exit_code == 2);
    BOOST_TEST(r.cmd.err.find("denoise") != std::string::npos);
    BOOST_TEST(r.cmd.err.find("method") != std::string::npos);
    BOOST_TEST(!std::filesystem::exists(box / "x.mp4"));
}
