#define BOOST_TEST_MODULE integration_detect
#include <boost/test/unit_test.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <set>

#include "support/cli.h"
#include "support/media.h"
#include "support/photos.h"
#include "support/sandbox.h"

namespace t = rr::test;

namespace {

// Four seconds of a slow pan across the astronaut photo (her face ~95 px in a 320x240 frame).
std::filesystem::path face_clip() {
    return t::fixture("it_face_pan.mp4",
                      "-loop 1 -framerate 25 -t 4 -i '" +
                          t::skimage_photo("astronaut.png").string() +
                          "' -vf \"crop=320:240:x='40+20*t':y=20,format=yuv420p\" -c:v libx264 "
                          "-preset veryfast -g 25");
}

void require_ok(const t::ProcessRun& r) {
    BOOST_REQUIRE_MESSAGE(r.cmd.exit_code == 0, "exit " << r.cmd.exit_code << ": " << r.cmd.err);
}

cv::Mat luma_of_frame(const std::filesystem::path& video, int n, const std::filesystem::path& png) {
    t::ffmpeg("-i '" + video.string() + "' -vf \"select=eq(n\\," + std::to_string(n) +
              "),format=gray\" -frames:v 1 '" + png.string() + "'");
    cv::Mat m = cv::imread(png.string(), cv::IMREAD_GRAYSCALE);
    BOOST_REQUIRE(!m.empty());
    return m;
}

double laplacian_energy(const cv::Mat& m) {
    cv::Mat lap;
    cv::Laplacian(m, lap, CV_64F);
    return cv::mean(lap.mul(lap))[0];
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_face_is_found_in_almost_every_frame_with_one_track_across_chunks) {
    t::Sandbox box;
    auto r =
        t::process(face_clip(), box / "out.mp4",
                   {"--stages", "detect:targets=faces", "--chunk-seconds", "1", "--workers", "2"});
    require_ok(r);
    const auto sc = r.sidecar();
    BOOST_TEST(sc["chunks"].size() >= 3u);  // track ids must survive chunk boundaries
    const auto result = sc["stages"][0]["result"];
    BOOST_TEST(result["frames_processed"] == 100);
    int with_face = 0;
    std::set<int> ids;
    for (const auto& f : result["frames"]) {
        bool face = false;
        for (const auto& o : f["objects"]) {
            if (o["label"] != "face") continue;
            face = true;
            ids.insert(o["track"].get<int>());
        }
        with_face += face;
    }
    BOOST_TEST_MESSAGE("face in " << with_face << " of 100 frames, track ids " << ids.size());
    BOOST_TEST(with_face >= 95);
    BOOST_TEST(ids.size() == 1u);
    BOOST_TEST(result["tracks"]["face"]["count"] == 1);
    // The same result beside the output.
    const auto extra = nlohmann::json::parse(t::read_file(box / "out.mp4.detections.json"));
    BOOST_TEST(extra == result);
    BOOST_TEST(t::count_frames(box / "out.mp4") == 100);
    BOOST_TEST(t::only_contains(box.path(),
                                {"out.mp4", "out.mp4.detections.json", "out.renderrush.json"}));
}

BOOST_AUTO_TEST_CASE(no_faces_in_a_fractal) {
    t::Sandbox box;
    auto in = t::fixture("it_mandelbrot_3s.mp4",
                         "-f lavfi -i mandelbrot=size=320x240:rate=25 -t 3 -c:v libx264 "
                         "-preset veryfast -g 25");
    auto r = t::process(in, box / "out.mp4", {"--stages", "detect", "--chunk-seconds", "1"});
    require_ok(r);
    const auto result = r.sidecar()["stages"][0]["result"];
    BOOST_TEST(result["frames_processed"] == 75);
    BOOST_TEST(result["frames"].empty());
    BOOST_TEST(result["tracks"].empty());
}

BOOST_AUTO_TEST_CASE(blur_hides_the_face_and_leaves_the_rest_alone) {
    t::Sandbox box;
    auto in = face_clip();
    auto plain = t::process(in, box / "plain.mp4", {"--stages", "detect:action=none"});
    auto blurred = t::process(in, box / "blur.mp4", {"--stages", "detect:action=blur"});
    require_ok(plain);
    require_ok(blurred);
    const int n = 50;
    nlohmann::json face;
    const auto sidecar = blurred.sidecar();  // kept alive: range-for would not extend it
    for (const auto& f : sidecar["stages"][0]["result"]["frames"])
        if (f["frame"] == n) face = f["objects"][0]["box"];
    BOOST_REQUIRE(!face.is_null());
    const cv::Rect box_px(face[0].get<int>(), face[1].get<int>(), face[2].get<int>(),
                          face[3].get<int>());
    cv::Mat a = luma_of_frame(box / "plain.mp4", n, box / "a.png");
    cv::Mat b = luma_of_frame(box / "blur.mp4", n, box / "b.png");
    const double before = laplacian_energy(a(box_px)), after = laplacian_energy(b(box_px));
    BOOST_TEST_MESSAGE("face high-frequency energy " << before << " -> " << after);
    BOOST_TEST(after < before / 10);
    // Outside the face and its margin (20% a side, plus a few pixels of blur bleed) the
    // pictures agree up to the encoder's own choices.
    cv::Mat outside(a.size(), CV_8UC1, cv::Scalar(255));
    const int mx = box_px.width * 2 / 10 + 6, my = box_px.height * 2 / 10 + 6;
    outside(cv::Rect(box_px.x - mx, box_px.y - my, box_px.width + 2 * mx, box_px.height + 2 * my) &
            cv::Rect(0, 0, a.cols, a.rows))
        .setTo(0);
    cv::Mat diff;
    cv::absdiff(a, b, diff);
    const double mse = cv::mean(diff.mul(diff), outside)[0];
    const double psnr = 10 * std::log10(255.0 * 255.0 / std::max(mse, 1e-10));
    BOOST_TEST_MESSAGE("PSNR outside the face: " << psnr << " dB");
    BOOST_TEST(psnr > 38.0);
}
