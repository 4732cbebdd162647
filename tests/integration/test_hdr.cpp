#define BOOST_TEST_MODULE integration_hdr
#include <boost/test/unit_test.hpp>
#include <opencv2/imgproc.hpp>

#include "support/cli.h"
#include "support/measure.h"
#include "support/media.h"
#include "support/sandbox.h"

namespace t = rr::test;

namespace {

// PQ BT.2020 10-bit HEVC, tagged, with HDR10 metadata in the bitstream (MaxCLL 1000). The
// top-left 96x96 is a uniform grey patch: RGB 128 in, PQ code 0.50, about 92 cd/m².
const char* kX265Hdr =
    "colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc:"
    "master-display=G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1):"
    "max-cll=1000,400";

std::filesystem::path pq_clip() {
    return t::fixture("hdr_pq.mp4",
                      "-f lavfi -i \"testsrc2=size=320x240:rate=25:duration=2,"
                      "drawbox=x=0:y=0:w=96:h=96:color=gray:t=fill\" -pix_fmt yuv420p10le "
                      "-c:v libx265 -preset ultrafast -x265-params \"log-level=error:" +
                          std::string(kX265Hdr) +
                          "\" -color_primaries bt2020 -color_trc smpte2084 -colorspace bt2020nc");
}

// HLG BT.2020 10-bit HEVC; the patch is RGB 192 (signal 0.75: HDR reference white,
// 203 cd/m² on the nominal 1000 cd/m² display).
std::filesystem::path hlg_clip() {
    return t::fixture("hdr_hlg.mp4",
                      "-f lavfi -i \"testsrc2=size=320x240:rate=25:duration=2,"
                      "drawbox=x=0:y=0:w=96:h=96:color=0xC0C0C0:t=fill\" -pix_fmt yuv420p10le "
                      "-c:v libx265 -preset ultrafast -x265-params \"log-level=error:"
                      "colorprim=bt2020:transfer=arib-std-b67:colormatrix=bt2020nc\" "
                      "-color_primaries bt2020 -color_trc arib-std-b67 -colorspace bt2020nc");
}

// The same pictures with no colour tags at all.
std::filesystem::path untagged_clip() {
    return t::fixture("hdr_untagged.mkv",
                      "-f lavfi -i \"testsrc2=size=320x240:rate=25:duration=2,"
                      "drawbox=x=0:y=0:w=96:h=96:color=gray:t=fill\" -pix_fmt yuv420p10le "
                      "-c:v ffv1");
}

std::filesystem::path sdr_clip() {
    return t::fixture("hdr_sdr.mp4",
                      "-f lavfi -i testsrc2=size=320x240:rate=25:duration=2 -c:v libx264 "
                      "-preset ultrafast -qp 0 -color_primaries bt709 -color_trc bt709 "
                      "-colorspace bt709");
}

// Mean luma (8-bit) of the grey patch, inside its edges.
double patch_luma(const std::filesystem::path& file) {
    double sum = 0;
    const auto frames = t::gray_frames(file);
    for (const auto& f : frames) sum += cv::mean(f(cv::Rect(16, 16, 64, 64)))[0];
    return sum / static_cast<double>(frames.size());
}

nlohmann::json first_frame(const std::filesystem::path& file) {
    return t::ffprobe(file, "-read_intervals %+#1 -select_streams v:0 -show_frames")["frames"][0];
}

bool has_side_data(const nlohmann::json& list, const std::string& type) {
    if (!list.is_array()) return false;
    for (const auto& s : list)
        if (s.value("side_data_type", "") == type) return true;
    return false;
}

t::ProcessRun run_ok(const std::filesystem::path& in, const std::filesystem::path& out,
                     const std::string& stages) {
    // Some cases write the same output twice: -y, as `process` refuses to overwrite otherwise.
    auto r = t::process(in, out, {"-y", "--stages", stages, "--chunk-seconds", "1"});
    BOOST_REQUIRE_MESSAGE(r.cmd.exit_code == 0, "exit " << r.cmd.exit_code << ": " << r.cmd.err);
    return r;
}

}  // namespace

BOOST_AUTO_TEST_CASE(pq_is_tone_mapped_to_8_bit_bt709_sdr) {
    t::Sandbox box;
    const auto in = pq_clip();
    BOOST_TEST_MESSAGE("input grey patch luma (8-bit view of the PQ code): " << patch_luma(in));
    for (const char* op : {"hable", "mobius", "reinhard", "bt2390"}) {
        const auto out = box / (std::string(op) + ".mp4");
        auto r = run_ok(in, out, std::string("hdr:operator=") + op);
        auto v = t::video_stream(out);
        BOOST_TEST(v["color_primaries"].get<std::string>() == "bt709");
        BOOST_TEST(v["color_transfer"].get<std::string>() == "bt709");
        BOOST_TEST(v["color_space"].get<std::string>() == "bt709");
        BOOST_TEST(v["color_range"].get<std::string>() == "tv");
        BOOST_TEST(v["pix_fmt"].get<std::string>() == "yuv420p");
        BOOST_TEST(!v.contains("side_data_list"));  // no HDR metadata on SDR
        BOOST_TEST(
            !has_side_data(first_frame(out)["side_data_list"], "Mastering display metadata"));
        // A ~92 cd/m² grey on a 100 cd/m² SDR display: bright, below white, never clipped.
        const double y = patch_luma(out);
        BOOST_TEST_MESSAGE(op << ": grey patch luma " << y);
        BOOST_TEST(y >= 110.0);
        BOOST_TEST(y <= 220.0);
        auto result = r.sidecar()["stages"][0]["result"];
        BOOST_TEST(result["input_transfer"].get<std::string>() == "smpte2084");
        BOOST_TEST(result["output_transfer"].get<std::string>() == "bt709");
        BOOST_TEST(result["peak_nits"].get<double>() == 1000.0);
        BOOST_TEST(result["peak_from"].get<std::string>() == "max_cll");
        BOOST_TEST(t::count_frames(out) == 50);
    }
}

