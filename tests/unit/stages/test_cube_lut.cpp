#define BOOST_TEST_MODULE stages_cube_lut
#include <boost/test/unit_test.hpp>
#include <sstream>

#include "stages/cube_lut.h"

using namespace rr;
using boost::test_tools::tolerance;

namespace {

// A size-n LUT whose entries are f(r, g, b) on the grid.
template <class F>
std::string cube(int n, F f, const std::string& header = "") {
    std::ostringstream s;
    s << header << "LUT_3D_SIZE " << n << "\n";
    for (int b = 0; b < n; ++b)
        for (int g = 0; g < n; ++g)
            for (int r = 0; r < n; ++r) {
                auto v = f(r / double(n - 1), g / double(n - 1), b / double(n - 1));
                s << v[0] << ' ' << v[1] << ' ' << v[2] << '\n';
            }
    return s.str();
}

stages::RgbPlanes planes(float r, float g, float b) {
    return {cv::Mat(2, 2, CV_32F, cv::Scalar(r)), cv::Mat(2, 2, CV_32F, cv::Scalar(g)),
            cv::Mat(2, 2, CV_32F, cv::Scalar(b))};
}

std::string error_of(const std::string& text) {
    auto lut = stages::CubeLut::parse(text, "t.cube");
    BOOST_REQUIRE(!lut.ok());
    BOOST_TEST(lut.error().code == Errc::invalid_argument);
    return lut.error().message;
}

}  // namespace

BOOST_AUTO_TEST_CASE(identity_is_exact_between_grid_points) {
    auto lut = stages::CubeLut::parse(cube(
                                          5,
                                          [](double r, double g, double b) {
                                              return std::array{r, g, b};
                                          },
                                          "# comment\nTITLE \"id\"\n"),
                                      "id.cube");
    BOOST_REQUIRE(lut.ok());
    BOOST_TEST(lut->size() == 5);
    BOOST_TEST(lut->title() == "id");
    auto p = planes(0.3f, 0.71f, 0.05f);
    lut->apply(p);
    BOOST_TEST(p[0].at<float>(0, 0) == 0.3f, tolerance(1e-6f));
    BOOST_TEST(p[1].at<float>(1, 1) == 0.71f, tolerance(1e-6f));
    BOOST_TEST(p[2].at<float>(0, 1) == 0.05f, tolerance(1e-6f));
}

BOOST_AUTO_TEST_CASE(a_channel_swap_lut_swaps_channels_and_clamps_to_its_domain) {
    auto lut = stages::CubeLut::parse(cube(3,
                                           [](double r, double g, double b) {
                                               return std::array{b, g, r};
                                           }),
                                      "swap.cube");
    BOOST_REQUIRE(lut.ok());
    auto p = planes(0.9f, 0.5f, 0.2f);
    lut->apply(p);
    BOOST_TEST(p[0].at<float>(0, 0) == 0.2f, tolerance(1e-5f));
    BOOST_TEST(p[2].at<float>(0, 0) == 0.9f, tolerance(1e-5f));
    auto out = planes(1.4f, -0.2f, 0.5f);
    lut->apply(out);
    BOOST_TEST(out[2].at<float>(0, 0) == 1.0f, tolerance(1e-5f));
    BOOST_TEST(out[1].at<float>(0, 0) == 0.0f, tolerance(1e-5f));
}

BOOST_AUTO_TEST_CASE(domain_maps_input_ranges) {
    // A domain of 0..2: input 1.0 sits in the middle of the grid.
    auto lut = stages::CubeLut::parse(cube(
                                          3,
                                          [](double r, double g, double b) {
                                              return std::array{r, g, b};
                                          },
                                          "DOMAIN_MIN 0 0 0\nDOMAIN_MAX 2 2 2\n"),
                                      "d.cube");
    BOOST_REQUIRE(lut.ok());
    auto p = planes(1.0f, 2.0f, 0.0f);
    lut->apply(p);
    BOOST_TEST(p[0].at<float>(0, 0) == 0.5f, tolerance(1e-5f));
    BOOST_TEST(p[1].at<float>(0, 0) == 1.0f, tolerance(1e-5f));
}

BOOST_AUTO_TEST_CASE(malformed_files_say_what_and_where) {
    BOOST_TEST(error_of("").find("no LUT_3D_SIZE") != std::string::npos);
    BOOST_TEST(error_of("LUT_3D_SIZE 1\n").find("2 to 256") != std::string::npos);
    BOOST_TEST(error_of("LUT_3D_SIZE 2\nLUT_3D_SIZE 2\n").find("line 2") != std::string::npos);
    BOOST_TEST(error_of("LUT_3D_SIZE 2\n0 0\n").find("expected three numbers") !=
               std::string::npos);
    BOOST_TEST(error_of("LUT_3D_SIZE 2\n0 0 0 0\n").find("line 2") != std::string::npos);
    BOOST_TEST(error_of("LUT_3D_SIZE 2\n0 0 nan\n").find("expected three numbers") !=
               std::string::npos);
    BOOST_TEST(error_of("LUT_3D_SIZE 2\n0 0 0\n").find("1 table entries") != std::string::npos);
    BOOST_TEST(error_of("FOO 1\n").find("unknown keyword 'FOO'") != std::string::npos);
    BOOST_TEST(error_of("LUT_1D_SIZE 16\n").find("1D LUTs") != std::string::npos);
    auto many = cube(2, [](double r, double g, double b) { return std::array{r, g, b}; });
    BOOST_TEST(error_of(many + "0 0 0\n").find("more than 8") != std::string::npos);
    BOOST_TEST(error_of("DOMAIN_MIN 1 1 1\nDOMAIN_MAX 0 0 0\n" + many).find("DOMAIN_MAX") !=
               std::string::npos);
    auto missing = stages::CubeLut::load("/nonexistent/x.cube");
    BOOST_TEST(!missing.ok());
}
