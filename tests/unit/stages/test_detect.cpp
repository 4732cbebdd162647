#define BOOST_TEST_MODULE stages_detect
#include <boost/test/unit_test.hpp>

#include "core/stage_spec.h"
#include "stages/detect_result.h"
#include "stages/factory.h"
#include "support/photos.h"
#include "support/sandbox.h"
#include "support/stages.h"

using namespace rr;
namespace t = rr::test;
using nlohmann::json;

namespace {

json object(int track, float x, const std::string& label = "face") {
    return {{"label", label},
            {"score", 0.9},
            {"box", {x, 50, 40, 40}},
            {"track", track},
            {"tracked", false}};
}

json frame(int64_t index, std::vector<json> objects) {
    return {{"frame", index}, {"pts", index * 2 + 1000}, {"objects", objects}};
}

}  // namespace

BOOST_AUTO_TEST_CASE(tracks_continue_across_chunks_through_the_shared_preroll) {
    // Chunk 0: frames 10..13 (a trimmed start), one face moving right.
    json c0 = {{"first_frame", 10},
               {"first_pts", 1020},
               {"frames_seen", 4},
               {"overlap", json::array()},
               {"frames",
                {frame(10, {object(1, 100)}), frame(11, {object(1, 102)}),
                 frame(12, {object(1, 104)}), frame(13, {object(1, 106), object(2, 300)})}}};
    // Chunk 1 saw frames 12 and 13 as preroll and numbered its own tracks: its 5 is chunk 0's
    // 1 (same boxes), its 4 is chunk 0's 2, and its 6 appears only later.
    json overlap = json::array({{{"pts", 1024}, {"objects", {object(5, 104)}}},
                                {{"pts", 1026}, {"objects", {object(5, 106), object(4, 301)}}}});
    json c1 = {{"first_frame", 14},
               {"first_pts", 1028},
               {"frames_seen", 2},
               {"overlap", overlap},
               {"frames",
                {frame(14, {object(4, 302), object(5, 108)}),
                 frame(15, {object(5, 110), object(6, 500), object(7, 20, "person")})}}};
    json r = stages::merge_detections({c0, nullptr, c1}, AVRational{1, 100});
    BOOST_TEST(r["frames_processed"] == 6);
    BOOST_REQUIRE_EQUAL(r["frames"].size(), 6u);
    BOOST_TEST(r["frames"][0]["frame"] == 0);  // numbered from the output's first frame
    BOOST_TEST(r["frames"][5]["frame"] == 5);
    BOOST_TEST(r["frames"][5]["time"].get<double>() == 0.1);
    const auto& f4 = r["frames"][4]["objects"];
    BOOST_TEST(f4[0]["track"] == 2);  // chunk 1's 4 continues chunk 0's 2
    BOOST_TEST(f4[1]["track"] == 1);  // chunk 1's 5 continues chunk 0's 1
    const auto& f5 = r["frames"][5]["objects"];
    BOOST_TEST(f5[0]["track"] == 1);
    BOOST_TEST(f5[1]["track"] == 3);  // new
    BOOST_TEST(f5[2]["track"] == 4);
    BOOST_TEST(r["tracks"]["face"]["count"] == 3);
    BOOST_TEST(r["tracks"]["person"]["count"] == 1);
    const auto& t1 = r["tracks"]["face"]["tracks"][0];
    BOOST_TEST(t1["track"] == 1);
    BOOST_TEST(t1["first_frame"] == 0);
    BOOST_TEST(t1["last_frame"] == 5);
    BOOST_TEST(t1["frames"] == 6);
}

BOOST_AUTO_TEST_CASE(parameters_and_missing_models_are_reported) {
    const auto models = t::models_dir();
    BOOST_TEST(t::stage_error("detect:targets=faces+cars", models).find("'targets'") !=
               std::string::npos);
    BOOST_TEST(t::stage_error("detect:every=0", models).find("'every'") != std::string::npos);
    BOOST_TEST(t::stage_error("detect:min_score=2", models).find("'min_score'") !=
               std::string::npos);
    BOOST_TEST(t::stage_error("detect:action=smudge", models).find("'action'") !=
               std::string::npos);
    t::Sandbox empty;
    const auto msg = t::stage_error("detect", empty.path());
    BOOST_TEST(
        msg.find((empty.path() / "blazeface/ONNX/face_detection_front_128x128_barracuda.onnx")
                     .string()) != std::string::npos);
    // People need no model file.
    auto specs = parse_stage_list("detect:targets=people");
    BOOST_REQUIRE(specs.ok());
    BOOST_TEST(stages::make_stage(specs->at(0), stages::StageEnv{empty.path(), nullptr}).ok());
}
