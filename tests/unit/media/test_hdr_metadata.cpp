#define BOOST_TEST_MODULE media_hdr_metadata
#include <boost/test/unit_test.hpp>

#include "media/hdr_metadata.h"

using namespace rr::media;

namespace {

HdrMetadata hdr10() {
    // The usual HDR10 grade: P3-D65 mastering display, 1000 / 0.0001 cd/m², MaxCLL 1000.
    AVMasteringDisplayMetadata m{};
    m.display_primaries[0][0] = {34000, 50000}, m.display_primaries[0][1] = {16000, 50000};
    m.display_primaries[1][0] = {13250, 50000}, m.display_primaries[1][1] = {34500, 50000};
    m.display_primaries[2][0] = {7500, 50000}, m.display_primaries[2][1] = {3000, 50000};
    m.white_point[0] = {15635, 50000}, m.white_point[1] = {16450, 50000};
    m.min_luminance = {1, 10000}, m.max_luminance = {10000000, 10000};
    m.has_primaries = m.has_luminance = 1;
    HdrMetadata h;
    h.mastering = m;
    h.light = AVContentLightMetadata{1000, 400};
    return h;
}

}  // namespace

BOOST_AUTO_TEST_CASE(x265_parameters_round_trip_the_hdr10_values) {
    // The exact string x265 documents (G, B, R, white point; luminance in 0.0001 cd/m²).
    BOOST_TEST(hdr10().x265_params() ==
               "master-display=G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)"
               "L(10000000,1):max-cll=1000,400");
    HdrMetadata only_light;
    only_light.light = AVContentLightMetadata{600, 200};
    BOOST_TEST(only_light.x265_params() == "max-cll=600,200");
    BOOST_TEST(HdrMetadata{}.x265_params().empty());
}

BOOST_AUTO_TEST_CASE(peak_prefers_max_cll_then_the_mastering_display) {
    auto h = hdr10();
    h.light->MaxCLL = 700;
    BOOST_TEST(h.peak_nits() == 700.0);
    h.light.reset();
    BOOST_TEST(h.peak_nits() == 1000.0);
    BOOST_TEST(HdrMetadata{}.peak_nits() == 0.0);
    BOOST_TEST(hdr10().to_json()["mastering_display"]["max_luminance"].get<double>() == 1000.0);
    BOOST_TEST(hdr10().to_json()["content_light"]["max_fall"].get<int>() == 400);
}

BOOST_AUTO_TEST_CASE(frames_carry_and_lose_the_side_data) {
    AVFrame* f = av_frame_alloc();
    const auto h = hdr10();
    auto* m = av_mastering_display_metadata_create_side_data(f);
    *m = *h.mastering;
    auto* l = av_content_light_metadata_create_side_data(f);
    *l = *h.light;
    const auto back = HdrMetadata::from_frame(*f);
    BOOST_TEST(back.peak_nits() == 1000.0);
    BOOST_TEST(back.x265_params() == h.x265_params());
    strip_hdr_side_data(f);
    BOOST_TEST(HdrMetadata::from_frame(*f).empty());
    av_frame_free(&f);
    BOOST_TEST(is_hdr_transfer(AVCOL_TRC_SMPTE2084));
    BOOST_TEST(is_hdr_transfer(AVCOL_TRC_ARIB_STD_B67));
    BOOST_TEST(!is_hdr_transfer(AVCOL_TRC_BT709));
}