BOOST_AUTO_TEST_CASE(hlg_is_tone_mapped_too) {
    t::Sandbox box;
    const auto out = box / "hlg.mp4";
    auto r = run_ok(hlg_clip(), out, "hdr:operator=bt2390");
    auto v = t::video_stream(out);
    BOOST_TEST(v["color_transfer"].get<std::string>() == "bt709");
    BOOST_TEST(v["color_primaries"].get<std::string>() == "bt709");
    auto result = r.sidecar()["stages"][0]["result"];
    BOOST_TEST(result["input_transfer"].get<std::string>() == "arib-std-b67");
    BOOST_TEST(result["peak_nits"].get<double>() == 1000.0);  // HLG's nominal display peak
    // Reference white lands near SDR white, not clipped past it.
    const double y = patch_luma(out);
    BOOST_TEST_MESSAGE("HLG reference white patch luma " << y);
    BOOST_TEST(y >= 180.0);
    BOOST_TEST(y <= 235.0);
}

BOOST_AUTO_TEST_CASE(passthrough_keeps_pq_and_the_mastering_metadata) {
    t::Sandbox box;
    const auto out = box / "hdr.mkv";
    auto r = run_ok(pq_clip(), out, "hdr:mode=passthrough");
    auto v = t::video_stream(out);
    BOOST_TEST(v["codec_name"].get<std::string>() == "hevc");
    BOOST_TEST(v["pix_fmt"].get<std::string>() == "yuv420p10le");
    BOOST_TEST(v["color_transfer"].get<std::string>() == "smpte2084");
    BOOST_TEST(v["color_primaries"].get<std::string>() == "bt2020");
    BOOST_TEST(has_side_data(v["side_data_list"], "Mastering display metadata"));
    BOOST_TEST(has_side_data(v["side_data_list"], "Content light level metadata"));
    // In the bitstream too (SEI), where players look for it.
    auto frame = first_frame(out);
    bool found = false;
    for (const auto& s : frame["side_data_list"]) {
        if (s.value("side_data_type", "") == "Mastering display metadata") {
            found = true;
            BOOST_TEST(s["max_luminance"].get<std::string>() == "10000000/10000");
        }
        if (s.value("side_data_type", "") == "Content light level metadata")
            BOOST_TEST(s["max_content"].get<int>() == 1000);
    }
    BOOST_TEST(found);
    BOOST_TEST(r.sidecar()["video"]["encoder"].get<std::string>() == "libx265");
}

BOOST_AUTO_TEST_CASE(untagged_input_is_described_by_parameters) {
    t::Sandbox box;
    const auto out = box / "out.mp4";
    // Without a description the stage steps aside and says why.
    auto skipped = run_ok(untagged_clip(), out, "hdr");
    auto result = skipped.sidecar()["stages"][0]["result"];
    BOOST_TEST(result["applied"].get<bool>() == false);
    BOOST_TEST(result["reason"].get<std::string>().find("input_transfer") != std::string::npos);

    auto r = run_ok(untagged_clip(), out, "hdr:input_transfer=pq:input_primaries=bt2020:peak=1000");
    auto v = t::video_stream(out);
    BOOST_TEST(v["color_transfer"].get<std::string>() == "bt709");
    BOOST_TEST(v["pix_fmt"].get<std::string>() == "yuv420p");
    BOOST_TEST(r.sidecar()["stages"][0]["result"]["peak_from"].get<std::string>() == "parameter");
    const double y = patch_luma(out);
    BOOST_TEST(y >= 110.0);
    BOOST_TEST(y <= 220.0);
}

BOOST_AUTO_TEST_CASE(sdr_input_is_left_alone_by_tonemap_and_boosted_by_sdr_boost) {
    t::Sandbox box;
    const auto in = sdr_clip();
    auto r = run_ok(in, box / "same.mp4", "hdr");
    BOOST_TEST(r.sidecar()["stages"][0]["result"]["applied"].get<bool>() == false);
    BOOST_TEST(t::psnr(in, box / "same.mp4") > 38.0);

    run_ok(in, box / "boost.mp4", "hdr:mode=sdr_boost:strength=0.8");
    // Local detail (mean absolute Laplacian of luma) goes up.
    auto detail = [](const std::filesystem::path& f) {
        double sum = 0;
        const auto frames = t::gray_frames(f);
        for (const auto& g : frames) {
            cv::Mat lap;
            cv::Laplacian(g, lap, CV_32F);
            sum += cv::mean(cv::abs(lap))[0];
        }
        return sum / static_cast<double>(frames.size());
    };
    const double before = detail(in), after = detail(box / "boost.mp4");
    BOOST_TEST_MESSAGE("local detail: " << before << " -> " << after);
    BOOST_TEST(after >= 1.1 * before);
    BOOST_TEST(t::video_stream(box / "boost.mp4")["color_transfer"].get<std::string>() == "bt709");

    auto refused = t::process(pq_clip(), box / "x.mp4", {"--stages", "hdr:mode=sdr_boost"});
    BOOST_TEST(refused.cmd.exit_code == 2);
    BOOST_TEST(refused.cmd.err.find("sdr_boost") != std::string::npos);
}
